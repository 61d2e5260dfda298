/**
 * Events nobody should send, sent anyway: garbled, forged, cross-product, wrong-partition and
 * oversize input. Every one fails with a clear message of bounded size, and no write call is made.
 */
import type * as Handler from '../../lambda/index';
import { MAX_REASON_CHARACTERS } from '../../lambda/messages';
import { encodePhysicalId } from '../../lambda/physical-id';
import type { FakeServiceCatalog } from '../../harness';
import { ACCOUNT, ADMIN, ALICE, LAUNCH_A, LAUNCH_B } from '../support/fixtures';
import { event, useHandlerUnderTest } from '../support/handler-events';

let fake: FakeServiceCatalog;
let handler: typeof Handler;
useHandlerUnderTest((under) => {
  ({ fake, handler } = under);
  fake.addProduct({ id: 'pp-target', owner: ALICE, launchRole: LAUNCH_A, account: ACCOUNT });
  fake.addProduct({ id: 'pp-other', owner: ALICE, launchRole: LAUNCH_A, account: ACCOUNT });
});

/** The physical id a real Create of pp-target would have written (pinned by the last test). */
const genuine = 'sc-ppp:v1|pp-target|aws|123456789012|iam:user/alice|iam:role/LaunchA';
const base = event('Create', { id: 'pp-target', owner: ADMIN }) as unknown as Record<string, unknown>;
const props = base.ResourceProperties as Record<string, unknown>;
const withProps = (change: Record<string, unknown>, type = 'Create', extra: Record<string, unknown> = {}) =>
  ({ ...base, RequestType: type, ...extra, ResourceProperties: { ...props, ...change } }) as unknown;
const deleteWith = (physicalId: string, productId = 'pp-target') =>
  withProps({ ProvisionedProductId: productId, ProvisionedProductProperties: { OWNER: ADMIN } }, 'Delete', {
    PhysicalResourceId: physicalId,
  });
const updateWith = (physicalId: string, oldProductId = 'pp-target', newProps: Record<string, unknown> = { LAUNCH_ROLE: LAUNCH_B }) =>
  withProps({ ProvisionedProductId: oldProductId, ProvisionedProductProperties: newProps }, 'Update', {
    PhysicalResourceId: physicalId,
    OldResourceProperties: {
      ...props,
      ProvisionedProductId: oldProductId,
      ProvisionedProductProperties: { OWNER: ADMIN, LAUNCH_ROLE: LAUNCH_B },
    },
  });
const manyKeys = Object.fromEntries(Array.from({ length: 2000 }, (_, i) => [`KEY_${i}_${'x'.repeat(100)}`, 'v']));

