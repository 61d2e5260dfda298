/**
 * The cdk-nag findings the shared provider cannot fix, acknowledged one by one on the resource that has each.
 *
 * A user who applies a pack (AwsSolutions, Serverless, NIST 800-53 R5, HIPAA Security, PCI DSS
 * 3.2.1) to an app sees from this construct only findings one of its options resolves (none in
 * AwsSolutions), and keeps all of their own: every acknowledgement names the exact finding (down
 * to the policy resource for IAM5) and sits on the construct that has it, never higher.
 *
 * One list of acknowledgements ({@link NagAcknowledgement}: rule id, reason, findings) per
 * construct, given to {@link acknowledge}, reaches both cdk-nag majors, with no dependency on
 * cdk-nag:
 * - cdk-nag 3 reads aws-cdk-lib's acknowledgements (`Validations.of(scope).acknowledge`, one per
 *   finding, `AwsSolutions-IAM5[Resource::*]`) on the resource or any construct above it. It does
 *   not read the `cdk_nag` metadata below (its opt-in WriteNagSuppressionsToCloudFormationAspect
 *   only writes it, replacing what is there, from the acknowledgements), so nothing counts twice.
 * - cdk-nag 2 reads only the `cdk_nag: { rules_to_suppress: [{ id, reason, applies_to? }] }`
 *   metadata of the CfnResource itself (and of its stack), the form NagSuppressions writes: so it
 *   is written on every CfnResource at or below the construct, as NagSuppressions'
 *   applyToChildren does, merged with what is there. It ignores the acknowledgements.
 * aws-cdk-lib versions older than the acknowledgement API get the metadata only, which is all
 * cdk-nag 2 (the only major they can run) reads.
 */
import * as cdk from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as cr from 'aws-cdk-lib/custom-resources';
import type { IConstruct } from 'constructs';
import { FRAMEWORK_CONSTRUCT_IDS } from './framework-functions';
import type { ProviderSettings } from './provider-settings';

/** One cdk-nag rule (or some of its findings) acknowledged on a construct, with why. */
export interface NagAcknowledgement {
  /** The rule id, its pack's prefix included and no finding: `AwsSolutions-IAM5`, `Serverless-LambdaDLQ`. */
  readonly id: string;
  /** Why the rule cannot apply here (cdk-nag 2 wants at least 10 characters). */
  readonly reason: string;
  /**
   * For a rule that reports findings (IAM5's `AwsSolutions-IAM5[Resource::*]`), the findings
   * acknowledged, exactly as cdk-nag names them (`Resource::*`). Without it the whole rule is.
   */
  readonly appliesTo?: readonly string[];
}

/** aws-cdk-lib's acknowledgement API, which older aws-cdk-lib versions do not have. */
interface AcknowledgementApi {
  of(scope: IConstruct): { acknowledge(...rules: Array<{ id: string; reason: string }>): void };
}

/** The `cdk_nag` metadata's form of one suppression, as cdk-nag 2's NagSuppressions writes it. */
interface CfnSuppression {
  readonly reason: string;
  readonly id: string;
  readonly applies_to?: readonly string[];
  readonly is_reason_encoded?: boolean;
}

/** The metadata key cdk-nag 2 reads suppressions from. */
const CDK_NAG_METADATA = 'cdk_nag';

/**
 * Acknowledges `acknowledgements` on `scope` (and so on everything below it) for both cdk-nag
 * majors: aws-cdk-lib's acknowledgement per finding, and the `cdk_nag` metadata on every
 * CfnResource at or below `scope`. Call it once the resources below `scope` exist: the metadata
 * is written now.
 */
export function acknowledge(scope: IConstruct, acknowledgements: readonly NagAcknowledgement[]): void {
  const validations = (cdk as unknown as { Validations?: AcknowledgementApi }).Validations;
  for (const a of acknowledgements) {
    const ids = a.appliesTo ? a.appliesTo.map((finding) => `${a.id}[${finding}]`) : [a.id];
    for (const id of ids) validations?.of(scope).acknowledge({ id, reason: a.reason });
  }
  const suppressions = acknowledgements.map(toCfnSuppression);
  for (const resource of scope.node.findAll().filter(cdk.CfnResource.isCfnResource)) {
    const metadata = (resource.getMetadata(CDK_NAG_METADATA) ?? {}) as { rules_to_suppress?: CfnSuppression[] };
    const merged = [...(metadata.rules_to_suppress ?? []), ...suppressions].map((x) => JSON.stringify(x));
    resource.addMetadata(CDK_NAG_METADATA, {
      ...metadata,
      rules_to_suppress: [...new Set(merged)].map((x) => JSON.parse(x) as CfnSuppression),
    });
  }
}

/** One acknowledgement in the metadata's form, its reason base64-encoded where cdk-nag 2 would (a character past Latin-1). */
function toCfnSuppression(a: NagAcknowledgement): CfnSuppression {
  const encode = [...a.reason].some((c) => (c.codePointAt(0) ?? 0) > 255);
  return {
    reason: encode ? Buffer.from(a.reason).toString('base64') : a.reason,
    id: a.id,
    ...(a.appliesTo ? { applies_to: [...a.appliesTo] } : {}),
    ...(encode ? { is_reason_encoded: true } : {}),
  };
}

