/**
 * The ledger against AWS's own DynamoDB Local: each request decided once however its deliveries
 * arrive (Powertools' idempotency records), and per resource the latest request and the priors its
 * first capture recorded, its one-time registrations and its write lease: the behaviours the
 * handler rests on.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { LEDGER } from '../../lib/contract';
import type { CustomResourceEvent, OnEventResult } from '../../lambda/events';
import { supersededBy } from '../../lambda/ledger-rules';
import { ALICE, LAUNCH_A, OPS, useDynamoDBLocal } from '../support/fixtures';

type LedgerModule = typeof import('../../lambda/ledger');
type RequestLedgerModule = typeof import('../../lambda/request-ledger');

const dynamo = useDynamoDBLocal();
const STACK_ID = 'arn:aws:cloudformation:us-east-1:123456789012:stack/Ledger/00000000-0000-0000-0000-000000000000';

let ledger: LedgerModule;
let requests: RequestLedgerModule;

/** Loads the handler's modules against a fresh table of the ledger's shape (their clients and table name are read at load). */
function loadAgainst(tableName: string): { ledger: LedgerModule; requests: RequestLedgerModule } {
  Object.assign(process.env, {
    AWS_ENDPOINT_URL_DYNAMODB: dynamo().endpoint,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    POLL_INTERVAL_MS: '20',
    POWERTOOLS_LOG_LEVEL: 'SILENT',
    [LEDGER.tableEnv]: tableName,
  });
  let loaded: { ledger: LedgerModule; requests: RequestLedgerModule } | undefined;
  jest.isolateModules(() => {
    loaded = {
      ledger: jest.requireActual<LedgerModule>('../../lambda/ledger'),
      requests: jest.requireActual<RequestLedgerModule>('../../lambda/request-ledger'),
    };
  });
  return loaded as { ledger: LedgerModule; requests: RequestLedgerModule };
}

beforeEach(async () => {
  const table = await dynamo().createTable({
    logicalId: 'Ledger',
    partitionKey: LEDGER.partitionKey,
    timeToLiveAttribute: LEDGER.timeToLiveAttribute,
  });
  ({ ledger, requests } = loadAgainst(table));
});

let requestCounter = 0;
function createEvent(overrides: Partial<CustomResourceEvent> = {}): CustomResourceEvent {
  return {
    RequestType: 'Create',
    ServiceToken: 'arn:aws:lambda:us-east-1:123456789012:function:OnEvent',
    ResponseURL: 'https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com/secret?X-Amz-Signature=abc',
    StackId: STACK_ID,
    RequestId: `request-${++requestCounter}`,
    LogicalResourceId: 'Ownership',
    ResourceType: 'Custom::ProvisionedProductProperties',
    ResourceProperties: { ServiceToken: 'token', ProvisionedProductId: 'pp-alpha', ProvisionedProductProperties: { OWNER: ALICE } },
    ...overrides,
  } as CustomResourceEvent;
}

const context = (remainingMs = 60_000) => ({ getRemainingTimeInMillis: () => remainingMs });

/** A decision that counts its runs and takes `ms`. */
function countingDecision(ms = 0): { decide: (e: CustomResourceEvent) => Promise<OnEventResult>; runs: () => number } {
  let runs = 0;
  return {
    runs: () => runs,
    decide: async (e) => {
      runs++;
      await sleep(ms);
      return { PhysicalResourceId: `decided-by-${e.RequestId}-run-${runs}`, PlannedAt: Date.now() };
    },
  };
}

