/**
 * The shared provider's settings: their checks at synth, their defaults, and the rule that every instance of a stack asks for the same.
 */
import { Duration, Token } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type { IConstruct } from 'constructs';
import { WAITER } from './contract';
import type { SharedProviderProps } from './shared-provider-props';

/** The settings the provider is built with: the first instance's, defaults filled in. */
export interface ProviderSettings {
  readonly queryInterval: Duration;
  readonly totalTimeout: Duration;
  readonly vpc?: ec2.IVpc;
  readonly vpcSubnets?: ec2.SubnetSelection;
  readonly securityGroups?: ec2.ISecurityGroup[];
  readonly logEncryptionKey?: kms.IKey;
  readonly reservedConcurrency?: number;
  readonly tracing: boolean;
}

/** The first instance's settings with the defaults; throws, naming the instance, when a value cannot work. */
export function resolveSettings(first: IConstruct, asked: SharedProviderProps): ProviderSettings {
  const settings: ProviderSettings = {
    vpc: asked.vpc,
    vpcSubnets: asked.vpcSubnets,
    securityGroups: asked.securityGroups,
    logEncryptionKey: asked.logEncryptionKey,
    reservedConcurrency: asked.reservedConcurrency,
    queryInterval: asked.queryInterval ?? Duration.seconds(WAITER.defaultQueryIntervalSeconds),
    totalTimeout: asked.totalTimeout ?? Duration.seconds(WAITER.defaultTotalTimeoutSeconds),
    tracing: asked.tracing ?? false,
  };
  checkWaiterSettings(first, settings.queryInterval, settings.totalTimeout);
  return settings;
}

/**
 * The types of the settings, checked at run time for callers TypeScript does not check (see
 * checkPropsShape): one message per wrong value.
 */
export function checkSettingsShape(p: Record<string, unknown>, kind: (v: unknown) => string): string[] {
  const problems: string[] = [];
  const has = (v: unknown, key: string) => typeof v === 'object' && v !== null && key in v;
  for (const key of ['queryInterval', 'totalTimeout']) {
    if (p[key] !== undefined && !(p[key] instanceof Duration)) {
      problems.push(`${key} must be a Duration (got ${kind(p[key])}): e.g. Duration.seconds(5)`);
    }
  }
  if (p.vpc !== undefined && !(has(p.vpc, 'vpcId') && has(p.vpc, 'selectSubnets'))) {
    problems.push(`vpc must be an ec2.IVpc (got ${kind(p.vpc)}): e.g. ec2.Vpc.fromLookup(this, 'Vpc', { vpcId })`);
  }
  if (p.vpcSubnets !== undefined && (typeof p.vpcSubnets !== 'object' || p.vpcSubnets === null || Array.isArray(p.vpcSubnets))) {
    problems.push(
      `vpcSubnets must be an ec2.SubnetSelection (got ${kind(p.vpcSubnets)}): e.g. { subnetType: ec2.SubnetType.PRIVATE_ISOLATED }`,
    );
  }
  if (p.securityGroups !== undefined && !(Array.isArray(p.securityGroups) && p.securityGroups.every((g) => has(g, 'securityGroupId')))) {
    problems.push(`securityGroups must be an array of ec2.ISecurityGroup (got ${kind(p.securityGroups)})`);
  }
  if (p.logEncryptionKey !== undefined && !has(p.logEncryptionKey, 'keyArn')) {
    problems.push(
      `logEncryptionKey must be a kms.IKey (got ${kind(p.logEncryptionKey)}): for an ARN, pass kms.Key.fromKeyArn(this, 'LogKey', arn)`,
    );
  }
  if (p.reservedConcurrency !== undefined && typeof p.reservedConcurrency !== 'number') {
    problems.push(`reservedConcurrency must be a number (got ${kind(p.reservedConcurrency)})`);
  }
  if (p.tracing !== undefined && typeof p.tracing !== 'boolean') {
    problems.push(`tracing must be true or false (got ${kind(p.tracing)})`);
  }
  return problems;
}

/** The values of one instance's network and concurrency settings that cannot work, one message each. */
export function checkSettingValues(asked: SharedProviderProps): string[] {
  const problems: string[] = [];
  const n = asked.reservedConcurrency;
  if (n !== undefined && !Token.isUnresolved(n) && !(Number.isInteger(n) && n >= 1)) {
    problems.push(
      `reservedConcurrency ${String(n)} is not a whole number of at least 1 (0 would stop the functions): use at least the number of instances in the stack, e.g. 10, or leave it unset`,
    );
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
export function settingsConflicts(asked: SharedProviderProps, has: ProviderSettings): string[] {
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
  differ(
    'reservedConcurrency',
    asked.reservedConcurrency,
    has.reservedConcurrency,
    (x, y) => x === y,
    (x) => (x === undefined ? 'none' : String(x)),
  );
  differ('tracing', asked.tracing, has.tracing, (x, y) => x === y, String);
  return conflicts;
}

/**
 * The waiter's settings as the provider framework needs them: whole seconds (its Retry counts in
 * seconds), a totalTimeout that is a whole number of queryIntervals, and CloudFormation's hour.
 * Checked here so that a bad value names the construct and the field instead of failing deep in
 * the framework.
 */
function checkWaiterSettings(instance: IConstruct, queryInterval: Duration, totalTimeout: Duration): void {
  const problems: string[] = [];
  const q = queryInterval.toMilliseconds();
  const t = totalTimeout.toMilliseconds();
  if (q % 1000 !== 0 || q < 1000)
    problems.push(`queryInterval ${queryInterval.toHumanString()} is not a whole number of seconds of at least 1`);
  if (t % 1000 !== 0) problems.push(`totalTimeout ${totalTimeout.toHumanString()} is not a whole number of seconds`);
  if (t > WAITER.maxTotalTimeoutSeconds * 1000) {
    problems.push(`totalTimeout ${totalTimeout.toHumanString()} is over 1 hour, CloudFormation's limit for a custom resource`);
  }
  if (q >= t) {
    problems.push(`queryInterval ${queryInterval.toHumanString()} is not shorter than totalTimeout ${totalTimeout.toHumanString()}`);
  } else if (problems.length === 0 && t % q !== 0) {
    problems.push(
      `totalTimeout ${totalTimeout.toHumanString()} is not a whole number of queryIntervals (${queryInterval.toHumanString()})`,
    );
  }
  if (problems.length > 0) {
    throw new Error(
      `ProvisionedProductProperties at ${instance.node.path}: ${problems.join('; ')}. ` +
        'Use a queryInterval of whole seconds (at least 1), and a totalTimeout of at most 1 hour that is a multiple of it, e.g. queryInterval: Duration.seconds(5), totalTimeout: Duration.minutes(30).',
    );
  }
}
