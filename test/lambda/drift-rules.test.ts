/**
 * The drift check's decisions: which products a check may compare now, what differs and since when, and what a restore writes.
 */
import { driftMemory, findDrift, memoryChanged, productsToCheck, restoreWrite } from '../../lambda/drift-rules';
import type { LedgerResource } from '../../lambda/ledger-rules';
import { ADMIN, ALICE, LAUNCH_A, LAUNCH_B, OPS } from '../support/fixtures';

const declaredBy = (requestId: string) => ({ properties: { OWNER: ADMIN }, requestId, at: 1 });

function resource(overrides: Partial<LedgerResource> = {}): LedgerResource {
  return {
    latestRequestId: 'r1',
    latestRequestType: 'Create',
    priors: { 'pp-alpha': { owner: ALICE, launchRole: '', requestId: 'r1', declared: declaredBy('r1') } },
    deleted: {},
    ...overrides,
  };
}

describe('which products a check compares', () => {
  test('a product whose declared values come from the latest request, with no write under way, is checked with what was seen before', () => {
    const seen = { OWNER: { found: OPS, since: 5 } };
    const r = resource({
      priors: { 'pp-alpha': { owner: ALICE, launchRole: '', requestId: 'r1', declared: declaredBy('r1'), drift: seen } },
    });
    expect(productsToCheck(r, 10)).toEqual([{ kind: 'check', productId: 'pp-alpha', declared: declaredBy('r1'), seen }]);
  });

  test('a later request of the resource (a deploy in progress, or one that failed) means the deploy decides: skipped, saying which', () => {
    expect(productsToCheck(resource({ latestRequestId: 'r2', latestRequestType: 'Update' }), 10)).toEqual([
      { kind: 'skip', productId: 'pp-alpha', reason: 'a later Update of the resource (r2) is in progress or did not complete' },
    ]);
  });

  test('a write lease held (a write on its way) skips the product; a lapsed one does not', () => {
    expect(productsToCheck(resource({ writer: { requestId: 'r1', until: 20 } }), 10)[0]).toMatchObject({ kind: 'skip' });
    expect(productsToCheck(resource({ writer: { requestId: 'r1', until: 5 } }), 10)[0]).toMatchObject({ kind: 'check' });
  });

  test('a product with priors but nothing declared yet (its capture has not completed) is not a product to check', () => {
    expect(productsToCheck(resource({ priors: { 'pp-alpha': { owner: ALICE, launchRole: '', requestId: 'r1' } } }), 10)).toEqual([]);
  });
});

describe('what differs', () => {
  test('only declared keys are compared; a differing one is drift, first seen now', () => {
    expect(findDrift({ OWNER: ADMIN }, { OWNER: OPS, LAUNCH_ROLE: LAUNCH_B }, true, {}, 100)).toEqual([
      { key: 'OWNER', declared: ADMIN, found: OPS, since: 100, firstSeen: true },
    ]);
    expect(findDrift({ OWNER: ADMIN, LAUNCH_ROLE: LAUNCH_A }, { OWNER: ADMIN, LAUNCH_ROLE: LAUNCH_A }, true, {}, 100)).toEqual([]);
  });

  test('the same value seen by an earlier check keeps its "since"; another value is a new drift', () => {
    const seen = { OWNER: { found: OPS, since: 5 } };
    expect(findDrift({ OWNER: ADMIN }, { OWNER: OPS, LAUNCH_ROLE: '' }, true, seen, 100)).toEqual([
      { key: 'OWNER', declared: ADMIN, found: OPS, since: 5, firstSeen: false },
    ]);
    expect(findDrift({ OWNER: ADMIN }, { OWNER: ALICE, LAUNCH_ROLE: '' }, true, seen, 100)[0]).toMatchObject({
      since: 100,
      firstSeen: true,
    });
  });

  test('an owner the search did not list is unknown, not drifted; the launch role is still compared', () => {
    expect(findDrift({ OWNER: ADMIN, LAUNCH_ROLE: LAUNCH_A }, { OWNER: '', LAUNCH_ROLE: LAUNCH_B }, false, {}, 1)).toEqual([
      { key: 'LAUNCH_ROLE', declared: LAUNCH_A, found: LAUNCH_B, since: 1, firstSeen: true },
    ]);
  });

  test("what is kept for the next check, whether it changed, and a restore's write", () => {
    const drift = findDrift({ OWNER: ADMIN, LAUNCH_ROLE: LAUNCH_A }, { OWNER: OPS, LAUNCH_ROLE: LAUNCH_B }, true, {}, 7);
    const memory = driftMemory(drift);
    expect(memory).toEqual({ OWNER: { found: OPS, since: 7 }, LAUNCH_ROLE: { found: LAUNCH_B, since: 7 } });
    expect(memoryChanged({}, memory)).toBe(true);
    expect(memoryChanged(memory, { ...memory })).toBe(false);
    expect(memoryChanged(memory, {})).toBe(true);
    expect(restoreWrite(drift)).toEqual({ OWNER: ADMIN, LAUNCH_ROLE: LAUNCH_A });
  });
});
