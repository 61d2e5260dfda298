/**
 * End-to-end scenarios: the synthesized custom resource, run through the real provider framework
 * and the bundled handler (harness/), against the stateful fake Service
 * Catalog. Each step checks what CloudFormation saw and the product's owner and launch role.
 */
import * as iam from 'aws-cdk-lib/aws-iam';
import { App, Stack } from 'aws-cdk-lib';
import { Owner, ProvisionedProductProperties, type ProvisionedProductPropertiesProps } from '../../lib';
import { decodePhysicalId } from '../../lambda/physical-id';
import { ALICE, BOB, ADMIN, OPS, LAUNCH_A, LAUNCH_B, useLedgerServices, useTwoProductFake } from '../support/fixtures';
import {
  CONSTRUCT_STACK,
  CREATE_FAILED_MARKER,
  LifecycleDriver,
  type EventResult,
  type Properties,
  constructStack,
  synthesize,
  resourceOf,
} from '../../harness';

const TIME_SCALE = 0.01;

const fake = useTwoProductFake();
const ledger = useLedgerServices();

/** The properties the construct synthesizes for these props (a real synth each time). */
function propsFor(p: { id: string; owner?: string; launchRole?: string; restoreOnDelete?: boolean }): Properties {
  return LifecycleDriver.propertiesFor(constructProps(p));
}

function constructProps(p: {
  id: string;
  owner?: string;
  launchRole?: string;
  restoreOnDelete?: boolean;
}): ProvisionedProductPropertiesProps {
  const scope = new Stack(new App(), 'RoleScope');
  return {
    provisionedProductId: p.id,
    owner: p.owner ? Owner.fromArn(p.owner) : undefined,
    launchRole: p.launchRole ? iam.Role.fromRoleArn(scope, 'Launch', p.launchRole) : undefined,
    restoreOnDelete: p.restoreOnDelete,
  };
}

function driverFor(p: Parameters<typeof constructProps>[0]): LifecycleDriver {
  return LifecycleDriver.fromConstruct(constructProps(p), { endpoint: fake().endpoint, ...ledger(), timeScale: TIME_SCALE });
}

function state(id: string): { owner: string; launchRole: string } {
  const p = fake().product(id);
  if (!p) throw new Error(`${id} is gone`);
  return { owner: p.owner, launchRole: p.launchRole };
}

function warnings(driver: LifecycleDriver, result: EventResult): string[] {
  return driver
    .handlerLogs(result.RequestId)
    .filter((l) => l.level === 'WARN')
    .map((l) => `${String(l.message)} ${typeof l.key === 'string' ? l.key : ''}`);
}

test('the driver runs what the assembly ships: template properties, handler bundle, waiter settings, framework runtime', () => {
  const model = synthesize(constructStack(constructProps({ id: 'pp-alpha', owner: ADMIN })));
  const driver = new LifecycleDriver(model, { endpoint: 'http://127.0.0.1:1' });
  expect(resourceOf(model).properties).toEqual({
    ServiceToken: expect.stringMatching(/^arn:aws:lambda:us-east-1:123456789012:function:/) as unknown,
    ProvisionedProductId: 'pp-alpha',
    ProvisionedProductProperties: { OWNER: ADMIN },
    RestoreOnDelete: 'true',
  });
  const fns = driver.userFunctions;
  expect(fns.onEvent.handler).toBe('index.onEvent');
  expect(fns.isComplete.handler).toBe('index.isComplete');
  expect(fns.onEvent.code.files.has('index.js')).toBe(true);
  expect(fns.onEvent.environment).toMatchObject({ FAST_PATH_WINDOW_MS: '15000', POLL_INTERVAL_MS: '1000' });
  expect(fns.waiter).toMatchObject({ intervalSeconds: 5, maxAttempts: 360, backoffRate: 1 });
  expect(model.frameworkAssetMatchesRuntime).toBe(true);
  expect(CONSTRUCT_STACK.constructId).toBe('Ownership');
});

