/**
 * The handler's behaviour on every CloudFormation event, against a stateful fake Service Catalog
 * on 127.0.0.1 reached through the real SDK client. Each test names the situation and asserts the
 * product's resulting owner and launch role, and the calls made.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { CREATE_FAILED_MARKER, type FakeCloudFormation, type FakeServiceCatalog } from '../../harness';
import { ACCOUNT, ADMIN, ALICE, LAUNCH_A, LAUNCH_B, OPS } from '../support/fixtures';
import type * as Handler from '../../lambda/index';
import { type HandlerRunner, type Props, event, runner, startWaiter, useHandlerUnderTest } from '../support/handler-events';

const CREATE_FAILED = CREATE_FAILED_MARKER;

let fake: FakeServiceCatalog;
let cfn: FakeCloudFormation;
let handler: typeof Handler;
let run: HandlerRunner;
useHandlerUnderTest((under) => {
  ({ fake, cfn, handler } = under);
  run = runner(handler);
});

/** Adds a product to the fake; `launchRole: null` for a product without one. */
function product(id: string, owner = ALICE, launchRole: string | null = LAUNCH_A) {
  fake.addProduct({ id, owner, launchRole: launchRole ?? undefined, account: ACCOUNT });
  return id;
}

const state = (id: string) => {
  const p = fake.product(id);
  return { owner: p?.owner, launchRole: p?.launchRole };
};
/** The write calls on product `id` that ended with `outcome` ('ok' by default; undefined: every one). */
const writes = (id: string, outcome: string | undefined = 'ok') =>
  fake
    .callsOf('UpdateProvisionedProductProperties')
    .filter((c) => c.input?.ProvisionedProductId === id && (outcome === undefined || c.outcome === outcome));

