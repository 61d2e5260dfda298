/**
 * Plays CloudFormation for one custom resource of a synthesized stack: it keeps the resource's
 * physical id and properties, sends Create / Update / Delete with fresh RequestIds (the event an
 * asynchronous invocation of the ServiceToken function, the response PUT to a pre-signed URL it
 * captures), and follows failures with the events CloudFormation sends (the rollback Delete of a
 * failed Create, the rollback Update of a failed Update, the cleanup Delete of a replaced
 * resource). Each request goes through ./custom-resource-requests; the provider answering it runs
 * in-process (../runtimes/provider-framework).
 *
 * Time is compressed by `timeScale`: the waiter's interval, Lambda's async retry delays, the
 * handler's own timing through its environment, and CloudFormation's one-hour wait for a response.
 * The product is never edited.
 *
 * Each driver plays a stack of its own: its StackId carries a fresh UUID (as every stack CloudFormation
 * creates does), its ledger table is created in the given DynamoDB Local, and the given fake
 * CloudFormation answers DescribeStackResource for it from the driver's state.
 *
 * The ResponseURL (a pre-signed S3 URL, a write credential) is never logged by the driver; every
 * captured log line is checked for it (`responseUrlLeaks`).
 *
 * A FAILED Update that reports a new physical id (a replacement whose record failed or timed out)
 * is rolled back as a failed replacement by default: back to the old physical id, and a Delete of
 * the new one in the cleanup phase; see {@link FailedReplacementRollback} for the alternative.
 */
import type { App, Stack, StackProps } from 'aws-cdk-lib';
import type { ProvisionedProductPropertiesProps } from '../../lib';
import {
  type CustomResourceModel,
  type FunctionModel,
  type Properties,
  type StackModel,
  type SynthesizeOptions,
  type WaiterModel,
  constructStack,
  resourceOf,
  synthesize,
} from '../template/assembly';
import {
  type CfnRequest,
  type CfnRequestView,
  type CfnResponse,
  CustomResourceRequests,
  type EventResult,
  type LateCopy,
  type Redelivery,
  type RequestPhase,
} from './custom-resource-requests';
import { randomUUID } from 'node:crypto';
import { LEDGER } from '../../lib/contract';
import type { DynamoDBLocal } from '../fakes/dynamodb-local';
import type { FakeCloudFormation } from '../fakes/fake-cloudformation';
import type { LogLine } from '../runtimes/lambda-container';
import { type CrashPlan, ProviderFramework, type UserInvocation } from '../runtimes/provider-framework';

/** An event CloudFormation sent because of another one. */
export interface FollowUp extends EventResult {
  /** 'rollback': of a failure (or of a stack failure after success); 'cleanup': deleting a replaced or rolled-back physical resource. */
  readonly phase: 'rollback' | 'cleanup';
}

/** CloudFormation's stack status after a step. */
export type StackStatus =
  | 'NONE'
  | 'CREATE_COMPLETE'
  | 'CREATE_FAILED'
  | 'ROLLBACK_COMPLETE'
  | 'ROLLBACK_FAILED'
  | 'UPDATE_COMPLETE'
  | 'UPDATE_ROLLBACK_COMPLETE'
  | 'UPDATE_ROLLBACK_FAILED'
  | 'DELETE_COMPLETE'
  | 'DELETE_FAILED';

/** The result of create / update / delete: the event, what CloudFormation sent after it, and the stack's status. */
export interface StepResult extends EventResult {
  readonly followUps: readonly FollowUp[];
  readonly stackStatus: StackStatus;
}

/** A physical resource CloudFormation gave up on (a cleanup Delete that failed: CloudFormation does not retry it). */
export interface Orphan {
  readonly physicalId: string;
  readonly properties: Properties;
  readonly reason: string;
}

