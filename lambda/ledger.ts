/**
 * The thin layer over the provider's ledger table (DynamoDB): each request's first decision (Powertools idempotency), and per resource its latest request and recorded priors.
 *
 * Items (partition key `id`):
 * - `request#<hash>`: Powertools' idempotency record of one CloudFormation request (its StackId,
 *   LogicalResourceId and RequestId, hashed): INPROGRESS while its first delivery decides, then
 *   COMPLETED with that decision (onEvent's answer: physical id and planned change, never the
 *   ResponseURL). Expires (TTL) a day later, when no copy of the request can still arrive.
 * - `resource#<hash>` ({@link resourceKey}): the latest request of the resource that reached the
 *   handler, and the priors recorded per product. Kept while the resource manages the product.
 */
import {
  ConditionalCheckFailedException,
  DynamoDBClient,
  GetItemCommand,
  UpdateItemCommand,
  type AttributeValue,
} from '@aws-sdk/client-dynamodb';
import { LEDGER } from '../lib/contract';
import { type LedgerPriors, type LedgerResource, resourceKey } from './ledger-rules';

// Created once per container. The SDK honours AWS_ENDPOINT_URL_DYNAMODB, which is how the tests
// point it at DynamoDB Local. maxAttempts covers throttling and 5xx bursts with backoff.
export const ledgerClient = new DynamoDBClient({ maxAttempts: 6 });

/** The ledger table's name ('' when the handler runs without one: every ledger call then fails, before any write). */
export const ledgerTableName = process.env[LEDGER.tableEnv] ?? '';

/** Which resource a call is about. */
export interface ResourceRef {
  readonly stackId: string;
  readonly logicalResourceId: string;
}

/** Reads what the ledger knows of a resource (strongly consistent). */
export async function readResource(ref: ResourceRef): Promise<LedgerResource> {
  const out = await ledgerClient.send(new GetItemCommand({ TableName: requireTable(), Key: keyOf(ref), ConsistentRead: true }));
  return fromItem(out.Item);
}

/**
 * Registers `requestId` as the resource's latest request (its first delivery only: Powertools runs
 * the decision once per request) and returns what the ledger then knows of the resource.
 */
export async function registerRequest(ref: ResourceRef, requestId: string, requestType: string): Promise<LedgerResource> {
  const out = await ledgerClient.send(
    new UpdateItemCommand({
      TableName: requireTable(),
      Key: keyOf(ref),
      UpdateExpression: 'SET latestRequestId = :r, latestRequestType = :t, registeredAt = :now, priors = if_not_exists(priors, :none)',
      ExpressionAttributeValues: {
        ':r': { S: requestId },
        ':t': { S: requestType },
        ':now': { N: String(Date.now()) },
        ':none': { M: {} },
      },
      ReturnValues: 'ALL_NEW',
    }),
  );
  return fromItem(out.Attributes);
}

/** Records the priors of one product of the resource, unless some are recorded already (the first capture's stand). */
export async function recordPriors(ref: ResourceRef, productId: string, priors: LedgerPriors): Promise<void> {
  try {
    await ledgerClient.send(
      new UpdateItemCommand({
        TableName: requireTable(),
        Key: keyOf(ref),
        UpdateExpression: 'SET priors.#p = :v',
        ConditionExpression: 'attribute_exists(priors) AND attribute_not_exists(priors.#p)',
        ExpressionAttributeNames: { '#p': productId },
        ExpressionAttributeValues: {
          ':v': { M: { owner: { S: priors.owner }, launchRole: { S: priors.launchRole }, requestId: { S: priors.requestId } } },
        },
      }),
    );
  } catch (e) {
    if (!(e instanceof ConditionalCheckFailedException)) throw e;
  }
}

/** Forgets the priors of one product once the resource no longer manages it (its Delete finished). */
export async function forgetPriors(ref: ResourceRef, productId: string): Promise<void> {
  await ledgerClient
    .send(
      new UpdateItemCommand({
        TableName: requireTable(),
        Key: keyOf(ref),
        UpdateExpression: 'REMOVE priors.#p',
        ConditionExpression: 'attribute_exists(priors)',
        ExpressionAttributeNames: { '#p': productId },
      }),
    )
    .catch((e: unknown) => {
      if (!(e instanceof ConditionalCheckFailedException)) throw e;
    });
}

function keyOf(ref: ResourceRef): Record<string, AttributeValue> {
  return { [LEDGER.partitionKey]: { S: resourceKey(ref.stackId, ref.logicalResourceId) } };
}

function requireTable(): string {
  if (ledgerTableName) return ledgerTableName;
  throw new Error(
    `the handler's environment has no ${LEDGER.tableEnv}: it runs only under the ProvisionedProductProperties provider, which sets it`,
  );
}

/** Reads an item leniently: a field of the wrong type counts as absent (the table is the provider's own, but nothing is trusted blindly). */
function fromItem(item: Record<string, AttributeValue> | undefined): LedgerResource {
  const priors: Record<string, LedgerPriors> = {};
  for (const [productId, value] of Object.entries(item?.priors?.M ?? {})) {
    const m = value.M;
    if (m?.owner?.S !== undefined && m.launchRole?.S !== undefined && m.requestId?.S !== undefined) {
      priors[productId] = { owner: m.owner.S, launchRole: m.launchRole.S, requestId: m.requestId.S };
    }
  }
  return { latestRequestId: item?.latestRequestId?.S, latestRequestType: item?.latestRequestType?.S, priors };
}