describe('Create', () => {
  test('sets owner and launch role, records the priors, and returns them with the record id', async () => {
    const id = product('pp-create1');
    const { physicalId, data } = await run(event('Create', { id, owner: ADMIN, launchRole: LAUNCH_B }));
    expect(state(id)).toEqual({ owner: ADMIN, launchRole: LAUNCH_B });
    expect(physicalId).toMatch(/^sc-ppp:v1\|pp-create1\|/);
    expect(data).toEqual({
      RecordId: expect.stringMatching(/.+/) as unknown,
      PreviousOwnerArn: ALICE,
      PreviousLaunchRoleArn: LAUNCH_A,
      ChangedByHand: '',
    });
    expect(fake.writesApplied(id)).toBe(1);
  });

  test('makes no write call when the product already has the values, and returns every attribute as a string', async () => {
    const id = product('pp-create2', ADMIN, LAUNCH_B);
    const { data } = await run(event('Create', { id, owner: ADMIN, launchRole: LAUNCH_B }));
    expect(writes(id)).toHaveLength(0);
    expect(data).toEqual({ RecordId: '', PreviousOwnerArn: ADMIN, PreviousLaunchRoleArn: LAUNCH_B, ChangedByHand: '' });
  });

  test('sends only the key that differs, with AcceptLanguage and a token derived from the RequestId', async () => {
    const id = product('pp-create3');
    const e = event('Create', { id, owner: ADMIN, launchRole: LAUNCH_A, acceptLanguage: 'jp' }, { requestId: 'fixed-request' });
    // Deterministic: a redelivery of the same event plans the same write under the same token.
    const [first, second] = [await handler.onEvent(e), await handler.onEvent(e)];
    expect(second.PlannedChange?.IdempotencyToken).toBe(first.PlannedChange?.IdempotencyToken);
    await run(e);
    const [call] = writes(id);
    expect(call.input).toEqual({
      ProvisionedProductId: id,
      ProvisionedProductProperties: { OWNER: ADMIN },
      IdempotencyToken: first.PlannedChange?.IdempotencyToken,
      AcceptLanguage: 'jp',
    });
    expect(first.PlannedChange?.IdempotencyToken).toMatch(/^[0-9a-f]{64}$/);
  });

  test('invalid input fails before any call, naming the field and value', async () => {
    const id = product('pp-create4');
    const before = fake.calls.length;
    await expect(handler.onEvent(event('Create', { id, owner: 'arn:aws:iam::123456789012:group/Admins' }))).rejects.toThrow(
      /owner "arn:aws:iam::123456789012:group\/Admins" is not an IAM user/,
    );
    expect(fake.calls.length).toBe(before);
  });

  test('an unknown product fails with a message naming the id', async () => {
    await expect(handler.onEvent(event('Create', { id: 'pp-doesnotexist', owner: ADMIN }))).rejects.toThrow(
      /"pp-doesnotexist" was not found/,
    );
  });

  test('an owner from another account fails against the product, before any write', async () => {
    const id = product('pp-create5');
    await expect(handler.onEvent(event('Create', { id, owner: 'arn:aws:iam::999999999999:role/Other' }))).rejects.toThrow(
      /account 999999999999, but provisioned product pp-create5 is in account 123456789012/,
    );
    expect(writes(id)).toHaveLength(0);
  });

  test('search lag is tolerated: the owner is read once the product shows up', async () => {
    const id = product('pp-lag');
    fake.setSearchLag(id, 2);
    const { data } = await run(event('Create', { id, owner: ADMIN }));
    expect(data.PreviousOwnerArn).toBe(ALICE);
  });

  test('a product busy with another change is retried within the window, then left to the waiter, not failed', async () => {
    const id = product('pp-busy');
    const e = event('Create', { id, owner: ADMIN });
    const planned = await handler.onEvent(e);
    fake.setBusy(id, 60_000);
    const merged = startWaiter(e, planned);
    expect(await handler.isComplete(merged)).toEqual({ IsComplete: false });
    const refused = writes(id, 'InvalidStateException').length;
    // Retried at most once per poll interval (10 ms) within the 300 ms window, never in a tight loop.
    expect(refused).toBeGreaterThanOrEqual(1);
    expect(refused).toBeLessThanOrEqual(300 / 10 + 2);
    fake.setBusy(id, 0);
    for (let i = 0; i < 100 && !(await handler.isComplete(merged)).IsComplete; i++);
    expect(state(id).owner).toBe(ADMIN);
  });

  test('a product whose search never lists it fails the Create after the configured attempts, before any write', async () => {
    const id = product('pp-unlisted');
    fake.setSearchLag(id, 3); // SEARCH_ATTEMPTS is 3: one search short
    const searchesBefore = fake.callsOf('SearchProvisionedProducts').length;
    await expect(handler.onEvent(event('Create', { id, owner: ADMIN }))).rejects.toThrow(
      /Cannot read the current owner of provisioned product pp-unlisted: SearchProvisionedProducts did not list it after 3 attempts.*Nothing was changed/,
    );
    expect(fake.callsOf('SearchProvisionedProducts').length - searchesBefore).toBe(3);
    expect(writes(id, undefined)).toHaveLength(0);
  });

  test('a product provisioned by an assumed-role session: the session is the prior owner, and Delete gives the product back to it', async () => {
    // Search reports the session as UserArnSession and only its role as UserArn. OWNER accepts
    // assumed-role ARNs: restoring the role instead would hand the product to everyone using it.
    const session = `arn:aws:sts::${ACCOUNT}:assumed-role/Developer/alice@example.com`;
    const id = product('pp-session', session);
    const { physicalId, data } = await run(event('Create', { id, owner: ADMIN }));
    expect(data.PreviousOwnerArn).toBe(session);
    expect(physicalId).toContain('|sts:assumed-role/Developer/alice@example.com|');
    expect(state(id).owner).toBe(ADMIN);
    await run(event('Delete', { id, owner: ADMIN }, { physicalId }));
    expect(state(id).owner).toBe(session);
  });

  test('a FAILED record fails the deploy with the record errors, and the values are unchanged', async () => {
    const id = product('pp-recfail');
    fake.planNextRecord({ fail: [{ Code: 'AccessDenied', Description: 'launch role cannot be assumed' }] });
    await expect(run(event('Create', { id, launchRole: LAUNCH_B }))).rejects.toThrow(
      /record .* for provisioned product pp-recfail FAILED while setting LAUNCH_ROLE=.*LaunchB: AccessDenied: launch role cannot be assumed/,
    );
    expect(state(id)).toEqual({ owner: ALICE, launchRole: LAUNCH_A });
  });

  test('a redelivered onEvent settles the same physical id and true priors, and the change is applied once', async () => {
    const id = product('pp-redeliver');
    const e = event('Create', { id, owner: ADMIN });
    const first = await handler.onEvent(e);
    const second = await handler.onEvent(e);
    expect(second).toEqual({ ...first, PlannedAt: expect.any(Number) as unknown });
    // Both planned changes reach isComplete (two waiters at worst): one write is applied.
    await handler.isComplete(startWaiter(e, first));
    await handler.isComplete(startWaiter(e, second));
    let done = false;
    for (let i = 0; i < 100 && !done; i++) done = (await handler.isComplete({ ...e, ...second })).IsComplete;
    expect(done).toBe(true);
    expect(fake.writesApplied(id)).toBe(1);
    expect(state(id).owner).toBe(ADMIN);
  });
});

