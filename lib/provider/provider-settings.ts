/**
 * The shared provider's settings: their defaults, and the one check of them (types, values, the waiter's timing, and that every instance of a stack asks for the same).
 */
import { Duration, Token } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type { IConstruct } from 'constructs';
import { WAITER } from '../contract';
import { type TypeRule, checkTypes } from '../rules';
import { type DriftCheck, MIN_DRIFT_INTERVAL_MINUTES } from '../drift-check';
import type { SharedProviderProps } from './shared-provider-props';

/** The settings the provider is built with: the first instance's, defaults filled in. */
export interface ProviderSettings {
  readonly queryInterval: Duration;
  readonly totalTimeout: Duration;
  readonly vpc?: ec2.IVpc;
  readonly vpcSubnets?: ec2.SubnetSelection;
  readonly securityGroups?: ec2.ISecurityGroup[];
  readonly logEncryptionKey?: kms.IKey;
  readonly ledgerEncryptionKey?: kms.IKey;
  readonly reservedConcurrency?: number;
  readonly tracing: boolean;
  readonly driftCheck?: DriftCheck;
}

/** The settings a provider built from `asked` has: `asked`, with the defaults filled in. */
export function resolveSettings(asked: SharedProviderProps): ProviderSettings {
  return {
    vpc: asked.vpc,
    vpcSubnets: asked.vpcSubnets,
    securityGroups: asked.securityGroups,
    logEncryptionKey: asked.logEncryptionKey,
    ledgerEncryptionKey: asked.ledgerEncryptionKey,
    reservedConcurrency: asked.reservedConcurrency,
    queryInterval: asked.queryInterval ?? Duration.seconds(WAITER.defaultQueryIntervalSeconds),
    totalTimeout: asked.totalTimeout ?? Duration.seconds(WAITER.defaultTotalTimeoutSeconds),
    tracing: asked.tracing ?? false,
    driftCheck: asked.driftCheck,
  };
}

/** The stack's provider, as far as the check of a later instance's settings needs it. */
export interface ExistingProvider {
  readonly settings: ProviderSettings;
  /** The path of the instance whose settings the provider was built with. */
  readonly settingsFrom: string;
  readonly stackName: string;
}

/**
 * The one check of one instance's provider settings, in order: their types (for callers
 * TypeScript does not check), the values that cannot work, the waiter's timing (of the settings
 * the provider is built with), and, where the stack's provider exists already, that the instance
 * asks for what it has. Returns the problems, one message each (none: the settings work).
 */
export function checkSettings(asked: SharedProviderProps, existing: ExistingProvider | undefined): string[] {
  const types = checkTypes(asked as Record<string, unknown>, SETTING_TYPES);
  if (types.length > 0) return types;
  const values = checkSettingValues(asked);
  if (values.length > 0) return values;
  if (!existing) return checkWaiterSettings(resolveSettings(asked));
  const conflicts = settingsConflicts(asked, existing.settings);
  if (conflicts.length === 0) return [];
  return [
    `${conflicts.join(' and ')}. One provider serves every ProvisionedProductProperties in stack ${existing.stackName}, ` +
      `and its settings came from ${existing.settingsFrom}, the first instance. Give every instance in the stack the same provider settings (queryInterval, totalTimeout, vpc, vpcSubnets, securityGroups, logEncryptionKey, ledgerEncryptionKey, reservedConcurrency, tracing, driftCheck), or set them on the first one only.`,
  ];
}

/** Whether `v` is an object with a member `key`: how an interface (ec2.IVpc, kms.IKey) is recognised. */
const has = (v: unknown, key: string) => typeof v === 'object' && v !== null && key in v;

