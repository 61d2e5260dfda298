/**
 * onEvent's work: register the request in the ledger, validate, read the product, settle the physical id (the priors) and plan the write. It never writes to Service Catalog.
 *
 * It runs once per request (request-ledger.ts: every later delivery answers with this decision),
 * and first registers the request as its resource's latest, so that anything an older request
 * still tries to write is skipped (is-complete.ts). The priors a capture reads are recorded in the
 * ledger as well as in the physical id, and Update and Delete take them from the ledger.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { type PropertyValues, checkHome, homeOf } from '../lib/rules';
import { timing } from './config';
import {
  type HandChange,
  type WriteDecision,
  changesByHand,
  hasWrites,
  idempotencyToken,
  planApply,
  planRestore,
  valuesAreSettled,
} from './decisions';
import type { CustomResourceEvent, OnEventResult, OrphanUndo, PlannedChange } from './events';
import { type ResourceRef, clearDeleted, ledgerCall as ledger, readResource, recordPriors, refOf, registerRequest } from './ledger';
import { type LedgerResource, checkPriors, mustWaitForWriter, orphanedCaptures, physicalIdKey, priorsToRecord } from './ledger-rules';
import { logger } from './logger';
import {
  ReportedError,
  olderRequest,
  physicalIdDeleted,
  ownerUnknown,
  physicalIdNamesOtherProduct,
  priorsDisagree,
  productNotFound,
  restoreFailed,
  unknownRequestType,
  writerStillHolds,
} from './messages';
import { decodePhysicalId, encodePhysicalId, type PhysicalIdFields } from './physical-id';
import { type DesiredProperties, parseResourceProperties, readLeniently } from './resource-properties';
import { type ProductState, readProduct } from './service-catalog';

/** Plans the event: its physical id, and the write isComplete is to make. */
export async function planEvent(event: CustomResourceEvent): Promise<OnEventResult> {
  const type = (event as { RequestType: unknown }).RequestType;
  if (type !== 'Create' && type !== 'Update' && type !== 'Delete') throw new Error(unknownRequestType(type));
  const ref = refOf(event);
  const resource = await register(ref, event);
  if (resource === 'already-deleted') {
    // Only a Delete gets here: CloudFormation sends one again when it took a failure for the first, though a copy of it finished since.
    const physicalResourceId = (event as { PhysicalResourceId?: string }).PhysicalResourceId ?? '';
    logger.info('Nothing to restore: a Delete of this resource already removed this physical id and restored its product', {
      physicalResourceId,
    });
    return { PhysicalResourceId: physicalResourceId, PlannedAt: Date.now() };
  }
  switch (event.RequestType) {
    case 'Create':
      return startManaging(event, parseResourceProperties(event.ResourceProperties), resource);
    case 'Update':
      return onUpdate(event, resource);
    case 'Delete':
      return onDelete(event, resource);
  }
}

/**
 * Registers the request as its resource's latest (refusing a copy of a request a later one has
 * superseded, and an Update of a physical id a Delete removed; a Delete of one has nothing left to
 * do), then waits while an older request's write is on its way to Service Catalog, so that
 * the product read next shows it.
 */
async function register(ref: ResourceRef, event: CustomResourceEvent): Promise<LedgerResource | 'already-deleted'> {
  const physicalId = event.RequestType === 'Create' ? undefined : event.PhysicalResourceId;
  const registration = await ledger('register this request', () => registerRequest(ref, event.RequestId, event.RequestType, physicalId));
  if (registration.targetDeleted) {
    if (event.RequestType === 'Delete') return 'already-deleted';
    throw new ReportedError(physicalIdDeleted(event.RequestType, physicalId ?? ''));
  }
  if (!registration.isLatest) {
    throw new ReportedError(
      olderRequest(event.RequestType, registration.resource.latestRequestType, registration.resource.latestRequestId),
    );
  }
  let resource = registration.resource;
  for (let waits = 0; mustWaitForWriter(resource, event.RequestId, Date.now()); waits++) {
    if (waits === 0)
      logger.info('An earlier request of this resource is writing; waiting before reading the product', { writer: resource.writer });
    if (waits * timing.pollIntervalMs > timing.writeLeaseMs + timing.pollIntervalMs)
      throw new ReportedError(writerStillHolds(resource.writer));
    await sleep(timing.pollIntervalMs);
    resource = await ledger('read this resource', () => readResource(ref));
  }
  return resource;
}

