/**
 * The thin layer over the provider's ledger table (DynamoDB): each request's first decision (Powertools idempotency), and per resource its latest request and recorded priors.
 *
 * Items (partition key `id`):
 * - `request#<hash>`: Powertools' idempotency record of one CloudFormation request (its StackId,
 *   LogicalResourceId and RequestId, hashed): INPROGRESS while its first delivery decides, then
 *   COMPLETED with that decision (onEvent's answer: physical id and planned change, never the
 *   ResponseURL). Expires (TTL) a day later, when no copy of the request can still arrive.
 * - `registration#<hash>` ({@link registrationKey}): that a request registered with its resource
 *   once; expires with the request's record.
 * - `resource#<hash>` ({@link resourceKey}): the latest request of the resource that reached the
 *   handler, the priors recorded per product (kept while the resource manages the product), and
 *   the write lease while a request writes.
 */
import {
  ConditionalCheckFailedException,
  DynamoDBClient,
  GetItemCommand,
  ScanCommand,
  TransactWriteItemsCommand,
  TransactionCanceledException,
  UpdateItemCommand,
  type AttributeValue,
} from '@aws-sdk/client-dynamodb';
import { LEDGER } from '../lib/contract';
import { PROPERTY_KEYS, type PropertyKey, type PropertyValues } from '../lib/rules';
import { ReportedError, ledgerUnavailable } from './messages';
import {
  type DriftSeen,
  type LedgerDeclared,
  type LedgerPriors,
  type LedgerResource,
  expiredTombstones,
  physicalIdKey,
  registrationKey,
  resourceKey,
} from './ledger-rules';

// Created once per container. The SDK honours AWS_ENDPOINT_URL_DYNAMODB, which is how the tests
// point it at DynamoDB Local. maxAttempts covers throttling and 5xx bursts with backoff.
export const ledgerClient = new DynamoDBClient({ maxAttempts: 6 });

/** The ledger table's name ('' when the handler runs without one: every ledger call then fails, before any write). */
export const ledgerTableName = process.env[LEDGER.tableEnv] ?? '';

/**
 * Runs a ledger call; a failure (after the SDK's retries of what is transient: throttling, 5xx,
 * dropped connections) fails the event before anything is written to Service Catalog, saying what
 * to check.
 */
export async function ledgerCall<T>(doing: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (e) {
    throw new ReportedError(ledgerUnavailable(ledgerTableName, doing, e), { cause: e });
  }
}

/** Runs a conditional write whose condition failing means "nothing to do" (someone newer holds the item). */
async function unlessConditionFails(write: Promise<unknown>): Promise<void> {
  try {
    await write;
  } catch (e) {
    if (!(e instanceof ConditionalCheckFailedException)) throw e;
  }
}

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

/** Where a request stands once registered: what the ledger knows of the resource, and whether the request is its latest. */
export interface Registration {
  readonly resource: LedgerResource;
  /** False when a later request of the resource registered after this one's first registration. */
  readonly isLatest: boolean;
  /** True when the request names a physical id a Delete of the resource removed: it was not registered. */
  readonly targetDeleted: boolean;
}

/**
 * Registers `requestId` as the resource's latest request, once per request ever: a one-time
 * registration item (kept as long as a copy of the request can arrive) and the resource's latest
 * request are written together in one transaction, so that a copy of an old request, decided again
 * because its first decision failed, can never take the place of a newer request.
 */
