/**
 * The ledger's pure decisions: which priors a capture records, how a physical id's priors stand against the ledger's, and which requests may still write.
 */
import {
  checkPriors,
  expiredTombstones,
  knownRecord,
  physicalIdKey,
  createStands,
  priorsToRecord,
  resourceKey,
  supersededBy,
} from '../../lambda/ledger-rules';
import { ADMIN, ALICE, BOB, LAUNCH_A } from '../support/fixtures';

const READ = { OWNER: ADMIN, LAUNCH_ROLE: LAUNCH_A };

describe('the priors a capture records', () => {
  test('a first capture of the resource records the values it read', () => {
    expect(priorsToRecord(undefined, READ)).toEqual({ priors: READ, reused: false });
  });

  test("a Create after a rollback the handler never saw (the framework's CREATE_FAILED marker) keeps the earlier capture's priors, not values that Create may have written", () => {
    expect(priorsToRecord({ owner: ALICE, launchRole: '', requestId: 'r1' }, READ)).toEqual({
      priors: { OWNER: ALICE, LAUNCH_ROLE: '' },
      reused: true,
    });
  });
});

describe("a physical id's priors against the ledger's", () => {
  test('a resource created before the ledger existed (no entry) is adopted with the priors its physical id holds', () => {
    expect(checkPriors({ OWNER: ALICE, LAUNCH_ROLE: LAUNCH_A }, undefined)).toEqual({
      kind: 'adopt',
      priors: { OWNER: ALICE, LAUNCH_ROLE: LAUNCH_A },
    });
  });

  test('a genuine physical id agrees with the ledger', () => {
    expect(checkPriors({ OWNER: ALICE, LAUNCH_ROLE: '' }, { owner: ALICE, launchRole: '', requestId: 'r1' }).kind).toBe('agree');
  });

  test('a forged prior owner is refused with both values', () => {
    expect(checkPriors({ OWNER: BOB, LAUNCH_ROLE: '' }, { owner: ALICE, launchRole: '', requestId: 'r1' })).toEqual({
      kind: 'disagree',
      fromId: { OWNER: BOB, LAUNCH_ROLE: '' },
      fromLedger: { OWNER: ALICE, LAUNCH_ROLE: '' },
    });
  });

  test('a forged prior launch role is refused too', () => {
    expect(checkPriors({ OWNER: ALICE, LAUNCH_ROLE: LAUNCH_A }, { owner: ALICE, launchRole: '', requestId: 'r1' }).kind).toBe('disagree');
  });
});

describe('which request may still write', () => {
  test('the latest request of the resource may', () => {
    expect(supersededBy({ latestRequestId: 'r2', latestRequestType: 'Update', priors: {}, deleted: {} }, 'r2')).toBeUndefined();
  });

  test('a late copy of an Update, after the resource’s next request reached the handler, may not', () => {
    expect(supersededBy({ latestRequestId: 'r3', latestRequestType: 'Delete', priors: {}, deleted: {} }, 'r2')).toEqual({
      latestRequestId: 'r3',
      latestRequestType: 'Delete',
    });
  });

  test("a Create's write stands while CloudFormation awaits it or took its success, not once it took a failure or deleted the resource", () => {
    for (const status of ['CREATE_IN_PROGRESS', 'CREATE_COMPLETE', 'UPDATE_IN_PROGRESS', 'UPDATE_COMPLETE', 'UPDATE_ROLLBACK_COMPLETE']) {
      expect(createStands(status)).toBe(true);
    }
    for (const status of ['CREATE_FAILED', 'DELETE_IN_PROGRESS', 'DELETE_COMPLETE', 'DELETE_FAILED', 'ROLLBACK_COMPLETE', undefined]) {
      expect(createStands(status)).toBe(false);
    }
  });

  test('resource keys are bounded and tell resources apart', () => {
    const stack = `arn:aws:cloudformation:us-east-1:123456789012:stack/${'S'.repeat(128)}/00000000-0000-0000-0000-000000000000`;
    const a = resourceKey(stack, 'A'.repeat(255));
    expect(a).toMatch(/^resource#[0-9a-f]{64}$/);
    expect(resourceKey(stack, 'B')).not.toBe(a);
    expect(resourceKey(`${stack}\nA`, '')).not.toBe(resourceKey(stack, 'A'));
  });
});

describe('tombstones of deleted physical ids', () => {
  test('are bounded hashes that tell ids apart', () => {
    const key = physicalIdKey(`sc-ppp:v1|pp-1|aws|123456789012|iam:role/${'P'.repeat(900)}|`);
    expect(key).toMatch(/^[0-9a-f]{32}$/);
    expect(physicalIdKey('sc-ppp:v1|pp-2')).not.toBe(physicalIdKey('sc-ppp:v1|pp-1'));
  });

  test('are dropped once older than the time a copy of a request can still arrive, not before', () => {
    const day = 86_400_000;
    expect(expiredTombstones({ old: 1_000, edge: 1_000 + 1, fresh: day }, day + 1_000 + 1, day).sort()).toEqual(['old']);
  });
});

describe('the record a write already started', () => {
  const resource = { priors: {}, deleted: {}, lastWrite: { token: 't-apply', recordId: 'rec-1' } };
  test('a later call of the same write (same token) watches the record the ledger knows', () => {
    expect(knownRecord(resource, 't-apply')).toBe('rec-1');
  });
  test('another write (an undo, a later request: another token) is sent, and so is any write the ledger has no record of', () => {
    expect(knownRecord(resource, 't-undo')).toBeUndefined();
    expect(knownRecord({ priors: {}, deleted: {} }, 't-apply')).toBeUndefined();
  });
});
