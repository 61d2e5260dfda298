/**
 * One CloudFormation request delivered to the provider framework more than once (Lambda delivers
 * asynchronous events at least once and retries the framework's onEvent after a crash), at every
 * moment that matters: every answer CloudFormation receives carries the true priors, and the
 * change is applied once (docs/design.md §4a: the ledger).
 *
 * The first test was a known bug (a copy arriving after the first delivery's write but before its
 * answer read the written owner as the prior one, and could answer first), fixed first by a lookup
 * of the waiter's executions and now by the ledger.
 */
import { Owner } from '../../lib';
import { decodePhysicalId } from '../../lambda/physical-id';
import { LifecycleDriver, type Redelivery } from '../../harness';
import { ALICE, ADMIN, LAUNCH_A, LAUNCH_B, useLedgerServices, useTwoProductFake } from '../support/fixtures';
import * as iam from 'aws-cdk-lib/aws-iam';
import { App, Stack } from 'aws-cdk-lib';
import { ProvisionedProductProperties } from '../../lib';

const TIME_SCALE = 0.01;

const fake = useTwoProductFake();
const ledger = useLedgerServices();

function driverFor(launchRole?: string): LifecycleDriver {
  return LifecycleDriver.fromStack(
    (app: App) => {
      const stack = new Stack(app, 'Dup', { env: { account: '123456789012', region: 'us-east-1' } });
      new ProvisionedProductProperties(stack, 'Ownership', {
        provisionedProductId: 'pp-alpha',
        owner: Owner.fromArn(ADMIN),
        launchRole: launchRole ? iam.Role.fromRoleArn(stack, 'Launch', launchRole) : undefined,
      });
      return stack;
    },
    { endpoint: fake().endpoint, ...ledger(), timeScale: TIME_SCALE },
  );
}

/** Every answer CloudFormation received names the true priors (the product's values before the stack). */
function expectTruePriors(responses: ReadonlyArray<{ PhysicalResourceId: string }>, owner = ALICE, launchRole = LAUNCH_A): void {
  expect(responses.length).toBeGreaterThanOrEqual(1);
  for (const r of responses) {
    expect(decodePhysicalId(r.PhysicalResourceId)).toMatchObject({
      productId: 'pp-alpha',
      priorOwnerArn: owner,
      priorLaunchRoleArn: launchRole,
    });
  }
}

test('a Create delivered again after its write but before its answer keeps the true priors (was a known bug)', async () => {
  const driver = driverFor();
  // The first waiter writes, then cannot read its record for a while (5xx on DescribeRecord).
  fake().setFaults({ share: 1, kinds: ['5xx'], ops: ['DescribeRecord'] });
  setTimeout(() => fake().setFaults(undefined), 1000);
  const created = await driver.create(undefined, { redeliver: { times: 1, when: 'after-start', afterMs: 20_000 } });
  expect(created.Status).toBe('SUCCESS');
  expect(created.responses).toHaveLength(2);
  expectTruePriors(created.responses);
  await driver.delete();
  expect(fake().product('pp-alpha')).toMatchObject({ owner: ALICE, launchRole: LAUNCH_A });
});

const moments: Array<[string, Redelivery]> = [
  ['at once, before the first write', { times: 1, when: 'after-start' }],
  ['while the first record runs', { times: 1, when: 'after-start', afterMs: 3_000 }],
  ['after the first record finished', { times: 1, when: 'after-start', afterMs: 30_000 }],
  ['after the first answer', { times: 1, when: 'after-response' }],
  ['three times over', { times: 3, when: 'after-start', afterMs: 2_000 }],
];

test.each(moments)('a copy of the Create arriving %s: one write, every answer with the true priors', async (_, redeliver) => {
  fake().planNextRecord({ durationMs: 200 });
  const driver = driverFor(LAUNCH_B);
  const created = await driver.create(undefined, { redeliver });
  expect(created.Status).toBe('SUCCESS');
  expectTruePriors(created.responses);
  expect(fake().writesApplied('pp-alpha')).toBe(1);
  expect(fake().product('pp-alpha')).toMatchObject({ owner: ADMIN, launchRole: LAUNCH_B });
  await driver.delete();
  expect(fake().product('pp-alpha')).toMatchObject({ owner: ALICE, launchRole: LAUNCH_A });
});
