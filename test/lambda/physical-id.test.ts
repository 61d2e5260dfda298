import fc from 'fast-check';
import {
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

  test('round-trips, including no launch role and ARNs of another account', () => {
    const cases = [
      fields,
      { ...fields, priorLaunchRoleArn: '' },
      { productId: 'pp-1', priorOwnerArn: '', priorLaunchRoleArn: '' },
      { ...fields, priorLaunchRoleArn: 'arn:aws-cn:iam::999999999999:role/Other' },
      { ...fields, priorOwnerArn: 'arn:aws:iam::123456789012:user/odd|path%7C/x' },
    ];
    for (const c of cases) expect(decodePhysicalId(encodePhysicalId(c))).toEqual(c);
  });

  test('round-trips any IAM-like ARN (property)', () => {
    const pathChar = fc.constantFrom(...'abcXYZ019/_-+=,.@|%:'.split(''));
    const arn = fc
      .tuple(
        fc.constantFrom('aws', 'aws-cn', 'aws-us-gov'),
        fc.stringMatching(/^\d{12}$/),
        fc.constantFrom('iam:role', 'iam:user', 'sts:assumed-role'),
        fc.array(pathChar, { maxLength: 60 }),
      )
      .map(([p, a, kind, chars]) => `arn:${p}:${kind.split(':')[0]}::${a}:${kind.split(':')[1]}/${chars.join('')}`);
    fc.assert(
      fc.property(
        fc.stringMatching(/^[a-zA-Z0-9_-]{1,100}$/),
        fc.oneof(arn, fc.constant('')),
        fc.oneof(arn, fc.constant('')),
        (productId, o, l) => {
          const f = { productId, priorOwnerArn: o, priorLaunchRoleArn: l };
          expect(decodePhysicalId(encodePhysicalId(f))).toEqual(f);
        },
      ),
      { seed: 42, numRuns: 500 },
    );
  });

  test('ids this resource did not write decode to undefined', () => {
    for (const id of [
      undefined,
      '',
      'AWSCDK::CustomResourceProviderFramework::CREATE_FAILED',
      '4f0c-uuid',
      'sc-ppp:v0|pp-1|||',
      'sc-ppp:v1|pp-1',
    ]) {
      expect(decodePhysicalId(id)).toBeUndefined();
    }
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
      /pp-big.*over CloudFormation's limit of 1024.*Nothing was changed/s,
    );
  });
});
