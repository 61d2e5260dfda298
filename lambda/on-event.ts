/**
 * onEvent's work: validate, read the product, settle the physical id (the priors) and plan the write. It never writes.
 *
 * A redelivered onEvent must read the true priors again, so the write happens in isComplete; a
 * delivery that may follow an earlier one's write answers with that delivery's decision instead
 * (deliveries.ts).
 */
import { type PropertyKey, type PropertyValues, checkHome, homeOf } from '../lib/rules';
import { timing } from './config';
import { type WriteDecision, hasWrites, idempotencyToken, planApply, planRestore, valuesAreSettled } from './decisions';
import { mayFollowAnEarlierDelivery, requestOf } from './deliveries';
import type { CustomResourceEvent, OnEventResult, PlannedChange } from './events';
import { logger } from './logger';
import {
  earlierDecisionOtherProduct,
  earlierDecisionUndeclared,
  ownerUnknown,
  physicalIdNamesOtherProduct,
  productNotFound,
  restoreFailed,
  unknownRequestType,
} from './messages';
import { decodePhysicalId, encodePhysicalId, type PhysicalIdFields } from './physical-id';
import { findEarlierDecision } from './request-lookup';
import { type DesiredProperties, parseResourceProperties, readLeniently } from './resource-properties';
import { type ProductState, readProduct } from './service-catalog';

/** Plans the event: its physical id, and the write isComplete is to make. */
export function planEvent(event: CustomResourceEvent): Promise<OnEventResult> {
  switch (event.RequestType) {
    case 'Create':
      return startManaging(event, parseResourceProperties(event.ResourceProperties));
    case 'Update':
      return onUpdate(event);
    case 'Delete':
      return onDelete(event);
    default:
      throw new Error(unknownRequestType((event as { RequestType: unknown }).RequestType));
  }
}

/** Update: same product keeps its physical id and priors; another product is a replacement. */
async function onUpdate(event: CustomResourceEvent & { RequestType: 'Update' }): Promise<OnEventResult> {
  const desired = parseResourceProperties(event.ResourceProperties);
  const recorded = decodePhysicalId(event.PhysicalResourceId);
  const old = readLeniently(event.OldResourceProperties);
  // A rollback of a failed replacement sends the old id with the old product as the *new* properties.
  if (recorded) checkSameProduct(recorded, [old.productId, desired.productId], 'OldResourceProperties or ResourceProperties');
  if (!recorded || recorded.productId !== desired.productId) {
    logger.info('Replacing: the resource now manages another product', {
      previousProductId: recorded?.productId ?? '(not recorded)',
    });
    return startManaging(event, desired);
  }
  const product = await mustReadProduct(desired.productId, desired.acceptLanguage);
  checkProductHome(desired, product);
  // A key the old properties managed and the new ones do not is restored, but only when the old
  // properties were about this product: in the rollback of a failed replacement they name the other
  // product, and a key managed there was never changed here.
  const previouslyManaged = old.productId === recorded.productId ? old.managedKeys : [];
  const decision = planApply(desired.properties, previouslyManaged, priorsOf(recorded), valuesToCompare(product));
  return answer({
    event,
    physicalId: event.PhysicalResourceId,
    recorded,
    decision,
    purpose: 'apply',
    acceptLanguage: desired.acceptLanguage,
  });
}

/** Create and replacement: capture the priors in a new physical id, then plan the write. */
async function startManaging(event: CustomResourceEvent, desired: DesiredProperties): Promise<OnEventResult> {
  const product = await mustReadProduct(desired.productId, desired.acceptLanguage);
  if (!product.ownerKnown) throw new Error(ownerUnknown(desired.productId, timing.searchAttempts));
  checkProductHome(desired, product);
  if (mayFollowAnEarlierDelivery(valuesAreSettled(product.status), product.values, desired.properties)) {
    const earlier = await findEarlierDecision(requestOf(event), desired.productId);
    if (earlier) return adopt(earlier, desired);
  }
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
  const decision = planApply(desired.properties, [], product.values, valuesToCompare(product));
  return answer({
    event,
    physicalId,
    recorded: fields,
    decision,
    purpose: 'apply',
    acceptLanguage: desired.acceptLanguage,
    capturesPriors: true,
  });
}

/**
 * An earlier delivery's decision, checked like any physical id before it is answered again: it must
 * name this product, and the write it planned must be one of this request's declared values.
 */
