/**
 * The onEvent and isComplete handlers: orchestration only; rules, decisions, messages and AWS calls live in their own modules.
 *
 * onEvent validates, reads the product and settles the physical id, which records the prior owner
 * and launch role. It never writes: a redelivered onEvent must read the true priors again, so the
 * write happens in isComplete, with an IdempotencyToken derived from the RequestId so that however
 * often isComplete runs, the change is applied once. isComplete then watches the record itself for
 * a short window (the fast path) and leaves slower records to the waiter's next call.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Logger } from '@aws-lambda-powertools/logger';
import type { RecordError } from '@aws-sdk/client-service-catalog';
import { ATTRIBUTE, RESOURCE_PROPERTY, SERVICE_NAME } from '../lib/contract';
import { type DesiredProperties, parseResourceProperties, readLeniently } from '../lib/resource-properties';
import { checkHome, homeOf, show } from '../lib/rules';
import { timing } from './config';
import {
  type ChangePlan,
  type PropertyValues,
  hasWrites,
  idempotencyToken,
  nextPollDelay,
  planApply,
  planRestore,
  recordOutcome,
  valuesAreSettled,
  waiterWillGiveUp,
} from './decisions';
import type { CustomResourceEvent, IsCompleteEvent, IsCompleteResult, OnEventResult, PlannedChange } from './events';
import { ReportedError, bounded, ownerUnknown, productNotFound, recordFailed, restoreFailed, timedOut, writeRejected } from './messages';
import { decodePhysicalId, encodePhysicalId, type PhysicalIdFields } from './physical-id';
import { type ProductState, errorName, isTransient, readProduct, readRecord, writeProperties } from './service-catalog';

export type { CustomResourceEvent, IsCompleteEvent, IsCompleteResult, OnEventResult, PlannedChange } from './events';

const logger = new Logger({ serviceName: SERVICE_NAME });
/** The longest request value repeated on every log line (a product id is at most 100 characters). */
const MAX_CONTEXT_CHARACTERS = 128;

/** onEvent: validate, read, settle the physical id and plan the write. */
export async function onEvent(event: CustomResourceEvent): Promise<OnEventResult> {
  try {
    checkIsEvent(event, 'onEvent');
    setLogContext(event);
    return await routeEvent(event);
  } catch (e) {
    throw reported(e);
  }
}

/** Logs a failure once, in full, and returns it bounded for CloudFormation's Reason. */
function reported(e: unknown): unknown {
  logger.error('Failed', { error: e as Error });
  return bounded(e);
}

function routeEvent(event: CustomResourceEvent): Promise<OnEventResult> {
  switch (event.RequestType) {
    case 'Create':
      return startManaging(event, parseResourceProperties(event.ResourceProperties));
    case 'Update':
      return onUpdate(event);
    case 'Delete':
      return onDelete(event);
    default:
      throw new Error(`Unknown RequestType ${show((event as { RequestType: unknown }).RequestType)}: expected Create, Update or Delete.`);
  }
}

/** Update: same product keeps its physical id and priors; another product is a replacement. */
async function onUpdate(event: CustomResourceEvent & { RequestType: 'Update' }): Promise<OnEventResult> {
  const desired = parseResourceProperties(event.ResourceProperties);
  const recorded = decodePhysicalId(event.PhysicalResourceId);
  const old = readLeniently(event.OldResourceProperties);
  if (recorded) checkSameProduct(recorded, old.productId, 'OldResourceProperties');
  if (!recorded || recorded.productId !== desired.productId) {
    logger.info('Replacing: the resource now manages another product', {
      previousProductId: recorded?.productId ?? '(not recorded)',
    });
    return startManaging(event, desired);
  }
  const product = await mustReadProduct(desired.productId, desired.acceptLanguage);
  const plan = planApply(desired.properties, old.managedKeys, priorsOf(recorded), comparable(product));
  return planned(event, event.PhysicalResourceId, recorded, plan, 'apply', desired.acceptLanguage);
}

