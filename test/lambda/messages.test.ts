/**
 * The messages a user reads when a deploy fails: each names the product, the values and what to do.
 */
import {
  MAX_CHANGED_BY_HAND_CHARACTERS,
  MAX_REASON_CHARACTERS,
  ReportedError,
  bounded,
  changedByHand,
  ownerUnknown,
  productNotFound,
  recordFailed,
  recordUnreadable,
  restoreFailed,
  timedOut,
  writeRejected,
} from '../../lambda/messages';
import type { PlannedChange } from '../../lambda/events';

const change = (purpose: PlannedChange['Purpose']): PlannedChange => ({
  ProductId: 'pp-1',
  Properties: { OWNER: 'arn:aws:iam::123456789012:role/New' },
  IdempotencyToken: 't',
  Purpose: purpose,
  Priors: { OWNER: 'arn:aws:iam::123456789012:user/alice', LAUNCH_ROLE: '' },
});

test('a failed record message carries every code and description, and the record id', () => {
  const message = recordFailed(change('apply'), 'rec-9', [
    { Code: 'InvalidParameter', Description: 'Owner is not in this account' },
    { Code: 'Other', Description: 'second' },
  ]);
  expect(message).toContain('rec-9');
  expect(message).toContain('pp-1');
  expect(message).toContain('InvalidParameter: Owner is not in this account; Other: second');
});

test('a failed record without RecordErrors says so rather than ending mid-sentence', () => {
  expect(recordFailed(change('apply'), 'rec-9', undefined)).toContain('the record reported no RecordErrors');
  expect(recordFailed(change('apply'), 'rec-9', [{}])).toContain('UnknownCode: (no description)');
});

test('a failed restore names the prior values and the command that puts back the keys it manages', () => {
  const priors = { OWNER: 'arn:aws:iam::123456789012:user/alice', LAUNCH_ROLE: 'arn:aws:iam::123456789012:role/LaunchA' };
  const message = restoreFailed('pp-1', priors, { OWNER: priors.OWNER }, new Error('boom')).message;
  expect(message).toContain('prior owner arn:aws:iam::123456789012:user/alice, prior launch role arn:aws:iam::123456789012:role/LaunchA');
  // Only OWNER is managed: the command must not set the launch role, which someone else may have changed since.
  expect(message).toContain('--provisioned-product-id pp-1 --provisioned-product-properties OWNER=arn:aws:iam::123456789012:user/alice`.');
});

test('a failed restore with nothing to put back by hand says to check the product instead of printing an empty command', () => {
  const message = restoreFailed('pp-1', { OWNER: '', LAUNCH_ROLE: '' }, {}, new Error('boom')).message;
  expect(message).toContain('Delete again once the cause is fixed, or check its owner and launch role by hand.');
  expect(message).not.toContain('update-provisioned-product-properties');
});

test('a rejected restore write names the priors; a rejected apply names the values it was setting', () => {
  const error = Object.assign(new Error('denied'), { name: 'AccessDeniedException' });
  expect(writeRejected(change('restore'), error)).toMatch(
    /restoring the prior values OWNER=.*prior owner arn:aws:iam::123456789012:user\/alice.*AccessDeniedException: denied/,
  );
  expect(writeRejected(change('apply'), error)).toContain('while setting OWNER=arn:aws:iam::123456789012:role/New.');
});

test('a rejected apply says nothing was changed and what to fix; a rejected restore says how to restore by hand', () => {
  const error = Object.assign(new Error('denied'), { name: 'AccessDeniedException' });
  expect(writeRejected(change('apply'), error)).toMatch(
    /AccessDeniedException: denied\. Nothing was changed\. Fix .*iam:PassRole.*then deploy again\.$/,
  );
  expect(writeRejected(change('restore'), error)).toContain(
    'restore them by hand with `aws servicecatalog update-provisioned-product-properties --provisioned-product-id pp-1 --provisioned-product-properties OWNER=arn:aws:iam::123456789012:role/New`',
  );
});

