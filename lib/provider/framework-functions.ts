/**
 * The provider framework's own functions: their roles, and what aws-cdk-lib's Provider has no prop for (memory, concurrency, tracing, the dead-letter queue, the event age).
 */
import { Duration } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as cr from 'aws-cdk-lib/custom-resources';
import type { Construct } from 'constructs';
import { ManagedPolicyRole } from './managed-policy-role';

/**
 * The construct ids aws-cdk-lib's Provider gives its children (checked in aws-cdk-lib 2.276.0),
 * in one place: the provider reaches into them to set what the Provider has no prop for.
 */
export const FRAMEWORK_CONSTRUCT_IDS = {
  waiter: 'waiter-state-machine',
  waiterRole: 'Role',
  isComplete: 'framework-isComplete',
  onTimeout: 'framework-onTimeout',
} as const;

/** The memory of the framework's functions: the framework's own default, now explicit. They only relay calls. */
const FRAMEWORK_MEMORY_MB = 128;

/** How long the dead-letter queue keeps an event: SQS's maximum, so that a person has two weeks to see it. */
const DEAD_LETTER_RETENTION = Duration.days(14);

/** CloudFormation's wait for a custom resource's answer: an hour, after which it fails the request and rolls back. */
const CLOUDFORMATION_WAIT_SECONDS = 3600;
/** Time for the framework's onEvent and the handler's onEvent (at most its 60 s timeout) before the waiter starts. */
const ON_EVENT_MARGIN_SECONDS = 120;

/** The roles of the framework's two kinds of function. */
export interface FrameworkRoles {
  readonly onEvent: iam.Role;
  readonly completeAndTimeout: iam.Role;
}

/**
 * The framework's own functions get roles from here rather than their default ones, which carry
 * the AWSLambdaBasicExecutionRole managed policy (logs on every log group): they log to the
 * provider's log group, and may write to it only. Two roles, as the framework requires (one role
 * for both would make a dependency cycle through the waiter state machine).
 */
export function createFrameworkRoles(scope: Construct, logGroup: logs.ILogGroup): FrameworkRoles {
  const role = (id: string, description: string): iam.Role => {
    const created = new ManagedPolicyRole(scope, id, { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'), description });
    logGroup.grantWrite(created);
    return created;
  };
  return {
    onEvent: role('FrameworkOnEventRole', 'ProvisionedProductProperties provider framework: onEvent'),
    completeAndTimeout: role(
      'FrameworkCompleteAndTimeoutRole',
      'ProvisionedProductProperties provider framework: isComplete and onTimeout',
    ),
  };
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

/**
 * The oldest CloudFormation event the framework's onEvent may still start on. Lambda keeps an
 * asynchronous event it could not run (throttled: reserved concurrency, the account's limit) for
 * up to 6 hours by default. An event that starts late can still be writing after CloudFormation
 * has given up on it and rolled back, leaving values no stack declares. Starting no later than
 * the hour minus the waiter's totalTimeout and onEvent's time ends every write within the hour;
 * Lambda sends an older event to the dead-letter queue instead. 60 s is Lambda's minimum.
 */
function maxEventAge(totalTimeout: Duration): Duration {
  return Duration.seconds(Math.max(60, CLOUDFORMATION_WAIT_SECONDS - totalTimeout.toSeconds() - ON_EVENT_MARGIN_SECONDS));
}

/** What lambda.Function grants a role for active tracing (X-Ray actions support no resource-level permissions). */
function lambdaTracingStatement(): iam.PolicyStatement {
  return new iam.PolicyStatement({ actions: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'], resources: ['*'] });
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
