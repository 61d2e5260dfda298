/**
 * The drift check end to end: the scheduled function the template declares, run on the emulated
 * Lambda against the ledger the deploys wrote (DynamoDB Local) and the fake Service Catalog, after
 * and during ordinary deploys through the real provider framework.
 */
import { App, Duration, Stack } from 'aws-cdk-lib';
import { DriftCheck, Owner, ProvisionedProductProperties } from '../../lib';
import { DRIFT, SERVICE_NAME } from '../../lib/contract';
import { ADMIN, ALICE, LAUNCH_A, OPS, useLedgerServices, useTwoProductFake } from '../support/fixtures';
import { type DriftCheckRun, LifecycleDriver } from '../../harness';

const TIME_SCALE = 0.01;
const HAND = 'arn:aws:iam::123456789012:user/mallory';

const fake = useTwoProductFake();
const ledger = useLedgerServices();

/** A stack whose one instance manages pp-alpha's owner (ADMIN), with the drift check as given. */
function driverFor(driftCheck: DriftCheck | undefined, owner = ADMIN): LifecycleDriver {
  return LifecycleDriver.fromStack(
    (app: App) => {
      const stack = new Stack(app, 'DriftStack', { env: { account: '123456789012', region: 'us-east-1' } });
      new ProvisionedProductProperties(stack, 'Ownership', { provisionedProductId: 'pp-alpha', owner: Owner.fromArn(owner), driftCheck });
      return stack;
    },
    { endpoint: fake().endpoint, ...ledger(), timeScale: TIME_SCALE },
  );
}

function propsWithOwner(driver: LifecycleDriver, owner: string): Record<string, unknown> {
  const props = driver.resource.properties;
  return { ...props, ProvisionedProductProperties: { OWNER: owner } };
}

/** The metric values of a run's one EMF line. */
function metricValues(run: DriftCheckRun): Record<string, unknown> {
  expect(run.metrics).toHaveLength(1);
  return run.metrics[0];
}

function driftLines(run: DriftCheckRun): Array<Record<string, unknown>> {
  return run.logs.filter((l) => typeof l.message === 'string' && l.message.startsWith('Drift:'));
}

test('a change by hand of a managed owner shows in the metric and a log line at the next check, and "since" stays with it', async () => {
  const driver = driverFor(DriftCheck.daily());
  expect((await driver.create()).Status).toBe('SUCCESS');

  const clean = await driver.checkDrift();
  expect(clean.error).toBeUndefined();
  expect(metricValues(clean)).toMatchObject({ CheckedProducts: 1, DriftedProducts: 0, MissingProducts: 0, FailedChecks: 0 });
  expect(driftLines(clean)).toEqual([]);

  fake().changeByHand('pp-alpha', { owner: HAND });
  const first = await driver.checkDrift();
  expect(metricValues(first)).toMatchObject({ CheckedProducts: 1, DriftedProducts: 1 });
  const [line] = driftLines(first);
  expect(line).toMatchObject({
    level: 'WARN',
    logicalResourceId: driver.resource.logicalId,
    provisionedProductId: 'pp-alpha',
    key: 'OWNER',
    declaredValue: ADMIN,
    foundValue: HAND,
    firstSeen: 'now',
  });
  expect(fake().product('pp-alpha')?.owner).toBe(HAND);

  const second = await driver.checkDrift();
  expect(driftLines(second)[0]).toMatchObject({ firstSeen: 'by an earlier check', driftedSince: line.driftedSince });
});

test('the metric line is CloudWatch embedded metric format: namespace, the stack and service dimensions, counts', async () => {
  const driver = driverFor(DriftCheck.every(Duration.hours(1), { restore: true }));
  await driver.create();
  const run = await driver.checkDrift();
  const emf = metricValues(run) as { _aws: { Timestamp: number; CloudWatchMetrics: unknown[] } } & Record<string, unknown>;
  expect(emf).toEqual({
    _aws: {
      Timestamp: expect.any(Number) as unknown,
      CloudWatchMetrics: [
        {
          Namespace: DRIFT.namespace,
          Dimensions: [['service', DRIFT.stackDimension]],
          Metrics: [
            { Name: 'CheckedProducts', Unit: 'Count' },
            { Name: 'DriftedProducts', Unit: 'Count' },
            { Name: 'MissingProducts', Unit: 'Count' },
            { Name: 'FailedChecks', Unit: 'Count' },
            { Name: 'RestoredProducts', Unit: 'Count' },
          ],
        },
      ],
    },
    service: SERVICE_NAME,
    [DRIFT.stackDimension]: 'DriftStack',
    CheckedProducts: 1,
    DriftedProducts: 0,
    MissingProducts: 0,
    FailedChecks: 0,
    RestoredProducts: 0,
  });
});

