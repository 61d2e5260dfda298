import * as http from 'node:http';
import {
  DescribeProvisionedProductCommand,
  DescribeRecordCommand,
  InvalidParametersException,
  InvalidStateException,
  ResourceNotFoundException,
  SearchProvisionedProductsCommand,
  ServiceCatalogClient,
  UpdateProvisionedProductPropertiesCommand,
} from '@aws-sdk/client-service-catalog';
import { FakeServiceCatalog, FakeServiceCatalogOptions } from '../../harness';

const ACCOUNT = '123456789012';
const PP = 'pp-abc123def4567';
const OWNER = `arn:aws:iam::${ACCOUNT}:user/alice`;
const NEW_OWNER = `arn:aws:sts::${ACCOUNT}:assumed-role/Admin/bob-session`;
const ROLE = `arn:aws:iam::${ACCOUNT}:role/LaunchRoleA`;
const NEW_ROLE = `arn:aws:iam::${ACCOUNT}:role/path/LaunchRoleB`;

const ENV_KEYS = ['AWS_ENDPOINT_URL_SERVICE_CATALOG', 'AWS_REGION', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY'];
const savedEnv: Record<string, string | undefined> = {};
beforeAll(() => {
  for (const k of ENV_KEYS) savedEnv[k] = process.env[k];
});
afterAll(() => {
  for (const k of ENV_KEYS) {
    if (savedEnv[k] === undefined) delete process.env[k];
    else process.env[k] = savedEnv[k];
  }
});

let fake: FakeServiceCatalog;
let client: ServiceCatalogClient;

/** Starts a fake with one product and a real SDK client pointed at it. */
async function setup(options?: FakeServiceCatalogOptions): Promise<void> {
  fake = await FakeServiceCatalog.start(options);
  process.env.AWS_ENDPOINT_URL_SERVICE_CATALOG = fake.endpoint;
  process.env.AWS_REGION = 'us-east-1';
  process.env.AWS_ACCESS_KEY_ID = 'AKIAFAKEFAKEFAKE';
  process.env.AWS_SECRET_ACCESS_KEY = 'fake-secret';
  client = new ServiceCatalogClient({ maxAttempts: 1 });
  fake.addProduct({ id: PP, owner: OWNER, launchRole: ROLE, name: 'my-product' });
}

afterEach(async () => {
  client?.destroy();
  await fake?.close();
});

/** Resolves with the error a promise rejects with (fails if it resolves). */
async function errorOf(p: Promise<unknown>): Promise<Error & { $metadata?: { httpStatusCode?: number }; code?: string }> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a rejection');
}

function update(props: Record<string, string>, token?: string, id = PP) {
  return client.send(
    new UpdateProvisionedProductPropertiesCommand({
      ProvisionedProductId: id,
      ProvisionedProductProperties: props,
      IdempotencyToken: token,
    }),
  );
}

async function recordStatus(recordId: string): Promise<string> {
  const out = await client.send(new DescribeRecordCommand({ Id: recordId }));
  return out.RecordDetail!.Status!;
}

