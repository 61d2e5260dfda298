/**
 * The cdk-nag findings the shared provider cannot fix, acknowledged one by one on the resource that has each.
 *
 * A user who applies a pack (AwsSolutions, Serverless, NIST 800-53 R5, HIPAA Security, PCI DSS
 * 3.2.1) to an app sees from this construct only findings one of its options resolves (none in
 * AwsSolutions), and keeps all of their own: every acknowledgement names the exact finding (down
 * to the policy resource for IAM5) and sits on the construct that has it, never higher.
 */
import { Stack, Validations } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as cr from 'aws-cdk-lib/custom-resources';
import type { IConstruct } from 'constructs';
import { FRAMEWORK_CONSTRUCT_IDS } from './framework-functions';
import type { ProviderSettings } from './provider-settings';

/** The provider's resources that carry findings. */
export interface ProviderResources {
  /** The roles of the two handler functions. */
  readonly handlerRoles: readonly iam.IRole[];
  /** The role that writes, and passes launch roles. */
  readonly isCompleteRole: iam.IRole;
  /** The ARN pattern of the roles isComplete may pass to Service Catalog. */
  readonly passRoleResource: string;
  /** The ledger table (its findings, if any, are acknowledged here). */
  readonly ledger: dynamodb.ITable;
  /** The roles of the framework's own functions. */
  readonly frameworkRoles: readonly iam.IRole[];
  /** The onEvent and isComplete handler functions. */
  readonly handlers: readonly lambda.IFunction[];
  /** The framework's onEvent, isComplete and onTimeout functions. */
  readonly frameworkFunctions: readonly lambda.IFunction[];
  /** The dead-letter queue of the framework's onEvent function. */
  readonly deadLetterQueue: sqs.IQueue;
  /** The aws-cdk-lib provider. */
  readonly provider: cr.Provider;
  /** The provider's settings: tracing and the VPC add wildcard permissions. */
  readonly settings: ProviderSettings;
}

/** The packs (cdk-nag pack names, the prefix of their rule ids) that have each rule acknowledged here besides AwsSolutions. */
const PACKS_WITH = {
  LambdaDLQ: ['Serverless', 'NIST.800.53.R5', 'HIPAA.Security'],
  SQSRedrivePolicy: ['Serverless'],
  LambdaAsyncFailureDestination: ['Serverless'],
  DynamoDBInBackupPlan: ['NIST.800.53.R5', 'HIPAA.Security'],
} as const;

/** Acknowledges `rule` in every pack that has it, on `scope`. */
function acknowledgeInEveryPack(scope: IConstruct, rule: keyof typeof PACKS_WITH, reason: string): void {
  for (const pack of PACKS_WITH[rule]) Validations.of(scope).acknowledge({ id: `${pack}-${rule}`, reason });
}

/** Why a role's statements on `*` cannot name resources, for the reasons that apply. */
function wildcardReason(first: string | undefined, settings: ProviderSettings, xrayActions: string): string {
  return [
    first,
    settings.tracing
      ? `${xrayActions} for X-Ray active tracing (the construct's tracing option) support no resource-level permissions.`
      : undefined,
    settings.vpc
      ? "ec2:CreateNetworkInterface, DescribeNetworkInterfaces, DescribeSubnets, DeleteNetworkInterface, Assign/UnassignPrivateIpAddresses (the construct's vpc option): Lambda manages the function's network interfaces with its role, the Describe actions support no resource-level permissions, and the interfaces are created by Lambda (AWSLambdaVPCAccessExecutionRole grants the same on *)."
      : undefined,
  ]
    .filter((x) => x !== undefined)
    .join(' ');
}

