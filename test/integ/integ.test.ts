/**
 * The integration app offline: it synthesizes at every step, its template wires the fixture (portfolio, product, provisioned product, roles) to the custom resource, cdk-nag finds nothing from the construct, and the integration run itself (deploy, check, change, remove, destroy) passes against the fake Service Catalog with the real provider framework and handler standing in for CloudFormation.
 */
import { readFileSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import { ServiceCatalogClient } from '@aws-sdk/client-service-catalog';
import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { AwsSolutionsChecks } from 'cdk-nag';
import { LifecycleDriver, type LocalServices, startLocalServices } from '../../harness';
import { Owner, type ProvisionedProductPropertiesProps } from '../../lib';
import { LEDGER, RESOURCE_TYPE } from '../../lib/contract';
import { type NagReport, V3_RUNS } from '../support/nag';
import { CONSTRUCT_ID, CONTRACT_FIXTURE_STACK, INTEG_STACK, STEP_CONTEXT, buildTestApp } from './app';
import { CONSTRUCT_OUTPUTS, CONTRACT_OUTPUTS, FIXTURE_OUTPUTS } from './names';
import { INTEG_STEPS, type IntegDeployer, type IntegStep, STEPS, runIntegration } from './steps';

/** Both stacks of the app at `step`, synthesized. */
function synthAt(step: IntegStep): { integ: Stack; contract: Stack; app: App } {
  const app = new App({ context: { [STEP_CONTEXT]: step } });
  const stacks = buildTestApp(app);
  app.synth();
  return { ...stacks, app };
}

/** The logical id of the one resource of `type` in `template`. */
function logicalIdOf(template: Template, type: string): string {
  const ids = Object.keys(template.findResources(type));
  expect(ids).toHaveLength(1);
  return ids[0];
}

describe('the integration app synthesizes', () => {
  const managed = synthAt('managed');
  const template = Template.fromStack(managed.integ);

  test('the fixture: a portfolio with the product, its launch constraint, access for the account, the provisioned product and four roles', () => {
    for (const [type, count] of Object.entries({
      'AWS::ServiceCatalog::Portfolio': 1,
      'AWS::ServiceCatalog::CloudFormationProduct': 1,
      'AWS::ServiceCatalog::PortfolioProductAssociation': 1,
      'AWS::ServiceCatalog::LaunchRoleConstraint': 1,
      'AWS::ServiceCatalog::PortfolioPrincipalAssociation': 2,
      'AWS::ServiceCatalog::CloudFormationProvisionedProduct': 1,
    })) {
      template.resourceCountIs(type, count);
    }
    template.hasResourceProperties('AWS::ServiceCatalog::PortfolioPrincipalAssociation', { PrincipalType: 'IAM_PATTERN' });
    const product = logicalIdOf(template, 'AWS::ServiceCatalog::CloudFormationProduct');
    template.hasResourceProperties('AWS::ServiceCatalog::CloudFormationProvisionedProduct', {
      ProductId: { Ref: product },
      ProvisioningArtifactName: 'v1',
    });
    // Both launch roles are Service Catalog's to assume; the prior one is the constraint's.
    const roles = template.findResources('AWS::IAM::Role', {
      Properties: {
        AssumeRolePolicyDocument: { Statement: [Match.objectLike({ Principal: { Service: 'servicecatalog.amazonaws.com' } })] },
      },
    });
    expect(Object.keys(roles).sort()).toEqual([
      expect.stringMatching(/^FixtureLaunchRole/),
      expect.stringMatching(/^FixturePriorLaunchRole/),
    ]);
    const prior = Object.keys(roles).find((id) => id.startsWith('FixturePriorLaunchRole'));
    template.hasResourceProperties('AWS::ServiceCatalog::LaunchRoleConstraint', { RoleArn: { 'Fn::GetAtt': [prior, 'Arn'] } });
  });

  test('the product template creates nothing billable', () => {
    const files = readdirSync(managed.app.outdir).filter((f) => f.endsWith('.product.template.json'));
    // One product template per stack: the integration stack's and the contract fixture's.
    expect(files).toHaveLength(2);
    for (const file of files) {
      const resources = (
        JSON.parse(readFileSync(path.join(managed.app.outdir, file), 'utf8')) as { Resources: Record<string, { Type: string }> }
      ).Resources;
      expect(Object.values(resources).map((r) => r.Type)).toEqual(['AWS::CloudFormation::WaitConditionHandle']);
    }
  });

  test('the custom resource manages the provisioned product with owner A and the launch role, and the product outlives its roles and access on delete', () => {
    const pp = logicalIdOf(template, 'AWS::ServiceCatalog::CloudFormationProvisionedProduct');
    const ownerA = Object.keys(template.findResources('AWS::IAM::Role')).find((id) => id.startsWith('FixtureOwnerA'));
    const launch = Object.keys(template.findResources('AWS::IAM::Role')).find((id) => id.startsWith('FixtureLaunchRole'));
    template.hasResourceProperties(RESOURCE_TYPE, {
      ProvisionedProductId: { 'Fn::GetAtt': [pp, 'ProvisionedProductId'] },
      ProvisionedProductProperties: { OWNER: { 'Fn::GetAtt': [ownerA, 'Arn'] }, LAUNCH_ROLE: { 'Fn::GetAtt': [launch, 'Arn'] } },
    });
    const dependsOn = (template.findResources('AWS::ServiceCatalog::CloudFormationProvisionedProduct')[pp] as { DependsOn: string[] })
      .DependsOn;
    for (const prefix of [
      'FixtureLaunchRole',
      'FixturePriorLaunchRole',
      'FixtureAccessEveryRole',
      'FixtureAccessEveryUser',
      'FixturePortfolio',
    ]) {
      expect(dependsOn).toEqual(expect.arrayContaining([expect.stringMatching(new RegExp(`^${prefix}`))]));
    }
    expect(Object.keys(template.toJSON().Outputs as object).sort()).toEqual(
      [...Object.values(FIXTURE_OUTPUTS), ...Object.values(CONSTRUCT_OUTPUTS)].sort(),
    );
  });

  test('each step declares the construct as the run expects: owner B after the change, none before and after', () => {
    const changed = Template.fromStack(synthAt('changed').integ);
    const ownerB = Object.keys(changed.findResources('AWS::IAM::Role')).find((id) => id.startsWith('FixtureOwnerB'));
    changed.hasResourceProperties(RESOURCE_TYPE, { ProvisionedProductProperties: { OWNER: { 'Fn::GetAtt': [ownerB, 'Arn'] } } });
    for (const step of ['base', 'removed'] as const) {
      const bare = Template.fromStack(synthAt(step).integ);
      bare.resourceCountIs(RESOURCE_TYPE, 0);
      bare.resourceCountIs('AWS::Lambda::Function', 0);
      bare.resourceCountIs('AWS::ServiceCatalog::CloudFormationProvisionedProduct', 1);
    }
    expect(() => buildTestApp(new App({ context: { [STEP_CONTEXT]: 'halfway' } }))).toThrow(
      '-c integ:step=halfway is not a step of the integration run: use one of base, managed, changed, removed.',
    );
  });

  test("the contract fixture adds a principal denied iam:PassRole and an on-demand table of the ledger's shape that goes with the stack", () => {
    const contract = Template.fromStack(managed.contract);
    contract.resourceCountIs('AWS::ServiceCatalog::CloudFormationProvisionedProduct', 1);
    contract.resourceCountIs(RESOURCE_TYPE, 0);
    contract.resourceCountIs('AWS::StepFunctions::StateMachine', 0);
    contract.resourceCountIs('AWS::DynamoDB::Table', 1);
    contract.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Delete',
      UpdateReplacePolicy: 'Delete',
      Properties: {
        KeySchema: [{ AttributeName: LEDGER.partitionKey, KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: LEDGER.partitionKey, AttributeType: 'S' }],
        BillingMode: 'PAY_PER_REQUEST',
        TimeToLiveSpecification: { AttributeName: LEDGER.timeToLiveAttribute, Enabled: true },
      },
    });
    contract.hasResourceProperties('AWS::IAM::Role', {
      Policies: [{ PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Action: 'iam:PassRole' })]) } }],
    });
    expect(Object.keys(contract.toJSON().Outputs as object).sort()).toEqual(
      [...Object.values(FIXTURE_OUTPUTS), ...Object.values(CONTRACT_OUTPUTS)].sort(),
    );
    expect(managed.contract.stackName).toBe(CONTRACT_FIXTURE_STACK);
    expect(managed.integ.stackName).toBe(INTEG_STACK);
  });

  // cdk-nag 3 runs on the newer part of the peer range only (test/nag.test.ts has cdk-nag 2 everywhere).
  (V3_RUNS ? test : test.skip)('cdk-nag (AwsSolutions) reports nothing from the construct: every finding is on the test fixture', () => {
    const report = new AwsSolutionsChecks().validateScope(managed.app) as NagReport;
    const paths = report.violations.flatMap((v) => v.violatingResources.map((r) => `${v.ruleName} ${r.constructPath ?? ''}`));
    // The fixture's own findings (launch roles for any SC-* stack, a table without point-in-time recovery)
    // show that the pack ran on the whole app.
    expect(paths.length).toBeGreaterThan(0);
    const stacks = `(${INTEG_STACK}|${CONTRACT_FIXTURE_STACK})`;
    const fixture = new RegExp(`^\\S+ ${stacks}/(Fixture|NoPassRoleCaller|Ledger)/`);
    expect(paths.filter((p) => !fixture.test(p))).toEqual([]);
    expect(paths.filter((p) => p.includes(`/${CONSTRUCT_ID}/`) || p.includes('ProvisionedProductPropertiesProvider'))).toEqual([]);
  });
});

