/**
 * Every message the handler puts in front of a user: what went wrong, with the values, and what to do.
 */
import type { RecordError } from '@aws-sdk/client-service-catalog';
import { MAX_SERVICE_TEXT_CHARACTERS, PROPERTY_KEYS, type PropertyValues, clip, show } from '../lib/rules';
import type { HandChange } from './decisions';
import type { PlannedChange } from './events';
import type { PhysicalIdFields } from './physical-id';

/** An error whose message already says all a user needs: not wrapped again. */
export class ReportedError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ReportedError';
  }
}

/**
 * The longest message a handler error carries. The provider framework sends it to CloudFormation as
 * the Reason, with a stack trace and a pointer to the logs, in a response CloudFormation accepts
 * only up to 4 KB that also holds the physical id (up to 1 KB) and the stack's ids.
 */
export const MAX_REASON_CHARACTERS = 1800;

/**
 * The error a handler throws, with its message cut to {@link MAX_REASON_CHARACTERS} (saying so)
 * so that CloudFormation receives it; the caller logs the whole message first.
 */
export function bounded(e: unknown): unknown {
  if (!(e instanceof Error) || e.message.length <= MAX_REASON_CHARACTERS) return e;
  const cut = `${e.message.slice(0, MAX_REASON_CHARACTERS)}... (cut at ${MAX_REASON_CHARACTERS} of ${e.message.length} characters; the whole message is in the handler's log)`;
  const error = new Error(cut, { cause: e });
  error.name = e.name;
  return error;
}

/** The product could not be found, so there is nothing to read or write. */
export function productNotFound(productId: string): string {
  return (
    `Provisioned product ${JSON.stringify(productId)} was not found in this account and region (ResourceNotFoundException from DescribeProvisionedProduct). ` +
    'Check provisionedProductId and that the stack deploys to the account and region of the product.'
  );
}

/** Search never listed the product, so its owner cannot be recorded for restoring later. */
export function ownerUnknown(productId: string, attempts: number): string {
  return (
    `Cannot read the current owner of provisioned product ${productId}: SearchProvisionedProducts did not list it after ${attempts} attempts, ` +
    'so its owner could not be recorded for restoring later. Nothing was changed. Retry the deployment; if it persists, check that the product is visible with `aws servicecatalog search-provisioned-products --access-level-filter Key=Account,Value=self`.'
  );
}

/**
 * The error of a Delete that could not put the prior values back, naming the product, its priors and
 * the command that restores `restoring`: the keys this resource manages, each to its prior value.
 */
export function restoreFailed(
  productId: string,
  priors: PropertyValues | undefined,
  restoring: Partial<PropertyValues>,
  e: unknown,
): ReportedError {
  const error = errorText(e);
  return new ReportedError(
    `Could not restore provisioned product ${productId} to the values it had before this resource changed them ` +
      `(prior owner ${orNone(priors?.OWNER)}, prior launch role ${orNone(priors?.LAUNCH_ROLE)}): ${error}. ` +
      `The product keeps its current values. Delete again once the cause is fixed, or ${restoreByHand(productId, restoring)}.`,
    { cause: e },
  );
}

/** The message that fails a deploy when the record fails, carrying the record's own errors. */
export function recordFailed(change: PlannedChange, recordId: string, errors: readonly RecordError[] | undefined): string {
  const details = (errors ?? [])
    .slice(0, 5)
    .map((e) => `${serviceText(e.Code ?? 'UnknownCode')}: ${serviceText(e.Description ?? '(no description)')}`);
  const text = details.length > 0 ? details.join('; ') : 'the record reported no RecordErrors';
  return `Service Catalog record ${recordId} for provisioned product ${change.ProductId} FAILED while ${purpose(change)}: ${text}. See the record with \`aws servicecatalog describe-record --id ${recordId}\`.`;
}

/** The service rejected the write for good (not busy, not transient). */
export function writeRejected(change: PlannedChange, e: unknown): string {
  const name = e instanceof Error ? e.name : typeof e;
  const detail = e instanceof Error ? serviceText(e.message) : show(e);
  const todo =
    change.Purpose === 'apply'
      ? " Nothing was changed. Fix what the error names (a value the product cannot take, or a permission of the provider's isComplete role, iam:PassRole on the launch role included), then deploy again."
      : '';
  return `UpdateProvisionedProductProperties on provisioned product ${change.ProductId} was rejected while ${purpose(change)}. ${name}: ${detail}.${todo}`;
}

