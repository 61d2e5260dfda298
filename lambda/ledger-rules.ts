/**
 * The ledger's decisions, as pure functions of data: which priors a capture records, whether a physical id's priors may be used, and whether a request may still write.
 *
 * The ledger (lambda/ledger.ts) keeps, per resource (StackId + LogicalResourceId), the latest
 * request that reached the handler and, per product the resource manages, the priors its first
 * capture recorded; Powertools' idempotency records keep each request's first decision. The
 * argument for why every ordering of deliveries ends with the right values is in docs/design.md.
 */
import { createHash } from 'node:crypto';
import type { PropertyKey, PropertyValues } from '../lib/rules';

/** The priors the ledger holds for one product of one resource. */
export interface LedgerPriors {
  readonly owner: string;
  readonly launchRole: string;
  /** The request that recorded them. */
  readonly requestId: string;
  /** The physical id that request answered with (absent for priors adopted from a physical id). */
  readonly physicalId?: string;
  /** What the resource's stack declares for the product: set when a Create or Update of it completes. */
  readonly declared?: LedgerDeclared;
  /** What the drift check last found different from {@link declared}, per key (none: no drift seen). */
  readonly drift?: Readonly<Partial<Record<PropertyKey, DriftSeen>>>;
}

/** The values a completed Create or Update of the resource set on the product: what its stack declares. */
export interface LedgerDeclared {
  /** The managed keys and their values (a key the resource does not manage is absent). */
  readonly properties: Partial<PropertyValues>;
  /** The request that completed with them. */
  readonly requestId: string;
  readonly acceptLanguage?: string;
  /** When it completed (epoch ms). */
  readonly at: number;
}

/** A value the drift check found in place of the declared one, and since when it has been seen. */
export interface DriftSeen {
  readonly found: string;
  /** When a check first saw this value (epoch ms). */
  readonly since: number;
}

/** What the ledger knows of one resource. */
export interface LedgerResource {
  /** The resource's stack and logical id, as its requests name them (recorded from this version on). */
  readonly stackId?: string;
  readonly logicalResourceId?: string;
  /** The RequestId of the latest request of the resource that reached the handler; undefined before the first. */
  readonly latestRequestId?: string;
  /** Its type. */
  readonly latestRequestType?: string;
  /** The request that was the latest before it (as its first registration found it). */
  readonly previousRequestId?: string;
  /** The priors recorded per product id. */
  readonly priors: Readonly<Record<string, LedgerPriors>>;
  /** The request holding the write lease, and until when (epoch ms). */
  readonly writer?: { readonly requestId: string; readonly until: number };
  /** The physical ids a Delete of this resource removed ({@link physicalIdKey}), with when (epoch ms): kept a day. */
  readonly deleted: Readonly<Record<string, number>>;
  /**
   * The last write Service Catalog accepted for the resource: its IdempotencyToken and the record
   * it started. A later call of the same request (the waiter's, on a long record) watches that
   * record instead of sending the write again.
   */
  readonly lastWrite?: { readonly token: string; readonly recordId: string };
}

/** The record a write with `token` already started, when the ledger knows it: watch it rather than write again. */
export function knownRecord(resource: LedgerResource, token: string): string | undefined {
  return resource.lastWrite !== undefined && resource.lastWrite.token === token ? resource.lastWrite.recordId : undefined;
}

/** The ledger key of a resource: bounded (a hash), whatever the lengths of the StackId and the logical id. */
export function resourceKey(stackId: string, logicalResourceId: string): string {
  return `resource#${createHash('sha256').update(`${stackId}\n${logicalResourceId}`).digest('hex')}`;
}

/** How the ledger names a physical id it keeps (a Delete's tombstone): a bounded hash. */
export function physicalIdKey(physicalId: string): string {
  return createHash('sha256').update(physicalId).digest('hex').slice(0, 32);
}

/** Tombstones older than a request's record (no copy of a request arrives later) are dropped. */
export function expiredTombstones(deleted: Readonly<Record<string, number>>, now: number, keepMs: number): string[] {
  return Object.entries(deleted)
    .filter(([, at]) => now - at > keepMs)
    .map(([key]) => key);
}

/** The ledger key of one request's one-time registration with its resource (bounded, like {@link resourceKey}). */
export function registrationKey(stackId: string, logicalResourceId: string, requestId: string): string {
  return `registration#${createHash('sha256').update(`${stackId}\n${logicalResourceId}\n${requestId}`).digest('hex')}`;
}

/**
 * Whether a request must wait before it reads the product: another request holds the write lease
 * (it was the latest when it took it, and its write may not have reached Service Catalog yet).
 */
export function mustWaitForWriter(resource: LedgerResource, requestId: string, now: number): boolean {
  return resource.writer !== undefined && resource.writer.requestId !== requestId && resource.writer.until >= now;
}

