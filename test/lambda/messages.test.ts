/**
 * The messages a user reads when a deploy fails: each names the product, the values and what to do.
 */
import { recordFailed, restoreFailed, timedOut, writeRejected } from '../../lambda/messages';
import type { PlannedChange } from '../../lambda/events';

const change = (purpose: PlannedChange['Purpose']): PlannedChange => ({
  ProductId: 'pp-1',
  Properties: { OWNER: 'arn:aws:iam::123456789012:role/New' },
  IdempotencyToken: 't',
  Purpose: purpose,
  Priors: { OWNER: 'arn:aws:iam::123456789012:user/alice', LAUNCH_ROLE: '' },
  CapturesPriors: false,
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

test('a failed restore names the prior values and the command that puts them back', () => {
  const message = restoreFailed('pp-1', change('restore').Priors, new Error('boom')).message;
  expect(message).toContain('prior owner arn:aws:iam::123456789012:user/alice, prior launch role (none)');
  expect(message).toContain('--provisioned-product-id pp-1 --provisioned-product-properties OWNER=arn:aws:iam::123456789012:user/alice`');
});

test('a rejected restore write names the priors; a rejected apply names the values it was setting', () => {
  const error = Object.assign(new Error('denied'), { name: 'AccessDeniedException' });
  expect(writeRejected(change('restore'), error)).toMatch(
    /restoring the prior values OWNER=.*prior owner arn:aws:iam::123456789012:user\/alice.*AccessDeniedException: denied/,
  );
  expect(writeRejected(change('apply'), error)).toContain('while setting OWNER=arn:aws:iam::123456789012:role/New.');
});

test('giving up says how long, on what, and what to do next', () => {
  const message = timedOut(change('apply'), 30 * 60_000, 'record rec-1 to finish');
  expect(message).toContain("the provider's totalTimeout (30 min) waiting for record rec-1 to finish, on provisioned product pp-1");
  expect(message).toContain('aws servicecatalog describe-provisioned-product --id pp-1');
  expect(timedOut(change('apply'), 45_000, 'x')).toContain('(45 s)');
});
