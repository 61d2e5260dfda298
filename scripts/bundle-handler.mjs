// Bundles lambda/index.ts into assets/handler/index.js when the package builds, so that a user's
// `cdk synth` needs neither Docker nor esbuild. The SDK client is bundled in, pinning its version
// instead of taking whatever the Lambda runtime ships.
import { build } from 'esbuild';
import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outdir = join(root, 'assets', 'handler');
rmSync(outdir, { recursive: true, force: true });

const result = await build({
  entryPoints: [join(root, 'lambda', 'index.ts')],
  outfile: join(outdir, 'index.js'),
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
const bytes = Object.values(result.metafile.outputs).reduce((sum, o) => sum + o.bytes, 0);
console.log(`bundled handler: ${outdir}/index.js (${(bytes / 1024).toFixed(1)} KiB)`);