export async function registerRequest(
  ref: ResourceRef,
  requestId: string,
  requestType: string,
  physicalResourceId?: string,
): Promise<Registration> {
  const table = requireTable();
  const now = Date.now();
  // CloudFormation sends nothing to a physical resource it deleted: a request that names one is a late copy.
  const target = physicalResourceId !== undefined && requestType !== 'Create' ? physicalIdKey(physicalResourceId) : undefined;
  try {
    await ledgerClient.send(
      new TransactWriteItemsCommand({
        TransactItems: [
          {
            Put: {
              TableName: table,
              Item: {
                [LEDGER.partitionKey]: { S: registrationKey(ref.stackId, ref.logicalResourceId, requestId) },
                requestType: { S: requestType },
                [LEDGER.timeToLiveAttribute]: { N: String(Math.ceil(now / 1000) + LEDGER.requestRecordSeconds) },
              },
              ConditionExpression: 'attribute_not_exists(#k)',
              ExpressionAttributeNames: { '#k': LEDGER.partitionKey },
            },
          },
          {
            Update: {
              TableName: table,
              Key: keyOf(ref),
              UpdateExpression:
                'SET previousRequestId = if_not_exists(latestRequestId, :nobody), latestRequestId = :r, latestRequestType = :t, registeredAt = :now, stackId = :s, logicalResourceId = :l, priors = if_not_exists(priors, :none), deleted = if_not_exists(deleted, :none)',
              ...(target !== undefined
                ? { ConditionExpression: 'attribute_not_exists(deleted.#target)', ExpressionAttributeNames: { '#target': target } }
                : {}),
              ExpressionAttributeValues: {
                ':r': { S: requestId },
                ':t': { S: requestType },
                ':now': { N: String(now) },
                ':none': { M: {} },
                ':nobody': { S: '' },
                ':s': { S: ref.stackId },
                ':l': { S: ref.logicalResourceId },
              },
            },
          },
        ],
      }),
    );
  } catch (e) {
    if (!(e instanceof TransactionCanceledException)) throw e;
    const [registration, resource] = (e.CancellationReasons ?? []).map((r) => r.Code === 'ConditionalCheckFailed');
    if (resource) return { resource: await readResource(ref), isLatest: false, targetDeleted: true };
    // The registration exists: this request registered before (its first decision failed, or did not finish).
    if (!registration) throw e;
  }
  const resource = await readResource(ref);
  await dropExpiredTombstones(ref, resource, now);
  return { resource, isLatest: resource.latestRequestId === requestId, targetDeleted: false };
}

/** Drops the tombstones no copy of a request can still need (best effort: they only cost bytes). */
async function dropExpiredTombstones(ref: ResourceRef, resource: LedgerResource, now: number): Promise<void> {
  const expired = expiredTombstones(resource.deleted, now, LEDGER.requestRecordSeconds * 1000);
  if (expired.length === 0) return;
  await ledgerClient
    .send(
      new UpdateItemCommand({
        TableName: requireTable(),
        Key: keyOf(ref),
        UpdateExpression: `REMOVE ${expired.map((_, i) => `deleted.#t${i}`).join(', ')}`,
        ExpressionAttributeNames: Object.fromEntries(expired.map((key, i) => [`#t${i}`, key])),
      }),
    )
    .catch(() => undefined);
}

/** Clears the tombstone of `physicalId`: a capture answers with it again (the same product and priors make the same id). */
export async function clearDeleted(ref: ResourceRef, physicalId: string): Promise<void> {
  await ledgerClient.send(
    new UpdateItemCommand({
      TableName: requireTable(),
      Key: keyOf(ref),
      UpdateExpression: 'REMOVE deleted.#h',
      ExpressionAttributeNames: { '#h': physicalIdKey(physicalId) },
    }),
  );
}

/**
 * Records that a Delete of the resource removed `physicalId` (a tombstone, kept a day), so that no
 * late copy of a request that names it is ever decided again.
 */
export async function recordDeleted(ref: ResourceRef, physicalId: string): Promise<void> {
  await unlessConditionFails(
    ledgerClient.send(
      new UpdateItemCommand({
        TableName: requireTable(),
        Key: keyOf(ref),
        UpdateExpression: 'SET deleted.#h = :now',
        ConditionExpression: 'attribute_exists(deleted)',
        ExpressionAttributeNames: { '#h': physicalIdKey(physicalId) },
        ExpressionAttributeValues: { ':now': { N: String(Date.now()) } },
      }),
    ),
  );
}