/** DescribeRecord failed for good (not throttling, not a 5xx): the write was accepted, its outcome is unknown here. */
export function recordUnreadable(change: PlannedChange, recordId: string, e: unknown): string {
  const name = e instanceof Error ? e.name : typeof e;
  const detail = e instanceof Error ? serviceText(e.message) : show(e);
  return (
    `Could not read Service Catalog record ${recordId} of provisioned product ${change.ProductId} while ${purpose(change)}: ${name}: ${detail}. ` +
    "The change was accepted and may still succeed. Check that the provider's isComplete role may call servicecatalog:DescribeRecord, " +
    `see the record with \`aws servicecatalog describe-record --id ${recordId}\`, then deploy again.`
  );
}

/** isComplete gives up just before the waiter would, saying what it waited for. */
export function timedOut(change: PlannedChange, totalTimeoutMs: number, waitingFor: string): string {
  const total = totalTimeoutMs >= 60_000 ? `${+(totalTimeoutMs / 60_000).toFixed(1)} min` : `${+(totalTimeoutMs / 1000).toFixed(1)} s`;
  return (
    `Gave up after the provider's totalTimeout (${total}) waiting for ${waitingFor}, on provisioned product ${change.ProductId} while ${purpose(change)}. ` +
    'A record still running may yet finish; a rollback waits for it before writing. Find what holds the product with ' +
    `\`aws servicecatalog describe-provisioned-product --id ${change.ProductId}\`, then deploy again, or raise totalTimeout (at most 1 hour).`
  );
}

/** The handler was invoked with something that is not an event (`what` says what, never its content). */
export function notAnEvent(handler: string, what: string): string {
  return `${handler} was invoked with ${what}, not a CloudFormation custom resource event: it is meant to be called only by the provider framework.`;
}

/** A RequestType CloudFormation does not send. */
export function unknownRequestType(requestType: unknown): string {
  return `Unknown RequestType ${show(requestType)}: expected Create, Update or Delete.`;
}

/** The physical id names another product than the event's properties do (`named`, in `where`). */
export function physicalIdNamesOtherProduct(recordedProductId: string, named: readonly (string | undefined)[], where: string): string {
  return (
    `PhysicalResourceId names provisioned product ${show(recordedProductId)} but ${where} name ${named.map((id) => show(id ?? '(none)')).join(' and ')}. ` +
    'A CloudFormation lifecycle never sends such a pair, so nothing was written: if the stack was edited by hand, remove the resource with `aws cloudformation delete-stack --retain-resources <LogicalId>` and check both products yourself.'
  );
}

/** The prior values cannot fit in a physical id. */
export function priorsTooLong(fields: PhysicalIdFields, bytes: number, maxBytes: number): string {
  return (
    `Cannot record the prior owner ${show(fields.priorOwnerArn)} and launch role ${show(fields.priorLaunchRoleArn)} ` +
    `of provisioned product ${fields.productId}: together they need ${bytes} bytes of PhysicalResourceId, over CloudFormation's limit of ${maxBytes}. ` +
    'Nothing was changed. Give the product a principal with a shorter IAM path before managing it with this construct, or manage it by hand.'
  );
}

/** The product's values are not ones this resource could restore (`problem` says why). */
export function priorsUnrecordable(productId: string, problem: string): string {
  return (
    `Cannot record the prior values of provisioned product ${show(productId)}: ${problem}. Nothing was changed. ` +
    'Check the product with `aws servicecatalog describe-provisioned-product` and `search-provisioned-products`; this resource only records values it could restore.'
  );
}

/** A physical id with this resource's prefix that it did not write (`why` says what is wrong). */
export function physicalIdForged(physicalId: string, why: string): string {
  return (
    `PhysicalResourceId ${show(physicalId)} has this resource's prefix but is not one it wrote: ${why}. Nothing was written. ` +
    "A CloudFormation lifecycle never produces such an id; if the stack was edited by hand, remove the resource with `aws cloudformation delete-stack --retain-resources <LogicalId>` (or from the template with a Retain policy) and check the product's owner and launch role yourself."
  );
}

