/**
 * A CloudFormation lifecycle driver for the ProvisionedProductProperties custom resource.
 *
 * It runs what a user deploys, in-process:
 * - synthesizes a stack with the construct and reads the cloud assembly: the custom resource's
 *   Properties, every Lambda function (code from the asset the template points at, `Handler`,
 *   `Environment.Variables`) and the waiter state machine's Retry / Catch from its DefinitionString;
 * - runs the real provider framework runtime shipped in aws-cdk-lib
 *   (`custom-resources/lib/provider-framework/runtime/`), a fresh copy per Lambda container, with
 *   its `outbound` exports replaced: `invokeFunction` runs the bundled handler in-process as Lambda
 *   would (including the real outbound's one retry of a failed invoke call), `startExecution` runs
 *   the waiter as Step Functions would (isComplete at once, then every IntervalSeconds up to
 *   MaxAttempts, then onTimeout with the last error as Cause), and `httpRequest` captures the
 *   response CloudFormation would read;
 * - plays CloudFormation: it keeps the resource's physical id and properties, sends Create /
 *   Update / Delete with fresh RequestIds, and follows failures with the events CloudFormation
 *   sends (the rollback Delete of a failed Create, the rollback Update of a failed Update, the
 *   cleanup Delete of a replaced resource).
 *
 * Time is compressed by `timeScale`: the waiter's interval, Lambda's async retry delays, and the
 * handler's own timing through its environment (FAST_PATH_WINDOW_MS, POLL_INTERVAL_MS from the
 * function's Environment.Variables, and SEARCH_DELAY_MS, whose 1 s default the handler has in
 * code). The product is never edited. The AWS SDK's own retry backoff stays real time.
 *
 * Each Lambda "container" is a fresh evaluation of the function's code with its own `process`
 * (environment, stdout, stderr) and `console`, so module-level state is per container as in Lambda,
 * concurrent invocations use separate containers, and logs are captured per invocation. The
 * ResponseURL (a pre-signed S3 URL, a write credential) is never logged by the driver; every
 * captured log line is checked for it (`responseUrlLeaks`).
 *
 * A FAILED Update that reports a new physical id (a replacement whose record failed or timed out)
 * is rolled back as a failed replacement by default: back to the old physical id, and a Delete of
 * the new one in the cleanup phase; see {@link FailedReplacementRollback} for the alternative.
 *
 * Mutation testing: E2E_HANDLER_BUNDLE=/path/to/index.js runs the user functions from that file
 * instead of the assembly's asset (a deliberately broken build of the handler), so that a test can
 * be shown to fail when the behaviour it guards is broken, without touching the product.
 */
import { Console } from 'node:console';
import { createRequire } from 'node:module';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Writable } from 'node:stream';
import { App, Stack, type StackProps } from 'aws-cdk-lib';
import { ProvisionedProductProperties, type ProvisionedProductPropertiesProps } from '../lib';

// ------------------------------------------------------------------------------------------------
// Cloud assembly model
// ------------------------------------------------------------------------------------------------