/** Create and replacement: capture the priors in a new physical id, then plan the write. */
async function startManaging(event: CustomResourceEvent, desired: DesiredProperties): Promise<OnEventResult> {
  const product = await mustReadProduct(desired.productId, desired.acceptLanguage);
  if (!product.ownerKnown) throw new Error(ownerUnknown(desired.productId, timing.searchAttempts));
  const homeProblems = checkHome(desired.properties, homeOf(product.arn) ?? {}, `provisioned product ${desired.productId}`);
  if (homeProblems.length > 0) throw new Error(`Invalid ProvisionedProductProperties: ${homeProblems.join(' | ')}`);
  const fields: PhysicalIdFields = {
    productId: desired.productId,
    priorOwnerArn: product.values.OWNER,
    priorLaunchRoleArn: product.values.LAUNCH_ROLE,
  };
  const physicalId = encodePhysicalId(fields);
  logger.info('Recorded the prior owner and launch role', {
    priorOwnerArn: fields.priorOwnerArn,
    priorLaunchRoleArn: fields.priorLaunchRoleArn,
  });
  const plan = planApply(desired.properties, [], product.values, comparable(product));
  return planned(event, physicalId, fields, plan, 'apply', desired.acceptLanguage);
}

/** Delete: put the managed keys back to their priors, unless told not to or there is nothing to do. */
async function onDelete(event: CustomResourceEvent & { RequestType: 'Delete' }): Promise<OnEventResult> {
  const physicalId = event.PhysicalResourceId ?? '';
  const none: OnEventResult = { PhysicalResourceId: physicalId, PlannedAt: Date.now() };
  const recorded = decodePhysicalId(physicalId);
  if (!recorded) {
    logger.info('Nothing to restore: the physical id was not written by this resource (a failed Create, or an older version)', {
      physicalResourceId: physicalId,
    });
    return none;
  }
  logger.appendKeys({ provisionedProductId: recorded.productId });
  const props = readLeniently(event.ResourceProperties);
  checkSameProduct(recorded, props.productId, 'ResourceProperties');
  if (!props.restoreOnDelete) {
    logger.info('restoreOnDelete is false: leaving the owner and launch role as they are');
    return none;
  }
  let product: ProductState | undefined;
  try {
    product = await readProduct(recorded.productId, props.acceptLanguage, searchRetry());
  } catch (e) {
    throw restoreFailed(recorded.productId, priorsOf(recorded), e);
  }
  if (!product) {
    logger.info('Nothing to restore: the provisioned product no longer exists');
    return none;
  }
  const plan = planRestore(props.managedKeys, priorsOf(recorded), comparable(product));
  return planned(event, physicalId, recorded, plan, 'restore', props.acceptLanguage);
}

/** onEvent's answer: the physical id, and the write isComplete is to make (none when nothing changes). */
function planned(
  event: CustomResourceEvent,
  physicalId: string,
  recorded: PhysicalIdFields,
  plan: ChangePlan,
  purpose: PlannedChange['Purpose'],
  acceptLanguage: string | undefined,
): OnEventResult {
  for (const skip of plan.skipped) {
    logger.warn(
      'No prior value to restore: the product had none before this resource changed it, and Service Catalog cannot clear it. Leaving it as it is.',
      { key: skip.key, currentValue: skip.current },
    );
  }
  if (!hasWrites(plan)) {
    logger.info('Nothing to write: the product already has the target values');
    return { PhysicalResourceId: physicalId, PlannedAt: Date.now() };
  }
  const change: PlannedChange = {
    ProductId: recorded.productId,
    Properties: plan.write,
    IdempotencyToken: idempotencyToken(event.RequestId, recorded.productId, plan.write),
    AcceptLanguage: acceptLanguage,
    Purpose: purpose,
    Priors: priorsOf(recorded),
  };
  logger.info('Planned the write; isComplete applies it', { properties: plan.write });
  return { PhysicalResourceId: physicalId, PlannedChange: change, PlannedAt: Date.now() };
}

/** isComplete: apply the planned write (idempotently) and report when its record has finished. */
export async function isComplete(event: IsCompleteEvent): Promise<IsCompleteResult> {
  try {
    checkIsEvent(event, 'isComplete');
    setLogContext(event);
    return await checkCompletion(event);
  } catch (e) {
    throw reported(e);
  }
}

