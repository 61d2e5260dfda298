/**
 * End-to-end fault injection: throttling, 5xx and dropped connections on a share of Service
 * Catalog calls, a busy product, failing and never-finishing records, and the handler's invoke
 * call failing between its write and its response. Each deploy must still end with the products
 * in the right hands, or fail with a reason that says what happened.
 */
import { App, Duration, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Owner } from '../../lib';
import { decodePhysicalId } from '../../lambda/physical-id';
import { ALICE, BOB, ADMIN, OPS, LAUNCH_A, useLedgerServices, useTwoProductFake } from '../support/fixtures';
import { LifecycleDriver, type Properties } from '../../harness';

const TIME_SCALE = 0.01;

const fake = useTwoProductFake();
const ledger = useLedgerServices();

function driverFor(id: string, owner: string, options: { totalTimeout?: Duration } = {}): LifecycleDriver {
  return LifecycleDriver.fromConstruct(
    { provisionedProductId: id, owner: Owner.fromArn(owner), totalTimeout: options.totalTimeout },
    { endpoint: fake().endpoint, ...ledger(), timeScale: TIME_SCALE },
  );
}

function propsFor(id: string, owner: string): Properties {
  return LifecycleDriver.propertiesFor({ provisionedProductId: id, owner: Owner.fromArn(owner) });
}

function state(id: string): { owner: string; launchRole: string } | undefined {
  const p = fake().product(id);
  return p && { owner: p.owner, launchRole: p.launchRole };
}

/** create → update → replace → delete, each expected to succeed; returns the products' final state. */
async function fullLifecycle(): Promise<void> {
  const driver = driverFor('pp-alpha', ADMIN);
  const steps = [
    await driver.create(),
    await driver.update(propsFor('pp-alpha', OPS)),
    await driver.update(propsFor('pp-beta', ADMIN)),
    await driver.delete(),
  ];
  for (const step of steps) {
    expect({ type: step.RequestType, status: step.Status, reason: step.Status === 'SUCCESS' ? '' : step.Reason }).toEqual({
      type: step.RequestType,
      status: 'SUCCESS',
      reason: '',
    });
  }
  expect(steps[2].followUps.map((f) => f.Status)).toEqual(['SUCCESS']);
  expect(state('pp-alpha')).toEqual({ owner: ALICE, launchRole: LAUNCH_A });
  expect(state('pp-beta')).toEqual({ owner: BOB, launchRole: '' });
}

// At 20 % the SDK's 6 attempts all fail once in 15 000 calls; at 30 % a lifecycle sometimes hits it
// (onEvent then fails and CloudFormation rolls back, which the randomized test covers).
test('throttling and 5xx on a fifth of the calls: the SDK and the handler retry, every step succeeds', async () => {
  fake().setFaults({ share: 0.2, kinds: ['throttle', '5xx'], seed: 7 });
  await fullLifecycle();
  expect(fake().faultsInjected.throttle).toBeGreaterThan(0);
  expect(fake().faultsInjected['5xx']).toBeGreaterThan(0);
}, 120_000);

test('dropped connections on a fifth of the calls: every step succeeds', async () => {
  fake().setFaults({ share: 0.2, kinds: ['drop'], seed: 11 });
  await fullLifecycle();
  expect(fake().faultsInjected.drop).toBeGreaterThan(0);
}, 120_000);

test('the write and DescribeRecord failing for longer than the SDK retries: the handler keeps waiting, then succeeds', async () => {
  const driver = driverFor('pp-alpha', ADMIN);
  // 5xx on every write and record read for 2.5 s: the SDK's 6 attempts (about 1.5 s at most) give up at least once.
  fake().setFaults({ share: 1, kinds: ['5xx', 'drop'], ops: ['UpdateProvisionedProductProperties', 'DescribeRecord'] });
  const lift = setTimeout(() => fake().setFaults(undefined), 2500);
  try {
    const created = await driver.create();
    expect(created.Status).toBe('SUCCESS');
    expect(created.responseMs).toBeGreaterThanOrEqual(2400);
    expect(fake().calls.filter((c) => c.op === 'UpdateProvisionedProductProperties' && c.outcome !== 'ok').length).toBeGreaterThan(6);
    expect(state('pp-alpha')).toEqual({ owner: ADMIN, launchRole: LAUNCH_A });
    expect(fake().writesApplied('pp-alpha')).toBe(1);
  } finally {
    clearTimeout(lift);
  }
});