test('create → update owner → drop a key → replace with another product → delete: each step leaves the products in the right hands', async () => {
  const driver = driverFor({ id: 'pp-alpha', owner: ADMIN, launchRole: LAUNCH_B });

  // Create: both keys applied, the priors in the physical id and the Data.
  const created = await driver.create();
  expect(created).toMatchObject({ Status: 'SUCCESS', stackStatus: 'CREATE_COMPLETE' });
  expect(state('pp-alpha')).toEqual({ owner: ADMIN, launchRole: LAUNCH_B });
  expect(decodePhysicalId(created.PhysicalResourceId)).toEqual({
    productId: 'pp-alpha',
    priorOwnerArn: ALICE,
    priorLaunchRoleArn: LAUNCH_A,
  });
  expect(created.Data).toEqual({
    RecordId: fake().product('pp-alpha')?.lastRecordId,
    PreviousOwnerArn: ALICE,
    PreviousLaunchRoleArn: LAUNCH_A,
    ChangedByHand: '',
  });
  expect(fake().writesApplied('pp-alpha')).toBe(1);
  const physicalId = created.PhysicalResourceId;

  // Update the owner: same physical id, same priors.
  const owned = await driver.update(propsFor({ id: 'pp-alpha', owner: OPS, launchRole: LAUNCH_B }));
  expect(owned).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: physicalId, followUps: [] });
  expect(owned.Data).toMatchObject({ PreviousOwnerArn: ALICE, PreviousLaunchRoleArn: LAUNCH_A });
  expect(state('pp-alpha')).toEqual({ owner: OPS, launchRole: LAUNCH_B });
  expect(fake().writesApplied('pp-alpha')).toBe(2);

  // Drop LAUNCH_ROLE from the properties: it goes back to its prior value.
  const dropped = await driver.update(propsFor({ id: 'pp-alpha', owner: OPS }));
  expect(dropped).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: physicalId });
  expect(state('pp-alpha')).toEqual({ owner: OPS, launchRole: LAUNCH_A });
  const lastWrite = fake().callsOf('UpdateProvisionedProductProperties').at(-1);
  expect(lastWrite?.input?.ProvisionedProductProperties).toEqual({ LAUNCH_ROLE: LAUNCH_A });

  // Replace with pp-beta: a new physical id with beta's priors, then CloudFormation's cleanup
  // Delete of the old physical id restores alpha.
  const replaced = await driver.update(propsFor({ id: 'pp-beta', owner: ADMIN, launchRole: LAUNCH_B }));
  expect(replaced).toMatchObject({ Status: 'SUCCESS', stackStatus: 'UPDATE_COMPLETE' });
  expect(replaced.PhysicalResourceId).not.toBe(physicalId);
  expect(decodePhysicalId(replaced.PhysicalResourceId)).toEqual({ productId: 'pp-beta', priorOwnerArn: BOB, priorLaunchRoleArn: '' });
  expect(replaced.followUps).toHaveLength(1);
  expect(replaced.followUps[0]).toMatchObject({
    phase: 'cleanup',
    RequestType: 'Delete',
    Status: 'SUCCESS',
    PhysicalResourceId: physicalId,
  });
  expect(state('pp-alpha')).toEqual({ owner: ALICE, launchRole: LAUNCH_A });
  expect(state('pp-beta')).toEqual({ owner: ADMIN, launchRole: LAUNCH_B });
  expect(driver.physicalId).toBe(replaced.PhysicalResourceId);

  // Delete: beta's owner goes back; it had no launch role, which cannot be cleared: the handler says so.
  const deleted = await driver.delete();
  expect(deleted).toMatchObject({ Status: 'SUCCESS', stackStatus: 'DELETE_COMPLETE' });
  expect(state('pp-beta')).toEqual({ owner: BOB, launchRole: LAUNCH_B });
  expect(warnings(driver, deleted)).toEqual([expect.stringMatching(/^No prior value to restore.* LAUNCH_ROLE$/)]);
  expect(state('pp-alpha')).toEqual({ owner: ALICE, launchRole: LAUNCH_A });
  expect(driver.responseUrlLeaks()).toEqual([]);
});

test('a Create whose record FAILS reports the record errors, and the rollback Delete leaves the product as it was', async () => {
  const driver = driverFor({ id: 'pp-alpha', owner: ADMIN });
  fake().planNextRecord({ fail: [{ Code: 'AccessDenied', Description: 'not allowed to transfer ownership' }] });

  const result = await driver.create();
  expect(result.Status).toBe('FAILED');
  expect(result.Reason).toMatch(
    /^Service Catalog record rec-\w+ for provisioned product pp-alpha FAILED while setting OWNER=.*PlatformAdmin: AccessDenied: not allowed to transfer ownership/,
  );
  // The framework reports onEvent's physical id, so the rollback Delete reaches the handler.
  expect(decodePhysicalId(result.PhysicalResourceId)).toMatchObject({ productId: 'pp-alpha', priorOwnerArn: ALICE });
  expect(result.followUps).toMatchObject([
    { phase: 'rollback', RequestType: 'Delete', Status: 'SUCCESS', PhysicalResourceId: result.PhysicalResourceId },
  ]);
  expect(result.followUps[0].invocations.map((i) => i.fn)).toEqual(['onEvent', 'isComplete']);
  expect(result.stackStatus).toBe('ROLLBACK_COMPLETE');
  expect(state('pp-alpha')).toEqual({ owner: ALICE, launchRole: LAUNCH_A });
  expect(fake().writesApplied('pp-alpha')).toBe(0);
});

