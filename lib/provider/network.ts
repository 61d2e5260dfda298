/**
 * The provider's place in the user's VPC: the functions' subnets and security group, and what their roles need to run there.
 */
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as cr from 'aws-cdk-lib/custom-resources';
import type { Construct } from 'constructs';
import type { ProviderSettings } from './provider-settings';

/** Where every function of the provider runs: nothing without a VPC. */
export type FunctionNetwork = Pick<cr.ProviderProps, 'vpc' | 'vpcSubnets' | 'securityGroups'>;

/**
 * Every function runs in the user's VPC when one is given, with one security group for all unless
 * the user gives theirs; the roles then need what Lambda uses to manage the interfaces.
 */
export function placeInNetwork(scope: Construct, settings: ProviderSettings, roles: readonly iam.IRole[]): FunctionNetwork {
  if (!settings.vpc) return {};
  for (const role of roles) role.addToPrincipalPolicy(vpcAccessStatement());
  const securityGroups: ec2.ISecurityGroup[] = settings.securityGroups ?? [createFunctionsSecurityGroup(scope, settings.vpc)];
  return { vpc: settings.vpc, vpcSubnets: settings.vpcSubnets, securityGroups };
}

/**
 * The permissions Lambda uses, with the function's role, to manage a VPC function's network
 * interfaces: the EC2 actions of the AWS managed AWSLambdaVPCAccessExecutionRole, which the
 * construct cannot attach (cdk-nag AwsSolutions-IAM4) and Lambda does not add to a role it is given.
 * The Describe actions support no resource-level permissions, and the interfaces are made by Lambda.
 */
function vpcAccessStatement(): iam.PolicyStatement {
  return new iam.PolicyStatement({
    sid: 'ManageVpcNetworkInterfaces',
    actions: [
      'ec2:CreateNetworkInterface',
      'ec2:DescribeNetworkInterfaces',
      'ec2:DescribeSubnets',
      'ec2:DeleteNetworkInterface',
      'ec2:AssignPrivateIpAddresses',
      'ec2:UnassignPrivateIpAddresses',
    ],
    resources: ['*'],
  });
}

/** The security group of every function when the user gives a VPC but none: outbound HTTPS only, no inbound. */
function createFunctionsSecurityGroup(scope: Construct, vpc: ec2.IVpc): ec2.SecurityGroup {
  const group = new ec2.SecurityGroup(scope, 'SecurityGroup', {
    vpc,
    description: 'ProvisionedProductProperties provider functions: outbound HTTPS to AWS APIs only',
    allowAllOutbound: false,
  });
  group.addEgressRule(
    ec2.Peer.anyIpv4(),
    ec2.Port.tcp(443),
    "HTTPS to AWS APIs (VPC endpoints or a NAT gateway) and to CloudFormation's response URL in S3",
  );
  return group;
}