describe('a record that outlasts the fast path', () => {
  test("the waiter's later calls watch the record the first call started, without sending the write again", async () => {
    const id = product('pp-long-record');
    const e = event('Create', { id, owner: ADMIN });
    fake.planNextRecord({ durationMs: 1_000 });
    const asked = cfn.calls.length;
    const merged = startWaiter(e, await handler.onEvent(e));
    // The first call writes and watches until the fast path (300 ms) ends; the record is still running.
    expect(await handler.isComplete(merged)).toEqual({ IsComplete: false });
    const writes = () => fake.callsOf('UpdateProvisionedProductProperties').filter((c) => c.input?.ProvisionedProductId === id);
    expect(writes()).toHaveLength(1);
    const reads = fake.callsOf('DescribeRecord').length;
    // The waiter's later calls, a (compressed) query interval apart, until the record has finished.
    let result = await handler.isComplete(merged);
    for (let i = 0; i < 100 && !result.IsComplete; i++) {
      await sleep(50);
      result = await handler.isComplete(merged);
    }
    expect(result.IsComplete).toBe(true);
    expect(writes()).toHaveLength(1);
    expect(fake.callsOf('DescribeRecord').length).toBeGreaterThan(reads);
    // CloudFormation is asked before the write and after the record, not at every waiter call between.
    expect(cfn.calls.length - asked).toBe(2);
    expect(result).toMatchObject({ Data: { RecordId: fake.recordsOf().find((r) => r.provisionedProductId === id)?.recordId } });
    expect(state(id).owner).toBe(ADMIN);
  });
});

describe('duplicate deliveries of one request (design.md §4a)', () => {
  test("a copy that reads after the first delivery wrote answers with the first delivery's physical id and true priors", async () => {
    const id = product('pp-dup-after');
    const e = event('Create', { id, owner: ADMIN, launchRole: LAUNCH_B });
    const first = await run(e);
    expect(state(id)).toEqual({ owner: ADMIN, launchRole: LAUNCH_B });
    const second = await handler.onEvent(e); // the same request, delivered again after the write
    expect(second.PhysicalResourceId).toBe(first.physicalId);
    const { data } = await run(e);
    expect(data).toMatchObject({ PreviousOwnerArn: ALICE, PreviousLaunchRoleArn: LAUNCH_A });
    expect(fake.writesApplied(id)).toBe(1);
  });

  test("a copy that reads while the first delivery's record runs answers with the first delivery's decision", async () => {
    const id = product('pp-dup-during');
    const e = event('Create', { id, owner: ADMIN });
    fake.planNextRecord({ durationMs: 500 });
    const planned = await handler.onEvent(e);
    await handler.isComplete(startWaiter(e, { ...planned, PlannedAt: Date.now() - 60_000 })); // writes, record still running
    expect(fake.product(id)?.status).toBe('UNDER_CHANGE');
    expect(await handler.onEvent(e)).toEqual(expect.objectContaining({ PhysicalResourceId: planned.PhysicalResourceId }));
  });
});