test('an unreadable record names the record, what the write was for, and what to check; for a restore, the command', () => {
  const error = Object.assign(new Error('no'), { name: 'AccessDeniedException' });
  expect(recordUnreadable(change('apply'), 'rec-3', error)).toBe(
    'Could not read Service Catalog record rec-3 of provisioned product pp-1 while setting OWNER=arn:aws:iam::123456789012:role/New: AccessDeniedException: no. ' +
      "The change was accepted and may still succeed. Check that the provider's isComplete role may call servicecatalog:DescribeRecord, " +
      'see the record with `aws servicecatalog describe-record --id rec-3`, then deploy again.',
  );
  expect(recordUnreadable(change('restore'), 'rec-3', 'x')).toContain(
    '--provisioned-product-properties OWNER=arn:aws:iam::123456789012:role/New`: string: "x".',
  );
});

test('giving up says how long, on what, and what to do next', () => {
  const message = timedOut(change('apply'), 30 * 60_000, 'record rec-1 to finish');
  expect(message).toContain("the provider's totalTimeout (30 min) waiting for record rec-1 to finish, on provisioned product pp-1");
  expect(message).toContain('aws servicecatalog describe-provisioned-product --id pp-1');
  expect(timedOut(change('apply'), 45_000, 'x')).toContain('(45 s)');
});

describe('the error CloudFormation receives', () => {
  test('a message that fits is passed on as it is', () => {
    const error = new Error('x'.repeat(MAX_REASON_CHARACTERS));
    expect(bounded(error)).toBe(error);
    expect(bounded('not an error')).toBe('not an error');
  });

  test('a longer one is cut, saying where the whole message is, and keeps its name and cause', () => {
    const error = Object.assign(new Error('y'.repeat(MAX_REASON_CHARACTERS + 1)), { name: 'ReportedError' });
    const cut = bounded(error) as Error;
    expect(cut.message).toBe(
      `${'y'.repeat(MAX_REASON_CHARACTERS)}... (cut at ${MAX_REASON_CHARACTERS} of ${MAX_REASON_CHARACTERS + 1} characters; the whole message is in the handler's log)`,
    );
    expect(cut.name).toBe('ReportedError');
    expect(cut.cause).toBe(error);
  });

  test('a ReportedError is an Error of that name, with its cause', () => {
    const cause = new Error('c');
    const error = new ReportedError('m', { cause });
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('ReportedError');
    expect(error.cause).toBe(cause);
  });
});

