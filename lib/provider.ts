/**
 * The one provider per stack behind every ProvisionedProductProperties: handler functions, roles, log groups, the waiter and the dead-letter queue.
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { ArnFormat, Aws, Duration, Fn, RemovalPolicy, Stack } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct, type IConstruct } from 'constructs';
import { HANDLER_ENTRY, HANDLER_TIMING, SERVICE_NAME, WAITER_ARN_ENV, WAITER_NAME_PREFIX } from './contract';
import { createHandlerRoles } from './handler-roles';
import { ManagedPolicyRole, moveInlinePolicyToManaged } from './managed-policy-role';
import { acknowledgeNagFindings } from './nag-acknowledgements';
import {
  LOG_GROUP_PREFIX,
  configureFrameworkFunctions,
  createDeadLetterQueue,
  createFunctionsSecurityGroup,
  grantLogEncryption,
  traceWaiter,
  vpcAccessStatement,
} from './provider-compliance';
import { type ProviderSettings, checkSettingValues, resolveSettings, settingsConflicts } from './provider-settings';
import type { SharedProviderProps } from './shared-provider-props';

/** The directory of the bundled handler, built by `npm run build:handler` (scripts/bundle-handler.mjs). */
const HANDLER_DIR = path.join(__dirname, '..', 'assets', 'handler');

/** Marks providers created here, so that the stack's provider is found by type, not by construct id alone. */
const PROVIDER_BRAND = Symbol.for('cdk-provisioned-product-properties.Provider');

/**
 * The one provider per stack behind every ProvisionedProductProperties in it: the onEvent and
 * isComplete functions, their roles and log group, the provider framework's waiter, and the
 * dead-letter queue of the function CloudFormation invokes.
 */
export class ProvisionedProductPropertiesProvider extends Construct {
  /** The construct id of the provider, a direct child of the stack. */
  private static readonly ID = 'ProvisionedProductPropertiesProvider';