describe('each request is decided once', () => {
  test('two deliveries of one request at the same moment decide once and answer with the same decision', async () => {
    const event = createEvent();
    const d = countingDecision(300);
    const [a, b] = await Promise.all([requests.decideOnce(event, context(), d.decide), requests.decideOnce(event, context(), d.decide)]);
    expect(d.runs()).toBe(1);
    expect(b).toEqual(a);
  });

  test('a copy delivered after the answer gets the first decision and never decides again', async () => {
    const event = createEvent();
    const d = countingDecision();
    const first = await requests.decideOnce(event, context(), d.decide);
    const late = await requests.decideOnce({ ...event, ResponseURL: 'https://other.example/url' }, context(), d.decide);
    expect(late).toEqual(first);
    expect(d.runs()).toBe(1);
  });

  test('another request of the same resource decides for itself', async () => {
    const d = countingDecision();
    await requests.decideOnce(createEvent(), context(), d.decide);
    await requests.decideOnce(createEvent(), context(), d.decide);
    expect(d.runs()).toBe(2);
  });

  test('a decision that failed is not kept: the next delivery decides afresh', async () => {
    const event = createEvent();
    await expect(
      requests.decideOnce(event, context(), () => Promise.reject(new Error('Provisioned product "pp-alpha" was not found'))),
    ).rejects.toThrow('was not found');
    const d = countingDecision();
    await requests.decideOnce(event, context(), d.decide);
    expect(d.runs()).toBe(1);
  });

  test('a copy that runs out of time while the first still decides fails saying so, without a decision of its own', async () => {
    const event = createEvent();
    const slow = countingDecision(1_500);
    const first = requests.decideOnce(event, context(), slow.decide);
    await sleep(100);
    const other = countingDecision();
    await expect(requests.decideOnce(event, context(300), other.decide)).rejects.toThrow(
      /Another delivery of this CloudFormation request was still deciding .* Nothing was written by this delivery/,
    );
    expect(other.runs()).toBe(0);
    await first;
  });

  test('a delivery with the same RequestId but other properties is refused, never answered with the first decision', async () => {
    const event = createEvent();
    const d = countingDecision();
    await requests.decideOnce(event, context(), d.decide);
    const altered = {
      ...event,
      ResourceProperties: { ...event.ResourceProperties, ProvisionedProductId: 'pp-beta' },
    } as CustomResourceEvent;
    await expect(requests.decideOnce(altered, context(), d.decide)).rejects.toThrow(/carries other properties or another physical id/);
    expect(d.runs()).toBe(1);
  });

  test('the decision kept holds no ResponseURL', async () => {
    const event = createEvent();
    await requests.decideOnce(event, context(), countingDecision().decide);
    const items = await dynamo().items(process.env[LEDGER.tableEnv] ?? '');
    expect(items).toHaveLength(1);
    expect(JSON.stringify(items)).not.toContain('X-Amz-Signature');
    expect(JSON.stringify(items)).not.toContain(event.ResponseURL);
    expect(Number(items[0][LEDGER.timeToLiveAttribute].N)).toBeGreaterThan(Date.now() / 1000 + LEDGER.requestRecordSeconds - 60);
  });

  test('a ledger that cannot be written fails the delivery before any decision, naming the table and what to check', async () => {
    const broken = loadAgainst('NoSuchLedgerTable');
    const d = countingDecision();
    await expect(broken.requests.decideOnce(createEvent(), context(), d.decide)).rejects.toThrow(
      /Could not record this request in the provider's ledger table "NoSuchLedgerTable": .*ResourceNotFoundException.*Nothing was written to Service Catalog/,
    );
    expect(d.runs()).toBe(0);
  });
});

