/**
 * The PhysicalResourceId of a ProvisionedProductProperties resource.
 *
 * Delete events carry only the physical id and the current properties, never the Data returned
 * earlier, so the physical id is where Delete finds the product and the owner and launch role the
 * product had before this resource first changed it ("the priors"). It is versioned, so a later
 * release can tell its own ids from this one's, and reversible: `decode(encode(x))` is `x`.
 *
 *   sc-ppp:v1|<product id>|<partition>|<account>|<prior owner>|<prior launch role>
 *
 * ARNs in the id's partition and account are written without their `arn:<partition>:` and
 * `:<account>:` parts (`iam:role/Admin`), so two long ARNs still fit CloudFormation's 1 KB limit.
 * `%` and `|` are percent-escaped; an empty field means "none".
 */

/** The first field of every physical id this version writes. */
export const PHYSICAL_ID_PREFIX = 'sc-ppp:v1';
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
    super(
      `Cannot record the prior owner ${JSON.stringify(fields.priorOwnerArn)} and launch role ${JSON.stringify(fields.priorLaunchRoleArn)} ` +
        `of provisioned product ${fields.productId}: together they need ${bytes} bytes of PhysicalResourceId, over CloudFormation's limit of ${MAX_PHYSICAL_ID_BYTES}. ` +
        'Nothing was changed. Give the product a principal with a shorter IAM path before managing it with this construct, or manage it by hand.',
    );
    this.name = 'PhysicalIdTooLongError';
  }
}

const ARN = /^arn:([^:]+):([^:]+)::(\d{12}):(.+)$/;

/** Encodes the fields; throws {@link PhysicalIdTooLongError} past 1 KB. */
export function encodePhysicalId(fields: PhysicalIdFields): string {
  const home = ARN.exec(fields.priorOwnerArn) ?? ARN.exec(fields.priorLaunchRoleArn);
  const partition = home?.[1] ?? '';
  const account = home?.[3] ?? '';
  const id = [
    PHYSICAL_ID_PREFIX,
    fields.productId,
    partition,
    account,
    shorten(fields.priorOwnerArn, partition, account),
    shorten(fields.priorLaunchRoleArn, partition, account),
  ]
    .map((field, i) => (i === 0 ? field : escape(field)))
    .join('|');
  const bytes = Buffer.byteLength(id, 'utf8');
  if (bytes > MAX_PHYSICAL_ID_BYTES) throw new PhysicalIdTooLongError(fields, bytes);
  return id;
}

/** Decodes a physical id this version wrote, or returns `undefined` for any other id. */
export function decodePhysicalId(physicalId: string | undefined): PhysicalIdFields | undefined {
  if (!physicalId) return undefined;
  const parts = physicalId.split('|');
  if (parts.length !== 6 || parts[0] !== PHYSICAL_ID_PREFIX) return undefined;
  const [, productId, partition, account, owner, launchRole] = parts.map(unescape);
  if (!productId) return undefined;
  return {
    productId,
    priorOwnerArn: lengthen(owner, partition, account),
    priorLaunchRoleArn: lengthen(launchRole, partition, account),
  };
}

function shorten(arn: string, partition: string, account: string): string {
  const m = ARN.exec(arn);
  if (m && m[1] === partition && m[3] === account) return `${m[2]}:${m[4]}`;
  return arn;
}

function lengthen(field: string, partition: string, account: string): string {
  if (field === '' || field.startsWith('arn:')) return field;
  const colon = field.indexOf(':');
  return `arn:${partition}:${field.slice(0, colon)}::${account}:${field.slice(colon + 1)}`;
}

function escape(field: string): string {
  return field.replace(/%/g, '%25').replace(/\|/g, '%7C');
}

function unescape(field: string): string {
  return field.replace(/%7C/g, '|').replace(/%25/g, '%');
}