/** Acknowledges the findings of the provider's resources that the provider cannot fix. */
export function acknowledgeNagFindings(scope: IConstruct, r: ProviderResources): void {
  const lambdaXray = 'xray:PutTraceSegments and PutTelemetryRecords';
  for (const role of r.handlerRoles) {
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: wildcardReason(
        'servicecatalog:DescribeProvisionedProduct, SearchProvisionedProducts, UpdateProvisionedProductProperties and DescribeRecord support no resource-level permissions, so their resource must be *.',
        r.settings,
        lambdaXray,
      ),
    });
  }
  Validations.of(r.isCompleteRole).acknowledge({
    id: `AwsSolutions-IAM5[${nagResource(scope, r.passRoleResource)}]`,
    reason:
      "iam:PassRole on this account's roles, only to servicecatalog.amazonaws.com (iam:PassedToService): Delete restores the product's prior launch role, which is only known at deploy time, so the role cannot be named at synth.",
  });
  for (const grantee of r.frameworkRoles) {
    if (r.settings.tracing || r.settings.vpc) {
      Validations.of(grantee).acknowledge({
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason: wildcardReason(undefined, r.settings, lambdaXray),
      });
    }
  }
  // grantInvoke by the framework: the function and every version and alias of it (`<arn>:*`).
  for (const grantee of r.frameworkRoles) {
    for (const handler of r.handlers) {
      Validations.of(grantee).acknowledge({
        id: `AwsSolutions-IAM5[${nagResource(scope, `${handler.functionArn}:*`)}]`,
        reason:
          'Added by the aws-cdk-lib provider framework (custom-resources Provider): lambda:InvokeFunction on the handler function and its versions and aliases (<arn>:*).',
      });
    }
  }
  // The waiter state machine is the framework's own; if a later aws-cdk-lib moves it, acknowledging
  // on the provider keeps these findings just as narrow.
  const waiter = r.provider.node.tryFindChild(FRAMEWORK_CONSTRUCT_IDS.waiter) ?? r.provider;
  for (const child of [FRAMEWORK_CONSTRUCT_IDS.isComplete, FRAMEWORK_CONSTRUCT_IDS.onTimeout]) {
    const fn = r.provider.node.tryFindChild(child) as lambda.IFunction | undefined;
    if (!fn) continue;
    Validations.of(waiter).acknowledge({
      id: `AwsSolutions-IAM5[${nagResource(scope, `${fn.functionArn}:*`)}]`,
      reason:
        "Added by the aws-cdk-lib provider framework's waiter state machine: lambda:InvokeFunction on its own isComplete and onTimeout functions and their versions and aliases (<arn>:*).",
    });
  }
  Validations.of(waiter).acknowledge({
    id: 'AwsSolutions-IAM5[Resource::*]',
    reason: wildcardReason(
      "Added by the aws-cdk-lib provider framework's waiter state machine for its logging: the CloudWatch Logs log-delivery actions Step Functions needs (logs:CreateLogDelivery, GetLogDelivery, ...) support no resource-level permissions.",
      r.settings,
      'xray:PutTraceSegments, PutTelemetryRecords, GetSamplingRules and GetSamplingTargets',
    ),
  });
  if (!r.settings.tracing) {
    Validations.of(waiter).acknowledge({
      id: 'AwsSolutions-SF2',
      reason:
        "X-Ray tracing of the waiter state machine is off unless the construct's tracing option is set (it turns on tracing of the waiter and of every function; the Serverless pack's StepFunctionStateMachineXray and LambdaTracing then pass). Without it the waiter, a fixed retry loop around the isComplete function, logs every execution event (level ALL) and the handler logs every decision.",
    });
  }

  // A dead-letter queue catches what exhausted the retries of an asynchronous invocation. Only the
  // framework's onEvent function is invoked so (by CloudFormation); it has the queue.
  const entry = r.provider.serviceToken;
  for (const fn of [...r.handlers, ...r.frameworkFunctions].filter((f) => f.functionArn !== entry)) {
    acknowledgeInEveryPack(
      fn,
      'LambdaDLQ',
      'Invoked only synchronously (the handlers by the framework functions, the framework isComplete and onTimeout by the waiter state machine), so a dead-letter queue would never receive anything: the caller gets the error and retries or reports it. The one function invoked asynchronously, the framework onEvent that CloudFormation calls, has a dead-letter queue.',
    );
  }
  // The onEvent function's asynchronous-invocation settings exist for their maximum event age; the
  // dead-letter queue already receives what fails.
  const asyncConfig = r.frameworkFunctions.find((f) => f.functionArn === entry)?.node.tryFindChild('EventInvokeConfig');
  if (asyncConfig) {
    acknowledgeInEveryPack(
      asyncConfig,
      'LambdaAsyncFailureDestination',
      "The function has a dead-letter queue, which receives every event that fails or grows too old. An on-failure destination on the same queue would deliver each such event twice; this EventInvokeConfig exists only to cap the event's age (the provider's maxEventAge).",
    );
  }
  acknowledgeInEveryPack(
    r.ledger,
    'DynamoDBInBackupPlan',
    "The ledger has point-in-time recovery (35 days) and holds nothing that cannot be rebuilt: each request's record lives a day, and every resource's priors are also in its physical id, which CloudFormation keeps; a resource whose entry is lost gets it again from its physical id at its next Update or Delete. An AWS Backup plan is the account's to choose: add the table to one with its tableArn if your policy asks for it.",
  );
  acknowledgeInEveryPack(
    r.deadLetterQueue,
    'SQSRedrivePolicy',
    "This queue is itself the dead-letter queue of the provider's asynchronously invoked function; nothing consumes it, so a redrive policy (a dead-letter queue of its own) would never move a message. A person reads it.",
  );
}

/**
 * A policy resource as cdk-nag names it in a finding (`Resource::<LogicalId.Arn>:*`): the
 * resolved value with Ref and Fn::GetAtt written `<...>` and Fn::Join flattened. Acknowledging that
 * exact text leaves every other wildcard of the same rule reported.
 */
function nagResource(scope: IConstruct, value: string): string {
  const flatten = (node: unknown): string => {
    if (typeof node === 'string') return node.replace(/\$\{/g, '<').replace(/}/g, '>');
    const o = (node ?? {}) as Record<string, unknown>;
    if (Array.isArray(o['Fn::Join'])) {
      const [delimiter, items] = o['Fn::Join'] as [string, unknown[]];
      return items.map(flatten).join(delimiter);
    }
    if (Array.isArray(o['Fn::GetAtt'])) {
      const [resource, attribute] = o['Fn::GetAtt'] as unknown[];
      return `<${flatten(resource)}.${flatten(attribute)}>`;
    }
    if (o.Ref !== undefined) return `<${flatten(o.Ref)}>`;
    return JSON.stringify(node);
  };
  return `Resource::${flatten(Stack.of(scope).resolve(value))}`;
}
