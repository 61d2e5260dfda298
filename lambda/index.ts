/**
 * The onEvent and isComplete handlers of the ProvisionedProductProperties custom resource.
 *
 * onEvent validates, reads the product and settles the physical id, which records the prior owner
 * and launch role. It never writes: a redelivered onEvent must read the true priors again, so the
 * write happens in isComplete, with an IdempotencyToken derived from the RequestId so that however
 * often isComplete runs, the change is applied once. isComplete then watches the record itself for
 * a short window (the fast path) and leaves slower records to the waiter's next call.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import {
  ATTRIBUTE,
  PROPERTY_KEYS,
  RESOURCE_PROPERTY,
  parseBoolean,
  parseResourceProperties,
  type PropertyKey,
  accountOf,
} from '../lib/rules';
import {
  type ChangePlan,
  type PropertyValues,
  type RecordError,
  hasWrites,
  idempotencyToken,
  managedKeys,
  nextPollDelay,
  waiterWillGiveUp,
  planApply,
  planRestore,
  recordFailedMessage,
  recordOutcome,
  valuesAreSettled,
} from './decisions';
import { decodePhysicalId, encodePhysicalId, type PhysicalIdFields } from './physical-id';
import {
  type ProductState,
  type WriteRequest,
  errorName,
  isTransient,
  readProduct,
  readRecord,
  sleep,
  writeProperties,
} from './service-catalog';

const logger = new Logger({ serviceName: 'provisioned-product-properties' });

/** Handler timing, set by the construct through the environment (the tests compress it). */
const timing = {
  /** How long after onEvent isComplete keeps polling the record itself. */
  fastPathWindowMs: envNumber('FAST_PATH_WINDOW_MS', 15_000),
  /** Pause between DescribeRecord calls (and between retries of a busy product): at most one per this. */
  pollIntervalMs: envNumber('POLL_INTERVAL_MS', 1_000),
  /** Attempts and pause of the owner search, whose index can lag a new product. */
  searchAttempts: envNumber('SEARCH_ATTEMPTS', 5),
  searchDelayMs: envNumber('SEARCH_DELAY_MS', 1_000),
  /** The provider's totalTimeout and queryInterval (0: unknown): isComplete gives up, with its own message, before the waiter does. */
  totalTimeoutMs: envNumber('TOTAL_TIMEOUT_MS', 0),
  queryIntervalMs: envNumber('QUERY_INTERVAL_MS', 5_000),
};

/** The part of a CloudFormation custom resource event the handler reads. The ResponseURL is never read or logged. */
export interface CustomResourceEvent {
  readonly RequestType: 'Create' | 'Update' | 'Delete';
  readonly RequestId: string;
  readonly LogicalResourceId: string;
  readonly StackId?: string;
  readonly PhysicalResourceId?: string;
  readonly ResourceProperties: Record<string, unknown>;
  readonly OldResourceProperties?: Record<string, unknown>;
}

/** The write onEvent settled, carried to every isComplete call of the event. */
export interface PlannedChange {
  readonly ProductId: string;
  readonly Properties: Partial<PropertyValues>;
  readonly IdempotencyToken: string;
  readonly AcceptLanguage?: string;
  /** Why: 'apply' (Create/Update) or 'restore' (Delete). Used in messages. */
  readonly Purpose: 'apply' | 'restore';
}

/** What onEvent returns; the provider framework merges it into the event isComplete receives. */
export interface OnEventResult {
  readonly PhysicalResourceId: string;
  /** The write isComplete makes; absent when the values already match. */
  readonly PlannedChange?: PlannedChange;
  /** When onEvent finished (epoch ms): the fast path's window counts from here. */
  readonly PlannedAt: number;
}

/** What isComplete receives: the event plus onEvent's result. */
export type IsCompleteEvent = CustomResourceEvent & Partial<OnEventResult>;

/** What isComplete returns. Data only with IsComplete true, as the framework requires. */
export type IsCompleteResult = { IsComplete: false } | { IsComplete: true; Data: Record<string, string> };

/** onEvent: validate, read, settle the physical id and plan the write. */
export async function onEvent(event: CustomResourceEvent): Promise<OnEventResult> {
  setLogContext(event);
  switch (event.RequestType) {
    case 'Create':
      return startManaging(event, parseResourceProperties(event.ResourceProperties));
    case 'Update':
      return onUpdate(event);
    case 'Delete':
      return onDelete(event);
    default:
      throw new Error(
        `Unknown RequestType ${JSON.stringify((event as { RequestType: unknown }).RequestType)}: expected Create, Update or Delete.`,
      );
  }
}