describe('what the ledger knows of a resource', () => {
  const ref = { stackId: STACK_ID, logicalResourceId: 'Ownership' };

  test("a resource's next request supersedes the one before it", async () => {
    await ledger.registerRequest(ref, 'r1', 'Create');
    expect(supersededBy(await ledger.readResource(ref), 'r1')).toBeUndefined();
    await ledger.registerRequest(ref, 'r2', 'Update');
    expect(supersededBy(await ledger.readResource(ref), 'r1')).toEqual({ latestRequestId: 'r2', latestRequestType: 'Update' });
  });

  test("the first capture's priors stand: a later record for the same product changes nothing", async () => {
    await ledger.registerRequest(ref, 'r1', 'Create');
    await ledger.recordPriors(ref, 'pp-alpha', { owner: ALICE, launchRole: LAUNCH_A, requestId: 'r1' });
    const standing = await ledger.recordPriors(ref, 'pp-alpha', {
      owner: 'arn:aws:iam::123456789012:role/Written',
      launchRole: '',
      requestId: 'r9',
    });
    expect(standing).toEqual({ owner: ALICE, launchRole: LAUNCH_A, requestId: 'r1' });
    const { resource } = await ledger.registerRequest(ref, 'r2', 'Update');
    expect(resource.priors['pp-alpha']).toEqual({ owner: ALICE, launchRole: LAUNCH_A, requestId: 'r1' });
  });

  test('a tombstone: a request naming a physical id a Delete removed is not registered, until a capture answers with that id again', async () => {
    await ledger.registerRequest(ref, 'r1', 'Create');
    await ledger.recordDeleted(ref, 'sc-ppp:v1|pp-alpha|x');
    const refused = await ledger.registerRequest(ref, 'r2', 'Update', 'sc-ppp:v1|pp-alpha|x');
    expect(refused).toMatchObject({ targetDeleted: true, isLatest: false, resource: { latestRequestId: 'r1' } });
    expect(await ledger.registerRequest(ref, 'r3', 'Update', 'sc-ppp:v1|pp-beta|y')).toMatchObject({
      targetDeleted: false,
      isLatest: true,
    });
    await ledger.clearDeleted(ref, 'sc-ppp:v1|pp-alpha|x');
    expect(await ledger.registerRequest(ref, 'r4', 'Delete', 'sc-ppp:v1|pp-alpha|x')).toMatchObject({
      targetDeleted: false,
      isLatest: true,
    });
  });

  test('a request registers once: decided again after a later request registered, it does not become the latest again', async () => {
    expect((await ledger.registerRequest(ref, 'r1', 'Create')).isLatest).toBe(true);
    expect((await ledger.registerRequest(ref, 'r1', 'Create')).isLatest).toBe(true);
    await ledger.registerRequest(ref, 'r2', 'Delete');
    const again = await ledger.registerRequest(ref, 'r1', 'Create');
    expect(again).toMatchObject({ isLatest: false, resource: { latestRequestId: 'r2', latestRequestType: 'Delete' } });
  });

  test('the write lease: taken only by the latest request, shared by its copies, and refused to others until given back or lapsed', async () => {
    await ledger.registerRequest(ref, 'r1', 'Create');
    expect(await ledger.takeWriteLease(ref, 'r1', Date.now() + 60_000)).toMatchObject({ kind: 'taken' });
    expect(await ledger.takeWriteLease(ref, 'r1', Date.now() + 60_000)).toMatchObject({ kind: 'taken' });
    await ledger.registerRequest(ref, 'r2', 'Update');
    expect(await ledger.takeWriteLease(ref, 'r1', Date.now() + 60_000)).toMatchObject({ kind: 'superseded' });
    expect(await ledger.takeWriteLease(ref, 'r2', Date.now() + 60_000)).toMatchObject({
      kind: 'held',
      resource: { writer: { requestId: 'r1' } },
    });
    await ledger.releaseWriteLease(ref, 'r2'); // not its lease: nothing changes
    expect((await ledger.readResource(ref)).writer?.requestId).toBe('r1');
    await ledger.releaseWriteLease(ref, 'r1');
    expect(await ledger.takeWriteLease(ref, 'r2', Date.now() - 1)).toMatchObject({ kind: 'taken' });
    await ledger.registerRequest(ref, 'r3', 'Delete');
    // r2's lease has lapsed: r3 takes it without waiting for a release.
    expect(await ledger.takeWriteLease(ref, 'r3', Date.now() + 60_000)).toMatchObject({ kind: 'taken' });
  });

  test('the write accepted under a lease is recorded as it is given back, and the lease shows it to the next call', async () => {
    await ledger.registerRequest(ref, 'r1', 'Create');
    await ledger.takeWriteLease(ref, 'r1', Date.now() + 60_000);
    await ledger.releaseWriteLease(ref, 'r1', { token: 'token-1', recordId: 'rec-1' });
    const lease = await ledger.takeWriteLease(ref, 'r1', Date.now() + 60_000);
    expect(lease).toMatchObject({
      kind: 'taken',
      resource: { writer: { requestId: 'r1' }, lastWrite: { token: 'token-1', recordId: 'rec-1' } },
    });
    // Given back without a write: the last one stays.
    await ledger.releaseWriteLease(ref, 'r1');
    expect((await ledger.readResource(ref)).lastWrite).toEqual({ token: 'token-1', recordId: 'rec-1' });
  });

  test('a replacement keeps the priors of both products until the old one is deleted', async () => {
    await ledger.registerRequest(ref, 'r1', 'Create');
    await ledger.recordPriors(ref, 'pp-alpha', { owner: ALICE, launchRole: '', requestId: 'r1' });
    await ledger.registerRequest(ref, 'r2', 'Update');
    await ledger.recordPriors(ref, 'pp-beta', { owner: ALICE, launchRole: LAUNCH_A, requestId: 'r2' });
    expect(Object.keys((await ledger.readResource(ref)).priors).sort()).toEqual(['pp-alpha', 'pp-beta']);
    await ledger.forgetPriors(ref, 'pp-alpha', 'r1'); // the cleanup Delete of a request a later one superseded: kept
    expect(Object.keys((await ledger.readResource(ref)).priors).sort()).toEqual(['pp-alpha', 'pp-beta']);
    await ledger.registerRequest(ref, 'r3', 'Delete');
    await ledger.forgetPriors(ref, 'pp-alpha', 'r3');
    expect(Object.keys((await ledger.readResource(ref)).priors)).toEqual(['pp-beta']);
  });

  test("what a completed request declares is kept beside the product's priors, only while it is the latest, and leaves with them", async () => {
    await ledger.registerRequest(ref, 'r1', 'Create');
    await ledger.recordPriors(ref, 'pp-alpha', { owner: ALICE, launchRole: LAUNCH_A, requestId: 'r1' });
    await ledger.recordDeclared(ref, 'pp-alpha', { properties: { OWNER: OPS }, requestId: 'r1', at: 1000 });
    expect((await ledger.readResource(ref)).priors['pp-alpha'].declared).toEqual({ properties: { OWNER: OPS }, requestId: 'r1', at: 1000 });
    await ledger.registerRequest(ref, 'r2', 'Update');
    // A late completion of r1 (a copy) must not replace what r2 will declare.
    await ledger.recordDeclared(ref, 'pp-alpha', { properties: { OWNER: ALICE }, requestId: 'r1', at: 2000 });
    expect((await ledger.readResource(ref)).priors['pp-alpha'].declared?.at).toBe(1000);
    await ledger.recordDeclared(ref, 'pp-alpha', { properties: { OWNER: OPS, LAUNCH_ROLE: LAUNCH_A }, requestId: 'r2', at: 3000 });
    expect((await ledger.readResource(ref)).priors['pp-alpha'].declared).toMatchObject({
      requestId: 'r2',
      properties: { LAUNCH_ROLE: LAUNCH_A },
    });
    await ledger.registerRequest(ref, 'r3', 'Delete');
    await ledger.forgetPriors(ref, 'pp-alpha', 'r3');
    expect((await ledger.readResource(ref)).priors).toEqual({});
  });

  test("the drift check's findings are kept for the declared values they were found against, and forgotten when a request declares anew", async () => {
    await ledger.registerRequest(ref, 'r1', 'Create');
    await ledger.recordPriors(ref, 'pp-alpha', { owner: ALICE, launchRole: '', requestId: 'r1' });
    await ledger.recordDeclared(ref, 'pp-alpha', { properties: { OWNER: OPS }, requestId: 'r1', at: 1 });
    await ledger.recordDrift(ref, 'pp-alpha', 'r1', { OWNER: { found: ALICE, since: 5 } });
    expect((await ledger.readResource(ref)).priors['pp-alpha'].drift).toEqual({ OWNER: { found: ALICE, since: 5 } });
    await ledger.recordDrift(ref, 'pp-alpha', 'r0', {}); // found against other declared values: ignored
    expect((await ledger.readResource(ref)).priors['pp-alpha'].drift).toEqual({ OWNER: { found: ALICE, since: 5 } });
    await ledger.recordDrift(ref, 'pp-alpha', 'r1', {});
    expect((await ledger.readResource(ref)).priors['pp-alpha'].drift).toBeUndefined();
    await ledger.recordDrift(ref, 'pp-alpha', 'r1', { OWNER: { found: ALICE, since: 7 } });
    await ledger.registerRequest(ref, 'r2', 'Update');
    await ledger.recordDeclared(ref, 'pp-alpha', { properties: { OWNER: ALICE }, requestId: 'r2', at: 9 });
    expect((await ledger.readResource(ref)).priors['pp-alpha'].drift).toBeUndefined();
  });

  test('a scan lists every resource with its stack and logical id, and nothing of the requests', async () => {
    await ledger.registerRequest(ref, 'r1', 'Create');
    const other = { stackId: STACK_ID, logicalResourceId: 'Other' };
    await ledger.registerRequest(other, 'r2', 'Create');
    const found = await ledger.scanResources();
    expect(found.map((r) => [r.logicalResourceId, r.stackId, r.latestRequestId]).sort()).toEqual([
      ['Other', STACK_ID, 'r2'],
      ['Ownership', STACK_ID, 'r1'],
    ]);
  });

  test("the drift check's write lease: only while the declaring request is the latest, never while a request holds it, and requests wait for it", async () => {
    await ledger.registerRequest(ref, 'r1', 'Create');
    expect(await ledger.takeWriteLease(ref, 'r1', Date.now() + 60_000)).toMatchObject({ kind: 'taken' });
    expect(await ledger.takeWriteLease(ref, 'r1', Date.now() + 60_000, 'drift-check#a')).toMatchObject({ kind: 'held' });
    await ledger.releaseWriteLease(ref, 'r1');
    expect(await ledger.takeWriteLease(ref, 'r1', Date.now() + 60_000, 'drift-check#a')).toMatchObject({ kind: 'taken' });
    // A copy of r1 itself now waits for the check.
    expect(await ledger.takeWriteLease(ref, 'r1', Date.now() + 60_000)).toMatchObject({
      kind: 'held',
      resource: { writer: { requestId: 'drift-check#a' } },
    });
    await ledger.releaseWriteLease(ref, 'drift-check#a');
    await ledger.registerRequest(ref, 'r2', 'Update');
    expect(await ledger.takeWriteLease(ref, 'r1', Date.now() + 60_000, 'drift-check#b')).toMatchObject({ kind: 'superseded' });
  });

  test('a resource the ledger never saw has no latest request and no priors', async () => {
    expect(await ledger.readResource({ stackId: STACK_ID, logicalResourceId: 'Never' })).toEqual({
      latestRequestId: undefined,
      latestRequestType: undefined,
      priors: {},
      deleted: {},
    });
    await expect(ledger.forgetPriors({ stackId: STACK_ID, logicalResourceId: 'Never' }, 'pp-alpha', 'r1')).resolves.toBeUndefined();
  });
});
