#!/usr/bin/env bash
# Builds and tests the construct against one end of its aws-cdk-lib and constructs peer range, in a
# temporary copy of this repository (its working tree, as git sees it: committed or not, ignored
# files left out), which is removed afterwards:
#
#   scripts/check-peer-range.sh min      # the minimum of each peer range in package.json
#   scripts/check-peer-range.sh latest   # the newest release of each on the npm registry
#
# `min` also checks the jsii rule that each peer's devDependency is its peer minimum. The copy gets
# exactly those versions (package.json, then npm install from the lock file for everything else),
# is built (jsii and the handler bundle, by `prepare`), type-checked (`tsc --noEmit -p .`) and runs
# the construct, cdk-nag and end-to-end lifecycle tests. The lifecycle tests run the provider
# framework code of the aws-cdk-lib under test (harness/runtimes/provider-framework.ts loads it).
# cdk-nag 3 runs only where aws-cdk-lib satisfies its own peer range (test/support/nag.ts).
set -euo pipefail

end="${1:-}"
case "$end" in
  min | latest) ;;
  *)
    echo "usage: $0 min|latest" >&2
    exit 2
    ;;
esac

root="$(cd "$(dirname "$0")/.." && pwd)"
started=$(date +%s)
work="$(mktemp -d "${TMPDIR:-/tmp}/ppp-peer-range-${end}-XXXXXX")"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/repo" "$work/tmp"

# The working tree without node_modules, build output or anything else git ignores.
(cd "$root" && git ls-files -z --cached --others --exclude-standard) |
  (cd "$root" && tar --null --files-from=- --ignore-failed-read -cf - 2>/dev/null) |
  tar -xf - -C "$work/repo"
cd "$work/repo"
# Everything the tests write to a temporary directory goes where the trap removes it.
export TMPDIR="$work/tmp"

peer_min() { node -p "require('./package.json').peerDependencies['$1'].replace(/^[\\^~]/, '')"; }
dev_version() { node -p "require('./package.json').devDependencies['$1']"; }

if [ "$end" = min ]; then
  cdk_version="$(peer_min aws-cdk-lib)"
  constructs_version="$(peer_min constructs)"
  for peer in aws-cdk-lib constructs; do
    if [ "$(dev_version "$peer")" != "$(peer_min "$peer")" ]; then
      echo "check-peer-range: the devDependency $peer $(dev_version "$peer") is not the peer minimum $(peer_min "$peer"): jsii builds and the tests run against the devDependency, so they must be the same version." >&2
      exit 1
    fi
  done
else
  cdk_version="$(npm view aws-cdk-lib version)"
  constructs_version="$(npm view constructs version)"
fi
echo "check-peer-range $end: aws-cdk-lib $cdk_version, constructs $constructs_version"

# Set them as the copy's devDependencies: the lock file pins everything else, and the overrides that
# hand both to cdk-nag follow (package.json "overrides"). For the newest, the copy's peer minima
# move with them, so that jsii builds without warning that they differ (the rule that min checks).
node -e "
  const fs = require('fs');
  const [end, cdk, constructs] = process.argv.slice(1);
  const pkg = JSON.parse(fs.readFileSync('package.json', 'utf8'));
  pkg.devDependencies['aws-cdk-lib'] = cdk;
  pkg.devDependencies.constructs = constructs;
  if (end === 'latest') pkg.peerDependencies = { ...pkg.peerDependencies, 'aws-cdk-lib': '^' + cdk, constructs: '^' + constructs };
  fs.writeFileSync('package.json', JSON.stringify(pkg, null, 2) + '\n');
" "$end" "$cdk_version" "$constructs_version"
if [ "$end" = min ]; then
  npm ci --no-audit --no-fund --loglevel=error
else
  npm install --no-audit --no-fund --loglevel=error
fi

installed="$(node -p "require('aws-cdk-lib/package.json').version + ' ' + require('constructs/package.json').version")"
if [ "$installed" != "$cdk_version $constructs_version" ]; then
  echo "check-peer-range: installed aws-cdk-lib and constructs $installed, not $cdk_version $constructs_version" >&2
  exit 1
fi

npx tsc --noEmit -p .
npx jest test/construct.test.ts test/nag.test.ts test/e2e/lifecycle.test.ts
echo "check-peer-range $end (aws-cdk-lib $cdk_version, constructs $constructs_version): passed in $(($(date +%s) - started)) s"