/** What isComplete waits for, in the words of {@link timedOut} (functions, so that their text is built, and tested, per call). */
export const WAITING_FOR = {
  lease: (requestId: string) => `request ${requestId} of this resource to finish its write call (it holds the ledger's write lease)`,
  busyProduct: () => 'the product to accept the change (it stayed busy: UNDER_CHANGE or PLAN_IN_PROGRESS, or unreachable)',
  record: (recordId: string, status: string) => `record ${recordId} to finish (last status ${status || 'unknown'})`,
  unreadableRecord: (recordId: string, errorName: string) => `record ${recordId} to finish (DescribeRecord failing: ${errorName})`,
  writeTurn: (at: number) =>
    `its turn to write, at ${new Date(at).toISOString()} (its share of the stack's pace of Service Catalog writes: the instances of a stack write one after another)`,
} as const;

/** What the write was for, in words: the values set, or the priors being restored and how to restore them by hand. */
function purpose(change: PlannedChange): string {
  if (change.Purpose === 'apply') return `setting ${describe(change.Properties)}`;
  return `restoring the prior values ${describe(change.Properties)} (prior owner ${orNone(change.Priors.OWNER)}, prior launch role ${orNone(change.Priors.LAUNCH_ROLE)}); ${restoreByHand(change.ProductId, change.Properties)}`;
}

/** How to put `values` back by hand: the CLI command, with only those keys. */
function restoreByHand(productId: string, values: Partial<PropertyValues>): string {
  const properties = describe(values, ',');
  if (properties === '') return 'check its owner and launch role by hand';
  return `restore them by hand with \`aws servicecatalog update-provisioned-product-properties --provisioned-product-id ${productId} --provisioned-product-properties ${properties}\``;
}

/** `OWNER=…, LAUNCH_ROLE=…` for the keys that have a value (`,` alone between them for the CLI's shorthand). */
function describe(properties: Partial<PropertyValues>, separator = ', '): string {
  return PROPERTY_KEYS.filter((k) => properties[k])
    .map((k) => `${k}=${properties[k]}`)
    .join(separator);
}

/** Text from elsewhere (a service's error, a record's description) cut to a length a message can carry. */
function serviceText(text: string): string {
  return clip(text, MAX_SERVICE_TEXT_CHARACTERS);
}

/** `Name: message` of an error from elsewhere, its message cut as {@link serviceText} does. */
function errorText(e: unknown): string {
  return e instanceof Error ? `${e.name}: ${serviceText(e.message)}` : show(e);
}

function orNone(value: string | undefined): string {
  return value ? value : '(none)';
}

// ------------------------------------------------------------------------------------------------
// The ledger
// ------------------------------------------------------------------------------------------------

/** The ledger table could not be read or written: nothing was written to Service Catalog. */
export function ledgerUnavailable(tableName: string, doing: string, e: unknown): string {
  const cause = (e as { cause?: unknown }).cause ?? e;
  return (
    `Could not ${doing} in the provider's ledger table ${show(tableName || '(not set)')}: ${errorText(cause)}. ` +
    'Nothing was written to Service Catalog. Check that the table exists, that the handler roles may call dynamodb:GetItem, PutItem, UpdateItem and DeleteItem on it ' +
    '(and use its KMS key, when it has one), and that DynamoDB is reachable from the functions (a VPC needs a DynamoDB endpoint); then deploy again.'
  );
}

/** Another delivery of the request held its record for the whole of this invocation. */
export function stillDeciding(waits: number): string {
  return (
    `Another delivery of this CloudFormation request was still deciding after ${waits} checks of the ledger, and this one ran out of time waiting for its decision. ` +
    'Nothing was written by this delivery. CloudFormation takes the first answer it receives; if the stack reports this message, deploy again.'
  );
}

/** A delivery of a request whose content differs from the first delivery's. */
export function deliveryDiffers(): string {
  return (
    'A delivery of this CloudFormation request (same StackId, LogicalResourceId and RequestId) carries other properties or another physical id than its first delivery did. ' +
    'CloudFormation never sends such a pair, so nothing was written: check who else can invoke the provider functions.'
  );
}

