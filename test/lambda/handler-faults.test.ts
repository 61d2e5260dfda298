/**
 * The handler when a service says "no" (a permission missing: fail at once, naming what), "not now"
 * (a 5xx, throttling, a dropped connection: keep waiting) or "gone", and when the provider's
 * totalTimeout runs out. Each test names the situation and asserts the outcome and the writes made.
 */
import type { FakeCloudFormation, FakeServiceCatalog } from '../../harness';
import { ACCOUNT, ADMIN, ALICE, LAUNCH_A, LAUNCH_B } from '../support/fixtures';
import type * as Handler from '../../lambda/index';
import { type HandlerServices, event, loadHandler, startWaiter, useHandlerUnderTest } from '../support/handler-events';

let fake: FakeServiceCatalog;
let cfn: FakeCloudFormation;
let handler: typeof Handler;
let services: HandlerServices;
useHandlerUnderTest((under) => {
  ({ fake, cfn, handler } = under);
  services = under;
});

let products = 0;
/** A fresh product owned by ALICE with launch role LAUNCH_A. */
function product(): string {
  const id = `pp-fault${++products}`;
  fake.addProduct({ id, owner: ALICE, launchRole: LAUNCH_A, account: ACCOUNT });
  return id;
}

/** Every write call on product `id`, with its outcome. */
const writeOutcomes = (id: string) =>
  fake
    .callsOf('UpdateProvisionedProductProperties')
    .filter((c) => c.input?.ProvisionedProductId === id)
    .map((c) => c.outcome);

/** onEvent, then the framework's start of the waiter: the event isComplete receives. */
async function planned(e: Handler.CustomResourceEvent, h = handler): Promise<Handler.IsCompleteEvent> {
  return startWaiter(e, await h.onEvent(e));
}

/** isComplete until done (faults off), as the waiter's later calls would be. */
async function finish(merged: Handler.IsCompleteEvent, h = handler): Promise<void> {
  for (let i = 0; i < 200; i++) if ((await h.isComplete(merged)).IsComplete) return;
  throw new Error('isComplete never completed');
}

/** A Create of `id` that has run to the end; returns its physical id. */
async function created(id: string, owner = ADMIN): Promise<string> {
  const merged = await planned(event('Create', { id, owner }));
  await finish(merged);
  return merged.PhysicalResourceId as string;
}

