/**
 * The input rules of ProvisionedProductProperties, written once for synth time and deploy time.
 *
 * This module is imported by the construct (to check literal values at synth time) and bundled
 * into the Lambda handler (to check the resolved values at deploy time). It must stay free of
 * imports so that the handler bundle does not pull in aws-cdk-lib.
 */

/** The Service Catalog property keys this construct manages. */
export const PROPERTY_KEYS = ['OWNER', 'LAUNCH_ROLE'] as const;
/** One of {@link PROPERTY_KEYS}. */
export type PropertyKey = (typeof PROPERTY_KEYS)[number];
/** Owner and launch role of a product as Service Catalog reports them ('' for none). */
export type PropertyValues = Record<PropertyKey, string>;

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
const ROLE_ARN_PATTERN = new RegExp(`^arn:${PARTITION}:iam::${ACCOUNT}:role${IAM_PATH}${IAM_NAME}$`);
/** An IAM user ARN, e.g. `arn:aws:iam::123456789012:user/Name`. */
const USER_ARN_PATTERN = new RegExp(`^arn:${PARTITION}:iam::${ACCOUNT}:user${IAM_PATH}${IAM_NAME}$`);
/** An STS assumed-role ARN, e.g. `arn:aws:sts::123456789012:assumed-role/Role/session`. */
const ASSUMED_ROLE_ARN_PATTERN = new RegExp(`^arn:${PARTITION}:sts::${ACCOUNT}:assumed-role/${IAM_NAME}/${SESSION_NAME}$`);
/** Values of a ProvisionedProductProperties entry are at most 1024 characters long. */
export const MAX_PROPERTY_VALUE_LENGTH = 1024;

/** How much of a value a message or log line shows: enough to recognise it, never attacker-sized. */
export const MAX_SHOWN_CHARACTERS = 160;
/** How much of a service's own text (an error message, a record's description) a message carries: it says more than a value. */
export const MAX_SERVICE_TEXT_CHARACTERS = 400;

/**
 * The one truncation rule: `text` cut to `limit` characters with its full length said, so that no
 * input can make a message or log line large. `quote` writes the part kept (as it is, by default).
 */
export function clip(text: string, limit: number, quote: (kept: string) => string = (kept) => kept): string {
  if (text.length <= limit) return quote(text);
  return `${quote(text.slice(0, limit))}... (${text.length} characters in all)`;
}

/**
 * A value as a message shows it: JSON-quoted, and cut to {@link MAX_SHOWN_CHARACTERS} with its
 * full length said (see {@link clip}).
 */
export function show(value: unknown): string {
  const text = typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value));
  if (typeof value !== 'string' && text.length <= MAX_SHOWN_CHARACTERS) return text;
  return clip(text, MAX_SHOWN_CHARACTERS, JSON.stringify);
}

/** What a value is, in words, for a message that says what it should have been: an object's content is not shown. */
function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `${typeof value} ${show(value)}`;
}

/** The type one field of the props must have, for callers TypeScript does not check (JavaScript, jsii languages). */
export interface TypeRule {
  readonly key: string;
  /** What it must be, in words: `a Duration`, `true or false`. */
  readonly mustBe: string;
  readonly test: (value: unknown) => boolean;
  /** How to make one, when that is not plain. */
  readonly hint?: string;
  /** Whether it must be present: otherwise an absent field passes. */
  readonly required?: boolean;
}

/** One message per field of `values` that breaks its {@link TypeRule}: `key must be X (got …): hint`. */
export function checkTypes(values: Record<string, unknown>, rules: readonly TypeRule[]): string[] {
  return rules
    .filter((rule) => (rule.required || values[rule.key] !== undefined) && !rule.test(values[rule.key]))
    .map((rule) => `${rule.key} must be ${rule.mustBe} (got ${kindOf(values[rule.key])})${rule.hint ? `: ${rule.hint}` : ''}`);
}

