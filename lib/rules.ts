/**
 * The input rules of ProvisionedProductProperties, written once for synth time and deploy time.
 *
 * This module is imported by the construct (to check literal values at synth time) and bundled
 * into the Lambda handler (to check the resolved values at deploy time). It imports nothing but the
 * import-free wire contract, so that the handler bundle does not pull in aws-cdk-lib.
 */
import { RESOURCE_PROPERTY } from './contract';

/** The Service Catalog property keys this construct manages. */
export const PROPERTY_KEYS = ['OWNER', 'LAUNCH_ROLE'] as const;
/** One of {@link PROPERTY_KEYS}. */
export type PropertyKey = (typeof PROPERTY_KEYS)[number];

/** Language codes UpdateProvisionedProductProperties accepts in AcceptLanguage. */
export const ACCEPT_LANGUAGES = ['en', 'jp', 'zh'] as const;

// IAM names: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html
// Paths are '/' or '/.../' of printable ASCII; names are [\w+=,.@-]{1,64}.
const PARTITION = 'aws(?:-[a-z]+)*';
const ACCOUNT = '\\d{12}';
const IAM_PATH = '(?:/[\\u0021-\\u007E]{0,510}/|/)';
const IAM_NAME = '[\\w+=,.@-]{1,64}';
const SESSION_NAME = '[\\w+=,.@-]{2,64}';

/** `^[a-zA-Z0-9_-]` of length 1–100 (the API's own constraint on ProvisionedProductId). */
export const PRODUCT_ID_PATTERN = /^[a-zA-Z0-9_-]{1,100}$/;
/** An IAM role ARN, e.g. `arn:aws:iam::123456789012:role/path/Name`. */
export const ROLE_ARN_PATTERN = new RegExp(`^arn:${PARTITION}:iam::${ACCOUNT}:role${IAM_PATH}${IAM_NAME}$`);
/** An IAM user ARN, e.g. `arn:aws:iam::123456789012:user/Name`. */
export const USER_ARN_PATTERN = new RegExp(`^arn:${PARTITION}:iam::${ACCOUNT}:user${IAM_PATH}${IAM_NAME}$`);
/** An STS assumed-role ARN, e.g. `arn:aws:sts::123456789012:assumed-role/Role/session`. */
export const ASSUMED_ROLE_ARN_PATTERN = new RegExp(`^arn:${PARTITION}:sts::${ACCOUNT}:assumed-role/${IAM_NAME}/${SESSION_NAME}$`);
/** Values of a ProvisionedProductProperties entry are at most 1024 characters long. */
export const MAX_PROPERTY_VALUE_LENGTH = 1024;

/** What the caller should do to fix a value, appended to every message. */
const FIX = {
  productId: 'Pass the id of an existing provisioned product (pp-...), as shown by `aws servicecatalog search-provisioned-products`.',
  owner: 'Pass an IAM user ARN, an IAM role ARN or an STS assumed-role ARN in the account of the product.',
  launchRole: 'Pass an IAM role ARN (a user ARN is not valid for LAUNCH_ROLE).',
  acceptLanguage: `Use one of ${ACCEPT_LANGUAGES.join(', ')} (AcceptLanguage.ENGLISH, JAPANESE or CHINESE).`,
  restoreOnDelete: 'Use true or false.',
};

/** Returns `undefined` when `id` is a valid provisioned product id, else the error message. */
export function checkProductId(id: string): string | undefined {
  if (PRODUCT_ID_PATTERN.test(id)) return undefined;
  return `provisionedProductId ${JSON.stringify(id)} is not a provisioned product id: it must be 1-100 characters of letters, digits, '_' and '-'. ${FIX.productId}`;
}

/** Returns `undefined` when `arn` may be the OWNER of a provisioned product, else the error message. */
export function checkOwnerArn(arn: string): string | undefined {
  if (arn.length <= MAX_PROPERTY_VALUE_LENGTH && isOwnerArn(arn)) return undefined;
  return `owner ${JSON.stringify(arn)} is not an IAM user, IAM role or STS assumed-role ARN. ${FIX.owner}`;
}

/** Returns `undefined` when `arn` may be the LAUNCH_ROLE of a provisioned product, else the error message. */
export function checkLaunchRoleArn(arn: string): string | undefined {
  if (arn.length <= MAX_PROPERTY_VALUE_LENGTH && ROLE_ARN_PATTERN.test(arn)) return undefined;
  const hint = USER_ARN_PATTERN.test(arn) || ASSUMED_ROLE_ARN_PATTERN.test(arn) ? ' It names a user or a session, not a role.' : '';
  return `launchRole ${JSON.stringify(arn)} is not an IAM role ARN.${hint} ${FIX.launchRole}`;
}

