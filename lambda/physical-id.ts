/**
 * The PhysicalResourceId of a ProvisionedProductProperties resource: where Delete finds the product and its prior values.
 *
 * Delete events carry only the physical id and the current properties, never the Data returned
 * earlier, so the physical id is where Delete finds the product and the owner and launch role the
 * product had before this resource first changed it ("the priors"). It is versioned, so a later
 * release can tell its own ids from this one's, and reversible: `decode(encode(x))` is `x`.
 *
 *   sc-ppp:v1|<product id>|<partition>|<account>|<prior owner>|<prior launch role>
 *
 * ARNs are written without their `arn:<partition>:` and `:<account>:` parts (`iam:role/Admin`), so
 * two long ARNs still fit CloudFormation's 1 KB limit. `%` and `|` are percent-escaped; an empty
 * field means "none".
 *
 * A physical id arrives with every Update and Delete, and nothing stops a template author, a
 * hand-edited stack or a bug from sending one this resource never wrote. So decoding trusts
 * nothing: every field must pass the rules the properties pass (product id, ARN kind per key, one
 * partition and account, lengths) and the id must be exactly what encoding its fields gives back.
 */
import { MAX_PROPERTY_VALUE_LENGTH, PRODUCT_ID_PATTERN, homeOf, isLaunchRoleArn, isOwnerArn, show } from '../lib/rules';
import { physicalIdForged, priorsTooLong, priorsUnrecordable } from './messages';

/** The first field of every physical id this version writes. */
export const PHYSICAL_ID_PREFIX = 'sc-ppp:v1';
/** Every version of this resource starts its ids so: an id with it and not this version's form is broken, not foreign. */
const FAMILY_PREFIX = 'sc-ppp:';
/** CloudFormation's limit on a PhysicalResourceId, in bytes. */
export const MAX_PHYSICAL_ID_BYTES = 1024;

/** What a physical id records. */
export interface PhysicalIdFields {
  /** The provisioned product this resource manages. */
  readonly productId: string;
  /** The product's owner before this resource first changed it ('' when unknown or none). */
  readonly priorOwnerArn: string;
  /** The product's launch role before this resource first changed it ('' when it had none). */
  readonly priorLaunchRoleArn: string;
}

/** Thrown when the fields cannot fit in a physical id. */
export class PhysicalIdTooLongError extends Error {
  constructor(fields: PhysicalIdFields, bytes: number) {
    super(priorsTooLong(fields, bytes, MAX_PHYSICAL_ID_BYTES));
    this.name = 'PhysicalIdTooLongError';
  }
}

/** Thrown for priors this resource cannot record, or an id that claims to be this resource's but is not what it writes. */
export class InvalidPhysicalIdError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidPhysicalIdError';
  }
}

/** The owner of a product provisioned by the account's root user, which Service Catalog reports as its owner. */
const ROOT_ARN = /^arn:[a-z-]+:iam::\d{12}:root$/;

/** Why `fields` cannot be (or come from) a physical id, or `undefined` when they can. */
function problemWith(fields: PhysicalIdFields): string | undefined {
  if (!PRODUCT_ID_PATTERN.test(fields.productId)) return `product id ${show(fields.productId)} is not a provisioned product id`;
  const owner = fields.priorOwnerArn;
  const role = fields.priorLaunchRoleArn;
  if (owner !== '' && !isOwnerArn(owner) && !(ROOT_ARN.test(owner) && owner.length <= MAX_PROPERTY_VALUE_LENGTH)) {
    return `prior owner ${show(owner)} is not an IAM user, IAM role, STS assumed-role or account root ARN`;
  }
  if (role !== '' && !isLaunchRoleArn(role)) return `prior launch role ${show(role)} is not an IAM role ARN`;
  const ownerHome = homeOf(owner);
  const roleHome = homeOf(role);
  if (ownerHome && roleHome && (ownerHome.partition !== roleHome.partition || ownerHome.account !== roleHome.account)) {
    return `prior owner ${show(owner)} and prior launch role ${show(role)} are not in one partition and account, as a product's principals are`;
  }
  return undefined;
}