test('with restore, the check writes the declared owner back and says so', async () => {
  const driver = driverFor(DriftCheck.daily({ restore: true }));
  await driver.create();
  fake().changeByHand('pp-alpha', { owner: HAND });
  const run = await driver.checkDrift();
  expect(metricValues(run)).toMatchObject({ DriftedProducts: 1, RestoredProducts: 1, FailedChecks: 0 });
  expect(fake().product('pp-alpha')?.owner).toBe(ADMIN);
  expect(run.logs.find((l) => l.message === 'Restored the declared values')).toMatchObject({ provisionedProductId: 'pp-alpha' });
  // And the next check finds it in line.
  expect(metricValues(await driver.checkDrift())).toMatchObject({ DriftedProducts: 0 });
});

test('a restore waits for a busy product and then writes', async () => {
  const driver = driverFor(DriftCheck.daily({ restore: true }));
  await driver.create();
  fake().changeByHand('pp-alpha', { owner: HAND });
  fake().setBusy('pp-alpha', 300);
  const run = await driver.checkDrift();
  expect(metricValues(run)).toMatchObject({ RestoredProducts: 1 });
  expect(
    fake()
      .callsOf('UpdateProvisionedProductProperties')
      .some((c) => c.outcome === 'InvalidStateException'),
  ).toBe(true);
  expect(fake().product('pp-alpha')?.owner).toBe(ADMIN);
});

test("a restore whose record fails is counted as failed, with the record's errors in the log", async () => {
  const driver = driverFor(DriftCheck.daily({ restore: true }));
  await driver.create();
  fake().changeByHand('pp-alpha', { owner: HAND });
  fake().planNextRecord({ fail: [{ Code: 'AccessDenied', Description: 'not allowed to set this owner' }] });
  const run = await driver.checkDrift();
  expect(run.error).toBeUndefined();
  expect(metricValues(run)).toMatchObject({ DriftedProducts: 1, RestoredProducts: 0, FailedChecks: 1 });
  expect(run.logs.find((l) => l.message === 'Restore record failed')).toMatchObject({
    recordErrors: [{ Code: 'AccessDenied', Description: 'not allowed to set this owner' }],
  });
  expect(fake().product('pp-alpha')?.owner).toBe(HAND);
});

test('a product terminated since its deploy is reported missing, not drifted, and nothing is written', async () => {
  const driver = driverFor(DriftCheck.daily({ restore: true }));
  await driver.create();
  fake().terminate('pp-alpha');
  const run = await driver.checkDrift();
  expect(metricValues(run)).toMatchObject({ CheckedProducts: 0, DriftedProducts: 0, MissingProducts: 1 });
  expect(run.logs.find((l) => String(l.message).startsWith('The provisioned product no longer exists'))).toMatchObject({
    provisionedProductId: 'pp-alpha',
  });
});

test('the product of a resource that is being deleted is not checked, and after the Delete it is not managed', async () => {
  const driver = driverFor(DriftCheck.daily({ restore: true }));
  await driver.create();
  fake().changeByHand('pp-alpha', { owner: HAND });
  const deleting = driver.delete();
  // Wait until the Delete's restore record runs: its request is the resource's latest.
  while (
    !fake()
      .recordsOf('pp-alpha')
      .some((r) => r.properties.OWNER === ALICE)
  )
    await new Promise((r) => setTimeout(r, 5));
  const during = await driver.checkDrift();
  expect(metricValues(during)).toMatchObject({ CheckedProducts: 0, DriftedProducts: 0 });
  expect(during.logs.some((l) => l.message === 'Not checked now: the deploy decides its values')).toBe(true);
  expect((await deleting).Status).toBe('SUCCESS');
  expect(fake().product('pp-alpha')).toMatchObject({ owner: ALICE, launchRole: LAUNCH_A });
  expect(metricValues(await driver.checkDrift())).toMatchObject({ CheckedProducts: 0, DriftedProducts: 0 });
});