/** How the driver treats a FAILED Update whose response carries a new physical id. */
export type FailedReplacementRollback =
  /**
   * CloudFormation treats it as a replacement that failed: the resource goes back to the old
   * physical id without a call, and the new one gets a Delete (with the new properties) in
   * UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS. This is the default: CloudFormation's cleanup
   * deletes "resources that got created in this update" (aws-cdk docs/CLOUDFORMATION.md), and a
   * failed Update that returns a new physical id is later sent a Delete for it (aws/aws-cdk#30012).
   */
  | 'revert-and-delete-new'
  /**
   * The pessimistic reading: CloudFormation adopts the new physical id and sends the rollback
   * Update to it (old properties; OldResourceProperties = the failed ones); a different id in its
   * answer is a replacement whose cleanup deletes the adopted one.
   */
  | 'update-adopted-id';

/** Driver options. */
export interface DriverOptions {
  /** Endpoint of the (fake) Service Catalog, put into AWS_ENDPOINT_URL_SERVICE_CATALOG of the user functions. */
  readonly endpoint: string;
  /**
   * The DynamoDB Local that holds the provider's ledger (AWS_ENDPOINT_URL_DYNAMODB): the driver
   * creates the stack's ledger table in it, from the template's AWS::DynamoDB::Table, before its
   * first request. Required to send events.
   */
  readonly dynamodb?: DynamoDBLocal;
  /**
   * The fake CloudFormation the handlers ask for the resource's status
   * (AWS_ENDPOINT_URL_CLOUDFORMATION): the driver has it answer for this driver's stack, from its
   * own state. Required to send events.
   */
  readonly cloudFormation?: FakeCloudFormation;
  /**
   * Another driver of the same stack (another custom resource of it): this driver then plays the
   * same stack, its StackId and its ledger table, as the instances of one stack share a provider.
   * Default: a stack of its own.
   */
  readonly sameStackAs?: LifecycleDriver;
  /** Factor applied to every duration the driver controls (default 0.01: 5 s → 50 ms). */
  readonly timeScale?: number;
  /** Logical id of the custom resource to drive (default: the only one). */
  readonly logicalId?: string;
  /** Extra environment for the user functions, over the template's (e.g. POWERTOOLS_LOG_LEVEL). */
  readonly env?: Record<string, string>;
  /** Print every captured log line (with the ResponseURL redacted, should a handler log it). */
  readonly echoLogs?: boolean;
  /** See {@link FailedReplacementRollback}. */
  readonly failedReplacementRollback?: FailedReplacementRollback;
}

/** Options of one step. */
export interface StepOptions {
  /** Create only: follow a failure with CloudFormation's rollback (default true; false is `--no-rollback`). */
  readonly rollback?: boolean;
  /**
   * After this resource succeeded, another resource of the stack fails: CloudFormation rolls this
   * one back too (Create → Delete; Update → Update back, or for a replacement the Delete of the new
   * physical id instead of the old one's cleanup).
   */
  readonly stackFailsAfter?: boolean;
  /** Deliver the CloudFormation event again with the same RequestId (see {@link Redelivery}). */
  readonly redeliver?: Redelivery;
}

interface ResourceState {
  physicalId: string;
  properties: Properties;
  attributes: Record<string, string>;
}

/**
 * Plays CloudFormation and the AWS services around the provider framework for one custom
 * resource; see the module comment.
 */
export class LifecycleDriver {
  /** Every captured log line, of every function. */
  readonly logs: LogLine[];
  /** Every user handler invocation. */
  readonly invocations: UserInvocation[];
  /** Physical resources CloudFormation gave up on. */
  readonly orphans: Orphan[] = [];
  /** Every event result, in order (including follow-ups). */
  readonly history: EventResult[] = [];
  /** Responses that arrived after CloudFormation had stopped waiting for their request. */
  readonly lateResponses: CfnResponse[];
  /** Copies delivered at a late moment (see {@link Redelivery}), in delivery order. */
  readonly lateCopies: readonly LateCopy[];
  /**
   * Called before every request CloudFormation sends (follow-ups included), e.g. to change the
   * fake's faults for one phase of a deployment.
   */
  onRequest?: (request: CfnRequestView, phase: RequestPhase) => void;

