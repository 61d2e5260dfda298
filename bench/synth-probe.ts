/**
 * Run in a fresh process by bench/bench.ts: synthesizes a stack with N instances and prints
 * {"ms": <construct + synth time>, "templateBytes": <bytes>, "functions": <count>} as JSON.
 */
import { performance } from 'node:perf_hooks';
import { App, Stack } from 'aws-cdk-lib';
import { Owner, ProvisionedProductProperties } from '../lib';

const n = Number(process.argv[2] ?? '1');
const outdir = process.argv[3];
const start = performance.now();
const app = new App({ outdir });
const stack = new Stack(app, 'Bench', { env: { account: '123456789012', region: 'us-east-1' } });
for (let i = 0; i < n; i++) {
  new ProvisionedProductProperties(stack, `P${i}`, {
    provisionedProductId: `pp-bench${i}`,
    owner: Owner.fromArn('arn:aws:iam::123456789012:role/PlatformAdmin'),
  });
}
const assembly = app.synth();
const ms = performance.now() - start;
const stackTemplate = assembly.getStackByName('Bench').template as { Resources: Record<string, { Type: string }> };
const template = JSON.stringify(stackTemplate);
const functions = Object.values(stackTemplate.Resources).filter((r) => r.Type === 'AWS::Lambda::Function').length;
process.stdout.write(JSON.stringify({ ms, templateBytes: Buffer.byteLength(template), functions }));
