/**
 * isComplete's work: apply the planned write (idempotently) and watch its record, briefly itself and then once per waiter call.
 *
 * Every write call is fenced by the ledger: it is made under the resource's write lease, which a
 * request can take only while it is the resource's latest, so a request that a later one has
 * superseded (answered already) writes nothing. A Create is also checked against CloudFormation
 * before its write and after its record: when CloudFormation took a failed answer to it (the
 * provider framework answered it FAILED and then answered the rollback itself), what it wrote is put back.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { RecordError } from '@aws-sdk/client-service-catalog';
import { ATTRIBUTE } from '../lib/contract';
import { PROPERTY_KEYS, type PropertyKey } from '../lib/rules';
import { stackInstances, timing } from './config';
import { resourceStatus } from './cloudformation';
import { hasWrites, idempotencyToken, nextPollDelay, planRestore, recordOutcome, valuesAreSettled, waiterWillGiveUp } from './decisions';
import type { IsCompleteEvent, IsCompleteResult, PlannedChange } from './events';
import { forgetPriors, ledgerCall, readResource, recordDeclared, recordDeleted, refOf, releaseWriteLease, takeWriteLease } from './ledger';
import { createStands, knownRecord } from './ledger-rules';
import { logger } from './logger';
import {
  ReportedError,
  WAITING_FOR,
  changedByHand,
  createFailedElsewhere,
  recordFailed,
  recordUnreadable,
  restoreFailed,
  stackUnreadable,
  supersededWrite,
  timedOut,
  writeRejected,
} from './messages';
import { lateSpreadMs, pollIntervalFor, writeSlot } from './pacing';
import { decodePhysicalId } from './physical-id';
import { readLeniently } from './resource-properties';
import { errorName, isTransient, readProduct, readRecord, writeProperties } from './service-catalog';

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

/** The status of a record known from the ledger and not read yet in this call (or of a write answered without one). */
const RECORD_NOT_READ = '';

/** Where applyAndWait left the change: done (with the record, '' when none was needed), or still waiting and on what. */
type WaitOutcome = { IsComplete: true; recordId: string } | { IsComplete: false; waitingFor: string };

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

/** Watches a record until it has finished, or until `deadline` (then the waiter's next call goes on). */
async function watchRecord(change: PlannedChange, written: { recordId: string; status: string }, deadline: number): Promise<WaitOutcome> {
  let record: { status: string; errors?: RecordError[] } = { status: written.status };
  if (written.status === RECORD_NOT_READ) {
    const read = await readRecordOrWait(change, written.recordId);
    if ('waitingFor' in read) return read;
    record = read;
  }
  // A record read just now counts as this invocation's first poll.
  for (let polls = written.status === RECORD_NOT_READ ? 1 : 0; ; polls++) {
    const status = record.status;
    switch (recordOutcome(status)) {
      case 'succeeded':
        logger.info('Record succeeded', { properties: change.Properties });
        return { IsComplete: true, recordId: written.recordId };
      case 'failed': {
        const errors = record.errors ?? (await readRecordOrFail(change, written.recordId)).errors;
        logger.error('Record failed', { recordErrors: errors });
        throw new ReportedError(recordFailed(change, written.recordId, errors));
      }
      case 'unrecognised':
        logger.warn('Record has a status this handler does not know; waiting on it', { recordStatus: status });
        break;
      case 'waiting':
        break;
    }
    const delay = nextPollDelay(Date.now(), deadline, pollIntervalFor(timing.pollIntervalMs, stackInstances, timing), polls);
    if (delay === undefined) {
      logger.info('Waiting for final status', { recordStatus: status });
      return { IsComplete: false, waitingFor: WAITING_FOR.record(written.recordId, status) };
    }
    await sleep(delay);
    const read = await readRecordOrWait(change, written.recordId);
    if ('waitingFor' in read) return read;
    record = read;
  }
}

/** DescribeRecord, or, when it fails for now, where the waiter's next call goes on. */
async function readRecordOrWait(
  change: PlannedChange,
  recordId: string,
): Promise<{ status: string; errors: RecordError[] } | { IsComplete: false; waitingFor: string }> {
  try {
    return await readRecordOrFail(change, recordId);
  } catch (e) {
    if (e instanceof ReportedError) throw e;
    logger.warn('DescribeRecord failed for now; waiting', { error: e as Error });
    return { IsComplete: false, waitingFor: WAITING_FOR.unreadableRecord(recordId, errorName(e)) };
  }
}

