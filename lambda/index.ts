/**
 * The onEvent and isComplete handlers: orchestration only; rules, decisions, messages and AWS calls live in their own modules.
 *
 * onEvent registers the request in the provider's ledger, validates, reads the product and settles
 * the physical id, which records the prior owner and launch role (the ledger records them too). It
 * runs once per request: every later delivery answers with the decision the ledger stored. It never
 * writes to Service Catalog: isComplete does, under the ledger's write lease (so only while the
 * request is its resource's latest), with an IdempotencyToken derived from the RequestId. isComplete
 * then watches the record itself for a short window (the fast path) and leaves slower records to
 * the waiter's next call.
 */
import type { Context } from 'aws-lambda';
import { RESOURCE_PROPERTY } from '../lib/contract';
import type { CustomResourceEvent, IsCompleteEvent, IsCompleteResult, OnEventResult } from './events';
import { type DriftCheckSummary, type ScheduledEvent, runDriftCheck } from './drift-check';
import { checkCompletion } from './is-complete';
import { logger } from './logger';
import { MAX_SHOWN_CHARACTERS, clip } from '../lib/rules';
import { bounded, notAnEvent } from './messages';
import { planEvent } from './on-event';
import { decideOnce } from './request-ledger';

export type { CustomResourceEvent, IsCompleteEvent, IsCompleteResult, OnEventResult, PlannedChange } from './events';

/** onEvent: validate, read, settle the physical id and plan the write, once per request (every later delivery answers with that decision). */
export function onEvent(event: CustomResourceEvent, context?: LambdaContext): Promise<OnEventResult> {
  return guarded('onEvent', event, (e) => decideOnce(e, context, planEvent));
}

/** isComplete: apply the planned write (idempotently, fenced by the ledger) and report when its record has finished. */
export function isComplete(event: IsCompleteEvent): Promise<IsCompleteResult> {
  return guarded('isComplete', event, checkCompletion);
}

/** The drift check, run on the provider's schedule: compare every managed product with what the stack declares, report, and optionally restore. */
export async function checkDrift(event: ScheduledEvent, context?: LambdaContext): Promise<DriftCheckSummary> {
  logger.resetKeys();
  try {
    return await runDriftCheck(typeof event === 'object' && event !== null ? event : {}, context);
  } catch (e) {
    throw reported(e);
  }
}

/** What the handler uses of Lambda's context: the time left, which bounds a wait for another delivery's decision. */
type LambdaContext = Pick<Context, 'getRemainingTimeInMillis'>;

/** Runs a handler's work with the event checked, the log context set, and any failure logged and bounded. */
async function guarded<E extends CustomResourceEvent, R>(handler: string, event: E, work: (event: E) => Promise<R>): Promise<R> {
  try {
    checkIsEvent(event, handler);
    setLogContext(event);
    return await work(event);
  } catch (e) {
    throw reported(e);
  }
}

/** Logs a failure once, in full, and returns it bounded for CloudFormation's Reason. */
function reported(e: unknown): unknown {
  logger.error('Failed', { error: e as Error });
  return bounded(e);
}

/** Fails clearly, instead of with a TypeError, when the handler is invoked with something that is not an event. */
function checkIsEvent(event: unknown, handler: string): asserts event is CustomResourceEvent {
  if (typeof event === 'object' && event !== null && !Array.isArray(event)) return;
  throw new Error(notAnEvent(handler, describeNonEvent(event)));
}

// Stryker disable all: log context, for people reading the logs (like the log calls, see scripts/stryker-ignore-logger.mjs)
/** Request context on every log line of this invocation (never the ResponseURL). */
function setLogContext(event: CustomResourceEvent): void {
  logger.resetKeys();
  const productId = event.ResourceProperties?.[RESOURCE_PROPERTY.productId] as unknown;
  // Every value here arrives from outside and repeats on every line: clipped as a message clips a value.
  const context = (value: unknown) => (typeof value === 'string' ? clip(value, MAX_SHOWN_CHARACTERS) : undefined);
  logger.appendKeys({
    requestType: context(event.RequestType),
    logicalResourceId: context(event.LogicalResourceId),
    requestId: context(event.RequestId),
    provisionedProductId: context(productId),
  });
}
// Stryker restore all

/** What a non-event is, without echoing its content: an array or object may carry a ResponseURL, a write credential. */
function describeNonEvent(value: unknown): string {
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (value === null || value === undefined) return String(value);
  return typeof value === 'string' ? `a string of ${value.length} characters` : `a ${typeof value}`;
}
