/**
 * The thin layer over CloudFormation: the status of the resource a request is about (DescribeStackResource, on the event's own stack).
 */
import { CloudFormationClient, DescribeStackResourceCommand } from '@aws-sdk/client-cloudformation';

// Created once per container. The SDK honours AWS_ENDPOINT_URL_CLOUDFORMATION (the tests' fake).
const client = new CloudFormationClient({ maxAttempts: 6 });

/** The resource's status (e.g. CREATE_IN_PROGRESS), or undefined when the stack or the resource does not exist (any more). */
export async function resourceStatus(stackId: string, logicalResourceId: string): Promise<string | undefined> {
  try {
    const out = await client.send(new DescribeStackResourceCommand({ StackName: stackId, LogicalResourceId: logicalResourceId }));
    return out.StackResourceDetail?.ResourceStatus;
  } catch (e) {
    // CloudFormation answers ValidationError "... does not exist" for a stack or resource it no longer has.
    if ((e as Error).name === 'ValidationError' && /does not exist/.test((e as Error).message)) return undefined;
    throw e;
  }
}
