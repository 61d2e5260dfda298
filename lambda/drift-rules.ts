/**
 * The drift check's decisions, as pure functions of data: which products it may check now, what differs from the declared values, and since when.
 *
 * The ledger holds, per resource and product, what the stack declares (the values its last
 * completed Create or Update set) and what an earlier check found instead. A product is checked
 * only while nothing of its resource is on its way: its declared values come from the resource's
 * latest request, and no write lease is held. Otherwise a deploy is in progress (or failed), and
 * the deploy decides the values.
 */
import { PROPERTY_KEYS, type PropertyKey, type PropertyValues } from '../lib/rules';
import { type DriftSeen, type LedgerDeclared, type LedgerResource, mustWaitForWriter } from './ledger-rules';

/** What the check does with one product a resource of the ledger names. */
export type CheckPlan =
  | { readonly kind: 'check'; readonly productId: string; readonly declared: LedgerDeclared; readonly seen: DriftMemory }
  | { readonly kind: 'skip'; readonly productId: string; readonly reason: string };

/** What an earlier check found, per key. */
export type DriftMemory = Readonly<Partial<Record<PropertyKey, DriftSeen>>>;

/**
 * The products of one resource to check now: every product with declared values, unless a later
 * request of the resource has reached the provider since they were declared (a deploy in progress,
 * or one that failed), or a write is under way (the write lease is held).
 */
export function productsToCheck(resource: LedgerResource, now: number): CheckPlan[] {
  const plans: CheckPlan[] = [];
  for (const [productId, entry] of Object.entries(resource.priors)) {
    const declared = entry.declared;
    if (!declared) continue;
    if (declared.requestId !== resource.latestRequestId) {
      plans.push({
        kind: 'skip',
        productId,
        reason: `a later ${resource.latestRequestType ?? 'request'} of the resource (${resource.latestRequestId ?? 'unknown'}) is in progress or did not complete`,
      });
    } else if (mustWaitForWriter(resource, '', now)) {
      plans.push({ kind: 'skip', productId, reason: `a write is under way (${resource.writer?.requestId ?? ''})` });
    } else {
      plans.push({ kind: 'check', productId, declared, seen: entry.drift ?? {} });
    }
  }
  return plans;
}

/** One declared key whose value differs on the product. */
export interface Drift {
  readonly key: PropertyKey;
  readonly declared: string;
  readonly found: string;
  /** When a check first saw this value (epoch ms): now, or an earlier check's. */
  readonly since: number;
  /** Whether this check is the first to see it. */
  readonly firstSeen: boolean;
}

/**
 * The declared keys whose value on the product differs, each with since when that value has been
 * seen (an earlier check's time when it saw the same value; a different value is a new drift).
 * OWNER is not compared when the search did not list the product (its owner is unknown).
 */
export function findDrift(
  declared: Partial<PropertyValues>,
  current: PropertyValues,
  ownerKnown: boolean,
  seen: DriftMemory,
  now: number,
): Drift[] {
  const drift: Drift[] = [];
  for (const key of PROPERTY_KEYS) {
    const want = declared[key];
    if (want === undefined || (key === 'OWNER' && !ownerKnown)) continue;
    const found = current[key];
    if (found === want) continue;
    const earlier = seen[key];
    const firstSeen = earlier?.found !== found;
    drift.push({ key, declared: want, found, since: firstSeen ? now : earlier.since, firstSeen });
  }
  return drift;
}

/** What the ledger keeps of a check's findings (for the next check's "since"). */
export function driftMemory(drift: readonly Drift[]): DriftMemory {
  return Object.fromEntries(drift.map((d) => [d.key, { found: d.found, since: d.since }]));
}

/** Whether the memory changes (the ledger is written only then). */
export function memoryChanged(before: DriftMemory, after: DriftMemory): boolean {
  return PROPERTY_KEYS.some((key) => before[key]?.found !== after[key]?.found || before[key]?.since !== after[key]?.since);
}

/** The write that puts the declared values back: the drifted keys only. */
export function restoreWrite(drift: readonly Drift[]): Partial<PropertyValues> {
  return Object.fromEntries(drift.map((d) => [d.key, d.declared]));
}
