/**
 * cdk-nag's rule packs (AwsSolutions, Serverless, NIST 800-53 R5, HIPAA Security, PCI DSS 3.2.1),
 * of both majors users run (3.x, and 2.38.2, the last 2.x, installed as `cdk-nag-v2`), against
 * apps that use the construct: with defaults, the construct adds no AwsSolutions finding and, in
 * the other packs, only findings one of its options resolves; with the regulated options (VPC,
 * log key, reserved concurrency, tracing) it adds none in any pack. Every other finding is fixed or
 * acknowledged on the construct, finding by finding, hiding none of the user's own.
 *
 * cdk-nag 3 reads aws-cdk-lib's acknowledgements; cdk-nag 2 reads the `cdk_nag` metadata of each
 * CfnResource. Both come from one list per construct (lib/provider/nag-acknowledgements.ts).
 */
import { App, Aspects, CfnResource, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as cr from 'aws-cdk-lib/custom-resources';
import * as v3 from 'cdk-nag';
import * as v2 from 'cdk-nag-v2';
import { regulatedOptions } from '../harness';
import { DriftCheck, Owner, ProvisionedProductProperties, type SharedProviderProps } from '../lib';
import { type NagReport, V3_RUNS, Validations } from './support/nag';

const ACCOUNT = '123456789012';
const OWNER = `arn:aws:iam::${ACCOUNT}:role/PlatformAdmin`;
const LAUNCH = `arn:aws:iam::${ACCOUNT}:role/ServiceCatalogLaunch`;
const PROVIDER_PATH = 'ProvisionedProductPropertiesProvider';
const ENV = { env: { account: ACCOUNT, region: 'us-east-1' } };

/** The five packs' names, the prefix of their rule ids. */
const PACK_NAMES = ['AwsSolutions', 'Serverless', 'NIST.800.53.R5', 'HIPAA.Security', 'PCI.DSS.321'] as const;
type PackName = (typeof PACK_NAMES)[number];

/** The five packs of cdk-nag 3, by name. */
const PACKS: Record<PackName, new (scope?: App) => v3.NagPack> = {
  AwsSolutions: v3.AwsSolutionsChecks,
  Serverless: v3.ServerlessChecks,
  'NIST.800.53.R5': v3.NIST80053R5Checks,
  'HIPAA.Security': v3.HIPAASecurityChecks,
  'PCI.DSS.321': v3.PCIDSS321Checks,
};
/** The five packs of cdk-nag 2, by name. */
const PACKS_V2: Record<PackName, new (props?: v2.NagPackProps) => v2.NagPack> = {
  AwsSolutions: v2.AwsSolutionsChecks,
  Serverless: v2.ServerlessChecks,
  'NIST.800.53.R5': v2.NIST80053R5Checks,
  'HIPAA.Security': v2.HIPAASecurityChecks,
  'PCI.DSS.321': v2.PCIDSS321Checks,
};

interface Finding {
  /** The rule id with its finding, as cdk-nag 3 names it: `AwsSolutions-IAM5[Resource::*]`. */
  readonly rule: string;
  readonly severity: string;
  readonly path: string;
}

/** Every unacknowledged finding (errors and warnings) of one cdk-nag 3 pack in the app, one per resource. */
function findingsV3(app: App, pack: PackName): Finding[] {
  app.synth();
  const report = new PACKS[pack]().validateScope(app) as NagReport;
  return report.violations.flatMap((v) =>
    v.violatingResources.map((r) => ({ rule: v.ruleName, severity: v.severity ?? 'error', path: r.constructPath ?? '' })),
  );
}

/**
 * Every unsuppressed finding (errors and warnings, and rules that failed to evaluate) of one
 * cdk-nag 2 pack in the app, one per resource: the pack visits the synthesized tree as its aspect
 * would, and a logger collects what it reports.
 */
function findingsV2(app: App, pack: PackName): Finding[] {
  app.synth();
  const found: Finding[] = [];
  const add = (d: v2.NagLoggerBaseData, findingId = '') =>
    found.push({ rule: findingId ? `${d.ruleId}[${findingId}]` : d.ruleId, severity: d.ruleLevel, path: d.resource.node.path });
  const logger: v2.INagLogger = {
    onCompliance: () => undefined,
    onSuppressed: () => undefined,
    onSuppressedError: () => undefined,
    onNotApplicable: () => undefined,
    onNonCompliance: (d) => add(d, d.findingId),
    onError: (d) => add(d),
  };
  const checks = new PACKS_V2[pack]({ reports: false, additionalLoggers: [logger] });
  for (const c of app.node.findAll()) checks.visit(c);
  return found;
}

/** The two majors, by the name the tests print. */
const MAJORS = { 'cdk-nag 3': findingsV3, 'cdk-nag 2': findingsV2 } as const;
type Major = keyof typeof MAJORS;
/** The majors that run on the installed aws-cdk-lib. */
const RUNNING: Major[] = V3_RUNS ? ['cdk-nag 3', 'cdk-nag 2'] : ['cdk-nag 2'];
/** describe, for cdk-nag 3's own tests: skipped where it cannot run. */
const describeV3 = V3_RUNS ? describe : describe.skip;

/** Every finding of one pack of the major in the app (AwsSolutions of cdk-nag 3 by default). */
function findings(app: App, pack: PackName = 'AwsSolutions', major: Major = 'cdk-nag 3'): Finding[] {
  return MAJORS[major](app, pack);
}

/** The construct's findings of one pack: rule (without the pack prefix) → how many resources have it. */
function constructFindings(app: App, pack: PackName, major: Major = 'cdk-nag 3'): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const f of findings(app, pack, major).filter((x) => x.path.includes(PROVIDER_PATH))) {
    const rule = f.rule.slice(pack.length + 1);
    counts[rule] = (counts[rule] ?? 0) + 1;
  }
  return counts;
}

