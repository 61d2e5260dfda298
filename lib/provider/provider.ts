/**
 * The one provider per stack behind every ProvisionedProductProperties: it orchestrates the builders of its functions, roles, ledger, log groups, waiter and dead-letter queue.
 */
import { Stack } from 'aws-cdk-lib';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct, type IConstruct } from 'constructs';
import { configureFrameworkFunctions, createDeadLetterQueue, createFrameworkRoles } from './framework-functions';
import { checkHandlerBundle, createHandlerFunctions } from './handler-functions';
import { createHandlerRoles } from './handler-roles';
import { createDriftCheckFunction, createDriftCheckRole } from './drift-check-function';
import { createLedgerTable, grantLedger, grantStackStatus } from './ledger-table';
import { createLogGroups } from './log-groups';
import { acknowledgeNagFindings } from './nag-acknowledgements';
import { placeInNetwork } from './network';
import { type ExistingProvider, type ProviderSettings, checkSettings, resolveSettings } from './provider-settings';
import type { SharedProviderProps } from './shared-provider-props';
import type { DriftCheck } from '../drift-check';
import { configureWaiter, waiterIdentity } from './waiter';

/** Marks providers created here, so that the stack's provider is found by type, not by construct id alone. */
const PROVIDER_BRAND = Symbol.for('cdk-provisioned-product-properties.Provider');

/**
 * The one provider per stack behind every ProvisionedProductProperties in it: the onEvent and
 * isComplete functions, their roles and log group, the ledger table they record requests and
 * priors in, the provider framework's waiter, and the dead-letter queue of the function
 * CloudFormation invokes.
 */
export class ProvisionedProductPropertiesProvider extends Construct {
  /** The construct id of the provider, a direct child of the stack. */
  private static readonly ID = 'ProvisionedProductPropertiesProvider';

  /**
   * The problems with the provider settings `instance` asks for (see {@link checkSettings}): the
   * settings of the stack's provider when there is one already, else the ones it would be built with.
   */
  public static checkSettings(instance: IConstruct, asked: SharedProviderProps): string[] {
    const existing = Stack.of(instance).node.tryFindChild(this.ID);
    return checkSettings(asked, ProvisionedProductPropertiesProvider.isProvider(existing) ? existing.asExisting() : undefined);
  }

  /**
   * The stack's provider, created on first use with the settings of `instance` (the first
   * instance). The settings must have passed {@link ProvisionedProductPropertiesProvider.checkSettings}.
   */
  public static getOrCreate(instance: IConstruct, settings: SharedProviderProps): ProvisionedProductPropertiesProvider {
    const stack = Stack.of(instance);
    const existing = stack.node.tryFindChild(this.ID);
    if (!existing) return new ProvisionedProductPropertiesProvider(stack, this.ID, instance, settings);
    if (!ProvisionedProductPropertiesProvider.isProvider(existing)) {
      throw new Error(
        `ProvisionedProductProperties at ${instance.node.path}: the stack ${stack.stackName} already has a construct with the id ${this.ID} ` +
          `(${existing.node.path}) that is not this library's provider. That id is reserved for the provider every ProvisionedProductProperties in the stack shares: rename your construct.`,
      );
    }
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
    const settings = resolveSettings(asked);
    this.settings = settings;
    this.settingsFrom = first.node.path;
    checkHandlerBundle();

    const waiter = waiterIdentity(this);
    const roles = createHandlerRoles(this);
    const ledger = createLedgerTable(this, settings.ledgerEncryptionKey);
    grantLedger(ledger, { onEvent: roles.onEvent, isComplete: roles.isComplete });
    grantStackStatus(this, roles.isComplete);
    const logGroups = createLogGroups(this, waiter.stackUuid, settings.logEncryptionKey);
    logGroups.functions.grantWrite(roles.onEvent);
    logGroups.functions.grantWrite(roles.isComplete);
    const frameworkRoles = createFrameworkRoles(this, logGroups.functions);
    const driftRole = settings.driftCheck ? createDriftCheckRole(this, settings.driftCheck, roles.passRoleResource) : undefined;
    const network = placeInNetwork(this, settings, [
      roles.onEvent,
      roles.isComplete,
      frameworkRoles.onEvent,
      frameworkRoles.completeAndTimeout,
      ...(driftRole ? [driftRole] : []),
    ]);
    const handlers = createHandlerFunctions(this, {
      roles,
      logGroup: logGroups.functions,
      settings,
      network,
      ledgerTableName: ledger.tableName,
    });

    const provider = new cr.Provider(this, 'Provider', {
      onEventHandler: handlers.onEvent,
      isCompleteHandler: handlers.isComplete,
      queryInterval: settings.queryInterval,
      totalTimeout: settings.totalTimeout,
      logGroup: logGroups.functions,
      frameworkOnEventRole: frameworkRoles.onEvent,
      frameworkCompleteAndTimeoutRole: frameworkRoles.completeAndTimeout,
      disableWaiterStateMachineLogging: false,
      waiterStateMachineLogOptions: { destination: logGroups.waiter, level: sfn.LogLevel.ALL, includeExecutionData: false },
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
    configureWaiter(provider, waiter.name, settings.tracing);
    if (settings.driftCheck && driftRole) {
      createDriftCheckFunction(this, {
        check: settings.driftCheck,
        role: driftRole,
        ledger,
        logGroup: logGroups.functions,
        network,
        tracing: settings.tracing,
        deadLetterQueue: this.deadLetterQueue,
        reservedConcurrency: settings.reservedConcurrency,
      });
    }

    acknowledgeNagFindings(this, {
      handlerRoles: [roles.onEvent, roles.isComplete, ...(driftRole ? [driftRole] : [])],
      passRoles: [roles.isComplete, ...(driftRole && settings.driftCheck?.restore ? [driftRole] : [])],
      passRoleResource: roles.passRoleResource,
      ledger,
      frameworkRoles: [frameworkRoles.onEvent, frameworkRoles.completeAndTimeout],
      handlers: [handlers.onEvent, handlers.isComplete],
      frameworkFunctions,
      deadLetterQueue: this.deadLetterQueue,
      provider,
      settings,
    });
  }

  /** The provider's drift check, when it has one. */
  public get driftCheck(): DriftCheck | undefined {
    return this.settings.driftCheck;
  }

  /** What a later instance's settings are checked against. */
  private asExisting(): ExistingProvider {
    return { settings: this.settings, settingsFrom: this.settingsFrom, stackName: Stack.of(this).stackName };
  }
}
