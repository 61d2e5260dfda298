/**
 * An AWS JSON protocol server on 127.0.0.1 for the fakes: dispatch by x-amz-target, a call log, violations for malformed calls, injected faults.
 */
import { randomUUID } from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

/** A JSON object, as the operations take and return it. */
export type Json = Record<string, unknown>;

/** An API error to send back; `violation` marks a request that is malformed per the API model (a client bug). */
export class ApiError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly violation = false,
    readonly status = 400,
  ) {
    super(message);
  }
}

/** Whether `v` is a JSON object (not null, not an array). */
export function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** One HTTP call received. */
export interface FakeCall {
  /** Operation name (the part after the target prefix), or the raw target / '' when unparseable. */
  op: string;
  /** Parsed JSON object body (undefined when it was not a JSON object). */
  input: Json | undefined;
  /** `Date.now()` at arrival. */
  at: number;
  /** 'ok', the error name sent back, or 'ConnectionDropped' for a 'drop' fault. */
  outcome: string;
}

/**
 * The kinds of fault a fake can inject: 'throttle' (400 ThrottlingException), '5xx' (500
 * InternalFailure) and 'drop' (the connection closed unanswered) say "not now" and the SDK retries
 * them; 'denied' (400 AccessDeniedException) says "no": a permission the caller lacks, never retried.
 */
export type FaultKind = 'throttle' | '5xx' | 'drop' | 'denied';

/** Faults injected before the operation runs (a faulted write is never applied). */
export interface FaultPlan {
  /** Fraction (0..1) of matching calls that get a fault. */
  share: number;
  /** Fault kinds to choose from (uniformly). */
  kinds: FaultKind[];
  /** PRNG seed for deterministic fault placement; default 1. */
  seed?: number;
  /** Operations eligible for faults; default all. */
  ops?: string[];
  /** At most this many faults, then none (a burst the SDK's retries absorb, say); default unlimited. */
  count?: number;
}

/** The protocol of one service: its target prefix (`AWS242ServiceCatalogService.`) and JSON version's content type. */
export interface AwsJsonProtocol {
  readonly targetPrefix: string;
  readonly contentType: 'application/x-amz-json-1.0' | 'application/x-amz-json-1.1';
}

/** The operations a fake serves: input object in, output object out, or an {@link ApiError} thrown. */
export type Operations = Readonly<Record<string, (input: Json) => unknown>>;

/** mulberry32: a tiny deterministic PRNG returning floats in [0, 1). */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The HTTP side of a fake AWS service. */
export class AwsJsonServer {
  /** Starts a server listening on 127.0.0.1 on a random port. */
  static async start(protocol: AwsJsonProtocol, operations: Operations): Promise<AwsJsonServer> {
    const server = new AwsJsonServer(protocol, operations);
    await new Promise<void>((resolve, reject) => {
      server.http.once('error', reject);
      server.http.listen(0, '127.0.0.1', () => {
        server.http.off('error', reject);
        resolve();
      });
    });
    server.endpoint = `http://127.0.0.1:${(server.http.address() as AddressInfo).port}`;
    return server;
  }

  /** Base URL for the SDK's AWS_ENDPOINT_URL_<SERVICE>, e.g. 'http://127.0.0.1:12345'. */
  endpoint = '';
  /** Number of faults injected so far, per kind. */
  readonly faultsInjected: Record<FaultKind, number> = { throttle: 0, '5xx': 0, drop: 0, denied: 0 };
  /** Every HTTP call received, in arrival order. */
  readonly calls: FakeCall[] = [];
  /** Descriptions of malformed calls (API-model violations, unknown operations, bad HTTP). */
  readonly violations: string[] = [];

  private readonly http: http.Server;
  private faults?: FaultPlan;
  private readonly latency = new Map<string, number>();
  /** Answers held back by a latency, cleared at close so that nothing outlives the server. */
  private readonly lateAnswers = new Set<NodeJS.Timeout>();
  private rng: () => number = mulberry32(1);
  private faultsSincePlan = 0;
  private closed = false;
  private quota?: (op: string) => boolean;

  private constructor(
    private readonly protocol: AwsJsonProtocol,
    private readonly operations: Operations,
  ) {
    this.http = http.createServer((req, res) => this.onRequest(req, res));
    this.http.keepAliveTimeout = 1000;
  }

  /** Installs (or with undefined removes) fault injection; resets the PRNG to the plan's seed. */
  setFaults(plan: FaultPlan | undefined): void {
    if (plan) {
      if (!(plan.share >= 0 && plan.share <= 1)) throw new Error(`share must be in [0, 1]`);
      if (plan.kinds.length === 0) throw new Error(`kinds must not be empty`);
    }
    this.faults = plan;
    this.faultsSincePlan = 0;
    this.rng = mulberry32(plan?.seed ?? 1);
  }

  /**
   * Installs (or with undefined removes) a quota: `admit(op)` is asked before each well-formed call
   * runs, and a call it refuses is answered as the service answers a call over its rate, 400
   * ThrottlingException "Rate exceeded", without running.
   */
  setQuota(admit: ((op: string) => boolean) | undefined): void {
    this.quota = admit;
  }