/**
 * The priors a capture (Create, replacement) records: those the ledger already holds for this
 * resource and product, when it holds any, else the values just read. The ledger holds some only
 * when an earlier capture of this resource was never followed by a Delete the handler saw (the
 * provider framework answered the rollback Delete of its CREATE_FAILED marker itself, or a
 * cleanup Delete failed): the product may then carry that capture's writes, and its values now are
 * not the priors.
 */
export function priorsToRecord(recorded: LedgerPriors | undefined, read: PropertyValues): { priors: PropertyValues; reused: boolean } {
  if (recorded) return { priors: { OWNER: recorded.owner, LAUNCH_ROLE: recorded.launchRole }, reused: true };
  return { priors: read, reused: false };
}

/** How a physical id's priors stand against the ledger's. */
export type PriorsCheck =
  /** The ledger agrees: use them. */
  | { readonly kind: 'agree'; readonly priors: PropertyValues }
  /** The ledger has none (a resource created before the ledger existed): use the id's, and record them. */
  | { readonly kind: 'adopt'; readonly priors: PropertyValues }
  /** They differ: refuse, naming both. */
  | { readonly kind: 'disagree'; readonly fromId: PropertyValues; readonly fromLedger: PropertyValues };

/** Compares the priors a physical id carries with those the ledger recorded for its product. */
export function checkPriors(fromId: PropertyValues, recorded: LedgerPriors | undefined): PriorsCheck {
  if (!recorded) return { kind: 'adopt', priors: fromId };
  const fromLedger: PropertyValues = { OWNER: recorded.owner, LAUNCH_ROLE: recorded.launchRole };
  if (fromLedger.OWNER === fromId.OWNER && fromLedger.LAUNCH_ROLE === fromId.LAUNCH_ROLE) return { kind: 'agree', priors: fromLedger };
  return { kind: 'disagree', fromId, fromLedger };
}

/** Why a request may not write (undefined: it may). */
export type Superseded = { readonly latestRequestId: string; readonly latestRequestType: string } | undefined;

/**
 * Whether a request is no longer its resource's latest: a later request of the same resource has
 * reached the handler. CloudFormation sends a resource's requests one at a time, each after the
 * previous was answered, so a request that is not the latest was answered already, and anything it
 * wrote now would land over a newer request's values.
 */
export function supersededBy(resource: LedgerResource, requestId: string): Superseded {
  if (resource.latestRequestId === undefined || resource.latestRequestId === requestId) return undefined;
  return { latestRequestId: resource.latestRequestId, latestRequestType: resource.latestRequestType ?? 'request' };
}

/**
 * Whether what a Create writes may stand, from CloudFormation's status of its resource
 * (DescribeStackResource). The provider framework answers a Create that failed in its onEvent with
 * its CREATE_FAILED marker and then answers the rollback Delete of that marker itself: the handler
 * never sees that Delete, so only CloudFormation's status tells that the Create failed. It may stand
 * while CloudFormation awaits it (CREATE_IN_PROGRESS), once it took a successful answer
 * (CREATE_COMPLETE), and while or after the resource is updated (UPDATE_*: an Update that reaches
 * the handler then supersedes it); not once CloudFormation took a failed answer (CREATE_FAILED), while
 * or after it deleted the resource (DELETE_*, ROLLBACK_*), or when the stack has no such resource.
 */
export function createStands(resourceStatus: string | undefined): boolean {
  if (resourceStatus === undefined) return false;
  return resourceStatus === 'CREATE_IN_PROGRESS' || resourceStatus === 'CREATE_COMPLETE' || resourceStatus.startsWith('UPDATE_');
}

/** A capture CloudFormation never adopted: its product, and the priors to put back. */
export interface OrphanedCapture {
  readonly productId: string;
  readonly priors: LedgerPriors;
}

/**
 * The captures an Update finds orphaned: a replacement (the request just before it) recorded priors
 * for another product, and CloudFormation then sent this Update to a physical id other than the
 * one that replacement answered with. CloudFormation adopts a replacement's physical id only when
 * it takes its success; after that, the resource's next request is the cleanup Delete of the old
 * id, or a request to the new one, never an Update of another id. So the replacement's answer was a
 * failure CloudFormation took from elsewhere (the provider framework failed the request, e.g. its
 * onEvent invoke or its waiter's start failed) and this Update is its rollback: whatever the
 * replacement wrote to its product stays unless this request puts it back.
 */
export function orphanedCaptures(
  resource: LedgerResource,
  update: { readonly physicalResourceId: string; readonly productId: string | undefined },
): OrphanedCapture[] {
  const previous = resource.previousRequestId;
  if (!previous) return [];
  return Object.entries(resource.priors)
    .filter(
      ([productId, p]) =>
        p.requestId === previous &&
        p.physicalId !== undefined &&
        p.physicalId !== update.physicalResourceId &&
        productId !== update.productId,
    )
    .map(([productId, priors]) => ({ productId, priors }));
}
