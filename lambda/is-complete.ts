/**
 * isComplete's work: apply the planned write (idempotently) and watch its record, briefly itself and then once per waiter call.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { RecordError } from '@aws-sdk/client-service-catalog';
import { ATTRIBUTE } from '../lib/contract';
import { timing } from './config';
import { nextPollDelay, recordOutcome, waiterWillGiveUp } from './decisions';
import { LISTING_CHECK_WINDOW_MS, requestOf } from './deliveries';
import type { IsCompleteEvent, IsCompleteResult, PlannedChange } from './events';
import { logger } from './logger';
import { ReportedError, WAITING_FOR, recordFailed, recordUnreadable, restoreFailed, timedOut, writeRejected } from './messages';
import { decodePhysicalId } from './physical-id';
import { isRequestListed } from './request-lookup';
import { errorName, isTransient, readRecord, writeProperties } from './service-catalog';

/** Reports whether the event's change has been applied and its record has finished. */
export async function checkCompletion(event: IsCompleteEvent): Promise<IsCompleteResult> {
  const recorded = decodePhysicalId(event.PhysicalResourceId);
  const data: Record<string, string> = {
    [ATTRIBUTE.recordId]: '',
    [ATTRIBUTE.previousOwnerArn]: recorded?.priorOwnerArn ?? '',
    [ATTRIBUTE.previousLaunchRoleArn]: recorded?.priorLaunchRoleArn ?? '',
  };
  const change = event.PlannedChange;
  if (!change) return { IsComplete: true, Data: data };

  try {
    const result = await applyAndWait(event, change);
    if (result.IsComplete) return { IsComplete: true, Data: { ...data, [ATTRIBUTE.recordId]: result.recordId } };
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

/** Where applyAndWait left the change: done (with the record, '' when none was needed), or still waiting and on what. */
type WaitOutcome = { IsComplete: true; recordId: string } | { IsComplete: false; waitingFor: string };

/** Applies the planned write and watches its record until done, or until the fast-path window ends. */
async function applyAndWait(event: IsCompleteEvent, change: PlannedChange): Promise<WaitOutcome> {
  // Within the window after onEvent, poll here; after it, check once per waiter call.
  const deadline = Math.max(Date.now(), (event.PlannedAt ?? 0) + timing.fastPathWindowMs);
  if (change.CapturesPriors && !(await listedBeforeWrite(event, deadline))) {
    return { IsComplete: false, waitingFor: WAITING_FOR.listing() };
  }
  const written = await writeUntilAccepted(event, change, deadline);
  if (!written) {
    return { IsComplete: false, waitingFor: WAITING_FOR.busyProduct() };
  }
  if (written === 'product-gone') return { IsComplete: true, recordId: '' };
  logger.appendKeys({ recordId: written.recordId });

  let record: { status: string; errors?: RecordError[] } = { status: written.status };
  for (let polls = 0; ; polls++) {
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
    const delay = nextPollDelay(Date.now(), deadline, timing.pollIntervalMs, polls);
    if (delay === undefined) {
      logger.info('Waiting for final status', { recordStatus: status });
      return { IsComplete: false, waitingFor: WAITING_FOR.record(written.recordId, status) };
    }
    await sleep(delay);
    try {
      record = await readRecordOrFail(change, written.recordId);
    } catch (e) {
      if (e instanceof ReportedError) throw e;
      logger.warn('DescribeRecord failed for now; waiting', { error: e as Error });
      return { IsComplete: false, waitingFor: WAITING_FOR.unreadableRecord(written.recordId, errorName(e)) };
    }
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
async function writeUntilAccepted(
  event: IsCompleteEvent,
  change: PlannedChange,
  deadline: number,
): Promise<{ recordId: string; status: string } | 'product-gone' | undefined> {
  for (let attempts = 0; ; attempts++) {
    try {
      return await writeProperties(change);
    } catch (e) {
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
 * Before a capture's write: waits (until `deadline`) for Step Functions to list this request's
 * execution, so that a later delivery that reads the written values finds the true priors instead.
 * One call reads executions until the deadline or for the listing scan budget, whichever is later.
 * Within a minute of onEvent only; past that the execution is assumed listed (see deliveries.ts).
 */
async function listedBeforeWrite(event: IsCompleteEvent, deadline: number): Promise<boolean> {
  if (Date.now() > (event.PlannedAt ?? 0) + LISTING_CHECK_WINDOW_MS) return true;
  const readUntil = Math.max(deadline, Date.now() + timing.listingScanBudgetMs);
  for (let polls = 0; ; polls++) {
    if (await isRequestListed(requestOf(event), event.PlannedAt ?? 0, readUntil)) return true;
    const delay = nextPollDelay(Date.now(), deadline, timing.pollIntervalMs, polls + 1);
    if (delay === undefined) return false;
    logger.info('Waiting for Step Functions to list this request before writing');
    await sleep(delay);
  }
}
