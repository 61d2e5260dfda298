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
import { ReportedError } from './messages';
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
    throw new ReportedError(
      `Could not check whether an earlier delivery of this CloudFormation request already changed provisioned product ${productId} ` +
        `(its owner or launch role already has a value this resource sets, or it is busy): ${(e as Error).name}: ${(e as Error).message}. ` +
        `Nothing was changed, and no prior value was recorded from a read that may follow this resource's own write. Check that the provider's onEvent role may call states:ListExecutions and states:DescribeExecution on ${arn}, then deploy again.`,
      { cause: e },
    );
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
    throw new ReportedError(
      `Could not confirm that Step Functions lists this request's waiter execution before writing: ${(e as Error).name}: ${(e as Error).message}. ` +
        `Nothing was written. Check that the provider's isComplete role may call states:ListExecutions and states:DescribeExecution on ${arn}, then deploy again.`,
      { cause: e },
    );
  }
}

function requireWaiterArn(): string {
  if (waiterStateMachineArn) return waiterStateMachineArn;
  throw new ReportedError(
    'The handler does not know its waiter state machine (WAITER_STATE_MACHINE_ARN is not set), so it cannot tell a redelivered request from a new one. Nothing was changed. ' +
      'This handler runs only under the ProvisionedProductProperties provider: deploy it with the construct.',
  );
}
