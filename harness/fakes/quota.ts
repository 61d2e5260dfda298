/**
 * AWS's quotas for the harness: a token bucket per API (and a concurrency limit for Lambda), shared by every fake and emulator of one account.
 *
 * A bucket holds up to `burst` tokens and refills at `perSecond`, in real-world terms; the harness's
 * compressed time (`timeScale`, as the lifecycle driver's) refills it faster by the same factor, so
 * that a compressed run meets the quota at the same point of its story. A call takes a token or is
 * answered with the service's own throttling error; a Step Functions state transition waits for its
 * token instead (Step Functions slows an execution down rather than failing it).
 *
 * The defaults ({@link DEFAULT_QUOTAS}) are the documented figures where AWS documents them, and
 * say where they come from; Service Catalog and CloudFormation's DescribeStackResource publish none,
 * so theirs are chosen conservatively (see each entry). Every bucket can be replaced or removed.
 * The fakes apply quotas only when given an {@link AccountQuotas}: the existing tests count calls
 * exactly and compress time a hundredfold, where a burst of a few calls at once would meet a bucket
 * and the SDK's real-time backoff would then stretch the test; the scale bench and the quota tests
 * give them one.
 */

/** A token bucket, in real-world terms. */
export interface BucketSpec {
  /** Tokens the bucket holds when full: the calls that can come at once. */
  readonly burst: number;
  /** Tokens added per second (real-world seconds). */
  readonly perSecond: number;
}

/** The APIs the harness keeps a quota on: `service:Operation`, as the fakes name them. */
export type QuotaApi =
  | 'servicecatalog:DescribeProvisionedProduct'
  | 'servicecatalog:SearchProvisionedProducts'
  | 'servicecatalog:UpdateProvisionedProductProperties'
  | 'servicecatalog:DescribeRecord'
  | 'cloudformation:DescribeStackResource'
  | 'dynamodb:ReadRequestUnits'
  | 'dynamodb:WriteRequestUnits'
  | 'states:StartExecution'
  | 'states:StateTransition';

/**
 * The default quotas of one account and region.
 *
 * Service Catalog publishes no API rate (its quotas page lists resource counts only), and tools that
 * drive it at scale meet ThrottlingException (awslabs/aws-service-catalog-puppet issues 459, 631,
 * 702, with 10 parallel workers by default; the Control Tower Account Factory for Terraform with 25
 * parallel updates, aws-ia/terraform-aws-control_tower_account_factory issue 214). The AWS control
 * planes that do publish theirs allow 1 to 10 requests per second with a burst of the same size
 * (Service Quotas' Get and List calls 5 and 10 per second; Security Hub 1 to 10; CloudTrail's
 * DescribeTrails 10; Step Functions' ListExecutions 2, below). So: reads 20 per second (a burst of
 * 20), and the one write, which starts a workflow, 2 per second with a burst of 5, ListExecutions'
 * refill: the lowest figure of the family, and the tightest quota of a deploy.
 */
export const DEFAULT_QUOTAS: Readonly<Record<QuotaApi, BucketSpec>> = {
  'servicecatalog:DescribeProvisionedProduct': { burst: 20, perSecond: 20 },
  'servicecatalog:SearchProvisionedProducts': { burst: 20, perSecond: 20 },
  'servicecatalog:DescribeRecord': { burst: 20, perSecond: 20 },
  'servicecatalog:UpdateProvisionedProductProperties': { burst: 5, perSecond: 2 },
  /** Not published either (CloudFormation's quotas page lists no API rates): a read, 10 per second with a burst of 20. */
  'cloudformation:DescribeStackResource': { burst: 20, perSecond: 10 },
  /**
   * On-demand tables, per table: what a new on-demand table serves at once, 12,000 read and 4,000
   * write request units per second (DynamoDB developer guide, "On-demand capacity mode": initial
   * throughput); a burst of one second's worth. Partition (key range) limits are not modelled: the
   * ledger's items have distinct keys.
   */
  'dynamodb:ReadRequestUnits': { burst: 12_000, perSecond: 12_000 },
  'dynamodb:WriteRequestUnits': { burst: 4_000, perSecond: 4_000 },
  /** Step Functions Standard in the smaller regions (Step Functions quotas, "Quotas related to API action throttling" and "state throttling"). */
  'states:StartExecution': { burst: 800, perSecond: 150 },
  'states:StateTransition': { burst: 800, perSecond: 500 },
};

