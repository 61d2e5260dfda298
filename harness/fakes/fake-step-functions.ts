/**
 * A fake of the Step Functions API (AWS JSON 1.0) for the handlers' lookups: ListExecutions and DescribeExecution of the waiter's executions.
 *
 * The real `@aws-sdk/client-sfn` talks to it when `process.env.AWS_ENDPOINT_URL_SFN = fake.endpoint`.
 * It serves the executions of an {@link ExecutionSource}: the harness's waiter, or executions a test
 * registers itself. ListExecutions is eventually consistent in the real service: here an execution
 * is listed only `listingLagMs` after it started (DescribeExecution of a known ARN answers at once,
 * as the service's does). Listing is newest first, paginated by `maxResults` (default 100) and
 * `nextToken`, as documented.
 *
 * Deviations: no redrive, map runs or activity fields; `status` is RUNNING, SUCCEEDED or FAILED;
 * executions are kept for the fake's lifetime (the service keeps them 90 days); a state machine
 * with no executions lists none instead of answering StateMachineDoesNotExist.
 */
import { randomUUID } from 'node:crypto';
import { ApiError, AwsJsonServer, type FakeCall, type FaultPlan, type Json } from './aws-json-server';

/** An execution as the fake serves it. */
export interface FakeExecution {
  readonly executionArn: string;
  readonly stateMachineArn: string;
  /** The input it was started with (JSON text). */
  readonly input: string;
  readonly status: 'RUNNING' | 'SUCCEEDED' | 'FAILED';
  readonly startDate: Date;
  readonly stopDate?: Date;
}

/** Where the executions come from: read on every call, so that the fake always serves the current state. */
export type ExecutionSource = () => readonly FakeExecution[];

/** Options of {@link FakeStepFunctions.start}. */
export interface FakeStepFunctionsOptions {
  /** The executions to serve; default: only those registered with {@link FakeStepFunctions.startExecution}. */
  readonly source?: ExecutionSource;
  /** How long after its start an execution appears in ListExecutions (eventual consistency); default 0. */
  readonly listingLagMs?: number;
}

const STATUSES = ['RUNNING', 'SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED', 'PENDING_REDRIVE'];
const ARN_RE = /^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:(stateMachine|execution):[A-Za-z0-9_-]{1,80}(:[A-Za-z0-9_-]{1,80})?$/;

/** The fake Step Functions server. */
export class FakeStepFunctions {
  /** Starts a fake listening on 127.0.0.1 on a random port. */
  static async start(options: FakeStepFunctionsOptions = {}): Promise<FakeStepFunctions> {
    const fake = new FakeStepFunctions(options);
    fake.server = await AwsJsonServer.start(
      { targetPrefix: 'AWSStepFunctions.', contentType: 'application/x-amz-json-1.0' },
      {
        ListExecutions: (input) => fake.listExecutions(input),
        DescribeExecution: (input) => fake.describeExecution(input),
      },
    );
    return fake;
  }

  /** How long after its start an execution appears in ListExecutions; may be changed between steps. */
  listingLagMs: number;
  private server!: AwsJsonServer;
  private readonly registered: FakeExecution[] = [];
  private source: ExecutionSource;

  private constructor(options: FakeStepFunctionsOptions) {
    this.listingLagMs = options.listingLagMs ?? 0;
    this.source = options.source ?? (() => this.registered);
  }

  /** Base URL to put into AWS_ENDPOINT_URL_SFN. */
  get endpoint(): string {
    return this.server.endpoint;
  }

  /** Every HTTP call received, in arrival order. */
  get calls(): FakeCall[] {
    return this.server.calls;
  }

  /** Malformed calls (a client bug). */
  get violations(): string[] {
    return this.server.violations;
  }

  /** Calls of one operation. */
  callsOf(op: string): FakeCall[] {
    return this.server.callsOf(op);
  }

  /** Installs (or removes) fault injection. */
  setFaults(plan: FaultPlan | undefined): void {
    this.server.setFaults(plan);
  }

