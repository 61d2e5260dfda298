import { InvalidPropertiesError, parseBoolean, parseResourceProperties } from '../lib/resource-properties';
import { checkLaunchRoleArn, checkOwnerArn, checkProductId } from '../lib/rules';

const ROLE = 'arn:aws:iam::123456789012:role/PlatformAdmin';
const PATH_ROLE = 'arn:aws:iam::123456789012:role/service-role/team/Launch';
const USER = 'arn:aws:iam::123456789012:user/alice';
const SESSION = 'arn:aws:sts::123456789012:assumed-role/PlatformAdmin/alice@example.com';

describe('product id rule', () => {
  test.each(['pp-abcd1234efgh5', 'pp_1', 'A'])('accepts %s', (id) => expect(checkProductId(id)).toBeUndefined());
  test.each(['', 'pp abc', 'pp-é', 'x'.repeat(101), 'arn:aws:servicecatalog:x'])('rejects %j and names the value', (id) => {
    expect(checkProductId(id)).toContain(JSON.stringify(id));
  });
});

describe('owner rule', () => {
  test.each([ROLE, PATH_ROLE, USER, SESSION, 'arn:aws-cn:iam::123456789012:user/bob', 'arn:aws-us-gov:iam::123456789012:role/X'])(
    'accepts %s',
    (arn) => expect(checkOwnerArn(arn)).toBeUndefined(),
  );
  test.each([
    'arn:aws:iam::123456789012:group/admins',
    'arn:aws:iam::12345:role/Short',
    'arn:aws:s3:::bucket',
    'PlatformAdmin',
    'arn:aws:iam::123456789012:role/',
  ])('rejects %s with what to pass instead', (arn) => {
    const message = checkOwnerArn(arn);
    expect(message).toContain(JSON.stringify(arn));
    expect(message).toMatch(/Pass an IAM user ARN, an IAM role ARN or an STS assumed-role ARN/);
  });
});

describe('launch role rule', () => {
  test.each([ROLE, PATH_ROLE])('accepts role %s', (arn) => expect(checkLaunchRoleArn(arn)).toBeUndefined());
  test('rejects a user ARN, saying a user is not a role', () => {
    expect(checkLaunchRoleArn(USER)).toMatch(/names a user or a session, not a role/);
  });
  test('rejects an assumed-role session ARN', () => {
    expect(checkLaunchRoleArn(SESSION)).toContain(SESSION);
  });
});

describe('parseResourceProperties (the deploy-time rules)', () => {
  const valid = {
    ServiceToken: 'arn:aws:lambda:us-east-1:123456789012:function:x',
    ProvisionedProductId: 'pp-abcd1234efgh5',
    ProvisionedProductProperties: { OWNER: ROLE, LAUNCH_ROLE: PATH_ROLE },
    AcceptLanguage: 'jp',
    RestoreOnDelete: 'false',
  };

  test('parses the strings CloudFormation delivers', () => {
    expect(parseResourceProperties(valid)).toEqual({
      productId: 'pp-abcd1234efgh5',
      properties: { OWNER: ROLE, LAUNCH_ROLE: PATH_ROLE },
      acceptLanguage: 'jp',
      restoreOnDelete: false,
    });
  });

  test('restoreOnDelete defaults to true and "true" is true, not truthiness', () => {
    const { RestoreOnDelete: _omit, ...rest } = valid;
    expect(parseResourceProperties(rest).restoreOnDelete).toBe(true);
    expect(parseResourceProperties({ ...valid, RestoreOnDelete: 'true' }).restoreOnDelete).toBe(true);
    expect(parseBoolean('false', true)).toBe(false);
    expect(parseBoolean('no', true)).toBeUndefined();
  });

  test('reports every problem at once, each with its value', () => {
    const bad = {
      ProvisionedProductId: 'pp bad',
      ProvisionedProductProperties: { OWNER: 'alice', LAUNCH_ROLE: USER, TAGS: 'x' },
      AcceptLanguage: 'fr',
      RestoreOnDelete: 'yes',
      Extra: '1',
    };
    let error: InvalidPropertiesError | undefined;
    try {
      parseResourceProperties(bad);
    } catch (e) {
      error = e as InvalidPropertiesError;
    }
    expect(error).toBeInstanceOf(InvalidPropertiesError);
    expect(error?.problems).toHaveLength(7);
    for (const value of ['"pp bad"', '"alice"', USER, '"TAGS"', '"fr"', '"yes"', '"Extra"']) expect(error?.message).toContain(value);
  });

  test('an empty map is an error: there is nothing to manage', () => {
    expect(() => parseResourceProperties({ ...valid, ProvisionedProductProperties: {} })).toThrow(/at least one of owner and launchRole/);
  });

  test('owner and launch role in different accounts are rejected', () => {
    expect(() =>
      parseResourceProperties({
        ...valid,
        ProvisionedProductProperties: { OWNER: ROLE, LAUNCH_ROLE: 'arn:aws:iam::210987654321:role/Launch' },
      }),
    ).toThrow(/account 123456789012 but launchRole .* account 210987654321/);
  });
});
