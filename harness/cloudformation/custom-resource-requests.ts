/**
 * How CloudFormation sends one request to a custom resource and receives its response: the event
 * with a RequestId and a pre-signed ResponseURL, the asynchronous invocation of the ServiceToken
 * function (and, when asked, redeliveries of the same event), the wait of up to an hour for the
 * response, and the response PUT to the URL, checked against it. What the provider did for the
 * request meanwhile (user handler invocations, waiter attempts) is counted with it.
 *
 * A copy of an event can also be held back and delivered late, when CloudFormation has long
 * stopped waiting for it: right around the resource's next request, or after a Delete of the
 * resource (see {@link Redelivery}). Such a copy is the original payload (same RequestId, same
 * ResponseURL); its responses land in `lateResponses`, and {@link CustomResourceRequests.settle}
 * delivers whatever is still held before it waits for the provider.
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
  /** When CloudFormation sent the request (epoch ms), before any delivery. */
  readonly sentAt: number;
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
  /**
   * Whether the provider was still working on the request when the compressed hour ran out, so
   * the driver waited on for its answer (see {@link CustomResourceRequests.send}).
   */
  readonly pastCompressedHour: boolean;
}

/** When an extra copy of a CloudFormation event reaches the framework's onEvent; see {@link Redelivery.when}. */
export type RedeliveryMoment = 'after-start' | 'after-response' | 'after-next-request' | 'after-stack-delete';

/** Extra deliveries of one CloudFormation event, as when Lambda retries the framework's async invocation. */
export interface Redelivery {
  /** How many extra deliveries (default 1). */
  readonly times?: number;
  /**
   * 'after-start' (default): as soon as the framework's onEvent has returned (the first waiter still runs);
   * 'after-response': after CloudFormation received the first response.
   *
   * The late moments hold the copies back until CloudFormation has stopped waiting for the request
   * (every execution it started has finished), so that every response they cause is late:
   * 'after-next-request': when the resource's next request is sent (any request of the same
   * LogicalResourceId, follow-ups and hand-sent ones included), just after or just before that
   * request's first delivery (see {@link nextRequest});
   * 'after-stack-delete': when a later Delete of the resource has been answered SUCCESS (the
   * resource, or the physical resource, is gone), right after that answer arrived.
   * A copy whose moment never comes is delivered by {@link CustomResourceRequests.settle}.
   */
  readonly when?: RedeliveryMoment;
  /**
   * 'after-next-request' only: 'after-its-first-delivery' (default) delivers the held copies once
   * the next request's first delivery has been made (its onEvent has returned, its waiter runs);
   * 'before-its-first-delivery' delivers them after CloudFormation sent the next request but before
   * that request reaches the provider.
   */
  readonly nextRequest?: 'after-its-first-delivery' | 'before-its-first-delivery';
  /** Further delay before each extra delivery, in real-world ms (scaled by timeScale; Lambda's first async retry comes after about 60 000). Default 0. */
  readonly afterMs?: number;
  /**
   * 'always' (default): deliver again whatever happened. 'waiter-started': only when the framework's
   * onEvent had started the waiter, i.e. model the framework Lambda crashing after startExecution
   * (Lambda retries only an invocation that failed; one that answered FAILED itself returned normally).
   */
  readonly condition?: 'always' | 'waiter-started';
}

/** A copy of an event delivered after CloudFormation had stopped waiting for its request. */
export interface LateCopy {
  readonly requestId: string;
  readonly requestType: 'Create' | 'Update' | 'Delete';
  readonly when: 'after-next-request' | 'after-stack-delete';
  /** What let it go: the RequestId of the request that released it, or 'settle' when its moment never came. */
  readonly releasedBy: string;
  /** When it was handed to the provider (epoch ms). */
  readonly deliveredAt: number;
}

/** Copies held back for a late moment. */
interface HeldCopy {
  readonly view: CfnRequestView;
  readonly payload: string;
  readonly redeliver: Redelivery;
  readonly when: LateCopy['when'];
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
  /** Every copy delivered at a late moment, in delivery order. */
  readonly lateCopies: LateCopy[] = [];
  private readonly pending = new Map<string, PendingRequest>();
  /** Copies waiting for their moment, in the order their requests were sent. */
  private held: HeldCopy[] = [];
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
    const lateMoment = redeliver?.when === 'after-next-request' || redeliver?.when === 'after-stack-delete' ? redeliver.when : undefined;

    // The resource's next request: copies held for it arrive just before or just after its first delivery.
    const next = this.take(
      (h) => h.when === 'after-next-request' && h.view.LogicalResourceId === view.LogicalResourceId && h.view.RequestId !== requestId,
    );
    await this.release(
      next.filter((h) => h.redeliver.nextRequest === 'before-its-first-delivery'),
      requestId,
    );
    await this.options.deliver(payload, () => pending.deliveries++);
    await this.release(
      next.filter((h) => h.redeliver.nextRequest !== 'before-its-first-delivery'),
      requestId,
    );