/** Lambda's default concurrency quota of an account and region (Lambda quotas: "Concurrent executions"). */
export const DEFAULT_LAMBDA_CONCURRENCY = 1_000;

/** Checks a bucket's figures, saying what is wrong and what to give instead. */
function checkSpec(name: string, spec: BucketSpec): void {
  if (!(Number.isFinite(spec.burst) && spec.burst >= 1)) {
    throw new Error(`quota ${name}: burst ${spec.burst} is not a number of at least 1 (the calls that can come at once), e.g. 20`);
  }
  if (!(Number.isFinite(spec.perSecond) && spec.perSecond > 0)) {
    throw new Error(
      `quota ${name}: perSecond ${spec.perSecond} is not a positive number of calls per second, e.g. 10; remove the quota to lift it`,
    );
  }
}

/** A token bucket on a clock, refilled continuously. */
export class TokenBucket {
  private tokens: number;
  private last: number;
  /** Tokens per millisecond of the clock. */
  private readonly ratePerMs: number;

  /**
   * @param spec the bucket in real-world terms
   * @param clock the harness's clock (ms)
   * @param timeScale the harness's compression: refills 1 / timeScale times faster
   */
  constructor(
    readonly spec: BucketSpec,
    private readonly clock: () => number = Date.now,
    timeScale = 1,
  ) {
    checkSpec('bucket', spec);
    if (!(timeScale > 0)) throw new Error(`timeScale ${timeScale} is not a positive factor, e.g. 1 for real time or 0.1`);
    this.tokens = spec.burst;
    this.last = clock();
    this.ratePerMs = spec.perSecond / 1000 / timeScale;
  }

  /** Takes `cost` tokens when the bucket holds them; false (nothing taken) when it does not. */
  tryTake(cost = 1): boolean {
    this.refill();
    if (this.tokens < cost) return false;
    this.tokens -= cost;
    return true;
  }

  /** Takes `cost` tokens now or on credit, and returns how long (clock ms) the caller must wait for them. */
  reserve(cost = 1): number {
    this.refill();
    this.tokens -= cost;
    return this.tokens >= 0 ? 0 : Math.ceil(-this.tokens / this.ratePerMs);
  }

  private refill(): void {
    const now = this.clock();
    this.tokens = Math.min(this.spec.burst, this.tokens + (now - this.last) * this.ratePerMs);
    this.last = now;
  }
}

/** Options of {@link AccountQuotas}. */
export interface AccountQuotasOptions {
  /** Buckets to replace (a spec) or remove (null); the rest are {@link DEFAULT_QUOTAS}. */
  readonly quotas?: Partial<Record<QuotaApi, BucketSpec | null>>;
  /** The account's Lambda concurrency; default {@link DEFAULT_LAMBDA_CONCURRENCY}. */
  readonly lambdaConcurrency?: number;
  /** The harness's time compression (the driver's timeScale); default 1, real time. */
  readonly timeScale?: number;
  /** The clock; default Date.now. */
  readonly clock?: () => number;
}

/** Why Lambda refused an invocation: the account's concurrency, or the function's reserved concurrency. */
export type LambdaThrottle = 'ConcurrentInvocationLimitExceeded' | 'ReservedFunctionConcurrentInvocationLimitExceeded';

/** The quotas of one account and region, shared by the fakes and emulators that play it. */
export class AccountQuotas {
  /** Throttled answers so far, by API (`lambda:Invoke` for Lambda; state transitions count the waits). */
  readonly throttled: Record<string, number> = {};
  /** Every call a quota was asked about so far, admitted or not, by API (for DynamoDB: request units). */
  readonly asked: Record<string, number> = {};
  /** The most Lambda executions that ran at once in the account. */
  peakExecutions = 0;
  readonly timeScale: number;
  readonly lambdaConcurrency: number;
  private readonly specs: Partial<Record<QuotaApi, BucketSpec>>;
  private readonly buckets = new Map<string, TokenBucket>();
  private readonly clock: () => number;
  private running = 0;
  private readonly runningByFunction = new Map<string, number>();

