/**
 * Telling deliveries of one CloudFormation request apart from other requests, and what a later delivery may take from an earlier one: pure decisions.
 *
 * The same request can reach the handler more than once: the provider framework's onEvent is
 * invoked asynchronously and Lambda delivers such events at least once, retrying after a crash.
 * Only a delivery that read the product before any write saw the true priors. Service Catalog
 * remembers no priors, but every delivery that got past onEvent started a waiter execution whose
 * input holds its physical id and planned change. So:
 *
 * - the write that follows a capture of priors waits until its request's execution is listed by
 *   Step Functions (ListExecutions is eventually consistent): from then on every later lookup
 *   finds it;
 * - a later delivery that may have read after such a write (the product already has a desired
 *   value, or is busy) looks the request up and answers with the earlier delivery's decision.
 *
 * By induction every answer carries priors read before the request's first write.
 */
import type { PropertyKey, PropertyValues } from '../lib/rules';
import type { CustomResourceEvent, OnEventResult } from './events';

/** How far back a lookup goes: CloudFormation waits at most one hour for a custom resource's answer, and a delivery after that is ignored. */
export const LOOKBACK_MS = 65 * 60_000;

/**
 * How long after onEvent the write of a capture still checks that its execution is listed. Past
 * this the execution has run for a minute and is assumed listed: Step Functions' listing lags by
 * moments, not minutes. It bounds the ListExecutions calls (2 per second per account) a slow
 * record costs.
 */
export const LISTING_CHECK_WINDOW_MS = 60_000;

/** What every delivery of one CloudFormation request shares. */
export interface RequestIdentity {
  readonly StackId: string;
  readonly LogicalResourceId: string;
  readonly RequestId: string;
}

/** Whether a waiter execution's input belongs to `request` (another delivery of it, or this one). */
export function isSameRequest(input: unknown, request: RequestIdentity): boolean {
  if (typeof input !== 'object' || input === null) return false;
  const i = input as Record<string, unknown>;
  return i.StackId === request.StackId && i.LogicalResourceId === request.LogicalResourceId && i.RequestId === request.RequestId;
}

/** The decision an earlier delivery made, from its execution's input; `undefined` when the input does not hold one. */
export function earlierDecision(input: unknown): OnEventResult | undefined {
  if (typeof input !== 'object' || input === null) return undefined;
  const i = input as Record<string, unknown>;
  if (typeof i.PhysicalResourceId !== 'string' || typeof i.PlannedAt !== 'number') return undefined;
  const change = i.PlannedChange;
  if (change !== undefined && (typeof change !== 'object' || change === null)) return undefined;
  return {
    PhysicalResourceId: i.PhysicalResourceId,
    PlannedAt: i.PlannedAt,
    ...(change ? { PlannedChange: change as OnEventResult['PlannedChange'] } : {}),
  };
}

/**
 * Whether a delivery that is about to capture priors may have read the product after an earlier
 * delivery's write: the product is busy (a record may be running), or already has a value this
 * request sets. Otherwise no write of this request has landed, the values read are the priors,
 * and no lookup is needed.
 */
export function mayFollowAnEarlierDelivery(
  settled: boolean,
  current: PropertyValues,
  desired: Partial<Record<PropertyKey, string>>,
): boolean {
  if (!settled) return true;
  return (Object.keys(desired) as PropertyKey[]).some((key) => desired[key] !== undefined && current[key] === desired[key]);
}

/** The identity of the request an event belongs to. */
export function requestOf(event: Pick<CustomResourceEvent, 'StackId' | 'LogicalResourceId' | 'RequestId'>): RequestIdentity {
  return { StackId: event.StackId, LogicalResourceId: event.LogicalResourceId, RequestId: event.RequestId };
}
