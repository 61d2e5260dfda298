/**
 * The two handler functions (onEvent and isComplete) from the bundled handler: code, runtime, environment, logging.
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { Duration } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { HANDLER_ENTRY, HANDLER_TIMING, LEDGER, SERVICE_NAME } from '../contract';
import type { HandlerRoles } from './handler-roles';
import type { FunctionNetwork } from './network';
import type { ProviderSettings } from './provider-settings';

/** The directory of the bundled handler, built by `npm run build:handler` (scripts/bundle-handler.mjs). */
export const HANDLER_DIR = path.join(__dirname, '..', '..', 'assets', 'handler');

/** Fails synth with what to run when the package was not built (the handler bundle is missing). */
export function checkHandlerBundle(): void {
  if (!existsSync(path.join(HANDLER_DIR, 'index.js'))) {
    throw new Error(
      `The ProvisionedProductProperties handler bundle is missing from ${HANDLER_DIR}. It is built with the package: run \`npm run build\` (or \`npm run build:handler\`) in the package, then synth again.`,
    );
  }
}

/** What the handler functions are built from. */
export interface HandlerFunctionsProps {
  readonly roles: HandlerRoles;
  readonly logGroup: logs.ILogGroup;
  readonly settings: ProviderSettings;
  readonly network: FunctionNetwork;
  /** The ledger table's name, which the handlers record requests and priors in. */
  readonly ledgerTableName: string;
}

/** The two handler functions. */
export interface HandlerFunctions {
  readonly onEvent: lambda.Function;
  readonly isComplete: lambda.Function;
}

/** Creates the onEvent and isComplete functions, which share the code, the log group and the environment. */
export function createHandlerFunctions(scope: Construct, props: HandlerFunctionsProps): HandlerFunctions {
  const { settings } = props;
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
    [LEDGER.tableEnv]: props.ledgerTableName,
  };
  const fn = (id: string, handler: string, role: iam.IRole, description: string, timeout = Duration.minutes(1)) =>
    new lambda.Function(scope, id, {
      code,
      handler,
      description,
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: 256,
      timeout,
      role,
      logGroup: props.logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      environment,
      reservedConcurrentExecutions: settings.reservedConcurrency,
      tracing: settings.tracing ? lambda.Tracing.ACTIVE : undefined,
      ...props.network,
    });
  return {
    onEvent: fn(
      'OnEvent',
      HANDLER_ENTRY.onEvent,
      props.roles.onEvent,
      'ProvisionedProductProperties: validates, records the prior owner and launch role, plans the change',
    ),
    isComplete: fn(
      'IsComplete',
      HANDLER_ENTRY.isComplete,
      props.roles.isComplete,
      'ProvisionedProductProperties: applies the change and waits for its Service Catalog record',
      // Long enough to wait for its turn to write in a large stack (lambda/pacing.ts).
      Duration.millis(timing.isCompleteTimeoutMs.default),
    ),
  };
}
