/**
 * The in-memory Service Catalog behind the fake: provisioned products, their records, and the four
 * operations (DescribeProvisionedProduct, SearchProvisionedProducts,
 * UpdateProvisionedProductProperties, DescribeRecord) with the API model's validation.
 *
 * Time model: nothing runs on timers. Every status (record and product) is a pure function of
 * "now" and the timestamps stored when the state was created; record results are applied to the
 * product lazily ("settled") on the first observation after the record's end time, which is
 * indistinguishable from real-time advancement for any observer (HTTP or the inspection methods).
 * Hence freezing (the server's close()) never leaves a timer behind.
 *
 * Deviations from the real service (deliberate, documented):
 * - A FAILED record leaves the product AVAILABLE (not TAINTED) and the old values in place.
 * - An IdempotencyToken reused with different parameters is answered with
 *   InvalidParametersException and recorded as a violation (a client bug).
 * - How long the service remembers an IdempotencyToken is not documented. The fake remembers every
 *   token for ever unless `tokenMemoryMs` says otherwise: from that long after a token's record was
 *   created, the token is forgotten, and a call with it (repeated, or with other parameters: no
 *   violation then) is a new call that makes a new record and writes again. Client code must not
 *   rely on a repeated token being answered with the first record.
 * - Search understands one query: a single `id:<pp-id>` term in `Filters.SearchQuery` (or no
 *   term at all). Any other query (another field, free text, several terms) lists nothing, never
 *   "everything": a client that relied on a query the fake cannot answer would otherwise pass here
 *   and read the wrong product's owner in the service.
 * - Search lists the account's products only at the `Account` access level. The caller (the
 *   handler) owns no product, so the `User` and `Role` levels, and an absent AccessLevelFilter (the
 *   API reference gives `User` as the default), list nothing. The only accepted Value is `self`.
 * - Search pages are 20 products unless PageSize says otherwise (the service documents no default;
 *   at most 100 per page in any case).
 * - OWNER is the principal as UpdateProvisionedProductProperties sets it (an IAM user, IAM role or
 *   STS assumed-role ARN). Search reports it as UserArnSession ("the ARN of the user in the
 *   session"), and as UserArn the IAM identity behind it: the user or role itself, or for an
 *   assumed-role session its role, which the fake writes without an IAM path (the session ARN
 *   does not carry one).
 * - LAUNCH_ROLE, like OWNER, must be in the product's account.
 */
import {
  ApiError,
  ID_RE,
  type Json,
  NAME_RE,
  PROPERTY_KEYS,
  TOKEN_RE,
  checkAcceptLanguage,
  checkMembers,
  checkPageSize,
  checkString,
  isObject,
  malformed,
} from './service-catalog-api';

/** Initial state of a provisioned product known to the fake. */
export interface FakeProductInit {
  /** Provisioned product id, e.g. `pp-abc123`. */
  id: string;
  /**
   * Current OWNER: an IAM user, IAM role or STS assumed-role ARN. For a product provisioned by an
   * assumed-role session (a federated or SSO user, say) it is that session's ARN, which search
   * reports as UserArnSession, with the session's role as UserArn.
   */
  owner: string;
  /** Current launch role ARN; absent or '' for none. */
  launchRole?: string;
  /** Account that holds the product; default: the fake's account ('123456789012'). */
  account?: string;
  /** Provisioned product name; default `sc-<id>`. */
  name?: string;
  /** Base status; default AVAILABLE (UNDER_CHANGE / PLAN_IN_PROGRESS here stay forever). */
  status?: string;
}

/** How the next created record behaves (queued FIFO via `planNextRecord`). */
export interface RecordPlan {
  /** Time from creation to the final status; default the fake's `recordDurationMs`. */
  durationMs?: number;
  /** When set, the record ends FAILED with these RecordErrors and nothing is applied. */
  fail?: { Code: string; Description: string }[];
  /** When true the record stays IN_PROGRESS (product UNDER_CHANGE) until `close()`. */
  neverFinish?: boolean;
}

/** Options of the fake Service Catalog. */
export interface FakeServiceCatalogOptions {
  /** Default record duration in ms (CREATED → IN_PROGRESS → final); default 50. */
  recordDurationMs?: number;
  /** Default account of products; default '123456789012'. */
  account?: string;
  /**
   * How long (ms, from its record's creation) an IdempotencyToken is remembered; default for ever.
   * 0 forgets every token at once: each call makes a new record. See the module comment.
   */
  tokenMemoryMs?: number;
}