  /** Makes an operation answer `ms` late (0: at once): a Step Functions slowed by throttling, say. */
  setLatency(op: 'ListExecutions' | 'DescribeExecution', ms: number): void {
    this.server.setLatency(op, ms);
  }

  /** Serves the executions of `source` from now on (a lifecycle driver's waiter, say). */
  serve(source: ExecutionSource): void {
    this.source = source;
  }

  /** Registers an execution as StartExecution would (for tests that run the handlers without the waiter); returns it. */
  startExecution(stateMachineArn: string, input: string, startDate = new Date()): FakeExecution {
    const name = randomUUID();
    const execution: FakeExecution = {
      executionArn: `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`,
      stateMachineArn,
      input,
      status: 'RUNNING',
      startDate,
    };
    this.registered.push(execution);
    return execution;
  }

  /** Stops the server. */
  close(): Promise<void> {
    return this.server.close();
  }

  private listExecutions(input: Json): Json {
    checkMembers('ListExecutions', input, ['stateMachineArn', 'mapRunArn', 'statusFilter', 'maxResults', 'nextToken', 'redriveFilter']);
    const arn = input.stateMachineArn;
    if (typeof arn !== 'string' || !ARN_RE.test(arn) || !arn.includes(':stateMachine:')) {
      throw new ApiError('InvalidArn', `Invalid Arn: ${JSON.stringify(arn)}`, true);
    }
    const status = input.statusFilter;
    if (status !== undefined && (typeof status !== 'string' || !STATUSES.includes(status))) {
      throw new ApiError('ValidationException', `statusFilter ${JSON.stringify(status)}`, true);
    }
    const max = input.maxResults ?? 0;
    if (typeof max !== 'number' || !Number.isInteger(max) || max < 0 || max > 1000) {
      throw new ApiError('ValidationException', `maxResults ${JSON.stringify(max)}`, true);
    }
    const offset = input.nextToken === undefined ? 0 : typeof input.nextToken === 'string' ? Number.parseInt(input.nextToken, 10) : NaN;
    if (!Number.isInteger(offset) || offset < 0) throw new ApiError('InvalidToken', `nextToken ${JSON.stringify(input.nextToken)}`, true);
    const listedBefore = Date.now() - this.listingLagMs;
    const listed = this.source()
      .filter((e) => e.stateMachineArn === arn && e.startDate.getTime() <= listedBefore && (status === undefined || e.status === status))
      .sort((a, b) => b.startDate.getTime() - a.startDate.getTime());
    const page = listed.slice(offset, offset + (max || 100));
    const next = offset + page.length;
    return {
      executions: page.map(summary),
      ...(next < listed.length ? { nextToken: String(next) } : {}),
    };
  }

  private describeExecution(input: Json): Json {
    checkMembers('DescribeExecution', input, ['executionArn', 'includedData']);
    const arn = input.executionArn;
    if (typeof arn !== 'string' || !ARN_RE.test(arn) || !arn.includes(':execution:')) {
      throw new ApiError('InvalidArn', `Invalid Arn: ${JSON.stringify(arn)}`, true);
    }
    const e = this.source().find((x) => x.executionArn === arn);
    if (!e) throw new ApiError('ExecutionDoesNotExist', `Execution Does Not Exist: '${arn}'`);
    return { ...summary(e), input: e.input, inputDetails: { included: true } };
  }
}

/** An execution as ListExecutions lists it (timestamps in epoch seconds, as the JSON protocol has them). */
function summary(e: FakeExecution): Json {
  return {
    executionArn: e.executionArn,
    stateMachineArn: e.stateMachineArn,
    name: e.executionArn.split(':').pop(),
    status: e.status,
    startDate: e.startDate.getTime() / 1000,
    ...(e.stopDate ? { stopDate: e.stopDate.getTime() / 1000 } : {}),
  };
}

function checkMembers(op: string, input: Json, allowed: string[]): void {
  for (const key of Object.keys(input)) {
    if (!allowed.includes(key)) throw new ApiError('ValidationException', `${op}: unknown member '${key}'`, true);
  }
}