describe('Update', () => {
  async function created(id: string, props: Omit<Props, 'id'>) {
    const p = { id, ...props };
    const { physicalId } = await run(event('Create', p));
    return { physicalId, props: p };
  }

  test('changing the owner keeps the physical id and the priors captured at Create', async () => {
    const id = product('pp-upd1');
    const c = await created(id, { owner: ADMIN });
    const u = await run(event('Update', { id, owner: OPS }, { physicalId: c.physicalId, old: c.props }));
    expect(u.physicalId).toBe(c.physicalId);
    expect(u.data.PreviousOwnerArn).toBe(ALICE);
    expect(state(id).owner).toBe(OPS);
  });

  test('update that drops OWNER restores the prior owner', async () => {
    const id = product('pp-upd2');
    const c = await created(id, { owner: ADMIN, launchRole: LAUNCH_B });
    await run(event('Update', { id, launchRole: LAUNCH_B }, { physicalId: c.physicalId, old: c.props }));
    expect(state(id)).toEqual({ owner: ALICE, launchRole: LAUNCH_B });
  });

  test('update that adds LAUNCH_ROLE sets it, and Delete later restores the launch role from before Create', async () => {
    const id = product('pp-upd3');
    const c = await created(id, { owner: ADMIN });
    await run(event('Update', { id, owner: ADMIN, launchRole: LAUNCH_B }, { physicalId: c.physicalId, old: c.props }));
    expect(state(id)).toEqual({ owner: ADMIN, launchRole: LAUNCH_B });
    await run(event('Delete', { id, owner: ADMIN, launchRole: LAUNCH_B }, { physicalId: c.physicalId }));
    expect(state(id)).toEqual({ owner: ALICE, launchRole: LAUNCH_A });
  });

  test('another product id is a replacement: new physical id with the new product priors; the old one is restored by the following Delete', async () => {
    const oldId = product('pp-old');
    const newId = product('pp-new', OPS, LAUNCH_B);
    const c = await created(oldId, { owner: ADMIN });
    const u = await run(event('Update', { id: newId, owner: ADMIN }, { physicalId: c.physicalId, old: c.props }));
    expect(u.physicalId).not.toBe(c.physicalId);
    expect(u.data).toMatchObject({ PreviousOwnerArn: OPS, PreviousLaunchRoleArn: LAUNCH_B });
    expect(state(newId).owner).toBe(ADMIN);
    await run(event('Delete', c.props, { physicalId: c.physicalId }));
    expect(state(oldId).owner).toBe(ALICE);
    expect(state(newId).owner).toBe(ADMIN);
  });

  test('a failed Update rolls back with an Update to the old properties', async () => {
    const id = product('pp-upd-rollback');
    const c = await created(id, { owner: ADMIN });
    fake.planNextRecord({ fail: [{ Code: 'Denied', Description: 'no' }] });
    await expect(run(event('Update', { id, owner: OPS }, { physicalId: c.physicalId, old: c.props }))).rejects.toThrow(/Denied: no/);
    await run(event('Update', c.props, { physicalId: c.physicalId, old: { id, owner: OPS } }));
    expect(state(id).owner).toBe(ADMIN);
    await run(event('Delete', c.props, { physicalId: c.physicalId }));
    expect(state(id).owner).toBe(ALICE);
  });

  test("rollback of a failed replacement writes no key that only the other product's properties managed", async () => {
    const id = product('pp-upd-rb-keys');
    const c = await created(id, { owner: ADMIN });
    // The launch role, which this resource never managed, is changed by hand afterwards.
    fake.changeByHand(id, { launchRole: LAUNCH_B });
    const replacement = { id: 'pp-upd-rb-missing', owner: ADMIN, launchRole: LAUNCH_B };
    await expect(run(event('Update', replacement, { physicalId: c.physicalId, old: c.props }))).rejects.toThrow(/pp-upd-rb-missing/);
    const before = writes(id, undefined).length;
    // CloudFormation rolls back: the old id, the old product as the new properties, the failed ones as the old.
    await run(event('Update', c.props, { physicalId: c.physicalId, old: replacement }));
    expect(writes(id, undefined)).toHaveLength(before);
    expect(state(id)).toEqual({ owner: ADMIN, launchRole: LAUNCH_B });
  });

  test('a physical id from elsewhere is replaced by one of ours with fresh priors', async () => {
    const id = product('pp-upd-foreign');
    const u = await run(event('Update', { id, owner: ADMIN }, { physicalId: 'legacy-id', old: { id, owner: ADMIN } }));
    expect(u.physicalId).toMatch(/^sc-ppp:v1\|pp-upd-foreign\|/);
    expect(u.data.PreviousOwnerArn).toBe(ALICE);
  });
});