/** How taking the write lease went. */
export type LeaseResult =
  /** The lease is this request's (with the resource as the lease left it). */
  | { readonly kind: 'taken'; readonly resource: LedgerResource }
  /** A later request of the resource registered: this one must not write. */
  | { readonly kind: 'superseded'; readonly resource: LedgerResource }
  /** Another request holds it (one that was the latest when it took it, writing right now). */
  | { readonly kind: 'held'; readonly resource: LedgerResource };

/**
 * Takes the resource's write lease for `requestId` until `untilMs`, only while the request is the
 * resource's latest: the check "still the latest?" and the claim are one conditional write, so no
 * later request can register, read the product and decide between this request's check and its
 * write (a request that registers waits for the lease before it reads; see onEvent). Every
 * delivery of the same request shares the lease.
 *
 * The drift check writes under the lease too, as `writer` (an id no request has), and only while
 * `requestId` (the request whose declared values it puts back) is still the latest.
 */
export async function takeWriteLease(ref: ResourceRef, requestId: string, untilMs: number, writer = requestId): Promise<LeaseResult> {
  try {
    const out = await ledgerClient.send(
      new UpdateItemCommand({
        TableName: requireTable(),
        Key: keyOf(ref),
        UpdateExpression: 'SET writerRequestId = :w, writerUntil = :until',
        ConditionExpression:
          'latestRequestId = :r AND (attribute_not_exists(writerRequestId) OR writerRequestId = :w OR writerUntil < :now)',
        ExpressionAttributeValues: {
          ':r': { S: requestId },
          ':w': { S: writer },
          ':until': { N: String(untilMs) },
          ':now': { N: String(Date.now()) },
        },
        ReturnValues: 'ALL_NEW',
      }),
    );
    return { kind: 'taken', resource: fromItem(out.Attributes) };
  } catch (e) {
    if (!(e instanceof ConditionalCheckFailedException)) throw e;
  }
  const resource = await readResource(ref);
  return resource.latestRequestId === requestId ? { kind: 'held', resource } : { kind: 'superseded', resource };
}

/**
 * Gives the write lease back (when `requestId`, or the drift check's writer id, still holds it),
 * recording the write Service Catalog accepted under it, if any ({@link LedgerResource.lastWrite}).
 */
export async function releaseWriteLease(
  ref: ResourceRef,
  requestId: string,
  accepted?: { readonly token: string; readonly recordId: string },
): Promise<void> {
  await unlessConditionFails(
    ledgerClient.send(
      new UpdateItemCommand({
        TableName: requireTable(),
        Key: keyOf(ref),
        UpdateExpression: `REMOVE writerRequestId, writerUntil${accepted ? ' SET lastWriteToken = :t, lastWriteRecordId = :rec' : ''}`,
        ConditionExpression: 'writerRequestId = :r',
        ExpressionAttributeValues: {
          ':r': { S: requestId },
          ...(accepted ? { ':t': { S: accepted.token }, ':rec': { S: accepted.recordId } } : {}),
        },
      }),
    ),
  );
}

/**
 * Records the priors of one product of the resource, unless some are recorded already (the first
 * capture's stand), and returns the priors that stand: a capture writes those, never its own read,
 * into the physical id.
 */
export async function recordPriors(ref: ResourceRef, productId: string, priors: LedgerPriors): Promise<LedgerPriors> {
  try {
    await ledgerClient.send(
      new UpdateItemCommand({
        TableName: requireTable(),
        Key: keyOf(ref),
        UpdateExpression: 'SET priors.#p = :v',
        ConditionExpression: 'attribute_exists(priors) AND attribute_not_exists(priors.#p)',
        ExpressionAttributeNames: { '#p': productId },
        ExpressionAttributeValues: {
          ':v': {
            M: {
              owner: { S: priors.owner },
              launchRole: { S: priors.launchRole },
              requestId: { S: priors.requestId },
              ...(priors.physicalId !== undefined ? { physicalId: { S: priors.physicalId } } : {}),
            },
          },
        },
      }),
    );
    return priors;
  } catch (e) {
    if (!(e instanceof ConditionalCheckFailedException)) throw e;
  }
  const standing = (await readResource(ref)).priors[productId];
  if (!standing)
    throw new Error(`the ledger's entry of ${ref.logicalResourceId} lost its priors for ${productId} while they were recorded`);
  return standing;
}