  constructor(options: AccountQuotasOptions = {}) {
    this.timeScale = options.timeScale ?? 1;
    if (!(this.timeScale > 0)) throw new Error(`timeScale ${this.timeScale} is not a positive factor, e.g. 1 for real time or 0.1`);
    this.clock = options.clock ?? Date.now;
    this.lambdaConcurrency = options.lambdaConcurrency ?? DEFAULT_LAMBDA_CONCURRENCY;
    if (!(Number.isInteger(this.lambdaConcurrency) && this.lambdaConcurrency >= 1)) {
      throw new Error(`lambdaConcurrency ${this.lambdaConcurrency} is not a whole number of at least 1, e.g. 1000 (Lambda's default)`);
    }
    const specs: Partial<Record<QuotaApi, BucketSpec>> = {};
    for (const [api, spec] of Object.entries({ ...DEFAULT_QUOTAS, ...options.quotas }) as Array<[QuotaApi, BucketSpec | null]>) {
      if (!(api in DEFAULT_QUOTAS)) {
        throw new Error(`quota ${api}: no such API; the harness keeps quotas on ${Object.keys(DEFAULT_QUOTAS).join(', ')}`);
      }
      if (spec === null) continue;
      checkSpec(api, spec);
      specs[api] = spec;
    }
    this.specs = specs;
  }

  /** The bucket of an API, or undefined when it has no quota. */
  spec(api: QuotaApi): BucketSpec | undefined {
    return this.specs[api];
  }

  /**
   * Takes `cost` tokens of `api`'s bucket (of `scope`'s, for a quota per resource such as a
   * DynamoDB table); false, counted as a throttled answer, when it is dry. An API without a quota always passes.
   */
  take(api: QuotaApi, cost = 1, scope = ''): boolean {
    this.asked[api] = (this.asked[api] ?? 0) + cost;
    const bucket = this.bucket(api, scope);
    if (!bucket || bucket.tryTake(cost)) return true;
    this.throttled[api] = (this.throttled[api] ?? 0) + 1;
    return false;
  }

  /** Takes `cost` tokens of `api`'s bucket now or on credit; the clock ms to wait for them (0: none). */
  delay(api: QuotaApi, cost = 1): number {
    this.asked[api] = (this.asked[api] ?? 0) + cost;
    const wait = this.bucket(api, '')?.reserve(cost) ?? 0;
    if (wait > 0) this.throttled[api] = (this.throttled[api] ?? 0) + 1;
    return wait;
  }

  /**
   * Starts an execution of a function (its ARN) when the account's concurrency and the function's
   * reserved concurrency allow; else says which refused it (counted as a throttled `lambda:Invoke`).
   */
  startExecution(functionArn: string, reserved: number | undefined): LambdaThrottle | undefined {
    this.asked['lambda:Invoke'] = (this.asked['lambda:Invoke'] ?? 0) + 1;
    const mine = this.runningByFunction.get(functionArn) ?? 0;
    let refused: LambdaThrottle | undefined;
    if (reserved !== undefined && mine >= reserved) refused = 'ReservedFunctionConcurrentInvocationLimitExceeded';
    else if (reserved === undefined && this.running >= this.lambdaConcurrency) refused = 'ConcurrentInvocationLimitExceeded';
    if (refused) {
      this.throttled['lambda:Invoke'] = (this.throttled['lambda:Invoke'] ?? 0) + 1;
      return refused;
    }
    this.running++;
    this.peakExecutions = Math.max(this.peakExecutions, this.running);
    this.runningByFunction.set(functionArn, mine + 1);
    return undefined;
  }

  /** Ends an execution started by {@link startExecution}. */
  endExecution(functionArn: string): void {
    this.running--;
    this.runningByFunction.set(functionArn, (this.runningByFunction.get(functionArn) ?? 1) - 1);
  }

  /** Executions running now, in the account. */
  get concurrentExecutions(): number {
    return this.running;
  }

  private bucket(api: QuotaApi, scope: string): TokenBucket | undefined {
    const spec = this.specs[api];
    if (!spec) return undefined;
    const key = `${api}\u0000${scope}`;
    let bucket = this.buckets.get(key);
    if (!bucket) this.buckets.set(key, (bucket = new TokenBucket(spec, this.clock, this.timeScale)));
    return bucket;
  }
}