/** The custom resource type the construct synthesizes. */
export const RESOURCE_TYPE = 'Custom::ProvisionedProductProperties';
/** The marker physical id the provider framework reports for a Create that failed in onEvent. */
export const CREATE_FAILED_MARKER = 'AWSCDK::CustomResourceProviderFramework::CREATE_FAILED';
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
  readonly template: {
    Resources: Record<string, { Type: string; Properties?: Record<string, unknown>; Metadata?: Record<string, unknown> }>;
  };
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
/** Node's require for the modules the deployed code needs from node_modules (@aws-sdk/* for the framework). */
const nodeRequire = createRequire(__filename);
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
    const template = artifact.template as StackModel['template'];
    const account = !stack.account || stack.account.startsWith('${') ? (options.account ?? DEFAULT_ACCOUNT) : stack.account;
    const region = !stack.region || stack.region.startsWith('${') ? (options.region ?? DEFAULT_REGION) : stack.region;
    const stackName = artifact.stackName;
    const ctx: ResolveContext = {
      template,
      account,
      region,
      partition: 'aws',
      stackName,
      stackId: `arn:aws:cloudformation:${region}:${account}:stack/${stackName}/${uuidFor(stackName)}`,
    };
    const assets = readAssetSources(assembly.directory);

    const functions = new Map<string, FunctionModel>();
    let frameworkAssetMatchesRuntime: boolean | undefined;
    for (const [logicalId, res] of Object.entries(template.Resources)) {
      if (res.Type !== 'AWS::Lambda::Function') continue;
      const props = res.Properties ?? {};
      const handler = String(props.Handler);
      const assetDir = assetDirOf(assembly.directory, assets, props.Code, res.Metadata);
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
        // broken copy) without touching the product. See E2E_HANDLER_BUNDLE in the e2e tests' notes.
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
        code,
      });
    }

    const stateMachines = new Map<string, WaiterModel>();
    for (const [logicalId, res] of Object.entries(template.Resources)) {
      if (res.Type !== 'AWS::StepFunctions::StateMachine') continue;
      const definition = JSON.parse(String(resolve(res.Properties?.DefinitionString, ctx))) as {
        StartAt: string;
        States: Record<
          string,
          { Type: string; Resource?: string; Retry?: Array<Record<string, unknown>>; Catch?: Array<{ Next: string }> }
        >;
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

/** A builder for {@link synthesize}: one stack holding one ProvisionedProductProperties with `props`. */
export function constructStack(props: ProvisionedProductPropertiesProps, stackProps?: StackProps): (app: App) => Stack {
  return (app) => {
    const stack = new Stack(app, CONSTRUCT_STACK.stackName, {
      env: { account: DEFAULT_ACCOUNT, region: DEFAULT_REGION },
      ...stackProps,
    });
    new ProvisionedProductProperties(stack, CONSTRUCT_STACK.constructId, props);
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

interface ResolveContext {
  readonly template: StackModel['template'];
  readonly account: string;
  readonly region: string;
  readonly partition: string;
  readonly stackName: string;
  readonly stackId: string;
}

const NO_VALUE = Symbol('AWS::NoValue');

/** Resolves the intrinsics a synthesized construct stack uses; throws on anything else. */
function resolve(value: unknown, ctx: ResolveContext): unknown {
  if (Array.isArray(value)) return value.map((v) => resolve(v, ctx)).filter((v) => v !== NO_VALUE);
  if (value === null || typeof value !== 'object') return value;
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj);
  if (keys.length === 1 && (keys[0] === 'Ref' || keys[0].startsWith('Fn::'))) {
    const arg = obj[keys[0]];
    switch (keys[0]) {
      case 'Ref':
        return ref(String(arg), ctx);
      case 'Fn::GetAtt': {
        const [id, attr] = Array.isArray(arg) ? (arg as string[]) : String(arg).split(/\.(.*)/s);
        return getAtt(id, attr, ctx);
      }
      case 'Fn::Join': {
        const [sep, parts] = arg as [string, unknown[]];
        return (resolve(parts, ctx) as unknown[]).map(String).join(sep);
      }
      case 'Fn::Select': {
        const [index, list] = arg as [unknown, unknown];
        return (resolve(list, ctx) as unknown[])[Number(resolve(index, ctx))];
      }
      case 'Fn::Split': {
        const [sep, source] = arg as [string, unknown];
        return String(resolve(source, ctx)).split(sep);
      }
      case 'Fn::Sub': {
        const [text, vars] = Array.isArray(arg) ? (arg as [string, Record<string, unknown>]) : [String(arg), {}];
        return text.replace(/\$\{([^}!]+)\}/g, (_m, name: string) => {
          if (name in vars) return String(resolve(vars[name], ctx));
          const dot = name.indexOf('.');
          return String(dot > 0 ? getAtt(name.slice(0, dot), name.slice(dot + 1), ctx) : ref(name, ctx));
        });
      }
      default:
        throw new Error(`lifecycle-driver: cannot resolve ${keys[0]} in ${JSON.stringify(value)}`);
    }
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) {
    const r = resolve(v, ctx);
    if (r !== NO_VALUE) out[k] = r;
  }
  return out;
}

function ref(name: string, ctx: ResolveContext): unknown {
  switch (name) {
    case 'AWS::Partition':
      return ctx.partition;
    case 'AWS::Region':
      return ctx.region;
    case 'AWS::AccountId':
      return ctx.account;
    case 'AWS::StackName':
      return ctx.stackName;
    case 'AWS::StackId':
      return ctx.stackId;
    case 'AWS::URLSuffix':
      return 'amazonaws.com';
    case 'AWS::NoValue':
      return NO_VALUE;
  }
  const res = ctx.template.Resources[name];
  if (!res) throw new Error(`lifecycle-driver: Ref to unknown resource ${name}`);
  switch (res.Type) {
    case 'AWS::StepFunctions::StateMachine':
      return arnOf(name, ctx);
    case 'AWS::Lambda::Function':
      return functionName(name);
    default:
      return name;
  }
}

function getAtt(logicalId: string, attr: string, ctx: ResolveContext): string {
  if (attr !== 'Arn') throw new Error(`lifecycle-driver: cannot resolve Fn::GetAtt ${logicalId}.${attr}`);
  return arnOf(logicalId, ctx);
}

function arnOf(logicalId: string, ctx: ResolveContext): string {
  const res = ctx.template.Resources[logicalId];
  if (!res) throw new Error(`lifecycle-driver: unknown resource ${logicalId}`);
  const { partition: p, region: r, account: a } = ctx;
  switch (res.Type) {
    case 'AWS::Lambda::Function':
      return `arn:${p}:lambda:${r}:${a}:function:${functionName(logicalId)}`;
    case 'AWS::StepFunctions::StateMachine':
      return `arn:${p}:states:${r}:${a}:stateMachine:${logicalId}`;
    case 'AWS::IAM::Role':
      return `arn:${p}:iam::${a}:role/${logicalId}`;
    case 'AWS::IAM::User':
      return `arn:${p}:iam::${a}:user/${logicalId}`;
    case 'AWS::Logs::LogGroup':
      return `arn:${p}:logs:${r}:${a}:log-group:${logicalId}:*`;
    default:
      throw new Error(`lifecycle-driver: no ARN for ${logicalId} (${res.Type})`);
  }
}

function functionName(logicalId: string): string {
  return logicalId.slice(0, 64);
}

function uuidFor(text: string): string {
  const hex = Buffer.from(text.padEnd(16, '0')).toString('hex').slice(0, 32);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
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

// ------------------------------------------------------------------------------------------------
// Lambda: containers, invocations, logs
// ------------------------------------------------------------------------------------------------

/** One captured log line. */
export interface LogLine {
  /** Function logical id. */
  readonly fn: string;
  readonly requestId?: string;
  readonly at: number;
  readonly text: string;
}

/** Which user handler an invocation ran. */
export type UserFunction = 'onEvent' | 'isComplete';

/** One invocation of a user handler (onEvent / isComplete), as the driver saw it. */
export interface UserInvocation {
  readonly fn: UserFunction;
  readonly requestId: string;
  readonly requestType: string;
  readonly startedAt: number;
  durationMs: number;
  /** 'ok', 'error' (the handler threw), or a crash injected by the driver. */
  outcome: 'ok' | 'error' | 'crashed-before-work' | 'crashed-after-work';
  readonly coldStart: boolean;
  result?: unknown;
  error?: { errorType: string; errorMessage: string };
  readonly logs: LogLine[];
}

/** What Lambda's Invoke returns (RequestResponse). */
interface InvokeOutput {
  StatusCode: number;
  Payload: Uint8Array;
  FunctionError?: string;
  ExecutedVersion: string;
}

/** Thrown by the emulated Invoke API call itself (not by the function). */
class InvokeCallError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvokeCallError';
  }
}

interface ContainerHooks {
  onLog(line: LogLine): void;
  externalRequire(id: string): unknown;
}

/** A Lambda execution environment: the function's code evaluated once, with its own process and console. */
class Container {
  readonly handler: (event: unknown, context: unknown) => Promise<unknown>;
  /** Loads (once) a file of the code package; the framework's outbound module is patched through it. */
  readonly load: (rel: string) => Record<string, unknown>;
  private current?: { requestId?: string; logs: LogLine[] };
  private invocations = 0;

  constructor(
    readonly fn: FunctionModel,
    env: Record<string, string>,
    private readonly hooks: ContainerHooks,
  ) {
    const sink = new Writable({
      write: (chunk: Buffer | string, _encoding, callback) => {
        // One write is one log entry (Powertools writes a JSON line, console.log a formatted message).
        const text = String(chunk).replace(/\n$/, '');
        if (text.trim() !== '') this.log(text);
        callback();
      },
    });
    const realProcess = process;
    const containerProcess = Object.create(realProcess, {
      env: { value: env, enumerable: true },
      stdout: { value: sink },
      stderr: { value: sink },
      emitWarning: { value: (warning: unknown) => this.log(`(warning) ${warning instanceof Error ? warning.message : String(warning)}`) },
    }) as NodeJS.Process;
    const containerConsole = new Console({ stdout: sink, stderr: sink });
    const [file, exportName] = splitHandler(fn.handler);
    const modules = new Map<string, { exports: Record<string, unknown> }>();
    const load = (rel: string): Record<string, unknown> => {
      const cached = modules.get(rel);
      if (cached) return cached.exports;
      const source = fn.code.files.get(rel);
      if (source === undefined) throw new Error(`${fn.logicalId}: no ${rel} in its code package`);
      const module = { exports: {} as Record<string, unknown> };
      modules.set(rel, module);
      const filename = path.join(fn.code.dir, rel);
      const localRequire = (id: string): unknown => {
        if (id === 'process' || id === 'node:process') return containerProcess;
        if (id.startsWith('./') || id.startsWith('../')) {
          const target = path.posix.normalize(path.posix.join(path.posix.dirname(rel), id));
          return load(fn.code.files.has(target) ? target : `${target}.js`);
        }
        return hooks.externalRequire(id);
      };
      // Dynamic import() (the SDK loads node:http lazily) cannot run in a Function body under jest's
      // vm: it becomes a require wrapped as a module namespace, which is what Node gives a CJS module.
      const dynamicImport = (id: string): Promise<unknown> =>
        Promise.resolve().then(() => {
          const m = localRequire(id) as Record<string, unknown>;
          return { ...m, default: m };
        });
      const code = compilable(fn.code, rel, source);
      // eslint-disable-next-line @typescript-eslint/no-implied-eval -- evaluating the deployed code, as Lambda does, in this realm
      const body = new Function('exports', 'require', 'module', '__filename', '__dirname', 'process', 'console', '__dynamicImport', code);
      body.call(
        module.exports,
        module.exports,
        localRequire,
        module,
        filename,
        path.dirname(filename),
        containerProcess,
        containerConsole,
        dynamicImport,
      );
      return module.exports;
    };
    this.load = load;
    const exported = load(`${file}.js`)[exportName];
    if (typeof exported !== 'function') throw new Error(`${fn.logicalId}: ${fn.handler} is not a function`);
    this.handler = exported as (event: unknown, context: unknown) => Promise<unknown>;
  }

  get coldStart(): boolean {
    return this.invocations === 0;
  }

  /** Runs one invocation; `logs` collects its log lines. */
  async run(
    event: unknown,
    requestId: string | undefined,
    logs: LogLine[],
  ): Promise<{ ok: true; value: unknown } | { ok: false; error: unknown }> {
    this.invocations++;
    this.current = { requestId, logs };
    const context = {
      awsRequestId: randomUUID(),
      functionName: this.fn.name,
      functionVersion: '$LATEST',
      invokedFunctionArn: this.fn.arn,
      memoryLimitInMB: String(this.fn.memorySize),
      logGroupName: `/aws/lambda/${this.fn.name}`,
      logStreamName: `2025/01/01/[$LATEST]${randomBytes(16).toString('hex')}`,
      callbackWaitsForEmptyEventLoop: true,
      getRemainingTimeInMillis: () => this.fn.timeoutSeconds * 1000,
    };
    try {
      return { ok: true, value: await this.handler(event, context) };
    } catch (error) {
      return { ok: false, error };
    } finally {
      this.current = undefined;
    }
  }

  private log(text: string): void {
    const line: LogLine = { fn: this.fn.logicalId, requestId: this.current?.requestId, at: Date.now(), text };
    this.current?.logs.push(line);
    this.hooks.onLog(line);
  }
}

const compiled = new WeakMap<CodePackage, Map<string, string>>();

/**
 * The source as a Function body: dynamic import() rewritten, and a sourceURL named by content
 * rather than by the (temporary) assembly directory, so that V8 compiles each distinct file once
 * however many stacks and containers load it.
 */
function compilable(code: CodePackage, rel: string, source: string): string {
  let files = compiled.get(code);
  if (!files) compiled.set(code, (files = new Map<string, string>()));
  let body = files.get(rel);
  if (body === undefined) {
    const digest = createHash('sha256').update(source).digest('hex').slice(0, 16);
    body = `${source.replace(/(^|[^\w$.])import\(/g, '$1__dynamicImport(')}\n//# sourceURL=lambda-code/${digest}/${rel}`;
    files.set(rel, body);
  }
  return body;
}

function splitHandler(handler: string): [string, string] {
  const dot = handler.lastIndexOf('.');
  return [handler.slice(0, dot), handler.slice(dot + 1)];
}

/**
 * A Lambda function error payload, as Lambda returns it with FunctionError 'Unhandled'. The trace
 * is left out where nobody reads it (the framework's own Retry errors, thrown on every waiter
 * attempt): formatting a stack under jest's source-map support costs more than the rest of a call.
 */
function errorPayload(error: unknown, withTrace = true): { errorType: string; errorMessage: string; trace: string[] } {
  const e = error as { name?: unknown; message?: unknown; stack?: unknown };
  const errorType = typeof e?.name === 'string' ? e.name : 'Error';
  const errorMessage = typeof e?.message === 'string' ? e.message : String(error);
  const trace = withTrace && typeof e?.stack === 'string' ? e.stack.split('\n') : [];
  return { errorType, errorMessage, trace };
}

function encode(value: unknown): Uint8Array {
  return new Uint8Array(Buffer.from(value === undefined ? '' : JSON.stringify(value), 'utf8'));
}

// ------------------------------------------------------------------------------------------------
// CloudFormation's view
// ------------------------------------------------------------------------------------------------

/** A response body the provider framework PUT to the ResponseURL. */
export interface CfnResponse {
  readonly Status: 'SUCCESS' | 'FAILED';
  readonly Reason: string;
  readonly PhysicalResourceId: string;
  readonly RequestId: string;
  readonly LogicalResourceId: string;
  readonly StackId: string;
  readonly NoEcho?: boolean;
  readonly Data?: Record<string, string>;
  /** When it arrived (epoch ms). */
  readonly at: number;
}

/** A request to the custom resource, without its ResponseURL. */
export interface CfnRequestView {
  readonly RequestType: 'Create' | 'Update' | 'Delete';
  readonly RequestId: string;
  readonly LogicalResourceId: string;
  readonly PhysicalResourceId?: string;
  readonly ResourceProperties: Properties;
  readonly OldResourceProperties?: Properties;
}

/** What CloudFormation saw for one request. */
export interface EventResult {
  readonly request: CfnRequestView;
  readonly RequestType: 'Create' | 'Update' | 'Delete';
  readonly RequestId: string;
  /** From the first response CloudFormation received; FAILED with a timeout reason when none came. */
  readonly Status: 'SUCCESS' | 'FAILED';
  readonly Reason: string;
  readonly PhysicalResourceId: string;
  readonly Data?: Record<string, string>;
  /** Time from sending the request to the first response (ms). */
  readonly responseMs: number;
  /** Time until every execution the request started had finished (ms). */
  readonly settledMs: number;
  /** Every response received for this RequestId (more than one when it was delivered again). */
  readonly responses: readonly CfnResponse[];
  /** Every user handler invocation for this RequestId. */
  readonly invocations: readonly UserInvocation[];
  /** Calls of the waiter's Task (the framework's isComplete), over all executions. */
  readonly waiterAttempts: number;
  /** Whether a waiter ran out of attempts and called onTimeout. */
  readonly timedOut: boolean;
  /** How often CloudFormation's event reached the framework's onEvent (Lambda async retries and injected redeliveries). */
  readonly deliveries: number;
}

/** An event CloudFormation sent because of another one. */
export interface FollowUp extends EventResult {
  /** 'rollback': of a failure (or of a stack failure after success); 'cleanup': deleting a replaced or rolled-back physical resource. */
  readonly phase: 'rollback' | 'cleanup';
}

/** CloudFormation's stack status after a step. */
export type StackStatus =
  | 'NONE'
  | 'CREATE_COMPLETE'
  | 'CREATE_FAILED'
  | 'ROLLBACK_COMPLETE'
  | 'ROLLBACK_FAILED'
  | 'UPDATE_COMPLETE'
  | 'UPDATE_ROLLBACK_COMPLETE'
  | 'UPDATE_ROLLBACK_FAILED'
  | 'DELETE_COMPLETE'
  | 'DELETE_FAILED';

/** The result of create / update / delete: the event, what CloudFormation sent after it, and the stack's status. */
export interface StepResult extends EventResult {
  readonly followUps: readonly FollowUp[];
  readonly stackStatus: StackStatus;
}

/** A physical resource CloudFormation gave up on (a cleanup Delete that failed: CloudFormation does not retry it). */
export interface Orphan {
  readonly physicalId: string;
  readonly properties: Properties;
  readonly reason: string;
}

/** How the driver treats a FAILED Update whose response carries a new physical id. */
export type FailedReplacementRollback =
  /**
   * CloudFormation treats it as a replacement that failed: the resource goes back to the old
   * physical id without a call, and the new one gets a Delete (with the new properties) in
   * UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS. This is the default: CloudFormation's cleanup
   * deletes "resources that got created in this update" (aws-cdk docs/CLOUDFORMATION.md), and a
   * failed Update that returns a new physical id is later sent a Delete for it (aws/aws-cdk#30012).
   */
  | 'revert-and-delete-new'
  /**
   * The pessimistic reading: CloudFormation adopts the new physical id and sends the rollback
   * Update to it (old properties; OldResourceProperties = the failed ones); a different id in its
   * answer is a replacement whose cleanup deletes the adopted one.
   */
  | 'update-adopted-id';

/** Driver options. */
export interface DriverOptions {
  /** Endpoint of the (fake) Service Catalog, put into AWS_ENDPOINT_URL_SERVICE_CATALOG of the user functions. */
  readonly endpoint: string;
  /** Factor applied to every duration the driver controls (default 0.01: 5 s → 50 ms). */
  readonly timeScale?: number;
  /** Logical id of the custom resource to drive (default: the only one). */
  readonly logicalId?: string;
  /** Extra environment for the user functions, over the template's (e.g. POWERTOOLS_LOG_LEVEL). */
  readonly env?: Record<string, string>;
  /** Print every captured log line (with the ResponseURL redacted, should a handler log it). */
  readonly echoLogs?: boolean;
  /** See {@link FailedReplacementRollback}. */
  readonly failedReplacementRollback?: FailedReplacementRollback;
}

/** Options of one step. */
export interface StepOptions {
  /** Create only: follow a failure with CloudFormation's rollback (default true; false is `--no-rollback`). */
  readonly rollback?: boolean;
  /**
   * After this resource succeeded, another resource of the stack fails: CloudFormation rolls this
   * one back too (Create → Delete; Update → Update back, or for a replacement the Delete of the new
   * physical id instead of the old one's cleanup).
   */
  readonly stackFailsAfter?: boolean;
  /** Deliver the CloudFormation event again with the same RequestId (see {@link Redelivery}). */
  readonly redeliver?: Redelivery;
}

/** Extra deliveries of one CloudFormation event, as when Lambda retries the framework's async invocation. */
export interface Redelivery {
  /** How many extra deliveries (default 1). */
  readonly times?: number;
  /**
   * 'after-start': as soon as the framework's onEvent has returned (the first waiter still runs);
   * 'after-response': after CloudFormation received the first response.
   */
  readonly when?: 'after-start' | 'after-response';
  /** Further delay before each extra delivery, in real-world ms (scaled by timeScale; Lambda's first async retry comes after about 60 000). Default 0. */
  readonly afterMs?: number;
  /**
   * 'always' (default): deliver again whatever happened. 'waiter-started': only when the framework's
   * onEvent had started the waiter, i.e. model the framework Lambda crashing after startExecution
   * (Lambda retries only an invocation that failed; one that answered FAILED itself returned normally).
   */
  readonly condition?: 'always' | 'waiter-started';
}

/** A planned crash of the user function's invoke call. */
export interface CrashPlan {
  readonly fn: UserFunction;
  /**
   * 'after-work': the function runs to its end, then the invoke call fails and its result is lost
   * (and the container with it); 'before-work': the invoke call fails before the function runs.
   * Either way the framework's outbound retries the call once with the same payload.
   */
  readonly when: 'after-work' | 'before-work';
  /** Only invocations for this request type. */
  readonly requestType?: 'Create' | 'Update' | 'Delete';
  /** Matching invocations to let pass first (default 0). */
  readonly skip?: number;
  /** How many matching invocations crash (default 1). */
  readonly count?: number;
}

interface PendingRequest {
  readonly view: CfnRequestView;
  readonly secret: string;
  readonly responses: CfnResponse[];
  readonly invocations: UserInvocation[];
  waiterAttempts: number;
  executions: number;
  timedOut: boolean;
  deliveries: number;
  firstResponse: Promise<void>;
  resolveFirst: () => void;
}

interface CrashState extends CrashPlan {
  seen: number;
  crashed: number;
}

interface ResourceState {
  physicalId: string;
  properties: Properties;
  attributes: Record<string, string>;
}

/** The framework function names the template's provider functions use. */
const FRAMEWORK_ENV = {
  onEvent: 'USER_ON_EVENT_FUNCTION_ARN',
  isComplete: 'USER_IS_COMPLETE_FUNCTION_ARN',
  waiter: 'WAITER_STATE_MACHINE_ARN',
} as const;

/** Durations in the user functions' environment that the driver compresses, with the handler's defaults where the template has none. */
const TIMED_ENV: Record<string, number | undefined> = {
  FAST_PATH_WINDOW_MS: undefined,
  POLL_INTERVAL_MS: undefined,
  TOTAL_TIMEOUT_MS: undefined,
  QUERY_INTERVAL_MS: undefined,
  SEARCH_DELAY_MS: 1000,
};

/** Lambda retries a failed asynchronous invocation twice, after about 1 and 2 minutes. */
const ASYNC_RETRY_DELAYS_MS = [60_000, 120_000];
/** CloudFormation waits this long for a custom resource's response. */
const CFN_RESPONSE_TIMEOUT_MS = 3_600_000;

/**
 * Plays CloudFormation and the AWS services around the provider framework for one custom
 * resource; see the module comment.
 */
export class LifecycleDriver {
  /** Every captured log line, of every function. */
  readonly logs: LogLine[] = [];
  /** Every user handler invocation. */
  readonly invocations: UserInvocation[] = [];
  /** Physical resources CloudFormation gave up on. */
  readonly orphans: Orphan[] = [];
  /** Every event result, in order (including follow-ups). */
  readonly history: EventResult[] = [];
  /** Responses that arrived after CloudFormation had stopped waiting for their request. */
  readonly lateResponses: CfnResponse[] = [];
  /**
   * Called before every request CloudFormation sends (follow-ups included), e.g. to change the
   * fake's faults for one phase of a deployment.
   */
  onRequest?: (request: CfnRequestView, phase: 'event' | FollowUp['phase']) => void;

  readonly model: StackModel;
  readonly resource: CustomResourceModel;
  readonly timeScale: number;
  private readonly options: DriverOptions;
  private readonly idle = new Map<string, Container[]>();
  private readonly pending = new Map<string, PendingRequest>();
  private readonly inflight = new Set<Promise<unknown>>();
  private readonly crashes: CrashState[] = [];
  private readonly secrets: string[] = [];
  private state?: ResourceState;
  private status: StackStatus = 'NONE';
  private failedRollback?: { request: Omit<CfnRequestView, 'RequestId'>; previous: ResourceState };

  constructor(model: StackModel, options: DriverOptions) {
    this.model = model;
    this.options = options;
    this.timeScale = options.timeScale ?? 0.01;
    this.resource = resourceOf(model, options.logicalId);
    const token = this.resource.properties.ServiceToken;
    if (typeof token !== 'string' || !model.functions.has(token)) {
      throw new Error(`${this.resource.logicalId}: ServiceToken ${JSON.stringify(token)} is not a function of the stack`);
    }
  }

  /** Synthesizes `build` and drives its custom resource. */
  static fromStack(build: (app: App) => Stack, options: DriverOptions & SynthesizeOptions): LifecycleDriver {
    return new LifecycleDriver(synthesize(build, options), options);
  }

  /** Synthesizes a stack with one ProvisionedProductProperties and drives it. */
  static fromConstruct(props: ProvisionedProductPropertiesProps, options: DriverOptions & { stackProps?: StackProps }): LifecycleDriver {
    return LifecycleDriver.fromStack(constructStack(props, options.stackProps), options);
  }

  /** The properties the construct synthesizes for `props` (same stack shape as fromConstruct). */
  static propertiesFor(props: ProvisionedProductPropertiesProps, stackProps?: StackProps): Properties {
    return resourceOf(synthesize(constructStack(props, stackProps))).properties;
  }

  /** CloudFormation's current physical id of the resource (undefined when it does not exist). */
  get physicalId(): string | undefined {
    return this.state?.physicalId;
  }

  /** CloudFormation's current properties of the resource. */
  get properties(): Properties | undefined {
    return this.state?.properties;
  }

  /** The resource's attributes (the Data of the last successful Create or Update). */
  get attributes(): Record<string, string> | undefined {
    return this.state?.attributes;
  }

  /** The stack's status after the last step. */
  get stackStatus(): StackStatus {
    return this.status;
  }

  /** The user functions (from the framework's environment). */
  get userFunctions(): { onEvent: FunctionModel; isComplete: FunctionModel; waiter: WaiterModel } {
    const framework = this.model.functions.get(String(this.resource.properties.ServiceToken)) as FunctionModel;
    const get = (arn: string | undefined): FunctionModel => {
      const fn = arn ? this.model.functions.get(arn) : undefined;
      if (!fn) throw new Error(`no function ${arn}`);
      return fn;
    };
    const waiter = this.model.stateMachines.get(framework.environment[FRAMEWORK_ENV.waiter]);
    if (!waiter) throw new Error('the provider has no waiter state machine');
    return {
      onEvent: get(framework.environment[FRAMEWORK_ENV.onEvent]),
      isComplete: get(framework.environment[FRAMEWORK_ENV.isComplete]),
      waiter,
    };
  }

  /** Plans a crash of a user function's invoke call. */
  crash(plan: CrashPlan): void {
    this.crashes.push({ ...plan, seen: 0, crashed: 0 });
  }

  /** Log lines that contain a ResponseURL signature (must stay empty). */
  responseUrlLeaks(): LogLine[] {
    return this.logs.filter((l) => this.secrets.some((s) => l.text.includes(s)));
  }

  /** Log lines of the user handlers for one request (or all), parsed where JSON. */
  handlerLogs(requestId?: string): Array<Record<string, unknown>> {
    return this.invocations
      .filter((i) => requestId === undefined || i.requestId === requestId)
      .flatMap((i) => i.logs)
      .map((l) => {
        try {
          return JSON.parse(l.text) as Record<string, unknown>;
        } catch {
          return { message: l.text };
        }
      });
  }

  // ---------------------------------------------------------------------------- CloudFormation steps

  /** Create (default: the synthesized properties). A failure is followed by CloudFormation's rollback Delete. */
  async create(properties: Properties = this.resource.properties, options: StepOptions = {}): Promise<StepResult> {
    if (this.state) throw new Error('create: the resource exists already');
    const props = this.withServiceToken(properties);
    const result = await this.send(
      { RequestType: 'Create', LogicalResourceId: this.resource.logicalId, ResourceProperties: props },
      options.redeliver,
    );
    const followUps: FollowUp[] = [];
    if (result.Status === 'SUCCESS' && !options.stackFailsAfter) {
      this.state = { physicalId: result.PhysicalResourceId, properties: props, attributes: result.Data ?? {} };
      return this.step(result, followUps, 'CREATE_COMPLETE');
    }
    if (options.rollback === false && result.Status === 'FAILED') {
      // --no-rollback: the failed resource stays, with the physical id it reported.
      this.state = { physicalId: result.PhysicalResourceId, properties: props, attributes: {} };
      return this.step(result, followUps, 'CREATE_FAILED');
    }
    // ROLLBACK_IN_PROGRESS: Delete whatever physical id was reported.
    const rollback = await this.followUp('rollback', {
      RequestType: 'Delete',
      LogicalResourceId: this.resource.logicalId,
      PhysicalResourceId: result.PhysicalResourceId,
      ResourceProperties: props,
    });
    followUps.push(rollback);
    if (rollback.Status === 'SUCCESS') return this.step(result, followUps, 'ROLLBACK_COMPLETE');
    this.state = { physicalId: result.PhysicalResourceId, properties: props, attributes: {} };
    return this.step(result, followUps, 'ROLLBACK_FAILED');
  }

  /** Update to `properties`. A failure is followed by the rollback; a replacement by the cleanup Delete of the old physical id. */
  async update(properties: Properties, options: StepOptions = {}): Promise<StepResult> {
    const old = this.state;
    if (!old) throw new Error('update: the resource does not exist');
    if (this.status === 'UPDATE_ROLLBACK_FAILED') throw new Error('update: the stack is UPDATE_ROLLBACK_FAILED; continueRollback() first');
    const props = this.withServiceToken(properties);
    const request = {
      RequestType: 'Update' as const,
      LogicalResourceId: this.resource.logicalId,
      PhysicalResourceId: old.physicalId,
      ResourceProperties: props,
      OldResourceProperties: old.properties,
    };
    const result = await this.send(request, options.redeliver);
    const followUps: FollowUp[] = [];
    const replaced = result.PhysicalResourceId !== old.physicalId;
    if (result.Status === 'SUCCESS' && !options.stackFailsAfter) {
      this.state = { physicalId: result.PhysicalResourceId, properties: props, attributes: result.Data ?? {} };
      if (replaced) {
        // UPDATE_COMPLETE_CLEANUP_IN_PROGRESS: the replaced physical resource is deleted with its own properties.
        followUps.push(await this.cleanupDelete(old.physicalId, old.properties));
      }
      return this.step(result, followUps, 'UPDATE_COMPLETE');
    }
    // UPDATE_ROLLBACK_IN_PROGRESS.
    const adopt = this.options.failedReplacementRollback === 'update-adopted-id' && result.Status === 'FAILED';
    if (replaced && !adopt) {
      // A replacement (successful, then the stack failed; or failed itself): back to the old
      // physical id without a call, and the new one is deleted in the cleanup phase.
      this.state = old;
      followUps.push(await this.cleanupDelete(result.PhysicalResourceId, props));
      return this.step(result, followUps, 'UPDATE_ROLLBACK_COMPLETE');
    }
    const target = replaced ? result.PhysicalResourceId : old.physicalId;
    const rollbackRequest = {
      RequestType: 'Update' as const,
      LogicalResourceId: this.resource.logicalId,
      PhysicalResourceId: target,
      ResourceProperties: old.properties,
      OldResourceProperties: props,
    };
    return this.rollbackUpdate(result, followUps, rollbackRequest, old);
  }

  /** ContinueUpdateRollback after UPDATE_ROLLBACK_FAILED: the rollback Update is sent again. */
  async continueRollback(): Promise<StepResult> {
    const failed = this.failedRollback;
    if (!failed || this.status !== 'UPDATE_ROLLBACK_FAILED') throw new Error('continueRollback: the stack is not UPDATE_ROLLBACK_FAILED');
    const result = await this.send(failed.request, undefined, 'rollback');
    const followUps: FollowUp[] = [];
    return this.rollbackUpdate(result, followUps, failed.request, failed.previous, true);
  }

  /** Delete the resource (stack delete, or its removal from the template). */
  async delete(options: Pick<StepOptions, 'redeliver'> = {}): Promise<StepResult> {
    const current = this.state;
    if (!current) throw new Error('delete: the resource does not exist');
    const result = await this.send(
      {
        RequestType: 'Delete',
        LogicalResourceId: this.resource.logicalId,
        PhysicalResourceId: current.physicalId,
        ResourceProperties: current.properties,
      },
      options.redeliver,
    );
    if (result.Status === 'SUCCESS') {
      this.state = undefined;
      this.failedRollback = undefined;
      return this.step(result, [], 'DELETE_COMPLETE');
    }
    return this.step(result, [], 'DELETE_FAILED');
  }

  /** Waits for every execution still running (redeliveries included). */
  async settle(): Promise<void> {
    while (this.inflight.size > 0) await Promise.allSettled([...this.inflight]);
  }

  private async rollbackUpdate(
    result: EventResult,
    followUps: FollowUp[],
    request: Omit<CfnRequestView, 'RequestId'>,
    previous: ResourceState,
    isContinuation = false,
  ): Promise<StepResult> {
    const rollback = isContinuation ? (result as FollowUp) : await this.followUp('rollback', request);
    if (!isContinuation) followUps.push(rollback);
    if (rollback.Status === 'FAILED') {
      this.failedRollback = { request, previous };
      this.state = { ...previous, physicalId: request.PhysicalResourceId as string };
      return this.step(result, followUps, 'UPDATE_ROLLBACK_FAILED');
    }
    this.failedRollback = undefined;
    this.state = {
      physicalId: rollback.PhysicalResourceId,
      properties: previous.properties,
      attributes: rollback.Data ?? previous.attributes,
    };
    if (rollback.PhysicalResourceId !== request.PhysicalResourceId) {
      // The rollback Update answered with yet another id: a replacement; the one it replaced goes in cleanup.
      followUps.push(await this.cleanupDelete(request.PhysicalResourceId as string, request.OldResourceProperties ?? {}));
    }
    return this.step(result, followUps, 'UPDATE_ROLLBACK_COMPLETE');
  }

  private async cleanupDelete(physicalId: string, properties: Properties): Promise<FollowUp> {
    const cleanup = await this.followUp('cleanup', {
      RequestType: 'Delete',
      LogicalResourceId: this.resource.logicalId,
      PhysicalResourceId: physicalId,
      ResourceProperties: properties,
    });
    // A failed cleanup Delete does not fail the stack; CloudFormation leaves the resource behind.
    if (cleanup.Status === 'FAILED') this.orphans.push({ physicalId, properties, reason: cleanup.Reason });
    return cleanup;
  }

  private async followUp(phase: FollowUp['phase'], request: Omit<CfnRequestView, 'RequestId'>): Promise<FollowUp> {
    return { ...(await this.send(request, undefined, phase)), phase };
  }

  private step(result: EventResult, followUps: FollowUp[], status: StackStatus): StepResult {
    this.status = status;
    return { ...result, followUps, stackStatus: status };
  }

  private withServiceToken(properties: Properties): Properties {
    return { ...properties, ServiceToken: this.resource.properties.ServiceToken };
  }

  // ---------------------------------------------------------------------------- one request

  /**
   * Sends one request as CloudFormation does (an async invocation of the ServiceToken function)
   * and waits until every execution it started has finished. Does not change the driver's view.
   */
  async send(
    request: Omit<CfnRequestView, 'RequestId'> & { RequestId?: string },
    redeliver?: Redelivery,
    phase: 'event' | FollowUp['phase'] = 'event',
  ): Promise<EventResult> {
    const requestId = request.RequestId ?? randomUUID();
    const secret = randomBytes(32).toString('hex');
    this.secrets.push(secret);
    const view: CfnRequestView = {
      RequestType: request.RequestType,
      RequestId: requestId,
      LogicalResourceId: request.LogicalResourceId,
      ...(request.PhysicalResourceId !== undefined ? { PhysicalResourceId: request.PhysicalResourceId } : {}),
      ResourceProperties: stringifyScalars(request.ResourceProperties) as Properties,
      ...(request.OldResourceProperties ? { OldResourceProperties: stringifyScalars(request.OldResourceProperties) as Properties } : {}),
    };
    const event = {
      ServiceToken: String(this.resource.properties.ServiceToken),
      ResponseURL: responseUrl(this.model, view, secret),
      StackId: this.model.stackId,
      ResourceType: this.resource.type,
      ...view,
    };
    let resolveFirst!: () => void;
    const pending: PendingRequest = {
      view,
      secret,
      responses: [],
      invocations: [],
      waiterAttempts: 0,
      executions: 0,
      timedOut: false,
      deliveries: 0,
      firstResponse: new Promise<void>((r) => (resolveFirst = r)),
      resolveFirst: () => resolveFirst(),
    };
    this.pending.set(requestId, pending);
    this.onRequest?.(view, phase);
    const started = Date.now();
    const payload = JSON.stringify(event);

    const deliveries = 1 + (redeliver ? (redeliver.times ?? 1) : 0);
    for (let i = 0; i < deliveries; i++) {
      if (i > 0 && redeliver?.when === 'after-response') {
        await Promise.race([pending.firstResponse, this.settle()]);
      }
      if (i > 0 && redeliver?.condition === 'waiter-started' && pending.executions === 0) break;
      if (i > 0 && redeliver?.afterMs) await sleep(this.scaled(redeliver.afterMs));
      await this.track(this.deliverAsync(String(this.resource.properties.ServiceToken), payload, pending));
    }
    const timeout = this.scaled(CFN_RESPONSE_TIMEOUT_MS);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.settle(),
      new Promise<void>((r) => {
        timer = setTimeout(r, timeout);
      }),
    ]);
    clearTimeout(timer);
    const settledMs = Date.now() - started;
    this.pending.delete(requestId);

    const first = pending.responses[0];
    const result: EventResult = {
      request: view,
      RequestType: view.RequestType,
      RequestId: requestId,
      Status: first?.Status ?? 'FAILED',
      Reason: first?.Reason ?? 'Failed to receive a response from the custom resource (CloudFormation gives up after 1 hour)',
      PhysicalResourceId: first?.PhysicalResourceId ?? view.PhysicalResourceId ?? '',
      ...(first?.Data ? { Data: first.Data } : {}),
      responseMs: first ? first.at - started : settledMs,
      settledMs,
      responses: pending.responses,
      invocations: pending.invocations,
      waiterAttempts: pending.waiterAttempts,
      timedOut: pending.timedOut,
      deliveries: pending.deliveries,
    };
    this.history.push(result);
    return result;
  }

  /** Lambda's asynchronous invocation: the function is retried twice when it fails. */
  private async deliverAsync(arn: string, payload: string, pending: PendingRequest): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      pending.deliveries++;
      const out = await this.invoke(arn, payload);
      if (!out.FunctionError || attempt >= ASYNC_RETRY_DELAYS_MS.length) return;
      await sleep(this.scaled(ASYNC_RETRY_DELAYS_MS[attempt]));
    }
  }

  private track<T>(promise: Promise<T>): Promise<T> {
    this.inflight.add(promise);
    void promise.finally(() => this.inflight.delete(promise)).catch(() => undefined);
    return promise;
  }

  private scaled(ms: number): number {
    return Math.max(1, Math.round(ms * this.timeScale));
  }

  // ---------------------------------------------------------------------------- Lambda

  /** Lambda Invoke (RequestResponse) of any function of the stack. */
  private async invoke(arn: string, payload: string, userFn?: UserFunction, crash?: CrashState): Promise<InvokeOutput> {
    const fn = this.model.functions.get(arn);
    if (!fn) {
      throw Object.assign(new Error(`Function not found: ${arn}`), { name: 'ResourceNotFoundException' });
    }
    const container = this.acquire(fn);
    const event = JSON.parse(payload) as { RequestId?: string; RequestType?: string };
    const requestId = typeof event.RequestId === 'string' ? event.RequestId : undefined;
    const pending = requestId ? this.pending.get(requestId) : undefined;
    const logs: LogLine[] = [];
    let invocation: UserInvocation | undefined;
    if (userFn) {
      invocation = {
        fn: userFn,
        requestId: requestId ?? '',
        requestType: String(event.RequestType),
        startedAt: Date.now(),
        durationMs: 0,
        outcome: 'ok',
        coldStart: container.coldStart,
        logs,
      };
      this.invocations.push(invocation);
      pending?.invocations.push(invocation);
    }
    const outcome = await container.run(event, requestId, logs);
    if (invocation) {
      invocation.durationMs = Date.now() - invocation.startedAt;
      if (outcome.ok) invocation.result = outcome.value;
      else {
        invocation.outcome = 'error';
        const { errorType, errorMessage } = errorPayload(outcome.error, false);
        invocation.error = { errorType, errorMessage };
      }
    }
    if (crash && invocation) {
      // The function did its work; the invoke call fails and the execution environment is gone.
      invocation.outcome = 'crashed-after-work';
      throw new InvokeCallError(`Injected crash of ${fn.logicalId} after its work (request ${requestId}): the invoke call failed`);
    }
    this.release(fn, container);
    if (outcome.ok) return { StatusCode: 200, Payload: encode(outcome.value), ExecutedVersion: '$LATEST' };
    return {
      StatusCode: 200,
      Payload: encode(errorPayload(outcome.error, userFn !== undefined)),
      FunctionError: 'Unhandled',
      ExecutedVersion: '$LATEST',
    };
  }

  private acquire(fn: FunctionModel): Container {
    const idle = this.idle.get(fn.arn);
    const warm = idle?.pop();
    if (warm) return warm;
    return this.coldStart(fn);
  }

  private release(fn: FunctionModel, container: Container): void {
    const idle = this.idle.get(fn.arn) ?? [];
    idle.push(container);
    this.idle.set(fn.arn, idle);
  }

  private coldStart(fn: FunctionModel): Container {
    const hooks: ContainerHooks = {
      onLog: (line) => {
        this.logs.push(line);
        if (this.options.echoLogs) console.log(`[${line.fn}] ${this.redact(line.text)}`);
      },
      externalRequire: (id) => nodeRequire(id) as unknown,
    };
    const isFramework = fn.handler.startsWith('framework.');
    const container = new Container(fn, this.environmentOf(fn, isFramework), hooks);
    if (isFramework) this.patchOutbound(container);
    return container;
  }

  /** The function's environment as Lambda sets it, with the user functions' durations compressed. */
  private environmentOf(fn: FunctionModel, isFramework: boolean): Record<string, string> {
    const env: Record<string, string> = {
      AWS_REGION: this.model.region,
      AWS_DEFAULT_REGION: this.model.region,
      AWS_LAMBDA_FUNCTION_NAME: fn.name,
      AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(fn.memorySize),
      AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${fn.name}`,
      AWS_ACCESS_KEY_ID: 'AKIDLIFECYCLEDRIVER',
      AWS_SECRET_ACCESS_KEY: 'lifecycle-driver-secret',
      AWS_SESSION_TOKEN: 'lifecycle-driver-session',
      // Keep Lambda's per-invocation store in the container, not on the shared globalThis.
      AWS_LAMBDA_NODEJS_NO_GLOBAL_AWSLAMBDA: 'true',
      TZ: ':UTC',
      ...fn.environment,
    };
    if (isFramework) return env;
    env.AWS_ENDPOINT_URL_SERVICE_CATALOG = this.options.endpoint;
    for (const [name, fallback] of Object.entries(TIMED_ENV)) {
      const raw = fn.environment[name] ?? (fallback !== undefined ? String(fallback) : undefined);
      if (raw !== undefined && raw !== '' && Number.isFinite(Number(raw))) env[name] = String(this.scaled(Number(raw)));
    }
    return { ...env, ...this.options.env };
  }

  /** Replaces the framework container's outbound calls: invoke the user functions, run the waiter, capture the response. */
  private patchOutbound(container: Container): void {
    const outbound = container.load('outbound.js');
    outbound.invokeFunction = (req: { FunctionName: string; Payload: string }) => this.frameworkInvoke(req);
    outbound.startExecution = (req: { stateMachineArn: string; input: string }) => this.startExecution(req);
    outbound.httpRequest = (options: { path?: string; method?: string }, body: string) => this.captureResponse(options, body);
  }

  /** outbound.invokeFunction: Lambda Invoke with the real outbound's single retry of a failed call. */
  private async frameworkInvoke(req: { FunctionName: string; Payload: string }): Promise<InvokeOutput> {
    const fns = this.userFunctions;
    const userFn: UserFunction | undefined =
      req.FunctionName === fns.onEvent.arn ? 'onEvent' : req.FunctionName === fns.isComplete.arn ? 'isComplete' : undefined;
    const attempt = async (): Promise<InvokeOutput> => {
      const event = JSON.parse(req.Payload) as { RequestType?: string; RequestId?: string };
      const crash = userFn ? this.takeCrash(userFn, String(event.RequestType)) : undefined;
      if (crash?.when === 'before-work') {
        const invocation: UserInvocation = {
          fn: userFn as UserFunction,
          requestId: String(event.RequestId),
          requestType: String(event.RequestType),
          startedAt: Date.now(),
          durationMs: 0,
          outcome: 'crashed-before-work',
          coldStart: false,
          logs: [],
        };
        this.invocations.push(invocation);
        this.pending.get(String(event.RequestId))?.invocations.push(invocation);
        throw new InvokeCallError(`Injected failure of the invoke call before ${userFn} ran`);
      }
      return this.invoke(req.FunctionName, req.Payload, userFn, crash);
    };
    try {
      return await attempt();
    } catch {
      // The real outbound waits until the function is active, then invokes once more.
      return attempt();
    }
  }

  private takeCrash(fn: UserFunction, requestType: string): CrashState | undefined {
    for (const plan of this.crashes) {
      if (plan.fn !== fn || (plan.requestType && plan.requestType !== requestType)) continue;
      if (plan.crashed >= (plan.count ?? 1)) continue;
      plan.seen++;
      if (plan.seen <= (plan.skip ?? 0)) continue;
      plan.crashed++;
      return plan;
    }
    return undefined;
  }

  // ---------------------------------------------------------------------------- Step Functions

  /** outbound.startExecution: starts the waiter and returns at once, as StartExecution does. */
  private startExecution(req: { stateMachineArn: string; input: string }): Promise<{ executionArn: string; startDate: Date }> {
    const machine = this.model.stateMachines.get(req.stateMachineArn);
    if (!machine)
      return Promise.reject(
        Object.assign(new Error(`State machine does not exist: ${req.stateMachineArn}`), { name: 'StateMachineDoesNotExist' }),
      );
    const id = randomUUID();
    const requestId = (JSON.parse(req.input) as { RequestId?: string }).RequestId;
    const pending = requestId ? this.pending.get(requestId) : undefined;
    if (pending) pending.executions++;
    void this.track(this.runExecution(machine, req.input));
    return Promise.resolve({ executionArn: `${machine.arn.replace(':stateMachine:', ':execution:')}:${id}`, startDate: new Date() });
  }

  /** The waiter: the Task at once, then per Retry (IntervalSeconds × BackoffRate^n) up to MaxAttempts, then the Catch. */
  private async runExecution(machine: WaiterModel, input: string): Promise<void> {
    const requestId = (JSON.parse(input) as { RequestId?: string }).RequestId;
    let lastError: { errorType: string; errorMessage: string; trace?: string[] } | undefined;
    for (let retries = 0; ; retries++) {
      const pending = requestId ? this.pending.get(requestId) : undefined;
      if (pending) pending.waiterAttempts++;
      let out: InvokeOutput;
      try {
        out = await this.invoke(machine.taskFunctionArn, input);
      } catch (e) {
        out = { StatusCode: 500, Payload: encode(errorPayload(e)), FunctionError: 'Unhandled', ExecutedVersion: '$LATEST' };
      }
      if (!out.FunctionError) return;
      lastError = JSON.parse(Buffer.from(out.Payload).toString('utf8')) as typeof lastError;
      if (retries >= machine.maxAttempts) break;
      await sleep(this.scaled(machine.intervalSeconds * 1000 * machine.backoffRate ** retries));
    }
    const pending = requestId ? this.pending.get(requestId) : undefined;
    if (pending) pending.timedOut = true;
    // Catch (States.ALL) → the onTimeout task with the error output as its input.
    const error = lastError ?? { errorType: 'States.TaskFailed', errorMessage: '' };
    await this.invoke(machine.catchFunctionArn, JSON.stringify({ Error: error.errorType, Cause: JSON.stringify(error) }));
  }

  // ---------------------------------------------------------------------------- the response

  /** outbound.httpRequest: the PUT of the response to the pre-signed URL, as CloudFormation receives it. */
  private captureResponse(options: { path?: string; method?: string }, body: string): Promise<void> {
    const response = JSON.parse(body) as Omit<CfnResponse, 'at'>;
    const pending = this.pending.get(response.RequestId);
    if (!pending) {
      // CloudFormation has stopped waiting for this request; S3 still accepts the PUT.
      this.lateResponses.push({ ...response, at: Date.now() });
      return Promise.resolve();
    }
    if (options.method !== 'PUT' || !options.path?.includes(pending.secret)) {
      return Promise.reject(new Error("Unsuccessful HTTP response: 403 (the response was not PUT to the request's pre-signed URL)"));
    }
    pending.responses.push({ ...response, at: Date.now() });
    if (pending.responses.length === 1) pending.resolveFirst();
    return Promise.resolve();
  }

  private redact(text: string): string {
    return this.secrets.reduce((t, s) => t.split(s).join('<redacted>'), text);
  }
}

/** CloudFormation hands every scalar property to a custom resource as a string. */
function stringifyScalars(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(stringifyScalars);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, stringifyScalars(v)]));
  }
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return value;
}

function responseUrl(model: StackModel, view: CfnRequestView, secret: string): string {
  const key = encodeURIComponent(`${model.stackId}|${view.LogicalResourceId}|${view.RequestId}`);
  return (
    `https://cloudformation-custom-resource-response-${model.region.replace(/-/g, '')}.s3.amazonaws.com/${key}` +
    `?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date=20250101T000000Z&X-Amz-SignedHeaders=host&X-Amz-Expires=7200` +
    `&X-Amz-Credential=AKIACFN%2F20250101%2F${model.region}%2Fs3%2Faws4_request&X-Amz-Signature=${secret}`
  );
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