test('a Create applied, then rolled back because another resource failed: the rollback Delete restores the product', async () => {
  const driver = driverFor({ id: 'pp-alpha', owner: ADMIN, launchRole: LAUNCH_B });
  const result = await driver.create(undefined, { stackFailsAfter: true });
  expect(result.Status).toBe('SUCCESS');
  expect(result.followUps).toMatchObject([{ phase: 'rollback', RequestType: 'Delete', Status: 'SUCCESS' }]);
  expect(result.stackStatus).toBe('ROLLBACK_COMPLETE');
  expect(state('pp-alpha')).toEqual({ owner: ALICE, launchRole: LAUNCH_A });
  expect(fake().writesApplied('pp-alpha')).toBe(2);
});

test('a Create that fails in onEvent (unknown product) reports the framework marker; its rollback Delete never reaches the handler', async () => {
  const driver = driverFor({ id: 'pp-missing', owner: ADMIN });
  const result = await driver.create();
  expect(result).toMatchObject({ Status: 'FAILED', PhysicalResourceId: CREATE_FAILED_MARKER });
  expect(result.Reason).toMatch(/^Provisioned product "pp-missing" was not found/);
  expect(result.followUps).toMatchObject([{ RequestType: 'Delete', Status: 'SUCCESS', invocations: [] }]);
  expect(fake().callsOf('UpdateProvisionedProductProperties')).toEqual([]);
});

test('an Update whose record FAILS rolls back with an Update to the old properties; the product keeps the values of the last good deploy', async () => {
  const driver = driverFor({ id: 'pp-alpha', owner: ADMIN });
  const created = await driver.create();
  fake().planNextRecord({ fail: [{ Code: 'InvalidOwner', Description: 'owner cannot be set' }] });

  const failed = await driver.update(propsFor({ id: 'pp-alpha', owner: OPS, launchRole: LAUNCH_B }));
  expect(failed).toMatchObject({
    Status: 'FAILED',
    PhysicalResourceId: created.PhysicalResourceId,
    stackStatus: 'UPDATE_ROLLBACK_COMPLETE',
  });
  expect(failed.Reason).toMatch(/InvalidOwner: owner cannot be set/);
  expect(failed.followUps).toHaveLength(1);
  const rollback = failed.followUps[0];
  expect(rollback).toMatchObject({
    phase: 'rollback',
    RequestType: 'Update',
    Status: 'SUCCESS',
    PhysicalResourceId: created.PhysicalResourceId,
  });
  expect(rollback.request.ResourceProperties).toMatchObject({ ProvisionedProductProperties: { OWNER: ADMIN } });
  expect(rollback.request.OldResourceProperties).toMatchObject({ ProvisionedProductProperties: { OWNER: OPS, LAUNCH_ROLE: LAUNCH_B } });
  // LAUNCH_ROLE was in the failed properties and is not in the old ones: the rollback restores it.
  expect(state('pp-alpha')).toEqual({ owner: ADMIN, launchRole: LAUNCH_A });
  expect(driver.properties).toMatchObject({ ProvisionedProductProperties: { OWNER: ADMIN } });

  await driver.delete();
  expect(state('pp-alpha')).toEqual({ owner: ALICE, launchRole: LAUNCH_A });
});