function adopt(earlier: OnEventResult, desired: DesiredProperties): OnEventResult {
  const productId = desired.productId;
  const recorded = decodePhysicalId(earlier.PhysicalResourceId);
  const change = earlier.PlannedChange;
  if (!recorded || recorded.productId !== productId || (change && change.ProductId !== productId)) {
    throw new Error(earlierDecisionOtherProduct(earlier.PhysicalResourceId, productId));
  }
  const undeclared = Object.entries(change?.Properties ?? {}).filter(([key, value]) => desired.properties[key as PropertyKey] !== value);
  if (change && (change.Purpose !== 'apply' || undeclared.length > 0)) {
    throw new Error(earlierDecisionUndeclared(change, productId));
  }
  return earlier;
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
  checkSameProduct(recorded, [props.productId], 'ResourceProperties');
  if (!props.restoreOnDelete) {
    logger.info('restoreOnDelete is false: leaving the owner and launch role as they are');
    return none;
  }
  let product: ProductState | undefined;
  try {
    product = await readProduct(recorded.productId, props.acceptLanguage, searchRetry());
  } catch (e) {
    const priors = priorsOf(recorded);
    // What a restore would write, not knowing the current values: every managed key that has a prior.
    throw restoreFailed(recorded.productId, priors, planRestore(props.managedKeys, priors, undefined).write, e);
  }
  if (!product) {
    logger.info('Nothing to restore: the provisioned product no longer exists');
    return none;
  }
  const decision = planRestore(props.managedKeys, priorsOf(recorded), valuesToCompare(product));
  return answer({ event, physicalId, recorded, decision, purpose: 'restore', acceptLanguage: props.acceptLanguage });
}

/** What onEvent settled for one event, from which it answers. */
interface Settled {
  readonly event: CustomResourceEvent;
  readonly physicalId: string;
  /** What the physical id records: the product and its priors. */
  readonly recorded: PhysicalIdFields;
  readonly decision: WriteDecision;
  readonly purpose: PlannedChange['Purpose'];
  readonly acceptLanguage: string | undefined;
  /** Whether this event captured the priors (Create, replacement); see {@link PlannedChange.CapturesPriors}. */
  readonly capturesPriors?: boolean;
}

/** onEvent's answer: the physical id, and the write isComplete is to make (none when nothing changes). */
function answer({ event, physicalId, recorded, decision, purpose, acceptLanguage, capturesPriors = false }: Settled): OnEventResult {
  for (const skip of decision.skipped) {
    logger.warn(
      'No prior value to restore: the product had none before this resource changed it, and Service Catalog cannot clear it. Leaving it as it is.',
      { key: skip.key, currentValue: skip.current },
    );
  }
  if (!hasWrites(decision)) {
    logger.info('Nothing to write: the product already has the target values');
    return { PhysicalResourceId: physicalId, PlannedAt: Date.now() };
  }
  const change: PlannedChange = {
    ProductId: recorded.productId,
    Properties: decision.write,
    IdempotencyToken: idempotencyToken(event.RequestId, recorded.productId, decision.write),
    AcceptLanguage: acceptLanguage,
    Purpose: purpose,
    Priors: priorsOf(recorded),
    CapturesPriors: capturesPriors,
  };
  logger.info('Planned the write; isComplete applies it', { properties: decision.write });
  return { PhysicalResourceId: physicalId, PlannedChange: change, PlannedAt: Date.now() };
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
function valuesToCompare(product: ProductState): PropertyValues | undefined {
  if (valuesAreSettled(product.status)) return product.values;
  logger.info('Product is busy: its values may still change, so every target is written once it is free', {
    productStatus: product.status,
  });
  return undefined;
}

/**
 * The product a physical id names must be one its event's properties name: an id that names
 * another product (forged, or from another resource) would restore that product to values it
 * never had.
 */
function checkSameProduct(recorded: PhysicalIdFields, propertiesProductIds: ReadonlyArray<string | undefined>, where: string): void {
  if (propertiesProductIds.includes(recorded.productId)) return;
  throw new Error(physicalIdNamesOtherProduct(recorded.productId, propertiesProductIds, where));
}

/**
 * Every ARN the event sets must be in the product's partition and account: Service Catalog's own
 * answer to a foreign one is not documented, and nothing must be written on it.
 */
function checkProductHome(desired: DesiredProperties, product: ProductState): void {
  const problems = checkHome(desired.properties, homeOf(product.arn) ?? {}, `provisioned product ${desired.productId}`);
  if (problems.length > 0) throw new Error(`Invalid ProvisionedProductProperties: ${problems.join(' | ')}`);
}

function priorsOf(recorded: PhysicalIdFields): PropertyValues {
  return { OWNER: recorded.priorOwnerArn, LAUNCH_ROLE: recorded.priorLaunchRoleArn };
}