/** What the caller should do to fix a value, appended to every message. */
export const FIX = {
  productId: 'Pass the id of an existing provisioned product (pp-...), as shown by `aws servicecatalog search-provisioned-products`.',
  owner: 'Pass an IAM user ARN, an IAM role ARN or an STS assumed-role ARN in the account of the product.',
  launchRole: 'Pass an IAM role ARN (a user ARN is not valid for LAUNCH_ROLE).',
  acceptLanguage: `Use one of ${ACCEPT_LANGUAGES.join(', ')} (AcceptLanguage.ENGLISH, JAPANESE or CHINESE).`,
  restoreOnDelete: 'Use true or false.',
  home: "Service Catalog accepts only principals of the product's own account and partition: use an ARN from there.",
};

/** Returns `undefined` when `id` is a valid provisioned product id, else the error message. */
export function checkProductId(id: string): string | undefined {
  if (PRODUCT_ID_PATTERN.test(id)) return undefined;
  return `provisionedProductId ${show(id)} is not a provisioned product id: it must be 1-100 characters of letters, digits, '_' and '-'. ${FIX.productId}`;
}

/**
 * The prefixes of Service Catalog's other ids (as its API and the AWS CLI's examples show them:
 * provisioned products are `pp-...`), and what each names.
 */
const OTHER_ID_KINDS: ReadonlyArray<{ readonly pattern: RegExp; readonly kind: string }> = [
  { pattern: /^prod-/, kind: 'a product id' },
  { pattern: /^port-/, kind: 'a portfolio id' },
  { pattern: /^pa-/, kind: 'a provisioning artifact (product version) id' },
  { pattern: /^rec-/, kind: 'a record id' },
  { pattern: /^lpv\d+-/, kind: 'a launch path id' },
  { pattern: /^plan-/, kind: 'a provisioned product plan id' },
  { pattern: /^cons-/, kind: 'a constraint id' },
  { pattern: /^tag-/, kind: 'a TagOption id' },
];

/**
 * Returns an error message when `id`, a valid id by {@link checkProductId}, is plainly another kind
 * of Service Catalog id (a product's, a portfolio's, a version's, a record's, ...), else `undefined`.
 * A synth-time hint only: the deploy-time rules do not refuse such an id (a Delete must never refuse).
 */
export function checkProductIdKind(id: string): string | undefined {
  if (!/^[a-z0-9]+-[a-z0-9]+$/.test(id)) return undefined;
  const other = OTHER_ID_KINDS.find((k) => k.pattern.test(id));
  if (!other) return undefined;
  return `provisionedProductId ${show(id)} looks like ${other.kind} (${id.slice(0, id.indexOf('-') + 1)}...), not the id of a provisioned product. ${FIX.productId}`;
}

/** Returns `undefined` when `arn` may be the OWNER of a provisioned product, else the error message. */
export function checkOwnerArn(arn: string): string | undefined {
  if (isOwnerArn(arn)) return undefined;
  return `owner ${show(arn)} is not an IAM user, IAM role or STS assumed-role ARN${tooLong(arn)}. ${FIX.owner}`;
}

/** Returns `undefined` when `arn` may be the LAUNCH_ROLE of a provisioned product, else the error message. */
export function checkLaunchRoleArn(arn: string): string | undefined {
  if (isLaunchRoleArn(arn)) return undefined;
  const hint = USER_ARN_PATTERN.test(arn) || ASSUMED_ROLE_ARN_PATTERN.test(arn) ? ' It names a user or a session, not a role.' : '';
  return `launchRole ${show(arn)} is not an IAM role ARN${tooLong(arn)}.${hint} ${FIX.launchRole}`;
}

/** Returns `undefined` when `code` is an AcceptLanguage value the API knows, else the error message. */
export function checkAcceptLanguage(code: string): string | undefined {
  if ((ACCEPT_LANGUAGES as readonly string[]).includes(code)) return undefined;
  return `acceptLanguage ${show(code)} is not a language code Service Catalog accepts. ${FIX.acceptLanguage}`;
}

