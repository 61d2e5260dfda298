/**
 * Footprint measurements for the benchmark: handler bundle size and cold module load time (against
 * the bare SDK client, in the same run), and synth time and template size by instance count.
 * Each load or synth runs in a fresh Node process so no module cache is shared.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

const ROOT = path.join(__dirname, '..');
export const BUNDLE = path.join(ROOT, 'assets', 'handler', 'index.js');

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** Milliseconds to `require` a module in a fresh process, median of `runs`. */
export function loadTime(modulePath: string, runs: number): number {
  const script = `const t=process.hrtime.bigint();require(${JSON.stringify(modulePath)});process.stdout.write(String(Number(process.hrtime.bigint()-t)/1e6))`;
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    samples.push(
      Number(
        execFileSync(process.execPath, ['-e', script], {
          cwd: ROOT,
          stdio: ['ignore', 'pipe', 'ignore'],
          env: { ...process.env, AWS_REGION: 'us-east-1', POWERTOOLS_LOG_LEVEL: 'SILENT' },
        }),
      ),
    );
  }
  return median(samples);
}

export interface FootprintResult {
  bundleBytes: number;
  bundleLoadMs: number;
  sdkLoadMs: number;
  loadRatio: number;
  runs: number;
}

export function footprint(runs = 11): FootprintResult {
  const sdk = require.resolve('@aws-sdk/client-service-catalog', { paths: [ROOT] });
  // Interleave so that machine noise hits both alike.
  const bundle: number[] = [];
  const bare: number[] = [];
  for (let i = 0; i < runs; i++) {
    bundle.push(loadTime(BUNDLE, 1));
    bare.push(loadTime(sdk, 1));
  }
  const bundleLoadMs = median(bundle);
  const sdkLoadMs = median(bare);
  return { bundleBytes: statSync(BUNDLE).size, bundleLoadMs, sdkLoadMs, loadRatio: bundleLoadMs / sdkLoadMs, runs };
}

export interface SynthResult {
  instances: number;
  synthMs: number;
  templateBytes: number;
  functions: number;
}

/** Synth time (construct + synth, median of `runs` fresh processes) and template size for N instances. */
export function synthScaling(counts: number[], runs = 3): SynthResult[] {
  const probe = path.join(__dirname, 'synth-probe.ts');
  return counts.map((n) => {
    const samples: Array<{ ms: number; templateBytes: number; functions: number }> = [];
    for (let i = 0; i < runs; i++) {
      const out = mkdtempSync(path.join(tmpdir(), 'ppp-bench-'));
      try {
        const json = execFileSync(process.execPath, ['-r', 'ts-node/register/transpile-only', probe, String(n), out], {
          cwd: ROOT,
          stdio: ['ignore', 'pipe', 'ignore'],
        });
        samples.push(JSON.parse(String(json)) as { ms: number; templateBytes: number; functions: number });
      } finally {
        rmSync(out, { recursive: true, force: true });
      }
    }
    return {
      instances: n,
      synthMs: median(samples.map((s) => s.ms)),
      templateBytes: samples[0].templateBytes,
      functions: samples[0].functions,
    };
  });
}