const ACCOUNT = '123456789012';
const PRODUCT = 'pp-integfixture1';
/** The fixture's outputs as a deploy of it would give them. */
const FIXTURE: Record<string, string> = {
  [FIXTURE_OUTPUTS.productId]: PRODUCT,
  [FIXTURE_OUTPUTS.ownerA]: `arn:aws:iam::${ACCOUNT}:role/Integ-OwnerA`,
  [FIXTURE_OUTPUTS.ownerB]: `arn:aws:iam::${ACCOUNT}:role/Integ-OwnerB`,
  [FIXTURE_OUTPUTS.launchRole]: `arn:aws:iam::${ACCOUNT}:role/Integ-LaunchRole`,
  [FIXTURE_OUTPUTS.priorLaunchRole]: `arn:aws:iam::${ACCOUNT}:role/Integ-PriorLaunchRole`,
};
/** Who provisioned the product: CloudFormation's session of the CDK execution role. */
const PROVISIONER = `arn:aws:sts::${ACCOUNT}:assumed-role/cdk-hnb659fds-cfn-exec-role-${ACCOUNT}-us-east-1/AWSCloudFormation`;
/** The prior owner as the handler records it: the provisioning session (sc.session-owner). */
const PRIOR_OWNER = String.raw`arn:aws:\S+/cdk-hnb659fds-cfn-exec-role-${ACCOUNT}-us-east-1\S*`;

