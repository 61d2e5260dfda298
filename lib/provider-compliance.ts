/**
 * What regulated accounts need of the provider beyond aws-cdk-lib's Provider props: the framework functions' memory, concurrency, tracing and dead-letter queue, the waiter's tracing, network and log-key grants.
 */
import { Annotations, ArnFormat, Duration, Stack, Token } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type * as cr from 'aws-cdk-lib/custom-resources';
import type { Construct } from 'constructs';

/** The memory of the framework's functions: the framework's own default, now explicit. They only relay calls. */
export const FRAMEWORK_MEMORY_MB = 128;

/** How long the dead-letter queue keeps an event: SQS's maximum, so that a person has two weeks to see it. */
export const DEAD_LETTER_RETENTION = Duration.days(14);

/** Name prefixes of the provider's log groups (the stack's uuid follows), which the log key's grant is limited to. */
export const LOG_GROUP_PREFIX = {
  functions: '/aws/lambda/provisioned-product-properties-',
  waiter: '/aws/vendedlogs/states/provisioned-product-properties-',
} as const;

/**
 * The permissions Lambda uses, with the function's role, to manage a VPC function's network
 * interfaces: the EC2 actions of the AWS managed AWSLambdaVPCAccessExecutionRole, which the
 * construct cannot attach (cdk-nag AwsSolutions-IAM4) and Lambda does not add to a role it is given.
 * The Describe actions support no resource-level permissions, and the interfaces are made by Lambda.
 */
