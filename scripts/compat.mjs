// Compares the jsii assembly of the package in the current directory (.jsii, built by `npm run
// build`) with an earlier release's, using jsii-diff: removing or changing anything a user of any
// language could rely on (a type, a member, a prop turned required, a narrowed type) fails, so a
// release that breaks the public API is caught before it is published.
//
//   npm run compat -- 0.1.0                   # against cdk-provisioned-product-properties@0.1.0 from npm
//   npm run compat -- ../old-checkout         # against another built package directory (with .jsii)
//
// Further arguments go to jsii-diff, e.g. `--ignore-file compat-ignore.txt` listing the keys (as
// printed) of breaking changes made on purpose in a major release.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const jsiiDiff = join(dirname(fileURLToPath(import.meta.url)), '..', 'node_modules', 'jsii-diff', 'bin', 'jsii-diff');
const updated = process.cwd();
const [earlier, ...extra] = process.argv.slice(2);

function fail(message) {
  console.error(message);
  process.exit(2);
}

if (!earlier) fail('Usage: npm run compat -- <earlier version | built package directory> [jsii-diff options]');
if (!existsSync(join(updated, '.jsii'))) fail(`There is no jsii assembly in ${updated} to compare: run \`npm run build\` first.`);

let original = earlier;
if (/^\d+\.\d+\.\d+(-[\w.]+)?$/.test(earlier)) {
  const { name } = JSON.parse(readFileSync(join(updated, 'package.json'), 'utf8'));
  // jsii-diff skips the comparison, and succeeds, when the version does not exist: make that an error.
  let published = '';
  try {
    published = execFileSync('npm', ['view', `${name}@${earlier}`, 'version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    // npm view fails for an unknown package; handled below.
  }
  if (published.trim() !== earlier) fail(`${name}@${earlier} is not published on npm: nothing to compare with.`);
  original = `npm:${name}@${earlier}`;
} else if (!existsSync(join(earlier, '.jsii'))) {
  fail(`${earlier} is neither a version (x.y.z) nor a built package directory with a .jsii file.`);
}

console.error(`Comparing ${original} (earlier) with ${updated} (now)`);
// `--error-on all`: the API is marked experimental (package.json stability), and jsii-diff by default
// reports no break of an experimental API at all; every break stays an error here.
const result = spawnSync(process.execPath, [jsiiDiff, '--keys', '--error-on', 'all', ...extra, original, updated], { stdio: 'inherit' });
process.exit(result.status ?? 1);