/**
 * Forgets the priors of one product once the resource no longer manages it (its Delete finished, or
 * an orphaned capture was put back), unless a later request has registered since; with
 * `recordedBy`, only the priors that request recorded.
 */
export async function forgetPriors(ref: ResourceRef, productId: string, requestId: string, recordedBy?: string): Promise<void> {
  await unlessConditionFails(
    ledgerClient.send(
      new UpdateItemCommand({
        TableName: requireTable(),
        Key: keyOf(ref),
        UpdateExpression: 'REMOVE priors.#p',
        ConditionExpression: `attribute_exists(priors) AND latestRequestId = :r${recordedBy !== undefined ? ' AND priors.#p.requestId = :c' : ''}`,
        ExpressionAttributeNames: { '#p': productId },
        ExpressionAttributeValues: { ':r': { S: requestId }, ...(recordedBy !== undefined ? { ':c': { S: recordedBy } } : {}) },
      }),
    ),
  );
}

/**
 * Records what a completed Create or Update of the resource declares for its product, beside the
 * product's priors (and forgets what the drift check found before), unless a later request has
 * registered since: the drift check compares the product with these values.
 */
export async function recordDeclared(ref: ResourceRef, productId: string, declared: LedgerDeclared): Promise<void> {
  await unlessConditionFails(
    ledgerClient.send(
      new UpdateItemCommand({
        TableName: requireTable(),
        Key: keyOf(ref),
        UpdateExpression: 'SET priors.#p.declared = :d REMOVE priors.#p.drift',
        ConditionExpression: 'attribute_exists(priors.#p) AND latestRequestId = :r',
        ExpressionAttributeNames: { '#p': productId },
        ExpressionAttributeValues: { ':d': declaredItem(declared), ':r': { S: declared.requestId } },
      }),
    ),
  );
}

/**
 * Records what the drift check found different from the declared values of one product (none:
 * forgets it), unless the declared values changed meanwhile (a newer request completed).
 */
export async function recordDrift(
  ref: ResourceRef,
  productId: string,
  declaredBy: string,
  drift: Readonly<Partial<Record<PropertyKey, DriftSeen>>>,
): Promise<void> {
  const entries = Object.entries(drift) as Array<[PropertyKey, DriftSeen]>;
  await unlessConditionFails(
    ledgerClient.send(
      new UpdateItemCommand({
        TableName: requireTable(),
        Key: keyOf(ref),
        UpdateExpression: entries.length > 0 ? 'SET priors.#p.drift = :d' : 'REMOVE priors.#p.drift',
        ConditionExpression: 'priors.#p.declared.requestId = :r',
        ExpressionAttributeNames: { '#p': productId },
        ExpressionAttributeValues: {
          ':r': { S: declaredBy },
          ...(entries.length > 0
            ? {
                ':d': {
                  M: Object.fromEntries(
                    entries.map(([k, seen]) => [k, { M: { found: { S: seen.found }, since: { N: String(seen.since) } } }]),
                  ),
                },
              }
            : {}),
        },
      }),
    ),
  );
}

/**
 * Every resource the ledger holds priors for (one Scan, page by page, strongly consistent): the
 * resources of the stack, whatever state their requests are in. The table holds one item per
 * resource and a few per recent request (those expire a day later), so a Scan reads little more
 * than the resources.
 */
