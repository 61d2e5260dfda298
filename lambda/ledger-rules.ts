/**
 * The ledger's decisions, as pure functions of data: which priors a capture records, whether a physical id's priors may be used, and whether a request may still write.
 *
 * The ledger (lambda/ledger.ts) keeps, per resource (StackId + LogicalResourceId), the latest
 * request that reached the handler and, per product the resource manages, the priors its first
 * capture recorded; Powertools' idempotency records keep each request's first decision. The
 * argument for why every ordering of deliveries ends with the right values is in docs/design.md.
 */
import { createHash } from 'node:crypto';
import type { PropertyValues } from '../lib/rules';

/** The priors the ledger holds for one product of one resource. */
export interface LedgerPriors {
  readonly owner: string;
  readonly launchRole: string;
  /** The request that recorded them. */
  readonly requestId: string;
}

/** What the ledger knows of one resource. */
export interface LedgerResource {
  /** The RequestId of the latest request of the resource that reached the handler; undefined before the first. */
  readonly latestRequestId?: string;
  /** Its type. */
  readonly latestRequestType?: string;
  /** The priors recorded per product id. */
  readonly priors: Readonly<Record<string, LedgerPriors>>;
}

/** The ledger key of a resource: bounded (a hash), whatever the lengths of the StackId and the logical id. */
export function resourceKey(stackId: string, logicalResourceId: string): string {
  return `resource#${createHash('sha256').update(`${stackId}\n${logicalResourceId}`).digest('hex')}`;
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
 * Whether CloudFormation still awaits the answer to a Create, from the resource's status
 * (DescribeStackResource). The provider framework answers a Create that failed in its onEvent with
 * its CREATE_FAILED marker and then answers the rollback Delete of that marker itself: the handler
 * never sees that Delete, so only CloudFormation's status tells that the Create is over. While it
 * awaits the answer the resource is CREATE_IN_PROGRESS; any other status, or no such resource, means
 * it does not.
 */
export function createIsAwaited(resourceStatus: string | undefined): boolean {
  return resourceStatus === 'CREATE_IN_PROGRESS';
}
