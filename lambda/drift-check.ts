/**
 * The drift check, run on a schedule: compares every product the stack's resources manage with what
 * the stack declares, reports each difference (a log line per key, metrics in CloudWatch's embedded
 * metric format) and, when the provider is set to restore, writes the declared values back.
 *
 * A restore is a write like a deploy's: under the resource's write lease, and only while the
 * request whose values it restores is still the resource's latest. A deploy that starts meanwhile
 * either waits for the check's write call to return before it reads the product (and writes its own
 * values after it), or has registered first, and then the check writes nothing.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { MetricUnit, Metrics } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';
import { DRIFT, SERVICE_NAME } from '../lib/contract';
import type { PropertyValues } from '../lib/rules';
import { timing } from './config';
import { idempotencyToken, recordOutcome } from './decisions';
import { type Drift, type CheckPlan, driftMemory, findDrift, memoryChanged, productsToCheck, restoreWrite } from './drift-rules';
import type { PlannedChange } from './events';
import { type ResourceRef, ledgerCall, recordDrift, releaseWriteLease, scanResources, takeWriteLease } from './ledger';
import type { LedgerResource } from './ledger-rules';
import { logger } from './logger';
import { errorName, isTransient, readProduct, readRecord, writeProperties } from './service-catalog';

const metrics = new Metrics({ namespace: DRIFT.namespace, serviceName: SERVICE_NAME });

/** What one check found, product by product (also the function's result). */
export interface DriftCheckSummary {
  readonly checked: number;
  readonly drifted: number;
  readonly missing: number;
  readonly failed: number;
  readonly skipped: number;
  readonly restored: number;
}

/** The scheduled event, as far as the check uses it: its id names this run (the same on Lambda's retries of it). */
export interface ScheduledEvent {
  readonly id?: string;
}

/** Leave this much of the invocation for the metrics and the last log lines. */
const MARGIN_MS = 5_000;

/** Runs one check of every product the ledger says the stack manages. */
export async function runDriftCheck(
  event: ScheduledEvent,
  context?: Pick<Context, 'getRemainingTimeInMillis'>,
): Promise<DriftCheckSummary> {
  const started = Date.now();
  const deadline = started + Math.max(0, (context?.getRemainingTimeInMillis() ?? 60_000) - MARGIN_MS);
  const restore = process.env[DRIFT.actionEnv] === 'restore';
  const run = `drift-check#${event.id ?? String(started)}`;
  const counts = { checked: 0, drifted: 0, missing: 0, failed: 0, skipped: 0, restored: 0 };
  let resources: LedgerResource[];
  try {
    resources = await ledgerCall('list the resources the stack manages', scanResources);
  } catch (e) {
    // Nothing was compared: say that the check failed, not that nothing drifted (an alarm on DriftedProducts must not clear).
    publishFailure();
    throw e;
  }
  try {
    for (const resource of resources) {
      const ref = refOfResource(resource);
      if (!ref) continue;
      for (const plan of productsToCheck(resource, Date.now())) {
        if (plan.kind === 'skip') {
          counts.skipped++;
          logger.info('Not checked now: the deploy decides its values', { ...where(ref, plan.productId), reason: plan.reason });
          continue;
        }
        const outcome = await checkProduct(ref, resource, plan, { restore, run, deadline });
        if (outcome === 'missing' || outcome === 'unreadable') {
          counts[outcome === 'missing' ? 'missing' : 'failed']++;
          continue;
        }
        counts.checked++;
        if (outcome === 'in-line') continue;
        counts.drifted++;
        if (outcome === 'restored') counts.restored++;
        if (outcome === 'restore-failed') counts.failed++;
      }
    }
  } finally {
    publish(counts, restore);
  }
  logger.info('Drift check done', { ...counts, durationMs: Date.now() - started });
  return counts;
}

/**
 * What one product's check came to: its values are as declared ('in-line'), differ ('drifted', and
 * with the restore action 'restored', 'restore-failed', or 'drifted' when the restore must wait for
 * the next check), or it could not be compared ('missing', 'unreadable').
 */
type Outcome = 'in-line' | 'drifted' | 'restored' | 'restore-failed' | 'missing' | 'unreadable';

interface RunOptions {
  readonly restore: boolean;
  /** This run's writer id in the ledger, and the seed of its IdempotencyTokens. */
  readonly run: string;
  readonly deadline: number;
}

/** Reads one product, compares it with its declared values, reports and (optionally) restores. */
async function checkProduct(
  ref: ResourceRef,
  resource: LedgerResource,
  plan: Extract<CheckPlan, { kind: 'check' }>,
  options: RunOptions,
): Promise<Outcome> {
  const { productId, declared } = plan;
  let product;
  try {
    product = await readProduct(productId, declared.acceptLanguage, { attempts: timing.searchAttempts, delayMs: timing.searchDelayMs });
  } catch (e) {
    logger.error('Could not read the provisioned product; it is checked again next time', { ...where(ref, productId), error: e as Error });
    return 'unreadable';
  }
  if (!product) {
    logger.warn(
      'The provisioned product no longer exists (terminated since its deploy): its resource still declares it. Remove or update the resource in the stack.',
      { ...where(ref, productId), declared: declared.properties },
    );
    return 'missing';
  }
  const now = Date.now();
  const drift = findDrift(declared.properties, product.values, product.ownerKnown, plan.seen, now);
  const memory = driftMemory(drift);
  if (memoryChanged(plan.seen, memory)) {
    await ledgerCall('record what the drift check found', () => recordDrift(ref, productId, declared.requestId, memory)).catch(
      (e: unknown) => logger.warn('Could not record what the check found; the next check says "first seen" again', { error: e as Error }),
    );
  }
  if (drift.length === 0) return 'in-line';
  for (const d of drift) {
    logger.warn('Drift: a managed value differs from what the stack declares (changed outside the stack)', {
      ...where(ref, productId),
      key: d.key,
      declaredValue: d.declared,
      foundValue: d.found,
      driftedSince: new Date(d.since).toISOString(),
      firstSeen: d.firstSeen ? 'now' : 'by an earlier check',
    });
  }
  if (!options.restore) return 'drifted';
  const priors: PropertyValues = {
    OWNER: resource.priors[productId]?.owner ?? '',
    LAUNCH_ROLE: resource.priors[productId]?.launchRole ?? '',
  };
  return putBackDeclared(ref, declared.requestId, { productId, acceptLanguage: declared.acceptLanguage, priors }, drift, options);
}