  readonly model: StackModel;
  readonly resource: CustomResourceModel;
  readonly timeScale: number;
  /** The custom resource's provider, running on the emulated Lambda and Step Functions. */
  readonly provider: ProviderFramework;
  private readonly options: DriverOptions;
  private readonly requests: CustomResourceRequests;
  private state?: ResourceState;
  private status: StackStatus = 'NONE';
  private failedRollback?: { request: Omit<CfnRequestView, 'RequestId'>; previous: ResourceState };
  /** The user functions' extra environment: the options', then the ledger table's name and the endpoints once known. */
  private readonly handlerEnv: Record<string, string>;
  private ledgerReady?: Promise<void>;
  /** The name of this stack's ledger table in DynamoDB Local, once created. */
  ledgerTableName?: string;
  private readonly unserve?: () => void;

  constructor(model: StackModel, options: DriverOptions) {
    this.model = model;
    this.options = options;
    this.timeScale = options.timeScale ?? 0.01;
    this.resource = resourceOf(model, options.logicalId);
    const token = this.resource.properties.ServiceToken;
    if (typeof token !== 'string' || !model.functions.has(token)) {
      throw new Error(`${this.resource.logicalId}: ServiceToken ${JSON.stringify(token)} is not a function of the stack`);
    }
    const scaled = (ms: number): number => this.scaled(ms);
    // A stack of its own, as CloudFormation gives every stack it creates.
    const stackId = options.sameStackAs?.stackId ?? model.stackId.replace(/[^/]+$/, randomUUID());
    this.handlerEnv = { ...options.env };
    this.requests = new CustomResourceRequests(model, this.resource, {
      stackId,
      scaled,
      deliver: (payload, onAttempt) => this.provider.deliver(payload, onAttempt),
      settle: () => this.provider.settle(),
      onRequest: (request, phase) => this.onRequest?.(request, phase),
      onResult: (result) => this.history.push(result),
    });
    this.provider = new ProviderFramework(model, token, {
      endpoint: options.endpoint,
      env: this.handlerEnv,
      scaled,
      onLog: (line) => {
        if (options.echoLogs) console.log(`[${line.fn}] ${this.requests.redact(line.text)}`);
      },
      onActivity: (requestId, activity) => this.requests.count(requestId, activity),
      onResponse: (response, body) => this.requests.receive(response, body),
    });
    this.unserve = options.cloudFormation?.serve(stackId, (logicalId) => {
      const status = logicalId === this.resource.logicalId ? this.requests.resourceStatus : undefined;
      return status === undefined ? undefined : { status, resourceType: this.resource.type, physicalId: this.state?.physicalId };
    });
    this.logs = this.provider.logs;
    this.invocations = this.provider.invocations;
    this.lateResponses = this.requests.lateResponses;
    this.lateCopies = this.requests.lateCopies;
  }

  /** Synthesizes `build` and drives its custom resource. */
  static fromStack(build: (app: App) => Stack, options: DriverOptions & SynthesizeOptions): LifecycleDriver {
    return new LifecycleDriver(synthesize(build, options), options);
  }

  /** Synthesizes a stack with one ProvisionedProductProperties and drives it. */
  static fromConstruct(props: ProvisionedProductPropertiesProps, options: DriverOptions & { stackProps?: StackProps }): LifecycleDriver {
    return LifecycleDriver.fromStack(constructStack(props, options.stackProps), options);
  }

  /** The properties the construct synthesizes for `props` (same stack shape as fromConstruct). */
  static propertiesFor(props: ProvisionedProductPropertiesProps, stackProps?: StackProps): Properties {
    return resourceOf(synthesize(constructStack(props, stackProps))).properties;
  }

  /** The StackId the events carry (unique to this driver). */
  get stackId(): string {
    return this.requests.stackId;
  }