/** Returns `undefined` when `code` is an AcceptLanguage value the API knows, else the error message. */
export function checkAcceptLanguage(code: string): string | undefined {
  if ((ACCEPT_LANGUAGES as readonly string[]).includes(code)) return undefined;
  return `acceptLanguage ${JSON.stringify(code)} is not a language code Service Catalog accepts. ${FIX.acceptLanguage}`;
}

/** True when `arn` is an IAM user, IAM role or STS assumed-role ARN. */
export function isOwnerArn(arn: string): boolean {
  return USER_ARN_PATTERN.test(arn) || ROLE_ARN_PATTERN.test(arn) || ASSUMED_ROLE_ARN_PATTERN.test(arn);
}

/** The account id of an IAM or STS ARN, or `undefined` when `arn` is not one. */
export function accountOf(arn: string): string | undefined {
  return /^arn:[^:]+:[^:]*:[^:]*:(\d{12}):/.exec(arn)?.[1];
}

/** Returns an error message when owner and launch role are in different accounts. */
export function checkSameAccount(ownerArn: string, launchRoleArn: string): string | undefined {
  const owner = accountOf(ownerArn);
  const role = accountOf(launchRoleArn);
  if (owner === undefined || role === undefined || owner === role) return undefined;
  return `owner ${JSON.stringify(ownerArn)} is in account ${owner} but launchRole ${JSON.stringify(launchRoleArn)} is in account ${role}. Service Catalog only accepts principals in the product's own account: use ARNs from one account.`;
}

/** Returns an error message when a managed value is a principal of another account than the product's. */
export function checkProductAccount(
  productId: string,
  productArn: string,
  properties: Partial<Record<PropertyKey, string>>,
): string | undefined {
  const productAccount = accountOf(productArn);
  if (!productAccount) return undefined;
  for (const key of PROPERTY_KEYS) {
    const value = properties[key];
    const account = value === undefined ? undefined : accountOf(value);
    if (account && account !== productAccount) {
      return (
        `${key} ${JSON.stringify(value)} is in account ${account}, but provisioned product ${productId} is in account ${productAccount}. ` +
        "Service Catalog accepts only principals of the product's own account: use an ARN from that account."
      );
    }
  }
  return undefined;
}

/** The message for a resource that manages neither key. */
export const NOTHING_TO_MANAGE = 'set at least one of owner and launchRole: there is nothing to manage.';

/** The values one resource declares, as far as they are known (at synth, tokens are left out). */
export interface DeclaredValues {
  readonly productId?: string;
  readonly owner?: string;
  readonly launchRole?: string;
  readonly acceptLanguage?: string;
}

/**
 * Every rule on the declared values, the one rule set synth and deploy share: each value that is
 * present is checked, and the owner and launch role against each other. Returns the problems found.
 */
export function checkDeclaredValues(values: DeclaredValues): string[] {
  const problems: string[] = [];
  if (values.productId !== undefined) pushIf(problems, checkProductId(values.productId));
  if (values.owner !== undefined) pushIf(problems, checkOwnerArn(values.owner));
  if (values.launchRole !== undefined) pushIf(problems, checkLaunchRoleArn(values.launchRole));
  if (values.owner !== undefined && values.launchRole !== undefined) pushIf(problems, checkSameAccount(values.owner, values.launchRole));
  if (values.acceptLanguage !== undefined) pushIf(problems, checkAcceptLanguage(values.acceptLanguage));
  return problems;
}

/** The desired state of one ProvisionedProductProperties resource, after validation. */
export interface DesiredProperties {
  /** The provisioned product id. */
  readonly productId: string;
  /** The keys this resource manages and the values it wants them to have. */
  readonly properties: Partial<Record<PropertyKey, string>>;
  /** AcceptLanguage for the API calls, when set. */
  readonly acceptLanguage?: string;
  /** Whether Delete puts the prior values back. */
  readonly restoreOnDelete: boolean;
}

/** Thrown when the custom resource's properties break a rule; its message says what to do. */
export class InvalidPropertiesError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(
      problems.length === 1
        ? `Invalid ProvisionedProductProperties: ${problems[0]}`
        : `Invalid ProvisionedProductProperties (${problems.length} problems): ${problems.join(' | ')}`,
    );
    this.name = 'InvalidPropertiesError';
  }
}

/**
 * Parses and validates the custom resource's properties as CloudFormation delivers them (every
 * scalar a string). Throws {@link InvalidPropertiesError} listing every problem found.
 */
