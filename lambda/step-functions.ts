/**
 * The thin layer over Step Functions: list the provider's waiter executions and read one's input.
 */
import { DescribeExecutionCommand, type ExecutionStatus, ListExecutionsCommand, SFNClient } from '@aws-sdk/client-sfn';

// Created once per container. The SDK honours AWS_ENDPOINT_URL_SFN, which is how the tests point
// it at a local fake. maxAttempts covers throttling (ListExecutions refills at 2 per second).
const client = new SFNClient({ maxAttempts: 6 });

/** One execution of the waiter, as listed. */
export interface WaiterExecution {
  readonly executionArn: string;
  readonly startDate: Date;
}

/**
 * The waiter's executions started at or after `since`, newest first, page by page (Step Functions
 * lists newest first, so the listing stops at the first one older than `since`).
 */
export async function* executionsSince(stateMachineArn: string, since: Date, status?: ExecutionStatus): AsyncGenerator<WaiterExecution> {
  let nextToken: string | undefined;
  do {
    const out = await client.send(new ListExecutionsCommand({ stateMachineArn, statusFilter: status, maxResults: 100, nextToken }));
    for (const e of out.executions ?? []) {
      // Both are required members of the listing: the check narrows the SDK's optional types.
      if (!e.executionArn || !e.startDate) continue;
      if (e.startDate < since) return;
      yield { executionArn: e.executionArn, startDate: e.startDate };
    }
    nextToken = out.nextToken;
  } while (nextToken);
}

/** The input an execution was started with, parsed (undefined when it is not JSON). It holds a ResponseURL: never log it. */
export async function executionInput(executionArn: string): Promise<unknown> {
  const out = await client.send(new DescribeExecutionCommand({ executionArn }));
  try {
    return out.input === undefined ? undefined : (JSON.parse(out.input) as unknown);
  } catch {
    return undefined;
  }
}
