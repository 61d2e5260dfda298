/**
 * Step Functions for the provider framework's waiter: StartExecution returns at once, and the
 * execution runs the state machine as Step Functions would (the Task at once, then per its Retry
 * every IntervalSeconds × BackoffRate^n up to MaxAttempts, then the Catch's state with the last
 * error as Cause). Every execution started is kept, with its status.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { AccountQuotas } from '../fakes/quota';
import type { WaiterModel } from '../template/assembly';
import { type ErrorPayload, errorPayload } from './lambda-container';
import { type InvokeOutput, encode } from './lambda-service';

/** An execution's status, as DescribeExecution reports it (the waiter never aborts or times out). */
export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED';

/** One execution started by StartExecution. */
export interface Execution {
  readonly executionArn: string;
  readonly stateMachineArn: string;
  /** The input, as given to StartExecution (JSON text). */
  readonly input: string;
  status: ExecutionStatus;
  readonly startDate: Date;
  /** When it stopped (undefined while RUNNING). */
  stopDate?: Date;
}

/** What the waiter needs from outside, and what it reports. */
export interface WaiterOptions {
  /** Lambda Invoke of a state's function. */
  readonly invoke: (functionArn: string, payload: string) => Promise<InvokeOutput>;
  /** A real-world duration in the harness's compressed time (for the Retry intervals). */
  readonly scaled: (ms: number) => number;
  /** An execution has started (called before its first Task attempt). */
  readonly onStart?: (execution: Execution) => void;
  /** The Task is about to be tried (the first time, and on every Retry). */
  readonly onAttempt?: (execution: Execution) => void;
  /** The Retry is exhausted: the Catch's state runs next. */
  readonly onTimeout?: (execution: Execution) => void;
  /**
   * The account's quotas, read at each call: StartExecution over its bucket is refused with
   * ThrottlingException, and a state transition over its bucket waits for it (Step Functions slows
   * executions down). None when it returns undefined.
   */
  readonly quotas?: () => AccountQuotas | undefined;
}

/** Step Functions running the state machines of one stack, the provider framework's waiter. */
export class StepFunctionsWaiter {
  /** Every execution started, in order. */
  readonly executions: Execution[] = [];
  private readonly running = new Set<Promise<void>>();

  constructor(
    private readonly stateMachines: ReadonlyMap<string, WaiterModel>,
    private readonly options: WaiterOptions,
  ) {}

  /** Whether an execution is still running. */
  get busy(): boolean {
    return this.running.size > 0;
  }

  /** StartExecution: starts an execution and returns at once. */
  startExecution(req: { stateMachineArn: string; input: string }): Promise<{ executionArn: string; startDate: Date }> {
    const machine = this.stateMachines.get(req.stateMachineArn);
    if (!machine) {
      return Promise.reject(
        Object.assign(new Error(`State machine does not exist: ${req.stateMachineArn}`), { name: 'StateMachineDoesNotExist' }),
      );
    }
    if (this.options.quotas?.()?.take('states:StartExecution') === false) {
      return Promise.reject(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } }));
    }
    const execution: Execution = {
      executionArn: `${machine.arn.replace(':stateMachine:', ':execution:')}:${randomUUID()}`,
      stateMachineArn: machine.arn,
      input: req.input,
      status: 'RUNNING',
      startDate: new Date(),
    };
    this.executions.push(execution);
    this.options.onStart?.(execution);
    const run: Promise<void> = this.run(machine, execution)
      .catch((): ExecutionStatus => 'FAILED')
      .then((status) => {
        execution.status = status;
        execution.stopDate = new Date();
        this.running.delete(run);
      });
    this.running.add(run);
    return Promise.resolve({ executionArn: execution.executionArn, startDate: execution.startDate });
  }

  /** Waits until no execution is running. */
  async settle(): Promise<void> {
    while (this.running.size > 0) await Promise.allSettled([...this.running]);
  }

  /** The waiter: the Task at once, then per Retry (IntervalSeconds × BackoffRate^n) up to MaxAttempts, then the Catch. */
  private async run(machine: WaiterModel, execution: Execution): Promise<ExecutionStatus> {
    let lastError: ErrorPayload | undefined;
    for (let retries = 0; ; retries++) {
      // Entering the Task state (first try or a Retry) is one state transition.
      const wait = this.options.quotas?.()?.delay('states:StateTransition') ?? 0;
      if (wait > 0) await sleep(wait);
      this.options.onAttempt?.(execution);
      let out: InvokeOutput;
      try {
        out = await this.options.invoke(machine.taskFunctionArn, execution.input);
      } catch (e) {
        out = { StatusCode: 500, Payload: encode(errorPayload(e)), FunctionError: 'Unhandled', ExecutedVersion: '$LATEST' };
      }
      if (!out.FunctionError) return 'SUCCEEDED';
      lastError = JSON.parse(Buffer.from(out.Payload).toString('utf8')) as ErrorPayload;
      if (retries >= machine.maxAttempts) break;
      await sleep(this.options.scaled(machine.intervalSeconds * 1000 * machine.backoffRate ** retries));
    }
    this.options.onTimeout?.(execution);
    // Catch (States.ALL) → the onTimeout task with the error output as its input.
    const error = lastError ?? { errorType: 'States.TaskFailed', errorMessage: '' };
    const out = await this.options.invoke(
      machine.catchFunctionArn,
      JSON.stringify({ Error: error.errorType, Cause: JSON.stringify(error) }),
    );
    return out.FunctionError ? 'FAILED' : 'SUCCEEDED';
  }
}
