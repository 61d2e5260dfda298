// Bundles lambda/index.ts into assets/handler/index.js when the package builds, so that a user's
// `cdk synth` needs neither Docker nor esbuild. The SDK client is bundled in, pinning its version
// instead of taking whatever the Lambda runtime ships.
import { build } from 'esbuild';
import { mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outdir = join(root, 'assets', 'handler');
const outfile = join(outdir, 'index.js');

const result = await build({
  entryPoints: [join(root, 'lambda', 'index.ts')],
  outfile,
  // Written below, atomically: a synth running meanwhile (a test in another jest worker while
  // test/package.test.ts rebuilds) sees the old bundle or the new one, never none.
  write: false,
  bundle: true,
  minify: true,
  platform: 'node',
  target: 'node22',
  format: 'cjs',
  // Prefer the packages' ES module builds: esbuild can tree-shake them (about 335 KiB against 515).
  mainFields: ['module', 'main'],
  legalComments: 'none',
  metafile: true,
  logLevel: 'warning',
});
mkdirSync(outdir, { recursive: true });
const [output] = result.outputFiles;
// Beside the asset directory, not in it: a synth hashes every file in there.
const temporary = join(outdir, '..', `.handler-index.js.${process.pid}.tmp`);
writeFileSync(temporary, output.contents);
renameSync(temporary, outfile);
// Nothing but the bundle belongs in the asset directory (its hash is the Lambda code's).
for (const name of readdirSync(outdir)) {
  if (name !== 'index.js') rmSync(join(outdir, name), { recursive: true, force: true });
}
const bytes = Object.values(result.metafile.outputs).reduce((sum, o) => sum + o.bytes, 0);
// On stderr, so that `npm pack --dry-run --json` (which runs `prepare`) prints only its JSON on stdout.
console.error(`bundled handler: ${outdir}/index.js (${(bytes / 1024).toFixed(1)} KiB)`);