function stackWith(app: App, id: string, launchRole: boolean, props?: StackProps, options?: (s: Stack) => SharedProviderProps): Stack {
  const stack = new Stack(app, id, props);
  new ProvisionedProductProperties(stack, 'Ownership', {
    provisionedProductId: `pp-${id.toLowerCase()}`,
    owner: Owner.fromArn(OWNER),
    launchRole: launchRole ? iam.Role.fromRoleArn(stack, 'Launch', LAUNCH) : undefined,
    ...options?.(stack),
  });
  return stack;
}

/**
 * The construct's findings with defaults, per pack, and the option that resolves each: the table
 * of the README's Compliance section.
 */
const DEFAULT_FINDINGS: Record<PackName, Record<string, number>> = {
  AwsSolutions: {},
  Serverless: { LambdaTracing: 5, StepFunctionStateMachineXray: 1 },
  'NIST.800.53.R5': { CloudWatchLogGroupEncrypted: 2, LambdaConcurrency: 5, LambdaInsideVPC: 5 },
  'HIPAA.Security': { CloudWatchLogGroupEncrypted: 2, LambdaConcurrency: 5, LambdaInsideVPC: 5 },
  'PCI.DSS.321': { CloudWatchLogGroupEncrypted: 2, LambdaInsideVPC: 5 },
};
const RESOLVED_BY: Record<string, keyof SharedProviderProps> = {
  LambdaTracing: 'tracing',
  StepFunctionStateMachineXray: 'tracing',
  CloudWatchLogGroupEncrypted: 'logEncryptionKey',
  LambdaConcurrency: 'reservedConcurrency',
  LambdaInsideVPC: 'vpc',
};

