/**
 * The Lambda service for the functions of a stack: the environment Lambda sets, warm and cold
 * containers (concurrent invocations use separate ones), the Invoke API (RequestResponse), and the
 * asynchronous invocation with Lambda's two retries of a failed function.
 */
import { createRequire } from 'node:module';
import { setTimeout as sleep } from 'node:timers/promises';
import type { AccountQuotas } from '../fakes/quota';
import type { FunctionModel } from '../template/assembly';
import { Container, type LogLine, type RunOutcome, errorPayload } from './lambda-container';

/** What Lambda's Invoke returns (RequestResponse). */
export interface InvokeOutput {
  StatusCode: number;
  Payload: Uint8Array;
  FunctionError?: string;
  ExecutedVersion: string;
}

/** Thrown by the emulated Invoke API call itself (not by the function). */
export class InvokeCallError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvokeCallError';
  }
}

/** Options of the Lambda service. */
export interface LambdaServiceOptions {
  readonly region: string;
  /** A real-world duration in the harness's compressed time (for the async retry delays). */
  readonly scaled: (ms: number) => number;
  /** The environment of a new container, given the one Lambda sets (default: that one). */
  readonly environment?: (fn: FunctionModel, env: Record<string, string>) => Record<string, string>;
  /** Called with a new container before its first invocation. */
  readonly onColdStart?: (container: Container) => void;
  /** Every log line of every function, as it is written. */
  readonly onLog?: (line: LogLine) => void;
  /** The account's quotas (Lambda's concurrency), read at each invocation; none when it returns undefined. */
  readonly quotas?: () => AccountQuotas | undefined;
}

/** Options of one Invoke. */
export interface InvokeOptions {
  /** Collects the invocation's log lines. */
  readonly logs?: LogLine[];
  /** Called when the invocation has a container, before the function runs. */
  readonly onStart?: (container: Container) => void;
  /** Called with the function's outcome, before the Invoke call answers. */
  readonly onEnd?: (outcome: RunOutcome) => void;
  /** Include the stack trace in an error payload (default true). */
  readonly trace?: boolean;
  /**
   * Crash after the work: the function runs to its end, then the Invoke call fails with an
   * InvokeCallError with this message, its result is lost, and the container with it.
   */
  readonly crashAfterWork?: string;
}

/** Lambda retries a failed asynchronous invocation twice, after about 1 and 2 minutes. */
const ASYNC_RETRY_DELAYS_MS = [60_000, 120_000];
/**
 * A throttled asynchronous invocation goes back to Lambda's queue and is tried again, for up to six
 * hours, "exponentially from 1 second after the first attempt to a maximum of 5 minutes" (Lambda
 * developer guide, "How Lambda handles errors and retries with asynchronous invocation"); those
 * tries are not among the two retries of a failed function.
 */
const ASYNC_THROTTLE_FIRST_DELAY_MS = 1_000;
const ASYNC_THROTTLE_MAX_DELAY_MS = 300_000;

/** Lambda's answer to an Invoke over the account's or the function's concurrency: 429 TooManyRequestsException. */
export class TooManyRequestsError extends Error {
  readonly $metadata = { httpStatusCode: 429 };
  constructor(readonly Reason: string) {
    super('Rate Exceeded.');
    this.name = 'TooManyRequestsException';
  }
}
/** Node's require for the modules the deployed code needs from node_modules (@aws-sdk/* for the framework). */
const nodeRequire = createRequire(__filename);

/** Lambda for the functions of one stack. */
export class LambdaService {
  private readonly idle = new Map<string, Container[]>();

  constructor(
    private readonly functions: ReadonlyMap<string, FunctionModel>,
    private readonly options: LambdaServiceOptions,
  ) {}

  /**
   * Lambda Invoke (RequestResponse). Log lines are tagged with the RequestId of the event (the
   * CloudFormation request a custom resource's function works on).
   */
  async invoke(arn: string, payload: string, options: InvokeOptions = {}): Promise<InvokeOutput> {
    const fn = this.functions.get(arn);
    if (!fn) {
      throw Object.assign(new Error(`Function not found: ${arn}`), { name: 'ResourceNotFoundException' });
    }
    const quotas = this.options.quotas?.();
    const refused = quotas?.startExecution(fn.arn, fn.reservedConcurrency);
    if (refused) throw new TooManyRequestsError(refused);
    let outcome: RunOutcome;
    try {
      const container = this.acquire(fn);
      const event = JSON.parse(payload) as { RequestId?: string };
      const requestId = typeof event.RequestId === 'string' ? event.RequestId : undefined;
      options.onStart?.(container);
      outcome = await container.run(event, requestId, options.logs ?? []);
      options.onEnd?.(outcome);
      if (options.crashAfterWork !== undefined) throw new InvokeCallError(options.crashAfterWork);
      this.release(fn, container);
    } finally {
      quotas?.endExecution(fn.arn);
    }
    if (outcome.ok) return { StatusCode: 200, Payload: encode(outcome.value), ExecutedVersion: '$LATEST' };
    return {
      StatusCode: 200,
      Payload: encode(errorPayload(outcome.error, options.trace ?? true)),
      FunctionError: 'Unhandled',
      ExecutedVersion: '$LATEST',
    };
  }

  /**
   * Lambda's asynchronous invocation: the function is retried twice when it fails; a throttled try
   * goes back to the queue and is tried again later (not one of the two); `onAttempt` is called
   * before each try that runs the function.
   */
  async invokeAsync(arn: string, payload: string, onAttempt?: () => void): Promise<void> {
    let throttleDelay = ASYNC_THROTTLE_FIRST_DELAY_MS;
    for (let attempt = 0; ; attempt++) {
      let out: InvokeOutput;
      try {
        out = await this.invoke(arn, payload, { onStart: () => onAttempt?.() });
      } catch (e) {
        if (!(e instanceof TooManyRequestsError)) throw e;
        await sleep(this.options.scaled(throttleDelay));
        throttleDelay = Math.min(ASYNC_THROTTLE_MAX_DELAY_MS, throttleDelay * 2);
        attempt--;
        continue;
      }
      if (!out.FunctionError || attempt >= ASYNC_RETRY_DELAYS_MS.length) return;
      await sleep(this.options.scaled(ASYNC_RETRY_DELAYS_MS[attempt]));
    }
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
    const lambdaEnv = this.environmentOf(fn);
    const env = this.options.environment ? this.options.environment(fn, lambdaEnv) : lambdaEnv;
    const container = new Container(fn, env, {
      onLog: (line) => this.options.onLog?.(line),
      externalRequire: (id) => nodeRequire(id) as unknown,
      scaled: this.options.scaled,
    });
    this.options.onColdStart?.(container);
    return container;
  }

  /** The function's environment as Lambda sets it. */
  private environmentOf(fn: FunctionModel): Record<string, string> {
    return {
      AWS_REGION: this.options.region,
      AWS_DEFAULT_REGION: this.options.region,
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
  }
}

/** A function's result as the Invoke payload. */
export function encode(value: unknown): Uint8Array {
  return new Uint8Array(Buffer.from(value === undefined ? '' : JSON.stringify(value), 'utf8'));
}
