/**
 * The wire contract between the construct, the handler and the test harness: names and defaults each side must agree on.
 *
 * Kept import-free and in one place, as aws-cdk's provider framework keeps its `consts` module, so
 * that the compiler enforces the coupling: a renamed property, attribute or environment variable
 * cannot drift apart between the template the construct writes and the code that reads it.
 */

/** The CloudFormation resource type of the custom resource. */
export const RESOURCE_TYPE = 'Custom::ProvisionedProductProperties';

/** Names of the custom resource's properties, as the construct writes them and the handler reads them. */
export const RESOURCE_PROPERTY = {
  productId: 'ProvisionedProductId',
  properties: 'ProvisionedProductProperties',
  acceptLanguage: 'AcceptLanguage',
  restoreOnDelete: 'RestoreOnDelete',
} as const;

/** Names of the attributes (the Data keys) the custom resource returns. */
export const ATTRIBUTE = {
  recordId: 'RecordId',
  previousOwnerArn: 'PreviousOwnerArn',
  previousLaunchRoleArn: 'PreviousLaunchRoleArn',
  /** What the event wrote over that someone had changed by hand ('' when nothing). */
  changedByHand: 'ChangedByHand',
} as const;

/** The bundle's entry points, as Lambda `Handler` strings (`file.export`). */
export const HANDLER_ENTRY = {
  onEvent: 'index.onEvent',
  isComplete: 'index.isComplete',
  checkDrift: 'index.checkDrift',
} as const;

/**
 * The drift check: its metrics (namespace, names, the stack's dimension, as the check publishes
 * them in CloudWatch's embedded metric format and metricDrift() reads them), and the environment
 * variables the construct sets on its function.
 */
export const DRIFT = {
  namespace: 'ProvisionedProductProperties',
  /** The dimension naming the stack whose products were checked (besides Powertools' `service`). */
  stackDimension: 'StackName',
  metric: {
    /** Products with a declared key whose value differs. */
    drifted: 'DriftedProducts',
    /** Products read and compared. */
    checked: 'CheckedProducts',
    /** Products the ledger names that no longer exist (terminated since their deploy). */
    missing: 'MissingProducts',
    /** Products the check could not read, or whose restore failed. */
    failed: 'FailedChecks',
    /** Products whose declared values the check wrote back (restore only). */
    restored: 'RestoredProducts',
  },
  stackNameEnv: 'STACK_NAME',
  /** 'report' or 'restore'. */
  actionEnv: 'DRIFT_ACTION',
  defaultIntervalHours: 24,
} as const;

/**
 * The handler's tunable timing: the environment variable that sets each value and the handler's
 * default when the variable is absent. The construct sets some (from its props or these defaults);
 * the harness compresses all of them.
 */
export const HANDLER_TIMING = {
  /** How long after onEvent isComplete keeps polling the record itself (the fast path). */
  fastPathWindowMs: { env: 'FAST_PATH_WINDOW_MS', default: 15_000 },
  /** Pause between DescribeRecord calls, and between retries of a busy product's write. */
  pollIntervalMs: { env: 'POLL_INTERVAL_MS', default: 1_000 },
  /** Attempts of the owner search, whose index can lag a just-created product. */
  searchAttempts: { env: 'SEARCH_ATTEMPTS', default: 5 },
  /** Pause between those search attempts. */
  searchDelayMs: { env: 'SEARCH_DELAY_MS', default: 1_000 },
  /** The provider's totalTimeout (0: unknown), so that isComplete gives up with its own message before the waiter does. */
  totalTimeoutMs: { env: 'TOTAL_TIMEOUT_MS', default: 0 },
  /** The provider's queryInterval: how long the waiter waits between isComplete calls. */
  queryIntervalMs: { env: 'QUERY_INTERVAL_MS', default: 5_000 },
  /**
   * How long a request's write lease in the ledger lasts at most: it covers one write call to
   * Service Catalog, and a request that registers meanwhile waits for it before reading the
   * product. Released as soon as the call returns; the bound matters only when a function dies
   * while holding it.
   */
  writeLeaseMs: { env: 'WRITE_LEASE_MS', default: 30_000 },
  /**
   * The stack-wide pace of Service Catalog reads (per read API) the handlers keep to: one call per
   * this many ms over all the stack's instances, 65% of a 20 per second quota. Service Catalog
   * publishes no quota; harness/fakes/quota.ts says where the figure comes from. Instances pick
   * their moments at random, so some meet: at 80% of a bucket of 5 writes, a stack of 400 had a
   * throttled answer for every second write (docs/scale.md).
   */
  readSpacingMs: { env: 'READ_SPACING_MS', default: 77 },
  /** The same for UpdateProvisionedProductProperties: 65% of a 2 per second quota. */
  writeSpacingMs: { env: 'WRITE_SPACING_MS', default: 770 },
  /**
   * The isComplete function's timeout (the construct sets it from this default): long enough for an
   * instance of a large stack to wait for its turn to write in one invocation rather than across
   * many waiter calls, and to watch its record after it. 7 minutes cover the write window of a
   * stack of 500 resources, (N - 1) x writeSpacingMs, with the fast-path window and two waiter
   * intervals to spare: (420 - 15 - 10) s / 0.77 s + 1 = 514 instances.
   */
  isCompleteTimeoutMs: { env: 'IS_COMPLETE_TIMEOUT_MS', default: 420_000 },
} as const;

/**
 * The environment variable that tells the handlers how many instances share the stack's provider
 * (the construct counts them at synth): each takes its share of the stack's pace of calls.
 */
export const STACK_INSTANCES_ENV = 'STACK_INSTANCES';

/** The name prefix of the waiter state machine (the stack's id follows), so that its ARN is known without a reference that would make a cycle. */
export const WAITER_NAME_PREFIX = 'ProvisionedProductPropertiesWaiter-';

/** One of {@link HANDLER_TIMING}'s keys. */
export type HandlerTimingKey = keyof typeof HANDLER_TIMING;

/** The provider's waiter defaults and CloudFormation's limit on a custom resource, in seconds. */
export const WAITER = {
  defaultQueryIntervalSeconds: 5,
  defaultTotalTimeoutSeconds: 30 * 60,
  maxTotalTimeoutSeconds: 60 * 60,
} as const;

/** The Powertools service name every handler log line carries. */
export const SERVICE_NAME = 'provisioned-product-properties';

/**
 * The provider's ledger table, as the construct declares it, the handler reads and writes it and
 * the harness creates it: the environment variable naming it, its partition key, the attribute its
 * time to live reads (Powertools' idempotency records' expiry, in epoch seconds), and how long a
 * request's record is kept (no copy of a request can arrive later: CloudFormation waits an hour at
 * most, and the framework's onEvent never starts on an event older than its maxEventAge).
 */
export const LEDGER = {
  tableEnv: 'LEDGER_TABLE_NAME',
  partitionKey: 'id',
  timeToLiveAttribute: 'expiration',
  requestRecordSeconds: 24 * 60 * 60,
} as const;