/** Snapshot of a product as seen by tests. */
export interface FakeProductView {
  id: string;
  /** The OWNER, as search reports it in UserArnSession (UserArn is the IAM identity behind it). */
  owner: string;
  /** '' for none. */
  launchRole: string;
  status: string;
  lastRecordId?: string;
}

/** Snapshot of a record as seen by tests. */
export interface FakeRecordView {
  recordId: string;
  provisionedProductId: string;
  status: string;
  properties: Record<string, string>;
  idempotencyToken: string;
  recordErrors: { Code: string; Description: string }[];
  /** When the write call made it (epoch ms). */
  createdAt: number;
}

const REGION = 'us-east-1';
const ROLE_ARN_RE = /^arn:aws[a-z-]*:iam::(\d{12}):role\/(?:[\w+=,.@-]+\/)*[\w+=,.@-]{1,64}$/;
const USER_ARN_RE = /^arn:aws[a-z-]*:iam::(\d{12}):user\/(?:[\w+=,.@-]+\/)*[\w+=,.@-]{1,64}$/;
const ASSUMED_ROLE_ARN_RE = /^arn:aws[a-z-]*:sts::(\d{12}):assumed-role\/[\w+=,.@-]{1,64}\/[\w+=,.@-]{2,64}$/;

interface ProductState {
  id: string;
  name: string;
  account: string;
  owner: string;
  launchRole: string;
  baseStatus: string;
  createdAt: number;
  busyUntil: number;
  lastRecordId?: string;
  writesApplied: number;
}

interface RecordState {
  id: string;
  productId: string;
  productName: string;
  createdAt: number;
  durationMs: number;
  fail?: { Code: string; Description: string }[];
  neverFinish: boolean;
  properties: Record<string, string>;
  token: string;
  acceptLanguage?: string;
  settled: boolean;
}

/** Random lowercase alphanumeric suffix like the real service's ids. */
function randomSuffix(n = 13): string {
  const chars = 'abcdefghijklmnopqrstuvwxyz0123456789';
  let s = '';
  for (let i = 0; i < n; i++) s += chars[Math.floor(Math.random() * chars.length)];
  return s;
}

/** Epoch seconds, the JSON 1.1 timestamp format. */
function epochSeconds(ms: number): number {
  return ms / 1000;
}

/** The IAM identity behind an owner: an assumed-role session's role (without path), else the ARN itself. */
function iamIdentityOf(owner: string): string {
  const m = /^arn:([^:]+):sts::(\d{12}):assumed-role\/([^/]+)\/[^/]+$/.exec(owner);
  return m ? `arn:${m[1]}:iam::${m[2]}:role/${m[3]}` : owner;
}

/** Search page size when the request gives none (the API reference documents no default). */
const DEFAULT_SEARCH_PAGE_SIZE = 20;

/** Account of an ARN accepted by `re`, or undefined when it does not match. */
function arnAccount(re: RegExp, arn: string): string | undefined {
  return re.exec(arn)?.[1];
}

/** The state and operations of the fake Service Catalog, without its HTTP server. */
export class ServiceCatalogBackend {
  private readonly recordDurationMs: number;
  private readonly account: string;
  private readonly tokenMemoryMs: number;
  private readonly products = new Map<string, ProductState>();
  private readonly records = new Map<string, RecordState>();
  private readonly recordsByToken = new Map<string, RecordState>();
  private readonly plans: RecordPlan[] = [];
  private readonly searchLag = new Map<string, number>();
  private closedAt = Infinity;

  constructor(options: FakeServiceCatalogOptions) {
    this.recordDurationMs = options.recordDurationMs ?? 50;
    this.account = options.account ?? '123456789012';
    this.tokenMemoryMs = options.tokenMemoryMs ?? Infinity;
  }

  /** Adds a provisioned product (throws if the id already exists). */
  addProduct(init: FakeProductInit): void {
    if (this.products.has(init.id)) throw new Error(`product ${init.id} already exists`);
    this.products.set(init.id, {
      id: init.id,
      name: init.name ?? `sc-${init.id}`,
      account: init.account ?? this.account,
      owner: init.owner,
      launchRole: init.launchRole ?? '',
      baseStatus: init.status ?? 'AVAILABLE',
      createdAt: Date.now(),
      busyUntil: 0,
      writesApplied: 0,
    });
  }

