/**
 * Runs a custom resource's provider on the emulated Lambda and Step Functions: the real provider
 * framework runtime shipped in aws-cdk-lib (`custom-resources/lib/provider-framework/runtime/`), a
 * fresh copy per Lambda container, with its `outbound` exports replaced: `invokeFunction` runs a
 * user function in-process as Lambda would (including the real outbound's one retry of a failed
 * invoke call), `startExecution` starts the waiter, and `httpRequest` hands the response to
 * CloudFormation. It records the user handlers' invocations and injects crashes of their invoke calls.
 *
 * The handler's own timing is compressed through its environment by the time scale
 * (FAST_PATH_WINDOW_MS, POLL_INTERVAL_MS, ... from the function's Environment.Variables, and
 * SEARCH_DELAY_MS, whose 1 s default the handler has in code). The AWS SDK's own retry backoff
 * stays real time.
 */
import type { FunctionModel, StackModel, WaiterModel } from '../template/assembly';
import { type Container, type LogLine, errorPayload } from './lambda-container';
import { type InvokeOutput, InvokeCallError, LambdaService } from './lambda-service';
import { StepFunctionsWaiter } from './waiter';
import { withSdkRetries } from './sdk-retries';
import type { AccountQuotas } from '../fakes/quota';
import { HANDLER_TIMING } from '../../lib/contract';

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

/** Something that happened for one CloudFormation request (reported with its RequestId). */
export type RequestActivity =
  | { readonly kind: 'invocation'; readonly invocation: UserInvocation }
  | { readonly kind: 'execution-started' | 'waiter-attempt' | 'waiter-timed-out' };

/** Options of {@link ProviderFramework}. */
export interface ProviderFrameworkOptions {
  /** Endpoint of the (fake) Service Catalog, put into AWS_ENDPOINT_URL_SERVICE_CATALOG of the user functions. */
  readonly endpoint: string;
  /** Extra environment for the user functions, over the template's (e.g. POWERTOOLS_LOG_LEVEL), read at each cold start. */
  readonly env?: Record<string, string>;
  /** A real-world duration in the harness's compressed time. */
  readonly scaled: (ms: number) => number;
  /** Every log line of every function, as it is written. */
  readonly onLog?: (line: LogLine) => void;
  /** What happened for a request, by the RequestId of the event. */
  readonly onActivity?: (requestId: string, activity: RequestActivity) => void;
  /** The framework's PUT of a response to the ResponseURL (outbound.httpRequest). */
  readonly onResponse: (options: { path?: string; method?: string }, body: string) => Promise<void>;
}

interface CrashState extends CrashPlan {
  seen: number;
  crashed: number;
}

/**
 * The physical id the real framework reports for a Create that failed in onEvent (it answers the
 * following Delete itself, so the handler never sees it): what a test of that rollback expects.
 */
export const CREATE_FAILED_MARKER = 'AWSCDK::CustomResourceProviderFramework::CREATE_FAILED';

/** The framework function names the template's provider functions use. */
const FRAMEWORK_ENV = {
  onEvent: 'USER_ON_EVENT_FUNCTION_ARN',
  isComplete: 'USER_IS_COMPLETE_FUNCTION_ARN',
  waiter: 'WAITER_STATE_MACHINE_ARN',
} as const;

/** The handler's durations (lib/contract.ts), compressed in the user functions' environment: the template's value, else the handler's default. */
const TIMED = Object.values(HANDLER_TIMING).filter((t) => t.env.endsWith('_MS') && t.env !== HANDLER_TIMING.writeLeaseMs.env);
// Not the write lease: it bounds a write call, whose SDK-side timing (connection, retries) is real
// time here as on AWS; compressed, it would lapse while a call is still on its way, which on AWS it
// cannot (lambda/service-catalog.ts bounds the call to a third of it). It is always given back when
// the call returns, so its length costs the tests nothing.

/** The provider of one custom resource (its ServiceToken function), running on the emulated services. */
export class ProviderFramework {
  /** Every captured log line, of every function. */
  readonly logs: LogLine[] = [];
  /** Every user handler invocation. */
  readonly invocations: UserInvocation[] = [];
  readonly lambda: LambdaService;
  readonly waiter: StepFunctionsWaiter;
  private readonly inflight = new Set<Promise<unknown>>();
  private readonly crashes: CrashState[] = [];
  private quotas?: AccountQuotas;

  constructor(
    private readonly model: StackModel,
    private readonly serviceToken: string,
    private readonly options: ProviderFrameworkOptions,
  ) {
    this.lambda = new LambdaService(model.functions, {
      region: model.region,
      scaled: options.scaled,
      environment: (fn, env) => this.environmentOf(fn, env),
      onColdStart: (container) => {
        if (isFramework(container.fn)) this.patchOutbound(container);
      },
      onLog: (line) => {
        this.logs.push(line);
        options.onLog?.(line);
      },
      quotas: () => this.quotas,
    });
    const report = (input: string, kind: 'execution-started' | 'waiter-attempt' | 'waiter-timed-out'): void => {
      const requestId = (JSON.parse(input) as { RequestId?: string }).RequestId;
      if (requestId) options.onActivity?.(requestId, { kind });
    };
    this.waiter = new StepFunctionsWaiter(model.stateMachines, {
      invoke: (arn, payload) => this.invoke(arn, payload),
      scaled: options.scaled,
      onStart: (execution) => report(execution.input, 'execution-started'),
      onAttempt: (execution) => report(execution.input, 'waiter-attempt'),
      onTimeout: (execution) => report(execution.input, 'waiter-timed-out'),
      quotas: () => this.quotas,
    });
  }