/** Update: same product keeps its physical id and priors; another product is a replacement. */
async function onUpdate(event: CustomResourceEvent): Promise<OnEventResult> {
  const desired = parseResourceProperties(event.ResourceProperties);
  const recorded = decodePhysicalId(event.PhysicalResourceId);
  if (!recorded || recorded.productId !== desired.productId) {
    logger.info('Replacing: the resource now manages another product', {
      previousProductId: recorded?.productId ?? '(not recorded)',
    });
    return startManaging(event, desired);
  }
  const product = await mustReadProduct(desired.productId, desired.acceptLanguage);
  const previouslyManaged = lenientManagedKeys(event.OldResourceProperties);
  const plan = planApply(desired.properties, previouslyManaged, priorsOf(recorded), comparable(product));
  return planned(event, event.PhysicalResourceId as string, recorded, plan, 'apply', desired.acceptLanguage);
}

/** Create and replacement: capture the priors in a new physical id, then plan the write. */
async function startManaging(event: CustomResourceEvent, desired: ReturnType<typeof parseResourceProperties>): Promise<OnEventResult> {
  const product = await mustReadProduct(desired.productId, desired.acceptLanguage);
  if (!product.ownerKnown) {
    throw new Error(
      `Cannot read the current owner of provisioned product ${desired.productId}: SearchProvisionedProducts did not list it after ${timing.searchAttempts} attempts, ` +
        'so its owner could not be recorded for restoring later. Nothing was changed. Retry the deployment; if it persists, check that the product is visible with `aws servicecatalog search-provisioned-products --access-level-filter Key=Account,Value=self`.',
    );
  }
  checkAccount(desired.productId, product, desired.properties);
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
async function onDelete(event: CustomResourceEvent): Promise<OnEventResult> {
  const physicalId = event.PhysicalResourceId ?? '';
  const none: OnEventResult = { PhysicalResourceId: physicalId, PlannedAt: Date.now() };
  const recorded = decodePhysicalId(physicalId);
  if (!recorded) {
    logger.info('Nothing to restore: the physical id was not written by this resource (a failed Create, or an older version)', {
      physicalResourceId: physicalId,
    });
    return none;
  }
  appendKeys({ provisionedProductId: recorded.productId });
  const props = event.ResourceProperties ?? {};
  if (parseBoolean(props[RESOURCE_PROPERTY.restoreOnDelete], true) === false) {
    logger.info('restoreOnDelete is false: leaving the owner and launch role as they are');
    return none;
  }
  const acceptLanguage =
    typeof props[RESOURCE_PROPERTY.acceptLanguage] === 'string'
      ? (props[RESOURCE_PROPERTY.acceptLanguage] as string) || undefined
      : undefined;
  let product: ProductState | undefined;
  try {
    product = await readProduct(recorded.productId, acceptLanguage, { attempts: timing.searchAttempts, delayMs: timing.searchDelayMs });
  } catch (e) {
    throw restoreFailed(recorded.productId, recorded, e);
  }
  if (!product) {
    logger.info('Nothing to restore: the provisioned product no longer exists');
    return none;
  }
  const plan = planRestore(lenientManagedKeys(props), priorsOf(recorded), comparable(product));
  return planned(event, physicalId, recorded, plan, 'restore', acceptLanguage);
}

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
      {
        key: skip.key,
        currentValue: skip.current,
      },
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
  };
  logger.info('Planned the write; isComplete applies it', { properties: plan.write });
  return { PhysicalResourceId: physicalId, PlannedChange: change, PlannedAt: Date.now() };
}

/** isComplete: apply the planned write (idempotently) and report when its record has finished. */
export async function isComplete(event: IsCompleteEvent): Promise<IsCompleteResult> {
  setLogContext(event);
  const recorded = decodePhysicalId(event.PhysicalResourceId);
  const data: Record<string, string> = {
    [ATTRIBUTE.recordId]: '',
    [ATTRIBUTE.previousOwnerArn]: recorded?.priorOwnerArn ?? '',
    [ATTRIBUTE.previousLaunchRoleArn]: recorded?.priorLaunchRoleArn ?? '',
  };
  const change = event.PlannedChange;
  if (!change) return { IsComplete: true, Data: data };

  try {
    const result = await applyAndWait(event, change, recorded, data);
    if (result.IsComplete) return result;
    if (timing.totalTimeoutMs > 0 && waiterWillGiveUp(Date.now(), event.PlannedAt ?? 0, timing.totalTimeoutMs, timing.queryIntervalMs)) {
      throw new ReportedError(timedOutMessage(change, recorded, result.waitingFor));
    }
    return { IsComplete: false };
  } catch (e) {
    // A restore must never fail silently: whatever went wrong, say which values were not put back.
    if (change.Purpose === 'restore' && !(e instanceof ReportedError)) throw restoreFailed(change.ProductId, recorded, e);
    throw e;
  }
}