const cases: Array<[string, unknown, RegExp]> = [
  [
    'a product id with a space',
    withProps({ ProvisionedProductId: 'pp bad' }),
    /provisionedProductId "pp bad" is not a provisioned product id/,
  ],
  [
    'a 100 KB product id',
    withProps({ ProvisionedProductId: 'p'.repeat(100_000) }),
    /\(100000 characters in all\) is not a provisioned product id/,
  ],
  ['no product id', withProps({ ProvisionedProductId: undefined }), /ProvisionedProductId is missing or not a string/],
  ['a product id that is a number', withProps({ ProvisionedProductId: 42 }), /ProvisionedProductId is missing or not a string \(got 42\)/],
  ['properties that are a string', withProps({ ProvisionedProductProperties: 'OWNER=x' }), /must be a map with OWNER and\/or LAUNCH_ROLE/],
  ['properties that are a list', withProps({ ProvisionedProductProperties: [ADMIN] }), /must be a map/],
  ['properties that are null', withProps({ ProvisionedProductProperties: null }), /must be a map/],
  ['an empty properties map', withProps({ ProvisionedProductProperties: {} }), /set at least one of owner and launchRole/],
  [
    'an unknown property key',
    withProps({ ProvisionedProductProperties: { TAGS: 'x' } }),
    /unknown ProvisionedProductProperties key "TAGS"/,
  ],
  ['2,000 unknown keys', withProps({ ProvisionedProductProperties: manyKeys }), /\(2000 problems\).*\.\.\.and 1992 more/],
  ['an OWNER that is an object', withProps({ ProvisionedProductProperties: { OWNER: { arn: ADMIN } } }), /OWNER must be an ARN string/],
  [
    'an OWNER that is a group',
    withProps({ ProvisionedProductProperties: { OWNER: `arn:aws:iam::${ACCOUNT}:group/g` } }),
    /is not an IAM user, IAM role/,
  ],
  [
    'a 200 KB OWNER',
    withProps({ ProvisionedProductProperties: { OWNER: `arn:aws:iam::${ACCOUNT}:user/${'a'.repeat(200_000)}` } }),
    /owner .*\(200031 characters in all\) is not an IAM user.*over the 1024/,
  ],
  [
    'an OWNER in another partition',
    withProps({ ProvisionedProductProperties: { OWNER: `arn:aws-cn:iam::${ACCOUNT}:role/Admin` } }),
    /is in partition aws-cn, but provisioned product pp-target is in partition aws/,
  ],
  [
    'an OWNER in another account',
    withProps({ ProvisionedProductProperties: { OWNER: 'arn:aws:iam::999999999999:role/Admin' } }),
    /is in account 999999999999, but provisioned product pp-target is in account 123456789012/,
  ],
  ['a user as LAUNCH_ROLE', withProps({ ProvisionedProductProperties: { LAUNCH_ROLE: ALICE } }), /names a user or a session, not a role/],
  [
    'a LAUNCH_ROLE in another partition than OWNER',
    withProps({ ProvisionedProductProperties: { OWNER: ADMIN, LAUNCH_ROLE: `arn:aws-us-gov:iam::${ACCOUNT}:role/L` } }),
    /is in partition aws but launchRole .* is in partition aws-us-gov/,
  ],
  [
    'a 5 KB LAUNCH_ROLE',
    withProps({ ProvisionedProductProperties: { LAUNCH_ROLE: `arn:aws:iam::${ACCOUNT}:role/${'p/'.repeat(2500)}R` } }),
    /is not an IAM role ARN \(and at 5032 characters/,
  ],
  ['an AcceptLanguage Service Catalog does not know', withProps({ AcceptLanguage: 'fr' }), /acceptLanguage "fr" is not a language code/],
  ['an AcceptLanguage that is a number', withProps({ AcceptLanguage: 7 }), /AcceptLanguage must be a string \(got 7\)/],
  ['a RestoreOnDelete that is no boolean', withProps({ RestoreOnDelete: 'yes' }), /RestoreOnDelete "yes" is not a boolean/],
  ['an unknown resource property', withProps({ Extra: 'x' }), /unknown resource property "Extra"/],
  ['no resource properties at all', { ...base, ResourceProperties: null }, /ProvisionedProductId is missing/],
  ['an unknown RequestType', { ...base, RequestType: 'Destroy' }, /Unknown RequestType "Destroy": expected Create, Update or Delete/],
  ['null instead of an event', null, /onEvent was invoked with null, not a CloudFormation custom resource event/],
  ['a string instead of an event', 'Create', /onEvent was invoked with a string of 6 characters, not a CloudFormation/],
  [
    'a list instead of an event (nothing of it echoed: it holds a ResponseURL)',
    [base],
    /^(?!.*ResponseURL)(?!.*https:).*onEvent was invoked with an array of 1, not a CloudFormation/s,
  ],
  [
    'a Delete whose id names another product',
    deleteWith(`sc-ppp:v1|pp-other|aws|${ACCOUNT}|iam:role/Mallory|`),
    /PhysicalResourceId names provisioned product "pp-other" but ResourceProperties name "pp-target"/,
  ],
  [
    'an Update whose id names another product than its old and new properties',
    updateWith(genuine, 'pp-other'),
    /names provisioned product "pp-target" but OldResourceProperties or ResourceProperties name "pp-other" and "pp-other"/,
  ],
  [
    'a Delete with a prior owner of another account',
    deleteWith(genuine.replace('iam:user/alice', 'arn:aws:iam::999999999999:user/mallory')),
    /has this resource's prefix but is not one it wrote/,
  ],
  ['a Delete with a garbage prior ARN', deleteWith(genuine.replace('iam:user/alice', 'garbage')), /prior owner .* is not an IAM user/],
  ['a Delete with an empty partition', deleteWith(genuine.replace('|aws|', '||')), /partition "" and account "123456789012"/],
  ['a Delete with a foreign partition', deleteWith(genuine.replace('|aws|', '|aws-cn;x|')), /is not one it wrote/],
  ['a Delete with a 5 KB id', deleteWith(`${genuine}${'x'.repeat(5000)}`), /is over 1024 bytes/],
  [
    'a Delete with an escaped | in the product',
    deleteWith(genuine.replace('pp-target', 'pp%7Ctarget')),
    /product id "pp\|target" is not a provisioned product id/,
  ],
  [
    'an Update of the same product to an OWNER in another account',
    updateWith(genuine, 'pp-target', { OWNER: 'arn:aws:iam::999999999999:role/Admin' }),
    /OWNER "arn:aws:iam::999999999999:role\/Admin" is in account 999999999999, but provisioned product pp-target is in account 123456789012/,
  ],
  [
    'an Update of the same product to a LAUNCH_ROLE in another partition',
    updateWith(genuine, 'pp-target', { LAUNCH_ROLE: `arn:aws-cn:iam::${ACCOUNT}:role/L` }),
    /is in partition aws-cn, but provisioned product pp-target is in partition aws/,
  ],
  [
    'an Update of an id of another version',
    updateWith(genuine.replace('sc-ppp:v1', 'sc-ppp:v9')),
    /its version "sc-ppp:v9" is not sc-ppp:v1/,
  ],
  [
    'an Update that drops OWNER with a made-up prior in another partition',
    updateWith(genuine.replace('iam:user/alice', 'arn:aws-cn:iam::123456789012:user/mallory'), 'pp-target', {}),
    /./,
  ],
];

test.each(cases)('%s: fails clearly, bounded, and writes nothing', async (_, input, message) => {
  const writesBefore = fake.callsOf('UpdateProvisionedProductProperties').length;
  const error = await handler.onEvent(input as Handler.CustomResourceEvent).then(
    () => undefined,
    (e: unknown) => e as Error,
  );
  expect(error).toBeInstanceOf(Error);
  expect(error?.message).toMatch(message);
  expect(error?.message.length).toBeLessThanOrEqual(MAX_REASON_CHARACTERS + 120);
  expect(fake.callsOf('UpdateProvisionedProductProperties').length).toBe(writesBefore);
  expect(fake.product('pp-target')).toMatchObject({ owner: ALICE, launchRole: LAUNCH_A });
  expect(fake.product('pp-other')).toMatchObject({ owner: ALICE, launchRole: LAUNCH_A });
});

test('isComplete given null fails clearly instead of with a TypeError', async () => {
  await expect(handler.isComplete(null as unknown as Handler.IsCompleteEvent)).rejects.toThrow(/isComplete was invoked with null/);
});

test('the ids these cases start from are the ones a real Create writes', () => {
  expect(encodePhysicalId({ productId: 'pp-target', priorOwnerArn: ALICE, priorLaunchRoleArn: LAUNCH_A })).toBe(genuine);
});

test('a genuine id with its own product still restores (the checks let the real lifecycle through)', async () => {
  fake.addProduct({ id: 'pp-genuine', owner: ADMIN, launchRole: LAUNCH_B, account: ACCOUNT });
  const id = encodePhysicalId({ productId: 'pp-genuine', priorOwnerArn: ALICE, priorLaunchRoleArn: LAUNCH_A });
  const e = event('Delete', { id: 'pp-genuine', owner: ADMIN, launchRole: LAUNCH_B }, { physicalId: id });
  const planned = await handler.onEvent(e);
  for (let i = 0; i < 200 && !(await handler.isComplete({ ...e, ...planned })).IsComplete; i++);
  expect(fake.product('pp-genuine')).toMatchObject({ owner: ALICE, launchRole: LAUNCH_A });
});

test('a rollback of a failed replacement (the old id, the old product as the new properties) is let through', async () => {
  fake.addProduct({ id: 'pp-rollback', owner: ADMIN, launchRole: LAUNCH_B, account: ACCOUNT });
  const id = encodePhysicalId({ productId: 'pp-rollback', priorOwnerArn: ALICE, priorLaunchRoleArn: LAUNCH_A });
  // The failed Update asked for pp-other; CloudFormation rolls back to pp-rollback with the id it kept.
  const e = event(
    'Update',
    { id: 'pp-rollback', owner: ADMIN, launchRole: LAUNCH_B },
    { physicalId: id, old: { id: 'pp-other', owner: ADMIN } },
  );
  await expect(handler.onEvent(e)).resolves.toMatchObject({ PhysicalResourceId: id });
});