/** Encodes the fields; throws {@link PhysicalIdTooLongError} past 1 KB, {@link InvalidPhysicalIdError} for values no product can have. */
export function encodePhysicalId(fields: PhysicalIdFields): string {
  const problem = problemWith(fields);
  if (problem) {
    throw new InvalidPhysicalIdError(priorsUnrecordable(fields.productId, problem));
  }
  const home = homeOf(fields.priorOwnerArn) ?? homeOf(fields.priorLaunchRoleArn);
  const partition = home?.partition ?? '';
  const account = home?.account ?? '';
  const id = [
    PHYSICAL_ID_PREFIX,
    ...[fields.productId, partition, account, shorten(fields.priorOwnerArn), shorten(fields.priorLaunchRoleArn)].map(escape),
  ].join('|');
  const bytes = Buffer.byteLength(id, 'utf8');
  if (bytes > MAX_PHYSICAL_ID_BYTES) throw new PhysicalIdTooLongError(fields, bytes);
  return id;
}

/**
 * Decodes a physical id. Returns `undefined` for an id this resource plainly did not write (the
 * framework's CREATE_FAILED marker, any id without this resource's prefix), and throws
 * {@link InvalidPhysicalIdError} for one that carries the prefix but breaks a rule or is not in the
 * exact form encoding gives: such an id was edited or forged, and nothing may be written from it.
 */
export function decodePhysicalId(physicalId: string | undefined): PhysicalIdFields | undefined {
  if (!physicalId || !physicalId.startsWith(FAMILY_PREFIX)) return undefined;
  const invalid = (why: string) => new InvalidPhysicalIdError(physicalIdForged(physicalId, why));
  if (Buffer.byteLength(physicalId, 'utf8') > MAX_PHYSICAL_ID_BYTES) throw invalid(`it is over ${MAX_PHYSICAL_ID_BYTES} bytes`);
  const parts = physicalId.split('|');
  if (parts[0] !== PHYSICAL_ID_PREFIX)
    throw invalid(`its version ${show(parts[0])} is not ${PHYSICAL_ID_PREFIX}, the one this release reads`);
  if (parts.length !== 6) throw invalid(`it has ${parts.length} fields, not 6`);
  const [, productId, partition, account, owner, launchRole] = parts.map(unescape);
  if (!/^(aws(-[a-z]+)*)?$/.test(partition) || !/^(\d{12})?$/.test(account) || (partition === '') !== (account === '')) {
    throw invalid(`partition ${show(partition)} and account ${show(account)} are not a partition and a 12-digit account`);
  }
  const fields: PhysicalIdFields = {
    productId,
    priorOwnerArn: lengthen(owner, partition, account),
    priorLaunchRoleArn: lengthen(launchRole, partition, account),
  };
  const problem = problemWith(fields);
  if (problem) throw invalid(problem);
  let canonical: string;
  try {
    canonical = encodePhysicalId(fields);
  } catch (e) {
    throw invalid((e as Error).message);
  }
  if (canonical !== physicalId)
    throw invalid('it is not in the exact form this resource writes (escaping, partition, account or ARN forms differ)');
  return fields;
}

/** `arn:aws:iam::123456789012:role/X` → `iam:role/X` (the id's partition and account are those of every ARN in it). */
function shorten(arn: string): string {
  const m = /^arn:[^:]+:([^:]+)::\d{12}:(.+)$/.exec(arn);
  return m ? `${m[1]}:${m[2]}` : arn;
}

function lengthen(field: string, partition: string, account: string): string {
  if (field === '') return field;
  const colon = field.indexOf(':');
  if (colon <= 0 || partition === '') return `\u0000${field}`; // fails every ARN rule, so the id is reported, never written
  return `arn:${partition}:${field.slice(0, colon)}::${account}:${field.slice(colon + 1)}`;
}

function escape(field: string): string {
  return field.replace(/%/g, '%25').replace(/\|/g, '%7C');
}

function unescape(field: string): string {
  return field.replace(/%7C/g, '|').replace(/%25/g, '%');
}