test('a product busy for longer than the fast path: the write is retried on InvalidStateException and the deploy succeeds', async () => {
  const driver = driverFor('pp-alpha', ADMIN);
  // The fast path (15 s) compresses to 150 ms and the waiter's 5 s interval to 50 ms: 600 ms needs the waiter.
  fake().setBusy('pp-alpha', 600);
  const created = await driver.create();
  expect(created.Status).toBe('SUCCESS');
  expect(created.responseMs).toBeGreaterThanOrEqual(550);
  expect(created.waiterAttempts).toBeGreaterThan(1);
  const writes = fake().callsOf('UpdateProvisionedProductProperties');
  expect(writes.filter((c) => c.outcome === 'InvalidStateException').length).toBeGreaterThan(1);
  expect(new Set(writes.map((c) => c.input?.IdempotencyToken)).size).toBe(1);
  expect(state('pp-alpha')).toEqual({ owner: ADMIN, launchRole: LAUNCH_A });
});

test('a record that fails on Delete fails the Delete naming the product and the prior values; a retried Delete restores them', async () => {
  const driver = driverFor('pp-alpha', ADMIN);
  await driver.create();
  fake().planNextRecord({ fail: [{ Code: 'Throttled', Description: 'internal throttling' }] });
  const failed = await driver.delete();
  expect(failed).toMatchObject({ Status: 'FAILED', stackStatus: 'DELETE_FAILED' });
  expect(failed.Reason).toMatch(
    /provisioned product pp-alpha FAILED while restoring the prior values OWNER=arn:aws:iam::123456789012:user\/alice/,
  );
  expect(failed.Reason).toContain(`prior owner ${ALICE}`);
  expect(failed.Reason).toContain('Throttled: internal throttling');
  expect(state('pp-alpha')).toEqual({ owner: ADMIN, launchRole: LAUNCH_A });

  const retried = await driver.delete();
  expect(retried).toMatchObject({ Status: 'SUCCESS', stackStatus: 'DELETE_COMPLETE' });
  expect(state('pp-alpha')).toEqual({ owner: ALICE, launchRole: LAUNCH_A });
});

test('a record that never finishes: the handler gives up just before the waiter, saying what it waited for; the rollback Delete cannot restore a product stuck UNDER_CHANGE and says so, naming the prior values', async () => {
  // totalTimeout 1 minute with the 5 s interval: 12 retries, about 0.6 s compressed.
  const driver = driverFor('pp-alpha', ADMIN, { totalTimeout: Duration.minutes(1) });
  expect(driver.userFunctions.waiter).toMatchObject({ intervalSeconds: 5, maxAttempts: 12 });
  fake().planNextRecord({ neverFinish: true });
  const created = await driver.create();
  // The handler sees the same (compressed) totalTimeout as the waiter: 1 minute × 0.01 = 0.6 s.
  expect(created).toMatchObject({ Status: 'FAILED', timedOut: false });
  expect(created.Reason).toMatch(
    /^Gave up after the provider's totalTimeout \(0.6 s\) waiting for record rec-\w+ to finish \(last status IN_PROGRESS\), on provisioned product pp-alpha while setting OWNER=/,
  );
  expect(decodePhysicalId(created.PhysicalResourceId)?.priorOwnerArn).toBe(ALICE);
  // The record may still land, so the rollback Delete writes the prior owner once the product is
  // free; it never is, so the Delete gives up too, naming the values it could not put back, and the
  // stack stays ROLLBACK_FAILED.
  expect(created.followUps).toMatchObject([{ phase: 'rollback', RequestType: 'Delete', Status: 'FAILED' }]);
  expect(created.followUps[0].Reason).toMatch(
    new RegExp(
      `^Gave up .* waiting for the product to accept the change .* while restoring the prior values OWNER=${ALICE} \\(prior owner ${ALICE}, prior launch role ${LAUNCH_A}\\)`,
    ),
  );
  expect(created.stackStatus).toBe('ROLLBACK_FAILED');
  expect(fake().product('pp-alpha')).toMatchObject({ owner: ALICE, status: 'UNDER_CHANGE' });
  const rejected = fake()
    .callsOf('UpdateProvisionedProductProperties')
    .filter((c) => c.outcome === 'InvalidStateException');
  expect(rejected.length).toBeGreaterThan(0);
  expect(
    rejected.every(
      (c) => c.input?.ProvisionedProductProperties && (c.input.ProvisionedProductProperties as Record<string, string>).OWNER === ALICE,
    ),
  ).toBe(true);
});