  /** CloudFormation's status of the resource, as DescribeStackResource answers (undefined when it has none). */
  get resourceStatus(): string | undefined {
    return this.requests.resourceStatus;
  }

  /** CloudFormation's current physical id of the resource (undefined when it does not exist). */
  get physicalId(): string | undefined {
    return this.state?.physicalId;
  }

  /** CloudFormation's current properties of the resource. */
  get properties(): Properties | undefined {
    return this.state?.properties;
  }

  /** The resource's attributes (the Data of the last successful Create or Update). */
  get attributes(): Record<string, string> | undefined {
    return this.state?.attributes;
  }

  /** The stack's status after the last step. */
  get stackStatus(): StackStatus {
    return this.status;
  }

  /** The user functions (from the framework's environment). */
  get userFunctions(): { onEvent: FunctionModel; isComplete: FunctionModel; waiter: WaiterModel } {
    return this.provider.userFunctions;
  }

  /** Plans a crash of a user function's invoke call. */
  crash(plan: CrashPlan): void {
    this.provider.crash(plan);
  }

  /** Log lines that contain a ResponseURL signature (must stay empty). */
  responseUrlLeaks(): LogLine[] {
    return this.requests.leaks(this.logs);
  }

  /** Log lines of the user handlers for one request (or all), parsed where JSON. */
  handlerLogs(requestId?: string): Array<Record<string, unknown>> {
    return this.invocations
      .filter((i) => requestId === undefined || i.requestId === requestId)
      .flatMap((i) => i.logs)
      .map((l) => {
        try {
          return JSON.parse(l.text) as Record<string, unknown>;
        } catch {
          return { message: l.text };
        }
      });
  }

  // ---------------------------------------------------------------------------- CloudFormation steps

  /** Create (default: the synthesized properties). A failure is followed by CloudFormation's rollback Delete. */
  async create(properties: Properties = this.resource.properties, options: StepOptions = {}): Promise<StepResult> {
    if (this.state) throw new Error('create: the resource exists already');
    const props = this.withServiceToken(properties);
    const result = await this.send(
      { RequestType: 'Create', LogicalResourceId: this.resource.logicalId, ResourceProperties: props },
      options.redeliver,
    );
    const followUps: FollowUp[] = [];
    if (result.Status === 'SUCCESS' && !options.stackFailsAfter) {
      this.state = { physicalId: result.PhysicalResourceId, properties: props, attributes: result.Data ?? {} };
      return this.step(result, followUps, 'CREATE_COMPLETE');
    }
    if (options.rollback === false && result.Status === 'FAILED') {
      // --no-rollback: the failed resource stays, with the physical id it reported.
      this.state = { physicalId: result.PhysicalResourceId, properties: props, attributes: {} };
      return this.step(result, followUps, 'CREATE_FAILED');
    }
    // ROLLBACK_IN_PROGRESS: Delete whatever physical id was reported.
    const rollback = await this.followUp('rollback', {
      RequestType: 'Delete',
      LogicalResourceId: this.resource.logicalId,
      PhysicalResourceId: result.PhysicalResourceId,
      ResourceProperties: props,
    });
    followUps.push(rollback);
    if (rollback.Status === 'SUCCESS') return this.step(result, followUps, 'ROLLBACK_COMPLETE');
    this.state = { physicalId: result.PhysicalResourceId, properties: props, attributes: {} };
    return this.step(result, followUps, 'ROLLBACK_FAILED');
  }

