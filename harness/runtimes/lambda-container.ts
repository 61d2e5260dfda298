/**
 * One Lambda execution environment ("container"): a fresh evaluation of the function's code with
 * its own `process` (environment, stdout, stderr) and `console`, so module-level state is per
 * container as in Lambda, and every log line is captured for the invocation that wrote it.
 */
import { Console } from 'node:console';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import * as path from 'node:path';
import { Writable } from 'node:stream';
import type { CodePackage, FunctionModel } from '../template/assembly';

/** One captured log line. */
export interface LogLine {
  /** Function logical id. */
  readonly fn: string;
  readonly requestId?: string;
  readonly at: number;
  readonly text: string;
}

/** What the container needs from outside. */
export interface ContainerHooks {
  /** Every log line the function writes, as it is written. */
  onLog(line: LogLine): void;
  /** Loads a module the code package does not hold (Node's built-ins, @aws-sdk/* for the framework). */
  externalRequire(id: string): unknown;
  /** A real-world duration in the harness's compressed time (the function's timeout, as the context reports what is left of it). */
  scaled?(ms: number): number;
}

/** How one invocation ended: the handler's value, or what it threw. */
export type RunOutcome = { ok: true; value: unknown } | { ok: false; error: unknown };

/** A Lambda execution environment: the function's code evaluated once, with its own process and console. */
export class Container {
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
  async run(event: unknown, requestId: string | undefined, logs: LogLine[]): Promise<RunOutcome> {
    this.invocations++;
    this.current = { requestId, logs };
    const timeoutMs = this.hooks.scaled ? this.hooks.scaled(this.fn.timeoutSeconds * 1000) : this.fn.timeoutSeconds * 1000;
    const deadline = Date.now() + timeoutMs;
    const context = {
      awsRequestId: randomUUID(),
      functionName: this.fn.name,
      functionVersion: '$LATEST',
      invokedFunctionArn: this.fn.arn,
      memoryLimitInMB: String(this.fn.memorySize),
      logGroupName: `/aws/lambda/${this.fn.name}`,
      logStreamName: `2025/01/01/[$LATEST]${randomBytes(16).toString('hex')}`,
      callbackWaitsForEmptyEventLoop: true,
      // What is left of the function's timeout, compressed like every other duration of the harness.
      getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
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

/** A Lambda function error, as Lambda returns it in the payload with FunctionError 'Unhandled'. */
export interface ErrorPayload {
  errorType: string;
  errorMessage: string;
  trace: string[];
}

/**
 * The error payload of what a function threw. The trace is left out where nobody reads it (the
 * framework's own Retry errors, thrown on every waiter attempt): formatting a stack under jest's
 * source-map support costs more than the rest of a call.
 */
export function errorPayload(error: unknown, withTrace = true): ErrorPayload {
  const e = error as { name?: unknown; message?: unknown; stack?: unknown };
  const errorType = typeof e?.name === 'string' ? e.name : 'Error';
  const errorMessage = typeof e?.message === 'string' ? e.message : String(error);
  const trace = withTrace && typeof e?.stack === 'string' ? e.stack.split('\n') : [];
  return { errorType, errorMessage, trace };
}
