/**
 * Each CloudFormation request decided once: onEvent's decision kept in the ledger by Powertools' idempotency, and a copy that arrives while the first still decides waits for it.
 *
 * The first delivery of a request takes the request's record with a conditional put (INPROGRESS,
 * locked for the rest of its Lambda invocation), decides, and stores its decision (COMPLETED). Every
 * later delivery, at any moment, answers with that stored decision: it never reads the product
 * again, so it can never take values this resource wrote for the priors. A delivery that finds the
 * record INPROGRESS waits for the decision (or for the lock to lapse, when the first delivery
 * crashed) instead of failing. A decision that fails is not stored: nothing was written, and the
 * next delivery decides afresh.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import {
  IdempotencyAlreadyInProgressError,
  IdempotencyConfig,
  IdempotencyValidationError,
  makeIdempotent,
} from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import type { Context } from 'aws-lambda';
import { LEDGER } from '../lib/contract';
import { timing } from './config';
import type { CustomResourceEvent, OnEventResult } from './events';
import { ledgerClient, ledgerTableName } from './ledger';
import { logger } from './logger';
import { ReportedError, deliveryDiffers, ledgerUnavailable, stillDeciding } from './messages';

/** Time kept back from the invocation's remaining time when waiting for another delivery's decision (at most a tenth of it). */
const WAIT_MARGIN_MS = 5_000;

const config = new IdempotencyConfig({
  // One record per CloudFormation request: every delivery of it shares these three.
  eventKeyJmesPath: '[StackId, LogicalResourceId, RequestId]',
  // A delivery of the same request with other content is not a copy: refused, never answered with the first's decision.
  payloadValidationJmesPath: '[RequestType, PhysicalResourceId, ResourceProperties, OldResourceProperties]',
  throwOnNoIdempotencyKey: true,
  expiresAfterSeconds: LEDGER.requestRecordSeconds,
});

const persistenceStore = new DynamoDBPersistenceLayer({
  tableName: ledgerTableName,
  keyAttr: LEDGER.partitionKey,
  expiryAttr: LEDGER.timeToLiveAttribute,
  awsSdkV3Client: ledgerClient,
});

/**
 * Decides `event` once per request with `decide` (the first delivery), or answers with the
 * decision stored by the first delivery. `context` bounds the in-progress lock and the wait.
 */
export async function decideOnce(
  event: CustomResourceEvent,
  context: Pick<Context, 'getRemainingTimeInMillis'> | undefined,
  decide: (event: CustomResourceEvent) => Promise<OnEventResult>,
): Promise<OnEventResult> {
  if (context) config.registerLambdaContext(context as Context);
  const remaining = context?.getRemainingTimeInMillis?.() ?? 60_000;
  const waitUntil = Date.now() + remaining - Math.min(WAIT_MARGIN_MS, remaining / 10);
  // A copy, so that nothing the decision does to its input can change the record's key (Powertools issue 5715).
  // The decision as JSON keeps it (undefined members dropped, as the framework's JSON would): what the first delivery answers, every copy answers.
  const once = makeIdempotent(async (input: CustomResourceEvent) => JSON.parse(JSON.stringify(await decide(input))) as OnEventResult, {
    persistenceStore,
    config,
  });
  for (let waits = 0; ; waits++) {
    try {
      return await once(structuredClone(event));
    } catch (e) {
      if (e instanceof IdempotencyAlreadyInProgressError) {
        if (Date.now() + timing.pollIntervalMs > waitUntil) throw new ReportedError(stillDeciding(waits), { cause: e });
        if (waits === 0) logger.info('Another delivery of this request is deciding; waiting for its decision');
        await sleep(timing.pollIntervalMs);
        continue;
      }
      if (e instanceof IdempotencyValidationError) throw new ReportedError(deliveryDiffers(), { cause: e });
      if (isLedgerError(e)) throw new ReportedError(ledgerUnavailable(ledgerTableName, 'record this request', e), { cause: e });
      throw e;
    }
  }
}

/** Powertools' errors about its store (its own classes, by name: they wrap the DynamoDB error as `cause`). */
function isLedgerError(e: unknown): boolean {
  return e instanceof Error && /^Idempotency/.test(e.name);
}