async function checkCompletion(event: IsCompleteEvent): Promise<IsCompleteResult> {
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
      throw restoreFailed(change.ProductId, change.Priors, e);
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
  const written = await writeUntilAccepted(event, change, deadline);
  if (!written) {
    return {
      IsComplete: false,
      waitingFor: 'the product to accept the change (it stayed busy: UNDER_CHANGE or PLAN_IN_PROGRESS, or unreachable)',
    };
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
        const errors = record.errors ?? (await readRecord(written.recordId, change.AcceptLanguage)).errors;
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
      return { IsComplete: false, waitingFor: `record ${written.recordId} to finish (last status ${status || 'unknown'})` };
    }
    await sleep(delay);
    try {
      record = await readRecord(written.recordId, change.AcceptLanguage);
    } catch (e) {
      if (!isTransient(e)) throw e;
      logger.warn('DescribeRecord failed for now; waiting', { error: e as Error });
      return { IsComplete: false, waitingFor: `record ${written.recordId} to finish (DescribeRecord failing: ${errorName(e)})` };
    }
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

/** Reads the product, failing the event when it does not exist. */
async function mustReadProduct(productId: string, acceptLanguage: string | undefined): Promise<ProductState> {
  const product = await readProduct(productId, acceptLanguage, searchRetry());
  if (!product) throw new Error(productNotFound(productId));
  return product;
}

function searchRetry(): { attempts: number; delayMs: number } {
  return { attempts: timing.searchAttempts, delayMs: timing.searchDelayMs };
}

/**
 * The product's values to compare targets with, or undefined while a record may still change them:
 * then every target is written, and the write waits (InvalidStateException) until the record is done.
 */
function comparable(product: ProductState): PropertyValues | undefined {
  if (valuesAreSettled(product.status)) return product.values;
  logger.info('Product is busy: its values may still change, so every target is written once it is free', {
    productStatus: product.status,
  });
  return undefined;
}

/**
 * The product a physical id names must be the one its properties name: an id that names another
 * product (forged, or from another resource) would restore that product to values it never had.
 */
function checkSameProduct(recorded: PhysicalIdFields, propertiesProductId: string | undefined, where: string): void {
  if (propertiesProductId === recorded.productId) return;
  throw new Error(
    `PhysicalResourceId names provisioned product ${show(recorded.productId)} but ${where} name ${show(propertiesProductId ?? '(none)')}. ` +
      'A CloudFormation lifecycle never sends such a pair, so nothing was written: if the stack was edited by hand, remove the resource with `aws cloudformation delete-stack --retain-resources <LogicalId>` and check both products yourself.',
  );
}

/** Fails clearly, instead of with a TypeError, when the handler is invoked with something that is not an event. */
function checkIsEvent(event: unknown, handler: string): asserts event is CustomResourceEvent {
  if (typeof event === 'object' && event !== null && !Array.isArray(event)) return;
  throw new Error(
    `${handler} was invoked with ${show(event)}, not a CloudFormation custom resource event: it is meant to be called only by the provider framework.`,
  );
}

function priorsOf(recorded: PhysicalIdFields): PropertyValues {
  return { OWNER: recorded.priorOwnerArn, LAUNCH_ROLE: recorded.priorLaunchRoleArn };
}

/** Request context on every log line of this invocation (never the ResponseURL). */
function setLogContext(event: CustomResourceEvent): void {
  logger.resetKeys();
  const productId = event.ResourceProperties?.[RESOURCE_PROPERTY.productId] as unknown;
  // Every value here arrives from outside and repeats on every line: clipped to a sane length.
  const clip = (value: unknown) => (typeof value === 'string' ? value.slice(0, MAX_CONTEXT_CHARACTERS) : undefined);
  logger.appendKeys({
    requestType: clip(event.RequestType),
    logicalResourceId: clip(event.LogicalResourceId),
    requestId: clip(event.RequestId),
    provisionedProductId: clip(productId),
  });
}
