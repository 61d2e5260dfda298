/**
 * What a delivery takes from the waiter executions of its request (design.md §4): only a decision
 * of the same request, from CloudFormation's last hour, that names the same product; found however
 * many executions the waiter has. And what the handler does without its waiter's ARN.
 */
import type { FakeServiceCatalog, FakeStepFunctions } from '../../harness';
import { ACCOUNT, ADMIN, ALICE, LAUNCH_A, LAUNCH_B, OPS } from '../support/fixtures';
import type * as Handler from '../../lambda/index';
import { encodePhysicalId } from '../../lambda/physical-id';
import { WAITER_ARN, event, loadHandler, startWaiter, useHandlerUnderTest } from '../support/handler-events';

let fake: FakeServiceCatalog;
let sfn: FakeStepFunctions;
let handler: typeof Handler;
useHandlerUnderTest((under) => ({ fake, sfn, handler } = under));

let products = 0;
/** A fresh product; by default it already has the owner the Create sets, so a delivery must look its request up. */
function product(owner = ADMIN): string {
  const id = `pp-dlv${++products}`;
  fake.addProduct({ id, owner, launchRole: LAUNCH_A, account: ACCOUNT });
  return id;
}

const writes = (id: string) => fake.callsOf('UpdateProvisionedProductProperties').filter((c) => c.input?.ProvisionedProductId === id);

/** Registers a waiter execution of `e`'s request whose input holds `decision`, as an earlier delivery would have left it. */
function earlier(e: Handler.CustomResourceEvent, decision: Record<string, unknown>, startDate = new Date()): void {
  sfn.startExecution(WAITER_ARN, JSON.stringify({ ...e, ...decision }), startDate);
}

/** The Create every test here delivers: the owner the product already has, and a new launch role. */
const create = (id: string) => event('Create', { id, owner: ADMIN, launchRole: LAUNCH_B });

describe("an earlier delivery's decision is taken only when it is about this product", () => {
  test('one that recorded another product is refused, and nothing is written', async () => {
    const id = product();
    const e = create(id);
    const other = encodePhysicalId({ productId: 'pp-elsewhere', priorOwnerArn: ALICE, priorLaunchRoleArn: '' });
    earlier(e, { PhysicalResourceId: other, PlannedAt: Date.now() });
    await expect(handler.onEvent(e)).rejects.toThrow(
      `An earlier delivery of this request recorded "${other}", which does not name provisioned product ${id}. Nothing was changed; deploy again.`,
    );
    expect(writes(id)).toHaveLength(0);
  });

  test('one that planned a write to another product is refused', async () => {
    const id = product();
    const e = create(id);
    const own = encodePhysicalId({ productId: id, priorOwnerArn: ALICE, priorLaunchRoleArn: LAUNCH_A });
    earlier(e, {
      PhysicalResourceId: own,
      PlannedAt: Date.now(),
      PlannedChange: { ProductId: 'pp-elsewhere', Properties: { OWNER: ADMIN } },
    });
    await expect(handler.onEvent(e)).rejects.toThrow(/does not name provisioned product/);
  });

  test('one that planned a write of values this request does not declare is refused, and nothing is written', async () => {
    // The Create declares OWNER ADMIN and LAUNCH_ROLE LAUNCH_B.
    for (const [properties, purpose] of [
      [{ OWNER: OPS }, 'apply'],
      [{ LAUNCH_ROLE: LAUNCH_A }, 'apply'],
      [{ OWNER: ADMIN }, 'restore'],
    ] as const) {
      const id = product();
      const e = create(id);
      const own = encodePhysicalId({ productId: id, priorOwnerArn: ALICE, priorLaunchRoleArn: LAUNCH_A });
      earlier(e, {
        PhysicalResourceId: own,
        PlannedAt: Date.now(),
        PlannedChange: { ProductId: id, Properties: properties, Purpose: purpose },
      });
      await expect(handler.onEvent(e)).rejects.toThrow(
        new RegExp(
          `planned to "${purpose}" .* on provisioned product ${id}, which is not what this request declares\\. Nothing was changed`,
        ),
      );
      expect(writes(id)).toHaveLength(0);
    }
  });

  test('one whose physical id is not one this resource writes is refused', async () => {
    const id = product();
    const e = create(id);
    earlier(e, { PhysicalResourceId: 'legacy-id', PlannedAt: Date.now() });
    await expect(handler.onEvent(e)).rejects.toThrow(/recorded "legacy-id", which does not name provisioned product/);
  });

  test('one about this product is answered again: the true priors, the same planned change', async () => {
    const id = product();
    const e = create(id);
    const own = encodePhysicalId({ productId: id, priorOwnerArn: ALICE, priorLaunchRoleArn: LAUNCH_A });
    const change = { ProductId: id, Properties: { OWNER: ADMIN, LAUNCH_ROLE: LAUNCH_B }, IdempotencyToken: 't1', Purpose: 'apply' };
    earlier(e, { PhysicalResourceId: own, PlannedAt: 1234, PlannedChange: change });
    expect(await handler.onEvent(e)).toEqual({ PhysicalResourceId: own, PlannedAt: 1234, PlannedChange: change });
  });

  test("an execution of another request, or of this one from before CloudFormation's hour, is no earlier delivery", async () => {
    const id = product();
    const e = create(id);
    const stale = encodePhysicalId({ productId: id, priorOwnerArn: OPS, priorLaunchRoleArn: LAUNCH_A });
    earlier(e, { PhysicalResourceId: stale, PlannedAt: 0 }, new Date(Date.now() - 2 * 3_600_000));
    earlier({ ...e, RequestId: 'another-request' }, { PhysicalResourceId: stale, PlannedAt: Date.now() });
    earlier({ ...e, LogicalResourceId: 'AnotherResource' }, { PhysicalResourceId: stale, PlannedAt: Date.now() });
    // Nothing of this request: what was read are the priors (the owner already was ADMIN).
    const result = await handler.onEvent(e);
    expect(result.PhysicalResourceId).toBe(encodePhysicalId({ productId: id, priorOwnerArn: ADMIN, priorLaunchRoleArn: LAUNCH_A }));
    expect(result.PlannedChange?.Properties).toEqual({ LAUNCH_ROLE: LAUNCH_B });
  });
});

