/**
 * What the construct needs in an empty account, at no cost: a portfolio, a product whose template creates nothing billable, portfolio access, a provisioned product launched with a prior launch role, two owner roles and a launch role.
 */
import { Aws, CfnWaitConditionHandle, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as servicecatalog from 'aws-cdk-lib/aws-servicecatalog';
import { Construct } from 'constructs';

/** The product version the provisioned product launches. */
const VERSION = 'v1';

/**
 * The fixture. Service Catalog provisions the product with `priorLaunchRole` (the portfolio's
 * launch constraint), so both of its properties have a prior value a restore must bring back.
 */
export class ServiceCatalogFixture extends Construct {
  readonly provisionedProduct: servicecatalog.CfnCloudFormationProvisionedProduct;
  /** Owners the construct hands the product to. */
  readonly ownerA: iam.Role;
  readonly ownerB: iam.Role;
  /** The launch role the construct sets. */
  readonly launchRole: iam.Role;
  /** The launch role the product is provisioned with. */
  readonly priorLaunchRole: iam.Role;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    const stack = Stack.of(this);

    const template = new servicecatalog.ProductStack(this, 'Template');
    new CfnWaitConditionHandle(template, 'Nothing');
    const product = new servicecatalog.CloudFormationProduct(this, 'Product', {
      productName: `${stack.stackName}-product`,
      owner: 'cdk-provisioned-product-properties tests',
      description: 'A product whose template creates one AWS::CloudFormation::WaitConditionHandle: nothing billable.',
      productVersions: [
        { productVersionName: VERSION, cloudFormationTemplate: servicecatalog.CloudFormationTemplate.fromProductStack(template) },
      ],
    });
    const portfolio = new servicecatalog.Portfolio(this, 'Portfolio', {
      displayName: `${stack.stackName}-portfolio`,
      providerName: 'cdk-provisioned-product-properties tests',
      description: 'Test portfolio of cdk-provisioned-product-properties: one product that creates nothing.',
    });
    portfolio.addProduct(product);

    // Whoever deploys provisions the product: CloudFormation's execution role (cdk-*-cfn-exec-role-*)
    // or the caller. The portfolio's one product creates nothing, so every principal of the account gets access.
    const access = ['role', 'user'].map(
      (kind) =>
        new servicecatalog.CfnPortfolioPrincipalAssociation(this, `AccessEvery${kind === 'role' ? 'Role' : 'User'}`, {
          portfolioId: portfolio.portfolioId,
          principalArn: `arn:${Aws.PARTITION}:iam:::${kind}/*`,
          principalType: 'IAM_PATTERN',
        }),
    );

    this.priorLaunchRole = launchRoleFor(this, 'PriorLaunchRole', 'The launch role the test product is provisioned with');
    this.launchRole = launchRoleFor(this, 'LaunchRole', 'The launch role ProvisionedProductProperties sets on the test product');
    portfolio.setLaunchRole(product, this.priorLaunchRole);
    this.ownerA = ownerRole(this, 'OwnerA');
    this.ownerB = ownerRole(this, 'OwnerB');

    this.provisionedProduct = new servicecatalog.CfnCloudFormationProvisionedProduct(this, 'ProvisionedProduct', {
      productId: product.productId,
      provisioningArtifactName: VERSION,
      provisionedProductName: `${stack.stackName}-provisioned`,
    });
    // Terminating the product uses its launch role at the time, and the constraint and access must
    // exist to launch it: all of them go after it on delete.
    this.provisionedProduct.node.addDependency(portfolio, ...access, this.priorLaunchRole, this.launchRole);
  }
}

/** A role Service Catalog may assume to create, update and delete the product's (empty) stack. */
function launchRoleFor(scope: Construct, id: string, description: string): iam.Role {
  const stack = Stack.of(scope);
  return new iam.Role(scope, id, {
    assumedBy: new iam.ServicePrincipal('servicecatalog.amazonaws.com'),
    description,
    inlinePolicies: {
      ProvisionNothing: new iam.PolicyDocument({
        statements: [
          new iam.PolicyStatement({
            sid: 'ManageTheProductStacks',
            actions: [
              'cloudformation:CreateStack',
              'cloudformation:UpdateStack',
              'cloudformation:DeleteStack',
              'cloudformation:DescribeStacks',
              'cloudformation:DescribeStackEvents',
              'cloudformation:SetStackPolicy',
              'cloudformation:TagResource',
              'cloudformation:UntagResource',
              'cloudformation:CreateChangeSet',
              'cloudformation:DescribeChangeSet',
              'cloudformation:ExecuteChangeSet',
              'cloudformation:DeleteChangeSet',
            ],
            resources: [stack.formatArn({ service: 'cloudformation', resource: 'stack', resourceName: 'SC-*' })],
          }),
          new iam.PolicyStatement({
            sid: 'ReadTemplates',
            actions: ['cloudformation:GetTemplateSummary', 'cloudformation:ValidateTemplate'],
            resources: ['*'],
          }),
          new iam.PolicyStatement({
            sid: 'ReadTheProvisioningTemplate',
            actions: ['s3:GetObject'],
            resources: ['*'],
            conditions: { StringEquals: { 's3:ExistingObjectTag/servicecatalog:provisioning': 'true' } },
          }),
        ],
      }),
    },
  });
}

/** A role with no permissions, for the account's principals to assume: an owner to hand the product to. */
function ownerRole(scope: Construct, id: string): iam.Role {
  return new iam.Role(scope, id, {
    assumedBy: new iam.AccountRootPrincipal(),
    description: 'An owner ProvisionedProductProperties hands the test product to',
  });
}