  /** Update to `properties`. A failure is followed by the rollback; a replacement by the cleanup Delete of the old physical id. */
  async update(properties: Properties, options: StepOptions = {}): Promise<StepResult> {
    const old = this.state;
    if (!old) throw new Error('update: the resource does not exist');
    if (this.status === 'UPDATE_ROLLBACK_FAILED') throw new Error('update: the stack is UPDATE_ROLLBACK_FAILED; continueRollback() first');
    const props = this.withServiceToken(properties);
    const request = {
      RequestType: 'Update' as const,
      LogicalResourceId: this.resource.logicalId,
      PhysicalResourceId: old.physicalId,
      ResourceProperties: props,
      OldResourceProperties: old.properties,
    };
    const result = await this.send(request, options.redeliver);
    const followUps: FollowUp[] = [];
    const replaced = result.PhysicalResourceId !== old.physicalId;
    if (result.Status === 'SUCCESS' && !options.stackFailsAfter) {
      this.state = { physicalId: result.PhysicalResourceId, properties: props, attributes: result.Data ?? {} };
      if (replaced) {
        // UPDATE_COMPLETE_CLEANUP_IN_PROGRESS: the replaced physical resource is deleted with its own properties.
        followUps.push(await this.cleanupDelete(old.physicalId, old.properties));
      }
      return this.step(result, followUps, 'UPDATE_COMPLETE');
    }
    // UPDATE_ROLLBACK_IN_PROGRESS.
    const adopt = this.options.failedReplacementRollback === 'update-adopted-id' && result.Status === 'FAILED';
    if (replaced && !adopt) {
      // A replacement (successful, then the stack failed; or failed itself): back to the old
      // physical id without a call, and the new one is deleted in the cleanup phase.
      this.state = old;
      followUps.push(await this.cleanupDelete(result.PhysicalResourceId, props));
      return this.step(result, followUps, 'UPDATE_ROLLBACK_COMPLETE');
    }
    const target = replaced ? result.PhysicalResourceId : old.physicalId;
    const rollbackRequest = {
      RequestType: 'Update' as const,
      LogicalResourceId: this.resource.logicalId,
      PhysicalResourceId: target,
      ResourceProperties: old.properties,
      OldResourceProperties: props,
    };
    return this.rollbackUpdate(result, followUps, rollbackRequest, old);
  }

  /** ContinueUpdateRollback after UPDATE_ROLLBACK_FAILED: the rollback Update is sent again. */
  async continueRollback(): Promise<StepResult> {
    const failed = this.failedRollback;
    if (!failed || this.status !== 'UPDATE_ROLLBACK_FAILED') throw new Error('continueRollback: the stack is not UPDATE_ROLLBACK_FAILED');
    const result = await this.send(failed.request, undefined, 'rollback');
    const followUps: FollowUp[] = [];
    return this.rollbackUpdate(result, followUps, failed.request, failed.previous, true);
  }

  /** Delete the resource (stack delete, or its removal from the template). */
  async delete(options: Pick<StepOptions, 'redeliver'> = {}): Promise<StepResult> {
    const current = this.state;
    if (!current) throw new Error('delete: the resource does not exist');
    const result = await this.send(
      {
        RequestType: 'Delete',
        LogicalResourceId: this.resource.logicalId,
        PhysicalResourceId: current.physicalId,
        ResourceProperties: current.properties,
      },
      options.redeliver,
    );
    if (result.Status === 'SUCCESS') {
      this.state = undefined;
      this.failedRollback = undefined;
      return this.step(result, [], 'DELETE_COMPLETE');
    }
    return this.step(result, [], 'DELETE_FAILED');
  }

  /**
   * Runs the stack's drift check once, as its EventBridge schedule does: the function the
   * template's AWS::Events::Rule targets, invoked with a scheduled event, on the same emulated
   * Lambda and services as the handlers (the ledger, the fake Service Catalog). Returns what it
   * returned or threw, its log lines parsed, and its embedded-metric-format lines.
   */
  async checkDrift(): Promise<DriftCheckRun> {
    await this.prepareLedger();
    const { fn, ruleArn } = scheduledFunctionOf(this.model);
    const logs: LogLine[] = [];
    const event = {
      version: '0',
      id: randomUUID(),
      'detail-type': 'Scheduled Event',
      source: 'aws.events',
      account: this.model.account,
      time: new Date().toISOString(),
      region: this.model.region,
      resources: [ruleArn],
      detail: {},
    };
    const out = await this.provider.lambda.invoke(fn.arn, JSON.stringify(event), { logs, trace: false });
    const payload = JSON.parse(Buffer.from(out.Payload).toString('utf8') || 'null') as unknown;
    const lines = logs.map((l) => {
      try {
        return JSON.parse(l.text) as Record<string, unknown>;
      } catch {
        return { message: l.text };
      }
    });
    return {
      ...(out.FunctionError ? { error: payload as { errorType: string; errorMessage: string } } : { result: payload }),
      logs: lines.filter((l) => !('_aws' in l)),
      metrics: lines.filter((l) => '_aws' in l),
    };
  }