  /** Current state of a product, or undefined when unknown/terminated. */
  product(id: string): FakeProductView | undefined {
    const now = this.settle();
    const p = this.products.get(id);
    if (!p) return undefined;
    return {
      id: p.id,
      owner: p.owner,
      launchRole: p.launchRole,
      status: this.productStatus(p, now),
      ...(p.lastRecordId ? { lastRecordId: p.lastRecordId } : {}),
    };
  }

  /** Current state of a record, or undefined when unknown. */
  record(id: string): FakeRecordView | undefined {
    const now = this.settle();
    const r = this.records.get(id);
    return r ? this.recordView(r, now) : undefined;
  }

  /** Every record of a product (or of all), in creation order: the order their results were applied in. */
  recordsOf(productId?: string): FakeRecordView[] {
    const now = this.settle();
    return [...this.records.values()]
      .filter((r) => productId === undefined || r.productId === productId)
      .map((r) => this.recordView(r, now));
  }

  private recordView(r: RecordState, now: number): FakeRecordView {
    const status = this.recordStatus(r, now);
    return {
      recordId: r.id,
      provisionedProductId: r.productId,
      status,
      properties: { ...r.properties },
      idempotencyToken: r.token,
      recordErrors: status === 'FAILED' ? [...(r.fail ?? [])] : [],
      createdAt: r.createdAt,
    };
  }

  /**
   * Changes a product's owner or launch role outside any stack, as an administrator would with the
   * console or the CLI: at once, without a record, and without counting as a write of the handler.
   */
  changeByHand(id: string, values: { readonly owner?: string; readonly launchRole?: string }): void {
    this.settle();
    const p = this.products.get(id);
    if (!p) throw new Error(`unknown product ${id}`);
    if (values.owner !== undefined) p.owner = values.owner;
    if (values.launchRole !== undefined) p.launchRole = values.launchRole;
  }

  /** Terminates a product: it disappears (ResourceNotFoundException from then on). */
  terminate(id: string): void {
    this.settle();
    this.products.delete(id);
  }

  /** Makes a product UNDER_CHANGE for `ms` (writes rejected with InvalidStateException), then AVAILABLE. */
  setBusy(id: string, ms: number): void {
    const p = this.products.get(id);
    if (!p) throw new Error(`unknown product ${id}`);
    p.busyUntil = Date.now() + ms;
  }

  /** Queues a plan for the next record created (FIFO); records without a plan use the defaults. */
  planNextRecord(plan: RecordPlan): void {
    this.plans.push(plan);
  }

  /** The next `n` searches that would match product `id` do not return it. */
  setSearchLag(id: string, n: number): void {
    this.searchLag.set(id, n);
  }

  /** How many records actually changed the product (idempotent repeats and failures don't count). */
  writesApplied(id: string): number {
    this.settle();
    return this.products.get(id)?.writesApplied ?? 0;
  }

  /** Freezes time: unfinished records stay as they are from now on. */
  protected freeze(): void {
    this.settle();
    this.closedAt = Date.now();
  }

  // ---------------------------------------------------------------- time model

  /** Current time, frozen by freeze() (the server's close()). */
  private now(): number {
    return Math.min(Date.now(), this.closedAt);
  }

  /** Status of a record at `now`: CREATED for the first quarter, IN_PROGRESS, then SUCCEEDED/FAILED. */
  private recordStatus(r: RecordState, now: number): string {
    const elapsed = now - r.createdAt;
    if (!r.neverFinish && elapsed >= r.durationMs) return r.fail ? 'FAILED' : 'SUCCEEDED';
    if (elapsed < r.durationMs / 4) return 'CREATED';
    return 'IN_PROGRESS';
  }

  /** Time of the last status transition of a record at `now`. */
  private recordUpdatedAt(r: RecordState, now: number): number {
    switch (this.recordStatus(r, now)) {
      case 'CREATED':
        return r.createdAt;
      case 'IN_PROGRESS':
        return r.createdAt + r.durationMs / 4;
      default:
        return r.createdAt + r.durationMs;
    }
  }

  /** Status of a product at `now` (after settle). */
  private productStatus(p: ProductState, now: number): string {
    const active = p.lastRecordId ? this.records.get(p.lastRecordId) : undefined;
    if (active && !active.settled) return 'UNDER_CHANGE';
    if (now < p.busyUntil) return 'UNDER_CHANGE';
    return p.baseStatus;
  }