/** Update: same product keeps its physical id and priors; another product is a replacement. */
async function onUpdate(event: CustomResourceEvent & { RequestType: 'Update' }, resource: LedgerResource): Promise<OnEventResult> {
  const desired = parseResourceProperties(event.ResourceProperties);
  const recorded = decodePhysicalId(event.PhysicalResourceId);
  const old = readLeniently(event.OldResourceProperties);
  // A rollback of a failed replacement sends the old id with the old product as the *new* properties.
  if (recorded) checkSameProduct(recorded, [old.productId, desired.productId], 'OldResourceProperties or ResourceProperties');
  const orphans = orphanedCaptures(resource, { physicalResourceId: event.PhysicalResourceId, productId: recorded?.productId })
    .filter((o) => o.productId !== desired.productId)
    .map((o): OrphanUndo => {
      logger.warn('A replacement CloudFormation never adopted changed another product: putting it back first', {
        orphanedProductId: o.productId,
        capturedBy: o.priors.requestId,
      });
      return {
        ProductId: o.productId,
        Priors: { OWNER: o.priors.owner, LAUNCH_ROLE: o.priors.launchRole },
        CapturedBy: o.priors.requestId,
        AcceptLanguage: desired.acceptLanguage,
      };
    });
  const withOrphans = (result: OnEventResult): OnEventResult => (orphans.length > 0 ? { ...result, Orphans: orphans } : result);
  if (!recorded || recorded.productId !== desired.productId) {
    logger.info('Replacing: the resource now manages another product', {
      previousProductId: recorded?.productId ?? '(not recorded)',
    });
    return withOrphans(await startManaging(event, desired, resource));
  }
  const priors = await trustedPriors(event, recorded, resource);
  const product = await mustReadProduct(desired.productId, desired.acceptLanguage);
  checkProductHome(desired, product);
  // A key the old properties managed and the new ones do not is restored, but only when the old
  // properties were about this product: in the rollback of a failed replacement they name the other
  // product, and a key managed there was never changed here.
  const sameProduct = old.productId === recorded.productId;
  const previouslyManaged = sameProduct ? old.managedKeys : [];
  const current = valuesToCompare(product);
  const decision = planApply(desired.properties, previouslyManaged, priors, current);
  return withOrphans(
    answer({
      event,
      physicalId: event.PhysicalResourceId,
      productId: recorded.productId,
      priors,
      decision,
      purpose: 'apply',
      acceptLanguage: desired.acceptLanguage,
      handChanges: changesByHand(
        decision.write,
        current,
        [sameProduct ? old.values : undefined, declaredOf(resource, recorded.productId), priors],
        product.ownerKnown,
      ),
    }),
  );
}

/**
 * Create and replacement: capture the priors in a new physical id and in the ledger, then plan the
 * write. When the ledger already holds priors for this resource and product (an earlier capture
 * that no Delete undid), those are the priors: the product may carry that capture's writes.
 */
async function startManaging(event: CustomResourceEvent, desired: DesiredProperties, resource: LedgerResource): Promise<OnEventResult> {
  const product = await mustReadProduct(desired.productId, desired.acceptLanguage);
  if (!product.ownerKnown) throw new Error(ownerUnknown(desired.productId, timing.searchAttempts));
  checkProductHome(desired, product);
  const toRecord = priorsToRecord(resource.priors[desired.productId], product.values);
  let priors = toRecord.priors;
  // Encoded first, so that values no physical id can hold are refused before the ledger records them.
  const candidate = encodePhysicalId(fieldsOf(desired.productId, priors));
  if (toRecord.reused) {
    logger.info('Kept the priors the ledger recorded when this resource first changed the product (no Delete has undone that capture)', {
      priorOwnerArn: priors.OWNER,
      priorLaunchRoleArn: priors.LAUNCH_ROLE,
    });
  } else {
    const standing = await ledger('record the prior owner and launch role', () =>
      recordPriors(refOf(event), desired.productId, {
        owner: priors.OWNER,
        launchRole: priors.LAUNCH_ROLE,
        requestId: event.RequestId,
        physicalId: candidate,
      }),
    );
    priors = { OWNER: standing.owner, LAUNCH_ROLE: standing.launchRole };
    logger.info('Recorded the prior owner and launch role', { priorOwnerArn: priors.OWNER, priorLaunchRoleArn: priors.LAUNCH_ROLE });
  }
  const physicalId = encodePhysicalId(fieldsOf(desired.productId, priors));
  if (resource.deleted[physicalIdKey(physicalId)] !== undefined) {
    // The same product and priors make the same id: this capture answers with one a Delete removed, so it lives again.
    await ledger('clear the tombstone of the physical id', () => clearDeleted(refOf(event), physicalId));
  }
  const current = valuesToCompare(product);
  const decision = planApply(desired.properties, [], priors, current);
  return answer({
    event,
    physicalId,
    productId: desired.productId,
    priors,
    decision,
    purpose: 'apply',
    acceptLanguage: desired.acceptLanguage,
    // A fresh capture's priors are the values just read; reused ones may meet a change by hand since.
    handChanges: changesByHand(decision.write, current, [priors, declaredOf(resource, desired.productId)], product.ownerKnown),
  });
}