/**
 * Deploys the integration stack's steps offline: the fixture is a product of the fake Service
 * Catalog, and the construct's Create, Update and Delete run through the real provider framework and
 * the bundled handler (harness/), as CloudFormation would send them.
 */
class LocalDeployer implements IntegDeployer {
  readonly deployed: IntegStep[] = [];
  destroyed = false;
  /** Changes the product after a step's deploy (to make a check fail). */
  afterDeploy?: (step: IntegStep) => void;
  /** The launch role the product is provisioned with ('' for none). */
  priorLaunchRole = FIXTURE[FIXTURE_OUTPUTS.priorLaunchRole];
  private driver?: LifecycleDriver;

  constructor(private readonly services: LocalServices) {}

  async deploy(step: IntegStep): Promise<Record<string, string>> {
    this.deployed.push(step);
    const fake = this.services.serviceCatalog;
    if (!fake.product(PRODUCT)) fake.addProduct({ id: PRODUCT, owner: PROVISIONER, launchRole: this.priorLaunchRole });
    const construct = STEPS[step].construct;
    let outputs = FIXTURE;
    if (construct) {
      const props: ProvisionedProductPropertiesProps = {
        provisionedProductId: PRODUCT,
        owner: Owner.fromArn(FIXTURE[FIXTURE_OUTPUTS[construct.owner]]),
        launchRole: iam.Role.fromRoleArn(new Stack(new App(), 'RoleScope'), 'Launch', FIXTURE[FIXTURE_OUTPUTS[construct.launchRole]]),
      };
      const options = { ...this.services.driverOptions, timeScale: 0.01 };
      this.driver ??= LifecycleDriver.fromConstruct(props, options);
      const result = this.driver.physicalId ? await this.driver.update(LifecycleDriver.propertiesFor(props)) : await this.driver.create();
      if (result.Status !== 'SUCCESS') throw new Error(`${result.RequestType} of the custom resource FAILED: ${result.Reason}`);
      outputs = { ...FIXTURE, ...result.Data };
    } else if (this.driver) {
      await this.deleteConstruct();
    }
    this.afterDeploy?.(step);
    return outputs;
  }

  async destroy(): Promise<void> {
    if (this.driver) await this.deleteConstruct();
    this.services.serviceCatalog.terminate(PRODUCT);
    this.destroyed = true;
  }

  private async deleteConstruct(): Promise<void> {
    const result = await this.driver!.delete();
    this.driver = undefined;
    if (result.Status !== 'SUCCESS') throw new Error(`Delete of the custom resource FAILED: ${result.Reason}`);
  }
}