export async function scanResources(): Promise<LedgerResource[]> {
  const found: LedgerResource[] = [];
  let start: Record<string, AttributeValue> | undefined;
  do {
    const out = await ledgerClient.send(
      new ScanCommand({
        TableName: requireTable(),
        ConsistentRead: true,
        FilterExpression: 'begins_with(#k, :resource) AND attribute_exists(priors)',
        ExpressionAttributeNames: { '#k': LEDGER.partitionKey },
        ExpressionAttributeValues: { ':resource': { S: 'resource#' } },
        ExclusiveStartKey: start,
      }),
    );
    for (const item of out.Items ?? []) found.push(fromItem(item));
    start = out.LastEvaluatedKey;
  } while (start !== undefined);
  return found;
}

function declaredItem(declared: LedgerDeclared): AttributeValue {
  return {
    M: {
      properties: { M: Object.fromEntries(Object.entries(declared.properties).map(([k, v]) => [k, { S: v }])) },
      requestId: { S: declared.requestId },
      at: { N: String(declared.at) },
      ...(declared.acceptLanguage !== undefined ? { acceptLanguage: { S: declared.acceptLanguage } } : {}),
    },
  };
}

/** The resource an event is about. */
export function refOf(event: { readonly StackId: string; readonly LogicalResourceId: string }): ResourceRef {
  return { stackId: event.StackId, logicalResourceId: event.LogicalResourceId };
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
      const declared = declaredOf(m.declared?.M);
      const drift = driftOf(m.drift?.M);
      priors[productId] = {
        owner: m.owner.S,
        launchRole: m.launchRole.S,
        requestId: m.requestId.S,
        ...(m.physicalId?.S !== undefined ? { physicalId: m.physicalId.S } : {}),
        ...(declared ? { declared } : {}),
        ...(drift ? { drift } : {}),
      };
    }
  }
  const writerUntil = Number(item?.writerUntil?.N);
  const deleted: Record<string, number> = {};
  for (const [key, value] of Object.entries(item?.deleted?.M ?? {})) {
    const at = Number(value.N);
    if (Number.isFinite(at)) deleted[key] = at;
  }
  return {
    ...(item?.stackId?.S !== undefined ? { stackId: item.stackId.S } : {}),
    ...(item?.logicalResourceId?.S !== undefined ? { logicalResourceId: item.logicalResourceId.S } : {}),
    latestRequestId: item?.latestRequestId?.S,
    latestRequestType: item?.latestRequestType?.S,
    ...(item?.previousRequestId?.S ? { previousRequestId: item.previousRequestId.S } : {}),
    priors,
    deleted,
    ...(item?.writerRequestId?.S !== undefined && Number.isFinite(writerUntil)
      ? { writer: { requestId: item.writerRequestId.S, until: writerUntil } }
      : {}),
    ...(item?.lastWriteToken?.S !== undefined && item.lastWriteRecordId?.S !== undefined
      ? { lastWrite: { token: item.lastWriteToken.S, recordId: item.lastWriteRecordId.S } }
      : {}),
  };
}

function declaredOf(m: Record<string, AttributeValue> | undefined): LedgerDeclared | undefined {
  const at = Number(m?.at?.N);
  if (m?.requestId?.S === undefined || !Number.isFinite(at)) return undefined;
  const properties: Partial<PropertyValues> = {};
  for (const key of PROPERTY_KEYS) {
    const value = m.properties?.M?.[key]?.S;
    if (value !== undefined) properties[key] = value;
  }
  return { properties, requestId: m.requestId.S, at, ...(m.acceptLanguage?.S !== undefined ? { acceptLanguage: m.acceptLanguage.S } : {}) };
}

function driftOf(m: Record<string, AttributeValue> | undefined): Partial<Record<PropertyKey, DriftSeen>> | undefined {
  if (!m) return undefined;
  const drift: Partial<Record<PropertyKey, DriftSeen>> = {};
  for (const key of PROPERTY_KEYS) {
    const found = m[key]?.M?.found?.S;
    const since = Number(m[key]?.M?.since?.N);
    if (found !== undefined && Number.isFinite(since)) drift[key] = { found, since };
  }
  return Object.keys(drift).length > 0 ? drift : undefined;
}