describe('the write', () => {
  test('a permission the handler lacks fails the deploy at once, naming the call and the error, after one attempt', async () => {
    const id = product();
    const merged = await planned(event('Create', { id, owner: ADMIN }));
    fake.setFaults({ share: 1, kinds: ['denied'], ops: ['UpdateProvisionedProductProperties'] });
    await expect(handler.isComplete(merged)).rejects.toThrow(
      /UpdateProvisionedProductProperties on provisioned product pp-fault\d+ was rejected while setting OWNER=.*PlatformAdmin\. AccessDeniedException: injected/,
    );
    expect(writeOutcomes(id)).toEqual(['AccessDeniedException']);
    expect(fake.product(id)?.owner).toBe(ALICE);
  });

  test('a rejected restore names the priors to put back by hand', async () => {
    const id = product();
    const physicalId = await created(id);
    const merged = await planned(event('Delete', { id, owner: ADMIN }, { physicalId }));
    fake.setFaults({ share: 1, kinds: ['denied'], ops: ['UpdateProvisionedProductProperties'] });
    await expect(handler.isComplete(merged)).rejects.toThrow(
      new RegExp(`was rejected while restoring the prior values OWNER=${ALICE.replace(/\//g, '\\/')} .*AccessDeniedException`),
    );
    expect(fake.product(id)?.owner).toBe(ADMIN);
  });

  test('a Delete of an OWNER-only resource that cannot read the product suggests a command that sets OWNER only', async () => {
    const id = product();
    const physicalId = await created(id);
    fake.setFaults({ share: 1, kinds: ['denied'], ops: ['DescribeProvisionedProduct'] });
    const error = await handler.onEvent(event('Delete', { id, owner: ADMIN }, { physicalId })).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(error?.message).toContain(`Could not restore provisioned product ${id} to the values it had before this resource changed them`);
    // The launch role was never managed: the command must not put it back over whatever it is now.
    expect(error?.message).toContain(
      `\`aws servicecatalog update-provisioned-product-properties --provisioned-product-id ${id} --provisioned-product-properties OWNER=${ALICE}\`.`,
    );
  });

  test('an apply whose record cannot be read (a permission missing) fails naming the record, the product and what to check', async () => {
    const id = product();
    const merged = await planned(event('Create', { id, owner: ADMIN }));
    fake.setFaults({ share: 1, kinds: ['denied'], ops: ['DescribeRecord'] });
    const error = await handler.isComplete(merged).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(error?.message).toMatch(
      new RegExp(
        `^Could not read Service Catalog record \\S+ of provisioned product ${id} while setting OWNER=.*PlatformAdmin: AccessDeniedException: injected.*` +
          'The change was accepted and may still succeed\\. .*servicecatalog:DescribeRecord, see the record with `aws servicecatalog describe-record --id ',
      ),
    );
    expect(writeOutcomes(id)).toEqual(['ok']);
  });

  test('a service failing for now (5xx) is waited on, not failed, and the write lands once it recovers', async () => {
    const id = product();
    const merged = await planned(event('Create', { id, owner: ADMIN }));
    fake.setFaults({ share: 1, kinds: ['5xx'], ops: ['UpdateProvisionedProductProperties'] });
    expect(await handler.isComplete({ ...merged, PlannedAt: Date.now() - 60_000 })).toEqual({ IsComplete: false });
    expect(writeOutcomes(id).length).toBeGreaterThan(0);
    expect(writeOutcomes(id).every((o) => o === 'InternalFailure')).toBe(true);
    fake.setFaults(undefined);
    await finish(merged);
    expect(fake.product(id)?.owner).toBe(ADMIN);
  });

  test('throttling of the write is waited on, not failed', async () => {
    const id = product();
    const merged = await planned(event('Create', { id, owner: ADMIN }));
    fake.setFaults({ share: 1, kinds: ['throttle'], ops: ['UpdateProvisionedProductProperties'] });
    expect(await handler.isComplete({ ...merged, PlannedAt: Date.now() - 60_000 })).toEqual({ IsComplete: false });
    expect(writeOutcomes(id).every((o) => o === 'ThrottlingException')).toBe(true);
    fake.setFaults(undefined);
    await finish(merged);
    expect(fake.product(id)?.owner).toBe(ADMIN);
  });

  test('a write whose connection dropped unanswered is waited on, not failed', async () => {
    const id = product();
    const merged = await planned(event('Create', { id, owner: ADMIN }));
    fake.setFaults({ share: 1, kinds: ['drop'], ops: ['UpdateProvisionedProductProperties'] });
    expect(await handler.isComplete({ ...merged, PlannedAt: Date.now() - 60_000 })).toEqual({ IsComplete: false });
    expect(writeOutcomes(id).every((o) => o === 'ConnectionDropped')).toBe(true);
    fake.setFaults(undefined);
    await finish(merged);
    expect(fake.product(id)?.owner).toBe(ADMIN);
  });

  test('a Create whose product was terminated after onEvent fails: nothing was written, so it cannot succeed', async () => {
    const id = product();
    const merged = await planned(event('Create', { id, owner: ADMIN }));
    fake.terminate(id);
    await expect(handler.isComplete(merged)).rejects.toThrow(/pp-fault\d+ was rejected while setting OWNER=.*ResourceNotFoundException/);
  });

  test('an Update whose product was terminated after onEvent fails the same way', async () => {
    const id = product();
    const physicalId = await created(id);
    const merged = await planned(event('Update', { id, owner: ADMIN, launchRole: LAUNCH_B }, { physicalId, old: { id, owner: ADMIN } }));
    fake.terminate(id);
    await expect(handler.isComplete(merged)).rejects.toThrow(/ResourceNotFoundException/);
  });
});