describe('Delete', () => {
  async function created(id: string, props: Omit<Props, 'id'>) {
    const p = { id, ...props };
    return { physicalId: (await run(event('Create', p))).physicalId, props: p };
  }

  test('restores the prior owner and launch role', async () => {
    const id = product('pp-del1');
    const c = await created(id, { owner: ADMIN, launchRole: LAUNCH_B });
    await run(event('Delete', c.props, { physicalId: c.physicalId }));
    expect(state(id)).toEqual({ owner: ALICE, launchRole: LAUNCH_A });
  });

  test('restoreOnDelete "false" leaves the values and makes no write call', async () => {
    const id = product('pp-del2');
    const c = await created(id, { owner: ADMIN, restoreOnDelete: 'false' });
    const before = writes(id).length;
    await run(event('Delete', c.props, { physicalId: c.physicalId }));
    expect(writes(id).length).toBe(before);
    expect(state(id).owner).toBe(ADMIN);
  });

  test("the framework's CREATE_FAILED marker (or any foreign id) succeeds without a call", async () => {
    const before = fake.calls.length;
    for (const physicalId of [CREATE_FAILED, 'something-else']) {
      const { planned } = await run(event('Delete', { id: 'pp-any', owner: ADMIN }, { physicalId }));
      expect(planned.PhysicalResourceId).toBe(physicalId);
    }
    expect(fake.calls.length).toBe(before);
  });

  test('a product terminated meanwhile: Delete succeeds', async () => {
    const id = product('pp-del-gone');
    const c = await created(id, { owner: ADMIN });
    fake.terminate(id);
    await expect(run(event('Delete', c.props, { physicalId: c.physicalId }))).resolves.toBeDefined();
  });

  test('a product terminated between onEvent and the write: Delete still succeeds', async () => {
    const id = product('pp-del-gone2');
    const c = await created(id, { owner: ADMIN });
    const e = event('Delete', c.props, { physicalId: c.physicalId });
    const planned = await handler.onEvent(e);
    fake.terminate(id);
    await expect(handler.isComplete({ ...e, ...planned })).resolves.toMatchObject({ IsComplete: true });
  });

  test('a product that had no launch role keeps the current one: nothing to restore, no failure', async () => {
    const id = product('pp-del-norole', ALICE, null);
    const c = await created(id, { owner: ADMIN, launchRole: LAUNCH_B });
    await run(event('Delete', c.props, { physicalId: c.physicalId }));
    expect(state(id)).toEqual({ owner: ALICE, launchRole: LAUNCH_B });
  });

  test('rollback of a Create whose record failed: Delete finds nothing applied and writes nothing', async () => {
    const id = product('pp-del-halfdone');
    const e = event('Create', { id, owner: ADMIN });
    fake.planNextRecord({ fail: [{ Code: 'X', Description: 'y' }] });
    const planned = await handler.onEvent(e);
    await expect(run(e)).rejects.toThrow(/FAILED/);
    const before = writes(id).length;
    await run(event('Delete', { id, owner: ADMIN }, { physicalId: planned.PhysicalResourceId }));
    expect(writes(id).length).toBe(before);
    expect(state(id).owner).toBe(ALICE);
  });

  test('rollback of a Create that timed out while its record still runs: the restore lands after the record', async () => {
    const id = product('pp-del-inflight');
    const e = event('Create', { id, owner: ADMIN });
    const planned = await handler.onEvent(e);
    fake.planNextRecord({ durationMs: 400 });
    // The waiter gives up after one check: the record is still running, the product UNDER_CHANGE.
    expect(await handler.isComplete(startWaiter(e, { ...planned, PlannedAt: 0 }))).toEqual({ IsComplete: false });
    expect(fake.product(id)?.status).toBe('UNDER_CHANGE');
    await run(event('Delete', { id, owner: ADMIN }, { physicalId: planned.PhysicalResourceId }));
    expect(state(id).owner).toBe(ALICE);
    expect(fake.writesApplied(id)).toBe(2);
  });

  test('a Delete that cannot even read the product fails naming the product and the prior values', async () => {
    const id = product('pp-del-unreadable');
    const c = await created(id, { owner: ADMIN });
    fake.setFaults({ share: 1, kinds: ['5xx'], ops: ['DescribeProvisionedProduct'] });
    await expect(handler.onEvent(event('Delete', c.props, { physicalId: c.physicalId }))).rejects.toThrow(
      new RegExp(
        `Could not restore provisioned product pp-del-unreadable .*prior owner ${ALICE.replace(/[/]/g, '\\/')}.*--provisioned-product-properties OWNER=`,
      ),
    );
  });

  test('a restore that fails names the product and the prior values', async () => {
    const id = product('pp-del-fail');
    const c = await created(id, { owner: ADMIN });
    fake.planNextRecord({ fail: [{ Code: 'InvalidParametersException', Description: 'owner was deleted' }] });
    await expect(run(event('Delete', c.props, { physicalId: c.physicalId }))).rejects.toThrow(
      new RegExp(
        `pp-del-fail FAILED while restoring the prior values OWNER=${ALICE.replace(/[/]/g, '\\/')} \\(prior owner ${ALICE.replace(/[/]/g, '\\/')}, prior launch role ${LAUNCH_A.replace(/[/]/g, '\\/')}\\).*owner was deleted`,
      ),
    );
  });
});

describe('isComplete', () => {
  test('a record that has not finished within the window hands back to the waiter without Data', async () => {
    const id = product('pp-slow');
    const e = event('Create', { id, owner: ADMIN });
    const planned = await handler.onEvent(e);
    fake.planNextRecord({ durationMs: 2_000 });
    const result = await handler.isComplete(startWaiter(e, { ...planned, PlannedAt: Date.now() - 10_000 }));
    expect(result).toEqual({ IsComplete: false });
    expect(writes(id)).toHaveLength(1);
  });

  test('polls no more than once per interval', async () => {
    const id = product('pp-pace');
    fake.planNextRecord({ durationMs: 150 });
    await run(event('Create', { id, owner: ADMIN }));
    const recordId = fake.product(id)?.lastRecordId;
    const times = fake
      .callsOf('DescribeRecord')
      .filter((c) => c.input?.Id === recordId)
      .map((c) => c.at);
    expect(times.length).toBeGreaterThan(3);
    for (let i = 1; i < times.length; i++) expect(times[i] - times[i - 1]).toBeGreaterThanOrEqual(9);
  });
});