  /**
   * The stack's provider, created on first use with the settings of `instance` (the first
   * instance); later instances must ask for the same settings or none.
   */
  public static getOrCreate(instance: IConstruct, settings: SharedProviderProps): ProvisionedProductPropertiesProvider {
    const problems = checkSettingValues(settings);
    if (problems.length > 0) throw new Error(`ProvisionedProductProperties at ${instance.node.path}: ${problems.join(' | ')}`);
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
  /** Receives the CloudFormation events the framework's onEvent function could not handle after Lambda's retries. */
  public readonly deadLetterQueue: sqs.IQueue;
  private readonly settings: ProviderSettings;
  private readonly settingsFrom: string;

  private constructor(scope: Construct, id: string, first: IConstruct, asked: SharedProviderProps) {
    super(scope, id);
    Object.defineProperty(this, PROVIDER_BRAND, { value: true });
    const settings = resolveSettings(first, asked);
    this.settings = settings;
    this.settingsFrom = first.node.path;

    if (!existsSync(path.join(HANDLER_DIR, 'index.js'))) {
      throw new Error(
        `The ProvisionedProductProperties handler bundle is missing from ${HANDLER_DIR}. It is built with the package: run \`npm run build\` (or \`npm run build:handler\`) in the package, then synth again.`,
      );
    }

    // The waiter's name is fixed (the stack's id makes it unique), so that its ARN is known to the
    // handlers without a reference to it: the waiter refers to the isComplete function, and a
    // reference back would be a cycle.
    const stack = Stack.of(this);
    const stackUuid = Fn.select(2, Fn.split('/', Aws.STACK_ID));
    const waiterName = Fn.join('', [WAITER_NAME_PREFIX, stackUuid]);
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

    // Both log groups are named with the stack's id (so that a re-created stack never meets the
    // group a deleted one retained), under prefixes the log key's grant can name without a
    // reference to this stack.
    const encryptionKey = settings.logEncryptionKey;
    if (encryptionKey) grantLogEncryption(this, encryptionKey);
    const logGroup = new logs.LogGroup(this, 'Logs', {
      logGroupName: Fn.join('', [LOG_GROUP_PREFIX.functions, stackUuid]),
      retention: logs.RetentionDays.THREE_MONTHS,
      removalPolicy: RemovalPolicy.RETAIN,
      encryptionKey,
    });
    logGroup.grantWrite(roles.onEvent);
    logGroup.grantWrite(roles.isComplete);

    // The framework's own functions get roles from here rather than their default ones, which
    // carry the AWSLambdaBasicExecutionRole managed policy (logs on every log group): they log to
    // the provider's log group, and may write to it only. Two roles, as the framework requires
    // (one role for both would make a dependency cycle through the waiter state machine).
    const frameworkRole = (name: string, description: string): iam.Role => {
      const created = new ManagedPolicyRole(this, name, { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'), description });
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
    // Logs resource policy small).
    const waiterLogGroup = new logs.LogGroup(this, 'WaiterLogs', {
      logGroupName: Fn.join('', [LOG_GROUP_PREFIX.waiter, stackUuid]),
      retention: logs.RetentionDays.THREE_MONTHS,
      removalPolicy: RemovalPolicy.RETAIN,
      encryptionKey,
    });

    // Every function runs in the user's VPC when one is given, with one security group for all
    // unless the user gives theirs; the roles then need what Lambda uses to manage the interfaces.
    const network = this.network(settings, [roles.onEvent, roles.isComplete, frameworkOnEventRole, frameworkCompleteAndTimeoutRole]);

    const code = lambda.Code.fromAsset(HANDLER_DIR);
    const timing = HANDLER_TIMING;
    const environment = {
      POWERTOOLS_SERVICE_NAME: SERVICE_NAME,
      POWERTOOLS_LOG_LEVEL: 'INFO',
      [timing.fastPathWindowMs.env]: String(timing.fastPathWindowMs.default),
      [timing.pollIntervalMs.env]: String(timing.pollIntervalMs.default),
      // So that isComplete can fail with its own message just before the waiter gives up.
      [timing.totalTimeoutMs.env]: String(settings.totalTimeout.toMilliseconds()),
      [timing.queryIntervalMs.env]: String(settings.queryInterval.toMilliseconds()),
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
        reservedConcurrentExecutions: settings.reservedConcurrency,
        tracing: settings.tracing ? lambda.Tracing.ACTIVE : undefined,
        ...network,
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
      queryInterval: settings.queryInterval,
      totalTimeout: settings.totalTimeout,
      logGroup,
      frameworkOnEventRole,
      frameworkCompleteAndTimeoutRole,
      disableWaiterStateMachineLogging: false,
      waiterStateMachineLogOptions: { destination: waiterLogGroup, level: sfn.LogLevel.ALL, includeExecutionData: false },
      ...network,
    });
    this.serviceToken = provider.serviceToken;
    this.deadLetterQueue = createDeadLetterQueue(this);
    const frameworkFunctions = configureFrameworkFunctions(provider, {
      reservedConcurrency: settings.reservedConcurrency,
      tracing: settings.tracing,
      deadLetterQueue: this.deadLetterQueue,
      totalTimeout: settings.totalTimeout,
    });

    const waiterConstruct = provider.node.findChild('waiter-state-machine');
    const waiter = waiterConstruct.node.defaultChild as sfn.CfnStateMachine;
    waiter.stateMachineName = waiterName;
    // The waiter's role is the framework's own, a plain iam.Role: its inline policy moves to a
    // managed policy, like every other role's here.
    const waiterRole = waiterConstruct.node.findChild('Role') as iam.Role;
    if (settings.tracing) traceWaiter(waiter, waiterRole);
    moveInlinePolicyToManaged(waiterRole);

    acknowledgeNagFindings(this, {
      handlerRoles: [roles.onEvent, roles.isComplete],
      isCompleteRole: roles.isComplete,
      passRoleResource: roles.passRoleResource,
      waiterExecutionsArn,
      frameworkRoles: [frameworkOnEventRole, frameworkCompleteAndTimeoutRole],
      handlers: [onEvent, isComplete],
      frameworkFunctions,
      deadLetterQueue: this.deadLetterQueue,
      provider,
      settings,
    });
  }

  /** The VPC placement of every function (none without a VPC), and the roles' permission to use it. */
  private network(
    settings: ProviderSettings,
    roles: readonly iam.IRole[],
  ): Pick<cr.ProviderProps, 'vpc' | 'vpcSubnets' | 'securityGroups'> {
    if (!settings.vpc) return {};
    for (const role of roles) role.addToPrincipalPolicy(vpcAccessStatement());
    const securityGroups: ec2.ISecurityGroup[] = settings.securityGroups ?? [createFunctionsSecurityGroup(this, settings.vpc)];
    return { vpc: settings.vpc, vpcSubnets: settings.vpcSubnets, securityGroups };
  }

  private checkSameSettings(instance: IConstruct, asked: SharedProviderProps): void {
    const conflicts = settingsConflicts(asked, this.settings);
    if (conflicts.length > 0) {
      throw new Error(
        `ProvisionedProductProperties at ${instance.node.path}: ${conflicts.join(' and ')}. One provider serves every ProvisionedProductProperties in stack ${Stack.of(this).stackName}, ` +
          `and its settings came from ${this.settingsFrom}, the first instance. Give every instance in the stack the same provider settings (queryInterval, totalTimeout, vpc, vpcSubnets, securityGroups, logEncryptionKey, reservedConcurrency, tracing), or set them on the first one only.`,
      );
    }
  }
}