describe.each(RUNNING)('%s', (major) => {
  describe.each(PACK_NAMES)('%s', (pack) => {
    test('with defaults, the construct reports only findings one of its options resolves', () => {
      const app = new App();
      stackWith(app, 'Ownership', true, ENV);
      const found = constructFindings(app, pack, major);
      expect(found).toEqual(DEFAULT_FINDINGS[pack]);
      for (const rule of Object.keys(found)) expect(RESOLVED_BY[rule]).toBeDefined();
    });

    test('with the regulated options (VPC, log key, reserved concurrency, tracing), the construct reports nothing', () => {
      const app = new App();
      stackWith(app, 'Ownership', true, ENV, regulatedOptions);
      expect(constructFindings(app, pack, major)).toEqual({});
    });

    test.each([
      ['report', DriftCheck.daily()],
      ['restore', DriftCheck.every(Duration.hours(6), { restore: true })],
    ])('with the regulated options and the drift check (%s), the construct reports nothing', (_, driftCheck) => {
      const app = new App();
      stackWith(app, 'Ownership', true, ENV, (s) => ({ ...regulatedOptions(s), driftCheck }));
      expect(constructFindings(app, pack, major)).toEqual({});
    });

    test('with the drift check and otherwise defaults, the construct reports only findings one of its options resolves', () => {
      const app = new App();
      stackWith(app, 'Ownership', true, ENV, () => ({ driftCheck: DriftCheck.daily({ restore: true }) }));
      for (const rule of Object.keys(constructFindings(app, pack, major)))
        expect([rule, RESOLVED_BY[rule]]).toEqual([rule, expect.any(String)]);
    });

    test('with the regulated options in an environment-agnostic stack, with two instances, the construct reports nothing', () => {
      const app = new App();
      const stack = stackWith(app, 'Ownership', false, undefined, regulatedOptions);
      new ProvisionedProductProperties(stack, 'Second', { provisionedProductId: 'pp-second', owner: Owner.fromArn(OWNER) });
      expect(constructFindings(app, pack, major)).toEqual({});
    });
  });

  describe('each option resolves its findings, in every pack', () => {
    const options: Array<[keyof SharedProviderProps, (s: Stack) => SharedProviderProps]> = [
      ['vpc', (s) => ({ vpc: regulatedOptions(s).vpc })],
      ['logEncryptionKey', (s) => ({ logEncryptionKey: new kms.Key(s, 'Key', { enableKeyRotation: true }) })],
      ['reservedConcurrency', () => ({ reservedConcurrency: 5 })],
      ['tracing', () => ({ tracing: true })],
    ];
    test.each(options)('%s alone leaves every other default finding', (option, make) => {
      const app = new App();
      stackWith(app, 'Ownership', true, ENV, make);
      for (const pack of PACK_NAMES) {
        const expected = Object.fromEntries(Object.entries(DEFAULT_FINDINGS[pack]).filter(([rule]) => RESOLVED_BY[rule] !== option));
        expect([pack, constructFindings(app, pack, major)]).toEqual([pack, expected]);
      }
    });
  });

  test('two instances share one provider and still report nothing in AwsSolutions', () => {
    const app = new App();
    const stack = stackWith(app, 'Ownership', true, { env: { account: ACCOUNT, region: 'eu-west-1' } });
    new ProvisionedProductProperties(stack, 'Second', { provisionedProductId: 'pp-second', owner: Owner.fromArn(OWNER) });
    expect(findings(app, 'AwsSolutions', major)).toEqual([]);
  });

  test('without a launch role, environment-agnostic, AwsSolutions reports nothing', () => {
    const app = new App();
    stackWith(app, 'Ownership', false);
    expect(findings(app, 'AwsSolutions', major)).toEqual([]);
  });
});