  /**
   * Keeps the account's quotas (or with undefined stops): Lambda's concurrency on every function,
   * Step Functions' StartExecution and state transitions. Drivers of one stack share one account's.
   */
  useQuotas(quotas: AccountQuotas | undefined): void {
    this.quotas = quotas;
  }

  /** The user functions (from the framework's environment). */
  get userFunctions(): { onEvent: FunctionModel; isComplete: FunctionModel; waiter: WaiterModel } {
    const framework = this.model.functions.get(this.serviceToken) as FunctionModel;
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

  /** CloudFormation's asynchronous invocation of the ServiceToken function; `onAttempt` counts Lambda's tries. */
  deliver(payload: string, onAttempt: () => void): Promise<void> {
    const delivery = this.lambda.invokeAsync(this.serviceToken, payload, onAttempt);
    this.inflight.add(delivery);
    void delivery.finally(() => this.inflight.delete(delivery)).catch(() => undefined);
    return delivery;
  }

  /** Waits until every delivery and every waiter execution has finished. */
  async settle(): Promise<void> {
    while (this.inflight.size > 0 || this.waiter.busy) await Promise.allSettled([...this.inflight, this.waiter.settle()]);
  }

  /** The function's environment: a user function's gets the endpoint, the compressed durations and the extra environment. */
  private environmentOf(fn: FunctionModel, env: Record<string, string>): Record<string, string> {
    if (isFramework(fn)) return env;
    env.AWS_ENDPOINT_URL_SERVICE_CATALOG = this.options.endpoint;
    for (const { env: name, default: fallback } of TIMED) {
      const value = Number(fn.environment[name] ?? fallback);
      // 0 means "not known" (totalTimeout outside the construct): not a duration to compress.
      if (Number.isFinite(value) && value > 0) env[name] = String(this.options.scaled(value));
    }
    return { ...env, ...this.options.env };
  }

  /** Replaces the framework container's outbound calls: invoke the user functions, run the waiter, hand over the response. */
  private patchOutbound(container: Container): void {
    const outbound = container.load('outbound.js');
    outbound.invokeFunction = (req: { FunctionName: string; Payload: string }) => this.frameworkInvoke(req);
    // The real outbound's SFN client retries a throttled StartExecution as the SDK does.
    outbound.startExecution = (req: { stateMachineArn: string; input: string }) => withSdkRetries(() => this.waiter.startExecution(req));
    outbound.httpRequest = (options: { path?: string; method?: string }, body: string) => this.options.onResponse(options, body);
  }

  /**
   * outbound.invokeFunction: Lambda Invoke with the real outbound's single retry of a failed call;
   * each of the two is the Lambda client's call, which retries a throttled answer as the SDK does.
   */
  private async frameworkInvoke(req: { FunctionName: string; Payload: string }): Promise<InvokeOutput> {
    const fns = this.userFunctions;
    const userFn: UserFunction | undefined =
      req.FunctionName === fns.onEvent.arn ? 'onEvent' : req.FunctionName === fns.isComplete.arn ? 'isComplete' : undefined;
    const attempt = async (): Promise<InvokeOutput> => {
      const event = JSON.parse(req.Payload) as { RequestType?: string; RequestId?: string };
      const crash = userFn ? this.takeCrash(userFn, String(event.RequestType)) : undefined;
      if (crash?.when === 'before-work') {
        this.record(String(event.RequestId), {
          fn: userFn as UserFunction,
          requestId: String(event.RequestId),
          requestType: String(event.RequestType),
          startedAt: Date.now(),
          durationMs: 0,
          outcome: 'crashed-before-work',
          coldStart: false,
          logs: [],
        });
        throw new InvokeCallError(`Injected failure of the invoke call before ${userFn} ran`);
      }
      return withSdkRetries(() => this.invoke(req.FunctionName, req.Payload, userFn, crash));
    };
    try {
      return await attempt();
    } catch {
      // The real outbound waits until the function is active, then invokes once more.
      return attempt();
    }
  }

  /** Lambda Invoke of any function of the stack; an invocation of a user handler is recorded. */
  private invoke(arn: string, payload: string, userFn?: UserFunction, crash?: CrashState): Promise<InvokeOutput> {
    if (!userFn) return this.lambda.invoke(arn, payload, { trace: false });
    const event = JSON.parse(payload) as { RequestId?: string; RequestType?: string };
    const requestId = typeof event.RequestId === 'string' ? event.RequestId : undefined;
    const logs: LogLine[] = [];
    let invocation!: UserInvocation;
    return this.lambda.invoke(arn, payload, {
      logs,
      onStart: (container) => {
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
        this.record(requestId, invocation);
      },
      onEnd: (outcome) => {
        invocation.durationMs = Date.now() - invocation.startedAt;
        if (outcome.ok) invocation.result = outcome.value;
        else {
          invocation.outcome = 'error';
          const { errorType, errorMessage } = errorPayload(outcome.error, false);
          invocation.error = { errorType, errorMessage };
        }
        // The function did its work; the invoke call fails and the execution environment is gone.
        if (crash) invocation.outcome = 'crashed-after-work';
      },
      crashAfterWork: crash
        ? `Injected crash of ${this.model.functions.get(arn)?.logicalId} after its work (request ${requestId}): the invoke call failed`
        : undefined,
    });
  }

  private record(requestId: string | undefined, invocation: UserInvocation): void {
    this.invocations.push(invocation);
    if (requestId) this.options.onActivity?.(requestId, { kind: 'invocation', invocation });
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
}

function isFramework(fn: FunctionModel): boolean {
  return fn.handler.startsWith('framework.');
}