  /** Applies the outcome of every record that has finished by now, in creation order. */
  private settle(): number {
    const now = this.now();
    for (const r of this.records.values()) {
      if (r.settled) continue;
      const status = this.recordStatus(r, now);
      if (status !== 'SUCCEEDED' && status !== 'FAILED') continue;
      r.settled = true;
      const p = this.products.get(r.productId);
      if (!p) continue;
      if (status === 'SUCCEEDED') {
        if (r.properties.OWNER !== undefined) p.owner = r.properties.OWNER;
        if (r.properties.LAUNCH_ROLE !== undefined) p.launchRole = r.properties.LAUNCH_ROLE;
        p.writesApplied++;
      }
      p.baseStatus = 'AVAILABLE';
    }
    return now;
  }
  // ---------------------------------------------------------------- operations

  protected readonly operations: Record<string, (input: Json) => Json> = {
    DescribeProvisionedProduct: (input) => this.describeProvisionedProduct(input),
    SearchProvisionedProducts: (input) => this.searchProvisionedProducts(input),
    UpdateProvisionedProductProperties: (input) => this.updateProvisionedProductProperties(input),
    DescribeRecord: (input) => this.describeRecord(input),
  };

  private productArn(p: ProductState): string {
    return `arn:aws:servicecatalog:${REGION}:${p.account}:stack/${p.name}/${p.id}`;
  }

  private describeProvisionedProduct(input: Json): Json {
    const op = 'DescribeProvisionedProduct';
    checkMembers(op, input, ['AcceptLanguage', 'Id', 'Name']);
    checkAcceptLanguage(op, input.AcceptLanguage);
    const id = checkString(op, 'Id', input.Id, { required: false, min: 1, max: 100, pattern: ID_RE });
    const name = checkString(op, 'Name', input.Name, { required: false, min: 1, max: 128, pattern: NAME_RE });
    if ((id === undefined) === (name === undefined)) throw malformed(`${op}: exactly one of Id or Name is required`);
    const now = this.settle();
    const p = id !== undefined ? this.products.get(id) : [...this.products.values()].find((x) => x.name === name);
    if (!p) throw new ApiError('ResourceNotFoundException', `Provisioned product ${id ?? name} not found`);
    return {
      ProvisionedProductDetail: {
        ...this.productFields(p, now),
        ...(p.launchRole ? { LaunchRoleArn: p.launchRole } : {}),
      },
      CloudWatchDashboards: [],
    };
  }

  /** The fields DescribeProvisionedProduct and SearchProvisionedProducts both return for a product. */
  private productFields(p: ProductState, now: number): Json {
    return {
      Id: p.id,
      Arn: this.productArn(p),
      Name: p.name,
      Type: 'CFN_STACK',
      Status: this.productStatus(p, now),
      CreatedTime: epochSeconds(p.createdAt),
      ...(p.lastRecordId ? { LastRecordId: p.lastRecordId } : {}),
    };
  }