describe('as users run the packs', () => {
  (V3_RUNS ? test : test.skip)(
    'with cdk-nag 3, synth succeeds with all five packs registered, for an app whose only resources are the construct on an imported VPC',
    () => {
      const app = new App();
      stackWith(app, 'Ownership', true, ENV, (s) => ({
        vpc: ec2.Vpc.fromVpcAttributes(s, 'Vpc', {
          vpcId: 'vpc-0123456789abcdef0',
          availabilityZones: ['us-east-1a', 'us-east-1b'],
          isolatedSubnetIds: ['subnet-0123456789abcdef0', 'subnet-0123456789abcdef1'],
        }),
        logEncryptionKey: new kms.Key(s, 'LogKey', { enableKeyRotation: true }),
        reservedConcurrency: 10,
        tracing: true,
      }));
      Validations?.of(app).addPlugins(...Object.values(PACKS).map((Pack) => new Pack(app)));
      expect(() => app.synth()).not.toThrow();
    },
  );

  test('with cdk-nag 2 as its aspect, AwsSolutions reports nothing from the construct, with defaults and with the regulated options', () => {
    for (const options of [undefined, regulatedOptions]) {
      const app = new App();
      const stack = stackWith(app, 'Ownership', true, ENV, options);
      Aspects.of(app).add(new v2.AwsSolutionsChecks({ reports: false }));
      app.synth();
      const errors = Annotations.fromStack(stack).findError('*', Match.stringLikeRegexp('AwsSolutions-'));
      const warnings = Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('AwsSolutions-'));
      expect([...errors, ...warnings].filter((m) => m.id.includes(PROVIDER_PATH))).toEqual([]);
      // The pack ran: the user's VPC of the regulated options has findings of its own.
      if (options) expect(errors.some((m) => m.id.includes('RegulatedVpc'))).toBe(true);
    }
  });
});

describe.each(RUNNING)("%s: the user's own findings", (major) => {
  test('are still reported, including those of the rules the construct acknowledges or fixes on its own resources', () => {
    const app = new App();
    const stack = stackWith(app, 'Ownership', true, ENV, regulatedOptions);
    const other = new Stack(app, 'Other');

    // A role with an AWS managed policy, an inline policy and a wildcard resource, in the construct's stack.
    const mine = new iam.Role(stack, 'MyRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AWSLambdaBasicExecutionRole')],
    });
    mine.addToPolicy(new iam.PolicyStatement({ actions: ['servicecatalog:DescribeRecord'], resources: ['*'] }));
    // A function without a dead-letter queue, memory, tracing, VPC or concurrency, and a queue without a redrive policy.
    new lambda.Function(stack, 'MyFunction', {
      code: lambda.Code.fromInline('exports.handler = async () => ({});'),
      handler: 'index.handler',
      runtime: lambda.Runtime.NODEJS_24_X,
    });
    new sqs.Queue(stack, 'MyQueue', { enforceSSL: true });

    // The user's own provider in another stack: its waiter and framework roles have the very
    // findings this construct acknowledges on its own provider.
    const code = lambda.Code.fromInline('exports.handler = async () => ({});');
    const fn = (id: string) => new lambda.Function(other, id, { code, handler: 'index.handler', runtime: lambda.Runtime.NODEJS_24_X });
    new cr.Provider(other, 'MyProvider', {
      onEventHandler: fn('MyOnEvent'),
      isCompleteHandler: fn('MyIsComplete'),
      totalTimeout: Duration.minutes(5),
    });

    const rulesAt = (pack: PackName, prefix: string) =>
      [
        ...new Set(
          findings(app, pack, major)
            .filter((f) => f.path.startsWith(prefix))
            .map((f) => f.rule),
        ),
      ].sort();
    for (const pack of PACK_NAMES) {
      expect([pack, findings(app, pack, major).filter((f) => f.path.includes(PROVIDER_PATH))]).toEqual([pack, []]);
    }
    expect(rulesAt('AwsSolutions', 'Ownership/MyRole/')).toEqual([
      'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      'AwsSolutions-IAM5[Resource::*]',
    ]);
    expect(rulesAt('AwsSolutions', 'Other/MyProvider/')).toEqual(
      expect.arrayContaining([
        'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
        expect.stringMatching(/^AwsSolutions-IAM5\[Resource::<MyIsComplete[0-9A-F]+\.Arn>:\*\]$/),
        expect.stringMatching(/^AwsSolutions-IAM5\[Resource::<MyProviderframeworkisComplete[0-9A-F]+\.Arn>:\*\]$/),
        'AwsSolutions-SF1',
        'AwsSolutions-SF2',
      ]),
    );
    expect(rulesAt('Serverless', 'Ownership/MyFunction/')).toEqual(
      expect.arrayContaining(['Serverless-LambdaDLQ', 'Serverless-LambdaDefaultMemorySize', 'Serverless-LambdaTracing']),
    );
    expect(rulesAt('Serverless', 'Ownership/MyQueue/')).toEqual(['Serverless-SQSRedrivePolicy']);
    expect(rulesAt('Serverless', 'Other/MyProvider/')).toEqual(
      expect.arrayContaining(['Serverless-LambdaDLQ', 'Serverless-StepFunctionStateMachineXray']),
    );
    for (const pack of ['NIST.800.53.R5', 'HIPAA.Security'] as const) {
      expect(rulesAt(pack, 'Ownership/MyFunction/')).toEqual(
        expect.arrayContaining([`${pack}-LambdaConcurrency`, `${pack}-LambdaDLQ`, `${pack}-LambdaInsideVPC`]),
      );
      expect(rulesAt(pack, 'Ownership/MyRole/')).toEqual([`${pack}-IAMNoInlinePolicy`]);
    }
    expect(rulesAt('PCI.DSS.321', 'Other/MyProvider/')).toEqual(
      expect.arrayContaining(['PCI.DSS.321-IAMNoInlinePolicy', 'PCI.DSS.321-LambdaInsideVPC']),
    );
    // The user's VPC is theirs: its findings stay.
    expect(rulesAt('NIST.800.53.R5', 'Ownership/RegulatedVpc/')).toEqual(expect.arrayContaining(['NIST.800.53.R5-VPCFlowLogsEnabled']));
  });
});