test('a replacement whose record FAILS: CloudFormation goes back to the old physical id and deletes the new one', async () => {
  const driver = driverFor({ id: 'pp-alpha', owner: ADMIN });
  const created = await driver.create();
  fake().planNextRecord({ fail: [{ Code: 'Denied', Description: 'no' }] });

  const failed = await driver.update(propsFor({ id: 'pp-beta', owner: OPS }));
  expect(failed.Status).toBe('FAILED');
  expect(decodePhysicalId(failed.PhysicalResourceId)?.productId).toBe('pp-beta');
  expect(failed.followUps).toMatchObject([
    { phase: 'cleanup', RequestType: 'Delete', Status: 'SUCCESS', PhysicalResourceId: failed.PhysicalResourceId },
  ]);
  expect(driver.physicalId).toBe(created.PhysicalResourceId);
  expect(state('pp-alpha')).toEqual({ owner: ADMIN, launchRole: LAUNCH_A });
  expect(state('pp-beta')).toEqual({ owner: BOB, launchRole: '' });

  await driver.delete();
  expect(state('pp-alpha')).toEqual({ owner: ALICE, launchRole: LAUNCH_A });
});

test('a replacement rolled back because another resource failed: the new product is restored, the old one keeps the managed values', async () => {
  const driver = driverFor({ id: 'pp-alpha', owner: ADMIN });
  const created = await driver.create();
  const result = await driver.update(propsFor({ id: 'pp-beta', owner: OPS }), { stackFailsAfter: true });
  expect(result.Status).toBe('SUCCESS');
  expect(result.followUps).toMatchObject([
    { phase: 'cleanup', RequestType: 'Delete', Status: 'SUCCESS', PhysicalResourceId: result.PhysicalResourceId },
  ]);
  expect(driver.physicalId).toBe(created.PhysicalResourceId);
  expect(state('pp-beta')).toEqual({ owner: BOB, launchRole: '' });
  expect(state('pp-alpha')).toEqual({ owner: ADMIN, launchRole: LAUNCH_A });
  await driver.delete();
  expect(state('pp-alpha')).toEqual({ owner: ALICE, launchRole: LAUNCH_A });
});

test('Delete after the product was terminated succeeds without a write', async () => {
  const driver = driverFor({ id: 'pp-alpha', owner: ADMIN });
  await driver.create();
  fake().terminate('pp-alpha');
  const writes = fake().callsOf('UpdateProvisionedProductProperties').length;
  const deleted = await driver.delete();
  expect(deleted).toMatchObject({ Status: 'SUCCESS', stackStatus: 'DELETE_COMPLETE' });
  expect(fake().callsOf('UpdateProvisionedProductProperties')).toHaveLength(writes);
  expect(fake().callsOf('DescribeProvisionedProduct').at(-1)?.outcome).toBe('ResourceNotFoundException');
});

test('restoreOnDelete false: Delete leaves the managed values', async () => {
  const driver = driverFor({ id: 'pp-alpha', owner: ADMIN, restoreOnDelete: false });
  await driver.create();
  const deleted = await driver.delete();
  expect(deleted.Status).toBe('SUCCESS');
  expect(state('pp-alpha')).toEqual({ owner: ADMIN, launchRole: LAUNCH_A });
});

