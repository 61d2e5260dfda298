/**
 * Contract behaviours of DynamoDB: the conditional writes, consistent reads, transaction and TTL the handler's ledger rests on, checked through the handler's own calls (lambda/ledger.ts, lambda/request-ledger.ts) where it makes them.
 *
 * Each behaviour works on keys of its own (a fresh stack id and fresh request ids), so that runs
 * never meet, and deletes them when it ends: the fixture's table goes with its stack, but a table
 * named by CONTRACT_LEDGER_TABLE_NAME stays. Only the request records Powertools writes (their
 * keys are its hashes) are left, to expire a day later like the handler's.
 */
import { randomUUID } from 'node:crypto';
import {
  type AttributeValue,
  type CancellationReason,
  DeleteItemCommand,
  DescribeTimeToLiveCommand,
  GetItemCommand,
  PutItemCommand,
  TransactWriteItemsCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import type { CustomResourceEvent, OnEventResult } from '../../lambda/events';
import type { ResourceRef } from '../../lambda/ledger';
import { type LedgerPriors, registrationKey, resourceKey } from '../../lambda/ledger-rules';
import { LEDGER } from '../../lib/contract';
import {
  type Behaviour,
  type ContractContext,
  Difference,
  Inconclusive,
  NotRun,
  describeError,
  expectEqual,
  expectThat,
  outcomeOf,
  randomSuffix,
  show,
  sleep,
} from './behaviour';
import { type HandlerLedger, handlerLedger } from './handler-ledger';
import type { LedgerTable } from './target';

const API = 'https://docs.aws.amazon.com/amazondynamodb/latest/APIReference';
const GUIDE = 'https://docs.aws.amazon.com/amazondynamodb/latest/developerguide';

const ID = LEDGER.partitionKey;
const EXPIRATION = LEDGER.timeToLiveAttribute;

/** What a behaviour works with: the table, the handler's ledger modules loaded against it, and keys of its own. */
interface Scratch {
  readonly table: LedgerTable;
  readonly handler: HandlerLedger;
  /** A resource of a stack nobody else uses. */
  readonly ref: ResourceRef;
  /** A fresh key for an item the behaviour writes itself. */
  readonly key: (label: string) => string;
  /** A fresh RequestId. */
  readonly requestId: (label: string) => string;
  /** The handler's registerRequest (lambda/ledger.ts), on `ref` unless another resource is given. */
  readonly register: (requestId: string, requestType: string, ref?: ResourceRef) => ReturnType<HandlerLedger['ledger']['registerRequest']>;
}

/** Runs `body` on fresh keys of the target's ledger-shaped table and deletes what it wrote. NotRun when the target has no such table. */
async function withScratch(ctx: ContractContext, body: (s: Scratch) => Promise<void>): Promise<void> {
  const table = ctx.target.ledger;
  if (!table) throw new NotRun("this target has no table of the ledger's shape (CONTRACT_LEDGER_TABLE_NAME names one)");
  const handler = await handlerLedger(ctx.target, table);
  const run = `contract-${randomSuffix(10)}`;
  const written = new Set<string>();
  const resourceOf = (label: string): ResourceRef => {
    const ref = { stackId: `arn:aws:cloudformation:us-east-1:123456789012:stack/${run}/${randomUUID()}`, logicalResourceId: label };
    written.add(resourceKey(ref.stackId, ref.logicalResourceId));
    return ref;
  };
  const ref = resourceOf('Ownership');
  const s: Scratch = {
    table,
    handler,
    ref,
    key: (label) => {
      const key = `${run}#${label}#${randomSuffix(8)}`;
      written.add(key);
      return key;
    },
    requestId: (label) => `${run}-${label}-${randomUUID()}`,
    register: (requestId, requestType, on = ref) => {
      written.add(registrationKey(on.stackId, on.logicalResourceId, requestId));
      return handler.ledger.registerRequest(on, requestId, requestType);
    },
  };
  try {
    await body(s);
  } finally {
    for (const key of written) {
      await table.client.send(new DeleteItemCommand({ TableName: table.tableName, Key: keyOf(key) })).catch(() => undefined);
    }
  }
}

/** Another resource than `s.ref`, of the same stack, whose entry is deleted with the others. */
function otherResource(s: Scratch): ResourceRef {
  return { stackId: s.ref.stackId, logicalResourceId: `Other${randomSuffix(6)}` };
}

function keyOf(id: string): Record<string, AttributeValue> {
  return { [ID]: { S: id } };
}

/** A value as JSON with its object keys sorted: DynamoDB returns an item's attributes in no particular order. */
function canonical(value: unknown): string {
  const sort = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(sort)
      : v !== null && typeof v === 'object'
        ? Object.fromEntries(
            Object.entries(v as Record<string, unknown>)
              .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
              .map(([k, x]) => [k, sort(x)]),
          )
        : v;
  return JSON.stringify(sort(value));
}

/** Throws a {@link Difference} unless `actual` and `expected` are the same item (or value), whatever the order of their attributes. */
function expectSame(actual: unknown, expected: unknown, what: string): void {
  if (canonical(actual) !== canonical(expected)) throw new Difference(`${what} is ${canonical(actual)}, expected ${canonical(expected)}`);
}

/** The error `promise` must reject with, named `name`; a success or another error is a difference. */
async function expectError(promise: Promise<unknown>, name: string, what: string): Promise<Error> {
  const outcome = await outcomeOf(promise);
  if (!outcome.error) throw new Difference(`${what} succeeded; expected ${name}`);
  expectThat(outcome.error.name === name, `${what} failed with ${describeError(outcome.error)}; expected ${name}`);
  return outcome.error;
}

/** The item under `id`, read strongly consistently (undefined when there is none). */
async function readItem(table: LedgerTable, id: string): Promise<Record<string, AttributeValue> | undefined> {
  return (await table.client.send(new GetItemCommand({ TableName: table.tableName, Key: keyOf(id), ConsistentRead: true }))).Item;
}

/** The Item a ConditionalCheckFailedException carries (ReturnValuesOnConditionCheckFailure ALL_OLD). */
function itemOf(error: Error): Record<string, AttributeValue> | undefined {
  return (error as { Item?: Record<string, AttributeValue> }).Item;
}

/** Priors as lambda/ledger.ts recordPriors writes them. */
function priorsValue(p: LedgerPriors): AttributeValue {
  return { M: { owner: { S: p.owner }, launchRole: { S: p.launchRole }, requestId: { S: p.requestId } } };
}

const nowSeconds = () => Math.floor(Date.now() / 1000);

export const conditionalPut: Behaviour = {
  id: 'ddb.conditional-put',
  service: 'DynamoDB',
  assumption:
    'PutItem with ConditionExpression attribute_not_exists(id) writes a new key once: a second put of that key fails with ConditionalCheckFailedException and writes nothing, and with ReturnValuesOnConditionCheckFailure ALL_OLD the exception carries in Item the item that holds the key.',
  reliedOnBy:
    "lambda/request-ledger.ts: Powertools' DynamoDBPersistenceLayer takes a request's record with such a put (ALL_OLD) and reads the first delivery's record, INPROGRESS or COMPLETED with its decision, from the exception's Item: that is how a copy of a request answers with the first decision, or waits for it, instead of deciding again.",
  source: `${API}/API_PutItem.html (ConditionExpression; ReturnValuesOnConditionCheckFailure; ConditionalCheckFailedException: "Item which caused the ConditionalCheckFailedException")`,
  fake: { kind: 'models' },
  writes: false,
  run: (ctx) =>
    withScratch(ctx, async ({ table, key }) => {
      const id = key('request');
      const put = (status: string) => {
        const item = { ...keyOf(id), status: { S: status }, [EXPIRATION]: { N: String(nowSeconds() + 3600) } };
        const sent = table.client.send(
          new PutItemCommand({
            TableName: table.tableName,
            Item: item,
            ConditionExpression: 'attribute_not_exists(#id)',
            ExpressionAttributeNames: { '#id': ID },
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        );
        return { item, sent };
      };
      const first = put('INPROGRESS');
      await first.sent;
      const error = await expectError(put('COMPLETED').sent, 'ConditionalCheckFailedException', 'a second put of the same key');
      expectSame(itemOf(error), first.item, "the failed put's Item (ReturnValuesOnConditionCheckFailure ALL_OLD)");
      expectSame(await readItem(table, id), first.item, 'the item after the failed put');
      ctx.observe('the second put failed with ConditionalCheckFailedException, carrying the first item; the item is unchanged');
    }),
};

export const consistentRead: Behaviour = {
  id: 'ddb.consistent-read',
  service: 'DynamoDB',
  assumption:
    "GetItem with ConsistentRead true returns what the last successful write left, at once, also through another client (another connection, as from another Lambda container): each of 10 updates in a row is seen by the handler's read right after it.",
  reliedOnBy:
    "lambda/ledger.ts readResource (and Powertools' record read): the checks that a request is still its resource's latest, who holds the write lease and which priors stand all read right after a write, possibly another container's. An eventually consistent read could miss a later request's registration and let a superseded request write over newer values.",
  source: `${API}/API_GetItem.html (ConsistentRead); ${GUIDE}/HowItWorks.ReadConsistency.html`,
  fake: { kind: 'models' },
  writes: false,
  run: (ctx) =>
    withScratch(ctx, async ({ table, handler, ref, requestId }) => {
      for (let i = 0; i < 10; i++) {
        const id = requestId(`r${i}`);
        await table.client.send(
          new UpdateItemCommand({
            TableName: table.tableName,
            Key: keyOf(resourceKey(ref.stackId, ref.logicalResourceId)),
            UpdateExpression: 'SET latestRequestId = :r, latestRequestType = :t',
            ExpressionAttributeValues: { ':r': { S: id }, ':t': { S: 'Update' } },
          }),
        );
        const read = await handler.ledger.readResource(ref);
        expectEqual(read.latestRequestId, id, `the latest request the handler read right after update ${i + 1}`);
      }
      ctx.observe("10 updates, each seen by the handler's consistent read right after it");
    }),
};

export const requestOnce: Behaviour = {
  id: 'ddb.request-once',
  service: 'DynamoDB',
  assumption:
    "Through the handler's lambda/request-ledger.ts decideOnce (Powertools' idempotency on the table): the first delivery of a request decides; a copy that arrives while it decides waits and answers with its decision, and so does a copy that arrives after; neither decides.",
  reliedOnBy:
    'onEvent (docs/design.md §4a, rule 1): no copy of a request reads the product again, so none can record as priors the values this resource wrote; a copy never answers FAILED merely because the first is still deciding.',
  source: `${API}/API_PutItem.html, ${API}/API_GetItem.html and ${API}/API_UpdateItem.html: the conditional put (ALL_OLD), consistent read and update Powertools makes`,
  fake: { kind: 'models' },
  writes: false,
  run: (ctx) =>
    withScratch(ctx, async ({ handler, ref, requestId }) => {
      const event = {
        RequestType: 'Create',
        ServiceToken: 'arn:aws:lambda:us-east-1:123456789012:function:ContractOnEvent',
        ResponseURL: 'https://example.invalid/contract-first-delivery',
        StackId: ref.stackId,
        RequestId: requestId('create'),
        LogicalResourceId: ref.logicalResourceId,
        ResourceType: 'Custom::ProvisionedProductProperties',
        ResourceProperties: { ServiceToken: 'contract', ProvisionedProductId: 'pp-contract' },
      } as CustomResourceEvent;
      const pollMs = ctx.target.timing.pollMs;
      let decisions = 0;
      const decide = async (e: CustomResourceEvent): Promise<OnEventResult> => {
        decisions++;
        await sleep(5 * pollMs);
        return { PhysicalResourceId: `decided-by-${e.RequestId}-${decisions}`, PlannedAt: Date.now() };
      };
      const context = { getRemainingTimeInMillis: () => 60_000 };
      const first = handler.requests.decideOnce(event, context, decide);
      // Awaited below; marked handled so that a failure of the copies first does not go unhandled.
      first.catch(() => undefined);
      await sleep(2 * pollMs);
      const began = Date.now();
      const meanwhile = await handler.requests.decideOnce({ ...event, ResponseURL: 'https://example.invalid/copy' }, context, decide);
      const waited = Date.now() - began;
      const decision = await first;
      const after = await handler.requests.decideOnce({ ...event, ResponseURL: 'https://example.invalid/late-copy' }, context, decide);
      expectEqual(decisions, 1, 'the number of decisions made for three deliveries of one request');
      expectSame(meanwhile, decision, 'the answer of the copy that arrived while the first decided');
      expectSame(after, decision, 'the answer of the copy that arrived after');
      ctx.observe(`one decision; the copy that arrived meanwhile waited ${waited} ms for it`);
    }),
};

export const transactionCancelled: Behaviour = {
  id: 'ddb.transaction-cancelled',
  service: 'DynamoDB',
  assumption:
    "A TransactWriteItems whose Put has a condition (attribute_not_exists(id)) that fails is cancelled as a whole with TransactionCanceledException: its CancellationReasons follow the order of TransactItems, the Put's Code is ConditionalCheckFailed, and the transaction's Update is not applied.",
  reliedOnBy:
    "lambda/ledger.ts registerRequest: a request registers once ever (its registration item) and becomes its resource's latest in the same transaction, so a copy of an old request can never take a newer request's place; the handler tells 'registered before' from any other failure by CancellationReasons[0].Code (which the SDK for JavaScript parses).",
  source: `${API}/API_TransactWriteItems.html (TransactionCanceledException); ${API}/API_CancellationReason.html ("ordered according to the ordering of the TransactWriteItems request parameter")`,
  fake: { kind: 'models' },
  writes: false,
  run: (ctx) =>
    withScratch(ctx, async ({ table, handler, ref, requestId, register }) => {
      const [r1, r2] = [requestId('create'), requestId('update')];
      expectEqual((await register(r1, 'Create')).isLatest, true, 'the first registration of the first request: isLatest');
      expectEqual((await register(r2, 'Update')).isLatest, true, 'the first registration of the next request: isLatest');
      // registerRequest's transaction for the first request again, as a copy of it would send it.
      const resourceId = resourceKey(ref.stackId, ref.logicalResourceId);
      const error = await expectError(
        table.client.send(
          new TransactWriteItemsCommand({
            TransactItems: [
              {
                Put: {
                  TableName: table.tableName,
                  Item: { ...keyOf(registrationKey(ref.stackId, ref.logicalResourceId, r1)), requestType: { S: 'Create' } },
                  ConditionExpression: 'attribute_not_exists(#k)',
                  ExpressionAttributeNames: { '#k': ID },
                },
              },
              {
                Update: {
                  TableName: table.tableName,
                  Key: keyOf(resourceId),
                  UpdateExpression: 'SET latestRequestId = :r, latestRequestType = :t',
                  ExpressionAttributeValues: { ':r': { S: r1 }, ':t': { S: 'Create' } },
                },
              },
            ],
          }),
        ),
        'TransactionCanceledException',
        "a transaction whose Put's condition fails",
      );
      const reasons = (error as { CancellationReasons?: CancellationReason[] }).CancellationReasons;
      expectThat(reasons !== undefined, `the TransactionCanceledException carries no CancellationReasons (${error.message})`);
      expectEqual(reasons.length, 2, 'the number of CancellationReasons of a transaction of 2 items');
      expectEqual(reasons[0].Code, 'ConditionalCheckFailed', "CancellationReasons[0].Code (the Put's)");
      const resource = await handler.ledger.readResource(ref);
      expectEqual(resource.latestRequestId, r2, "the resource's latest request after the cancelled transaction");
      const again = await register(r1, 'Create');
      expectEqual(again.isLatest, false, 'isLatest of the first request registering again after the next');
      expectEqual(again.resource.latestRequestId, r2, "the resource's latest request after the first registered again");
      ctx.observe(`CancellationReasons ${show(reasons.map((r) => r.Code ?? null))}; the Update was not applied`);
    }),
};

export const mapMember: Behaviour = {
  id: 'ddb.map-member',
  service: 'DynamoDB',
  assumption:
    'UpdateItem SET priors.#p = :v under attribute_exists(priors) AND attribute_not_exists(priors.#p) sets a map member once: again, it fails with ConditionalCheckFailedException, changes nothing and (with ReturnValuesOnConditionCheckFailure ALL_OLD) carries the item as it stands; on an item that does not exist it fails the same way (not ValidationException) and creates nothing. REMOVE priors.#p under latestRequestId = :r removes the member only while that holds.',
  reliedOnBy:
    "lambda/ledger.ts recordPriors (the first capture's priors stand: a later capture writes those into the physical id, never its own read) and forgetPriors (a finished Delete forgets them, unless a later request has registered since).",
  source: `${API}/API_UpdateItem.html (ConditionExpression, ReturnValuesOnConditionCheckFailure); ${GUIDE}/Expressions.UpdateExpressions.html (SET and REMOVE on a map's element)`,
  fake: { kind: 'models' },
  writes: false,
  run: (ctx) =>
    withScratch(ctx, async (s) => {
      const { table, handler, ref, requestId, register } = s;
      const product = `pp-${randomSuffix(12)}`;
      const setMember = (on: ResourceRef, priors: LedgerPriors) =>
        table.client.send(
          new UpdateItemCommand({
            TableName: table.tableName,
            Key: keyOf(resourceKey(on.stackId, on.logicalResourceId)),
            UpdateExpression: 'SET priors.#p = :v',
            ConditionExpression: 'attribute_exists(priors) AND attribute_not_exists(priors.#p)',
            ExpressionAttributeNames: { '#p': product },
            ExpressionAttributeValues: { ':v': priorsValue(priors) },
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        );
      const [r1, r2] = [requestId('create'), requestId('delete')];
      const first: LedgerPriors = { owner: 'arn:aws:iam::123456789012:role/ContractPriorOwner', launchRole: '', requestId: r1 };
      const second: LedgerPriors = { owner: 'arn:aws:iam::123456789012:role/ContractWritten', launchRole: 'x', requestId: 'r-later' };

      // recordPriors's update on a resource that never registered: no map, no item.
      const missing = otherResource(s);
      const none = await expectError(
        setMember(missing, first),
        'ConditionalCheckFailedException',
        'setting a member on an item that does not exist',
      );
      expectSame(itemOf(none), undefined, "the failed update's Item when there is no item");
      expectSame(await readItem(table, resourceKey(missing.stackId, missing.logicalResourceId)), undefined, 'the item after that update');

      await register(r1, 'Create');
      expectSame(await handler.ledger.recordPriors(ref, product, first), first, 'the priors recordPriors returns the first time');
      expectSame(await handler.ledger.recordPriors(ref, product, second), first, 'the priors recordPriors returns when some stand');
      const failed = await expectError(setMember(ref, second), 'ConditionalCheckFailedException', 'setting the member again');
      const old = itemOf(failed);
      expectSame(old?.priors?.M?.[product], priorsValue(first), "the member in the failed update's Item (ALL_OLD)");
      expectEqual(old?.latestRequestId?.S, r1, "latestRequestId in the failed update's Item (ALL_OLD)");
      expectSame((await handler.ledger.readResource(ref)).priors, { [product]: first }, 'the priors after the failed updates');

      await register(r2, 'Delete');
      await handler.ledger.forgetPriors(ref, product, r1);
      expectSame(
        (await handler.ledger.readResource(ref)).priors,
        { [product]: first },
        'the priors after a superseded request forgot them',
      );
      await handler.ledger.forgetPriors(ref, product, r2);
      expectSame((await handler.ledger.readResource(ref)).priors, {}, 'the priors after the latest request forgot them');
      ctx.observe('set once, kept against a second set, removed only by the latest request; a failed update carries the item (ALL_OLD)');
    }),
};

export const writeLease: Behaviour = {
  id: 'ddb.write-lease',
  service: 'DynamoDB',
  assumption:
    "UpdateItem SET writerRequestId = :r, writerUntil = :until under latestRequestId = :r AND (attribute_not_exists(writerRequestId) OR writerRequestId = :r OR writerUntil < :now) grants the lease to the latest request when it is free, its own or lapsed, and otherwise fails with ConditionalCheckFailedException, changing nothing; REMOVE writerRequestId, writerUntil under writerRequestId = :r gives back only the holder's lease.",
  reliedOnBy:
    'lambda/ledger.ts takeWriteLease and releaseWriteLease: "still the latest?" and the claim to write are one conditional write, so no later request can register, read the product and decide between a request\'s check and its write to Service Catalog.',
  source: `${API}/API_UpdateItem.html; ${GUIDE}/Expressions.OperatorsAndFunctions.html (comparisons, attribute_not_exists, AND, OR)`,
  fake: { kind: 'models' },
  writes: false,
  run: (ctx) =>
    withScratch(ctx, async ({ table, handler, ref, requestId, register }) => {
      const { takeWriteLease, releaseWriteLease, readResource } = handler.ledger;
      const [r1, r2, r3] = [requestId('first'), requestId('second'), requestId('third')];
      const soon = () => Date.now() + 60_000;
      await register(r1, 'Update');
      expectEqual((await takeWriteLease(ref, r1, soon())).kind, 'taken', 'the lease a free resource gives its latest request');
      expectEqual((await takeWriteLease(ref, r1, soon())).kind, 'taken', 'the lease its holder takes again (a copy of the request)');
      await register(r2, 'Update');
      expectEqual((await takeWriteLease(ref, r2, soon())).kind, 'held', 'the lease for the next request while the first holds it');
      expectEqual((await takeWriteLease(ref, r1, soon())).kind, 'superseded', 'the lease for the first request once the next registered');
      // takeWriteLease's update for the next request, asking for the item as it stands.
      const failed = await expectError(
        table.client.send(
          new UpdateItemCommand({
            TableName: table.tableName,
            Key: keyOf(resourceKey(ref.stackId, ref.logicalResourceId)),
            UpdateExpression: 'SET writerRequestId = :r, writerUntil = :until',
            ConditionExpression:
              'latestRequestId = :r AND (attribute_not_exists(writerRequestId) OR writerRequestId = :r OR writerUntil < :now)',
            ExpressionAttributeValues: { ':r': { S: r2 }, ':until': { N: String(soon()) }, ':now': { N: String(Date.now()) } },
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        ),
        'ConditionalCheckFailedException',
        'taking a lease another request holds',
      );
      expectEqual(itemOf(failed)?.writerRequestId?.S, r1, "writerRequestId in the failed update's Item (ALL_OLD)");
      await releaseWriteLease(ref, r2);
      expectEqual((await readResource(ref)).writer?.requestId, r1, 'the holder after another request gave the lease back');
      await releaseWriteLease(ref, r1);
      expectEqual((await readResource(ref)).writer, undefined, 'the lease after its holder gave it back');
      expectEqual((await takeWriteLease(ref, r2, Date.now() - 1_000)).kind, 'taken', 'the lease for the latest request once free');
      await register(r3, 'Update');
      expectEqual((await takeWriteLease(ref, r3, soon())).kind, 'taken', "the lease for the next request once the holder's lapsed");
      expectEqual((await readResource(ref)).writer?.requestId, r3, 'the holder after a lapsed lease was taken');
      ctx.observe('taken, shared, held, superseded, given back and taken over once lapsed, as the handler expects');
    }),
};

export const timeToLive: Behaviour = {
  id: 'ddb.ttl',
  service: 'DynamoDB',
  assumption:
    "DescribeTimeToLive reports the table's TTL ENABLED on the attribute `expiration`. TTL deletes expired items in the background, typically within days: an item whose expiration has passed may still be read, intact, so nothing may count on it being gone; a conditional put that compares the expiration itself (attribute_not_exists(id) OR expiration < :now) replaces it.",
  reliedOnBy:
    "lib/contract.ts LEDGER: the request records and registrations carry `expiration` so that they go a day after no copy of the request can arrive. Correctness never waits for TTL: Powertools' put condition treats an expired record as absent itself (lambda/request-ledger.ts).",
  source: `${API}/API_DescribeTimeToLive.html; ${API}/API_UpdateTimeToLive.html ("typically deletes expired items within two days of expiration ... Items that have expired and not been deleted will still show up in reads")`,
  fake: { kind: 'models' },
  writes: false,
  run: (ctx) =>
    withScratch(ctx, async ({ table, key }) => {
      const ttl = (await table.client.send(new DescribeTimeToLiveCommand({ TableName: table.tableName }))).TimeToLiveDescription;
      const status = ttl?.TimeToLiveStatus;
      expectThat(
        status === 'ENABLED' || status === 'ENABLING',
        `the table's TTL is ${show(status)} (on ${show(ttl?.AttributeName)}), not ENABLED`,
      );
      expectEqual(ttl?.AttributeName, EXPIRATION, "the table's TTL attribute");

      const id = key('expired');
      const expired = { ...keyOf(id), status: { S: 'COMPLETED' }, [EXPIRATION]: { N: String(nowSeconds() - 3600) } };
      await table.client.send(new PutItemCommand({ TableName: table.tableName, Item: expired }));
      const read = await readItem(table, id);
      if (read) expectSame(read, expired, 'an expired item read before TTL removed it');
      const replace = (expiresAt: number) =>
        table.client.send(
          new PutItemCommand({
            TableName: table.tableName,
            Item: { ...keyOf(id), status: { S: 'INPROGRESS' }, [EXPIRATION]: { N: String(expiresAt) } },
            ConditionExpression: 'attribute_not_exists(#id) OR #expiry < :now',
            ExpressionAttributeNames: { '#id': ID, '#expiry': EXPIRATION },
            ExpressionAttributeValues: { ':now': { N: String(nowSeconds()) } },
          }),
        );
      const replaced = await outcomeOf(replace(nowSeconds() + 3600));
      if (replaced.error)
        throw new Difference(`a put whose condition admits an expired item was refused: ${describeError(replaced.error)}`);
      await expectError(replace(nowSeconds() + 3600), 'ConditionalCheckFailedException', 'the same put once the item no longer expired');
      ctx.observe(
        `TTL ${status} on ${EXPIRATION}; an item expired an hour ago was ${read ? 'still readable' : 'already gone'}, and the expiry-comparing put replaced it`,
      );
      if (status === 'ENABLING') throw new Inconclusive("the table's TTL is still ENABLING (it can take up to an hour): run again later");
    }),
};
