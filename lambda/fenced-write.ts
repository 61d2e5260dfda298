/**
 * One write to Service Catalog under the resource's write lease in the ledger, and the watch of the
 * record it started: a write is made only while its request is the resource's latest and never
 * while another request's call may be on its way; a write the ledger already knows is not sent
 * again, its record is watched.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { RecordError } from '@aws-sdk/client-service-catalog';
import { stackInstances, timing } from './config';
import { nextPollDelay, recordOutcome } from './decisions';
import type { IsCompleteEvent, PlannedChange } from './events';
import { ledgerCall, refOf, releaseWriteLease, takeWriteLease } from './ledger';
import { knownRecord } from './ledger-rules';
import { logger } from './logger';
import { ReportedError, WAITING_FOR, recordFailed, recordUnreadable, supersededWrite, writeRejected } from './messages';
import { pollIntervalFor } from './pacing';
import { errorName, isTransient, readRecord, writeProperties } from './service-catalog';

/** The status of a record known from the ledger and not read yet in this call (or of a write answered without one). */
export const RECORD_NOT_READ = '';

/** Where applyAndWait left the change: done (with the record, '' when none was needed), or still waiting and on what. */
export type WaitOutcome = { IsComplete: true; recordId: string } | { IsComplete: false; waitingFor: string };

/** Watches a record until it has finished, or until `deadline` (then the waiter's next call goes on). */
export async function watchRecord(
  change: PlannedChange,
  written: { recordId: string; status: string },
  deadline: number,
): Promise<WaitOutcome> {
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
export type WriteOutcome = { recordId: string; status: string } | 'product-gone' | 'lease-held' | undefined;
export async function writeUntilAccepted(event: IsCompleteEvent, change: PlannedChange, deadline: number): Promise<WriteOutcome>;
export async function writeUntilAccepted(
  event: IsCompleteEvent,
  change: PlannedChange,
  deadline: number,
  knownOnly: true,
): Promise<WriteOutcome | 'not-known'>;
export async function writeUntilAccepted(
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