/** Applies the planned write and watches its record until done, or until the fast-path window ends. */
async function applyAndWait(
  event: IsCompleteEvent,
  change: PlannedChange,
  recorded: PhysicalIdFields | undefined,
  data: Record<string, string>,
): Promise<{ IsComplete: true; Data: Record<string, string> } | { IsComplete: false; waitingFor: string }> {
  // Within the window after onEvent, poll here; after it, check once per waiter call.
  const deadline = Math.max(Date.now(), (event.PlannedAt ?? 0) + timing.fastPathWindowMs);
  const written = await writeUntilAccepted(event, change, recorded, deadline);
  if (!written)
    return {
      IsComplete: false,
      waitingFor: 'the product to accept the change (it stayed busy: UNDER_CHANGE or PLAN_IN_PROGRESS, or unreachable)',
    };
  if (written === 'product-gone') return { IsComplete: true, Data: data };
  appendKeys({ recordId: written.recordId });
  data[ATTRIBUTE.recordId] = written.recordId;

  let record: { status: string; errors?: RecordError[] } = { status: written.status };
  for (let polls = 0; ; polls++) {
    const status = record.status;
    switch (recordOutcome(status)) {
      case 'succeeded':
        logger.info('Record succeeded', { properties: change.Properties });
        return { IsComplete: true, Data: data };
      case 'failed': {
        const errors = record.errors ?? (await readRecord(written.recordId, change.AcceptLanguage)).errors;
        logger.error('Record failed', { recordErrors: errors });
        throw new ReportedError(recordFailedMessage(purposeText(change, recorded), change.ProductId, written.recordId, errors));
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
  recorded: PhysicalIdFields | undefined,
  deadline: number,
): Promise<{ recordId: string; status: string } | 'product-gone' | undefined> {
  const request: WriteRequest = {
    productId: change.ProductId,
    properties: change.Properties,
    idempotencyToken: change.IdempotencyToken,
    acceptLanguage: change.AcceptLanguage,
  };
  for (let attempts = 0; ; attempts++) {
    try {
      return await writeProperties(request);
    } catch (e) {
      const name = errorName(e);
      if (name === 'ResourceNotFoundException' && event.RequestType === 'Delete') {
        logger.info('Nothing to restore: the provisioned product no longer exists');
        return 'product-gone';
      }
      if (name !== 'InvalidStateException' && !isTransient(e)) {
        throw new ReportedError(`${writeFailedMessage(change, recorded)} ${name}: ${(e as Error).message}`, { cause: e });
      }
      const delay = nextPollDelay(Date.now(), deadline, timing.pollIntervalMs, attempts + 1);
      logger.info(name === 'InvalidStateException' ? 'Product is busy; retrying the write' : 'Write failed for now; retrying', {
        error: name,
      });
      if (delay === undefined) return undefined;
      await sleep(delay);
    }
  }
}

/** An error whose message already says all a user needs: not wrapped again. */
class ReportedError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ReportedError';
  }
}

/** The error of a Delete that could not put the prior values back, naming the product and those values. */
function restoreFailed(productId: string, recorded: PhysicalIdFields | undefined, e: unknown): ReportedError {
  const error = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  const priors: string[] = [];
  if (recorded?.priorOwnerArn) priors.push(`OWNER=${recorded.priorOwnerArn}`);
  if (recorded?.priorLaunchRoleArn) priors.push(`LAUNCH_ROLE=${recorded.priorLaunchRoleArn}`);
  logger.error('Restore failed', { error: e as Error });
  return new ReportedError(
    `Could not restore provisioned product ${productId} to the values it had before this resource changed them ` +
      `(prior owner ${quote(recorded?.priorOwnerArn)}, prior launch role ${quote(recorded?.priorLaunchRoleArn)}): ${error}. ` +
      `The product keeps its current values. Delete again once the cause is fixed, or restore them by hand with ` +
      `\`aws servicecatalog update-provisioned-product-properties --provisioned-product-id ${productId} --provisioned-product-properties ${priors.join(',')}\`.`,
    { cause: e },
  );
}

function purposeText(change: PlannedChange, recorded: PhysicalIdFields | undefined): string {
  if (change.Purpose === 'apply') return `setting ${describe(change.Properties)}`;
  return `restoring the prior values ${describe(change.Properties)} (prior owner ${quote(recorded?.priorOwnerArn)}, prior launch role ${quote(recorded?.priorLaunchRoleArn)}); restore them by hand with \`aws servicecatalog update-provisioned-product-properties\``;
}

function timedOutMessage(change: PlannedChange, recorded: PhysicalIdFields | undefined, waitingFor: string): string {
  const ms = timing.totalTimeoutMs;
  const total = ms >= 60_000 ? `${+(ms / 60_000).toFixed(1)} min` : `${+(ms / 1000).toFixed(1)} s`;
  return (
    `Gave up after the provider's totalTimeout (${total}) waiting for ${waitingFor}, on provisioned product ${change.ProductId} while ${purposeText(change, recorded)}. ` +
    'A record still running may yet finish; a rollback waits for it before writing. Find what holds the product with ' +
    `\`aws servicecatalog describe-provisioned-product --id ${change.ProductId}\`, then deploy again, or raise totalTimeout (at most 1 hour).`
  );
}

function writeFailedMessage(change: PlannedChange, recorded: PhysicalIdFields | undefined): string {
  return `UpdateProvisionedProductProperties on provisioned product ${change.ProductId} was rejected while ${purposeText(change, recorded)}.`;
}

function describe(properties: Partial<PropertyValues>): string {
  return PROPERTY_KEYS.filter((k) => properties[k] !== undefined)
    .map((k) => `${k}=${properties[k]}`)
    .join(', ');
}

function quote(value: string | undefined): string {
  return value ? value : '(none)';
}

async function mustReadProduct(productId: string, acceptLanguage: string | undefined): Promise<ProductState> {
  const product = await readProduct(productId, acceptLanguage, { attempts: timing.searchAttempts, delayMs: timing.searchDelayMs });
  if (!product) {
    throw new Error(
      `Provisioned product ${JSON.stringify(productId)} was not found in this account and region (ResourceNotFoundException from DescribeProvisionedProduct). ` +
        'Check provisionedProductId and that the stack deploys to the account and region of the product.',
    );
  }
  return product;
}

/** OWNER and LAUNCH_ROLE must be principals of the product's own account. */
function checkAccount(productId: string, product: ProductState, properties: Partial<Record<PropertyKey, string>>): void {
  const productAccount = accountOf(product.arn);
  if (!productAccount) return;
  for (const key of managedKeys(properties)) {
    const account = accountOf(properties[key] as string);
    if (account && account !== productAccount) {
      throw new Error(
        `${key} ${JSON.stringify(properties[key])} is in account ${account}, but provisioned product ${productId} is in account ${productAccount}. ` +
          "Service Catalog accepts only principals of the product's own account: use an ARN from that account.",
      );
    }
  }
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

function priorsOf(recorded: PhysicalIdFields): PropertyValues {
  return { OWNER: recorded.priorOwnerArn, LAUNCH_ROLE: recorded.priorLaunchRoleArn };
}

/** The managed keys of properties that may not pass validation (old or deleted ones). */
function lenientManagedKeys(props: Record<string, unknown> | undefined): PropertyKey[] {
  const map = props?.[RESOURCE_PROPERTY.properties];
  if (!map || typeof map !== 'object') return [];
  return PROPERTY_KEYS.filter((k) => typeof (map as Record<string, unknown>)[k] === 'string');
}

function setLogContext(event: CustomResourceEvent): void {
  logger.resetKeys();
  const productId = event.ResourceProperties?.[RESOURCE_PROPERTY.productId];
  appendKeys({
    requestType: event.RequestType,
    logicalResourceId: event.LogicalResourceId,
    requestId: event.RequestId,
    provisionedProductId: typeof productId === 'string' ? productId : undefined,
  });
}

function appendKeys(keys: Record<string, string | undefined>): void {
  logger.appendKeys(keys);
}

function envNumber(name: string, fallback: number): number {
  const raw = process.env[name];
  const value = raw === undefined || raw === '' ? NaN : Number(raw);
  return Number.isFinite(value) && value >= 0 ? value : fallback;
}