test('a check that overlaps an Update never writes over it: the Update decides', async () => {
  for (const delayMs of [0, 2, 5, 10, 20]) {
    const driver = driverFor(DriftCheck.daily({ restore: true }));
    await driver.create();
    fake().changeByHand('pp-alpha', { owner: HAND });
    const update = driver.update(propsWithOwner(driver, OPS));
    await new Promise((r) => setTimeout(r, delayMs));
    await driver.checkDrift();
    expect((await update).Status).toBe('SUCCESS');
    await driver.settle();
    expect(fake().product('pp-alpha')?.owner).toBe(OPS);
    // The check is never the last writer of OWNER after the Update started.
    const last = fake()
      .recordsOf('pp-alpha')
      .filter((r) => r.status === 'SUCCEEDED' && r.properties.OWNER !== undefined)
      .pop();
    expect(last?.properties.OWNER).toBe(OPS);
    await driver.delete();
    fake().changeByHand('pp-alpha', { owner: ALICE });
  }
});

test('a check that cannot read the ledger fails, naming the table, and reports FailedChecks, never "nothing drifted"', async () => {
  const driver = driverFor(DriftCheck.daily());
  await driver.create();
  ledger().dynamodb.throttleNext = 50;
  const run = await driver.checkDrift();
  ledger().dynamodb.throttleNext = 0;
  expect(run.error?.errorMessage).toContain(String(driver.ledgerTableName));
  expect(run.metrics).toHaveLength(1);
  expect(run.metrics[0]).toMatchObject({ FailedChecks: 1 });
  expect(run.metrics[0]).not.toHaveProperty('DriftedProducts');
});

test('without driftCheck the stack has no scheduled check', async () => {
  const driver = driverFor(undefined);
  await driver.create();
  await expect(driver.checkDrift()).rejects.toThrow(/no scheduled AWS::Events::Rule/);
});

describe('deploys say what they overwrite', () => {
  const handWarnings = (driver: LifecycleDriver, requestId: string) =>
    driver.handlerLogs(requestId).filter((l) => l.level === 'WARN' && String(l.message).includes('changed by hand'));

  test('an Update over an owner changed by hand writes the declared one, logs it and returns it in ChangedByHand', async () => {
    const driver = driverFor(undefined);
    await driver.create();
    fake().changeByHand('pp-alpha', { owner: HAND });
    const updated = await driver.update(propsWithOwner(driver, OPS));
    expect(updated.Status).toBe('SUCCESS');
    expect(fake().product('pp-alpha')?.owner).toBe(OPS);
    expect(updated.Data?.ChangedByHand).toBe(`OWNER was "${HAND}" (changed by hand), set to "${OPS}"`);
    expect(handWarnings(driver, updated.RequestId)).toEqual([
      expect.objectContaining({ provisionedProductId: 'pp-alpha', key: 'OWNER', foundValue: HAND, writtenValue: OPS }),
    ]);
  });

  test('an Update that changes nothing declared still puts back a hand-changed owner, and says so', async () => {
    const driver = driverFor(undefined);
    await driver.create();
    fake().changeByHand('pp-alpha', { owner: HAND });
    const updated = await driver.update(propsWithOwner(driver, ADMIN));
    expect(fake().product('pp-alpha')?.owner).toBe(ADMIN);
    expect(updated.Data?.ChangedByHand).toBe(`OWNER was "${HAND}" (changed by hand), set to "${ADMIN}"`);
  });

  test('a Delete over an owner changed by hand restores the prior and says what it overwrote', async () => {
    const driver = driverFor(undefined);
    await driver.create();
    fake().changeByHand('pp-alpha', { owner: HAND });
    const deleted = await driver.delete();
    expect(deleted.Status).toBe('SUCCESS');
    expect(fake().product('pp-alpha')?.owner).toBe(ALICE);
    expect(handWarnings(driver, deleted.RequestId)).toEqual([
      expect.objectContaining({
        key: 'OWNER',
        foundValue: HAND,
        writtenValue: ALICE,
        message: expect.stringMatching(/^Restoring the prior/) as unknown,
      }),
    ]);
  });

  test('deploys that find only values the stack set say nothing: Update, a rollback to them, Delete', async () => {
    const driver = driverFor(undefined);
    await driver.create();
    const updated = await driver.update(propsWithOwner(driver, OPS));
    expect(updated.Data?.ChangedByHand).toBe('');
    const back = await driver.update(propsWithOwner(driver, ADMIN));
    expect(back.Data?.ChangedByHand).toBe('');
    const deleted = await driver.delete();
    for (const r of [updated, back, deleted]) expect(handWarnings(driver, r.RequestId)).toEqual([]);
  });
});
