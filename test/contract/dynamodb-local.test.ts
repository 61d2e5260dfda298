/**
 * What the ledger relies on of DynamoDB, checked against AWS's own DynamoDB Local: a conditional
 * put that fails returns the item that stopped it, a strongly consistent read sees the write before
 * it, an expired item stays readable until TTL removes it (so expiry is checked by the reader, as
 * Powertools does), and the table's TTL is on the attribute the ledger writes.
 */
import {
  ConditionalCheckFailedException,
  DescribeTimeToLiveCommand,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { LEDGER } from '../../lib/contract';
import { useDynamoDBLocal } from '../support/fixtures';

const dynamo = useDynamoDBLocal();
let table: string;
const key = (id: string) => ({ [LEDGER.partitionKey]: { S: id } });

beforeEach(async () => {
  table = await dynamo().createTable({
    logicalId: 'Contract',
    partitionKey: LEDGER.partitionKey,
    timeToLiveAttribute: LEDGER.timeToLiveAttribute,
  });
});

test('ddb.conditional-put: a put on a taken key fails with ConditionalCheckFailedException and returns the item that holds it', async () => {
  const put = (status: string) =>
    dynamo().client.send(
      new PutItemCommand({
        TableName: table,
        Item: { ...key('request#1'), status: { S: status } },
        ConditionExpression: 'attribute_not_exists(#id)',
        ExpressionAttributeNames: { '#id': LEDGER.partitionKey },
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      }),
    );
  await put('INPROGRESS');
  const failed = await put('SECOND').catch((e: unknown) => e);
  expect(failed).toBeInstanceOf(ConditionalCheckFailedException);
  expect((failed as ConditionalCheckFailedException).Item?.status).toEqual({ S: 'INPROGRESS' });
});

test('ddb.consistent-read: a strongly consistent read sees the update made just before it', async () => {
  for (let i = 0; i < 20; i++) {
    await dynamo().client.send(
      new UpdateItemCommand({
        TableName: table,
        Key: key('resource#1'),
        UpdateExpression: 'SET latestRequestId = :r',
        ExpressionAttributeValues: { ':r': { S: `r${i}` } },
      }),
    );
    const read = await dynamo().client.send(new GetItemCommand({ TableName: table, Key: key('resource#1'), ConsistentRead: true }));
    expect(read.Item?.latestRequestId).toEqual({ S: `r${i}` });
  }
});

test('ddb.ttl: the table expires items by the attribute the ledger writes, and an expired item stays readable until removed', async () => {
  const ttl = await dynamo().client.send(new DescribeTimeToLiveCommand({ TableName: table }));
  expect(ttl.TimeToLiveDescription).toMatchObject({ AttributeName: LEDGER.timeToLiveAttribute, TimeToLiveStatus: 'ENABLED' });
  const past = Math.floor(Date.now() / 1000) - 3600;
  await dynamo().client.send(
    new PutItemCommand({ TableName: table, Item: { ...key('request#old'), [LEDGER.timeToLiveAttribute]: { N: String(past) } } }),
  );
  const read = await dynamo().client.send(new GetItemCommand({ TableName: table, Key: key('request#old'), ConsistentRead: true }));
  expect(read.Item?.[LEDGER.timeToLiveAttribute]).toEqual({ N: String(past) });
});

test('ddb.nested-path: a nested map path can be set only once its map exists', async () => {
  const setNested = () =>
    dynamo().client.send(
      new UpdateItemCommand({
        TableName: table,
        Key: key('resource#2'),
        UpdateExpression: 'SET priors.#p = :v',
        ExpressionAttributeNames: { '#p': 'pp-alpha' },
        ExpressionAttributeValues: { ':v': { M: {} } },
      }),
    );
  await expect(setNested()).rejects.toMatchObject({ name: 'ValidationException' });
  await dynamo().client.send(
    new UpdateItemCommand({
      TableName: table,
      Key: key('resource#2'),
      UpdateExpression: 'SET priors = if_not_exists(priors, :none)',
      ExpressionAttributeValues: { ':none': { M: {} } },
    }),
  );
  await expect(setNested()).resolves.toBeDefined();
});