describe("the look-back window is CloudFormation's hour and five minutes, its first millisecond included", () => {
  // The clock is pinned to a whole second: the API carries start dates in epoch seconds.
  const now = Math.floor(Date.now() / 1000) * 1000;
  beforeEach(() => jest.spyOn(Date, 'now').mockReturnValue(now));
  afterEach(() => jest.restoreAllMocks());

  test('an earlier delivery that started exactly 65 minutes ago is still found', async () => {
    const id = product();
    const e = create(id);
    const own = encodePhysicalId({ productId: id, priorOwnerArn: ALICE, priorLaunchRoleArn: LAUNCH_A });
    earlier(e, { PhysicalResourceId: own, PlannedAt: 7 }, new Date(now - 65 * 60_000));
    expect(await handler.onEvent(e)).toEqual({ PhysicalResourceId: own, PlannedAt: 7 });
    expect(writes(id)).toHaveLength(0);
  });

  test('one that started a second before that is not, and what is read now are the priors', async () => {
    const id = product();
    const e = create(id);
    const stale = encodePhysicalId({ productId: id, priorOwnerArn: ALICE, priorLaunchRoleArn: LAUNCH_A });
    earlier(e, { PhysicalResourceId: stale, PlannedAt: 7 }, new Date(now - 65 * 60_000 - 1000));
    const result = await handler.onEvent(e);
    expect(result.PhysicalResourceId).toBe(encodePhysicalId({ productId: id, priorOwnerArn: ADMIN, priorLaunchRoleArn: LAUNCH_A }));
  });
});

describe('only a capture of priors waits for the listing', () => {
  test("an Update's and a Delete's writes go ahead even while Step Functions refuses to list", async () => {
    const id = product(ALICE);
    const c = create(id);
    const createdAs = startWaiter(sfn, c, await handler.onEvent(c));
    for (let i = 0; i < 200 && !(await handler.isComplete(createdAs)).IsComplete; i++);
    const physicalId = createdAs.PhysicalResourceId as string;
    sfn.setFaults({ share: 1, kinds: ['denied'] });
    const u = event('Update', { id, owner: OPS, launchRole: LAUNCH_B }, { physicalId, old: { id, owner: ADMIN, launchRole: LAUNCH_B } });
    const updated = { ...u, ...(await handler.onEvent(u)) };
    expect(updated.PlannedChange?.CapturesPriors).toBe(false);
    for (let i = 0; i < 200 && !(await handler.isComplete(updated)).IsComplete; i++);
    expect(fake.product(id)?.owner).toBe(OPS);
    const d = event('Delete', { id, owner: OPS, launchRole: LAUNCH_B }, { physicalId });
    const deleted = { ...d, ...(await handler.onEvent(d)) };
    for (let i = 0; i < 200 && !(await handler.isComplete(deleted)).IsComplete; i++);
    expect(fake.product(id)).toMatchObject({ owner: ALICE, launchRole: LAUNCH_A });
  });

  test("a busy product's values are not compared: an Update plans every target, even one already in place", async () => {
    const id = product(ALICE);
    const physicalId = encodePhysicalId({ productId: id, priorOwnerArn: ALICE, priorLaunchRoleArn: LAUNCH_A });
    fake.setBusy(id, 60_000);
    const u = event('Update', { id, owner: OPS, launchRole: LAUNCH_A }, { physicalId, old: { id, owner: OPS } });
    expect((await handler.onEvent(u)).PlannedChange?.Properties).toEqual({ OWNER: OPS, LAUNCH_ROLE: LAUNCH_A });
    fake.setBusy(id, 0);
  });
});