describe('bursts the SDK absorbs', () => {
  // Each loads a fresh handler, as a new container would: its SDK clients are what is under test.
  test('five 5xx answers in a row on a read are retried by the SDK: onEvent succeeds', async () => {
    const fresh = await loadHandler(services, {});
    const id = product();
    fake.setFaults({ share: 1, kinds: ['5xx'], ops: ['DescribeProvisionedProduct'], count: 5 });
    const result = await fresh.onEvent(event('Create', { id, owner: ADMIN }));
    expect(result.PlannedChange?.Properties).toEqual({ OWNER: ADMIN });
    expect(fake.faultsInjected['5xx']).toBeGreaterThanOrEqual(5);
  });

  test("three throttled answers in a row from CloudFormation are retried by the SDK: the Create's write goes ahead", async () => {
    const fresh = await loadHandler(services, {});
    const id = product();
    const merged = await planned(event('Create', { id, owner: ADMIN, launchRole: LAUNCH_B }), fresh);
    cfn.fault = { code: 'Throttling', count: 3 };
    await finish(merged, fresh);
    expect(fake.product(id)).toMatchObject({ owner: ADMIN, launchRole: LAUNCH_B });
    expect(cfn.calls.filter((c) => c.outcome === 'Throttling')).toHaveLength(3);
  });
});

describe('the write call stays inside its write lease (WRITE_LEASE_MS 500 ms here)', () => {
  test('two 5xx answers in a row on the write are retried by the SDK within the call: the write lands though the handler has no time left to retry', async () => {
    const fresh = await loadHandler(services, {});
    const id = product();
    const merged = await planned(event('Create', { id, owner: ADMIN }), fresh);
    fake.setFaults({ share: 1, kinds: ['5xx'], ops: ['UpdateProvisionedProductProperties'], count: 2 });
    await fresh.isComplete({ ...merged, PlannedAt: Date.now() - 60_000 });
    expect(writeOutcomes(id)).toEqual(['InternalFailure', 'InternalFailure', 'ok']);
    expect(fake.recordsOf().filter((r) => r.provisionedProductId === id)).toHaveLength(1);
    await finish(merged, fresh);
    expect(fake.product(id)?.owner).toBe(ADMIN);
  });

  test('a write whose answer does not come within half the lease is abandoned and sent again with the same token, never left on its way', async () => {
    const fresh = await loadHandler(services, { FAST_PATH_WINDOW_MS: '1000' });
    const id = product();
    const merged = await planned(event('Create', { id, owner: ADMIN }), fresh);
    fake.setLatency('UpdateProvisionedProductProperties', 5_000);
    try {
      // The fast path (1 s here) outlasts several bounded calls (250 ms each): isComplete gives each up, then returns to the waiter.
      expect(await fresh.isComplete(merged)).toEqual({ IsComplete: false });
    } finally {
      fake.setLatency('UpdateProvisionedProductProperties', 0);
    }
    const tokens = fake.callsOf('UpdateProvisionedProductProperties').filter((c) => c.input?.ProvisionedProductId === id);
    expect(tokens.length).toBeGreaterThanOrEqual(2);
    expect(new Set(tokens.map((c) => c.input?.IdempotencyToken)).size).toBe(1);
    // The lease was given back: the next call takes it at once, and the same token finds the record the first call started.
    await finish(merged, fresh);
    expect(fake.product(id)?.owner).toBe(ADMIN);
    expect(fake.recordsOf().filter((r) => r.provisionedProductId === id)).toHaveLength(1);
  });
});

describe('the owner search', () => {
  test('a product listed at once is searched once', async () => {
    const id = product();
    const before = fake.callsOf('SearchProvisionedProducts').length;
    await handler.onEvent(event('Create', { id, owner: ADMIN }));
    expect(fake.callsOf('SearchProvisionedProducts').length - before).toBe(1);
  });

  test('searches of a product the index has not caught up with are spaced by the search delay', async () => {
    const id = product();
    fake.setSearchLag(id, 2);
    const before = fake.callsOf('SearchProvisionedProducts').length;
    await handler.onEvent(event('Create', { id, owner: ADMIN }));
    const times = fake
      .callsOf('SearchProvisionedProducts')
      .slice(before)
      .map((c) => c.at);
    expect(times).toHaveLength(3);
    // SEARCH_DELAY_MS is 5: never sooner than that apart (later is fine).
    for (let i = 1; i < times.length; i++) expect(times[i] - times[i - 1]).toBeGreaterThanOrEqual(4);
  });
});