export function vpcAccessStatement(): iam.PolicyStatement {
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

/** What lambda.Function grants a role for active tracing (X-Ray actions support no resource-level permissions). */
function lambdaTracingStatement(): iam.PolicyStatement {
  return new iam.PolicyStatement({ actions: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'], resources: ['*'] });
}

/** The security group of every function when the user gives a VPC but none: outbound HTTPS only, no inbound. */
export function createFunctionsSecurityGroup(scope: Construct, vpc: ec2.IVpc): ec2.SecurityGroup {
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

/**
 * The queue that receives a CloudFormation event the framework's onEvent function could not
 * handle after Lambda's retries of the asynchronous invocation (the function crashed or timed
 * out, could not answer CloudFormation, or was throttled for Lambda's maximum event age): a
 * person can see it there, with the event, instead of it vanishing. Encrypted by SQS, TLS only.
 */
export function createDeadLetterQueue(scope: Construct): sqs.Queue {
  return new sqs.Queue(scope, 'DeadLetterQueue', {
    encryption: sqs.QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
    retentionPeriod: DEAD_LETTER_RETENTION,
  });
}

/** What the framework's functions get that the Provider does not expose. */
export interface FrameworkFunctionOptions {
  readonly reservedConcurrency?: number;
  readonly tracing: boolean;
  /** The queue for the function CloudFormation invokes asynchronously. */
  readonly deadLetterQueue: sqs.IQueue;
  /** How long the waiter may wait on one event (the provider's totalTimeout). */
  readonly totalTimeout: Duration;
}

/** CloudFormation's wait for a custom resource's answer: an hour, after which it fails the request and rolls back. */
const CLOUDFORMATION_WAIT_SECONDS = 3600;
/** Time for the framework's onEvent and the handler's onEvent (at most its 60 s timeout) before the waiter starts. */
const ON_EVENT_MARGIN_SECONDS = 120;

/**
 * The oldest CloudFormation event the framework's onEvent may still start on. Lambda keeps an
 * asynchronous event it could not run (throttled: reserved concurrency, the account's limit) for
 * up to 6 hours by default. An event that starts late can still be writing after CloudFormation
 * has given up on it and rolled back, leaving values no stack declares. Starting no later than
 * the hour minus the waiter's totalTimeout and onEvent's time ends every write within the hour;
 * Lambda sends an older event to the dead-letter queue instead. 60 s is Lambda's minimum.
 */
export function maxEventAge(totalTimeout: Duration): Duration {
  return Duration.seconds(Math.max(60, CLOUDFORMATION_WAIT_SECONDS - totalTimeout.toSeconds() - ON_EVENT_MARGIN_SECONDS));
}

/**
 * Sets, on the framework's three functions (found as the Provider's lambda.Function children),
 * what aws-cdk-lib's Provider has no prop for, through their CfnFunction: an explicit memory size,
 * the reserved concurrency, active tracing (with the permissions lambda.Function would add), and on
 * the function CloudFormation invokes (the one behind the service token) the dead-letter queue
 * (with sqs:SendMessage, as lambda.Function grants) and the {@link maxEventAge}. Returns the functions.
 */
export function configureFrameworkFunctions(provider: cr.Provider, o: FrameworkFunctionOptions): lambda.Function[] {
  const functions = provider.node.children.filter((c): c is lambda.Function => c instanceof lambda.Function);
  const entry = functions.find((fn) => fn.functionArn === provider.serviceToken);
  if (functions.length === 0 || !entry) {
    throw new Error(
      `ProvisionedProductProperties: the aws-cdk-lib provider framework at ${provider.node.path} no longer has the functions this construct configures. ` +
        'This version of cdk-provisioned-product-properties does not support your aws-cdk-lib: use the aws-cdk-lib version its peerDependencies name.',
    );
  }
  const tracedRoles = new Set<iam.IRole>();
  for (const fn of functions) {
    const cfn = fn.node.defaultChild as lambda.CfnFunction;
    cfn.memorySize = FRAMEWORK_MEMORY_MB;
    if (o.reservedConcurrency !== undefined) cfn.reservedConcurrentExecutions = o.reservedConcurrency;
    if (o.tracing) {
      cfn.tracingConfig = { mode: lambda.Tracing.ACTIVE };
      if (fn.role && !tracedRoles.has(fn.role)) fn.addToRolePolicy(lambdaTracingStatement());
      if (fn.role) tracedRoles.add(fn.role);
    }
  }
  (entry.node.defaultChild as lambda.CfnFunction).deadLetterConfig = { targetArn: o.deadLetterQueue.queueArn };
  entry.configureAsyncInvoke({ maxEventAge: maxEventAge(o.totalTimeout) });
  entry.addToRolePolicy(new iam.PolicyStatement({ actions: ['sqs:SendMessage'], resources: [o.deadLetterQueue.queueArn] }));
  return functions;
}

/** Turns on X-Ray tracing of the framework's waiter, with the permissions sfn.StateMachine would add for it. */
export function traceWaiter(waiter: sfn.CfnStateMachine, role: iam.IRole): void {
  waiter.tracingConfiguration = { enabled: true };
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      actions: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords', 'xray:GetSamplingRules', 'xray:GetSamplingTargets'],
      resources: ['*'],
    }),
  );
}

/**
 * Lets CloudWatch Logs use `key` for the provider's log groups: the key-policy statement of the
 * CloudWatch Logs documentation, for this region's logs service, limited by the encryption context
 * to log groups named with the provider's prefixes in this account and region. The group names
 * are matched by prefix, not by the stack's uuid, because the key's policy must not refer to this
 * stack (the key is created first, and may be in another stack). For an imported key, whose policy
 * the app cannot change, warns at synth with the statement to add.
 */
export function grantLogEncryption(scope: Construct, key: kms.IKey): void {
  const stack = Stack.of(scope);
  const groups = Object.values(LOG_GROUP_PREFIX).map((prefix) =>
    stack.formatArn({ service: 'logs', resource: 'log-group', resourceName: `${prefix}*`, arnFormat: ArnFormat.COLON_RESOURCE_NAME }),
  );
  const principal = `logs.${stack.region}.amazonaws.com`;
  const { statementAdded } = key.addToResourcePolicy(
    new iam.PolicyStatement({
      principals: [new iam.ServicePrincipal(principal)],
      actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
      resources: ['*'],
      conditions: { ArnLike: { 'kms:EncryptionContext:aws:logs:arn': groups } },
    }),
  );
  if (!statementAdded) {
    const literal = (v: string, placeholder: string) => (Token.isUnresolved(v) ? placeholder : v);
    const said = Object.values(LOG_GROUP_PREFIX).map(
      (prefix) =>
        `arn:${literal(stack.partition, '<partition>')}:logs:${literal(stack.region, '<region>')}:${literal(stack.account, '<account>')}:log-group:${prefix}*`,
    );
    Annotations.of(scope).addWarningV2(
      'cdk-provisioned-product-properties:logEncryptionKeyPolicy',
      `logEncryptionKey ${key.node.path} is imported, so the app cannot change its key policy: CloudWatch Logs must be allowed to use the key, or the provider's log groups fail to create. ` +
        `Add to the key policy an Allow of kms:Encrypt*, kms:Decrypt*, kms:ReEncrypt*, kms:GenerateDataKey*, kms:Describe* on * for the service principal logs.${literal(stack.region, '<region>')}.amazonaws.com, ` +
        `with the condition ArnLike kms:EncryptionContext:aws:logs:arn ${said.join(' or ')} (see the README's Compliance section).`,
    );
  }
}