describe('what isComplete returns when there was nothing to do', () => {
  test('a Delete of an id this resource did not write completes with empty attributes', async () => {
    const e = event('Delete', { id: 'pp-any', owner: ADMIN }, { physicalId: 'legacy-id' });
    expect(await handler.isComplete({ ...e, ...(await handler.onEvent(e)) })).toEqual({
      IsComplete: true,
      Data: { RecordId: '', PreviousOwnerArn: '', PreviousLaunchRoleArn: '' },
    });
  });

  test('a Delete whose product vanished before the write completes without a record', async () => {
    const id = product(ALICE);
    const physicalId = encodePhysicalId({ productId: id, priorOwnerArn: OPS, priorLaunchRoleArn: LAUNCH_B });
    const e = event('Delete', { id, owner: ADMIN }, { physicalId });
    const planned = await handler.onEvent(e);
    fake.terminate(id);
    expect(await handler.isComplete({ ...e, ...planned })).toEqual({
      IsComplete: true,
      Data: { RecordId: '', PreviousOwnerArn: OPS, PreviousLaunchRoleArn: LAUNCH_B },
    });
  });
});

describe('a handler that does not know its waiter', () => {
  test('refuses a Create that would have to look its request up, and a capture that would have to check the listing', async () => {
    const lost = await loadHandler(fake, sfn, { WAITER_STATE_MACHINE_ARN: '' });
    const needsLookup = product();
    await expect(lost.onEvent(create(needsLookup))).rejects.toThrow(
      /does not know its waiter state machine \(WAITER_STATE_MACHINE_ARN is not set\).*Nothing was changed.*deploy it with the construct/,
    );
    const fresh = product(ALICE);
    const e = event('Create', { id: fresh, owner: ADMIN });
    const planned = await lost.onEvent(e);
    await expect(lost.isComplete({ ...e, ...planned })).rejects.toThrow(/does not know its waiter state machine/);
    expect(writes(fresh)).toHaveLength(0);
  });
});

describe('a slow Step Functions', () => {
  test("a capture's listing check reads for its budget, then hands back to the waiter without writing; the next call reads on", async () => {
    const budgeted = await loadHandler(fake, sfn, { LISTING_SCAN_BUDGET_MS: '100' });
    const id = product(ALICE);
    const e = create(id);
    // The fast path is over (PlannedAt a second ago), but not the listing check's minute.
    const merged = { ...e, ...(await budgeted.onEvent(e)), PlannedAt: Date.now() - 1000 };
    sfn.startExecution(WAITER_ARN, JSON.stringify(merged), new Date(Date.now() - 900));
    // Thirty other Creates of the stack started after this one: they are listed first.
    for (let i = 0; i < 30; i++) {
      sfn.startExecution(WAITER_ARN, JSON.stringify({ ...e, RequestId: `sibling-${i}` }), new Date(Date.now() - 800 + i));
    }
    const describesBefore = sfn.callsOf('DescribeExecution').length;
    sfn.setLatency('DescribeExecution', 40);
    try {
      expect(await budgeted.isComplete(merged)).toEqual({ IsComplete: false });
    } finally {
      sfn.setLatency('DescribeExecution', 0);
    }
    // About 100 ms of 40 ms reads: a handful, not the thirty newer executions and this one.
    expect(sfn.callsOf('DescribeExecution').length - describesBefore).toBeLessThan(10);
    expect(writes(id)).toHaveLength(0);
    for (let i = 0; i < 200 && !(await budgeted.isComplete(merged)).IsComplete; i++);
    expect(fake.product(id)).toMatchObject({ owner: ADMIN, launchRole: LAUNCH_B });
  });
});

describe('many executions', () => {
  // Last: it leaves over a hundred executions in the fake Step Functions.
  test("the lookup reads past the first page of the waiter's executions, and past inputs that are not JSON", async () => {
    const id = product();
    const e = create(id);
    const own = encodePhysicalId({ productId: id, priorOwnerArn: ALICE, priorLaunchRoleArn: LAUNCH_A });
    earlier(e, { PhysicalResourceId: own, PlannedAt: 99 }, new Date(Date.now() - 10 * 60_000));
    sfn.startExecution(WAITER_ARN, 'not json', new Date(Date.now() - 5 * 60_000));
    for (let i = 0; i < 100; i++)
      earlier({ ...e, RequestId: `other-${i}` }, { PhysicalResourceId: own, PlannedAt: 1 }, new Date(Date.now() - 60_000));
    expect(await handler.onEvent(e)).toEqual({ PhysicalResourceId: own, PlannedAt: 99 });
  });
});
