/**
 * The provider's compliance options and defaults in the template: the dead-letter queue, managed
 * policies, memory, VPC placement, log encryption, reserved concurrency and tracing, applied to
 * all five functions; and the synth errors for values that cannot work or that conflict.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as cdk from 'aws-cdk-lib';
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import { DriftCheck, Owner, ProvisionedProductProperties, type ProvisionedProductPropertiesProps, type SharedProviderProps } from '../lib';

const OWNER = 'arn:aws:iam::123456789012:role/PlatformAdmin';

interface Resource {
  readonly Properties: Record<string, unknown>;
  readonly DependsOn?: string[];
}
interface Statement {
  readonly Action: string | string[];
  readonly Resource: unknown;
  readonly Principal?: unknown;
  readonly Condition?: unknown;
}

function stack(id = 'Test'): Stack {
  return new Stack(new App(), id, { env: { account: '123456789012', region: 'us-east-1' } });
}

function withConstruct(s: Stack, options: (s: Stack) => SharedProviderProps = () => ({}), id = 'Ownership'): ProvisionedProductProperties {
  return new ProvisionedProductProperties(s, id, {
    provisionedProductId: `pp-${id.toLowerCase()}`,
    owner: Owner.fromArn(OWNER),
    ...options(s),
  });
}

function isolatedVpc(s: Stack, id = 'Vpc'): ec2.Vpc {
  return new ec2.Vpc(s, id, {
    maxAzs: 2,
    natGateways: 0,
    subnetConfiguration: [
      { name: 'Private', subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
      { name: 'Other', subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
    ],
  });
}

const byType = (t: Template, type: string): Record<string, Resource> => t.findResources(type) as Record<string, Resource>;
const functions = (t: Template) => byType(t, 'AWS::Lambda::Function');

/** The statements of the managed policy attached to the role with logical id `roleId`. */
function statementsOfRole(t: Template, roleId: string): Statement[] {
  return Object.values(byType(t, 'AWS::IAM::ManagedPolicy'))
    .filter((p) => JSON.stringify(p.Properties.Roles) === JSON.stringify([{ Ref: roleId }]))
    .flatMap((p) => (p.Properties.PolicyDocument as { Statement: Statement[] }).Statement);
}
const roleOf = (fn: Resource) => (fn.Properties.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
const actionsOf = (statements: Statement[]) => statements.flatMap((s) => [s.Action].flat());

describe('by default', () => {
  test('CloudFormation events the framework onEvent function could not handle land in an encrypted, TLS-only queue kept 14 days', () => {
    const s = stack();
    withConstruct(s);
    const t = Template.fromStack(s);
    const [queueId] = Object.keys(byType(t, 'AWS::SQS::Queue'));
    t.hasResourceProperties('AWS::SQS::Queue', { SqsManagedSseEnabled: true, MessageRetentionPeriod: 14 * 24 * 3600 });
    t.hasResourceProperties('AWS::SQS::QueuePolicy', {
      Queues: [{ Ref: queueId }],
      PolicyDocument: {
        Statement: [Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })],
      },
    });
    // The function behind the ServiceToken, and only it, sends to the queue, with the permission to.
    const [custom] = Object.values(byType(t, 'Custom::ProvisionedProductProperties'));
    const entryId = (custom.Properties.ServiceToken as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
    const fns = functions(t);
    for (const [id, fn] of Object.entries(fns)) {
      expect([id, fn.Properties.DeadLetterConfig]).toEqual([
        id,
        id === entryId ? { TargetArn: { 'Fn::GetAtt': [queueId, 'Arn'] } } : undefined,
      ]);
    }
    const send = statementsOfRole(t, roleOf(fns[entryId])).filter((st) => actionsOf([st]).includes('sqs:SendMessage'));
    expect(send).toEqual([expect.objectContaining({ Resource: { 'Fn::GetAtt': [queueId, 'Arn'] } })]);
  });

  test('a CloudFormation event too old to finish within the hour goes to the queue instead of starting late: its age is capped at the hour minus totalTimeout and two minutes', () => {
    for (const [totalTimeout, maxAge] of [
      [undefined, 3600 - 30 * 60 - 120],
      [Duration.minutes(10), 3600 - 10 * 60 - 120],
      [Duration.hours(1), 60],
    ] as const) {
      const s = stack();
      withConstruct(s, () => (totalTimeout ? { totalTimeout } : {}));
      const t = Template.fromStack(s);
      const [custom] = Object.values(byType(t, 'Custom::ProvisionedProductProperties'));
      const entryId = (custom.Properties.ServiceToken as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
      const configs = Object.values(byType(t, 'AWS::Lambda::EventInvokeConfig')).map((c) => c.Properties);
      expect(configs.map((c) => [c.FunctionName, c.MaximumEventAgeInSeconds])).toEqual([[{ Ref: entryId }, maxAge]]);
    }
  });

  test('every instance of a stack exposes the one queue, and a metric of its waiting events to alarm on', () => {
    const s = stack();
    const first = withConstruct(s, undefined, 'First');
    const second = withConstruct(s, undefined, 'Second');
    expect(second.deadLetterQueue).toBe(first.deadLetterQueue);
    const metric = first.metricDeadLetterEvents();
    expect(metric).toMatchObject({ namespace: 'AWS/SQS', metricName: 'ApproximateNumberOfMessagesVisible', statistic: 'Maximum' });
    expect(metric.period.toSeconds()).toBe(300);
    expect(s.resolve(metric.dimensions)).toEqual({ QueueName: { 'Fn::GetAtt': [expect.stringMatching(/DeadLetterQueue/), 'QueueName'] } });
  });

  test('no inline policy: each of the five roles has its permissions in one customer managed policy of its own', () => {
    const s = stack();
    withConstruct(s);
    const t = Template.fromStack(s);
    expect(Object.keys(byType(t, 'AWS::IAM::Policy'))).toEqual([]);
    const roles = Object.entries(byType(t, 'AWS::IAM::Role'));
    expect(roles).toHaveLength(5);
    for (const [id, role] of roles) {
      expect(role.Properties.Policies).toBeUndefined();
      expect(statementsOfRole(t, id).length).toBeGreaterThan(0);
    }
    expect(Object.keys(byType(t, 'AWS::IAM::ManagedPolicy'))).toHaveLength(5);
    // Whatever depends on a role (its functions, the waiter) waits for its policy too.
    const sm = Object.values(byType(t, 'AWS::StepFunctions::StateMachine'))[0];
    expect(sm.DependsOn?.some((d) => /waiterstatemachineRolePolicy/.test(d))).toBe(true);
  });

  test('every function has an explicit memory size, and none is in a VPC, reserved or traced', () => {
    const s = stack();
    withConstruct(s);
    const fns = Object.values(functions(Template.fromStack(s)));
    expect(fns).toHaveLength(5);
    for (const fn of fns) {
      expect(fn.Properties.MemorySize).toEqual(expect.any(Number));
      expect(fn.Properties).not.toHaveProperty('VpcConfig');
      expect(fn.Properties).not.toHaveProperty('ReservedConcurrentExecutions');
      expect(fn.Properties).not.toHaveProperty('TracingConfig');
    }
  });
});

describe('vpc', () => {
  test('places all five functions in its private subnets with one security group that only allows outbound HTTPS', () => {
    const s = stack();
    const vpc = isolatedVpc(s);
    withConstruct(s, () => ({ vpc }));
    const t = Template.fromStack(s);
    const groups = Object.entries(byType(t, 'AWS::EC2::SecurityGroup'));
    expect(groups).toHaveLength(1);
    const [groupId, group] = groups[0];
    expect(group.Properties.SecurityGroupEgress).toEqual([
      expect.objectContaining({ CidrIp: '0.0.0.0/0', IpProtocol: 'tcp', FromPort: 443, ToPort: 443 }),
    ]);
    expect(group.Properties.SecurityGroupIngress).toBeUndefined();
    const subnets = s.resolve(vpc.selectSubnets().subnetIds) as unknown[];
    const fns = Object.values(functions(t));
    expect(fns).toHaveLength(5);
    for (const fn of fns) {
      expect(fn.Properties.VpcConfig).toEqual({ SubnetIds: subnets, SecurityGroupIds: [{ 'Fn::GetAtt': [groupId, 'GroupId'] }] });
      expect(actionsOf(statementsOfRole(t, roleOf(fn)))).toEqual(
        expect.arrayContaining(['ec2:CreateNetworkInterface', 'ec2:DeleteNetworkInterface']),
      );
    }
  });

  test('vpcSubnets and securityGroups are used as given, and no security group is created', () => {
    const s = stack();
    const vpc = isolatedVpc(s);
    const mine = new ec2.SecurityGroup(s, 'Mine', { vpc });
    withConstruct(s, () => ({ vpc, vpcSubnets: { subnetGroupName: 'Other' }, securityGroups: [mine] }));
    const t = Template.fromStack(s);
    expect(Object.keys(byType(t, 'AWS::EC2::SecurityGroup'))).toEqual([s.getLogicalId(mine.node.defaultChild as ec2.CfnSecurityGroup)]);
    const subnets = s.resolve(vpc.selectSubnets({ subnetGroupName: 'Other' }).subnetIds) as unknown[];
    for (const fn of Object.values(functions(t))) {
      expect(fn.Properties.VpcConfig).toEqual({ SubnetIds: subnets, SecurityGroupIds: [s.resolve(mine.securityGroupId)] });
    }
  });
});

describe('logEncryptionKey', () => {
  test('encrypts both log groups, and lets CloudWatch Logs of the region use the key for log groups named like the provider’s only', () => {
    const s = stack();
    const key = new kms.Key(s, 'LogKey');
    withConstruct(s, () => ({ logEncryptionKey: key }));
    const t = Template.fromStack(s);
    const keyArn = s.resolve(key.keyArn) as unknown;
    const groups = Object.values(byType(t, 'AWS::Logs::LogGroup'));
    expect(groups).toHaveLength(2);
    const prefixes = groups.map((g) => {
      expect(g.Properties.KmsKeyId).toEqual(keyArn);
      return (g.Properties.LogGroupName as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1][0] as string;
    });
    const [keyResource] = Object.values(byType(t, 'AWS::KMS::Key'));
    const grant = (keyResource.Properties.KeyPolicy as { Statement: Statement[] }).Statement.filter(
      (st) => JSON.stringify(st.Principal) === JSON.stringify({ Service: 'logs.us-east-1.amazonaws.com' }),
    );
    expect(grant).toHaveLength(1);
    const arns = (grant[0].Condition as { ArnLike: Record<string, unknown[]> }).ArnLike['kms:EncryptionContext:aws:logs:arn'];
    expect(arns.map((a) => JSON.stringify(a))).toEqual(
      prefixes.map((p) => expect.stringContaining(`:logs:us-east-1:123456789012:log-group:${p}*`) as unknown as string),
    );
  });

  test('a key of another stack of the app is granted without a reference back to the construct’s stack (no cycle)', () => {
    const app = new App();
    const env = { account: '123456789012', region: 'us-east-1' };
    const keys = new Stack(app, 'Keys', { env });
    const key = new kms.Key(keys, 'LogKey');
    const s = new Stack(app, 'Test', { env });
    withConstruct(s, () => ({ logEncryptionKey: key }));
    const assembly = app.synth();
    expect(JSON.stringify(assembly.getStackByName('Keys').template)).not.toContain('Fn::ImportValue');
    expect(JSON.stringify(assembly.getStackByName('Test').template)).toContain('Fn::ImportValue');
  });

  test('an imported key, whose policy the app cannot change, gets a synth warning saying what to add', () => {
    const s = stack();
    withConstruct(s, (x) => ({
      logEncryptionKey: kms.Key.fromKeyArn(x, 'Imported', 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab'),
    }));
    Annotations.fromStack(s).hasWarning(
      '/Test/ProvisionedProductPropertiesProvider',
      Match.stringLikeRegexp(
        'logEncryptionKey Test/Imported is imported.*logs.us-east-1.amazonaws.com.*log-group:/aws/lambda/provisioned-product-properties-\\*',
      ),
    );
  });
});

describe('reservedConcurrency and tracing', () => {
  test('reservedConcurrency reserves the same concurrency for all five functions', () => {
    const s = stack();
    withConstruct(s, () => ({ reservedConcurrency: 7 }));
    const fns = Object.values(functions(Template.fromStack(s)));
    expect(fns.map((f) => f.Properties.ReservedConcurrentExecutions)).toEqual([7, 7, 7, 7, 7]);
  });

  test('tracing turns on X-Ray for all five functions and the waiter, with the permissions to send traces', () => {
    const s = stack();
    withConstruct(s, () => ({ tracing: true }));
    const t = Template.fromStack(s);
    for (const fn of Object.values(functions(t))) {
      expect(fn.Properties.TracingConfig).toEqual({ Mode: 'Active' });
      expect(actionsOf(statementsOfRole(t, roleOf(fn)))).toEqual(
        expect.arrayContaining(['xray:PutTraceSegments', 'xray:PutTelemetryRecords']),
      );
    }
    const [sm] = Object.values(byType(t, 'AWS::StepFunctions::StateMachine'));
    expect(sm.Properties.TracingConfiguration).toEqual({ Enabled: true });
    const waiterRole = (sm.Properties.RoleArn as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
    expect(actionsOf(statementsOfRole(t, waiterRole))).toEqual(expect.arrayContaining(['xray:PutTraceSegments', 'xray:GetSamplingRules']));
  });
});

describe('one provider per stack', () => {
  test('instances that repeat the provider settings or leave them unset share it', () => {
    const s = stack();
    const vpc = isolatedVpc(s);
    const key = new kms.Key(s, 'Key');
    const all = () => ({ vpc, logEncryptionKey: key, reservedConcurrency: 4, tracing: true, vpcSubnets: { subnetGroupName: 'Private' } });
    withConstruct(s, all, 'First');
    withConstruct(s, all, 'Same');
    withConstruct(s, () => ({ vpc, vpcSubnets: { subnets: vpc.selectSubnets({ subnetGroupName: 'Private' }).subnets } }), 'SameSubnets');
    withConstruct(s, undefined, 'Unset');
    expect(Object.keys(functions(Template.fromStack(s)))).toHaveLength(5);
  });

  const first = (s: Stack): SharedProviderProps => ({
    vpc: isolatedVpc(s),
    logEncryptionKey: new kms.Key(s, 'Key'),
    reservedConcurrency: 3,
    tracing: true,
  });
  const conflicts: Array<[string, (s: Stack) => SharedProviderProps, RegExp]> = [
    ['another VPC', (s) => ({ vpc: isolatedVpc(s, 'OtherVpc') }), /vpc Test\/OtherVpc \(the provider has Test\/Vpc\)/],
    [
      'other subnets',
      (s) => ({ vpc: s.node.findChild('Vpc') as ec2.IVpc, vpcSubnets: { subnetGroupName: 'Other' } }),
      /vpcSubnets selecting Test\/Vpc\/OtherSubnet1, Test\/Vpc\/OtherSubnet2 \(the provider's are Test\/Vpc\/PrivateSubnet1/,
    ],
    [
      'own security groups',
      (s) => ({
        vpc: s.node.findChild('Vpc') as ec2.IVpc,
        securityGroups: [new ec2.SecurityGroup(s, 'Sg', { vpc: s.node.findChild('Vpc') as ec2.IVpc })],
      }),
      /securityGroups \[Test\/Sg\] \(the provider has the one the construct created\)/,
    ],
    [
      'another key',
      (s) => ({ logEncryptionKey: new kms.Key(s, 'OtherKey') }),
      /logEncryptionKey Test\/OtherKey \(the provider has Test\/Key\)/,
    ],
    ['another concurrency', () => ({ reservedConcurrency: 5 }), /reservedConcurrency 5 \(the provider has 3\)/],
    ['tracing off', () => ({ tracing: false }), /tracing false \(the provider has true\)/],
  ];
  test.each(conflicts)('an instance asking for %s is an error naming both instances', (_name, second, message) => {
    const s = stack();
    withConstruct(s, first, 'First');
    expect(() => withConstruct(s, second, 'Second')).toThrow(
      new RegExp(`^ProvisionedProductProperties at Test/Second: ${message.source}.*came from Test/First, the first instance`, 's'),
    );
  });
});

describe('values that cannot work fail synth, naming the construct, the field and the value', () => {
  const cases: Array<[string, (s: Stack) => object, RegExp]> = [
    ['reservedConcurrency 0', () => ({ reservedConcurrency: 0 }), /reservedConcurrency 0 is not a whole number of at least 1/],
    ['reservedConcurrency 2.5', () => ({ reservedConcurrency: 2.5 }), /reservedConcurrency 2.5 is not a whole number of at least 1/],
    ['reservedConcurrency as a string', () => ({ reservedConcurrency: '10' }), /reservedConcurrency must be a number \(got string "10"\)/],
    ['tracing as a string', () => ({ tracing: 'true' }), /tracing must be true or false \(got string "true"\)/],
    ['a VPC id string', () => ({ vpc: 'vpc-0123' }), /vpc must be an ec2.IVpc \(got string "vpc-0123"\)/],
    [
      'a key ARN string',
      () => ({ logEncryptionKey: 'arn:aws:kms:us-east-1:123456789012:key/x' }),
      /logEncryptionKey must be a kms.IKey \(got string .*kms.Key.fromKeyArn/,
    ],
    [
      'security groups given as one group',
      (s) => ({ vpc: isolatedVpc(s), securityGroups: new ec2.SecurityGroup(s, 'Sg', { vpc: isolatedVpc(s, 'V2') }) }),
      /securityGroups must be an array of ec2.ISecurityGroup \(got an object\)/,
    ],
    [
      'vpcSubnets without vpc',
      () => ({ vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED } }),
      /vpcSubnets is set without vpc: set vpc too/,
    ],
    ['an empty securityGroups', (s) => ({ vpc: isolatedVpc(s), securityGroups: [] }), /securityGroups is empty/],
    [
      'public subnets',
      (s) => ({
        vpc: new ec2.Vpc(s, 'Public', {
          maxAzs: 2,
          natGateways: 0,
          subnetConfiguration: [{ name: 'Pub', subnetType: ec2.SubnetType.PUBLIC }],
        }),
        vpcSubnets: { subnetType: ec2.SubnetType.PUBLIC },
      }),
      /vpcSubnets selects public subnets \(Test\/Public\/PubSubnet1, Test\/Public\/PubSubnet2\) of the VPC Test\/Public: a Lambda function there gets no public IP address/,
    ],
    [
      'a subnet type the VPC lacks',
      (s) => ({ vpc: isolatedVpc(s), vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS } }),
      /vpcSubnets cannot select subnets of the VPC Test\/Vpc: There are no 'Private' subnet groups/,
    ],
  ];
  test.each(cases)('%s', (_name, make, message) => {
    const s = stack();
    const props = { provisionedProductId: 'pp-1', owner: Owner.fromArn(OWNER), ...make(s) } as ProvisionedProductPropertiesProps;
    expect(() => new ProvisionedProductProperties(s, 'Bad', props)).toThrow(
      new RegExp(`^ProvisionedProductProperties at Test/Bad: .*${message.source}`, 's'),
    );
  });
});

/** aws-cdk-lib's CloudFormation validation plugin, as far as this test uses it (newer than the peer range's minimum, which skips the test). */
interface CfnValidatePlugin {
  validate(context: {
    templatePaths: string[];
    stackTemplates: Array<{ stackConstructPath: string; templatePath: string; accountId: string; region: string }>;
    appConstruct: App;
  }): { success: boolean; violations: unknown[] };
}
const CfnValidate = (cdk as unknown as { CloudFormationValidatePlugin?: new () => CfnValidatePlugin }).CloudFormationValidatePlugin;
const withCfnValidation = CfnValidate ? describe : describe.skip;

withCfnValidation('CloudFormation validation', () => {
  // One engine for both cases: starting it takes seconds.
  let plugin: CfnValidatePlugin | undefined;
  test.each([
    ['defaults', () => ({})],
    [
      'the regulated options',
      (x: Stack): SharedProviderProps => ({
        vpc: isolatedVpc(x),
        logEncryptionKey: new kms.Key(x, 'LogKey', { enableKeyRotation: true }),
        reservedConcurrency: 10,
        tracing: true,
      }),
    ],
  ])(
    "with %s, aws-cdk-lib's built-in CloudFormation validation (resource schemas) reports nothing, not even a warning",
    (_name, options) => {
      const outdir = mkdtempSync(join(tmpdir(), 'ppp-cfn-'));
      try {
        const app = new App({ outdir, builtinCloudFormationValidation: false });
        const s = new Stack(app, 'Test', { env: { account: '123456789012', region: 'us-east-1' } });
        withConstruct(s, options);
        const assembly = app.synth();
        const templatePath = join(assembly.directory, assembly.getStackByName('Test').templateFile);
        if (!CfnValidate) throw new Error('unreachable: the describe is skipped without the plugin');
        plugin ??= new CfnValidate();
        const report = plugin.validate({
          templatePaths: [templatePath],
          stackTemplates: [{ stackConstructPath: 'Test', templatePath, accountId: '123456789012', region: 'us-east-1' }],
          appConstruct: app,
        });
        expect(report.violations).toEqual([]);
        expect(report.success).toBe(true);
      } finally {
        rmSync(outdir, { recursive: true, force: true });
      }
    },
  );
});

describe('driftCheck', () => {
  const checkFunction = (t: Template): Resource => {
    const found = Object.values(functions(t)).filter((f) => f.Properties.Handler === 'index.checkDrift');
    expect(found).toHaveLength(1);
    return found[0];
  };
  const ledgerRef = (t: Template) => ({ 'Fn::GetAtt': [Object.keys(byType(t, 'AWS::DynamoDB::Table'))[0], 'Arn'] });

  test('off by default: no check function, no schedule', () => {
    const t = Template.fromStack(withStack());
    expect(Object.values(functions(t)).map((f) => f.Properties.Handler)).not.toContain('index.checkDrift');
    expect(byType(t, 'AWS::Events::Rule')).toEqual({});
  });

  test('DriftCheck.daily(): a function run once a day by a rule, reporting only, with a role that reads products and the ledger', () => {
    const t = Template.fromStack(withStack(() => ({ driftCheck: DriftCheck.daily() })));
    const fn = checkFunction(t);
    expect(fn.Properties).toMatchObject({
      Timeout: 600,
      DeadLetterConfig: expect.anything() as unknown,
      Environment: { Variables: expect.objectContaining({ DRIFT_ACTION: 'report', STACK_NAME: 'Test' }) as unknown },
    });
    expect(fn.Properties.ReservedConcurrentExecutions).toBeUndefined();
    const [rule] = Object.values(byType(t, 'AWS::Events::Rule'));
    expect(rule.Properties).toMatchObject({ ScheduleExpression: 'rate(1 day)', State: 'ENABLED' });
    const statements = statementsOfRole(t, roleOf(fn));
    expect(
      actionsOf(statements)
        .filter((a) => a.startsWith('servicecatalog:') || a.startsWith('iam:'))
        .sort(),
    ).toEqual(['servicecatalog:DescribeProvisionedProduct', 'servicecatalog:SearchProvisionedProducts']);
    const ledgerStatement = statements.find((st) => [st.Action].flat().includes('dynamodb:Scan'));
    expect(ledgerStatement).toMatchObject({ Action: ['dynamodb:Scan', 'dynamodb:GetItem', 'dynamodb:UpdateItem'], Resource: ledgerRef(t) });
  });

  test('with restore, the role may also write products and pass launch roles to Service Catalog only', () => {
    const t = Template.fromStack(withStack(() => ({ driftCheck: DriftCheck.every(Duration.hours(6), { restore: true }) })));
    const fn = checkFunction(t);
    expect(fn.Properties).toMatchObject({ Environment: { Variables: expect.objectContaining({ DRIFT_ACTION: 'restore' }) as unknown } });
    expect(Object.values(byType(t, 'AWS::Events::Rule'))[0].Properties.ScheduleExpression).toBe('rate(6 hours)');
    const statements = statementsOfRole(t, roleOf(fn));
    expect(actionsOf(statements)).toEqual(
      expect.arrayContaining(['servicecatalog:UpdateProvisionedProductProperties', 'servicecatalog:DescribeRecord', 'iam:PassRole']),
    );
    expect(statements.find((st) => st.Action === 'iam:PassRole')?.Condition).toEqual({
      StringEquals: { 'iam:PassedToService': 'servicecatalog.amazonaws.com' },
    });
  });

  test('with reservedConcurrency the check reserves one, and the per-instance concurrency rule ignores it', () => {
    const s = stack();
    withConstruct(s, () => ({ reservedConcurrency: 2, driftCheck: DriftCheck.daily() }), 'First');
    withConstruct(s, undefined, 'Second');
    const t = Template.fromStack(s);
    expect(checkFunction(t).Properties.ReservedConcurrentExecutions).toBe(1);
  });

  test('an instance asking for another drift check is an error naming both instances', () => {
    const s = stack();
    withConstruct(s, () => ({ driftCheck: DriftCheck.daily() }), 'First');
    expect(() => withConstruct(s, () => ({ driftCheck: DriftCheck.daily({ restore: true }) }), 'Second')).toThrow(
      /driftCheck every 1 day with restore \(the provider has every 1 day\).*came from Test\/First/s,
    );
  });

  test.each([
    [Duration.minutes(5), /driftCheck's interval 5 minutes is not a whole number of minutes of at least 10/],
    [Duration.seconds(630), /driftCheck's interval 10 minutes 30 seconds is not a whole number of minutes/],
  ])('an interval of %s fails synth, saying what to use', (interval, message) => {
    expect(() => withStack(() => ({ driftCheck: DriftCheck.every(interval) }))).toThrow(message);
  });

  test('a driftCheck that is not a DriftCheck fails synth, saying what to pass', () => {
    expect(() => withStack(() => ({ driftCheck: { interval: '1 day' } }) as unknown as SharedProviderProps)).toThrow(
      /driftCheck must be a DriftCheck .*DriftCheck.daily\(\)/,
    );
  });

  test("metricDrift() is the stack's DriftedProducts, the maximum over the interval; without the check it fails saying what to set", () => {
    const s = stack();
    const first = withConstruct(s, () => ({ driftCheck: DriftCheck.every(Duration.hours(6)) }), 'First');
    const second = withConstruct(s, undefined, 'Second');
    for (const instance of [first, second]) {
      expect(s.resolve(instance.metricDrift().toMetricConfig().metricStat)).toMatchObject({
        namespace: 'ProvisionedProductProperties',
        metricName: 'DriftedProducts',
        statistic: 'Maximum',
        dimensions: [
          { name: 'StackName', value: 'Test' },
          { name: 'service', value: 'provisioned-product-properties' },
        ],
      });
      expect(instance.metricDrift().period.toSeconds()).toBe(6 * 3600);
    }
    const plain = withConstruct(stack('Plain'));
    expect(() => plain.metricDrift()).toThrow(/metricDrift\(\) needs the drift check.*driftCheck: DriftCheck.daily\(\)/);
  });
});

function withStack(options?: (s: Stack) => SharedProviderProps): Stack {
  const s = stack();
  withConstruct(s, options);
  return s;
}
