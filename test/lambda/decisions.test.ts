import { createHash } from 'node:crypto';
import {
  changesByHand,
  hasWrites,
  idempotencyToken,
  nextPollDelay,
  planApply,
  planRestore,
  recordOutcome,
  valuesAreSettled,
  waiterWillGiveUp,
} from '../../lambda/decisions';
import { readLeniently } from '../../lambda/resource-properties';

const A = 'arn:aws:iam::123456789012:role/A';
const B = 'arn:aws:iam::123456789012:role/B';
const ORIGINAL_OWNER = 'arn:aws:iam::123456789012:user/alice';
const priors = { OWNER: ORIGINAL_OWNER, LAUNCH_ROLE: A };

describe('record status → action', () => {
  test.each([
    ['SUCCEEDED', 'succeeded'],
    ['FAILED', 'failed'],
    ['CREATED', 'waiting'],
    ['IN_PROGRESS', 'waiting'],
    ['IN_PROGRESS_IN_ERROR', 'waiting'],
    ['SOMETHING_NEW', 'unrecognised'],
    [undefined, 'unrecognised'],
  ])('%s → %s', (status, outcome) => expect(recordOutcome(status)).toBe(outcome));
});

describe('planning Create and Update', () => {
  test('create writes only the keys whose value differs', () => {
    expect(planApply({ OWNER: B, LAUNCH_ROLE: A }, [], priors, priors).write).toEqual({ OWNER: B });
  });

  test('create where the product already has the values writes nothing', () => {
    expect(planApply({ OWNER: ORIGINAL_OWNER }, [], priors, priors).write).toEqual({});
  });

  test('update that drops OWNER restores the prior owner', () => {
    const current = { OWNER: B, LAUNCH_ROLE: B };
    expect(planApply({ LAUNCH_ROLE: B }, ['OWNER', 'LAUNCH_ROLE'], priors, current).write).toEqual({ OWNER: ORIGINAL_OWNER });
  });

  test('update that adds LAUNCH_ROLE writes it and keeps the owner', () => {
    const current = { OWNER: B, LAUNCH_ROLE: A };
    expect(planApply({ OWNER: B, LAUNCH_ROLE: B }, ['OWNER'], priors, current).write).toEqual({ LAUNCH_ROLE: B });
  });

  test('dropping a launch role the product never had is skipped, not cleared', () => {
    const plan = planApply(
      { OWNER: B },
      ['OWNER', 'LAUNCH_ROLE'],
      { OWNER: ORIGINAL_OWNER, LAUNCH_ROLE: '' },
      { OWNER: B, LAUNCH_ROLE: B },
    );
    expect(plan.write).toEqual({});
    expect(plan.skipped).toEqual([{ key: 'LAUNCH_ROLE', current: B }]);
  });
});

describe('planning Delete', () => {
  test('restores each managed key to its prior value', () => {
    expect(planRestore(['OWNER', 'LAUNCH_ROLE'], priors, { OWNER: B, LAUNCH_ROLE: B }).write).toEqual({
      OWNER: ORIGINAL_OWNER,
      LAUNCH_ROLE: A,
    });
  });

  test('leaves keys it does not manage alone', () => {
    expect(planRestore(['OWNER'], priors, { OWNER: B, LAUNCH_ROLE: B }).write).toEqual({ OWNER: ORIGINAL_OWNER });
  });

  test('after a half-done Create (write never applied) there is nothing to write', () => {
    expect(planRestore(['OWNER', 'LAUNCH_ROLE'], priors, priors).write).toEqual({});
  });

  test('a product that had no launch role keeps the current one, reported as skipped', () => {
    const plan = planRestore(['LAUNCH_ROLE'], { OWNER: ORIGINAL_OWNER, LAUNCH_ROLE: '' }, { OWNER: B, LAUNCH_ROLE: B });
    expect(plan).toEqual({ write: {}, skipped: [{ key: 'LAUNCH_ROLE', current: B }] });
  });
});

describe('idempotency token', () => {
  const REQUEST = '7e0f2a3c-1111-2222-3333-444455556666';
  test('is the same for a redelivered event that plans the same write', () => {
    expect(idempotencyToken(REQUEST, 'pp-1', { OWNER: A })).toBe(idempotencyToken(REQUEST, 'pp-1', { OWNER: A }));
  });

  test('differs between requests, products and planned writes, so no token is reused with other parameters', () => {
    const t = idempotencyToken(REQUEST, 'pp-1', { OWNER: A });
    expect(t).not.toBe(idempotencyToken('7e0f2a3c-1111-2222-3333-444455556667', 'pp-1', { OWNER: A }));
    expect(t).not.toBe(idempotencyToken(REQUEST, 'pp-2', { OWNER: A }));
    expect(t).not.toBe(idempotencyToken(REQUEST, 'pp-1', { OWNER: A, LAUNCH_ROLE: B }));
    expect(t).not.toBe(idempotencyToken(REQUEST, 'pp-1', { OWNER: B }));
  });

  test('always matches the API pattern, whatever the RequestId', () => {
    for (const id of ['', 'weird id/with:chars', 'x'.repeat(500)]) {
      expect(idempotencyToken(id, 'pp-1', { OWNER: A })).toMatch(/^[a-zA-Z0-9][a-zA-Z0-9_-]{0,127}$/);
    }
  });
});

describe('poll pacing', () => {
  test('polls every interval until the deadline, then hands back to the waiter', () => {
    expect(nextPollDelay(0, 10_000, 1_000, 3)).toBe(1_000);
    expect(nextPollDelay(9_500, 10_000, 1_000, 3)).toBeUndefined();
  });
  test('an invocation past the window still checks the record once, at once', () => {
    expect(nextPollDelay(20_000, 20_000, 1_000, 0)).toBe(0);
    expect(nextPollDelay(20_000, 20_000, 1_000, 1)).toBeUndefined();
  });
});

