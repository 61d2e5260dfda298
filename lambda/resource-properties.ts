/**
 * Reading the custom resource's properties as CloudFormation delivers them: strictly for Create and Update, leniently for Delete.
 */
import { RESOURCE_PROPERTY } from '../lib/contract';
import { FIX, NOTHING_TO_MANAGE, PROPERTY_KEYS, type PropertyKey, checkDeclaredValues, show } from '../lib/rules';

/** How many problems an error lists before it says how many more there are: a message stays readable and small. */
const MAX_LISTED_PROBLEMS = 8;

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
    const listed = problems.slice(0, MAX_LISTED_PROBLEMS);
    const more = problems.length > listed.length ? ` | ...and ${problems.length - listed.length} more` : '';
    super(
      problems.length === 1
        ? `Invalid ProvisionedProductProperties: ${problems[0]}`
        : `Invalid ProvisionedProductProperties (${problems.length} problems): ${listed.join(' | ')}${more}`,
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
    if (!known.has(key)) problems.push(`unknown resource property ${show(key)}; known ones are ${[...known].join(', ')}.`);
  }

  const productId = props[RESOURCE_PROPERTY.productId];
  if (typeof productId !== 'string') {
    problems.push(`${RESOURCE_PROPERTY.productId} is missing or not a string (got ${show(productId)}). ${FIX.productId}`);
  }

  const properties: Partial<Record<PropertyKey, string>> = {};
  const map = props[RESOURCE_PROPERTY.properties];
  if (map === null || typeof map !== 'object' || Array.isArray(map)) {
    problems.push(`${RESOURCE_PROPERTY.properties} must be a map with OWNER and/or LAUNCH_ROLE (got ${show(map)}).`);
  } else {
    for (const [key, value] of Object.entries(map as Record<string, unknown>)) {
      if (!(PROPERTY_KEYS as readonly string[]).includes(key)) {
        problems.push(`unknown ${RESOURCE_PROPERTY.properties} key ${show(key)}; only ${PROPERTY_KEYS.join(' and ')} can be managed.`);
      } else if (typeof value !== 'string') {
        problems.push(`${key} must be an ARN string (got ${show(value)}).`);
      } else {
        properties[key as PropertyKey] = value;
      }
    }
    if (Object.keys(map).length === 0) problems.push(NOTHING_TO_MANAGE);
  }

  const acceptLanguage = props[RESOURCE_PROPERTY.acceptLanguage];
  if (acceptLanguage !== undefined && typeof acceptLanguage !== 'string') {
    problems.push(`${RESOURCE_PROPERTY.acceptLanguage} must be a string (got ${show(acceptLanguage)}). ${FIX.acceptLanguage}`);
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
      `${RESOURCE_PROPERTY.restoreOnDelete} ${show(props[RESOURCE_PROPERTY.restoreOnDelete])} is not a boolean. ${FIX.restoreOnDelete}`,
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
  /** The product id, when a string. */
  readonly productId?: string;
  /** The keys the properties manage (string values only). */
  readonly managedKeys: PropertyKey[];
  /** Their values: what the stack declared. */
  readonly values: Partial<Record<PropertyKey, string>>;
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
  const given = (map ?? {}) as Record<string, unknown>;
  const managedKeys = PROPERTY_KEYS.filter((k) => typeof given[k] === 'string');
  const language = props?.[RESOURCE_PROPERTY.acceptLanguage];
  const productId = props?.[RESOURCE_PROPERTY.productId];
  return {
    productId: typeof productId === 'string' ? productId : undefined,
    managedKeys,
    values: Object.fromEntries(managedKeys.map((k) => [k, given[k] as string])),
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
