/**
 * What the two AWS verification scripts share: the fast, offline check that credentials and a region are there, and the project's own CDK CLI deploying and destroying the test stacks of test/integ/app.ts.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { STSClient } from '@aws-sdk/client-sts';

const ROOT = path.join(__dirname, '..');

/** The environment variables the standard AWS credential chain and region lookup read. */
const AWS_VARIABLES = [
  'AWS_PROFILE',
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'AWS_REGION',
  'AWS_DEFAULT_REGION',
];

/** No credentials or no region: the message says what is expected. */
export class MissingAwsEnvironment extends Error {
  override readonly name = 'MissingAwsEnvironment';
}

/** Where the script will run. */
export interface AwsEnvironment {
  readonly region: string;
  /** Which credentials: an access key id's first characters and where they came from, never a secret. */
  readonly credentials: string;
}

/**
 * Resolves a region and credentials the way the SDK and the CDK CLI will (environment, profile,
 * SSO cache, container or instance metadata), within `timeoutMs`, without calling AWS. Throws
 * {@link MissingAwsEnvironment} naming what to set.
 */
export async function checkAwsEnvironment(command: string, timeoutMs = 5_000): Promise<AwsEnvironment> {
  const client = new STSClient({});
  try {
    const region = await withTimeout(client.config.region(), timeoutMs, 'looking up the region').catch((e: Error) => {
      throw missing(command, 'no region', e);
    });
    const credentials = await withTimeout(client.config.credentials(), timeoutMs, 'resolving the credential chain').catch((e: Error) => {
      throw missing(command, 'no credentials', e);
    });
    const source = process.env.AWS_PROFILE
      ? `profile ${process.env.AWS_PROFILE}`
      : process.env.AWS_ACCESS_KEY_ID
        ? 'environment'
        : 'default chain';
    return { region, credentials: `${credentials.accessKeyId.slice(0, 4)}… (${source})` };
  } finally {
    client.destroy();
  }
}

function missing(command: string, what: string, cause: Error): MissingAwsEnvironment {
  const set = AWS_VARIABLES.map((v) => `${v}${process.env[v] ? ' (set)' : ' (not set)'}`).join(', ');
  return new MissingAwsEnvironment(
    [
      `${command} works against a real AWS account and found ${what}: ${cause.message}`,
      'Give it credentials and a region the standard way, for example:',
      '  export AWS_PROFILE=<a profile of ~/.aws/config>     (after `aws sso login --profile <it>` for IAM Identity Center)',
      '  or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (plus AWS_SESSION_TOKEN for temporary credentials)',
      '  and export AWS_REGION=<region> (or a region in the profile)',
      `Seen: ${set}.`,
      'Nothing was created. docs/verifying-against-aws.md lists the permissions and the one-time `npx cdk bootstrap` it needs.',
    ].join('\n'),
  );
}

function withTimeout<T>(promise: Promise<T>, ms: number, doing: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`gave up ${doing} after ${ms / 1000} s`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** The app the CDK CLI runs: the integration and contract fixture stacks. */
export const TEST_APP = 'npx ts-node --transpile-only --prefer-ts-exts test/integ/app.ts';

/** The arguments of one CDK CLI command on a stack of {@link TEST_APP}. */
export function cdkArguments(
  command: 'deploy' | 'destroy',
  stack: string,
  options: { readonly context?: Readonly<Record<string, string>>; readonly outdir: string; readonly outputsFile?: string },
): string[] {
  const context = Object.entries(options.context ?? {}).flatMap(([k, v]) => ['--context', `${k}=${v}`]);
  const common = ['--app', TEST_APP, '--output', options.outdir, ...context];
  if (command === 'destroy') return ['destroy', stack, ...common, '--force'];
  return [
    'deploy',
    stack,
    ...common,
    '--require-approval',
    'never',
    '--outputs-file',
    options.outputsFile ?? path.join(options.outdir, 'outputs.json'),
  ];
}

/** Runs a Node.js script of this project with its output on this process's; rejects on a non-zero exit. */
function runNode(script: string, args: readonly string[], what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, ...args], { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (code === 0) resolve();
      else reject(new Error(`${what} failed (${signal ?? `exit code ${code}`}); its output above says why`));
    });
  });
}

let bundled: Promise<void> | undefined;

/** Runs the project's CDK CLI (node_modules/aws-cdk), after bundling the handler once (the construct's asset). */
export async function runCdk(args: readonly string[]): Promise<void> {
  bundled ??= runNode(path.join(ROOT, 'scripts', 'bundle-handler.mjs'), [], 'bundling the handler');
  await bundled;
  await runNode(path.join(ROOT, 'node_modules', 'aws-cdk', 'bin', 'cdk'), args, `cdk ${args.slice(0, 2).join(' ')}`);
}

/** Deploys `stack` with `context` and returns its outputs. */
export async function deployStack(stack: string, context: Readonly<Record<string, string>>): Promise<Record<string, string>> {
  const outdir = mkdtempSync(path.join(tmpdir(), 'ppp-cdk-'));
  try {
    const outputsFile = path.join(outdir, 'outputs.json');
    await runCdk(cdkArguments('deploy', stack, { context, outdir, outputsFile }));
    return stackOutputs(JSON.parse(readFileSync(outputsFile, 'utf8')) as unknown, stack);
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

/** Destroys `stack`. */
export async function destroyStack(stack: string): Promise<void> {
  const outdir = mkdtempSync(path.join(tmpdir(), 'ppp-cdk-'));
  try {
    await runCdk(cdkArguments('destroy', stack, { outdir }));
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

/** One stack's outputs from the CLI's --outputs-file JSON. */
export function stackOutputs(file: unknown, stack: string): Record<string, string> {
  const outputs = (file as Record<string, unknown> | null)?.[stack];
  if (typeof outputs !== 'object' || outputs === null) throw new Error(`cdk deploy wrote no outputs for stack ${stack}`);
  return Object.fromEntries(Object.entries(outputs).map(([k, v]) => [k, String(v)]));
}