/** The physical id's priors are not those the ledger recorded for the product. */
export function priorsDisagree(productId: string, fromId: PropertyValues, fromLedger: PropertyValues): string {
  const both = (v: PropertyValues) => `owner ${show(v.OWNER || '(none)')}, launch role ${show(v.LAUNCH_ROLE || '(none)')}`;
  return (
    `The PhysicalResourceId's prior values for provisioned product ${productId} (${both(fromId)}) are not those the provider's ledger recorded when this resource first changed it (${both(fromLedger)}). ` +
    "Nothing was written. A CloudFormation lifecycle never produces such an id; if the stack was edited by hand, remove the resource with `aws cloudformation delete-stack --retain-resources <LogicalId>` and restore the product yourself with the ledger's values."
  );
}

/** A request that a later request of the same resource superseded: its write is skipped. */
export function supersededWrite(change: PlannedChange, latest: { latestRequestId: string; latestRequestType: string }): string {
  return (
    `Skipped the write to provisioned product ${change.ProductId}: a later CloudFormation request of this resource (${latest.latestRequestType} ${latest.latestRequestId}) has reached the provider since this one, ` +
    'so this request was answered already and its values would land over newer ones. Nothing was written for it.'
  );
}

/** A copy of a request that a later request of the same resource superseded before this copy was decided. */
export function olderRequest(requestType: string, latestType: string | undefined, latestRequestId: string | undefined): string {
  return (
    `This ${requestType} is not the latest request of this resource: a later one (${latestType ?? 'request'} ${latestRequestId ?? '(unknown)'}) has reached the provider since it was first delivered, ` +
    'so CloudFormation answered it already. This late copy changed nothing and recorded nothing.'
  );
}

/** A request that names a physical id a Delete of the same resource already removed. */
export function physicalIdDeleted(requestType: string, physicalId: string): string {
  return (
    `This ${requestType} names physical id ${show(physicalId)}, which a Delete of this resource has already removed; CloudFormation sends nothing to a physical resource it deleted, ` +
    'so this is a late copy of a request it answered already. It changed nothing and recorded nothing.'
  );
}

/** An earlier request kept the write lease for longer than it can last. */
export function writerStillHolds(writer: { requestId: string; until: number } | undefined): string {
  return (
    `An earlier request of this resource (${writer?.requestId ?? '(unknown)'}) still holds the ledger's write lease, until ${writer ? new Date(writer.until).toISOString() : '(unknown)'}. ` +
    'Nothing was read or written, so that this request cannot decide on values that write is about to change. Deploy again once it has passed.'
  );
}

/** CloudFormation's status of the resource could not be read before or after a Create's write. */
export function stackUnreadable(stackId: string, logicalResourceId: string, e: unknown): string {
  return (
    `Could not read CloudFormation's status of resource ${show(logicalResourceId)} in stack ${show(stackId)}: ${errorText(e)}. ` +
    "A Create writes only while CloudFormation awaits it, so nothing more was written. Check that the provider's isComplete role may call cloudformation:DescribeStackResource on this stack, then deploy again."
  );
}

/** A Create that CloudFormation took a failed answer to (another delivery's, or the framework's): nothing it wrote stays. */
export function createFailedElsewhere(change: PlannedChange, resourceStatus: string | undefined, undone: boolean): string {
  return (
    `CloudFormation took a failed answer to this Create (the resource is ${resourceStatus ?? 'gone from the stack'}), and its rollback never reaches this handler. ` +
    (undone
      ? `Put provisioned product ${change.ProductId} back to its prior values (${describe(change.Priors)}) for the keys this Create had written.`
      : `Nothing was written to provisioned product ${change.ProductId}.`)
  );
}

/** The longest ChangedByHand attribute: it shares CloudFormation's 4 KB response with the physical id and the priors. */
export const MAX_CHANGED_BY_HAND_CHARACTERS = 700;

/** The ChangedByHand attribute of a successful event: what it wrote over that someone had changed by hand ('' for nothing). */
export function changedByHand(changes: readonly HandChange[] | undefined): string {
  if (!changes || changes.length === 0) return '';
  const said = changes.map((c) => `${c.key} was ${c.found === '' ? '(none)' : show(c.found)} (changed by hand), set to ${show(c.writing)}`);
  return clip(said.join('; '), MAX_CHANGED_BY_HAND_CHARACTERS);
}