describe('giving up before the waiter does', () => {
  test('keeps waiting while the waiter has another call left, gives up within 1.5 intervals of totalTimeout', () => {
    const plannedAt = 1_000_000;
    expect(waiterWillGiveUp(plannedAt + 60_000, plannedAt, 30 * 60_000, 5_000)).toBe(false);
    expect(waiterWillGiveUp(plannedAt + 30 * 60_000 - 8_000, plannedAt, 30 * 60_000, 5_000)).toBe(false);
    expect(waiterWillGiveUp(plannedAt + 30 * 60_000 - 7_000, plannedAt, 30 * 60_000, 5_000)).toBe(true);
  });
});

describe('whether values read now are the ones the product keeps', () => {
  test.each([
    ['AVAILABLE', true],
    ['TAINTED', true],
    ['ERROR', true],
    ['UNDER_CHANGE', false],
    ['PLAN_IN_PROGRESS', false],
  ])('a product %s: settled %s', (status, settled) => expect(valuesAreSettled(status)).toBe(settled));
});

describe('planning against a busy product (values not settled)', () => {
  test('every desired key is written, even one that already has the value', () => {
    expect(planApply({ OWNER: ORIGINAL_OWNER, LAUNCH_ROLE: A }, [], priors, undefined).write).toEqual({
      OWNER: ORIGINAL_OWNER,
      LAUNCH_ROLE: A,
    });
  });

  test('a restore writes every prior; a key whose prior was empty is skipped, saying its value is changing', () => {
    const plan = planRestore(['OWNER', 'LAUNCH_ROLE'], { OWNER: ORIGINAL_OWNER, LAUNCH_ROLE: '' }, undefined);
    expect(plan).toEqual({ write: { OWNER: ORIGINAL_OWNER }, skipped: [{ key: 'LAUNCH_ROLE', current: '(changing)' }] });
  });

  test('a key whose prior was empty and that is still empty is neither written nor reported', () => {
    expect(planRestore(['LAUNCH_ROLE'], { OWNER: ORIGINAL_OWNER, LAUNCH_ROLE: '' }, { OWNER: B, LAUNCH_ROLE: '' })).toEqual({
      write: {},
      skipped: [],
    });
  });
});

describe('plan helpers', () => {
  /** The keys a resource's properties manage, as Update and Delete read them. */
  const managedKeys = (properties: Record<string, string>) => readLeniently({ ProvisionedProductProperties: properties }).managedKeys;

  test('managedKeys lists the keys set, in a stable order', () => {
    expect(managedKeys({ LAUNCH_ROLE: A, OWNER: B })).toEqual(['OWNER', 'LAUNCH_ROLE']);
    expect(managedKeys({ LAUNCH_ROLE: A })).toEqual(['LAUNCH_ROLE']);
    expect(managedKeys({})).toEqual([]);
  });

  test('hasWrites is true only for a plan with something to write', () => {
    expect(hasWrites({ write: {}, skipped: [{ key: 'LAUNCH_ROLE', current: A }] })).toBe(false);
    expect(hasWrites({ write: { OWNER: A }, skipped: [] })).toBe(true);
  });
});

describe('pacing at its edges', () => {
  test('a poll that ends exactly at the deadline still happens; one that would end after it hands back', () => {
    expect(nextPollDelay(9_000, 10_000, 1_000, 5)).toBe(1_000);
    expect(nextPollDelay(9_001, 10_000, 1_000, 5)).toBeUndefined();
  });

  test('the give-up point is exactly totalTimeout less 1.5 intervals after onEvent', () => {
    expect(waiterWillGiveUp(1_000 + 60_000 - 7_500, 1_000, 60_000, 5_000)).toBe(true);
    expect(waiterWillGiveUp(1_000 + 60_000 - 7_501, 1_000, 60_000, 5_000)).toBe(false);
  });
});

test('the token of a given request and write is stable across releases, so a redelivery a newer handler receives sends the same one', () => {
  expect(idempotencyToken('req-1', 'pp-1', { OWNER: A })).toBe(
    createHash('sha256').update(`req-1|pp-1|OWNER=${A}|LAUNCH_ROLE=`).digest('hex'),
  );
});

describe('what a deploy writes over that someone changed by hand', () => {
  const HAND = 'arn:aws:iam::123456789012:user/mallory';
  const current = { OWNER: HAND, LAUNCH_ROLE: A };

  test('a written key whose value is neither declared before nor the prior is a change by hand', () => {
    expect(changesByHand({ OWNER: B }, current, [{ OWNER: A }, priors])).toEqual([{ key: 'OWNER', found: HAND, writing: B }]);
  });

  test('a value the stack declared before, the ledger recorded, or the prior is not', () => {
    expect(changesByHand({ OWNER: B }, current, [{ OWNER: HAND }])).toEqual([]);
    expect(changesByHand({ OWNER: B }, current, [undefined, { OWNER: HAND }, priors])).toEqual([]);
    expect(changesByHand({ OWNER: B }, { ...current, OWNER: ORIGINAL_OWNER }, [{ OWNER: A }, priors])).toEqual([]);
  });

  test('keys not written, values not settled, and an owner the search did not list say nothing', () => {
    expect(changesByHand({ LAUNCH_ROLE: B }, current, [priors])).toEqual([]);
    expect(changesByHand({ OWNER: B }, undefined, [priors])).toEqual([]);
    expect(changesByHand({ OWNER: B }, current, [priors], false)).toEqual([]);
  });
});
