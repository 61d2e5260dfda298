/**
 * cdk-nag's AwsSolutions pack against stacks that use the construct: the construct must add no
 * finding (every one is fixed or acknowledged on the construct, finding by finding), and must hide
 * none of the user's own.
 */
import { App, Duration, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as cr from 'aws-cdk-lib/custom-resources';
import { AwsSolutionsChecks } from 'cdk-nag';
import { Owner, ProvisionedProductProperties } from '../lib';

const ACCOUNT = '123456789012';
const OWNER = `arn:aws:iam::${ACCOUNT}:role/PlatformAdmin`;
const LAUNCH = `arn:aws:iam::${ACCOUNT}:role/ServiceCatalogLaunch`;
const PROVIDER_PATH = 'ProvisionedProductPropertiesProvider';

interface Finding {
  readonly rule: string;
  readonly severity: string;
  readonly path: string;
}

/** Every unacknowledged AwsSolutions finding (errors and warnings) in the app, one per resource. */
function findings(app: App): Finding[] {
  app.synth();
  const report = new AwsSolutionsChecks().validateScope(app);
  return report.violations.flatMap((v) =>
    v.violatingResources.map((r) => ({ rule: v.ruleName, severity: v.severity ?? 'error', path: r.constructPath ?? '' })),
  );
}

function stackWith(app: App, id: string, launchRole: boolean, props?: StackProps): Stack {
  const stack = new Stack(app, id, props);
  new ProvisionedProductProperties(stack, 'Ownership', {
    provisionedProductId: `pp-${id.toLowerCase()}`,
    owner: Owner.fromArn(OWNER),
    launchRole: launchRole ? iam.Role.fromRoleArn(stack, 'Launch', LAUNCH) : undefined,
  });
  return stack;
}

describe('AwsSolutions', () => {
  test.each([
    ['with a launch role, in an environment', true, { env: { account: ACCOUNT, region: 'us-east-1' } }],
    ['without a launch role, environment-agnostic', false, undefined],
  ])('reports nothing for a stack using the construct %s', (_name, launchRole, props) => {
    const app = new App();
    stackWith(app, 'Ownership', launchRole, props);
    expect(findings(app)).toEqual([]);
  });

  test('two instances share one provider and still report nothing', () => {
    const app = new App();
    const stack = stackWith(app, 'Ownership', true, { env: { account: ACCOUNT, region: 'eu-west-1' } });
    new ProvisionedProductProperties(stack, 'Second', { provisionedProductId: 'pp-second', owner: Owner.fromArn(OWNER) });
    expect(findings(app)).toEqual([]);
  });

  test('synth succeeds with the pack registered the way users register it', () => {
    const app = new App();
    stackWith(app, 'Ownership', true);
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    expect(() => app.synth()).not.toThrow();
  });

  test("the user's own findings are still reported, including those of the kinds the construct acknowledges", () => {
    const app = new App();
    const stack = stackWith(app, 'Ownership', true, { env: { account: ACCOUNT, region: 'us-east-1' } });
    const other = new Stack(app, 'Other');

    // A role with a managed policy and a wildcard resource, in the construct's stack.
    const mine = new iam.Role(stack, 'MyRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AWSLambdaBasicExecutionRole')],
    });
    mine.addToPolicy(new iam.PolicyStatement({ actions: ['servicecatalog:DescribeRecord'], resources: ['*'] }));

    // The user's own provider in another stack: its waiter and framework roles have the very
    // findings this construct acknowledges on its own provider.
    const code = lambda.Code.fromInline('exports.handler = async () => ({});');
    const fn = (id: string) => new lambda.Function(other, id, { code, handler: 'index.handler', runtime: lambda.Runtime.NODEJS_24_X });
    new cr.Provider(other, 'MyProvider', {
      onEventHandler: fn('MyOnEvent'),
      isCompleteHandler: fn('MyIsComplete'),
      totalTimeout: Duration.minutes(5),
    });

    const found = findings(app);
    expect(found.filter((f) => f.path.includes(PROVIDER_PATH))).toEqual([]);
    const rules = (prefix: string) => [...new Set(found.filter((f) => f.path.startsWith(prefix)).map((f) => f.rule))].sort();
    expect(rules('Ownership/MyRole/')).toEqual([
      'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      'AwsSolutions-IAM5[Resource::*]',
    ]);
    expect(rules('Other/MyProvider/')).toEqual(
      expect.arrayContaining([
        'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
        expect.stringMatching(/^AwsSolutions-IAM5\[Resource::<MyIsComplete[0-9A-F]+\.Arn>:\*\]$/),
        expect.stringMatching(/^AwsSolutions-IAM5\[Resource::<MyProviderframeworkisComplete[0-9A-F]+\.Arn>:\*\]$/),
        'AwsSolutions-SF1',
        'AwsSolutions-SF2',
      ]),
    );
  });

  test('every acknowledgement names one finding and gives a reason', () => {
    const app = new App();
    const stack = stackWith(app, 'Ownership', true);
    const acknowledged = stack.node
      .findAll()
      .flatMap((c) => c.node.metadata.filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY))
      .flatMap((m) => Object.entries(m.data as Record<string, string>));
    expect(acknowledged.length).toBeGreaterThan(0);
    for (const [id, reason] of acknowledged) {
      // A whole rule is acknowledged only where it has a single finding per resource (SF2).
      expect(id).toMatch(/AwsSolutions-(IAM5\[Resource::.+\]|SF2)$/);
      expect(reason.length).toBeGreaterThan(60);
    }
  });
});