function tooLong(value: string): string {
  return value.length > MAX_PROPERTY_VALUE_LENGTH
    ? ` (and at ${value.length} characters it is over the ${MAX_PROPERTY_VALUE_LENGTH} Service Catalog allows)`
    : '';
}

/** True when `arn` is an IAM user, IAM role or STS assumed-role ARN of at most 1024 characters. */
export function isOwnerArn(arn: string): boolean {
  return (
    arn.length <= MAX_PROPERTY_VALUE_LENGTH &&
    (USER_ARN_PATTERN.test(arn) || ROLE_ARN_PATTERN.test(arn) || ASSUMED_ROLE_ARN_PATTERN.test(arn))
  );
}

/** True when `arn` is an IAM role ARN of at most 1024 characters. */
export function isLaunchRoleArn(arn: string): boolean {
  return arn.length <= MAX_PROPERTY_VALUE_LENGTH && ROLE_ARN_PATTERN.test(arn);
}

/** Where a principal or a product lives: its partition and account. */
export interface Home {
  readonly partition: string;
  readonly account: string;
}

/** The partition and account of an ARN, or `undefined` when it names neither. */
export function homeOf(arn: string): Home | undefined {
  const m = /^arn:([^:]+):[^:]*:[^:]*:(\d{12}):/.exec(arn);
  return m ? { partition: m[1], account: m[2] } : undefined;
}

/**
 * Returns an error message for each of `values` that is an ARN outside `home` (a partition or an
 * account that is `undefined` is not known, and not compared). `where` names the home in words.
 */
export function checkHome(values: Partial<Record<PropertyKey, string>>, home: Partial<Home>, where: string): string[] {
  const problems: string[] = [];
  for (const key of PROPERTY_KEYS) {
    const value = values[key];
    const at = homeOf(value ?? '');
    if (!at) continue;
    if (home.partition !== undefined && at.partition !== home.partition) {
      problems.push(`${key} ${show(value)} is in partition ${at.partition}, but ${where} is in partition ${home.partition}. ${FIX.home}`);
    } else if (home.account !== undefined && at.account !== home.account) {
      problems.push(`${key} ${show(value)} is in account ${at.account}, but ${where} is in account ${home.account}. ${FIX.home}`);
    }
  }
  return problems;
}

/** Returns an error message when owner and launch role are in different partitions or accounts. */
export function checkSameHome(ownerArn: string, launchRoleArn: string): string | undefined {
  const owner = homeOf(ownerArn);
  const role = homeOf(launchRoleArn);
  if (!owner || !role) return undefined;
  const what = owner.partition !== role.partition ? 'partition' : owner.account !== role.account ? 'account' : undefined;
  if (!what) return undefined;
  return `owner ${show(ownerArn)} is in ${what} ${owner[what]} but launchRole ${show(launchRoleArn)} is in ${what} ${role[what]}. ${FIX.home}`;
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
 * present is checked, and the launch role must live where the owner does. Returns the problems found.
 */
export function checkDeclaredValues(values: DeclaredValues): string[] {
  const problems: string[] = [];
  if (values.productId !== undefined) pushIf(problems, checkProductId(values.productId));
  if (values.owner !== undefined) pushIf(problems, checkOwnerArn(values.owner));
  if (values.launchRole !== undefined) pushIf(problems, checkLaunchRoleArn(values.launchRole));
  if (problems.length === 0) pushIf(problems, checkSameHome(values.owner ?? '', values.launchRole ?? ''));
  if (values.acceptLanguage !== undefined) pushIf(problems, checkAcceptLanguage(values.acceptLanguage));
  return problems;
}

/** Adds `message` to `problems` when there is one. */
function pushIf(problems: string[], message: string | undefined): void {
  if (message !== undefined) problems.push(message);
}
