/**
 * The handler's decisions, as pure functions of data: what to write, what a record status means,
 * which token to send. The AWS calls in `service-catalog.ts` are a thin layer around these.
 */
import { createHash } from 'node:crypto';
import { PROPERTY_KEYS, type PropertyKey, type PropertyValues } from '../lib/rules';

/** What the handler does with a Service Catalog record status. */
export type RecordOutcome = 'succeeded' | 'failed' | 'waiting' | 'unrecognised';

/**
 * The one decision on DescribeRecord's RecordDetail.Status. CREATED, IN_PROGRESS and
 * IN_PROGRESS_IN_ERROR are not final; a status the API did not document keeps the waiter going
 * (and is logged by the caller), since failing a deploy on a new benign status would be worse.
 */
export function recordOutcome(status: string | undefined): RecordOutcome {
  switch (status) {
    case 'SUCCEEDED':
      return 'succeeded';
    case 'FAILED':
      return 'failed';
    case 'CREATED':
    case 'IN_PROGRESS':
    case 'IN_PROGRESS_IN_ERROR':
      return 'waiting';
    default:
      return 'unrecognised';
  }
}

/** A restore that cannot happen because there is no prior value to put back. */
export interface SkippedRestore {
  /** The key that stays as it is. */
  readonly key: PropertyKey;
  /** The value it keeps. */
  readonly current: string;
}

/**
 * Which keys one event writes (only those whose value must change) and which restores it skips:
 * the decision onEvent turns into the PlannedChange (events.ts) it hands to isComplete.
 */
export interface WriteDecision {
  /** Keys to send in ProvisionedProductProperties, with their new values. Empty: no write call. */
  readonly write: Partial<PropertyValues>;
  /** Keys that should be restored but have no prior value (the product had no launch role). */
  readonly skipped: readonly SkippedRestore[];
}

/**
 * Whether a product's OWNER and LAUNCH_ROLE, as read now, are the values it will keep. A product
 * UNDER_CHANGE or PLAN_IN_PROGRESS may be running a record that changes them (the record of an
 * event that timed out, say, which a rollback must land after): its values are not to be compared.
 */
export function valuesAreSettled(productStatus: string): boolean {
  return productStatus !== 'UNDER_CHANGE' && productStatus !== 'PLAN_IN_PROGRESS';
}

/**
 * Plans Create, Update and replacement: apply every desired key, and restore to its prior value
 * every key that was managed before (`previouslyManaged`) and is not now. Keys whose current value
 * already equals the target are left out, so an event with nothing to change makes no write call.
 */
export function planApply(
  desired: Partial<PropertyValues>,
  previouslyManaged: readonly PropertyKey[],
  priors: PropertyValues,
  current: PropertyValues | undefined,
): WriteDecision {
  const dropped = previouslyManaged.filter((key) => desired[key] === undefined);
  const restore = planRestore(dropped, priors, current);
  return {
    write: { ...restore.write, ...onlyDifferent(desired, current) },
    skipped: restore.skipped,
  };
}

/**
 * Plans Delete (and dropped keys): put each managed key back to its prior value. `current`
 * undefined means the values are not settled (see {@link valuesAreSettled}): every target is written.
 */
export function planRestore(managed: readonly PropertyKey[], priors: PropertyValues, current: PropertyValues | undefined): WriteDecision {
  const targets: Partial<PropertyValues> = {};
  const skipped: SkippedRestore[] = [];
  for (const key of PROPERTY_KEYS.filter((k) => managed.includes(k))) {
    if (priors[key] === '') {
      if (current?.[key] !== '') skipped.push({ key, current: current?.[key] ?? '(changing)' });
    } else {
      targets[key] = priors[key];
    }
  }
  return { write: onlyDifferent(targets, current), skipped };
}

function onlyDifferent(targets: Partial<PropertyValues>, current: PropertyValues | undefined): Partial<PropertyValues> {
  const out: Partial<PropertyValues> = {};
  for (const key of PROPERTY_KEYS) {
    const value = targets[key];
    if (value !== undefined && (current === undefined || value !== current[key])) out[key] = value;
  }
  return out;
}

/** A managed key a deploy writes over whose value is neither what the stack declared nor its prior: a change by hand. */
export interface HandChange {
  readonly key: PropertyKey;
  /** The value found on the product. */
  readonly found: string;
  /** The value the deploy writes in its place. */
  readonly writing: string;
}

/**
 * The keys of `write` whose current value no one this resource knows of set: not a value any of
 * `expected` gives it (what the stack declared before this event, what the ledger recorded as
 * declared, the priors). The deploy still writes them (the stack's declared state wins, the priors
 * on Delete), but says what it overwrites. None while the values are not settled (`current`
 * undefined), and none for OWNER when the search did not list the product (its owner is unknown).
 */
export function changesByHand(
  write: Partial<PropertyValues>,
  current: PropertyValues | undefined,
  expected: ReadonlyArray<Partial<PropertyValues> | undefined>,
  ownerKnown = true,
): HandChange[] {
  if (!current) return [];
  const changes: HandChange[] = [];
  for (const key of PROPERTY_KEYS) {
    const writing = write[key];
    if (writing === undefined || (key === 'OWNER' && !ownerKnown)) continue;
    const found = current[key];
    if (found === writing || expected.some((values) => values?.[key] === found)) continue;
    changes.push({ key, found, writing });
  }
  return changes;
}

/**
 * The IdempotencyToken for the write one CloudFormation request makes. Derived from the RequestId
 * (the same on every redelivery of an event), the product and the planned properties: deliveries
 * that plan the same write send the same token, so it is applied once; a delivery that planned
 * another write (it read the product at another moment) gets its own token instead of reusing one
 * with other parameters. Hashed so that it always matches the API's `[a-zA-Z0-9][a-zA-Z0-9_-]*`, 1–128.
 */
export function idempotencyToken(requestId: string, productId: string, properties: Partial<PropertyValues>): string {
  const planned = PROPERTY_KEYS.map((k) => `${k}=${properties[k] ?? ''}`).join('|');
  return createHash('sha256').update(`${requestId}|${productId}|${planned}`).digest('hex');
}

/** Whether a plan writes anything. */
export function hasWrites(plan: WriteDecision): boolean {
  return Object.keys(plan.write).length > 0;
}

/**
 * How long to wait before the next DescribeRecord (or write retry), or `undefined` to hand back to
 * the waiter. Every invocation makes at least one poll (`polls === 0` gets a delay even past the
 * deadline: 0 when there is no time for a full interval), and never more than one per interval.
 */
export function nextPollDelay(now: number, deadline: number, intervalMs: number, polls: number): number | undefined {
  if (now + intervalMs <= deadline) return intervalMs;
  return polls === 0 ? 0 : undefined;
}

/**
 * Whether the waiter will run out of attempts before it calls isComplete again: the handler then
 * fails the event itself, with a message that says what it was waiting for, rather than leaving
 * the framework's bare "Operation timed out". Counts from onEvent's end, as the waiter does, with
 * half an interval of margin for the time each isComplete call takes.
 */
export function waiterWillGiveUp(now: number, plannedAt: number, totalTimeoutMs: number, queryIntervalMs: number): boolean {
  return now + 1.5 * queryIntervalMs >= plannedAt + totalTimeoutMs;
}