  /**
   * Stops the fake CloudFormation answering for this driver's resource, once the driver is done (a
   * run of many drivers on one fake, like the random lifecycles, would otherwise keep them all alive).
   */
  release(): void {
    this.unserve?.();
  }

  /** Delivers the copies still held for a late moment, then waits for every execution still running (redeliveries included). */
  settle(): Promise<void> {
    return this.requests.settle();
  }

  private async rollbackUpdate(
    result: EventResult,
    followUps: FollowUp[],
    request: Omit<CfnRequestView, 'RequestId'>,
    previous: ResourceState,
    isContinuation = false,
  ): Promise<StepResult> {
    const rollback = isContinuation ? (result as FollowUp) : await this.followUp('rollback', request);
    if (!isContinuation) followUps.push(rollback);
    if (rollback.Status === 'FAILED') {
      this.failedRollback = { request, previous };
      this.state = { ...previous, physicalId: request.PhysicalResourceId as string };
      return this.step(result, followUps, 'UPDATE_ROLLBACK_FAILED');
    }
    this.failedRollback = undefined;
    this.state = {
      physicalId: rollback.PhysicalResourceId,
      properties: previous.properties,
      attributes: rollback.Data ?? previous.attributes,
    };
    if (rollback.PhysicalResourceId !== request.PhysicalResourceId) {
      // The rollback Update answered with yet another id: a replacement; the one it replaced goes in cleanup.
      followUps.push(await this.cleanupDelete(request.PhysicalResourceId as string, request.OldResourceProperties ?? {}));
    }
    return this.step(result, followUps, 'UPDATE_ROLLBACK_COMPLETE');
  }

  private async cleanupDelete(physicalId: string, properties: Properties): Promise<FollowUp> {
    const cleanup = await this.followUp('cleanup', {
      RequestType: 'Delete',
      LogicalResourceId: this.resource.logicalId,
      PhysicalResourceId: physicalId,
      ResourceProperties: properties,
    });
    // A failed cleanup Delete does not fail the stack; CloudFormation leaves the resource behind.
    if (cleanup.Status === 'FAILED') this.orphans.push({ physicalId, properties, reason: cleanup.Reason });
    return cleanup;
  }

  private async followUp(phase: FollowUp['phase'], request: Omit<CfnRequestView, 'RequestId'>): Promise<FollowUp> {
    return { ...(await this.send(request, undefined, phase)), phase };
  }

  private step(result: EventResult, followUps: FollowUp[], status: StackStatus): StepResult {
    this.status = status;
    return { ...result, followUps, stackStatus: status };
  }

  private withServiceToken(properties: Properties): Properties {
    return { ...properties, ServiceToken: this.resource.properties.ServiceToken };
  }

  // ---------------------------------------------------------------------------- one request

  /** Sends one request (see {@link CustomResourceRequests.send}) without changing the driver's view of the resource. */
  async send(request: CfnRequest, redeliver?: Redelivery, phase: RequestPhase = 'event'): Promise<EventResult> {
    await this.prepareLedger();
    return this.requests.send(request, redeliver, phase);
  }

