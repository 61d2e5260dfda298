/**
 * The one provider per stack behind every ProvisionedProductProperties: handler functions, roles, log groups and the waiter.
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { ArnFormat, Aws, Duration, Fn, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct, type IConstruct } from 'constructs';
import { HANDLER_ENTRY, HANDLER_TIMING, SERVICE_NAME, WAITER, WAITER_ARN_ENV, WAITER_NAME_PREFIX } from './contract';
import { createHandlerRoles } from './handler-roles';
import { acknowledgeNagFindings } from './nag-acknowledgements';

/** The directory of the bundled handler, built by `npm run build:handler` (scripts/bundle-handler.mjs). */
const HANDLER_DIR = path.join(__dirname, '..', 'assets', 'handler');

/** The waiter settings an instance may ask for; every instance of a stack shares one provider. */
export interface WaiterSettings {
  /** How often the waiter calls isComplete. */
  readonly queryInterval?: Duration;
  /** How long the waiter waits in all. */
  readonly totalTimeout?: Duration;
}

/** Marks providers created here, so that the stack's provider is found by type, not by construct id alone. */
const PROVIDER_BRAND = Symbol.for('cdk-provisioned-product-properties.Provider');

/**
 * The one provider per stack behind every ProvisionedProductProperties in it: the onEvent and
 * isComplete functions, their role and log group, and the provider framework's waiter.
 */
export class ProvisionedProductPropertiesProvider extends Construct {
  /** The construct id of the provider, a direct child of the stack. */
  private static readonly ID = 'ProvisionedProductPropertiesProvider';

  /**
   * The stack's provider, created on first use with the waiter settings of `instance` (the first
   * instance); later instances must ask for the same settings or none.
   */
  public static getOrCreate(instance: IConstruct, settings: WaiterSettings): ProvisionedProductPropertiesProvider {
    const stack = Stack.of(instance);
    const existing = stack.node.tryFindChild(this.ID);
    if (!existing) return new ProvisionedProductPropertiesProvider(stack, this.ID, instance, settings);
    if (!ProvisionedProductPropertiesProvider.isProvider(existing)) {
      throw new Error(
        `ProvisionedProductProperties at ${instance.node.path}: the stack ${stack.stackName} already has a construct with the id ${this.ID} ` +
          `(${existing.node.path}) that is not this library's provider. That id is reserved for the provider every ProvisionedProductProperties in the stack shares: rename your construct.`,
      );
    }
    existing.checkSameSettings(instance, settings);
    return existing;
  }

  /** Whether `x` is a provider of this library (of any copy of it loaded in the app). */
  public static isProvider(x: unknown): x is ProvisionedProductPropertiesProvider {
    return typeof x === 'object' && x !== null && (x as Record<symbol, unknown>)[PROVIDER_BRAND] === true;
  }

  /** The custom resources' ServiceToken. */
  public readonly serviceToken: string;
  private readonly queryInterval: Duration;
  private readonly totalTimeout: Duration;
  private readonly settingsFrom: string;