/** The types of the settings. */
const SETTING_TYPES: readonly TypeRule[] = [
  ...(['queryInterval', 'totalTimeout'] as const).map((key) => ({
    key,
    mustBe: 'a Duration',
    test: (v: unknown) => v instanceof Duration,
    hint: 'e.g. Duration.seconds(5)',
  })),
  {
    key: 'vpc',
    mustBe: 'an ec2.IVpc',
    test: (v) => has(v, 'vpcId') && has(v, 'selectSubnets'),
    hint: "e.g. ec2.Vpc.fromLookup(this, 'Vpc', { vpcId })",
  },
  {
    key: 'vpcSubnets',
    mustBe: 'an ec2.SubnetSelection',
    test: (v) => typeof v === 'object' && v !== null && !Array.isArray(v),
    hint: 'e.g. { subnetType: ec2.SubnetType.PRIVATE_ISOLATED }',
  },
  {
    key: 'securityGroups',
    mustBe: 'an array of ec2.ISecurityGroup',
    test: (v) => Array.isArray(v) && v.every((g) => has(g, 'securityGroupId')),
  },
  {
    key: 'logEncryptionKey',
    mustBe: 'a kms.IKey',
    test: (v) => has(v, 'keyArn'),
    hint: "for an ARN, pass kms.Key.fromKeyArn(this, 'LogKey', arn)",
  },
  {
    key: 'ledgerEncryptionKey',
    mustBe: 'a kms.IKey',
    test: (v) => has(v, 'keyArn'),
    hint: "for an ARN, pass kms.Key.fromKeyArn(this, 'LedgerKey', arn)",
  },
  { key: 'reservedConcurrency', mustBe: 'a number', test: (v) => typeof v === 'number' },
  { key: 'tracing', mustBe: 'true or false', test: (v) => typeof v === 'boolean' },
  {
    key: 'driftCheck',
    mustBe: 'a DriftCheck',
    test: (v) =>
      has(v, 'interval') &&
      (v as { interval: unknown }).interval instanceof Duration &&
      typeof (v as { restore: unknown }).restore === 'boolean',
    hint: 'e.g. DriftCheck.daily() or DriftCheck.every(Duration.hours(6), { restore: true })',
  },
];

/** The values of one instance's network and concurrency settings that cannot work, one message each. */
function checkSettingValues(asked: SharedProviderProps): string[] {
  const problems: string[] = [];
  const n = asked.reservedConcurrency;
  if (n !== undefined && !Token.isUnresolved(n) && !(Number.isInteger(n) && n >= 1)) {
    problems.push(
      `reservedConcurrency ${String(n)} is not a whole number of at least 1 (0 would stop the functions): use at least the number of instances in the stack, e.g. 10, or leave it unset`,
    );
  }
  const check = asked.driftCheck;
  if (check && !Token.isUnresolved(check.interval.toMilliseconds({ integral: false }))) {
    const ms = check.interval.toMilliseconds({ integral: false });
    if (ms % 60_000 !== 0 || ms < MIN_DRIFT_INTERVAL_MINUTES * 60_000) {
      problems.push(
        `driftCheck's interval ${check.interval.toHumanString()} is not a whole number of minutes of at least ${MIN_DRIFT_INTERVAL_MINUTES}: a check of a large stack takes minutes. Use e.g. DriftCheck.every(Duration.hours(6)), or DriftCheck.daily()`,
      );
    }
  }
  if (!asked.vpc) {
    for (const key of ['vpcSubnets', 'securityGroups'] as const) {
      if (asked[key] !== undefined) problems.push(`${key} is set without vpc: set vpc too, the VPC they belong to`);
    }
    return problems;
  }
  if (asked.securityGroups?.length === 0) {
    problems.push('securityGroups is empty: give at least one security group, or leave it unset and the construct creates one');
  }
  let selected: ec2.SelectedSubnets;
  try {
    selected = asked.vpc.selectSubnets(asked.vpcSubnets);
  } catch (e) {
    problems.push(`vpcSubnets cannot select subnets of the VPC ${asked.vpc.node.path}: ${e instanceof Error ? e.message : String(e)}`);
    return problems;
  }
  const publicIds = new Set(asked.vpc.publicSubnets.map((s) => s.subnetId));
  const publicOnes = selected.subnets.filter((s) => publicIds.has(s.subnetId));
  if (publicOnes.length > 0) {
    problems.push(
      `vpcSubnets selects public subnets (${publicOnes.map((s) => s.node.path).join(', ')}) of the VPC ${asked.vpc.node.path}: ` +
        'a Lambda function there gets no public IP address and cannot reach AWS. Select private subnets (with a NAT gateway or VPC endpoints), e.g. { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS }',
    );
  }
  return problems;
}

