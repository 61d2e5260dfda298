import fc from 'fast-check';
import {
  InvalidPhysicalIdError,
  MAX_PHYSICAL_ID_BYTES,
  PHYSICAL_ID_PREFIX,
  PhysicalIdTooLongError,
  decodePhysicalId,
  encodePhysicalId,
} from '../../lambda/physical-id';

const fields = {
  productId: 'pp-abcd1234efgh5',
  priorOwnerArn: 'arn:aws:sts::123456789012:assumed-role/Dev/alice',
  priorLaunchRoleArn: 'arn:aws:iam::123456789012:role/service-role/Launch',
};

describe('physical id', () => {
  test('is versioned and readable, with ARNs shortened to the account', () => {
    expect(encodePhysicalId(fields)).toBe(
      `${PHYSICAL_ID_PREFIX}|pp-abcd1234efgh5|aws|123456789012|sts:assumed-role/Dev/alice|iam:role/service-role/Launch`,
    );
  });

  test('round-trips, including no launch role, no priors, a root owner, another partition and | or % in an IAM path', () => {
    const cases = [
      fields,
      { ...fields, priorLaunchRoleArn: '' },
      { ...fields, priorOwnerArn: '' },
      { productId: 'pp-1', priorOwnerArn: '', priorLaunchRoleArn: '' },
      { ...fields, priorOwnerArn: 'arn:aws:iam::123456789012:root' },
      {
        productId: 'pp-cn',
        priorOwnerArn: 'arn:aws-cn:iam::999999999999:user/bob',
        priorLaunchRoleArn: 'arn:aws-cn:iam::999999999999:role/Other',
      },
      { ...fields, priorOwnerArn: 'arn:aws:iam::123456789012:user/odd|path%7C/x' },
    ];
    for (const c of cases) expect(decodePhysicalId(encodePhysicalId(c))).toEqual(c);
  });

  test('priors no product can have are refused before anything is written', () => {
    for (const bad of [
      { ...fields, priorLaunchRoleArn: 'arn:aws-cn:iam::123456789012:role/Other' },
      { ...fields, priorLaunchRoleArn: 'arn:aws:iam::999999999999:role/Other' },
      { ...fields, priorLaunchRoleArn: 'arn:aws:iam::123456789012:user/alice' },
      { ...fields, priorOwnerArn: 'arn:aws:s3:::bucket' },
      { ...fields, productId: 'pp|1' },
      { ...fields, productId: '' },
    ]) {
      expect(() => encodePhysicalId(bad)).toThrow(InvalidPhysicalIdError);
      expect(() => encodePhysicalId(bad)).toThrow(
        /^Cannot record the prior values of provisioned product .*\. Nothing was changed\. Check the product with `aws servicecatalog describe-provisioned-product`/,
      );
    }
  });

  test('round-trips any IAM-like ARN (property)', () => {
    // IAM paths are printable ASCII between slashes, | and % included.
    const pathChar = fc.constantFrom(...'abcXYZ019/_-+=,.@|%:'.split(''));
    const home = fc.tuple(fc.constantFrom('aws', 'aws-cn', 'aws-us-gov'), fc.stringMatching(/^\d{12}$/));
    const iamPath = fc.array(pathChar, { maxLength: 60 }).map((chars) => (chars.length ? `/${chars.join('')}/` : '/'));
    fc.assert(
      fc.property(
        fc.stringMatching(/^[a-zA-Z0-9_-]{1,100}$/),
        home,
        fc.constantFrom('', 'user', 'role', 'assumed-role'),
        iamPath,
        fc.option(iamPath),
        (productId, [p, a], ownerKind, ownerPath, rolePath) => {
          const owner =
            ownerKind === ''
              ? ''
              : ownerKind === 'assumed-role'
                ? `arn:${p}:sts::${a}:assumed-role/R/session`
                : `arn:${p}:iam::${a}:${ownerKind}${ownerPath}Name`;
          const f = {
            productId,
            priorOwnerArn: owner,
            priorLaunchRoleArn: rolePath === null ? '' : `arn:${p}:iam::${a}:role${rolePath}Launch`,
          };
          expect(decodePhysicalId(encodePhysicalId(f))).toEqual(f);
        },
      ),
      { seed: 42, numRuns: 500 },
    );
  });

  test('ids this resource plainly did not write decode to undefined', () => {
    for (const id of [undefined, '', 'AWSCDK::CustomResourceProviderFramework::CREATE_FAILED', '4f0c-uuid', 'pp-alpha']) {
      expect(decodePhysicalId(id)).toBeUndefined();
    }
  });

  // What encodePhysicalId(fields) gives (pinned by the first test).
  const valid = `${PHYSICAL_ID_PREFIX}|pp-abcd1234efgh5|aws|123456789012|sts:assumed-role/Dev/alice|iam:role/service-role/Launch`;
  test.each([
    ['another version', 'sc-ppp:v2|pp-1|aws|123456789012|iam:user/a|', /its version "sc-ppp:v2" is not sc-ppp:v1/],
    ['another version with v1 fields', valid.replace('sc-ppp:v1', 'sc-ppp:v0'), /its version "sc-ppp:v0"/],
    ['too few fields', 'sc-ppp:v1|pp-1', /it has 2 fields, not 6/],
    ['too many fields', `${valid}|extra`, /it has 7 fields, not 6/],
    ['an empty product', 'sc-ppp:v1||aws|123456789012|iam:user/a|', /product id "" is not a provisioned product id/],
    ['an escaped | in the product', 'sc-ppp:v1|pp%7C1|aws|123456789012|iam:user/a|', /product id "pp\|1"/],
    ['a foreign partition in a full ARN', 'sc-ppp:v1|pp-1|aws|123456789012|arn:aws-cn:iam::123456789012:user/a|', /prior owner/],
    ['a foreign account in a full ARN', 'sc-ppp:v1|pp-1|aws|123456789012|arn:aws:iam::999999999999:user/a|', /prior owner/],
    ['an owner that is no principal', 'sc-ppp:v1|pp-1|aws|123456789012|s3:bucket/x|', /prior owner .* is not an IAM user/],
    ['a user as launch role', 'sc-ppp:v1|pp-1|aws|123456789012|iam:user/a|iam:user/b', /prior launch role .* is not an IAM role ARN/],
    ['a garbage partition', 'sc-ppp:v1|pp-1|aws;rm|123456789012|iam:user/a|', /partition "aws;rm" and account "123456789012" are not/],
    ['a partition with a suffix', 'sc-ppp:v1|pp-1|awsx|123456789012|iam:user/a|', /partition "awsx" and account/],
    ['a partition with a prefix', 'sc-ppp:v1|pp-1|xaws|123456789012|iam:user/a|', /partition "xaws" and account/],
    ['an empty partition with an ARN', 'sc-ppp:v1|pp-1||123456789012|iam:user/a|', /partition "" and account "123456789012"/],
    ['an account without a partition', 'sc-ppp:v1|pp-1|aws||iam:user/a|', /partition "aws" and account ""/],
    ['a short account', 'sc-ppp:v1|pp-1|aws|12345|iam:user/a|', /account "12345" are not/],
    ['a long account', 'sc-ppp:v1|pp-1|aws|1234567890123|iam:user/a|', /account "1234567890123" are not/],
    ['a lettered account', 'sc-ppp:v1|pp-1|aws|x123456789012|iam:user/a|', /account "x123456789012" are not/],
    ['a 5 KB owner', `sc-ppp:v1|pp-1|aws|123456789012|iam:user/${'a'.repeat(5000)}|`, /it is over 1024 bytes/],
    ['a non-canonical escape', valid.replace('service-role', 'service%2Drole'), /not in the exact form/],
    ['an unescaped field form', valid.replace('|aws|', '|%61ws|'), /partition "%61ws"/],
  ])('an id with our prefix but %s is refused, naming the id (bounded), why, and writing nothing', (_, id, why) => {
    expect(() => decodePhysicalId(id)).toThrow(InvalidPhysicalIdError);
    try {
      decodePhysicalId(id);
    } catch (e) {
      expect((e as Error).name).toBe('InvalidPhysicalIdError');
      expect((e as Error).message).toMatch(/has this resource's prefix but is not one it wrote: .*Nothing was written/);
      expect((e as Error).message).toMatch(
        /A CloudFormation lifecycle never produces such an id; if the stack was edited by hand, remove the resource/,
      );
      expect((e as Error).message).toMatch(why);
      expect((e as Error).message.length).toBeLessThan(1000);
    }
  });

  test('an id just under 1 KB whose exact form would be over it is refused, not crashed on', () => {
    // A raw % (not %25) decodes as itself, and the exact form escapes it to three bytes.
    const id = `${PHYSICAL_ID_PREFIX}|pp-1|aws|123456789012|iam:user/%%${'p/'.repeat(240)}x|iam:role/${'r/'.repeat(244)}R`;
    expect(Buffer.byteLength(id)).toBe(MAX_PHYSICAL_ID_BYTES - 1);
    expect(Buffer.byteLength(id)).toBeLessThanOrEqual(MAX_PHYSICAL_ID_BYTES);
    expect(() => decodePhysicalId(id)).toThrow(/is not one it wrote: Cannot record the prior owner .* over CloudFormation's limit of 1024/);
  });

  test('an id of another resource that merely starts like ours is not ours', () => {
    expect(decodePhysicalId('sc-pp-v1|pp-1')).toBeUndefined();
    expect(decodePhysicalId('x-sc-ppp:v1|pp-1|aws|123456789012|iam:user/a|')).toBeUndefined();
    expect(() => decodePhysicalId('sc-ppp:|pp-1')).toThrow(InvalidPhysicalIdError);
  });

  test('a root owner is recorded like any other; past 1,024 characters it is refused', () => {
    const root = (partition: string) => `arn:${partition}:iam::123456789012:root`;
    const ok = { productId: 'pp-1', priorOwnerArn: root('aws'), priorLaunchRoleArn: '' };
    expect(encodePhysicalId(ok)).toBe(`${PHYSICAL_ID_PREFIX}|pp-1|aws|123456789012|iam:root|`);
    const long = root(`aws-${'a'.repeat(1024 - root('aws-').length + 1)}`);
    expect(long).toHaveLength(1025);
    expect(() => encodePhysicalId({ ...ok, priorOwnerArn: long })).toThrow(
      /prior owner .* is not an IAM user, IAM role, STS assumed-role or account root ARN/,
    );
  });

  test('an owner with no launch role is written short, in its partition and account', () => {
    expect(encodePhysicalId({ productId: 'pp-1', priorOwnerArn: 'arn:aws-cn:iam::999999999999:user/bob', priorLaunchRoleArn: '' })).toBe(
      `${PHYSICAL_ID_PREFIX}|pp-1|aws-cn|999999999999|iam:user/bob|`,
    );
    expect(encodePhysicalId({ productId: 'pp-1', priorOwnerArn: '', priorLaunchRoleArn: 'arn:aws:iam::999999999999:role/L' })).toBe(
      `${PHYSICAL_ID_PREFIX}|pp-1|aws|999999999999||iam:role/L`,
    );
    expect(encodePhysicalId({ productId: 'pp-1', priorOwnerArn: '', priorLaunchRoleArn: '' })).toBe(`${PHYSICAL_ID_PREFIX}|pp-1||||`);
  });

  test('exactly 1024 bytes is accepted, 1025 is not', () => {
    // Two role ARNs whose paths share k extra characters: the id grows by exactly one byte per k.
    const role = (pathLength: number) => `arn:aws:iam::123456789012:role/${'p'.repeat(pathLength)}/N`;
    const withExtra = (k: number) => ({
      productId: 'x'.repeat(100),
      priorOwnerArn: role(1 + Math.min(k, 500)),
      priorLaunchRoleArn: role(1 + Math.max(0, k - 500)),
    });
    const k = MAX_PHYSICAL_ID_BYTES - Buffer.byteLength(encodePhysicalId(withExtra(0)));
    expect(Buffer.byteLength(encodePhysicalId(withExtra(k)))).toBe(MAX_PHYSICAL_ID_BYTES);
    expect(decodePhysicalId(encodePhysicalId(withExtra(k)))).toEqual(withExtra(k));
    expect(() => encodePhysicalId(withExtra(k + 1))).toThrow(PhysicalIdTooLongError);
  });

  test('two maximal ARNs fit within 1 KB when they share the account', () => {
    const longRole = `arn:aws:iam::123456789012:role/${'p/'.repeat(200)}${'n'.repeat(64)}`;
    const id = encodePhysicalId({
      productId: 'x'.repeat(100),
      priorOwnerArn: longRole,
      priorLaunchRoleArn: `arn:aws:iam::123456789012:role/${'n'.repeat(64)}`,
    });
    expect(Buffer.byteLength(id)).toBeLessThanOrEqual(MAX_PHYSICAL_ID_BYTES);
  });

  test('past 1 KB it fails with a message naming the product and the values', () => {
    const huge = `arn:aws:iam::123456789012:role/${'p/'.repeat(250)}Name`;
    expect(() => encodePhysicalId({ productId: 'pp-big', priorOwnerArn: huge, priorLaunchRoleArn: huge })).toThrow(PhysicalIdTooLongError);
    expect(() => encodePhysicalId({ productId: 'pp-big', priorOwnerArn: huge, priorLaunchRoleArn: huge })).toThrow(
      /^Cannot record the prior owner "arn:aws:iam::123456789012:role\/p\/p.* and launch role "arn:aws:iam::123456789012:role\/p.* of provisioned product pp-big: together they need 1061 bytes of PhysicalResourceId, over CloudFormation's limit of 1024.*Nothing was changed/s,
    );
    try {
      encodePhysicalId({ productId: 'pp-big', priorOwnerArn: huge, priorLaunchRoleArn: huge });
    } catch (e) {
      expect((e as Error).name).toBe('PhysicalIdTooLongError');
    }
  });
});

test('as a fresh container loads it: the v1 prefix, the 1 KB limit, a root owner, and ids of other versions', () => {
  // What the module builds when it loads, tested as such (so that mutation testing can change it).
  let m: typeof import('../../lambda/physical-id') | undefined;
  jest.isolateModules(() => {
    m = jest.requireActual<typeof import('../../lambda/physical-id')>('../../lambda/physical-id');
  });
  const { encodePhysicalId: encode, decodePhysicalId: decode, PHYSICAL_ID_PREFIX: prefix, MAX_PHYSICAL_ID_BYTES: max } = m!;
  expect(prefix).toBe('sc-ppp:v1');
  expect(max).toBe(1024);
  const root = { productId: 'pp-1', priorOwnerArn: 'arn:aws:iam::123456789012:root', priorLaunchRoleArn: '' };
  expect(encode(root)).toBe('sc-ppp:v1|pp-1|aws|123456789012|iam:root|');
  expect(decode('sc-ppp:v1|pp-1|aws|123456789012|iam:root|')).toEqual(root);
  expect(() => encode({ ...root, priorOwnerArn: 'arn:aws:iam::123456789012:rooty' })).toThrow(/prior owner/);
  expect(() => encode({ ...root, priorOwnerArn: 'arn:aws:iam::123456789012:root/x' })).toThrow(/prior owner/);
  expect(() => encode({ ...root, priorOwnerArn: 'arn:aws:iam::12345678901:root' })).toThrow(/prior owner/);
  expect(() => encode({ ...root, priorOwnerArn: 'arn:aws:iam::123456789012:rOOT' })).toThrow(/prior owner/);
  expect(() => encode({ ...root, priorOwnerArn: 'xarn:aws:iam::123456789012:root' })).toThrow(/prior owner/);
  expect(() => encode({ ...root, priorOwnerArn: 'arn:AWS:iam::123456789012:root' })).toThrow(/prior owner/);
  expect(() => decode('sc-ppp:v2|pp-1|||')).toThrow(/its version "sc-ppp:v2" is not sc-ppp:v1/);
  expect(decode('sc-pp:v1|pp-1|||')).toBeUndefined();
  const role = (name: string) => `arn:aws:iam::123456789012:role/${'p/'.repeat(217)}${name}`;
  const id = (name: string) => ({ productId: 'x'.repeat(100), priorOwnerArn: role('N'), priorLaunchRoleArn: role(name) });
  expect(Buffer.byteLength(encode(id('N')))).toBe(1017);
  expect(Buffer.byteLength(encode(id('NNNNNNNN')))).toBe(1024);
  expect(() => encode(id('NNNNNNNNN'))).toThrow(/over CloudFormation's limit of 1024/);
});