/** Polls DescribeRecord until the record is final. */
async function waitForRecord(recordId: string, timeoutMs = 2000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const status = await recordStatus(recordId);
    if (status === 'SUCCEEDED' || status === 'FAILED') return status;
    if (Date.now() > deadline) throw new Error(`record ${recordId} still ${status}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('FakeServiceCatalog via the real SDK', () => {
  test('DescribeProvisionedProduct round trip', async () => {
    await setup();
    const out = await client.send(new DescribeProvisionedProductCommand({ Id: PP }));
    const d = out.ProvisionedProductDetail!;
    expect(d).toMatchObject({
      Id: PP,
      Name: 'my-product',
      Status: 'AVAILABLE',
      Type: 'CFN_STACK',
      LaunchRoleArn: ROLE,
      Arn: `arn:aws:servicecatalog:us-east-1:${ACCOUNT}:stack/my-product/${PP}`,
    });
    expect(d.CreatedTime).toBeInstanceOf(Date);
    expect(fake.callsOf('DescribeProvisionedProduct')).toHaveLength(1);
    expect(fake.calls[0]).toMatchObject({ op: 'DescribeProvisionedProduct', input: { Id: PP }, outcome: 'ok' });
    expect(fake.violations).toEqual([]);
  });

  test('SearchProvisionedProducts by id, without the launch role; search lag hides the product n times', async () => {
    await setup();
    fake.addProduct({ id: 'pp-other', owner: OWNER });
    const search = () =>
      client.send(
        new SearchProvisionedProductsCommand({
          AccessLevelFilter: { Key: 'Account', Value: 'self' },
          Filters: { SearchQuery: [`id:${PP}`] },
        }),
      );
    const out = await search();
    expect(out.TotalResultsCount).toBe(1);
    expect(out.ProvisionedProducts).toHaveLength(1);
    const p = out.ProvisionedProducts![0];
    expect(p).toMatchObject({ Id: PP, Name: 'my-product', Status: 'AVAILABLE', UserArn: OWNER, UserArnSession: OWNER });
    expect(JSON.stringify(p)).not.toContain('LaunchRole');
    expect(fake.callsOf('SearchProvisionedProducts')[0].input).toEqual({
      AccessLevelFilter: { Key: 'Account', Value: 'self' },
      Filters: { SearchQuery: [`id:${PP}`] },
    });

    fake.setSearchLag(PP, 2);
    expect((await search()).ProvisionedProducts).toEqual([]);
    expect((await search()).TotalResultsCount).toBe(0);
    expect((await search()).ProvisionedProducts!.map((x) => x.Id)).toEqual([PP]);

    const all = await client.send(new SearchProvisionedProductsCommand({ AccessLevelFilter: { Key: 'Account', Value: 'self' } }));
    expect(all.ProvisionedProducts!.map((x) => x.Id).sort()).toEqual(['pp-other', PP].sort());
    expect(fake.violations).toEqual([]);
  });

  test('SearchProvisionedProducts: an assumed-role owner is UserArnSession, its role (without path) is UserArn', async () => {
    await setup();
    const session = `arn:aws:sts::${ACCOUNT}:assumed-role/Dev/alice@example.com`;
    fake.addProduct({ id: 'pp-session', owner: session });
    const search = async (id: string) =>
      (
        await client.send(
          new SearchProvisionedProductsCommand({
            AccessLevelFilter: { Key: 'Account', Value: 'self' },
            Filters: { SearchQuery: [`id:${id}`] },
          }),
        )
      ).ProvisionedProducts![0];
    expect(await search('pp-session')).toMatchObject({ UserArnSession: session, UserArn: `arn:aws:iam::${ACCOUNT}:role/Dev` });
    // Setting OWNER to a session hands the product to that session; to a role, to the role alone.
    await waitForRecord((await update({ OWNER: NEW_OWNER }, 'own-1')).RecordId!);
    expect(await search(PP)).toMatchObject({ UserArnSession: NEW_OWNER, UserArn: `arn:aws:iam::${ACCOUNT}:role/Admin` });
    await waitForRecord((await update({ OWNER: NEW_ROLE }, 'own-2')).RecordId!);
    expect(await search(PP)).toMatchObject({ UserArnSession: NEW_ROLE, UserArn: NEW_ROLE });
    expect(fake.product(PP)?.owner).toBe(NEW_ROLE);
    expect(fake.violations).toEqual([]);
  });

  test('SearchProvisionedProducts: a query the fake does not understand lists nothing, never everything', async () => {
    await setup();
    fake.addProduct({ id: 'pp-other', owner: OWNER });
    const ids = async (filters: Record<string, string[]> | undefined) =>
      (
        await client.send(new SearchProvisionedProductsCommand({ AccessLevelFilter: { Key: 'Account', Value: 'self' }, Filters: filters }))
      ).ProvisionedProducts!.map((p) => p.Id);
    expect(await ids({ SearchQuery: [`id:${PP}`] })).toEqual([PP]);
    expect(await ids({ SearchQuery: ['status:AVAILABLE'] })).toEqual([]);
    expect(await ids({ SearchQuery: [PP] })).toEqual([]);
    expect(await ids({ SearchQuery: [''] })).toEqual([]);
    expect(await ids({ SearchQuery: [`id:${PP}`, 'id:pp-other'] })).toEqual([]);
    expect(await ids({ SearchQuery: ['id:pp-nope'] })).toEqual([]);
    // No query at all is understood: every product of the account.
    expect((await ids({ SearchQuery: [] })).sort()).toEqual(['pp-other', PP].sort());
    expect((await ids(undefined)).sort()).toEqual(['pp-other', PP].sort());
    expect(fake.violations).toEqual([]);
  });

  test('SearchProvisionedProducts: only the Account access level lists products the caller does not own', async () => {
    await setup();
    const ids = async (accessLevelFilter: { Key?: 'Account' | 'Role' | 'User'; Value?: string } | undefined) =>
      (
        await client.send(
          new SearchProvisionedProductsCommand({ AccessLevelFilter: accessLevelFilter, Filters: { SearchQuery: [`id:${PP}`] } }),
        )
      ).ProvisionedProducts!.map((p) => p.Id);
    expect(await ids({ Key: 'Account', Value: 'self' })).toEqual([PP]);
    expect(await ids({ Key: 'User', Value: 'self' })).toEqual([]);
    expect(await ids({ Key: 'Role', Value: 'self' })).toEqual([]);
    expect(await ids(undefined)).toEqual([]);
    expect(await ids({})).toEqual([]);
    expect(fake.violations).toEqual([]);
    const err = await errorOf(ids({ Key: 'Account', Value: '' }));
    expect(err.name).toBe('InvalidParametersException');
    expect(fake.violations).toEqual([expect.stringMatching(/AccessLevelFilter.Value "": the only supported value is self/)]);
  });

  test('SearchProvisionedProducts pages: 20 products unless PageSize says otherwise', async () => {
    await setup();
    for (let i = 0; i < 24; i++) fake.addProduct({ id: `pp-page${i}`, owner: OWNER });
    const page = (token?: string, size?: number) =>
      client.send(
        new SearchProvisionedProductsCommand({ AccessLevelFilter: { Key: 'Account', Value: 'self' }, PageToken: token, PageSize: size }),
      );
    const first = await page();
    expect(first.ProvisionedProducts).toHaveLength(20);
    expect(first.TotalResultsCount).toBe(25);
    const second = await page(first.NextPageToken);
    expect(second.ProvisionedProducts).toHaveLength(5);
    expect(second.NextPageToken).toBeUndefined();
    expect(new Set([...first.ProvisionedProducts!, ...second.ProvisionedProducts!].map((p) => p.Id)).size).toBe(25);
    expect((await page(undefined, 100)).ProvisionedProducts).toHaveLength(25);
    expect(fake.violations).toEqual([]);
  });

  test('update: record goes CREATED/IN_PROGRESS -> SUCCEEDED, product changes only then', async () => {
    await setup({ recordDurationMs: 200 });
    const out = await update({ OWNER: NEW_OWNER, LAUNCH_ROLE: NEW_ROLE }, 'tok-1');
    expect(out).toMatchObject({
      ProvisionedProductId: PP,
      ProvisionedProductProperties: { OWNER: NEW_OWNER, LAUNCH_ROLE: NEW_ROLE },
      Status: 'CREATED',
    });
    const recordId = out.RecordId!;
    expect(recordId).toMatch(/^rec-/);

    expect(['CREATED', 'IN_PROGRESS']).toContain(await recordStatus(recordId));
    const during = await client.send(new DescribeProvisionedProductCommand({ Id: PP }));
    expect(during.ProvisionedProductDetail).toMatchObject({ Status: 'UNDER_CHANGE', LaunchRoleArn: ROLE, LastRecordId: recordId });
    expect(fake.product(PP)).toMatchObject({ owner: OWNER, launchRole: ROLE, status: 'UNDER_CHANGE' });
    expect(fake.writesApplied(PP)).toBe(0);

    expect(await waitForRecord(recordId)).toBe('SUCCEEDED');
    const rec = await client.send(new DescribeRecordCommand({ Id: recordId }));
    expect(rec.RecordDetail).toMatchObject({
      RecordId: recordId,
      ProvisionedProductId: PP,
      RecordType: 'UPDATE_PROVISIONED_PRODUCT_PROPERTIES',
      RecordErrors: [],
    });
    expect(rec.RecordDetail!.UpdatedTime!.getTime()).toBeGreaterThanOrEqual(rec.RecordDetail!.CreatedTime!.getTime());

    const after = await client.send(new DescribeProvisionedProductCommand({ Id: PP }));
    expect(after.ProvisionedProductDetail).toMatchObject({ Status: 'AVAILABLE', LaunchRoleArn: NEW_ROLE });
    expect(fake.product(PP)).toEqual({ id: PP, owner: NEW_OWNER, launchRole: NEW_ROLE, status: 'AVAILABLE', lastRecordId: recordId });
    expect(fake.writesApplied(PP)).toBe(1);
    expect(fake.violations).toEqual([]);
  });

  test('same IdempotencyToken -> same RecordId (even while UNDER_CHANGE), applied once', async () => {
    await setup();
    const a = await update({ OWNER: NEW_OWNER }, 'same-token');
    const b = await update({ OWNER: NEW_OWNER }, 'same-token'); // token checked before the busy check
    expect(b.RecordId).toBe(a.RecordId);
    await waitForRecord(a.RecordId!);
    const c = await update({ OWNER: NEW_OWNER }, 'same-token');
    expect(c.RecordId).toBe(a.RecordId);
    expect(fake.product(PP)!.owner).toBe(NEW_OWNER);
    expect(fake.writesApplied(PP)).toBe(1);
    expect(fake.violations).toEqual([]);
  });

  test('tokenMemoryMs: a token is remembered that long after its record was made, then a repeat is a new write', async () => {
    await setup({ recordDurationMs: 5, tokenMemoryMs: 150 });
    const first = await update({ OWNER: NEW_OWNER }, 'remembered-for-a-while');
    await waitForRecord(first.RecordId!);
    expect((await update({ OWNER: NEW_OWNER }, 'remembered-for-a-while')).RecordId).toBe(first.RecordId);
    // Someone else changes the owner meanwhile; the old call's repeat, once its token is forgotten, writes again.
    fake.changeByHand(PP, { owner: OWNER });
    await new Promise((r) => setTimeout(r, 160));
    const again = await update({ OWNER: NEW_OWNER }, 'remembered-for-a-while');
    expect(again.RecordId).not.toBe(first.RecordId);
    expect(await waitForRecord(again.RecordId!)).toBe('SUCCEEDED');
    expect(fake.product(PP)!.owner).toBe(NEW_OWNER);
    expect(fake.writesApplied(PP)).toBe(2);
    // The new record is the one the token now names.
    expect((await update({ OWNER: NEW_OWNER }, 'remembered-for-a-while')).RecordId).toBe(again.RecordId);
    expect(fake.recordsOf(PP).map((r) => [r.recordId, r.idempotencyToken, r.status])).toEqual([
      [first.RecordId, 'remembered-for-a-while', 'SUCCEEDED'],
      [again.RecordId, 'remembered-for-a-while', 'SUCCEEDED'],
    ]);
    expect(fake.violations).toEqual([]);
  });

  test('tokenMemoryMs: 0 forgets every token at once: a repeat is refused while the product is busy, and writes once free', async () => {
    await setup({ recordDurationMs: 30, tokenMemoryMs: 0 });
    const a = await update({ OWNER: NEW_OWNER }, 'forgotten');
    expect((await errorOf(update({ OWNER: NEW_OWNER }, 'forgotten'))).name).toBe('InvalidStateException');
    await waitForRecord(a.RecordId!);
    const b = await update({ OWNER: NEW_OWNER }, 'forgotten');
    expect(b.RecordId).not.toBe(a.RecordId);
    await waitForRecord(b.RecordId!);
    // A forgotten token with other parameters is a new call, not a client bug.
    const c = await update({ LAUNCH_ROLE: NEW_ROLE }, 'forgotten');
    await waitForRecord(c.RecordId!);
    expect(fake.product(PP)).toMatchObject({ owner: NEW_OWNER, launchRole: NEW_ROLE, lastRecordId: c.RecordId });
    expect(fake.writesApplied(PP)).toBe(3);
    expect(fake.violations).toEqual([]);
  });

  test('by default a token is remembered for ever, and reusing it with other parameters is a violation', async () => {
    await setup({ recordDurationMs: 5 });
    const a = await update({ OWNER: NEW_OWNER }, 'for-ever');
    await waitForRecord(a.RecordId!);
    await new Promise((r) => setTimeout(r, 50));
    expect((await update({ OWNER: NEW_OWNER }, 'for-ever')).RecordId).toBe(a.RecordId);
    expect((await errorOf(update({ LAUNCH_ROLE: NEW_ROLE }, 'for-ever'))).name).toBe('InvalidParametersException');
    expect(fake.violations).toHaveLength(1);
    expect(fake.writesApplied(PP)).toBe(1);
    expect(fake.recordsOf()).toHaveLength(1);
  });

  test('UNDER_CHANGE (setBusy or running record) -> InvalidStateException; free again afterwards', async () => {
    await setup();
    fake.setBusy(PP, 100);
    const err = await errorOf(update({ OWNER: NEW_OWNER }, 'busy-1'));
    expect(err).toBeInstanceOf(InvalidStateException);
    expect(err.name).toBe('InvalidStateException');
    expect(fake.callsOf('UpdateProvisionedProductProperties')[0].outcome).toBe('InvalidStateException');

    fake.planNextRecord({ neverFinish: true });
    await new Promise((r) => setTimeout(r, 120));
    const stuck = await update({ OWNER: NEW_OWNER }, 'busy-2');
    await new Promise((r) => setTimeout(r, 80));
    expect(await recordStatus(stuck.RecordId!)).toBe('IN_PROGRESS');
    expect((await errorOf(update({ LAUNCH_ROLE: NEW_ROLE }, 'busy-3'))).name).toBe('InvalidStateException');
    expect(fake.product(PP)).toMatchObject({ status: 'UNDER_CHANGE', owner: OWNER });
    expect(fake.violations).toEqual([]);
  });

  test('malformed calls -> InvalidParametersException and a violation', async () => {
    await setup();
    const err = await errorOf(update({ OWNER: NEW_OWNER }, '-bad token!'));
    expect(err).toBeInstanceOf(InvalidParametersException);
    expect(err.name).toBe('InvalidParametersException');
    expect(err.message).toMatch(/IdempotencyToken/);
    expect(fake.violations).toHaveLength(1);

    expect((await errorOf(update({ OWNER: NEW_OWNER }, 'ok-token', 'bad id!'))).name).toBe('InvalidParametersException');
    expect((await errorOf(update({}, 'ok-token-2'))).name).toBe('InvalidParametersException');
    expect((await errorOf(update({ OWNER: 'x'.repeat(1025) }, 'ok-token-3'))).name).toBe('InvalidParametersException');
    expect(fake.violations).toHaveLength(4);
    expect(fake.writesApplied(PP)).toBe(0);
  });

  test('semantic errors are InvalidParametersException but not violations', async () => {
    await setup();
    const cases: Record<string, string>[] = [
      { LAUNCH_ROLE: OWNER }, // a user ARN is not a launch role
      { LAUNCH_ROLE: '' }, // a launch role cannot be cleared
      { LAUNCH_ROLE: 'arn:aws:iam::999999999999:role/Other' }, // other account
      { OWNER: 'not-an-arn' },
      { OWNER: 'arn:aws:iam::999999999999:user/mallory' },
    ];
    for (const [i, props] of cases.entries()) {
      const err = await errorOf(update(props, `sem-${i}`));
      expect(err).toBeInstanceOf(InvalidParametersException);
    }
    expect(fake.violations).toEqual([]);
    expect(fake.product(PP)).toMatchObject({ owner: OWNER, launchRole: ROLE, status: 'AVAILABLE' });
  });

  test('failed record has RecordErrors and leaves the values unchanged', async () => {
    await setup();
    fake.planNextRecord({ durationMs: 30, fail: [{ Code: 'AccessDenied', Description: 'no iam:PassRole' }] });
    const out = await update({ LAUNCH_ROLE: NEW_ROLE }, 'fail-1');
    expect(await waitForRecord(out.RecordId!)).toBe('FAILED');
    const rec = await client.send(new DescribeRecordCommand({ Id: out.RecordId! }));
    expect(rec.RecordDetail!.RecordErrors).toEqual([{ Code: 'AccessDenied', Description: 'no iam:PassRole' }]);
    expect(fake.product(PP)).toMatchObject({ launchRole: ROLE, status: 'AVAILABLE', lastRecordId: out.RecordId });
    expect(fake.writesApplied(PP)).toBe(0);
  });

  test('throttle fault surfaces as ThrottlingException; 5xx fault is not applied', async () => {
    await setup();
    fake.setFaults({ share: 1, kinds: ['throttle'], seed: 7 });
    const err = await errorOf(client.send(new DescribeProvisionedProductCommand({ Id: PP })));
    expect(err.name).toBe('ThrottlingException');
    expect(err.$metadata?.httpStatusCode).toBe(400);
    expect(fake.faultsInjected.throttle).toBe(1);

    fake.setFaults({ share: 1, kinds: ['5xx'], ops: ['UpdateProvisionedProductProperties'] });
    const err5 = await errorOf(update({ OWNER: NEW_OWNER }, 'fault-1'));
    expect(err5.name).toBe('InternalFailure');
    expect(err5.$metadata?.httpStatusCode).toBe(500);
    expect((await client.send(new DescribeProvisionedProductCommand({ Id: PP }))).ProvisionedProductDetail!.Status).toBe('AVAILABLE');
    expect(fake.product(PP)!.lastRecordId).toBeUndefined();

    fake.setFaults({ share: 0.5, kinds: ['throttle'], seed: 42, ops: ['DescribeProvisionedProduct'] });
    const outcomes: string[] = [];
    for (let i = 0; i < 10; i++) {
      outcomes.push(
        await client.send(new DescribeProvisionedProductCommand({ Id: PP })).then(
          () => 'ok',
          (e: Error) => e.name,
        ),
      );
    }
    fake.setFaults({ share: 0.5, kinds: ['throttle'], seed: 42, ops: ['DescribeProvisionedProduct'] });
    const again: string[] = [];
    for (let i = 0; i < 10; i++) {
      again.push(
        await client.send(new DescribeProvisionedProductCommand({ Id: PP })).then(
          () => 'ok',
          (e: Error) => e.name,
        ),
      );
    }
    expect(again).toEqual(outcomes); // deterministic with a seed
    expect(outcomes).toContain('ok');
    expect(outcomes).toContain('ThrottlingException');
    expect(fake.violations).toEqual([]);
  });

  test('denied fault surfaces as AccessDeniedException (400, not retryable) and the write is not applied', async () => {
    await setup();
    fake.setFaults({ share: 1, kinds: ['denied'], ops: ['UpdateProvisionedProductProperties'] });
    const err = await errorOf(update({ OWNER: NEW_OWNER }, 'denied-1'));
    expect(err.name).toBe('AccessDeniedException');
    expect(err.$metadata?.httpStatusCode).toBe(400);
    expect(err.message).toMatch(/not authorized to perform UpdateProvisionedProductProperties/);
    expect(fake.faultsInjected.denied).toBe(1);
    expect(fake.product(PP)!.lastRecordId).toBeUndefined();
    expect(fake.violations).toEqual([]);
  });

  test('a fault plan with a count injects that many faults, then none', async () => {
    await setup();
    fake.setFaults({ share: 1, kinds: ['throttle'], ops: ['DescribeProvisionedProduct'], count: 2 });
    const outcome = () =>
      client.send(new DescribeProvisionedProductCommand({ Id: PP })).then(
        () => 'ok',
        (e: Error) => e.name,
      );
    expect([await outcome(), await outcome(), await outcome(), await outcome()]).toEqual([
      'ThrottlingException',
      'ThrottlingException',
      'ok',
      'ok',
    ]);
    expect(fake.faultsInjected.throttle).toBe(2);
  });

  test('drop fault surfaces as a network error and the write is not applied', async () => {
    await setup();
    fake.setFaults({ share: 1, kinds: ['drop'] });
    const err = await errorOf(update({ OWNER: NEW_OWNER }, 'drop-1'));
    expect(err.$metadata?.httpStatusCode).toBeUndefined();
    expect(`${err.name} ${err.code} ${err.message}`).toMatch(/ECONNRESET|socket hang up|EPIPE/);
    expect(fake.faultsInjected.drop).toBe(1);
    expect(fake.calls[0].outcome).toBe('ConnectionDropped');

    fake.setFaults(undefined);
    const out = await update({ OWNER: NEW_OWNER }, 'drop-1'); // the retry works and creates the record
    await waitForRecord(out.RecordId!);
    expect(fake.writesApplied(PP)).toBe(1);
  });

  test('terminate -> ResourceNotFoundException everywhere; unknown record too', async () => {
    await setup();
    fake.terminate(PP);
    expect(fake.product(PP)).toBeUndefined();
    const e1 = await errorOf(client.send(new DescribeProvisionedProductCommand({ Id: PP })));
    expect(e1).toBeInstanceOf(ResourceNotFoundException);
    expect(e1.name).toBe('ResourceNotFoundException');
    expect((await errorOf(update({ OWNER: NEW_OWNER }, 'term-1'))).name).toBe('ResourceNotFoundException');
    expect((await errorOf(client.send(new DescribeRecordCommand({ Id: 'rec-nope' })))).name).toBe('ResourceNotFoundException');
    const s = await client.send(new SearchProvisionedProductsCommand({ Filters: { SearchQuery: [`id:${PP}`] } }));
    expect(s.ProvisionedProducts).toEqual([]);
    expect(fake.violations).toEqual([]);
  });

  test('unknown operation -> 400 UnknownOperationException and a violation', async () => {
    await setup();
    const { status, body } = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const url = new URL(fake.endpoint);
      const req = http.request(
        {
          host: url.hostname,
          port: url.port,
          method: 'POST',
          path: '/',
          agent: false,
          headers: {
            'content-type': 'application/x-amz-json-1.1',
            'x-amz-target': 'AWS242ServiceCatalogService.TerminateProvisionedProduct',
            authorization: 'AWS4-HMAC-SHA256 Credential=x',
          },
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (text += c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
        },
      );
      req.on('error', reject);
      req.end('{}');
    });
    expect(status).toBe(400);
    expect(JSON.parse(body)).toMatchObject({ __type: 'UnknownOperationException' });
    expect(fake.violations).toHaveLength(1);
    expect(fake.violations[0]).toMatch(/TerminateProvisionedProduct/);
  });
});
