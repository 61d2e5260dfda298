/**
 * The provider framework's waiter state machine: its fixed name and ARNs, and what the construct sets on it (the name, tracing, a managed policy).
 */
import { ArnFormat, Aws, Fn, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type * as cr from 'aws-cdk-lib/custom-resources';
import type { Construct } from 'constructs';
import { WAITER_NAME_PREFIX } from '../contract';
import { FRAMEWORK_CONSTRUCT_IDS } from './framework-functions';
import { moveInlinePolicyToManaged } from './managed-policy-role';

/** The waiter's name and ARNs, known before the waiter exists. */
export interface WaiterIdentity {
  /** The last part of the stack's id, which names the waiter and the log groups. */
  readonly stackUuid: string;
  readonly name: string;
  readonly arn: string;
  /** Every execution of the waiter. */
  readonly executionsArn: string;
}

/**
 * The waiter's name is fixed (the stack's id makes it unique), so that its ARN is known to the
 * handlers without a reference to it: the waiter refers to the isComplete function, and a
 * reference back would be a cycle.
 */
export function waiterIdentity(scope: Construct): WaiterIdentity {
  const stack = Stack.of(scope);
  const stackUuid = Fn.select(2, Fn.split('/', Aws.STACK_ID));
  const name = Fn.join('', [WAITER_NAME_PREFIX, stackUuid]);
  const arnOf = (resource: string, resourceName: string) =>
    stack.formatArn({ service: 'states', resource, resourceName, arnFormat: ArnFormat.COLON_RESOURCE_NAME });
  return { stackUuid, name, arn: arnOf('stateMachine', name), executionsArn: arnOf('execution', `${name}:*`) };
}

/**
 * Gives the framework's waiter its fixed name and, with `tracing`, X-Ray tracing. The waiter's role
 * is the framework's own, a plain iam.Role: its inline policy moves to a managed policy, like every
 * other role's here.
 */
export function configureWaiter(provider: cr.Provider, name: string, tracing: boolean): void {
  const waiterConstruct = provider.node.findChild(FRAMEWORK_CONSTRUCT_IDS.waiter);
  const waiter = waiterConstruct.node.defaultChild as sfn.CfnStateMachine;
  waiter.stateMachineName = name;
  const role = waiterConstruct.node.findChild(FRAMEWORK_CONSTRUCT_IDS.waiterRole) as iam.Role;
  if (tracing) traceWaiter(waiter, role);
  moveInlinePolicyToManaged(role);
}

/** Turns on X-Ray tracing of the framework's waiter, with the permissions sfn.StateMachine would add for it. */
function traceWaiter(waiter: sfn.CfnStateMachine, role: iam.IRole): void {
  waiter.tracingConfiguration = { enabled: true };
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      actions: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords', 'xray:GetSamplingRules', 'xray:GetSamplingTargets'],
      resources: ['*'],
    }),
  );
}
