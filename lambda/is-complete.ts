/**
 * isComplete's work: apply the planned write (idempotently) and watch its record, briefly itself and then once per waiter call.
 *
 * Every write call is fenced by the ledger (lambda/fenced-write.ts): it is made under the resource's write lease, which a
 * request can take only while it is the resource's latest, so a request that a later one has
 * superseded (answered already) writes nothing. A Create is also checked against CloudFormation
 * before its write and after its record: when CloudFormation took a failed answer to it (the
 * provider framework answered it FAILED and then answered the rollback itself), what it wrote is put back.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { ATTRIBUTE } from '../lib/contract';
import { PROPERTY_KEYS, type PropertyKey } from '../lib/rules';
import { stackInstances, timing } from './config';
import { resourceStatus } from './cloudformation';
import { hasWrites, idempotencyToken, planRestore, valuesAreSettled, waiterWillGiveUp } from './decisions';
import type { IsCompleteEvent, IsCompleteResult, PlannedChange } from './events';
import { forgetPriors, ledgerCall, readResource, recordDeclared, recordDeleted, refOf } from './ledger';
import { createStands, knownRecord } from './ledger-rules';
import { logger } from './logger';
import { type WaitOutcome, type WriteOutcome, watchRecord, writeUntilAccepted } from './fenced-write';
import { ReportedError, WAITING_FOR, changedByHand, createFailedElsewhere, restoreFailed, stackUnreadable, timedOut } from './messages';
import { lateSpreadMs, pollIntervalFor, writeSlot } from './pacing';
import { decodePhysicalId } from './physical-id';
import { readLeniently } from './resource-properties';
import { readProduct } from './service-catalog';

/** Reports whether the event's change has been applied and its record has finished. */
export async function checkCompletion(event: IsCompleteEvent): Promise<IsCompleteResult> {
  const recorded = decodePhysicalId(event.PhysicalResourceId);
  const data: Record<string, string> = {
    [ATTRIBUTE.recordId]: '',
    [ATTRIBUTE.previousOwnerArn]: recorded?.priorOwnerArn ?? '',
    [ATTRIBUTE.previousLaunchRoleArn]: recorded?.priorLaunchRoleArn ?? '',
    [ATTRIBUTE.changedByHand]: changedByHand(event.ChangedByHand),
  };
  const orphansPending = await undoOrphans(event, Math.max(Date.now(), (event.PlannedAt ?? 0) + timing.fastPathWindowMs));
  if (orphansPending) return { IsComplete: false };
  const change = event.PlannedChange;
  if (!change) return completed(event, data);

  try {
    const result = await applyAndWait(event, change);
    if (result.IsComplete) return completed(event, { ...data, [ATTRIBUTE.recordId]: result.recordId });
    if (timing.totalTimeoutMs > 0 && waiterWillGiveUp(Date.now(), event.PlannedAt ?? 0, timing.totalTimeoutMs, timing.queryIntervalMs)) {
      throw new ReportedError(timedOut(change, timing.totalTimeoutMs, result.waitingFor));
    }
    return { IsComplete: false };
  } catch (e) {
    // A restore must never fail silently: whatever went wrong, say which values were not put back.
    if (change.Purpose === 'restore' && !(e instanceof ReportedError)) {
      throw restoreFailed(change.ProductId, change.Priors, change.Properties, e);
    }
    throw e;
  }
}

/**
 * The answer for an event that is done. A Create or Update records in the ledger what the stack now
 * declares for its product (what the drift check compares with); a Delete's product is no longer
 * managed, and its priors and declared values leave the ledger.
 */
async function completed(event: IsCompleteEvent, data: Record<string, string>): Promise<IsCompleteResult> {
  const productId = decodePhysicalId(event.PhysicalResourceId)?.productId;
  if (productId === undefined) return { IsComplete: true, Data: data };
  if (event.RequestType === 'Delete') {
    await ledgerCall('forget the priors of the deleted resource', async () => {
      await forgetPriors(refOf(event), productId, event.RequestId);
      await recordDeleted(refOf(event), event.PhysicalResourceId ?? '');
    });
  } else {
    const props = readLeniently(event.ResourceProperties);
    await ledgerCall('record the declared owner and launch role', () =>
      recordDeclared(refOf(event), productId, {
        properties: props.values,
        requestId: event.RequestId,
        at: Date.now(),
        ...(props.acceptLanguage !== undefined ? { acceptLanguage: props.acceptLanguage } : {}),
      }),
    );
  }
  return { IsComplete: true, Data: data };
}

