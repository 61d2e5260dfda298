/**
 * How CloudFormation sends one request to a custom resource and receives its response: the event
 * with a RequestId and a pre-signed ResponseURL, the asynchronous invocation of the ServiceToken
 * function (and, when asked, redeliveries of the same event), the wait of up to an hour for the
 * response, and the response PUT to the URL, checked against it. What the provider did for the
 * request meanwhile (user handler invocations, waiter attempts) is counted with it.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { CustomResourceModel, Properties, StackModel } from '../template/assembly';
import type { LogLine } from '../runtimes/lambda-container';
import type { RequestActivity, UserInvocation } from '../runtimes/provider-framework';

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

/** A request to send: the RequestId is fresh unless given (to send the same request again). */
export type CfnRequest = Omit<CfnRequestView, 'RequestId'> & { RequestId?: string };

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

/** CloudFormation waits this long for a custom resource's response. */
const CFN_RESPONSE_TIMEOUT_MS = 3_600_000;

/** Why CloudFormation sends a request: the step's own event, or one it sends because of another. */
export type RequestPhase = 'event' | 'rollback' | 'cleanup';

/** What {@link CustomResourceRequests} needs from outside, and what it reports. */
export interface CustomResourceRequestsOptions {
  /** A real-world duration in the harness's compressed time. */
  readonly scaled: (ms: number) => number;
  /** CloudFormation's asynchronous invocation of the ServiceToken function; `onAttempt` counts Lambda's tries. */
  readonly deliver: (payload: string, onAttempt: () => void) => Promise<void>;
  /** Waits until everything the provider started has finished. */
  readonly settle: () => Promise<void>;
  /** Called before every request is sent. */
  readonly onRequest?: (request: CfnRequestView, phase: RequestPhase) => void;
  /** Called with what CloudFormation saw for every request. */
  readonly onResult?: (result: EventResult) => void;
  /** The stack's id in the events (default: the model's); a driver gives each stack it plays one of its own, as CloudFormation does. */
  readonly stackId?: string;
}

/** CloudFormation's requests to one custom resource, and the responses it receives. */
export class CustomResourceRequests {
  /** Responses that arrived after CloudFormation had stopped waiting for their request. */
  readonly lateResponses: CfnResponse[] = [];
  private readonly pending = new Map<string, PendingRequest>();
  private readonly secrets: string[] = [];
  /** CloudFormation's status of the resource, as DescribeStackResource reports it (undefined: the stack has no such resource). */
  private status?: string;

  constructor(
    private readonly model: StackModel,
    private readonly resource: CustomResourceModel,
    private readonly options: CustomResourceRequestsOptions,
  ) {}

  /**
   * Sends one request as CloudFormation does (an async invocation of the ServiceToken function)
   * and waits until every execution it started has finished (or CloudFormation's hour is up).
   */
  async send(request: CfnRequest, redeliver?: Redelivery, phase: RequestPhase = 'event'): Promise<EventResult> {
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
      StackId: this.stackId,
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
    this.status = `${view.RequestType.toUpperCase()}_IN_PROGRESS`;
    this.options.onRequest?.(view, phase);
    const started = Date.now();
    const payload = JSON.stringify(event);

    const deliveries = 1 + (redeliver ? (redeliver.times ?? 1) : 0);
    for (let i = 0; i < deliveries; i++) {
      if (i > 0 && redeliver?.when === 'after-response') {
        await Promise.race([pending.firstResponse, this.options.settle()]);
      }
      if (i > 0 && redeliver?.condition === 'waiter-started' && pending.executions === 0) break;
      if (i > 0 && redeliver?.afterMs) await sleep(this.options.scaled(redeliver.afterMs));
      await this.options.deliver(payload, () => pending.deliveries++);
    }
    const timeout = this.options.scaled(CFN_RESPONSE_TIMEOUT_MS);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.options.settle(),
      new Promise<void>((r) => {
        timer = setTimeout(r, timeout);
      }),
    ]);
    clearTimeout(timer);
    const settledMs = Date.now() - started;
    this.pending.delete(requestId);
    // No response within the hour: CloudFormation fails the request.
    if (pending.responses.length === 0) this.answered(view, 'FAILED');

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
    this.options.onResult?.(result);
    return result;
  }

  /** The stack id the events carry. */
  get stackId(): string {
    return this.options.stackId ?? this.model.stackId;
  }

  /**
   * CloudFormation's status of the resource: `<TYPE>_IN_PROGRESS` from the moment a request is
   * sent until its first response, then `<TYPE>_COMPLETE` or `<TYPE>_FAILED` (a failed Create is
   * CREATE_FAILED until its rollback Delete is sent), and none once a Delete succeeded.
   */
  get resourceStatus(): string | undefined {
    return this.status;
  }

  /** What the provider did for a request CloudFormation is waiting on. */
  count(requestId: string, activity: RequestActivity): void {
    const pending = this.pending.get(requestId);
    if (!pending) return;
    if (activity.kind === 'invocation') pending.invocations.push(activity.invocation);
    else if (activity.kind === 'execution-started') pending.executions++;
    else if (activity.kind === 'waiter-attempt') pending.waiterAttempts++;
    else pending.timedOut = true;
  }

  /** outbound.httpRequest: the PUT of the response to the pre-signed URL, as CloudFormation receives it. */
  receive(options: { path?: string; method?: string }, body: string): Promise<void> {
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
    if (pending.responses.length === 1) {
      this.answered(pending.view, response.Status);
      pending.resolveFirst();
    }
    return Promise.resolve();
  }

  /** The resource's status once CloudFormation took the answer to `view`. */
  private answered(view: CfnRequestView, status: 'SUCCESS' | 'FAILED'): void {
    if (view.RequestType === 'Delete' && status === 'SUCCESS') this.status = undefined;
    else this.status = `${view.RequestType.toUpperCase()}_${status === 'SUCCESS' ? 'COMPLETE' : 'FAILED'}`;
  }

  /** Log lines that contain a ResponseURL signature. */
  leaks(logs: readonly LogLine[]): LogLine[] {
    return logs.filter((l) => this.secrets.some((s) => l.text.includes(s)));
  }

  /** `text` with every ResponseURL signature replaced. */
  redact(text: string): string {
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