  private constructor(scope: Construct, id: string, first: IConstruct, settings: WaiterSettings) {
    super(scope, id);
    Object.defineProperty(this, PROVIDER_BRAND, { value: true });
    this.queryInterval = settings.queryInterval ?? Duration.seconds(WAITER.defaultQueryIntervalSeconds);
    this.totalTimeout = settings.totalTimeout ?? Duration.seconds(WAITER.defaultTotalTimeoutSeconds);
    this.settingsFrom = first.node.path;
    checkWaiterSettings(first, this.queryInterval, this.totalTimeout);

    if (!existsSync(path.join(HANDLER_DIR, 'index.js'))) {
      throw new Error(
        `The ProvisionedProductProperties handler bundle is missing from ${HANDLER_DIR}. It is built with the package: run \`npm run build\` (or \`npm run build:handler\`) in the package, then synth again.`,
      );
    }

    // The waiter's name is fixed (the stack's id makes it unique), so that its ARN is known to the
    // handlers without a reference to it: the waiter refers to the isComplete function, and a
    // reference back would be a cycle.
    const stack = Stack.of(this);
    const waiterName = Fn.join('', [WAITER_NAME_PREFIX, Fn.select(2, Fn.split('/', Aws.STACK_ID))]);
    const waiterArn = stack.formatArn({
      service: 'states',
      resource: 'stateMachine',
      resourceName: waiterName,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    const waiterExecutionsArn = stack.formatArn({
      service: 'states',
      resource: 'execution',
      resourceName: `${waiterName}:*`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    const roles = createHandlerRoles(this, { waiterArn, waiterExecutionsArn });

    const logGroup = new logs.LogGroup(this, 'Logs', {
      retention: logs.RetentionDays.THREE_MONTHS,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    logGroup.grantWrite(roles.onEvent);
    logGroup.grantWrite(roles.isComplete);

    // The framework's own functions get roles from here rather than their default ones, which
    // carry the AWSLambdaBasicExecutionRole managed policy (logs on every log group): they log to
    // the provider's log group, and may write to it only. Two roles, as the framework requires
    // (one role for both would make a dependency cycle through the waiter state machine).
    const frameworkRole = (name: string, description: string): iam.Role => {
      const created = new iam.Role(this, name, { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'), description });
      logGroup.grantWrite(created);
      return created;
    };
    const frameworkOnEventRole = frameworkRole('FrameworkOnEventRole', 'ProvisionedProductProperties provider framework: onEvent');
    const frameworkCompleteAndTimeoutRole = frameworkRole(
      'FrameworkCompleteAndTimeoutRole',
      'ProvisionedProductProperties provider framework: isComplete and onTimeout',
    );

    // The waiter's execution history, every event but without execution data: the waiter's input
    // is the CloudFormation event, whose ResponseURL is a pre-signed S3 URL that must not be logged.
    // Named under /aws/vendedlogs/ as Step Functions recommends (it keeps the account's CloudWatch
    // Logs resource policy small), with the stack's id in it so that a re-created stack never meets
    // the group a deleted one retained.
    const waiterLogGroup = new logs.LogGroup(this, 'WaiterLogs', {
      logGroupName: Fn.join('', ['/aws/vendedlogs/states/provisioned-product-properties-', Fn.select(2, Fn.split('/', Aws.STACK_ID))]),
      retention: logs.RetentionDays.THREE_MONTHS,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    const code = lambda.Code.fromAsset(HANDLER_DIR);
    const timing = HANDLER_TIMING;
    const environment = {
      POWERTOOLS_SERVICE_NAME: SERVICE_NAME,
      POWERTOOLS_LOG_LEVEL: 'INFO',
      [timing.fastPathWindowMs.env]: String(timing.fastPathWindowMs.default),
      [timing.pollIntervalMs.env]: String(timing.pollIntervalMs.default),
      // So that isComplete can fail with its own message just before the waiter gives up.
      [timing.totalTimeoutMs.env]: String(this.totalTimeout.toMilliseconds()),
      [timing.queryIntervalMs.env]: String(this.queryInterval.toMilliseconds()),
      [WAITER_ARN_ENV]: waiterArn,
    };
    const fn = (name: string, handler: string, role: iam.IRole, description: string) =>
      new lambda.Function(this, name, {
        code,
        handler,
        description,
        runtime: lambda.Runtime.NODEJS_24_X,
        architecture: lambda.Architecture.ARM_64,
        memorySize: 256,
        timeout: Duration.minutes(1),
        role,
        logGroup,
        loggingFormat: lambda.LoggingFormat.JSON,
        environment,
      });
    const onEvent = fn(
      'OnEvent',
      HANDLER_ENTRY.onEvent,
      roles.onEvent,
      'ProvisionedProductProperties: validates, records the prior owner and launch role, plans the change',
    );
    const isComplete = fn(
      'IsComplete',
      HANDLER_ENTRY.isComplete,
      roles.isComplete,
      'ProvisionedProductProperties: applies the change and waits for its Service Catalog record',
    );

    const provider = new cr.Provider(this, 'Provider', {
      onEventHandler: onEvent,
      isCompleteHandler: isComplete,
      queryInterval: this.queryInterval,
      totalTimeout: this.totalTimeout,
      logGroup,
      frameworkOnEventRole,
      frameworkCompleteAndTimeoutRole,
      disableWaiterStateMachineLogging: false,
      waiterStateMachineLogOptions: { destination: waiterLogGroup, level: sfn.LogLevel.ALL, includeExecutionData: false },
    });
    this.serviceToken = provider.serviceToken;
    const waiter = provider.node.findChild('waiter-state-machine').node.defaultChild as sfn.CfnStateMachine;
    waiter.stateMachineName = waiterName;

    acknowledgeNagFindings(this, {
      handlerRoles: [roles.onEvent, roles.isComplete],
      isCompleteRole: roles.isComplete,
      passRoleResource: roles.passRoleResource,
      waiterExecutionsArn,
      frameworkRoles: [frameworkOnEventRole, frameworkCompleteAndTimeoutRole],
      handlers: [onEvent, isComplete],
      provider,
    });
  }

  private checkSameSettings(instance: IConstruct, settings: WaiterSettings): void {
    const conflicts: string[] = [];
    const differs = (asked: Duration | undefined, has: Duration) => asked !== undefined && asked.toMilliseconds() !== has.toMilliseconds();
    if (differs(settings.queryInterval, this.queryInterval)) {
      conflicts.push(`queryInterval ${settings.queryInterval?.toHumanString()} (the provider has ${this.queryInterval.toHumanString()})`);
    }
    if (differs(settings.totalTimeout, this.totalTimeout)) {
      conflicts.push(`totalTimeout ${settings.totalTimeout?.toHumanString()} (the provider has ${this.totalTimeout.toHumanString()})`);
    }
    if (conflicts.length > 0) {
      throw new Error(
        `ProvisionedProductProperties at ${instance.node.path}: ${conflicts.join(' and ')}. One provider serves every ProvisionedProductProperties in stack ${Stack.of(this).stackName}, ` +
          `and its settings came from ${this.settingsFrom}, the first instance. Give every instance in the stack the same queryInterval and totalTimeout, or set them on the first one only.`,
      );
    }
  }
}

/**
 * The waiter's settings as the provider framework needs them: whole seconds (its Retry counts in
 * seconds), a totalTimeout that is a whole number of queryIntervals, and CloudFormation's hour.
 * Checked here so that a bad value names the construct and the field instead of failing deep in
 * the framework.
 */
function checkWaiterSettings(instance: IConstruct, queryInterval: Duration, totalTimeout: Duration): void {
  const problems: string[] = [];
  const q = queryInterval.toMilliseconds();
  const t = totalTimeout.toMilliseconds();
  if (q % 1000 !== 0 || q < 1000)
    problems.push(`queryInterval ${queryInterval.toHumanString()} is not a whole number of seconds of at least 1`);
  if (t % 1000 !== 0) problems.push(`totalTimeout ${totalTimeout.toHumanString()} is not a whole number of seconds`);
  if (t > WAITER.maxTotalTimeoutSeconds * 1000) {
    problems.push(`totalTimeout ${totalTimeout.toHumanString()} is over 1 hour, CloudFormation's limit for a custom resource`);
  }
  if (q >= t) {
    problems.push(`queryInterval ${queryInterval.toHumanString()} is not shorter than totalTimeout ${totalTimeout.toHumanString()}`);
  } else if (problems.length === 0 && t % q !== 0) {
    problems.push(
      `totalTimeout ${totalTimeout.toHumanString()} is not a whole number of queryIntervals (${queryInterval.toHumanString()})`,
    );
  }
  if (problems.length > 0) {
    throw new Error(
      `ProvisionedProductProperties at ${instance.node.path}: ${problems.join('; ')}. ` +
        'Use a queryInterval of whole seconds (at least 1), and a totalTimeout of at most 1 hour that is a multiple of it, e.g. queryInterval: Duration.seconds(5), totalTimeout: Duration.minutes(30).',
    );
  }
}