  /** Makes `op` answer `ms` after it ran (0: at once), as a slow or distant service would. */
  setLatency(op: string, ms: number): void {
    if (!(ms >= 0)) throw new Error(`latency must be a non-negative number of milliseconds`);
    this.latency.set(op, ms);
  }

  /** Calls of one operation, in arrival order. */
  callsOf(op: string): FakeCall[] {
    return this.calls.filter((c) => c.op === op);
  }

  /** Stops the server and drops all connections; leaves no open handles. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.lateAnswers) clearTimeout(t);
    this.lateAnswers.clear();
    await new Promise<void>((resolve) => {
      this.http.close(() => resolve());
      this.http.closeAllConnections();
    });
  }

  private onRequest(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('error', () => undefined);
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      try {
        this.handle(req, res, body);
      } catch (e) {
        this.violations.push(`fake internal error: ${(e as Error).stack ?? String(e)}`);
        this.send(res, 500, { __type: 'InternalFailure', message: String(e) });
      }
    });
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse, body: string): void {
    const { targetPrefix, contentType: expectedType } = this.protocol;
    const target = String(req.headers['x-amz-target'] ?? '');
    const op = target.startsWith(targetPrefix) ? target.slice(targetPrefix.length) : target;
    let input: unknown;
    try {
      input = body.length === 0 ? undefined : JSON.parse(body);
    } catch {
      input = undefined;
    }
    const call: FakeCall = { op, input: isObject(input) ? input : undefined, at: Date.now(), outcome: 'ok' };
    this.calls.push(call);

    const fail = (err: ApiError): void => {
      if (err.violation) this.violations.push(`${op || '<no target>'}: ${err.message}`);
      call.outcome = err.type;
      this.send(res, err.status, { __type: err.type, message: err.message });
    };

    // Faults come first: the operation must not run at all.
    const fault = this.pickFault(op);
    if (fault) {
      this.faultsInjected[fault]++;
      if (fault === 'drop') {
        call.outcome = 'ConnectionDropped';
        req.socket.destroy();
        return;
      }
      if (fault === 'throttle') return fail(new ApiError('ThrottlingException', 'Rate exceeded'));
      if (fault === 'denied') {
        return fail(new ApiError('AccessDeniedException', `injected: the caller is not authorized to perform ${op || 'this operation'}`));
      }
      return fail(new ApiError('InternalFailure', 'injected internal failure', false, 500));
    }

    if (req.method !== 'POST' || (req.url ?? '') !== '/') {
      return fail(new ApiError('UnknownOperationException', `${req.method} ${req.url}: expected POST /`, true));
    }
    if (!target.startsWith(targetPrefix)) {
      return fail(new ApiError('UnknownOperationException', `bad x-amz-target ${JSON.stringify(target)}`, true));
    }
    const contentType = String(req.headers['content-type'] ?? '');
    if (!contentType.startsWith(expectedType)) {
      return fail(new ApiError('SerializationException', `content-type ${JSON.stringify(contentType)}`, true));
    }
    if (!String(req.headers.authorization ?? '').startsWith('AWS4-HMAC-SHA256 ')) {
      return fail(new ApiError('MissingAuthenticationTokenException', 'request is not SigV4-signed', true));
    }
    const handler = Object.prototype.hasOwnProperty.call(this.operations, op) ? this.operations[op] : undefined;
    if (!handler) {
      return fail(new ApiError('UnknownOperationException', `unknown operation ${JSON.stringify(op)}`, true));
    }
    if (!isObject(input)) {
      return fail(new ApiError('SerializationException', 'body is not a JSON object', true));
    }
    if (this.quota && !this.quota(op)) return fail(new ApiError('ThrottlingException', 'Rate exceeded'));
    try {
      const output = handler(input);
      const delay = this.latency.get(op) ?? 0;
      if (delay > 0) {
        const answer = setTimeout(() => {
          this.lateAnswers.delete(answer);
          // The caller may have given up on it (and closed its socket) meanwhile.
          if (!this.closed && !res.destroyed) this.send(res, 200, output);
        }, delay);
        this.lateAnswers.add(answer);
      } else this.send(res, 200, output);
    } catch (e) {
      if (e instanceof ApiError) return fail(e);
      throw e;
    }
  }

  private pickFault(op: string): FaultKind | undefined {
    const plan = this.faults;
    if (!plan || plan.share <= 0) return undefined;
    if (plan.ops && !plan.ops.includes(op)) return undefined;
    if (plan.count !== undefined && this.faultsSincePlan >= plan.count) return undefined;
    if (this.rng() >= plan.share) return undefined;
    this.faultsSincePlan++;
    return plan.kinds[Math.floor(this.rng() * plan.kinds.length)];
  }

  private send(res: http.ServerResponse, status: number, payload: unknown): void {
    const text = JSON.stringify(payload);
    res.writeHead(status, {
      'content-type': this.protocol.contentType,
      'content-length': Buffer.byteLength(text),
      'x-amzn-requestid': randomUUID(),
    });
    res.end(text);
  }
}