/** Applies the planned write and watches its record until done, or until the fast-path window ends. */
async function applyAndWait(event: IsCompleteEvent, change: PlannedChange): Promise<WaitOutcome> {
  // In a stack of many instances, each writes at its own point of the stack's write window.
  const slot = writeSlot(event.PlannedAt ?? 0, event.RequestId, stackInstances, timing.writeSpacingMs);
  if (!(await awaitTurn(slot))) return { IsComplete: false, waitingFor: WAITING_FOR.writeTurn(slot) };
  // Within the window after the write's turn (onEvent's end, alone), poll here; after it, check once per waiter call.
  const deadline = Math.max(Date.now(), Math.max(event.PlannedAt ?? 0, slot) + timing.fastPathWindowMs);
  // A Create checks with CloudFormation before its write; a later call whose write the ledger knows
  // only watches (and should the ledger not know it under the lease after all, checks first).
  const known =
    event.RequestType === 'Create' && (await writtenAlready(event, change, slot))
      ? await writeUntilAccepted(event, change, deadline, true)
      : 'not-known';
  let written: WriteOutcome;
  if (known === 'not-known') {
    if (event.RequestType === 'Create') {
      const status = await createStatus(event);
      if (!createStands(status)) return undoCreate(event, change, status, deadline);
    }
    written = await writeUntilAccepted(event, change, deadline);
  } else written = known;
  if (!written || written === 'lease-held') {
    return { IsComplete: false, waitingFor: written ? WAITING_FOR.lease(event.RequestId) : WAITING_FOR.busyProduct() };
  }
  if (written === 'product-gone') return { IsComplete: true, recordId: '' };
  logger.appendKeys({ recordId: written.recordId });
  const outcome = await watchRecord(change, written, deadline);
  if (outcome.IsComplete && event.RequestType === 'Create') {
    // The framework may have answered this Create FAILED meanwhile (another delivery's failure), and answered the rollback itself.
    const status = await createStatus(event);
    if (!createStands(status)) return undoCreate(event, change, status, deadline);
  }
  return outcome;
}

/**
 * Whether an earlier call of this request made its write (the ledger knows the record it started).
 * Asked only once the write's turn and (nearly all) the fast-path watch after it are over (the
 * waiter's later calls on a long record): a Create's check with CloudFormation before its write is then moot (its
 * check after the record still comes), and in a large stack one per waiter call would be 80 a
 * second at 400 instances.
 */
async function writtenAlready(event: IsCompleteEvent, change: PlannedChange, slot: number): Promise<boolean> {
  // A call that watched returned once its next poll would have fallen past the window.
  const watchInterval = pollIntervalFor(timing.pollIntervalMs, stackInstances, timing);
  if (Date.now() - slot < timing.fastPathWindowMs - watchInterval) return false;
  const resource = await ledgerCall('read this resource', () => readResource(refOf(event)));
  return knownRecord(resource, change.IdempotencyToken) !== undefined;
}

/**
 * Waits for the write's turn when this invocation can: its timeout leaves room for the wait, the
 * fast-path watch after the write and two waiter intervals' margin. False when the turn comes later
 * (a stack larger than one invocation can wait through): the waiter calls again. A first turn
 * taken late (the wait woke late, or the waiter's first call came after the turn, as when many
 * containers start cold at once) spreads again over the time lost: the stack's writes that all
 * come late would otherwise go at once.
 */
async function awaitTurn(slot: number): Promise<boolean> {
  const wait = slot - Date.now();
  if (wait > 0 && wait > timing.isCompleteTimeoutMs - timing.fastPathWindowMs - 2 * timing.queryIntervalMs) return false;
  if (wait > 0) await sleep(wait);
  // A call within the fast-path window after its turn has not watched a record yet: its turn came
  // late (a slow first waiter call: cold starts). A later one is the waiter checking on a long record.
  const firstTurn = wait > 0 || Date.now() - slot < timing.fastPathWindowMs;
  if (stackInstances > 1 && firstTurn) {
    const again = lateSpreadMs(Date.now() - slot, timing.writeSpacingMs, Math.random());
    if (again > 0) await sleep(again);
  }
  return true;
}