describe('the integration run, against the fake Service Catalog', () => {
  let services: LocalServices;
  let deployer: LocalDeployer;
  let lines: string[];
  const run = () => runIntegration({ sc: scClient(), deployer, print: (l) => lines.push(l), checkTimeoutMs: 2_000, pollMs: 20 });

  const clients: ServiceCatalogClient[] = [];
  function scClient(): ServiceCatalogClient {
    const client = new ServiceCatalogClient({
      endpoint: services.serviceCatalog.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'integ', secretAccessKey: 'integ' },
    });
    clients.push(client);
    return client;
  }

  beforeEach(async () => {
    services = await startLocalServices({ recordDurationMs: 30, account: ACCOUNT });
    deployer = new LocalDeployer(services);
    lines = [];
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) c.destroy();
    expect(services.serviceCatalog.violations).toEqual([]);
    await services.close();
  });

  test('deploys every step, finds the declared owner and launch role after each, gets the priors back, and destroys', async () => {
    expect(await run()).toBe(true);
    expect(deployer.deployed).toEqual([...INTEG_STEPS]);
    expect(deployer.destroyed).toBe(true);
    expect(lines).toEqual([
      `1/4 deploying base: ${STEPS.base.what}`,
      expect.stringMatching(new RegExp(`^    priors: owner ${PRIOR_OWNER}, launch role ${FIXTURE.PriorLaunchRoleArn}$`)),
      `2/4 deploying managed: ${STEPS.managed.what}`,
      `    ok: owner ${FIXTURE.OwnerARoleArn}, launch role ${FIXTURE.LaunchRoleArn}; previous* outputs are the priors`,
      `3/4 deploying changed: ${STEPS.changed.what}`,
      `    ok: owner ${FIXTURE.OwnerBRoleArn}, launch role ${FIXTURE.LaunchRoleArn}; previous* outputs are the priors`,
      `4/4 deploying removed: ${STEPS.removed.what}`,
      expect.stringMatching(new RegExp(`^    ok: owner ${PRIOR_OWNER}, launch role ${FIXTURE.PriorLaunchRoleArn} \\(the priors\\)$`)),
      'destroying the integration stack (the provider log groups are kept, as in any deployment of the construct)',
      'destroyed',
      'PASSED: owner and launch role were as declared at every step, and the priors came back',
    ]);
    expect(services.serviceCatalog.product(PRODUCT)).toBeUndefined();
  });

  test("a product provisioned without a launch role keeps the construct's after the removal: a launch role cannot be cleared", async () => {
    deployer.priorLaunchRole = '';
    expect(await run()).toBe(true);
    expect(lines).toContain(
      `    note: the product reports launch role (none), not its launch constraint's ${FIXTURE.PriorLaunchRoleArn}; the run goes on from what it reports`,
    );
    expect(lines).toContainEqual(
      expect.stringMatching(
        new RegExp(
          `^    ok: owner ${PRIOR_OWNER}, launch role ${FIXTURE.LaunchRoleArn} \\(the prior owner; the launch role stays, as the product had none\\)$`,
        ),
      ),
    );
  });

  test('a product that does not show the declared owner fails the run, which still destroys the stack', async () => {
    deployer.afterDeploy = (step) => {
      if (step === 'changed') services.serviceCatalog.setSearchLag(PRODUCT, 1_000_000);
    };
    expect(await run()).toBe(false);
    expect(deployer.deployed).toEqual(['base', 'managed', 'changed']);
    expect(deployer.destroyed).toBe(true);
    expect(lines).toContain(`FAILED: product ${PRODUCT} stayed unlisted by the search for 2 s`);
    expect(lines.at(-1)).toBe('the run FAILED (see above)');
  });

  test('a deploy that fails fails the run, which still destroys what was deployed', async () => {
    deployer.afterDeploy = (step) => {
      if (step === 'managed') throw new Error('cdk deploy ProvisionedProductPropertiesInteg failed (exit code 1)');
    };
    expect(await run()).toBe(false);
    expect(lines).toContain('FAILED: Error: cdk deploy ProvisionedProductPropertiesInteg failed (exit code 1)');
    expect(deployer.destroyed).toBe(true);
    // Destroying deleted the custom resource first: the product got its priors back before it was terminated.
    expect(services.serviceCatalog.callsOf('UpdateProvisionedProductProperties').at(-1)?.input?.ProvisionedProductProperties).toEqual({
      OWNER: expect.stringMatching(new RegExp(`^${PRIOR_OWNER}$`)) as unknown,
      LAUNCH_ROLE: FIXTURE.PriorLaunchRoleArn,
    });
  });
});