  private searchProvisionedProducts(input: Json): Json {
    const op = 'SearchProvisionedProducts';
    checkMembers(op, input, ['AcceptLanguage', 'AccessLevelFilter', 'Filters', 'SortBy', 'SortOrder', 'PageSize', 'PageToken']);
    checkAcceptLanguage(op, input.AcceptLanguage);
    checkPageSize(op, input.PageSize, 100);
    const pageToken = checkString(op, 'PageToken', input.PageToken, { required: false, min: 0, max: 2024 });
    checkString(op, 'SortBy', input.SortBy, { required: false, min: 0, max: 2048 });
    if (input.SortOrder !== undefined && input.SortOrder !== 'ASCENDING' && input.SortOrder !== 'DESCENDING') {
      throw malformed(`${op}: SortOrder ${JSON.stringify(input.SortOrder)}`);
    }
    let accessLevel = 'User';
    if (input.AccessLevelFilter !== undefined) {
      const f = input.AccessLevelFilter;
      if (!isObject(f)) throw malformed(`${op}: AccessLevelFilter must be an object`);
      checkMembers(`${op}.AccessLevelFilter`, f, ['Key', 'Value']);
      if (f.Key !== undefined && !['Account', 'Role', 'User'].includes(f.Key as string)) {
        throw malformed(`${op}: AccessLevelFilter.Key ${JSON.stringify(f.Key)}`);
      }
      const value = checkString(op, 'AccessLevelFilter.Value', f.Value, { required: false, min: 0, max: 10000 });
      if (value !== undefined && value.toLowerCase() !== 'self') {
        throw malformed(`${op}: AccessLevelFilter.Value ${JSON.stringify(value)}: the only supported value is self`);
      }
      accessLevel = (f.Key as string | undefined) ?? accessLevel;
    }
    const terms: string[] = [];
    if (input.Filters !== undefined) {
      const filters = input.Filters;
      if (!isObject(filters)) throw malformed(`${op}: Filters must be an object`);
      for (const [key, values] of Object.entries(filters)) {
        if (key !== 'SearchQuery') throw malformed(`${op}: Filters key ${JSON.stringify(key)}`);
        if (!Array.isArray(values) || values.some((v) => typeof v !== 'string')) {
          throw malformed(`${op}: Filters.SearchQuery must be a list of strings`);
        }
        terms.push(...(values as string[]));
      }
    }
    const offset = pageToken === undefined || pageToken === '' ? 0 : Number(pageToken);
    if (!Number.isInteger(offset) || offset < 0)
      throw new ApiError('InvalidParametersException', `${op}: PageToken ${pageToken} is not valid`);
    const now = this.settle();
    const matching = accessLevel === 'Account' ? this.searchMatches(terms) : [];
    const listed: Json[] = [];
    for (const p of matching) {
      const lag = this.searchLag.get(p.id) ?? 0;
      if (lag > 0) {
        this.searchLag.set(p.id, lag - 1);
        continue;
      }
      listed.push({
        ...this.productFields(p, now),
        UserArn: iamIdentityOf(p.owner),
        UserArnSession: p.owner,
      });
    }
    const pageSize = typeof input.PageSize === 'number' && input.PageSize > 0 ? input.PageSize : DEFAULT_SEARCH_PAGE_SIZE;
    const page = listed.slice(offset, offset + pageSize);
    const next = offset + page.length;
    return {
      ProvisionedProducts: page,
      TotalResultsCount: listed.length,
      ...(next < listed.length ? { NextPageToken: String(next) } : {}),
    };
  }

  /** The products a SearchQuery lists: all for no term, the one named by a single `id:` term, none for anything else. */
  private searchMatches(terms: string[]): ProductState[] {
    if (terms.length === 0) return [...this.products.values()];
    if (terms.length > 1) return [];
    const m = /^id:(.+)$/.exec(terms[0].trim());
    const p = m ? this.products.get(m[1].trim()) : undefined;
    return p ? [p] : [];
  }

