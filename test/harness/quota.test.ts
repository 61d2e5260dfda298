/**
 * The harness's quotas: the token bucket and the account's quotas as pure logic on a hand-driven
 * clock, and the throttling answer of each fake and emulator, through the real SDK clients where
 * the handlers call them (one attempt, so that the answer itself is seen).
 */
import { CloudFormationClient, DescribeStackResourceCommand } from '@aws-sdk/client-cloudformation';
import { CreateTableCommand, DynamoDBClient, GetItemCommand, TransactWriteItemsCommand } from '@aws-sdk/client-dynamodb';
import { DescribeRecordCommand, ServiceCatalogClient } from '@aws-sdk/client-service-catalog';
import {
  AccountQuotas,
  DEFAULT_QUOTAS,
  DynamoDBLocal,
  FakeCloudFormation,
  FakeServiceCatalog,
  StepFunctionsWaiter,
  TokenBucket,
  TooManyRequestsError,
} from '../../harness';
import { requestUnits } from '../../harness/fakes/dynamodb-local';
import { isThrottle, throttlingDelay } from '../../harness/runtimes/sdk-retries';

const LOCAL = { region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' }, maxAttempts: 1 } as const;

/** A clock the test moves by hand. */
function handClock(): { now: () => number; advance: (ms: number) => void } {
  let t = 1_000_000;
  return { now: () => t, advance: (ms) => (t += ms) };
}

describe('TokenBucket', () => {
  test('starts full, refuses when dry, refills at its rate', () => {
    const clock = handClock();
    const bucket = new TokenBucket({ burst: 3, perSecond: 2 }, clock.now);
    expect([bucket.tryTake(), bucket.tryTake(), bucket.tryTake(), bucket.tryTake()]).toEqual([true, true, true, false]);
    clock.advance(499);
    expect(bucket.tryTake()).toBe(false);
    clock.advance(1);
    expect(bucket.tryTake()).toBe(true);
  });

  test('never holds more than its burst', () => {
    const clock = handClock();
    const bucket = new TokenBucket({ burst: 2, perSecond: 10 }, clock.now);
    clock.advance(60_000);
    expect([bucket.tryTake(), bucket.tryTake(), bucket.tryTake()]).toEqual([true, true, false]);
  });

  test('compressed time refills faster by the same factor', () => {
    const clock = handClock();
    const bucket = new TokenBucket({ burst: 1, perSecond: 1 }, clock.now, 0.1);
    bucket.tryTake();
    clock.advance(100);
    expect(bucket.tryTake()).toBe(true);
  });

  test('a reservation on credit says how long to wait', () => {
    const clock = handClock();
    const bucket = new TokenBucket({ burst: 1, perSecond: 4 }, clock.now);
    expect(bucket.reserve()).toBe(0);
    expect(bucket.reserve()).toBe(250);
    expect(bucket.reserve()).toBe(500);
  });

  test('a cost of several tokens is taken whole or not at all', () => {
    const bucket = new TokenBucket({ burst: 3, perSecond: 1 }, handClock().now);
    expect(bucket.tryTake(4)).toBe(false);
    expect(bucket.tryTake(3)).toBe(true);
  });

  test('figures that cannot work are refused, saying what to give', () => {
    expect(() => new TokenBucket({ burst: 0, perSecond: 1 })).toThrow(/burst 0 is not a number of at least 1.*e\.g\. 20/);
    expect(() => new TokenBucket({ burst: 1, perSecond: 0 })).toThrow(/perSecond 0 is not a positive number.*remove the quota to lift it/);
    expect(() => new TokenBucket({ burst: 1, perSecond: 1 }, Date.now, 0)).toThrow(/timeScale 0 is not a positive factor/);
  });
});

describe('AccountQuotas', () => {
  test('the defaults are the documented figures', () => {
    const quotas = new AccountQuotas();
    expect(quotas.spec('states:StartExecution')).toEqual({ burst: 800, perSecond: 150 });
    expect(quotas.spec('states:StateTransition')).toEqual({ burst: 800, perSecond: 500 });
    expect(quotas.spec('dynamodb:WriteRequestUnits')).toEqual({ burst: 4_000, perSecond: 4_000 });
    expect(quotas.lambdaConcurrency).toBe(1_000);
  });

  test('counts throttled answers by API; an API whose quota is removed always passes', () => {
    const clock = handClock();
    const quotas = new AccountQuotas({
      clock: clock.now,
      quotas: { 'servicecatalog:UpdateProvisionedProductProperties': { burst: 1, perSecond: 1 }, 'servicecatalog:DescribeRecord': null },
    });
    expect(quotas.take('servicecatalog:UpdateProvisionedProductProperties')).toBe(true);
    expect(quotas.take('servicecatalog:UpdateProvisionedProductProperties')).toBe(false);
    for (let i = 0; i < 1000; i++) expect(quotas.take('servicecatalog:DescribeRecord')).toBe(true);
    expect(quotas.throttled).toEqual({ 'servicecatalog:UpdateProvisionedProductProperties': 1 });
  });

  test('a per-resource quota keeps a bucket per resource (a DynamoDB table each)', () => {
    const quotas = new AccountQuotas({ clock: handClock().now, quotas: { 'dynamodb:WriteRequestUnits': { burst: 2, perSecond: 1 } } });
    expect(quotas.take('dynamodb:WriteRequestUnits', 2, 'a')).toBe(true);
    expect(quotas.take('dynamodb:WriteRequestUnits', 1, 'a')).toBe(false);
    expect(quotas.take('dynamodb:WriteRequestUnits', 2, 'b')).toBe(true);
  });

  test("Lambda: the account's concurrency, and a function's reserved concurrency, which is its own", () => {
    const quotas = new AccountQuotas({ lambdaConcurrency: 2 });
    expect(quotas.startExecution('fn-a', undefined)).toBeUndefined();
    expect(quotas.startExecution('fn-a', undefined)).toBeUndefined();
    expect(quotas.startExecution('fn-b', undefined)).toBe('ConcurrentInvocationLimitExceeded');
    quotas.endExecution('fn-a');
    expect(quotas.startExecution('fn-b', undefined)).toBeUndefined();
    expect(quotas.startExecution('fn-r', 1)).toBeUndefined();
    expect(quotas.startExecution('fn-r', 1)).toBe('ReservedFunctionConcurrentInvocationLimitExceeded');
    expect(quotas.throttled['lambda:Invoke']).toBe(2);
  });

  test('unknown APIs and impossible figures are refused, saying what to give', () => {
    expect(() => new AccountQuotas({ quotas: { 'servicecatalog:Nope': { burst: 1, perSecond: 1 } } as never })).toThrow(
      /quota servicecatalog:Nope: no such API; the harness keeps quotas on servicecatalog:DescribeProvisionedProduct/,
    );
    expect(() => new AccountQuotas({ lambdaConcurrency: 0 })).toThrow(
      /lambdaConcurrency 0 is not a whole number of at least 1, e\.g\. 1000/,
    );
    expect(() => new AccountQuotas({ quotas: { 'states:StartExecution': { burst: 5, perSecond: -1 } } })).toThrow(
      /quota states:StartExecution: perSecond -1/,
    );
  });

  test('every default bucket is a valid one', () => {
    for (const spec of Object.values(DEFAULT_QUOTAS)) expect(() => new TokenBucket(spec)).not.toThrow();
  });
});

describe('DynamoDB request units', () => {
  test('one per item written or read, two per item of a transaction; none for the control plane', () => {
    expect(requestUnits('UpdateItem', { TableName: 't' })).toEqual({ kind: 'write', units: 1, table: 't' });
    expect(requestUnits('GetItem', { TableName: 't' })).toEqual({ kind: 'read', units: 1, table: 't' });
    expect(requestUnits('TransactWriteItems', { TransactItems: [{ Put: { TableName: 't' } }, { Update: { TableName: 't' } }] })).toEqual({
      kind: 'write',
      units: 4,
      table: 't',
    });
    expect(requestUnits('CreateTable', { TableName: 't' })).toBeUndefined();
  });
});

describe('the SDK retries the harness plays for the framework', () => {
  test("Lambda's and Step Functions' throttling answers are retried, others are not", () => {
    expect(isThrottle(new TooManyRequestsError('ConcurrentInvocationLimitExceeded'))).toBe(true);
    expect(isThrottle(Object.assign(new Error('x'), { name: 'ThrottlingException' }))).toBe(true);
    expect(isThrottle(new Error('x'))).toBe(false);
  });

  test('full jitter up to 500 ms × 2^n, at most 20 s', () => {
    expect([0, 1, 2].map((n) => throttlingDelay(n, () => 0.999))).toEqual([499, 999, 1998]);
    expect(throttlingDelay(10, () => 0.999)).toBe(19_980);
  });
});

describe('throttling answers, as each service gives them', () => {
  test("Lambda: 429 TooManyRequestsException with the reason, as the framework's client sees it", () => {
    const e = new TooManyRequestsError('ReservedFunctionConcurrentInvocationLimitExceeded');
    expect(e).toMatchObject({
      name: 'TooManyRequestsException',
      message: 'Rate Exceeded.',
      Reason: 'ReservedFunctionConcurrentInvocationLimitExceeded',
      $metadata: { httpStatusCode: 429 },
    });
  });

  test('Service Catalog: 400 ThrottlingException, through the SDK', async () => {
    const fake = await FakeServiceCatalog.start();
    const quotas = new AccountQuotas({ quotas: { 'servicecatalog:DescribeRecord': { burst: 1, perSecond: 0.001 } } });
    fake.useQuotas(quotas);
    const client = new ServiceCatalogClient({ ...LOCAL, endpoint: fake.endpoint });
    try {
      await expect(client.send(new DescribeRecordCommand({ Id: 'rec-1' }))).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
      await expect(client.send(new DescribeRecordCommand({ Id: 'rec-1' }))).rejects.toMatchObject({
        name: 'ThrottlingException',
        message: 'Rate exceeded',
        $metadata: { httpStatusCode: 400 },
      });
      expect(fake.calls.map((c) => c.outcome)).toEqual(['ResourceNotFoundException', 'ThrottlingException']);
      expect(fake.violations).toEqual([]);
    } finally {
      client.destroy();
      await fake.close();
    }
  });

  test('CloudFormation: 400 Throttling "Rate exceeded", through the SDK', async () => {
    const fake = await FakeCloudFormation.start();
    fake.quotas = new AccountQuotas({ quotas: { 'cloudformation:DescribeStackResource': { burst: 1, perSecond: 0.001 } } });
    const client = new CloudFormationClient({ ...LOCAL, endpoint: fake.endpoint });
    const call = () => client.send(new DescribeStackResourceCommand({ StackName: 'S', LogicalResourceId: 'R' }));
    try {
      await expect(call()).rejects.toMatchObject({ name: 'ValidationError' });
      await expect(call()).rejects.toMatchObject({ name: 'Throttling', message: 'Rate exceeded', $metadata: { httpStatusCode: 400 } });
    } finally {
      client.destroy();
      await fake.close();
    }
  });

  test('Step Functions: StartExecution over its bucket is refused with ThrottlingException; no execution starts', async () => {
    const arn = 'arn:aws:states:us-east-1:123456789012:stateMachine:Waiter';
    const machine = {
      logicalId: 'W',
      arn,
      taskFunctionArn: 'task',
      intervalSeconds: 5,
      maxAttempts: 1,
      backoffRate: 1,
      catchFunctionArn: 'c',
    };
    const quotas = new AccountQuotas({ quotas: { 'states:StartExecution': { burst: 1, perSecond: 0.001 } } });
    const invoke = jest.fn(() => Promise.resolve({ StatusCode: 200, Payload: new Uint8Array(), ExecutedVersion: '$LATEST' }));
    const waiter = new StepFunctionsWaiter(new Map([[arn, machine]]), { invoke, scaled: (ms) => ms, quotas: () => quotas });
    await waiter.startExecution({ stateMachineArn: arn, input: '{}' });
    await expect(waiter.startExecution({ stateMachineArn: arn, input: '{}' })).rejects.toMatchObject({ name: 'ThrottlingException' });
    await waiter.settle();
    expect(waiter.executions).toHaveLength(1);
  });

  describe('DynamoDB (DynamoDB Local behind the front)', () => {
    let local: DynamoDBLocal;
    let client: DynamoDBClient;
    beforeAll(async () => {
      local = await DynamoDBLocal.start();
      client = new DynamoDBClient({ ...LOCAL, endpoint: local.endpoint });
      await local.client.send(
        new CreateTableCommand({
          TableName: 'quota',
          BillingMode: 'PAY_PER_REQUEST',
          AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
          KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
        }),
      );
    }, 90_000);
    afterAll(async () => {
      client?.destroy();
      await local?.close();
    });

    test('400 ProvisionedThroughputExceededException naming the table and the reason; the request never reaches the table', async () => {
      local.quotas = new AccountQuotas({ quotas: { 'dynamodb:WriteRequestUnits': { burst: 2, perSecond: 0.001 } } });
      const put = (id: string) => ({ Put: { TableName: 'quota', Item: { id: { S: id } } } });
      await client.send(new TransactWriteItemsCommand({ TransactItems: [put('a')] }));
      const error = await client.send(new TransactWriteItemsCommand({ TransactItems: [put('b')] })).catch((e: unknown) => e);
      expect(error).toMatchObject({
        name: 'ProvisionedThroughputExceededException',
        $metadata: { httpStatusCode: 400 },
        ThrottlingReasons: [{ reason: 'TableWriteAccountLimitExceeded' }],
      });
      expect((error as { ThrottlingReasons: Array<{ resource: string }> }).ThrottlingReasons[0].resource).toMatch(/:table\/quota$/);
      local.quotas = undefined;
      const b = await client.send(new GetItemCommand({ TableName: 'quota', Key: { id: { S: 'b' } }, ConsistentRead: true }));
      expect(b.Item).toBeUndefined();
    });
  });
});
