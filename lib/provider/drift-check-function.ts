/**
 * The drift check's function, role and schedule (only when the provider's driftCheck is set): the handler bundle's checkDrift entry, run by an EventBridge rule.
 */
import { Duration, Stack } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import type { DriftCheck } from '../drift-check';
import { DRIFT, HANDLER_ENTRY, HANDLER_TIMING, LEDGER, SERVICE_NAME } from '../contract';
import { HANDLER_DIR } from './handler-functions';
import { ManagedPolicyRole } from './managed-policy-role';
import type { FunctionNetwork } from './network';

/** A check reads products one after another and may wait on restore records: minutes, not the handlers' one. */
const CHECK_TIMEOUT = Duration.minutes(10);

/** The ledger actions of the check: list the resources (Scan), and record what it found and its write lease (UpdateItem, GetItem). */
const CHECK_LEDGER_ACTIONS = ['dynamodb:Scan', 'dynamodb:GetItem', 'dynamodb:UpdateItem'];

/**
 * The check's role: reads products; with restore also writes them and passes launch roles, like
 * isComplete's; the ledger actions above on the ledger only.
 */
export function createDriftCheckRole(scope: Construct, check: DriftCheck, passRoleResource: string): iam.Role {
  const role = new ManagedPolicyRole(scope, 'DriftCheckRole', {
    assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
    description: check.restore
      ? 'ProvisionedProductProperties drift check: reads the owner and launch role of the managed products and restores the declared ones'
      : 'ProvisionedProductProperties drift check: reads the owner and launch role of the managed products',
  });
  role.addToPolicy(
    new iam.PolicyStatement({
      sid: 'ReadProvisionedProducts',
      actions: ['servicecatalog:DescribeProvisionedProduct', 'servicecatalog:SearchProvisionedProducts'],
      resources: ['*'],
    }),
  );
  if (check.restore) {
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'RestoreDeclaredValues',
        actions: ['servicecatalog:UpdateProvisionedProductProperties', 'servicecatalog:DescribeRecord'],
        resources: ['*'],
      }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'PassLaunchRolesToServiceCatalog',
        actions: ['iam:PassRole'],
        resources: [passRoleResource],
        conditions: { StringEquals: { 'iam:PassedToService': 'servicecatalog.amazonaws.com' } },
      }),
    );
  }
  return role;
}

/** What the check's function is built from. */
export interface DriftCheckFunctionProps {
  readonly check: DriftCheck;
  readonly role: iam.Role;
  readonly ledger: dynamodb.Table;
  readonly logGroup: logs.ILogGroup;
  readonly network: FunctionNetwork;
  readonly tracing: boolean;
  /** The provider's dead-letter queue: a check that failed Lambda's retries lands there. */
  readonly deadLetterQueue: sqs.IQueue;
  /** The provider's reserved concurrency: when the stack reserves some, the check reserves one. */
  readonly reservedConcurrency?: number;
}

/** The check's function and its schedule. */
export function createDriftCheckFunction(scope: Construct, props: DriftCheckFunctionProps): lambda.Function {
  const { check, role, ledger } = props;
  iam.Grant.addToPrincipal({ grantee: role, actions: CHECK_LEDGER_ACTIONS, resourceArns: [ledger.tableArn] });
  ledger.encryptionKey?.grant(role, 'kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey');
  props.logGroup.grantWrite(role);
  const fn = new lambda.Function(scope, 'DriftCheck', {
    code: lambda.Code.fromAsset(HANDLER_DIR),
    handler: HANDLER_ENTRY.checkDrift,
    description: 'ProvisionedProductProperties: compares the managed products with what the stack declares',
    runtime: lambda.Runtime.NODEJS_24_X,
    architecture: lambda.Architecture.ARM_64,
    memorySize: 256,
    timeout: CHECK_TIMEOUT,
    role,
    logGroup: props.logGroup,
    loggingFormat: lambda.LoggingFormat.JSON,
    environment: {
      POWERTOOLS_SERVICE_NAME: SERVICE_NAME,
      POWERTOOLS_LOG_LEVEL: 'INFO',
      [HANDLER_TIMING.pollIntervalMs.env]: String(HANDLER_TIMING.pollIntervalMs.default),
      [HANDLER_TIMING.writeLeaseMs.env]: String(HANDLER_TIMING.writeLeaseMs.default),
      [LEDGER.tableEnv]: ledger.tableName,
      [DRIFT.stackNameEnv]: Stack.of(scope).stackName,
      [DRIFT.actionEnv]: check.restore ? 'restore' : 'report',
    },
    // Where the stack reserves concurrency, the check takes one: one check at a time (Lambda keeps a
    // throttled scheduled event and retries it). Otherwise none, as the handlers: an account with
    // Lambda's minimum unreserved concurrency cannot reserve any.
    reservedConcurrentExecutions: props.reservedConcurrency !== undefined ? 1 : undefined,
    deadLetterQueue: props.deadLetterQueue,
    tracing: props.tracing ? lambda.Tracing.ACTIVE : undefined,
    ...props.network,
  });
  new events.Rule(scope, 'DriftCheckSchedule', {
    description: `ProvisionedProductProperties drift check, every ${check.interval.toHumanString()}`,
    schedule: events.Schedule.rate(check.interval),
    targets: [new targets.LambdaFunction(fn, { deadLetterQueue: props.deadLetterQueue })],
  });
  return fn;
}