  private updateProvisionedProductProperties(input: Json): Json {
    const op = 'UpdateProvisionedProductProperties';
    // 1. Structure (API model): violations.
    checkMembers(op, input, ['AcceptLanguage', 'ProvisionedProductId', 'ProvisionedProductProperties', 'IdempotencyToken']);
    checkAcceptLanguage(op, input.AcceptLanguage);
    const id = checkString(op, 'ProvisionedProductId', input.ProvisionedProductId, {
      required: true,
      min: 1,
      max: 100,
      pattern: ID_RE,
    }) as string;
    const rawProps = input.ProvisionedProductProperties;
    if (!isObject(rawProps)) throw malformed(`${op}: ProvisionedProductProperties must be a map`);
    const entries = Object.entries(rawProps);
    if (entries.length < 1 || entries.length > 100) {
      throw malformed(`${op}: ProvisionedProductProperties has ${entries.length} entries, expected 1..100`);
    }
    const props: Record<string, string> = {};
    for (const [k, v] of entries) {
      if (!PROPERTY_KEYS.includes(k)) throw malformed(`${op}: property key ${JSON.stringify(k)} not OWNER|LAUNCH_ROLE`);
      props[k] = checkString(op, `ProvisionedProductProperties.${k}`, v, { required: true, min: 0, max: 1024 }) as string;
    }
    const token = checkString(op, 'IdempotencyToken', input.IdempotencyToken, {
      required: true,
      min: 1,
      max: 128,
      pattern: TOKEN_RE,
    }) as string;

    // 2. Idempotency, before any state check (a token older than tokenMemoryMs is forgotten).
    const now = this.settle();
    const prior = this.recordsByToken.get(token);
    if (prior && now - prior.createdAt < this.tokenMemoryMs) {
      if (prior.productId !== id || JSON.stringify(sortKeys(prior.properties)) !== JSON.stringify(sortKeys(props))) {
        throw malformed(`${op}: IdempotencyToken ${token} reused with different parameters`);
      }
      return this.updateOutput(prior);
    }

    // 3. Existence and semantics: legitimate user errors, not violations.
    const p = this.products.get(id);
    if (!p) throw new ApiError('ResourceNotFoundException', `Provisioned product ${id} not found`);
    if (props.LAUNCH_ROLE !== undefined) {
      const role = props.LAUNCH_ROLE;
      if (role === '') throw new ApiError('InvalidParametersException', 'LAUNCH_ROLE cannot be cleared');
      const acct = arnAccount(ROLE_ARN_RE, role);
      if (acct === undefined) throw new ApiError('InvalidParametersException', `LAUNCH_ROLE ${role} is not an IAM role ARN`);
      if (acct !== p.account) {
        throw new ApiError('InvalidParametersException', `LAUNCH_ROLE ${role} is not in account ${p.account}`);
      }
    }
    if (props.OWNER !== undefined) {
      const owner = props.OWNER;
      const acct = arnAccount(USER_ARN_RE, owner) ?? arnAccount(ROLE_ARN_RE, owner) ?? arnAccount(ASSUMED_ROLE_ARN_RE, owner);
      if (acct === undefined) {
        throw new ApiError('InvalidParametersException', `OWNER ${owner} is not an IAM user, role or assumed-role ARN`);
      }
      if (acct !== p.account) throw new ApiError('InvalidParametersException', `OWNER ${owner} is not in account ${p.account}`);
    }

    // 4. State.
    const status = this.productStatus(p, now);
    if (status === 'UNDER_CHANGE' || status === 'PLAN_IN_PROGRESS') {
      throw new ApiError('InvalidStateException', `Provisioned product ${id} is in state ${status}`);
    }

    // 5. New record.
    const plan = this.plans.shift() ?? {};
    const r: RecordState = {
      id: `rec-${randomSuffix()}`,
      productId: p.id,
      productName: p.name,
      createdAt: now,
      durationMs: plan.durationMs ?? this.recordDurationMs,
      ...(plan.fail ? { fail: plan.fail.map((e) => ({ ...e })) } : {}),
      neverFinish: plan.neverFinish ?? false,
      properties: props,
      token,
      ...(typeof input.AcceptLanguage === 'string' ? { acceptLanguage: input.AcceptLanguage } : {}),
      settled: false,
    };
    this.records.set(r.id, r);
    this.recordsByToken.set(token, r);
    p.lastRecordId = r.id;
    this.settle(); // a zero-duration record completes immediately
    return this.updateOutput(r);
  }

  private updateOutput(r: RecordState): Json {
    return {
      ProvisionedProductId: r.productId,
      ProvisionedProductProperties: { ...r.properties },
      RecordId: r.id,
      Status: 'CREATED',
    };
  }

  private describeRecord(input: Json): Json {
    const op = 'DescribeRecord';
    checkMembers(op, input, ['AcceptLanguage', 'Id', 'PageToken', 'PageSize']);
    checkAcceptLanguage(op, input.AcceptLanguage);
    checkPageSize(op, input.PageSize, 20);
    checkString(op, 'PageToken', input.PageToken, { required: false, min: 0, max: 2024 });
    const id = checkString(op, 'Id', input.Id, { required: true, min: 1, max: 100, pattern: ID_RE }) as string;
    const now = this.settle();
    const r = this.records.get(id);
    if (!r) throw new ApiError('ResourceNotFoundException', `Record ${id} not found`);
    const status = this.recordStatus(r, now);
    return {
      RecordDetail: {
        RecordId: r.id,
        ProvisionedProductName: r.productName,
        Status: status,
        CreatedTime: epochSeconds(r.createdAt),
        UpdatedTime: epochSeconds(this.recordUpdatedAt(r, now)),
        ProvisionedProductType: 'CFN_STACK',
        RecordType: 'UPDATE_PROVISIONED_PRODUCT_PROPERTIES',
        ProvisionedProductId: r.productId,
        RecordErrors: status === 'FAILED' ? (r.fail ?? []).map((e) => ({ ...e })) : [],
        RecordTags: [],
      },
      RecordOutputs: [],
    };
  }
}

/** Copy of a string map with keys in sorted order (for parameter comparison). */
function sortKeys(m: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(m).sort(([a], [b]) => a.localeCompare(b)));
}
