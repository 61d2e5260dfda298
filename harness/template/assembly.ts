/**
 * Synthesizes a stack and reads from its cloud assembly what the harness runs: the custom
 * resource's Properties, every Lambda function (code from the asset the template points at,
 * `Handler`, `Environment.Variables`) and the waiter state machine's Retry / Catch from its
 * DefinitionString, all with intrinsics resolved and in memory, so the assembly directory can go.
 *
 * Mutation testing: E2E_HANDLER_BUNDLE=/path/to/index.js runs the user functions from that file
 * instead of the assembly's asset (a deliberately broken build of the handler), so that a test can
 * be shown to fail when the behaviour it guards is broken, without touching the product.
 */
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App, Stack, type StackProps } from 'aws-cdk-lib';
import { ProvisionedProductProperties, type ProvisionedProductPropertiesProps } from '../../lib';
import { RESOURCE_TYPE } from '../../lib/contract';
import { type ResolveContext, type Template, arnOf, functionName, resolve, stackIdOf } from './intrinsics';
import { providerOptionsFromEnv } from './provider-options';

/** The provider framework runtime inside aws-cdk-lib, loaded instead of the asset copy (they are checked to be equal). */
export const FRAMEWORK_RUNTIME_DIR = path.join(
  path.dirname(require.resolve('aws-cdk-lib/package.json')),
  'custom-resources',
  'lib',
  'provider-framework',
  'runtime',
);

/** Resource properties as CloudFormation hands them to a custom resource. */
export type Properties = Record<string, unknown>;

/** A deployment package, read into memory so that the assembly directory can go. */
export interface CodePackage {
  /** Where it was read from (for stack traces only). */
  readonly dir: string;
  /** File path relative to `dir` → source text (JavaScript files only). */
  readonly files: ReadonlyMap<string, string>;
}

/** One AWS::Lambda::Function of the template, resolved. */
export interface FunctionModel {
  readonly logicalId: string;
  readonly name: string;
  readonly arn: string;
  /** `file.export`, e.g. `index.onEvent`. */
  readonly handler: string;
  readonly environment: Readonly<Record<string, string>>;
  readonly timeoutSeconds: number;
  readonly memorySize: number;
  /** ReservedConcurrentExecutions, when the template sets it. */
  readonly reservedConcurrency?: number;
  readonly code: CodePackage;
}

/** The waiter state machine as far as the provider framework uses it. */
export interface WaiterModel {
  readonly logicalId: string;
  readonly arn: string;
  /** The Task state's function (the framework's isComplete). */
  readonly taskFunctionArn: string;
  readonly intervalSeconds: number;
  readonly maxAttempts: number;
  readonly backoffRate: number;
  /** The function of the state the Catch leads to (the framework's onTimeout). */
  readonly catchFunctionArn: string;
}

/** One Custom::ProvisionedProductProperties of the template. */
export interface CustomResourceModel {
  readonly logicalId: string;
  readonly type: string;
  /** Properties with intrinsics resolved (ServiceToken included), as CloudFormation would send them. */
  readonly properties: Properties;
}

/** What the driver needs from a synthesized stack. */
export interface StackModel {
  readonly stackName: string;
  readonly stackId: string;
  readonly region: string;
  readonly account: string;
  readonly template: Template;
  readonly resources: readonly CustomResourceModel[];
  /** By ARN. */
  readonly functions: ReadonlyMap<string, FunctionModel>;
  /** By ARN. */
  readonly stateMachines: ReadonlyMap<string, WaiterModel>;
  /** Whether the framework asset in the assembly is byte-identical to FRAMEWORK_RUNTIME_DIR (undefined: no framework asset). */
  readonly frameworkAssetMatchesRuntime: boolean | undefined;
}

/** Options for {@link synthesize}. */
export interface SynthesizeOptions {
  /** CDK context for the App. */
  readonly context?: Record<string, unknown>;
  /** Run CDK's built-in CloudFormation template validation at synth (default true; it costs about 0.2 s a synth). */
  readonly validate?: boolean;
  /** Account and region used to resolve pseudo parameters where the stack has none. */
  readonly account?: string;
  readonly region?: string;
}

const DEFAULT_ACCOUNT = '123456789012';
const DEFAULT_REGION = 'us-east-1';

/**
 * Synthesizes the stack `build` returns into a temporary directory, reads what the driver needs
 * into memory, and removes the directory.
 */