/**
 * Writes the drifted keys back to their declared values, under the write lease, and waits for the
 * record (until the deadline: a record still running is seen by the next check).
 */
async function putBackDeclared(
  ref: ResourceRef,
  declaredBy: string,
  target: { productId: string; acceptLanguage?: string; priors: PropertyValues },
  drift: readonly Drift[],
  options: RunOptions,
): Promise<Outcome> {
  const write = restoreWrite(drift);
  const change: PlannedChange = {
    ProductId: target.productId,
    Properties: write,
    IdempotencyToken: idempotencyToken(`${options.run}#${declaredBy}`, target.productId, write),
    AcceptLanguage: target.acceptLanguage,
    Purpose: 'apply',
    Priors: target.priors,
  };
  const at = where(ref, target.productId);
  let written: { recordId: string; status: string } | undefined;
  while (!written) {
    if (Date.now() + timing.pollIntervalMs > options.deadline) {
      logger.warn('Restore not made in this check: the product stayed busy or the write lease held; the next check tries again', at);
      return 'drifted';
    }
    const until = Date.now() + timing.writeLeaseMs;
    const lease = await ledgerCall('take the write lease', () => takeWriteLease(ref, declaredBy, until, options.run));
    if (lease.kind === 'superseded') {
      logger.info('Restore not made: a deploy of this resource started, and it decides the values', {
        ...at,
        latestRequestId: lease.resource.latestRequestId,
      });
      return 'drifted';
    }
    if (lease.kind === 'held') {
      await sleep(timing.pollIntervalMs);
      continue;
    }
    try {
      written = await writeProperties(change, until - timing.writeLeaseMs / 4);
    } catch (e) {
      if (errorName(e) !== 'InvalidStateException' && !isTransient(e)) {
        logger.error('Restore rejected by Service Catalog', { ...at, properties: write, error: e as Error });
        return 'restore-failed';
      }
    } finally {
      await ledgerCall('give back the write lease', () => releaseWriteLease(ref, options.run));
    }
    if (!written) await sleep(timing.pollIntervalMs);
  }
  return watchRestore(at, written.recordId, change, options.deadline);
}

/** Polls the restore's record until it has finished, or until the deadline. */
async function watchRestore(at: Record<string, string>, recordId: string, change: PlannedChange, deadline: number): Promise<Outcome> {
  for (;;) {
    let record;
    try {
      record = await readRecord(recordId, change.AcceptLanguage);
    } catch (e) {
      if (!isTransient(e)) {
        logger.error('Could not read the restore record', { ...at, recordId, error: e as Error });
        return 'restore-failed';
      }
      record = { status: 'IN_PROGRESS', errors: [] };
    }
    switch (recordOutcome(record.status)) {
      case 'succeeded':
        logger.info('Restored the declared values', { ...at, recordId, properties: change.Properties });
        return 'restored';
      case 'failed':
        logger.error('Restore record failed', { ...at, recordId, properties: change.Properties, recordErrors: record.errors });
        return 'restore-failed';
      default:
        if (Date.now() + timing.pollIntervalMs > deadline) {
          logger.warn('Restore record still running at the end of the check; the next check sees its result', { ...at, recordId });
          return 'drifted';
        }
        await sleep(timing.pollIntervalMs);
    }
  }
}

/** The stack's metrics of this check: one EMF line. */
function publish(counts: DriftCheckSummary, restore: boolean): void {
  metrics.addDimension(DRIFT.stackDimension, stackName());
  metrics.addMetric(DRIFT.metric.checked, MetricUnit.Count, counts.checked);
  metrics.addMetric(DRIFT.metric.drifted, MetricUnit.Count, counts.drifted);
  metrics.addMetric(DRIFT.metric.missing, MetricUnit.Count, counts.missing);
  metrics.addMetric(DRIFT.metric.failed, MetricUnit.Count, counts.failed);
  if (restore) metrics.addMetric(DRIFT.metric.restored, MetricUnit.Count, counts.restored);
  metrics.publishStoredMetrics();
}

/** A check that could not list the stack's resources: FailedChecks only. */
function publishFailure(): void {
  metrics.addDimension(DRIFT.stackDimension, stackName());
  metrics.addMetric(DRIFT.metric.failed, MetricUnit.Count, 1);
  metrics.publishStoredMetrics();
}

function stackName(): string {
  return process.env[DRIFT.stackNameEnv] ?? 'unknown';
}

function refOfResource(resource: LedgerResource): ResourceRef | undefined {
  if (resource.stackId === undefined || resource.logicalResourceId === undefined) return undefined;
  return { stackId: resource.stackId, logicalResourceId: resource.logicalResourceId };
}

function where(ref: ResourceRef, productId: string): Record<string, string> {
  return { logicalResourceId: ref.logicalResourceId, provisionedProductId: productId };
}