    const deliveries = 1 + (redeliver && !lateMoment ? (redeliver.times ?? 1) : 0);
    for (let i = 1; i < deliveries; i++) {
      if (redeliver?.when === 'after-response') {
        await Promise.race([pending.firstResponse, this.options.settle()]);
      }
      if (redeliver?.condition === 'waiter-started' && pending.executions === 0) break;
      if (redeliver?.afterMs) await sleep(this.options.scaled(redeliver.afterMs));
      await this.options.deliver(payload, () => pending.deliveries++);
    }

    // A Delete of the resource answered SUCCESS lets the copies held for it go, right after the answer.
    const heldForDelete = (h: HeldCopy): boolean =>
      h.when === 'after-stack-delete' && h.view.LogicalResourceId === view.LogicalResourceId && h.view.RequestId !== requestId;
    if (view.RequestType === 'Delete' && this.held.some(heldForDelete)) {
      await Promise.race([pending.firstResponse, this.options.settle()]);
      if (pending.responses[0]?.Status === 'SUCCESS') await this.release(this.take(heldForDelete), requestId);
    }

    const timeout = this.options.scaled(CFN_RESPONSE_TIMEOUT_MS);
    let timer: NodeJS.Timeout | undefined;
    const settled = this.options.settle().then(() => true);
    const inTime = await Promise.race([
      settled,
      new Promise<boolean>((r) => {
        timer = setTimeout(() => r(false), timeout);
      }),
    ]);
    clearTimeout(timer);
    // The provider framework always answers within CloudFormation's hour: its waiter gives up after
    // totalTimeout, and an event too old to finish by then never starts (maxEventAge). Only the
    // harness's compression can make it overrun (the SDK's retry backoff is real time, the hour is
    // scaled): then CloudFormation waits on for the answer, as it would have had it in time, rather
    // than give up on a request whose provider is still running, which it never does.
    const pastCompressedHour = !inTime && pending.responses.length === 0;
    if (pastCompressedHour) await Promise.race([pending.firstResponse, settled]);
    const settledMs = Date.now() - started;
    this.pending.delete(requestId);
    // No response within the hour: CloudFormation fails the request.
    if (pending.responses.length === 0) this.answered(view, 'FAILED');
    // CloudFormation no longer waits for this request: from now on every copy of it is late.
    if (redeliver && lateMoment && !(redeliver.condition === 'waiter-started' && pending.executions === 0)) {
      this.held.push({ view, payload, redeliver, when: lateMoment });
    }

    const first = pending.responses[0];
    const result: EventResult = {
      request: view,
      RequestType: view.RequestType,
      RequestId: requestId,
      Status: first?.Status ?? 'FAILED',
      Reason: first?.Reason ?? 'Failed to receive a response from the custom resource (CloudFormation gives up after 1 hour)',
      PhysicalResourceId: first?.PhysicalResourceId ?? view.PhysicalResourceId ?? '',
      ...(first?.Data ? { Data: first.Data } : {}),
      sentAt: started,
      responseMs: first ? first.at - started : settledMs,
      settledMs,
      responses: pending.responses,
      invocations: pending.invocations,
      waiterAttempts: pending.waiterAttempts,
      timedOut: pending.timedOut,
      deliveries: pending.deliveries,
      pastCompressedHour,
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

  /**
   * Delivers every copy still held (their moment never came: no next request, no Delete answered
   * SUCCESS), then waits until everything the provider started has finished, theirs included.
   */
  async settle(): Promise<void> {
    while (this.held.length > 0)
      await this.release(
        this.take(() => true),
        'settle',
      );
    await this.options.settle();
  }

  /** Copies still held back for a late moment. */
  get heldCopies(): number {
    return this.held.reduce((n, h) => n + (h.redeliver.times ?? 1), 0);
  }

  /** Removes and returns the held copies that `match`, in the order they were held. */
  private take(match: (h: HeldCopy) => boolean): HeldCopy[] {
    const taken = this.held.filter(match);
    this.held = this.held.filter((h) => !match(h));
    return taken;
  }

  /** Delivers held copies one after another (each `times`, each after its `afterMs`), as a late async invocation. */
  private async release(copies: readonly HeldCopy[], releasedBy: string): Promise<void> {
    for (const copy of copies) {
      for (let i = 0; i < (copy.redeliver.times ?? 1); i++) {
        if (copy.redeliver.afterMs) await sleep(this.options.scaled(copy.redeliver.afterMs));
        this.lateCopies.push({
          requestId: copy.view.RequestId,
          requestType: copy.view.RequestType,
          when: copy.when,
          releasedBy,
          deliveredAt: Date.now(),
        });
        // Its attempts count nowhere: CloudFormation's result for the request is final already.
        await this.options.deliver(copy.payload, () => undefined);
      }
    }
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
