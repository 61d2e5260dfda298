/**
 * A stateful, in-process fake of the AWS Service Catalog API for tests: the backend's state and
 * operations (./service-catalog-backend) served over AWS JSON 1.1 on 127.0.0.1, with every call
 * logged, malformed calls recorded as violations, and faults injected on request.
 *
 * The real `@aws-sdk/client-service-catalog` talks to it when
 * `process.env.AWS_ENDPOINT_URL_SERVICE_CATALOG = fake.endpoint` (plus a region and dummy credentials).
 * Only four operations exist: DescribeProvisionedProduct, SearchProvisionedProducts,
 * UpdateProvisionedProductProperties and DescribeRecord.
 */
import { randomUUID } from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApiError, type Json, isObject } from './service-catalog-api';
import { type FakeServiceCatalogOptions, ServiceCatalogBackend } from './service-catalog-backend';

export type { FakeProductInit, FakeProductView, FakeRecordView, FakeServiceCatalogOptions, RecordPlan } from './service-catalog-backend';

/** One HTTP call received by the fake. */
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

/** Faults injected before the operation runs (a faulted write is never applied). */
export interface FaultPlan {
  /** Fraction (0..1) of matching calls that get a fault. */
  share: number;
  /** Fault kinds to choose from (uniformly). */
  kinds: Array<'throttle' | '5xx' | 'drop'>;
  /** PRNG seed for deterministic fault placement; default 1. */
  seed?: number;
  /** Operations eligible for faults; default all. */
  ops?: string[];
}

const TARGET_PREFIX = 'AWS242ServiceCatalogService.';
const CONTENT_TYPE = 'application/x-amz-json-1.1';

type FaultKind = 'throttle' | '5xx' | 'drop';

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

/** Stateful fake Service Catalog server; see ./service-catalog-backend for the time model and deviations. */
export class FakeServiceCatalog extends ServiceCatalogBackend {
  /** Starts a fake listening on 127.0.0.1 on a random port. */
  static async start(options: FakeServiceCatalogOptions = {}): Promise<FakeServiceCatalog> {
    const fake = new FakeServiceCatalog(options);
    await new Promise<void>((resolve, reject) => {
      fake.server.once('error', reject);
      fake.server.listen(0, '127.0.0.1', () => {
        fake.server.off('error', reject);
        resolve();
      });
    });
    const addr = fake.server.address() as AddressInfo;
    fake.url = `http://127.0.0.1:${addr.port}`;
    return fake;
  }

  /** Base URL to put into AWS_ENDPOINT_URL_SERVICE_CATALOG, e.g. 'http://127.0.0.1:12345'. */
  get endpoint(): string {
    return this.url;
  }

  /** Number of faults injected so far, per kind. */
  readonly faultsInjected: Record<FaultKind, number> = { throttle: 0, '5xx': 0, drop: 0 };
  /** Every HTTP call received, in arrival order. */
  readonly calls: FakeCall[] = [];
  /** Descriptions of malformed calls (API-model violations, unknown operations, bad HTTP). */
  readonly violations: string[] = [];

  private readonly server: http.Server;
  private url = '';
  private faults?: FaultPlan;
  private rng: () => number = mulberry32(1);
  private closed = false;

  private constructor(options: FakeServiceCatalogOptions) {
    super(options);
    this.server = http.createServer((req, res) => this.onRequest(req, res));
    this.server.keepAliveTimeout = 1000;
  }

  /** Installs (or with undefined removes) fault injection; resets the PRNG to the plan's seed. */
  setFaults(plan: FaultPlan | undefined): void {
    if (plan) {
      if (!(plan.share >= 0 && plan.share <= 1)) throw new Error(`share must be in [0, 1]`);
      if (plan.kinds.length === 0) throw new Error(`kinds must not be empty`);
    }
    this.faults = plan;
    this.rng = mulberry32(plan?.seed ?? 1);
  }

  /** Calls of one operation, in arrival order. */
  callsOf(op: string): FakeCall[] {
    return this.calls.filter((c) => c.op === op);
  }

  /** Stops the server, drops all connections, freezes unfinished records; leaves no open handles. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.freeze();
    this.closed = true;
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  // ---------------------------------------------------------------- HTTP layer

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
    const at = Date.now();
    const target = String(req.headers['x-amz-target'] ?? '');
    const op = target.startsWith(TARGET_PREFIX) ? target.slice(TARGET_PREFIX.length) : target;
    let input: unknown;
    try {
      input = body.length === 0 ? undefined : JSON.parse(body);
    } catch {
      input = undefined;
    }
    const call: FakeCall = { op, input: isObject(input) ? input : undefined, at, outcome: 'ok' };
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
      return fail(new ApiError('InternalFailure', 'injected internal failure', false, 500));
    }

    if (req.method !== 'POST' || (req.url ?? '') !== '/') {
      return fail(new ApiError('UnknownOperationException', `${req.method} ${req.url}: expected POST /`, true));
    }
    if (!target.startsWith(TARGET_PREFIX)) {
      return fail(new ApiError('UnknownOperationException', `bad x-amz-target ${JSON.stringify(target)}`, true));
    }
    const contentType = String(req.headers['content-type'] ?? '');
    if (!contentType.startsWith(CONTENT_TYPE)) {
      return fail(new ApiError('SerializationException', `content-type ${JSON.stringify(contentType)}`, true));
    }
    if (!String(req.headers.authorization ?? '').startsWith('AWS4-HMAC-SHA256 ')) {
      return fail(new ApiError('MissingAuthenticationTokenException', 'request is not SigV4-signed', true));
    }
    const handler = this.operations[op];
    if (!handler) {
      return fail(new ApiError('UnknownOperationException', `unknown operation ${JSON.stringify(op)}`, true));
    }
    if (!isObject(input)) {
      return fail(new ApiError('SerializationException', 'body is not a JSON object', true));
    }
    try {
      const out = handler(input);
      this.send(res, 200, out);
    } catch (e) {
      if (e instanceof ApiError) return fail(e);
      throw e;
    }
  }

  private pickFault(op: string): FaultKind | undefined {
    const plan = this.faults;
    if (!plan || plan.share <= 0) return undefined;
    if (plan.ops && !plan.ops.includes(op)) return undefined;
    if (this.rng() >= plan.share) return undefined;
    return plan.kinds[Math.floor(this.rng() * plan.kinds.length)];
  }

  private send(res: http.ServerResponse, status: number, payload: unknown): void {
    const text = JSON.stringify(payload);
    res.writeHead(status, {
      'content-type': CONTENT_TYPE,
      'content-length': Buffer.byteLength(text),
      'x-amzn-requestid': randomUUID(),
    });
    res.end(text);
  }
}
