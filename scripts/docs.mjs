// Generates API.md, the API reference, from the TSDoc of lib/index.ts's exports (TypeDoc with
// typedoc-plugin-markdown, options in typedoc.json). TypeDoc fails on any undocumented export or
// broken link. TypeDoc empties its output directory, so it writes to a temporary one and only
// API.md is copied out.
//
//   node scripts/docs.mjs           # regenerate API.md
//   node scripts/docs.mjs --check   # fail when API.md is not what the sources generate
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const committed = join(root, 'API.md');
const check = process.argv.includes('--check');

const out = mkdtempSync(join(tmpdir(), 'api-md-'));
try {
  const typedoc = join(root, 'node_modules', 'typedoc', 'bin', 'typedoc');
  try {
    execFileSync(process.execPath, [typedoc, '--options', 'typedoc.json', '--out', out], { cwd: root, stdio: 'inherit' });
  } catch {
    throw new Error('TypeDoc failed (see its messages above): document every export of lib/index.ts and fix broken {@link}s.');
  }
  const generated = join(out, 'API.md');
  if (!check) {
    copyFileSync(generated, committed);
    console.log(`wrote ${committed}`);
  } else if (!existsSync(committed) || readFileSync(committed, 'utf8') !== readFileSync(generated, 'utf8')) {
    console.error('API.md is out of date with the TSDoc in lib/: run `npm run docs` and commit the result.');
    process.exitCode = 1;
  } else {
    console.log('API.md is current');
  }
} catch (e) {
  console.error(e instanceof Error ? e.message : e);
  process.exitCode = 1;
} finally {
  rmSync(out, { recursive: true, force: true });
}