  /** Creates the stack's ledger table (once; a driver of the same stack uses its table) and points the user functions at it and at the fake CloudFormation. */
  private prepareLedger(): Promise<void> {
    const { dynamodb, cloudFormation } = this.options;
    if (!dynamodb || !cloudFormation) {
      return Promise.reject(
        new Error(
          "harness: the driver needs `dynamodb` (a DynamoDBLocal) and `cloudFormation` (a FakeCloudFormation) to send events: the handlers keep their ledger in one and ask the other for the resource's status",
        ),
      );
    }
    this.ledgerReady ??= (async () => {
      const shared = this.options.sameStackAs;
      if (shared) await shared.prepareLedger();
      this.ledgerTableName = shared?.ledgerTableName ?? (await dynamodb.createTable(ledgerTableOf(this.model)));
      Object.assign(this.handlerEnv, {
        [LEDGER.tableEnv]: this.ledgerTableName,
        AWS_ENDPOINT_URL_DYNAMODB: dynamodb.endpoint,
        AWS_ENDPOINT_URL_CLOUDFORMATION: cloudFormation.endpoint,
        ...this.options.env,
      });
    })();
    return this.ledgerReady;
  }

  private scaled(ms: number): number {
    return Math.max(1, Math.round(ms * this.timeScale));
  }
}

/** One run of the drift check (see {@link LifecycleDriver.checkDrift}). */
export interface DriftCheckRun {
  /** What the function returned. */
  readonly result?: unknown;
  /** What it threw, as Lambda reports it. */
  readonly error?: { readonly errorType: string; readonly errorMessage: string };
  /** Its log lines (JSON parsed), the metric lines apart. */
  readonly logs: ReadonlyArray<Record<string, unknown>>;
  /** Its embedded-metric-format lines, as CloudWatch Logs would receive them. */
  readonly metrics: ReadonlyArray<Record<string, unknown>>;
}

/** The function a scheduled AWS::Events::Rule of the template targets, and the rule's ARN. */
function scheduledFunctionOf(model: StackModel): { fn: FunctionModel; ruleArn: string } {
  for (const [logicalId, resource] of Object.entries(model.template.Resources)) {
    const props = (resource.Properties ?? {}) as { ScheduleExpression?: unknown; Targets?: Array<{ Arn?: unknown }> };
    if (resource.Type !== 'AWS::Events::Rule' || props.ScheduleExpression === undefined) continue;
    for (const target of props.Targets ?? []) {
      const getAtt = (target.Arn as { 'Fn::GetAtt'?: [string, string] } | undefined)?.['Fn::GetAtt'];
      const fn = [...model.functions.values()].find((f) => f.logicalId === getAtt?.[0]);
      if (fn) return { fn, ruleArn: `arn:aws:events:${model.region}:${model.account}:rule/${logicalId}` };
    }
  }
  throw new Error('harness: the stack has no scheduled AWS::Events::Rule that targets one of its functions (is driftCheck set?)');
}

/** The ledger table the template declares: its logical id, partition key and time-to-live attribute. */
function ledgerTableOf(model: StackModel): { logicalId: string; partitionKey: string; timeToLiveAttribute?: string } {
  const tables = Object.entries(model.template.Resources).filter(([, r]) => r.Type === 'AWS::DynamoDB::Table');
  if (tables.length !== 1)
    throw new Error(`harness: the stack has ${tables.length} AWS::DynamoDB::Table resources; the provider declares one ledger`);
  const [logicalId, resource] = tables[0];
  const props = (resource.Properties ?? {}) as {
    KeySchema?: Array<{ AttributeName: string; KeyType: string }>;
    TimeToLiveSpecification?: { AttributeName?: string; Enabled?: boolean };
  };
  const hash = props.KeySchema?.find((k) => k.KeyType === 'HASH');
  if (!hash) throw new Error(`harness: ${logicalId} has no partition key`);
  const ttl = props.TimeToLiveSpecification;
  return {
    logicalId,
    partitionKey: hash.AttributeName,
    ...(ttl?.Enabled && ttl.AttributeName ? { timeToLiveAttribute: ttl.AttributeName } : {}),
  };
}