describe('redelivered events', () => {
  test('the same Create delivered twice (Lambda retrying the framework): one write, one physical id, the true priors', async () => {
    const driver = driverFor({ id: 'pp-alpha', owner: ADMIN, launchRole: LAUNCH_B });
    const result = await driver.create(undefined, { redeliver: { times: 1, when: 'after-start' } });
    expect(result.deliveries).toBe(2);
    expect(result.responses).toHaveLength(2);
    expect(new Set(result.responses.map((r) => `${r.Status} ${r.PhysicalResourceId}`)).size).toBe(1);
    expect(decodePhysicalId(result.PhysicalResourceId)).toEqual({
      productId: 'pp-alpha',
      priorOwnerArn: ALICE,
      priorLaunchRoleArn: LAUNCH_A,
    });
    expect(result.invocations.filter((i) => i.fn === 'onEvent')).toHaveLength(2);
    expect(fake().writesApplied('pp-alpha')).toBe(1);
    expect(
      new Set(
        fake()
          .callsOf('UpdateProvisionedProductProperties')
          .map((c) => c.input?.IdempotencyToken),
      ).size,
    ).toBe(1);
    expect(state('pp-alpha')).toEqual({ owner: ADMIN, launchRole: LAUNCH_B });

    await driver.delete();
    expect(state('pp-alpha')).toEqual({ owner: ALICE, launchRole: LAUNCH_A });
  });

  test('onEvent crashing after its work is invoked again with the same event: the same physical id and priors', async () => {
    const driver = driverFor({ id: 'pp-alpha', owner: ADMIN });
    driver.crash({ fn: 'onEvent', when: 'after-work' });
    const result = await driver.create();
    expect(result.Status).toBe('SUCCESS');
    const onEvents = result.invocations.filter((i) => i.fn === 'onEvent');
    expect(onEvents.map((i) => i.outcome)).toEqual(['crashed-after-work', 'ok']);
    expect((onEvents[0].result as { PhysicalResourceId: string }).PhysicalResourceId).toBe(result.PhysicalResourceId);
    expect(decodePhysicalId(result.PhysicalResourceId)?.priorOwnerArn).toBe(ALICE);
    expect(fake().writesApplied('pp-alpha')).toBe(1);
  });

  test('the same Update delivered twice: the write is applied once and the priors stay those of the Create', async () => {
    const driver = driverFor({ id: 'pp-alpha', owner: ADMIN });
    const created = await driver.create();
    const result = await driver.update(propsFor({ id: 'pp-alpha', owner: OPS }), { redeliver: { times: 1, when: 'after-start' } });
    expect(result.responses.map((r) => r.PhysicalResourceId)).toEqual([created.PhysicalResourceId, created.PhysicalResourceId]);
    expect(fake().writesApplied('pp-alpha')).toBe(2);
    expect(result.Data).toMatchObject({ PreviousOwnerArn: ALICE });
    await driver.delete({ redeliver: { times: 1, when: 'after-start' } });
    expect(state('pp-alpha')).toEqual({ owner: ALICE, launchRole: LAUNCH_A });
    expect(fake().writesApplied('pp-alpha')).toBe(3);
  });

  test('a Delete delivered again after CloudFormation had its answer changes nothing more', async () => {
    const driver = driverFor({ id: 'pp-alpha', owner: ADMIN });
    await driver.create();
    const deleted = await driver.delete({ redeliver: { times: 1, when: 'after-response' } });
    expect(deleted.responses.map((r) => r.Status)).toEqual(['SUCCESS', 'SUCCESS']);
    expect(state('pp-alpha')).toEqual({ owner: ALICE, launchRole: LAUNCH_A });
    expect(fake().writesApplied('pp-alpha')).toBe(2);
  });
});

test('the handler and the framework never log the ResponseURL', async () => {
  const driver = driverFor({ id: 'pp-alpha', owner: ADMIN });
  await driver.create();
  await driver.update(propsFor({ id: 'pp-beta', owner: OPS }));
  await driver.delete();
  expect(driver.logs.length).toBeGreaterThan(10);
  expect(driver.responseUrlLeaks()).toEqual([]);
});

test('two instances of one stack share its provider and ledger, and neither supersedes the other', async () => {
  const build = (app: App) => {
    const stack = new Stack(app, 'Two', { env: { account: '123456789012', region: 'us-east-1' } });
    new ProvisionedProductProperties(stack, 'Alpha', { provisionedProductId: 'pp-alpha', owner: Owner.fromArn(ADMIN) });
    new ProvisionedProductProperties(stack, 'Beta', { provisionedProductId: 'pp-beta', owner: Owner.fromArn(OPS) });
    return stack;
  };
  const model = synthesize(build);
  const [alphaId, betaId] = Object.keys(model.template.Resources).filter(
    (id) => model.template.Resources[id].Type === 'Custom::ProvisionedProductProperties',
  );
  const alpha = new LifecycleDriver(model, { endpoint: fake().endpoint, ...ledger(), timeScale: TIME_SCALE, logicalId: alphaId });
  const beta = new LifecycleDriver(model, {
    endpoint: fake().endpoint,
    ...ledger(),
    timeScale: TIME_SCALE,
    logicalId: betaId,
    sameStackAs: alpha,
  });
  // CloudFormation creates them at once, and deletes them at once.
  const created = await Promise.all([alpha.create(), beta.create()]);
  expect(created.map((c) => c.Status)).toEqual(['SUCCESS', 'SUCCESS']);
  expect(beta.stackId).toBe(alpha.stackId);
  expect(beta.ledgerTableName).toBe(alpha.ledgerTableName);
  expect([state('pp-alpha').owner, state('pp-beta').owner]).toEqual([ADMIN, OPS]);
  const deleted = await Promise.all([alpha.delete(), beta.delete()]);
  expect(deleted.map((d) => d.Status)).toEqual(['SUCCESS', 'SUCCESS']);
  expect([state('pp-alpha'), state('pp-beta')]).toEqual([
    { owner: ALICE, launchRole: LAUNCH_A },
    { owner: BOB, launchRole: '' },
  ]);
});