describeV3('acknowledgements (of cdk-nag 3, and their copy for cdk-nag 2)', () => {
  /** Every acknowledgement in the stack: the construct path it sits on, the rule id, the reason. */
  function acknowledgements(stack: Stack): Array<[string, string, string]> {
    return stack.node.findAll().flatMap((c) =>
      c.node.metadata
        .filter((m) => m.type === Validations?.ACKNOWLEDGED_RULES_METADATA_KEY)
        .flatMap((m) => Object.entries(m.data as Record<string, string>))
        .map(([id, reason]): [string, string, string] => [c.node.path, id.replace(/^annotation::/i, ''), reason]),
    );
  }

  test.each([
    ['defaults', undefined],
    ['the regulated options', regulatedOptions],
  ])('with %s, each names one finding of one rule that cannot apply, on the resource that has it, with a reason', (_name, options) => {
    const app = new App();
    const stack = stackWith(app, 'Ownership', true, ENV, options);
    // (ec2.Vpc acknowledges a CloudFormation validation rule of its own on the stack.)
    const acknowledged = acknowledgements(stack).filter(([, id]) => !id.startsWith('CloudFormation-Validate::'));
    expect(acknowledged.length).toBeGreaterThan(0);
    for (const [path, id, reason] of acknowledged) {
      expect(path).toContain(`Ownership/${PROVIDER_PATH}/`);
      // A whole rule is acknowledged only where it has a single finding per resource.
      expect(id).toMatch(
        /^(AwsSolutions-(IAM5\[Resource::.+\]|SF2|L1)|(Serverless|NIST\.800\.53\.R5|HIPAA\.Security)-LambdaDLQ|Serverless-(SQSRedrivePolicy|LambdaAsyncFailureDestination|LambdaLatestVersion)|(NIST\.800\.53\.R5|HIPAA\.Security)-DynamoDBInBackupPlan)$/,
      );
      expect(reason.length).toBeGreaterThan(60);
    }
    // LambdaDLQ: on the four synchronously invoked functions, never on the one CloudFormation invokes.
    const dlq = acknowledged.filter(([, id]) => id === 'Serverless-LambdaDLQ').map(([path]) => path.split('/').slice(2).join('/'));
    expect(dlq.sort()).toEqual(['IsComplete', 'OnEvent', 'Provider/framework-isComplete', 'Provider/framework-onTimeout']);
    // LambdaAsyncFailureDestination: only on the event-age settings of the function CloudFormation invokes, which has the queue.
    const async = acknowledged
      .filter(([, id]) => id === 'Serverless-LambdaAsyncFailureDestination')
      .map(([path]) => path.split('/').slice(2).join('/'));
    expect(async).toEqual([expect.stringMatching(/^Provider\/framework-onEvent\/EventInvokeConfig/)]);
    // The latest-runtime rules: only on the framework's functions, and only on an aws-cdk-lib that
    // gives them an older runtime than the newest it knows (before 2.259.0).
    const newest = lambda.Runtime.ALL.filter((rt) => rt.family === lambda.RuntimeFamily.NODEJS)
      .map((rt) => rt.name)
      .sort((a, b) => a.localeCompare(b, undefined, { numeric: true }))
      .pop();
    const frameworkOld = ['onEvent', 'isComplete', 'onTimeout']
      .map((fn) => stack.node.findChild(PROVIDER_PATH).node.findChild('Provider').node.findChild(`framework-${fn}`))
      .some((fn) => (fn.node.defaultChild as lambda.CfnFunction).runtime !== newest);
    for (const rule of ['AwsSolutions-L1', 'Serverless-LambdaLatestVersion']) {
      const at = acknowledged.filter(([, id]) => id === rule).map(([path]) => path.split('/').slice(2).join('/'));
      expect([rule, at.sort()]).toEqual([
        rule,
        frameworkOld ? ['Provider/framework-isComplete', 'Provider/framework-onEvent', 'Provider/framework-onTimeout'] : [],
      ]);
    }
    // SF2 (waiter tracing) only while tracing is off.
    expect(acknowledged.some(([, id]) => id === 'AwsSolutions-SF2')).toBe(options === undefined);
  });

  /** An acknowledgement as a (rule id, finding or '', reason) triple, the form both majors' suppressions reduce to. */
  type Triple = [string, string, string];
  const split = (id: string, reason: string): Triple => {
    const m = /^([^[]+)\[(.*)\]$/.exec(id);
    return m ? [m[1], m[2], reason] : [id, '', reason];
  };

  test.each([
    ['defaults', undefined],
    ['the regulated options', regulatedOptions],
  ])(
    "with %s, every CfnResource of the provider carries as cdk-nag 2's cdk_nag metadata exactly what is acknowledged on it and above it for cdk-nag 3",
    (_name, options) => {
      const app = new App();
      const stack = stackWith(app, 'Ownership', true, ENV, options);
      const byPath = new Map<string, Triple[]>();
      for (const [path, id, reason] of acknowledgements(stack)) {
        if (id.startsWith('CloudFormation-Validate::')) continue;
        byPath.set(path, [...(byPath.get(path) ?? []), split(id, reason)]);
      }
      const provider = stack.node.findChild(PROVIDER_PATH);
      const resources = provider.node.findAll().filter(CfnResource.isCfnResource);
      expect(resources.length).toBeGreaterThan(20);
      let suppressed = 0;
      for (const resource of resources) {
        const above = resource.node.scopes.flatMap((c) => byPath.get(c.node.path) ?? []);
        const metadata = resource.getMetadata('cdk_nag') as
          { rules_to_suppress: Array<{ id: string; reason: string; applies_to?: string[] }> } | undefined;
        const v2Triples = (metadata?.rules_to_suppress ?? []).flatMap((r): Triple[] =>
          r.applies_to ? r.applies_to.map((f): Triple => [r.id, f, r.reason]) : [[r.id, '', r.reason]],
        );
        expect([resource.node.path, v2Triples.sort()]).toEqual([resource.node.path, above.sort()]);
        // cdk-nag 2 refuses a suppression whose id names a finding, or whose reason is short.
        for (const r of metadata?.rules_to_suppress ?? []) {
          expect(r.id).not.toMatch(/\[/);
          expect(r.reason.length).toBeGreaterThanOrEqual(10);
        }
        suppressed += v2Triples.length;
      }
      expect(suppressed).toBeGreaterThan(0);
    },
  );
});
