/**
 * Finding this request's waiter executions: the lookup a later delivery makes, and the listing check before a capture's write.
 *
 * The reasoning is in deliveries.ts. Step Functions calls here are few: a lookup only where a
 * delivery may follow an earlier one's write, and the listing check only before a capture's write.
 */
import { waiterStateMachineArn } from './config';
import { LOOKBACK_MS, type RequestIdentity, earlierDecision, isSameRequest } from './deliveries';
import type { OnEventResult } from './events';
import { logger } from './logger';
import { ReportedError, earlierDecisionLookupFailed, listingCheckFailed, waiterArnMissing } from './messages';
import { isTransient } from './service-catalog';
import { executionInput, executionsSince } from './step-functions';

/**
 * The decision an earlier delivery of `request` made, from its waiter execution, or `undefined`
 * when no delivery of it has started a waiter. A lookup that fails fails the event: a guess could
 * record the values just written as the priors.
 */
export async function findEarlierDecision(request: RequestIdentity, productId: string): Promise<OnEventResult | undefined> {
  const arn = requireWaiterArn();
  try {
    for await (const execution of executionsSince(arn, new Date(Date.now() - LOOKBACK_MS))) {
      const input = await executionInput(execution.executionArn);
      if (!isSameRequest(input, request)) continue;
      const decision = earlierDecision(input);
      if (decision) {
        logger.info('An earlier delivery of this request already decided; answering with its decision', {
          executionArn: execution.executionArn,
          physicalResourceId: decision.PhysicalResourceId,
        });
        return decision;
      }
    }
    return undefined;
  } catch (e) {
    throw new ReportedError(earlierDecisionLookupFailed(productId, arn, e), { cause: e });
  }
}

/**
 * Whether Step Functions lists a running execution of `request` yet. Reads until `until` (epoch
 * ms), then answers false: not found yet, keep waiting. Transient errors answer false too; any
 * other error fails the event, naming what is missing.
 */
export async function isRequestListed(request: RequestIdentity, plannedAt: number, until: number): Promise<boolean> {
  const arn = requireWaiterArn();
  try {
    // The execution started right after onEvent returned (PlannedAt); a minute's margin covers clock skew.
    for await (const execution of executionsSince(arn, new Date(plannedAt - 60_000), 'RUNNING')) {
      if (isSameRequest(await executionInput(execution.executionArn), request)) return true;
      if (Date.now() >= until) {
        logger.info("Out of time reading the waiter's executions; the waiter's next call reads on");
        return false;
      }
    }
    return false;
  } catch (e) {
    if (isTransient(e)) {
      logger.warn('Listing the waiter executions failed for now; waiting', { error: e as Error });
      return false;
    }
    throw new ReportedError(listingCheckFailed(arn, e), { cause: e });
  }
}

function requireWaiterArn(): string {
  if (waiterStateMachineArn) return waiterStateMachineArn;
  throw new ReportedError(waiterArnMissing());
}