export function parseResourceProperties(raw: Record<string, unknown> | undefined): DesiredProperties {
  const problems: string[] = [];
  const props = raw ?? {};
  const known = new Set<string>(['ServiceToken', ...Object.values(RESOURCE_PROPERTY)]);
  for (const key of Object.keys(props)) {
    if (!known.has(key)) problems.push(`unknown resource property ${JSON.stringify(key)}; known ones are ${[...known].join(', ')}.`);
  }

  const productId = props[RESOURCE_PROPERTY.productId];
  if (typeof productId !== 'string') {
    problems.push(`${RESOURCE_PROPERTY.productId} is missing or not a string (got ${JSON.stringify(productId)}). ${FIX.productId}`);
  }

  const properties: Partial<Record<PropertyKey, string>> = {};
  const map = props[RESOURCE_PROPERTY.properties];
  if (map === undefined || map === null || typeof map !== 'object' || Array.isArray(map)) {
    problems.push(`${RESOURCE_PROPERTY.properties} must be a map with OWNER and/or LAUNCH_ROLE (got ${JSON.stringify(map)}).`);
  } else {
    for (const [key, value] of Object.entries(map as Record<string, unknown>)) {
      if (!(PROPERTY_KEYS as readonly string[]).includes(key)) {
        problems.push(
          `unknown ${RESOURCE_PROPERTY.properties} key ${JSON.stringify(key)}; only ${PROPERTY_KEYS.join(' and ')} can be managed.`,
        );
      } else if (typeof value !== 'string') {
        problems.push(`${key} must be an ARN string (got ${JSON.stringify(value)}).`);
      } else {
        properties[key as PropertyKey] = value;
      }
    }
    if (Object.keys(map).length === 0) problems.push(NOTHING_TO_MANAGE);
  }

  const acceptLanguage = props[RESOURCE_PROPERTY.acceptLanguage];
  if (acceptLanguage !== undefined && acceptLanguage !== '' && typeof acceptLanguage !== 'string') {
    problems.push(`${RESOURCE_PROPERTY.acceptLanguage} must be a string (got ${JSON.stringify(acceptLanguage)}). ${FIX.acceptLanguage}`);
  }
  const language = typeof acceptLanguage === 'string' && acceptLanguage !== '' ? acceptLanguage : undefined;
  problems.push(
    ...checkDeclaredValues({
      productId: typeof productId === 'string' ? productId : undefined,
      owner: properties.OWNER,
      launchRole: properties.LAUNCH_ROLE,
      acceptLanguage: language,
    }),
  );

  const restoreOnDelete = parseBoolean(props[RESOURCE_PROPERTY.restoreOnDelete], true);
  if (restoreOnDelete === undefined) {
    problems.push(
      `${RESOURCE_PROPERTY.restoreOnDelete} ${JSON.stringify(props[RESOURCE_PROPERTY.restoreOnDelete])} is not a boolean. ${FIX.restoreOnDelete}`,
    );
  }

  if (problems.length > 0) throw new InvalidPropertiesError(problems);
  return {
    productId: productId as string,
    properties,
    acceptLanguage: language,
    restoreOnDelete: restoreOnDelete as boolean,
  };
}

/** What Delete and an Update's old properties are read for. */
export interface LenientProperties {
  /** The keys the properties manage (string values only). */
  readonly managedKeys: PropertyKey[];
  /** AcceptLanguage, when a non-empty string. */
  readonly acceptLanguage?: string;
  /** Whether Delete restores; `false` only when the properties say so plainly. */
  readonly restoreOnDelete: boolean;
}

/**
 * Reads properties that need not pass validation: those of a Delete, and an Update's old ones.
 * A stack must always be deletable, so Delete reads only what it needs and never rejects: a value
 * that is not a boolean spelling keeps the default (restore), which loses nothing.
 */
export function readLeniently(props: Record<string, unknown> | undefined): LenientProperties {
  const map = props?.[RESOURCE_PROPERTY.properties];
  const managedKeys =
    map && typeof map === 'object' ? PROPERTY_KEYS.filter((k) => typeof (map as Record<string, unknown>)[k] === 'string') : [];
  const language = props?.[RESOURCE_PROPERTY.acceptLanguage];
  return {
    managedKeys,
    acceptLanguage: typeof language === 'string' && language !== '' ? language : undefined,
    restoreOnDelete: parseBoolean(props?.[RESOURCE_PROPERTY.restoreOnDelete], true) !== false,
  };
}

/**
 * CloudFormation hands every scalar to a custom resource as a string: `true` arrives as "true".
 * Returns `undefined` for anything that is not a boolean spelling.
 */
export function parseBoolean(value: unknown, fallback: boolean): boolean | undefined {
  if (value === undefined || value === null || value === '') return fallback;
  if (value === true || value === 'true') return true;
  if (value === false || value === 'false') return false;
  return undefined;
}

function pushIf(problems: string[], message: string | undefined): void {
  if (message !== undefined) problems.push(message);
}