/** The provider's resources that carry findings. */
export interface ProviderResources {
  /** The roles of the two handler functions. */
  readonly handlerRoles: readonly iam.IRole[];
  /** The roles that write, and pass launch roles (isComplete's, and the drift check's when it restores). */
  readonly passRoles: readonly iam.IRole[];
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
  acknowledge(
    scope,
    PACKS_WITH[rule].map((pack) => ({ id: `${pack}-${rule}`, reason })),
  );
}

/** The IAM5 findings `resources` (policy resources as cdk-nag names them) acknowledged with `reason`. */
function iam5(reason: string, ...resources: string[]): NagAcknowledgement {
  return { id: 'AwsSolutions-IAM5', reason, appliesTo: resources };
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
    acknowledge(role, [
      iam5(
        wildcardReason(
          'servicecatalog:DescribeProvisionedProduct, SearchProvisionedProducts, UpdateProvisionedProductProperties and DescribeRecord support no resource-level permissions, so their resource must be *.',
          r.settings,
          lambdaXray,
        ),
        'Resource::*',
      ),
    ]);
  }
  for (const role of r.passRoles) {
    acknowledge(role, [
      iam5(
        "iam:PassRole on this account's roles, only to servicecatalog.amazonaws.com (iam:PassedToService): Delete restores the product's prior launch role, which is only known at deploy time, so the role cannot be named at synth.",
        nagResource(scope, r.passRoleResource),
      ),
    ]);
  }
  for (const grantee of r.frameworkRoles) {
    acknowledge(grantee, [
      ...(r.settings.tracing || r.settings.vpc ? [iam5(wildcardReason(undefined, r.settings, lambdaXray), 'Resource::*')] : []),
      // grantInvoke by the framework: the function and every version and alias of it (`<arn>:*`).
      iam5(
        'Added by the aws-cdk-lib provider framework (custom-resources Provider): lambda:InvokeFunction on the handler function and its versions and aliases (<arn>:*).',
        ...r.handlers.map((handler) => nagResource(scope, `${handler.functionArn}:*`)),
      ),
    ]);
  }
  // The waiter state machine is the framework's own; if a later aws-cdk-lib moves it, acknowledging
  // on the provider keeps these findings just as narrow.
  const waiter = r.provider.node.tryFindChild(FRAMEWORK_CONSTRUCT_IDS.waiter) ?? r.provider;
  const waiterInvokes = [FRAMEWORK_CONSTRUCT_IDS.isComplete, FRAMEWORK_CONSTRUCT_IDS.onTimeout]
    .map((child) => r.provider.node.tryFindChild(child) as lambda.IFunction | undefined)
    .filter((fn): fn is lambda.IFunction => fn !== undefined)
    .map((fn) => nagResource(scope, `${fn.functionArn}:*`));
  acknowledge(waiter, [
    ...(waiterInvokes.length > 0
      ? [
          iam5(
            "Added by the aws-cdk-lib provider framework's waiter state machine: lambda:InvokeFunction on its own isComplete and onTimeout functions and their versions and aliases (<arn>:*).",
            ...waiterInvokes,
          ),
        ]
      : []),
    iam5(
      wildcardReason(
        "Added by the aws-cdk-lib provider framework's waiter state machine for its logging: the CloudWatch Logs log-delivery actions Step Functions needs (logs:CreateLogDelivery, GetLogDelivery, ...) support no resource-level permissions.",
        r.settings,
        'xray:PutTraceSegments, PutTelemetryRecords, GetSamplingRules and GetSamplingTargets',
      ),
      'Resource::*',
    ),
    ...(r.settings.tracing
      ? []
      : [
          {
            id: 'AwsSolutions-SF2',
            reason:
              "X-Ray tracing of the waiter state machine is off unless the construct's tracing option is set (it turns on tracing of the waiter and of every function; the Serverless pack's StepFunctionStateMachineXray and LambdaTracing then pass). Without it the waiter, a fixed retry loop around the isComplete function, logs every execution event (level ALL) and the handler logs every decision.",
          },
        ]),
  ]);

  // The framework's functions run the Node.js runtime aws-cdk-lib's Provider picks for the code it
  // ships; before aws-cdk-lib 2.259.0 that is not the newest it knows (nodejs22.x while it knows
  // nodejs24.x), which the latest-runtime rules report. Acknowledged only where that is so.
  const newest = newestNodeRuntime();
  for (const fn of r.frameworkFunctions) {
    const runtime = (fn.node.defaultChild as lambda.CfnFunction | undefined)?.runtime;
    if (newest === undefined || runtime === undefined || runtime === newest) continue;
    const reason = `The aws-cdk-lib provider framework's own function runs the runtime this aws-cdk-lib's custom-resources Provider picks for the framework code it ships (${runtime}), older than the newest it knows (${newest}); aws-cdk-lib 2.259.0 and later pick the newest. The construct's own handlers run ${newest}.`;
    acknowledge(fn, [
      { id: 'AwsSolutions-L1', reason },
      { id: 'Serverless-LambdaLatestVersion', reason },
    ]);
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

/** The newest Node.js runtime the installed aws-cdk-lib knows (what cdk-nag's latest-runtime rules compare with). */
function newestNodeRuntime(): string | undefined {
  return lambda.Runtime.ALL.filter((rt) => rt.family === lambda.RuntimeFamily.NODEJS)
    .map((rt) => rt.name)
    .sort((a, b) => a.localeCompare(b, undefined, { numeric: true }))
    .pop();
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
  return `Resource::${flatten(cdk.Stack.of(scope).resolve(value))}`;
}