/** DescribeRecord; an error that is not transient fails the event, saying which record and what to check. */
async function readRecordOrFail(change: PlannedChange, recordId: string): Promise<{ status: string; errors: RecordError[] }> {
  try {
    return await readRecord(recordId, change.AcceptLanguage);
  } catch (e) {
    if (isTransient(e)) throw e;
    throw new ReportedError(recordUnreadable(change, recordId, e), { cause: e });
  }
}

/**
 * Calls UpdateProvisionedProductProperties until the service accepts it: a busy product
 * (InvalidStateException) or a transient failure is retried until the deadline, then left to the
 * waiter. Returns the record, 'product-gone' on a Delete whose product was terminated meanwhile,
 * or undefined to keep waiting.
 */
type WriteOutcome = { recordId: string; status: string } | 'product-gone' | 'lease-held' | undefined;
async function writeUntilAccepted(event: IsCompleteEvent, change: PlannedChange, deadline: number): Promise<WriteOutcome>;
async function writeUntilAccepted(
  event: IsCompleteEvent,
  change: PlannedChange,
  deadline: number,
  knownOnly: true,
): Promise<WriteOutcome | 'not-known'>;
async function writeUntilAccepted(
  event: IsCompleteEvent,
  change: PlannedChange,
  deadline: number,
  knownOnly = false,
): Promise<WriteOutcome | 'not-known'> {
  for (let attempts = 0; ; attempts++) {
    try {
      const written = await fencedWrite(event, change, knownOnly);
      if (written !== 'lease-held') return written;
      const delay = nextPollDelay(Date.now(), deadline, timing.pollIntervalMs, attempts + 1);
      if (delay === undefined) return written;
      await sleep(delay);
      continue;
    } catch (e) {
      if (e instanceof ReportedError) throw e;
      const name = errorName(e);
      if (name === 'ResourceNotFoundException' && event.RequestType === 'Delete') {
        logger.info('Nothing to restore: the provisioned product no longer exists');
        return 'product-gone';
      }
      if (name !== 'InvalidStateException' && !isTransient(e)) throw new ReportedError(writeRejected(change, e), { cause: e });
      const delay = nextPollDelay(Date.now(), deadline, timing.pollIntervalMs, attempts + 1);
      logger.info(name === 'InvalidStateException' ? 'Product is busy; retrying the write' : 'Write failed for now; retrying', {
        error: name,
      });
      if (delay === undefined) return undefined;
      await sleep(delay);
    }
  }
}

/**
 * One write call, under the resource's write lease: only while this request is the resource's
 * latest (else it is skipped, and the event fails saying so), and never while an older request's
 * call may still be on its way. 'lease-held' when another request holds the lease. With
 * `knownOnly`, only the record of a write the ledger knows: 'not-known' (nothing sent) when it
 * knows none, so that the caller makes its checks before writing.
 */
async function fencedWrite(
  event: IsCompleteEvent,
  change: PlannedChange,
  knownOnly: boolean,
): Promise<{ recordId: string; status: string } | 'lease-held' | 'not-known'> {
  const ref = refOf(event);
  const until = Date.now() + timing.writeLeaseMs;
  const lease = await ledgerCall('take the write lease', () => takeWriteLease(ref, event.RequestId, until));
  if (lease.kind === 'superseded') {
    const latest = {
      latestRequestId: lease.resource.latestRequestId ?? '(unknown)',
      latestRequestType: lease.resource.latestRequestType ?? 'request',
    };
    logger.warn('Skipped the write: a later request of this resource has reached the provider', {
      ...latest,
      properties: change.Properties,
    });
    throw new ReportedError(supersededWrite(change, latest));
  }
  if (lease.kind === 'held') {
    logger.info('Another request of this resource holds the write lease; waiting', { writer: lease.resource.writer });
    return 'lease-held';
  }
  const known = knownRecord(lease.resource, change.IdempotencyToken);
  if (known !== undefined) {
    // An earlier call of this request made this write and Service Catalog accepted it: watch its record.
    await ledgerCall('give back the write lease', () => releaseWriteLease(ref, event.RequestId));
    return { recordId: known, status: RECORD_NOT_READ };
  }
  let accepted: { recordId: string; status: string } | undefined;
  try {
    if (knownOnly) return 'not-known';
    // The call must end well before the lease can lapse, however long taking it took.
    accepted = await writeProperties(change, until - timing.writeLeaseMs / 4);
    return accepted;
  } finally {
    const written = accepted?.recordId ? { token: change.IdempotencyToken, recordId: accepted.recordId } : undefined;
    await ledgerCall('give back the write lease', () => releaseWriteLease(ref, event.RequestId, written));
  }
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