describe('text from elsewhere in a message', () => {
  test('a service error over 400 characters is cut and its length said; 400 are kept whole', () => {
    const long = Object.assign(new Error('z'.repeat(401)), { name: 'ValidationException' });
    expect(writeRejected(change('apply'), long)).toContain(`ValidationException: ${'z'.repeat(400)}... (401 characters in all)`);
    const fits = Object.assign(new Error('z'.repeat(400)), { name: 'ValidationException' });
    expect(writeRejected(change('apply'), fits)).toMatch(/ValidationException: z{400}\. Nothing was changed\./);
  });

  test('something thrown that is not an Error is shown as a value', () => {
    expect(writeRejected(change('apply'), 'boom')).toMatch(/while setting OWNER=.*\. string: "boom"\. Nothing was changed\./);
    expect(restoreFailed('pp-1', undefined, {}, { code: 1 }).message).toMatch(
      /\(prior owner \(none\), prior launch role \(none\)\): \{"code":1\}\. The product keeps its current values\./,
    );
  });

  test('a record reports at most five of its errors, each clipped', () => {
    const errors = Array.from({ length: 7 }, (_, i) => ({ Code: `E${i}`, Description: i === 0 ? 'd'.repeat(401) : `d${i}` }));
    const message = recordFailed(change('restore'), 'rec-1', errors);
    expect(message).toContain(`E0: ${'d'.repeat(400)}... (401 characters in all); E1: d1`);
    expect(message).toContain('E4: d4. See the record with `aws servicecatalog describe-record --id rec-1`.');
    expect(message).not.toContain('E5');
    expect(message).toContain(
      'FAILED while restoring the prior values OWNER=arn:aws:iam::123456789012:role/New (prior owner arn:aws:iam::123456789012:user/alice, prior launch role (none)); restore them by hand with `aws servicecatalog update-provisioned-product-properties --provisioned-product-id pp-1 --provisioned-product-properties OWNER=arn:aws:iam::123456789012:role/New`:',
    );
  });

  test('the restore command lists every managed prior, separated for the CLI', () => {
    const priors = { OWNER: 'arn:o', LAUNCH_ROLE: 'arn:l' };
    const message = restoreFailed('pp-1', priors, priors, new Error('x')).message;
    expect(message).toContain('--provisioned-product-properties OWNER=arn:o,LAUNCH_ROLE=arn:l`.');
    expect(message).toContain('(prior owner arn:o, prior launch role arn:l): Error: x.');
  });

  test('a write of both keys names both, comma-separated', () => {
    const both = { ...change('apply'), Properties: { OWNER: 'arn:o', LAUNCH_ROLE: 'arn:l' } };
    expect(writeRejected(both, new Error('x'))).toContain('while setting OWNER=arn:o, LAUNCH_ROLE=arn:l.');
  });

  test('durations under a minute are in seconds, longer ones in minutes', () => {
    expect(timedOut(change('apply'), 59_000, 'x')).toContain('(59 s)');
    expect(timedOut(change('apply'), 60_000, 'x')).toContain('(1 min)');
    expect(timedOut(change('apply'), 90_000, 'x')).toContain('(1.5 min)');
    expect(timedOut(change('apply'), 1_500, 'x')).toContain('(1.5 s)');
  });
});

test('a missing product and an unlisted owner say what to check', () => {
  expect(productNotFound('pp-9')).toMatch(
    /^Provisioned product "pp-9" was not found in this account and region \(ResourceNotFoundException/,
  );
  expect(ownerUnknown('pp-9', 4)).toMatch(
    /^Cannot read the current owner of provisioned product pp-9: SearchProvisionedProducts did not list it after 4 attempts/,
  );
});

test('as a fresh container loads it, an error is cut past 1,800 characters', () => {
  let m: typeof import('../../lambda/messages') | undefined;
  jest.isolateModules(() => {
    m = jest.requireActual<typeof import('../../lambda/messages')>('../../lambda/messages');
  });
  const fits = new Error('a'.repeat(1800));
  expect(m!.bounded(fits)).toBe(fits);
  expect((m!.bounded(new Error('a'.repeat(1801))) as Error).message).toMatch(/^a{1800}\.\.\. \(cut at 1800 of 1801 characters/);
});

describe('the ChangedByHand attribute', () => {
  test('empty when nothing was changed by hand; else each key, what was found and what was set, bounded', () => {
    expect(changedByHand(undefined)).toBe('');
    expect(changedByHand([])).toBe('');
    expect(changedByHand([{ key: 'LAUNCH_ROLE', found: '', writing: 'arn:aws:iam::123456789012:role/L' }])).toBe(
      'LAUNCH_ROLE was (none) (changed by hand), set to "arn:aws:iam::123456789012:role/L"',
    );
    const long = changedByHand([
      { key: 'OWNER', found: 'x'.repeat(1000), writing: 'y'.repeat(1000) },
      { key: 'LAUNCH_ROLE', found: 'z'.repeat(1000), writing: 'w'.repeat(1000) },
    ]);
    expect(long.length).toBeLessThanOrEqual(MAX_CHANGED_BY_HAND_CHARACTERS + 40);
    expect(long).toMatch(/characters in all\)$/);
  });
});