describe('the record', () => {
  test('DescribeRecord failing for now (5xx) keeps the waiter going; the record is read once it recovers', async () => {
    const id = product();
    fake.planNextRecord({ durationMs: 100 });
    const merged = await planned(event('Create', { id, owner: ADMIN }));
    fake.setFaults({ share: 1, kinds: ['5xx'], ops: ['DescribeRecord'] });
    expect(await handler.isComplete(merged)).toEqual({ IsComplete: false });
    fake.setFaults(undefined);
    await finish(merged);
    expect(fake.product(id)?.owner).toBe(ADMIN);
  });

  test('DescribeRecord refused for good fails the deploy; on a Delete, naming the priors and the command that restores them', async () => {
    const id = product();
    const physicalId = await created(id);
    fake.planNextRecord({ durationMs: 100 });
    const merged = await planned(event('Delete', { id, owner: ADMIN }, { physicalId }));
    fake.setFaults({ share: 1, kinds: ['denied'], ops: ['DescribeRecord'] });
    await expect(handler.isComplete(merged)).rejects.toThrow(
      new RegExp(
        `Could not read Service Catalog record \\S+ of provisioned product ${id} while restoring .*prior owner ${ALICE.replace(/\//g, '\\/')}.*` +
          `--provisioned-product-properties OWNER=${ALICE.replace(/\//g, '\\/')}\`: AccessDeniedException`,
      ),
    );
  });
});

describe('the ledger', () => {
  test('a ledger table that cannot be used fails onEvent before the product is read or written, naming the table and what to check', async () => {
    const lost = await loadHandler(services, { LEDGER_TABLE_NAME: 'NoSuchLedger' });
    const id = product();
    const reads = fake.callsOf('DescribeProvisionedProduct').length;
    await expect(lost.onEvent(event('Create', { id, owner: ADMIN }))).rejects.toThrow(
      /Could not record this request in the provider's ledger table "NoSuchLedger": ResourceNotFoundException: .*Nothing was written to Service Catalog\. Check that the table exists, that the handler roles may call dynamodb:GetItem, PutItem, UpdateItem and DeleteItem on it/,
    );
    expect(fake.callsOf('DescribeProvisionedProduct').length).toBe(reads);
    expect(writeOutcomes(id)).toEqual([]);
  });

  test('a ledger table that goes away between onEvent and the write fails isComplete before it writes', async () => {
    const id = product();
    const merged = await planned(event('Create', { id, owner: ADMIN }));
    const lost = await loadHandler(services, { LEDGER_TABLE_NAME: 'NoSuchLedger' });
    await expect(lost.isComplete(merged)).rejects.toThrow(
      /Could not take the write lease in the provider's ledger table "NoSuchLedger": ResourceNotFoundException: .*Nothing was written to Service Catalog/,
    );
    expect(writeOutcomes(id)).toEqual([]);
  });
});

describe("CloudFormation's status of a Create", () => {
  test('refused (a permission the role lacks) fails the Create before its write, naming the permission', async () => {
    const id = product();
    const merged = await planned(event('Create', { id, owner: ADMIN }));
    cfn.fault = { code: 'AccessDenied', count: 1 };
    await expect(handler.isComplete(merged)).rejects.toThrow(
      /Could not read CloudFormation's status of resource "PlatformOwnership" in stack "arn:aws:cloudformation:[^"]+": AccessDenied: .*nothing more was written.*cloudformation:DescribeStackResource/,
    );
    expect(writeOutcomes(id)).toEqual([]);
  });

  test("an Update or a Delete does not ask: only a Create's rollback can bypass the handler", async () => {
    const id = product();
    const physicalId = await created(id);
    const before = cfn.calls.length;
    await finish(await planned(event('Update', { id, owner: ALICE }, { physicalId, old: { id, owner: ADMIN } })));
    await finish(await planned(event('Delete', { id, owner: ALICE }, { physicalId })));
    expect(cfn.calls.length).toBe(before);
  });
});

