#!/usr/bin/env node
/**
 * The CDK app of the AWS verifications: the integration stack (the fixture plus, at the steps that declare it, ProvisionedProductProperties on its provisioned product) and the contract suite's fixture stack.
 *
 *   npx cdk synth --app 'npx ts-node --transpile-only --prefer-ts-exts test/integ/app.ts' -c integ:step=managed
 *
 * `npm run test:integ:aws` and `npm run test:contract:aws` deploy and destroy these stacks.
 */
import { App, CfnOutput, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Owner, ProvisionedProductProperties } from '../../lib';
import { LEDGER } from '../../lib/contract';
import { ServiceCatalogFixture } from './fixture';
import { CONSTRUCT_OUTPUTS, CONTRACT_FIXTURE_STACK, CONTRACT_OUTPUTS, FIXTURE_OUTPUTS, INTEG_STACK, STEP_CONTEXT } from './names';

export { CONTRACT_FIXTURE_STACK, INTEG_STACK, STEP_CONTEXT };
import { INTEG_STEPS, type IntegStep, STEPS } from './steps';

/** The construct's id in the integration stack. */
export const CONSTRUCT_ID = 'Ownership';

/** The fixture's outputs, named at the stack's top level so that their keys are exactly these. */
function fixtureOutputs(stack: Stack, fixture: ServiceCatalogFixture): void {
  new CfnOutput(stack, FIXTURE_OUTPUTS.productId, { value: fixture.provisionedProduct.attrProvisionedProductId });
  new CfnOutput(stack, FIXTURE_OUTPUTS.ownerA, { value: fixture.ownerA.roleArn });
  new CfnOutput(stack, FIXTURE_OUTPUTS.ownerB, { value: fixture.ownerB.roleArn });
  new CfnOutput(stack, FIXTURE_OUTPUTS.launchRole, { value: fixture.launchRole.roleArn });
  new CfnOutput(stack, FIXTURE_OUTPUTS.priorLaunchRole, { value: fixture.priorLaunchRole.roleArn });
}

/** The integration stack as `step` declares it. */
export function integStack(app: App, step: IntegStep, props?: StackProps): Stack {
  const stack = new Stack(app, INTEG_STACK, { description: `cdk-provisioned-product-properties integration test, step ${step}`, ...props });
  const fixture = new ServiceCatalogFixture(stack, 'Fixture');
  fixtureOutputs(stack, fixture);
  const construct = STEPS[step].construct;
  if (construct) {
    const ownership = new ProvisionedProductProperties(stack, CONSTRUCT_ID, {
      provisionedProductId: fixture.provisionedProduct.attrProvisionedProductId,
      owner: Owner.fromRole(fixture[construct.owner]),
      launchRole: fixture[construct.launchRole],
    });
    new CfnOutput(stack, CONSTRUCT_OUTPUTS.recordId, { value: ownership.recordId });
    new CfnOutput(stack, CONSTRUCT_OUTPUTS.previousOwner, { value: ownership.previousOwnerArn });
    new CfnOutput(stack, CONSTRUCT_OUTPUTS.previousLaunchRole, { value: ownership.previousLaunchRoleArn });
  }
  return stack;
}

/** The contract suite's fixture: the same product and roles, a principal that may not pass roles, and a table of the ledger's shape. */
export function contractFixtureStack(app: App, props?: StackProps): Stack {
  const stack = new Stack(app, CONTRACT_FIXTURE_STACK, {
    description: 'cdk-provisioned-product-properties contract suite fixture',
    ...props,
  });
  const fixture = new ServiceCatalogFixture(stack, 'Fixture');
  fixtureOutputs(stack, fixture);

  const noPassRole = new iam.Role(stack, 'NoPassRoleCaller', {
    assumedBy: new iam.AccountRootPrincipal(),
    description: 'May update provisioned products but not pass roles: the contract suite checks that LAUNCH_ROLE needs iam:PassRole',
    inlinePolicies: {
      UpdateWithoutPassRole: new iam.PolicyDocument({
        statements: [
          new iam.PolicyStatement({
            actions: [
              'servicecatalog:UpdateProvisionedProductProperties',
              'servicecatalog:DescribeRecord',
              'servicecatalog:DescribeProvisionedProduct',
              'servicecatalog:SearchProvisionedProducts',
            ],
            resources: ['*'],
          }),
          new iam.PolicyStatement({ effect: iam.Effect.DENY, actions: ['iam:PassRole'], resources: ['*'] }),
        ],
      }),
    },
  });
  // The ledger's shape (lib/contract.ts LEDGER), as the provider declares its own: the DynamoDB
  // behaviours write items of their own to it, and it goes with the stack.
  const ledger = new dynamodb.Table(stack, 'Ledger', {
    partitionKey: { name: LEDGER.partitionKey, type: dynamodb.AttributeType.STRING },
    billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
    timeToLiveAttribute: LEDGER.timeToLiveAttribute,
    removalPolicy: RemovalPolicy.DESTROY,
  });
  new CfnOutput(stack, CONTRACT_OUTPUTS.noPassRoleRoleArn, { value: noPassRole.roleArn });
  new CfnOutput(stack, CONTRACT_OUTPUTS.ledgerTableName, { value: ledger.tableName });
  return stack;
}

/** The step the app's context asks for; throws naming the valid ones. */
export function stepOf(app: App): IntegStep {
  const raw: unknown = app.node.tryGetContext(STEP_CONTEXT) ?? 'managed';
  if (typeof raw === 'string' && (INTEG_STEPS as readonly string[]).includes(raw)) return raw as IntegStep;
  throw new Error(`-c ${STEP_CONTEXT}=${String(raw)} is not a step of the integration run: use one of ${INTEG_STEPS.join(', ')}.`);
}

/** Both stacks, in the app's account and region. */
export function buildTestApp(app: App): { integ: Stack; contract: Stack } {
  const env = { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION };
  return { integ: integStack(app, stepOf(app), { env }), contract: contractFixtureStack(app, { env }) };
}

if (require.main === module) {
  const app = new App();
  buildTestApp(app);
  app.synth();
}