/** CloudFormation's status of the resource a Create is about (undefined when it has none any more). */
async function createStatus(event: IsCompleteEvent): Promise<string | undefined> {
  try {
    return await resourceStatus(event.StackId, event.LogicalResourceId);
  } catch (e) {
    throw new ReportedError(stackUnreadable(event.StackId, event.LogicalResourceId, e), { cause: e });
  }
}

/**
 * A Create CloudFormation took a failed answer to (or no longer has): put back, to the priors, the
 * keys it was to write (those that differ now), then fail saying so. CloudFormation will not ask
 * for an undo, and no later request of the resource has reached the provider (else the lease would
 * have said so), so nothing newer is overwritten.
 */
async function undoCreate(
  event: IsCompleteEvent,
  change: PlannedChange,
  status: string | undefined,
  deadline: number,
): Promise<WaitOutcome> {
  logger.warn('CloudFormation took a failed answer to this Create; putting back what it was to write', {
    resourceStatus: status ?? '(none)',
  });
  const keys = Object.keys(change.Properties) as PropertyKey[];
  const outcome = await putBack(event, change, keys, `${event.RequestId}#undo`, deadline);
  if (outcome === 'nothing-to-do') throw new ReportedError(createFailedElsewhere(change, status, false));
  if (!outcome.IsComplete) return outcome;
  throw new ReportedError(createFailedElsewhere(change, status, true));
}

/**
 * Puts the products that an orphaned capture changed (see orphanedCaptures) back to its priors, one
 * after another, and then forgets those priors. Undefined when all are back; else where it waits.
 */
async function undoOrphans(event: IsCompleteEvent, deadline: number): Promise<WaitOutcome | undefined> {
  for (const orphan of event.Orphans ?? []) {
    const base: PlannedChange = {
      ProductId: orphan.ProductId,
      Properties: {},
      IdempotencyToken: '',
      AcceptLanguage: orphan.AcceptLanguage,
      Purpose: 'restore',
      Priors: orphan.Priors,
    };
    const outcome = await putBack(event, base, PROPERTY_KEYS, `${event.RequestId}#orphan`, deadline);
    if (outcome !== 'nothing-to-do' && !outcome.IsComplete) return outcome;
    await ledgerCall('forget the priors of an orphaned capture', () =>
      forgetPriors(refOf(event), orphan.ProductId, event.RequestId, orphan.CapturedBy),
    );
  }
  return undefined;
}

/**
 * Writes `keys` of `base`'s product back to `base.Priors` where they differ now (every key that has
 * a prior, while the product is busy), under the write lease like any write, and watches the record.
 * 'nothing-to-do' when the product already has them, cannot be given them (a prior of none), or is gone.
 */
async function putBack(
  event: IsCompleteEvent,
  base: PlannedChange,
  keys: readonly PropertyKey[],
  tokenSeed: string,
  deadline: number,
): Promise<WaitOutcome | 'nothing-to-do'> {
  const product = await readProduct(base.ProductId, base.AcceptLanguage, {
    attempts: timing.searchAttempts,
    delayMs: timing.searchDelayMs,
  });
  if (!product) return 'nothing-to-do';
  const undo = planRestore(keys, base.Priors, valuesAreSettled(product.status) ? product.values : undefined);
  for (const skip of undo.skipped) {
    logger.warn(
      'No prior value to restore: the product had none before this resource changed it, and Service Catalog cannot clear it. Leaving it as it is.',
      { key: skip.key, currentValue: skip.current, provisionedProductId: base.ProductId },
    );
  }
  if (!hasWrites(undo)) return 'nothing-to-do';
  const restore: PlannedChange = {
    ...base,
    Purpose: 'restore',
    Properties: undo.write,
    IdempotencyToken: idempotencyToken(tokenSeed, base.ProductId, undo.write),
  };
  const written = await writeUntilAccepted(event, restore, deadline);
  if (!written || written === 'lease-held') {
    return { IsComplete: false, waitingFor: written ? WAITING_FOR.lease(event.RequestId) : WAITING_FOR.busyProduct() };
  }
  if (written === 'product-gone') return 'nothing-to-do';
  return watchRecord(restore, written, deadline);
}