describe("a rollback while the failed event's record still runs (regression: the prior values were lost)", () => {
  // totalTimeout 2 minutes: 24 waiter retries, about 1.2 s compressed. The record takes 2 s: it
  // outlives the event's waiter, and lands while the rollback's waiter is still waiting on it.
  const options = { totalTimeout: Duration.minutes(2) };

  test('Create times out, the record lands during the rollback Delete: the Delete restores after it', async () => {
    const driver = driverFor('pp-alpha', ADMIN, options);
    fake().planNextRecord({ durationMs: 2000 });
    const created = await driver.create();
    expect(created).toMatchObject({
      Status: 'FAILED',
      Reason: expect.stringMatching(/^Gave up after the provider's totalTimeout/) as unknown,
    });
    expect(created.followUps).toMatchObject([{ RequestType: 'Delete', Status: 'SUCCESS' }]);
    expect(created.stackStatus).toBe('ROLLBACK_COMPLETE');
    expect(fake().product('pp-alpha')).toMatchObject({ status: 'AVAILABLE', owner: ALICE });
    expect(fake().writesApplied('pp-alpha')).toBe(2);
  });

  test('Update times out, the record lands during the rollback Update: the old owner is written after it', async () => {
    const driver = driverFor('pp-alpha', ADMIN, options);
    await driver.create();
    fake().planNextRecord({ durationMs: 2000 });
    const updated = await driver.update(
      LifecycleDriver.propertiesFor({ provisionedProductId: 'pp-alpha', owner: Owner.fromArn(OPS), totalTimeout: options.totalTimeout }),
    );
    expect(updated).toMatchObject({
      Status: 'FAILED',
      Reason: expect.stringMatching(/^Gave up after the provider's totalTimeout/) as unknown,
      stackStatus: 'UPDATE_ROLLBACK_COMPLETE',
    });
    expect(fake().product('pp-alpha')).toMatchObject({ status: 'AVAILABLE', owner: ADMIN });
    await driver.delete();
    expect(state('pp-alpha')).toEqual({ owner: ALICE, launchRole: LAUNCH_A });
  });
});

test('a cleanup Delete that fails on a transient read names the product and its prior values (regression)', async () => {
  const driver = driverFor('pp-alpha', ADMIN);
  const created = await driver.create();
  // 5xx on every DescribeProvisionedProduct, only while CloudFormation deletes the replaced resource.
  driver.onRequest = (_request, phase) => {
    fake().setFaults(phase === 'cleanup' ? { share: 1, kinds: ['5xx'], ops: ['DescribeProvisionedProduct'] } : undefined);
  };
  const replaced = await driver.update(propsFor('pp-beta', OPS));
  // The stack still ends UPDATE_COMPLETE: CloudFormation does not retry a failed cleanup.
  expect(replaced).toMatchObject({ Status: 'SUCCESS', stackStatus: 'UPDATE_COMPLETE' });
  expect(replaced.followUps).toMatchObject([{ phase: 'cleanup', Status: 'FAILED', PhysicalResourceId: created.PhysicalResourceId }]);
  expect(driver.orphans).toHaveLength(1);
  expect(state('pp-alpha')).toEqual({ owner: ADMIN, launchRole: LAUNCH_A });
  // So its reason is where the prior values survive.
  const reason = driver.orphans[0].reason;
  expect(reason).toContain('provisioned product pp-alpha');
  expect(reason).toContain(`prior owner ${ALICE}`);
  expect(reason).toContain(`prior launch role ${LAUNCH_A}`);
});

describe('the handler dying between its write and its response', () => {
  test('isComplete crashes after the write: the framework invokes it again with the same event, which watches the record the ledger says the first started, and the write is sent once', async () => {
    const driver = driverFor('pp-alpha', ADMIN);
    driver.crash({ fn: 'isComplete', when: 'after-work' });
    const created = await driver.create();
    expect(created.Status).toBe('SUCCESS');
    const isCompletes = created.invocations.filter((i) => i.fn === 'isComplete');
    expect(isCompletes[0].outcome).toBe('crashed-after-work');
    expect(isCompletes.slice(1).every((i) => i.outcome === 'ok')).toBe(true);
    const writes = fake().callsOf('UpdateProvisionedProductProperties');
    expect(writes).toHaveLength(1);
    expect(fake().writesApplied('pp-alpha')).toBe(1);
    expect(created.Data?.RecordId).toBe(fake().product('pp-alpha')?.lastRecordId);
    expect(state('pp-alpha')).toEqual({ owner: ADMIN, launchRole: LAUNCH_A });
  });

  test('the invoke call fails before isComplete runs: retried, one write', async () => {
    const driver = driverFor('pp-alpha', ADMIN);
    driver.crash({ fn: 'isComplete', when: 'before-work' });
    const created = await driver.create();
    expect(created.Status).toBe('SUCCESS');
    expect(created.invocations.filter((i) => i.fn === 'isComplete')[0].outcome).toBe('crashed-before-work');
    expect(fake().writesApplied('pp-alpha')).toBe(1);
  });

  test('isComplete crashing on both invoke attempts fails the Create; the rollback Delete restores what the write changed', async () => {
    const driver = driverFor('pp-alpha', ADMIN);
    driver.crash({ fn: 'isComplete', when: 'after-work', count: 2 });
    const created = await driver.create();
    expect(created.Status).toBe('FAILED');
    expect(created.Reason).toMatch(/Injected crash/);
    expect(decodePhysicalId(created.PhysicalResourceId)?.priorOwnerArn).toBe(ALICE);
    expect(created.followUps).toMatchObject([{ phase: 'rollback', RequestType: 'Delete', Status: 'SUCCESS' }]);
    expect(state('pp-alpha')).toEqual({ owner: ALICE, launchRole: LAUNCH_A });
  });

  test('a Delete whose isComplete crashes after the restore write: retried, restored once', async () => {
    const driver = driverFor('pp-alpha', ADMIN);
    await driver.create();
    driver.crash({ fn: 'isComplete', when: 'after-work', requestType: 'Delete' });
    const deleted = await driver.delete();
    expect(deleted.Status).toBe('SUCCESS');
    expect(state('pp-alpha')).toEqual({ owner: ALICE, launchRole: LAUNCH_A });
    expect(fake().writesApplied('pp-alpha')).toBe(2);
  });
});

test('a Create delivered again while its record runs plans another write under its own token (regression: the token was reused)', async () => {
  const driver = LifecycleDriver.fromConstruct(
    // LAUNCH_ROLE is already LAUNCH_A: the first delivery writes OWNER only.
    {
      provisionedProductId: 'pp-alpha',
      owner: Owner.fromArn(ADMIN),
      launchRole: iam.Role.fromRoleArn(new Stack(new App(), 'S'), 'L', LAUNCH_A),
    },
    { endpoint: fake().endpoint, ...ledger(), timeScale: TIME_SCALE },
  );
  fake().planNextRecord({ durationMs: 400 });
  // The second delivery comes 200 ms later, while the first write's record runs.
  const created = await driver.create(undefined, { redeliver: { times: 1, when: 'after-start', afterMs: 20_000 } });
  expect({ violations: fake().violations, answers: created.responses.map((r) => r.Status) }).toEqual({
    violations: [],
    answers: ['SUCCESS', 'SUCCESS'],
  });
  expect(fake().product('pp-alpha')).toMatchObject({ owner: ADMIN, launchRole: LAUNCH_A });
});
