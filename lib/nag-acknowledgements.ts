/**
 * The cdk-nag findings the shared provider cannot fix, acknowledged one by one on the resource that has each.
 *
 * A user who applies AwsSolutions to an app sees none from this construct and keeps all of their
 * own: every acknowledgement names the exact finding (down to the policy resource) and sits on the
 * construct that has it, never higher.
 */
import { Stack, Validations } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as cr from 'aws-cdk-lib/custom-resources';
import type { IConstruct } from 'constructs';

/** The provider's resources that carry findings. */
export interface ProviderResources {
  /** The roles of the two handler functions. */
  readonly handlerRoles: readonly iam.IRole[];
  /** The role that writes, and passes launch roles. */
  readonly isCompleteRole: iam.IRole;
  /** The ARN pattern of the roles isComplete may pass to Service Catalog. */
  readonly passRoleResource: string;
  /** The ARN pattern of the waiter's executions, which the handlers read. */
  readonly waiterExecutionsArn: string;
  /** The roles of the framework's own functions. */
  readonly frameworkRoles: readonly iam.IRole[];
  /** The onEvent and isComplete handler functions. */
  readonly handlers: readonly lambda.IFunction[];
  /** The aws-cdk-lib provider. */
  readonly provider: cr.Provider;
}

/** Acknowledges the AwsSolutions findings of the provider's resources that the provider cannot fix. */
export function acknowledgeNagFindings(scope: IConstruct, r: ProviderResources): void {
  for (const role of r.handlerRoles) {
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'servicecatalog:DescribeProvisionedProduct, SearchProvisionedProducts, UpdateProvisionedProductProperties and DescribeRecord support no resource-level permissions, so their resource must be *.',
    });
    Validations.of(role).acknowledge({
      id: `AwsSolutions-IAM5[${nagResource(scope, r.waiterExecutionsArn)}]`,
      reason:
        "states:DescribeExecution on the executions of this provider's own waiter state machine: execution names are made up by Step Functions, so they cannot be named; the handlers read them to tell a redelivered request from a new one.",
    });
  }
  Validations.of(r.isCompleteRole).acknowledge({
    id: `AwsSolutions-IAM5[${nagResource(scope, r.passRoleResource)}]`,
    reason:
      "iam:PassRole on this account's roles, only to servicecatalog.amazonaws.com (iam:PassedToService): Delete restores the product's prior launch role, which is only known at deploy time, so the role cannot be named at synth.",
  });
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
  // The waiter state machine is the framework's own (construct id 'waiter-state-machine'); if a
  // later aws-cdk-lib moves it, acknowledging on the provider keeps these findings just as narrow.
  const waiter = r.provider.node.tryFindChild('waiter-state-machine') ?? r.provider;
  for (const child of ['framework-isComplete', 'framework-onTimeout']) {
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
    reason:
      "Added by the aws-cdk-lib provider framework's waiter state machine for its logging: the CloudWatch Logs log-delivery actions Step Functions needs (logs:CreateLogDelivery, GetLogDelivery, ...) support no resource-level permissions.",
  });
  Validations.of(waiter).acknowledge({
    id: 'AwsSolutions-SF2',
    reason:
      "The aws-cdk-lib provider framework's waiter state machine offers no X-Ray tracing option. It is a fixed retry loop around the isComplete function; its executions are logged (level ALL) and every decision is logged by the handler.",
  });
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