describe('timing from the provider', () => {
  let timed: typeof Handler;
  beforeAll(async () => {
    // A 1-minute totalTimeout with a 5 s queryInterval, and a 5 s fast path.
    timed = await loadHandler(services, { TOTAL_TIMEOUT_MS: '60000', QUERY_INTERVAL_MS: '5000', FAST_PATH_WINDOW_MS: '5000' });
  });

  test('a product busy until the waiter would give up fails with what it waited for, before the framework times out', async () => {
    const id = product();
    const merged = await planned(event('Create', { id, owner: ADMIN }), timed);
    fake.setBusy(id, 60_000);
    // 45 s after onEvent the waiter still has calls left: keep waiting.
    expect(await timed.isComplete({ ...merged, PlannedAt: Date.now() - 45_000 })).toEqual({ IsComplete: false });
    // 55 s after onEvent the next call (5 s on, with half an interval of margin) would come too late: give up now.
    await expect(timed.isComplete({ ...merged, PlannedAt: Date.now() - 55_000 })).rejects.toThrow(
      /Gave up after the provider's totalTimeout \(1 min\) waiting for the product to accept the change .* on provisioned product pp-fault\d+ while setting OWNER=/,
    );
    fake.setBusy(id, 0);
  });

  test('giving up on a record that still runs names it and its last status', async () => {
    const id = product();
    fake.planNextRecord({ neverFinish: true });
    const merged = await planned(event('Create', { id, owner: ADMIN }), timed);
    await expect(timed.isComplete({ ...merged, PlannedAt: Date.now() - 55_000 })).rejects.toThrow(
      /waiting for record rec-\w+ to finish \(last status (CREATED|IN_PROGRESS)\), on provisioned product/,
    );
  });

  test('giving up while DescribeRecord fails for now names the failure', async () => {
    const id = product();
    fake.planNextRecord({ neverFinish: true });
    const merged = await planned(event('Create', { id, owner: ADMIN }), timed);
    fake.setFaults({ share: 1, kinds: ['5xx'], ops: ['DescribeRecord'] });
    await expect(timed.isComplete({ ...merged, PlannedAt: Date.now() - 55_000 })).rejects.toThrow(
      /waiting for record rec-\w+ to finish \(DescribeRecord failing: InternalFailure\)/,
    );
  });

  test('a restore that runs out of time says so and names the priors, without a second wrapping', async () => {
    const id = product();
    const physicalId = await created(id);
    const merged = await planned(event('Delete', { id, owner: ADMIN }, { physicalId }), timed);
    fake.setBusy(id, 60_000);
    const error = await timed.isComplete({ ...merged, PlannedAt: Date.now() - 59_000 }).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(error?.message).toMatch(/^Gave up after the provider's totalTimeout \(1 min\) .*while restoring the prior values OWNER=/);
    fake.setBusy(id, 0);
  });

  test('a record that finishes within the fast path completes in the first isComplete call', async () => {
    const id = product();
    fake.planNextRecord({ durationMs: 150 });
    const merged = await planned(event('Create', { id, owner: ADMIN }), timed);
    const result = await timed.isComplete({ ...merged, PlannedAt: Date.now() });
    expect(result).toMatchObject({ IsComplete: true, Data: { PreviousOwnerArn: ALICE } });
    expect(fake.product(id)?.owner).toBe(ADMIN);
  });

  test('the default handler (no totalTimeout known) never gives up by itself', async () => {
    const id = product();
    const merged = await planned(event('Create', { id, owner: ADMIN }));
    fake.setBusy(id, 60_000);
    expect(await handler.isComplete({ ...merged, PlannedAt: Date.now() - 3_600_000 })).toEqual({ IsComplete: false });
    fake.setBusy(id, 0);
  });
});