export function synthesize(build: (app: App) => Stack, options: SynthesizeOptions = {}): StackModel {
  const outdir = mkdtempSync(path.join(os.tmpdir(), 'ppp-e2e-'));
  try {
    const app = new App({ outdir, context: options.context, builtinCloudFormationValidation: options.validate ?? true });
    const stack = build(app);
    const assembly = app.synth();
    const artifact = assembly.getStackArtifact(stack.artifactId);
    const template = artifact.template as Template;
    const account = !stack.account || stack.account.startsWith('${') ? (options.account ?? DEFAULT_ACCOUNT) : stack.account;
    const region = !stack.region || stack.region.startsWith('${') ? (options.region ?? DEFAULT_REGION) : stack.region;
    const stackName = artifact.stackName;
    const ctx: ResolveContext = {
      template,
      account,
      region,
      partition: 'aws',
      stackName,
      stackId: stackIdOf(stackName, region, account),
    };
    const { functions, frameworkAssetMatchesRuntime } = readFunctions(assembly.directory, ctx);
    const stateMachines = readStateMachines(ctx);
    const resources: CustomResourceModel[] = [];
    for (const [logicalId, res] of Object.entries(template.Resources)) {
      if (res.Type !== RESOURCE_TYPE) continue;
      resources.push({ logicalId, type: res.Type, properties: resolve(res.Properties ?? {}, ctx) as Properties });
    }
    return {
      stackName,
      stackId: ctx.stackId,
      region,
      account,
      template,
      resources,
      functions,
      stateMachines,
      frameworkAssetMatchesRuntime,
    };
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

/** The construct ids used by {@link constructStack}. */
export const CONSTRUCT_STACK = { stackName: 'ProvisionedProductPropertiesE2E', constructId: 'Ownership' } as const;

/**
 * A builder for {@link synthesize}: one stack holding one ProvisionedProductProperties with `props`
 * (and the provider options E2E_PROVIDER_OPTIONS asks for, see ./provider-options.ts).
 */
export function constructStack(props: ProvisionedProductPropertiesProps, stackProps?: StackProps): (app: App) => Stack {
  return (app) => {
    const stack = new Stack(app, CONSTRUCT_STACK.stackName, {
      env: { account: DEFAULT_ACCOUNT, region: DEFAULT_REGION },
      ...stackProps,
    });
    new ProvisionedProductProperties(stack, CONSTRUCT_STACK.constructId, { ...providerOptionsFromEnv(stack), ...props });
    return stack;
  };
}

/** The custom resource's properties of a model (the only one, or the one with `logicalId`). */
export function resourceOf(model: StackModel, logicalId?: string): CustomResourceModel {
  const matches = model.resources.filter((r) => logicalId === undefined || r.logicalId === logicalId);
  if (matches.length !== 1) {
    throw new Error(
      `Expected one ${RESOURCE_TYPE}${logicalId ? ` ${logicalId}` : ''}, found ${matches.map((r) => r.logicalId).join(', ') || 'none'}`,
    );
  }
  return matches[0];
}

/** Every AWS::Lambda::Function of the template, by ARN, with its code read from the assembly. */
function readFunctions(
  assemblyDir: string,
  ctx: ResolveContext,
): { functions: Map<string, FunctionModel>; frameworkAssetMatchesRuntime: boolean | undefined } {
  const assets = readAssetSources(assemblyDir);
  const functions = new Map<string, FunctionModel>();
  let frameworkAssetMatchesRuntime: boolean | undefined;
  for (const [logicalId, res] of Object.entries(ctx.template.Resources)) {
    if (res.Type !== 'AWS::Lambda::Function') continue;
    const props = res.Properties ?? {};
    const handler = String(props.Handler);
    const assetDir = assetDirOf(assemblyDir, assets, props.Code, res.Metadata);
    let code: CodePackage;
    if (handler.startsWith('framework.')) {
      // The provider framework: run the copy in aws-cdk-lib, and check it is what the asset ships.
      code = readCodePackage(FRAMEWORK_RUNTIME_DIR);
      if (assetDir) {
        const shipped = readCodePackage(assetDir);
        const same = [...code.files].every(([f, src]) => shipped.files.get(f) === src);
        frameworkAssetMatchesRuntime = (frameworkAssetMatchesRuntime ?? true) && same;
      }
    } else {
      if (!assetDir) throw new Error(`Function ${logicalId}: cannot find its code asset in the cloud assembly`);
      code = readCodePackage(assetDir);
      // Mutation testing: run the tests against another build of the handler (a deliberately
      // broken copy) without touching the product. See E2E_HANDLER_BUNDLE in the module comment.
      const override = process.env.E2E_HANDLER_BUNDLE;
      if (override && handler.startsWith('index.')) {
        code = { dir: path.dirname(override), files: new Map([['index.js', readFileSync(override, 'utf8')]]) };
      }
    }
    const envVars = (props.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ?? {};
    const environment: Record<string, string> = {};
    for (const [k, v] of Object.entries(envVars)) environment[k] = String(resolve(v, ctx));
    functions.set(arnOf(logicalId, ctx), {
      logicalId,
      name: functionName(logicalId),
      arn: arnOf(logicalId, ctx),
      handler,
      environment,
      timeoutSeconds: Number(props.Timeout ?? 3),
      memorySize: Number(props.MemorySize ?? 128),
      ...(props.ReservedConcurrentExecutions !== undefined ? { reservedConcurrency: Number(props.ReservedConcurrentExecutions) } : {}),
      code,
    });
  }
  return { functions, frameworkAssetMatchesRuntime };
}

/** Every AWS::StepFunctions::StateMachine of the template, by ARN, as the provider framework's waiter. */
function readStateMachines(ctx: ResolveContext): Map<string, WaiterModel> {
  const stateMachines = new Map<string, WaiterModel>();
  for (const [logicalId, res] of Object.entries(ctx.template.Resources)) {
    if (res.Type !== 'AWS::StepFunctions::StateMachine') continue;
    const definition = JSON.parse(String(resolve(res.Properties?.DefinitionString, ctx))) as {
      StartAt: string;
      States: Record<string, { Type: string; Resource?: string; Retry?: Array<Record<string, unknown>>; Catch?: Array<{ Next: string }> }>;
    };
    const task = definition.States[definition.StartAt];
    const retry = (task.Retry ?? []).find((r) => (r.ErrorEquals as string[] | undefined)?.includes('States.ALL')) ?? {};
    const catchState = task.Catch?.[0] ? definition.States[task.Catch[0].Next] : undefined;
    // Step Functions' defaults where the definition leaves them out.
    stateMachines.set(arnOf(logicalId, ctx), {
      logicalId,
      arn: arnOf(logicalId, ctx),
      taskFunctionArn: String(task.Resource),
      intervalSeconds: Number(retry.IntervalSeconds ?? 1),
      maxAttempts: Number(retry.MaxAttempts ?? 3),
      backoffRate: Number(retry.BackoffRate ?? 2),
      catchFunctionArn: String(catchState?.Resource ?? ''),
    });
  }
  return stateMachines;
}

/** S3 object key → asset directory, from every *.assets.json of the assembly. */
function readAssetSources(dir: string): Map<string, string> {
  const byKey = new Map<string, string>();
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.assets.json'))) {
    const manifest = JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as {
      files?: Record<string, { source: { path?: string }; destinations: Record<string, { objectKey: string }> }>;
    };
    for (const entry of Object.values(manifest.files ?? {})) {
      if (!entry.source.path) continue;
      for (const dest of Object.values(entry.destinations)) byKey.set(dest.objectKey, entry.source.path);
    }
  }
  return byKey;
}

function assetDirOf(
  assemblyDir: string,
  assets: Map<string, string>,
  code: unknown,
  metadata: Record<string, unknown> | undefined,
): string | undefined {
  const key = (code as { S3Key?: unknown } | undefined)?.S3Key;
  const rel = (typeof key === 'string' ? assets.get(key) : undefined) ?? (metadata?.['aws:asset:path'] as string | undefined);
  if (!rel) return undefined;
  const dir = path.resolve(assemblyDir, rel);
  return existsSync(dir) && statSync(dir).isDirectory() ? dir : undefined;
}

function readCodePackage(dir: string): CodePackage {
  const files = new Map<string, string>();
  const walk = (rel: string): void => {
    for (const name of readdirSync(path.join(dir, rel))) {
      const relPath = rel ? `${rel}/${name}` : name;
      const full = path.join(dir, relPath);
      if (statSync(full).isDirectory()) walk(relPath);
      else if (name.endsWith('.js')) files.set(relPath, readFileSync(full, 'utf8'));
    }
  };
  walk('');
  return { dir, files };
}