/**
 * The priors to use for a physical id this resource wrote: the ledger's, which must agree with the
 * id's. A physical id from before the ledger (no entry) is taken as it is and gets its entry.
 */
async function trustedPriors(event: CustomResourceEvent, recorded: PhysicalIdFields, resource: LedgerResource): Promise<PropertyValues> {
  const check = checkPriors(priorsOf(recorded), resource.priors[recorded.productId]);
  switch (check.kind) {
    case 'agree':
      return check.priors;
    case 'disagree':
      throw new ReportedError(priorsDisagree(recorded.productId, check.fromId, check.fromLedger));
    case 'adopt':
      await ledger('record the prior owner and launch role', () =>
        recordPriors(refOf(event), recorded.productId, {
          owner: check.priors.OWNER,
          launchRole: check.priors.LAUNCH_ROLE,
          requestId: event.RequestId,
        }),
      );
      logger.info("Recorded the physical id's priors in the ledger (the resource was created before the ledger existed)", {
        priorOwnerArn: check.priors.OWNER,
        priorLaunchRoleArn: check.priors.LAUNCH_ROLE,
      });
      return check.priors;
  }
}

/** Delete: put the managed keys back to their priors, unless told not to or there is nothing to do. */
async function onDelete(event: CustomResourceEvent & { RequestType: 'Delete' }, resource: LedgerResource): Promise<OnEventResult> {
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
  const priors = await trustedPriors(event, recorded, resource);
  if (!props.restoreOnDelete) {
    logger.info('restoreOnDelete is false: leaving the owner and launch role as they are');
    return none;
  }
  let product: ProductState | undefined;
  try {
    product = await readProduct(recorded.productId, props.acceptLanguage, searchRetry());
  } catch (e) {
    // What a restore would write, not knowing the current values: every managed key that has a prior.
    throw restoreFailed(recorded.productId, priors, planRestore(props.managedKeys, priors, undefined).write, e);
  }
  if (!product) {
    logger.info('Nothing to restore: the provisioned product no longer exists');
    return none;
  }
  const current = valuesToCompare(product);
  const decision = planRestore(props.managedKeys, priors, current);
  return answer({
    event,
    physicalId,
    productId: recorded.productId,
    priors,
    decision,
    purpose: 'restore',
    acceptLanguage: props.acceptLanguage,
    handChanges: changesByHand(
      decision.write,
      current,
      [props.values, declaredOf(resource, recorded.productId), priors],
      product.ownerKnown,
    ),
  });
}

/** What onEvent settled for one event, from which it answers. */
interface Settled {
  readonly event: CustomResourceEvent;
  readonly physicalId: string;
  /** The product, and its priors (as the physical id and the ledger record them). */
  readonly productId: string;
  readonly priors: PropertyValues;
  readonly decision: WriteDecision;
  readonly purpose: PlannedChange['Purpose'];
  readonly acceptLanguage: string | undefined;
  /** The managed keys the write overwrites though no one this resource knows of set them. */
  readonly handChanges: readonly HandChange[];
}

/** onEvent's answer: the physical id, and the write isComplete is to make (none when nothing changes). */
function answer({ event, physicalId, productId, priors, decision, purpose, acceptLanguage, handChanges }: Settled): OnEventResult {
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
  for (const change of handChanges) {
    logger.warn(
      purpose === 'restore'
        ? 'Restoring the prior value over one changed by hand: neither the stack declared it nor was it the prior'
        : 'Writing the declared value over one changed by hand: neither the stack declared it nor was it the prior',
      { provisionedProductId: productId, key: change.key, foundValue: change.found, writtenValue: change.writing },
    );
  }
  const change: PlannedChange = {
    ProductId: productId,
    Properties: decision.write,
    IdempotencyToken: idempotencyToken(event.RequestId, productId, decision.write),
    AcceptLanguage: acceptLanguage,
    Purpose: purpose,
    Priors: priors,
  };
  logger.info('Planned the write; isComplete applies it', { properties: decision.write });
  return {
    PhysicalResourceId: physicalId,
    PlannedChange: change,
    PlannedAt: Date.now(),
    ...(handChanges.length > 0 ? { ChangedByHand: handChanges } : {}),
  };
}

/** What a completed request of the resource declared for the product, as the ledger recorded it. */
function declaredOf(resource: LedgerResource, productId: string): Partial<PropertyValues> | undefined {
  return resource.priors[productId]?.declared?.properties;
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

function fieldsOf(productId: string, priors: PropertyValues): PhysicalIdFields {
  return { productId, priorOwnerArn: priors.OWNER, priorLaunchRoleArn: priors.LAUNCH_ROLE };
}

function priorsOf(recorded: PhysicalIdFields): PropertyValues {
  return { OWNER: recorded.priorOwnerArn, LAUNCH_ROLE: recorded.priorLaunchRoleArn };
}