/** Where `asked` differs from the provider's settings `has`, one phrase each (none when it asks for what the provider has or for nothing). */
function settingsConflicts(asked: SharedProviderProps, has: ProviderSettings): string[] {
  const conflicts: string[] = [];
  const differ = <T>(
    key: keyof SharedProviderProps,
    a: T | undefined,
    b: T | undefined,
    same: (x: T, y: T) => boolean,
    say: (x?: T) => string,
  ) => {
    if (a === undefined) return;
    if (b !== undefined && same(a, b)) return;
    conflicts.push(`${key} ${say(a)} (the provider has ${say(b)})`);
  };
  const duration = (x: Duration, y: Duration) => x.toMilliseconds() === y.toMilliseconds();
  const sayDuration = (x?: Duration) => x?.toHumanString() ?? 'none';
  differ('queryInterval', asked.queryInterval, has.queryInterval, duration, sayDuration);
  differ('totalTimeout', asked.totalTimeout, has.totalTimeout, duration, sayDuration);
  const path = (x?: IConstruct) => x?.node.path ?? 'none';
  differ(
    'vpc',
    asked.vpc,
    has.vpc,
    (x, y) => x.vpcId === y.vpcId,
    (x) => (x ? `${x.node.path}` : 'none'),
  );
  // Subnets and security groups compare by what they select, in the provider's VPC.
  if (asked.vpc && has.vpc && asked.vpc.vpcId === has.vpc.vpcId) {
    const subnets = (sel?: ec2.SubnetSelection) => has.vpc?.selectSubnets(sel).subnets ?? [];
    const ids = (xs: readonly { subnetId: string }[]) =>
      xs
        .map((s) => s.subnetId)
        .sort()
        .join(',');
    if (asked.vpcSubnets !== undefined && ids(subnets(asked.vpcSubnets)) !== ids(subnets(has.vpcSubnets))) {
      const say = (sel?: ec2.SubnetSelection) => subnets(sel).map(path).join(', ');
      conflicts.push(`vpcSubnets selecting ${say(asked.vpcSubnets)} (the provider's are ${say(has.vpcSubnets)})`);
    }
  }
  const groups = (xs: ec2.ISecurityGroup[]) =>
    xs
      .map((g) => g.securityGroupId)
      .sort()
      .join(',');
  differ(
    'securityGroups',
    asked.securityGroups,
    has.securityGroups,
    (x, y) => groups(x) === groups(y),
    (x) => (x ? `[${x.map(path).join(', ')}]` : 'the one the construct created'),
  );
  differ('logEncryptionKey', asked.logEncryptionKey, has.logEncryptionKey, (x, y) => x.keyArn === y.keyArn, path);
  differ('ledgerEncryptionKey', asked.ledgerEncryptionKey, has.ledgerEncryptionKey, (x, y) => x.keyArn === y.keyArn, path);
  differ(
    'reservedConcurrency',
    asked.reservedConcurrency,
    has.reservedConcurrency,
    (x, y) => x === y,
    (x) => (x === undefined ? 'none' : String(x)),
  );
  differ('tracing', asked.tracing, has.tracing, (x, y) => x === y, String);
  differ(
    'driftCheck',
    asked.driftCheck,
    has.driftCheck,
    (x, y) => duration(x.interval, y.interval) && x.restore === y.restore,
    (x) => (x ? `every ${x.interval.toHumanString()}${x.restore ? ' with restore' : ''}` : 'none'),
  );
  return conflicts;
}

/**
 * The waiter's settings as the provider framework needs them: whole seconds (its Retry counts in
 * seconds), a totalTimeout that is a whole number of queryIntervals, and CloudFormation's hour.
 * Checked here so that a bad value names the construct and the field instead of failing deep in
 * the framework. Returns one message per rule broken, each saying what to use instead for that
 * rule only.
 */
function checkWaiterSettings({ queryInterval, totalTimeout }: ProviderSettings): string[] {
  const problems: string[] = [];
  const q = queryInterval.toMilliseconds();
  const t = totalTimeout.toMilliseconds();
  const [qSaid, tSaid] = [queryInterval.toHumanString(), totalTimeout.toHumanString()];
  if (q % 1000 !== 0 || q < 1000) {
    problems.push(
      `queryInterval ${qSaid} (${q} ms) is not a whole number of seconds of at least 1: use whole seconds, e.g. queryInterval: Duration.seconds(5)`,
    );
  }
  if (t % 1000 !== 0) {
    problems.push(
      `totalTimeout ${tSaid} (${t} ms) is not a whole number of seconds: use whole seconds, e.g. totalTimeout: Duration.minutes(30)`,
    );
  }
  const max = WAITER.maxTotalTimeoutSeconds;
  if (t > max * 1000) {
    problems.push(
      `totalTimeout ${tSaid} is over 1 hour, CloudFormation's limit for a custom resource: use at most Duration.hours(1), e.g. totalTimeout: Duration.minutes(30)`,
    );
  }
  if (q >= t) {
    problems.push(
      `queryInterval ${qSaid} is not shorter than totalTimeout ${tSaid}: the waiter asks every queryInterval until totalTimeout, so make queryInterval shorter, e.g. queryInterval: Duration.seconds(5)`,
    );
  } else if (problems.length === 0 && t % q !== 0) {
    // Both are whole seconds here: name the multiples of queryInterval on either side, within the hour.
    const [qs, ts] = [q / 1000, t / 1000];
    const multiples = [Math.floor(ts / qs) * qs, Math.ceil(ts / qs) * qs].filter((m) => m <= max);
    problems.push(
      `totalTimeout ${tSaid} is not a whole number of queryIntervals (${qSaid}): use a multiple of queryInterval, e.g. ${multiples.map((m) => `totalTimeout: Duration.seconds(${m})`).join(' or ')}`,
    );
  }
  return problems;
}
