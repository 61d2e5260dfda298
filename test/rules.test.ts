import { InvalidPropertiesError, parseBoolean, parseResourceProperties, readLeniently } from '../lambda/resource-properties';
import {
  checkAcceptLanguage,
  checkDeclaredValues,
  checkHome,
  checkLaunchRoleArn,
  checkOwnerArn,
  checkProductId,
  checkSameHome,
  homeOf,
  show,
} from '../lib/rules';

const ROLE = 'arn:aws:iam::123456789012:role/PlatformAdmin';
const PATH_ROLE = 'arn:aws:iam::123456789012:role/service-role/team/Launch';
const USER = 'arn:aws:iam::123456789012:user/alice';
const SESSION = 'arn:aws:sts::123456789012:assumed-role/PlatformAdmin/alice@example.com';

describe('product id rule', () => {
  test.each(['pp-abcd1234efgh5', 'pp_1', 'A'])('accepts %s', (id) => expect(checkProductId(id)).toBeUndefined());
  test.each(['', 'pp abc', 'pp-é', 'x'.repeat(101), 'arn:aws:servicecatalog:x'])('rejects %j and names the value', (id) => {
    expect(checkProductId(id)).toContain(JSON.stringify(id));
  });
  test('says what a product id is and where to find one', () => {
    expect(checkProductId('pp abc')).toBe(
      `provisionedProductId "pp abc" is not a provisioned product id: it must be 1-100 characters of letters, digits, '_' and '-'. Pass the id of an existing provisioned product (pp-...), as shown by \`aws servicecatalog search-provisioned-products\`.`,
    );
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

describe('ARN rules at their edges', () => {
  const ACCOUNT = '123456789012';
  /** An owner ARN of exactly `length` characters (a long partition name is the only way past IAM's own limits). */
  const ownerOfLength = (length: number) => {
    const rest = `:iam::${ACCOUNT}:user/x`;
    return `arn:aws-${'a'.repeat(length - 'arn:aws-'.length - rest.length)}${rest}`;
  };

  test('an owner of 1,024 characters is accepted, one of 1,025 is refused saying how long it is', () => {
    expect(ownerOfLength(1024)).toHaveLength(1024);
    expect(checkOwnerArn(ownerOfLength(1024))).toBeUndefined();
    expect(checkOwnerArn(ownerOfLength(1025))).toMatch(/\(and at 1025 characters it is over the 1024 Service Catalog allows\)/);
    const role = ownerOfLength(1025).replace(':user/', ':role/');
    expect(checkLaunchRoleArn(role)).toMatch(/at 1025 characters/);
    expect(checkLaunchRoleArn(role.replace('aws-a', 'aws-'))).toBeUndefined();
  });

  test.each([
    [`arn:aws:iam::${ACCOUNT}:role/${'n'.repeat(64)}`, true],
    [`arn:aws:iam::${ACCOUNT}:role/${'n'.repeat(65)}`, false],
    [`arn:aws:iam::${ACCOUNT}:role/a/b/c/Name`, true],
    [`arn:aws:iam::${ACCOUNT}:role//Name`, true],
    [`arn:aws:iam::${ACCOUNT}:role/path with space/Name`, false],
    [`arn:aws:iam::${ACCOUNT}:role/Name/`, false],
    [`arn:aws:iam::${ACCOUNT}:role/Na me`, false],
    [`xarn:aws:iam::${ACCOUNT}:role/Name`, false],
    [`arn:aws:iam::${ACCOUNT}:role/Name x`, false],
    [`arn:aws:iam::1234567890123:role/Name`, false],
    [`arn:aws:iam:us-east-1:${ACCOUNT}:role/Name`, false],
    [`arn:aws-:iam::${ACCOUNT}:role/Name`, false],
    [`arn:aws-us-gov:iam::${ACCOUNT}:role/Name`, true],
    [`arn:azure:iam::${ACCOUNT}:role/Name`, false],
  ])('role ARN %s: valid %s', (arn, valid) => {
    expect(checkLaunchRoleArn(arn) === undefined).toBe(valid);
    expect(checkOwnerArn(arn) === undefined).toBe(valid);
  });

  test.each([
    [`arn:aws:sts::${ACCOUNT}:assumed-role/Dev/alice`, true],
    [`arn:aws:sts::${ACCOUNT}:assumed-role/Dev/a`, false],
    [`arn:aws:sts::${ACCOUNT}:assumed-role/Dev/${'s'.repeat(64)}`, true],
    [`arn:aws:sts::${ACCOUNT}:assumed-role/Dev/${'s'.repeat(65)}`, false],
    [`arn:aws:sts::${ACCOUNT}:assumed-role/path/Dev/alice`, false],
    [`arn:aws:iam::${ACCOUNT}:assumed-role/Dev/alice`, false],
    [`arn:aws:sts::${ACCOUNT}:federated-user/alice`, false],
    [`arn:aws:iam::${ACCOUNT}:user/team/alice`, true],
    [`arn:aws:iam::${ACCOUNT}:user/${'u'.repeat(65)}`, false],
    [`arn:aws:iam::${ACCOUNT}:root`, false],
  ])('owner ARN %s: valid %s', (arn, valid) => {
    expect(checkOwnerArn(arn) === undefined).toBe(valid);
  });

  test('a session or a user as launch role is refused with a hint; other non-roles without one', () => {
    expect(checkLaunchRoleArn(`arn:aws:sts::${ACCOUNT}:assumed-role/Dev/alice`)).toMatch(/names a user or a session, not a role/);
    expect(checkLaunchRoleArn(`arn:aws:iam::${ACCOUNT}:group/g`)).toBe(
      `launchRole "arn:aws:iam::${ACCOUNT}:group/g" is not an IAM role ARN. Pass an IAM role ARN (a user ARN is not valid for LAUNCH_ROLE).`,
    );
    expect(checkOwnerArn('bad')).toBe(
      'owner "bad" is not an IAM user, IAM role or STS assumed-role ARN. Pass an IAM user ARN, an IAM role ARN or an STS assumed-role ARN in the account of the product.',
    );
    // An invalid value of exactly 1,024 characters is not said to be too long.
    const group = `arn:aws:iam::${ACCOUNT}:group/${'g'.repeat(1024 - `arn:aws:iam::${ACCOUNT}:group/`.length)}`;
    expect(group).toHaveLength(1024);
    expect(checkOwnerArn(group)).not.toContain('characters it is over');
    expect(checkLaunchRoleArn(`arn:aws:iam::${ACCOUNT}:group/g`)).toMatch(
      /Pass an IAM role ARN \(a user ARN is not valid for LAUNCH_ROLE\)/,
    );
  });

  test('AcceptLanguage is one of en, jp, zh', () => {
    for (const code of ['en', 'jp', 'zh']) expect(checkAcceptLanguage(code)).toBeUndefined();
    expect(checkAcceptLanguage('EN')).toMatch(/acceptLanguage "EN" is not a language code Service Catalog accepts\. Use one of en, jp, zh/);
  });
});

describe('where a principal lives', () => {
  test('homeOf reads the partition and account of any ARN, and nothing else', () => {
    expect(homeOf('arn:aws-cn:iam::123456789012:role/X')).toEqual({ partition: 'aws-cn', account: '123456789012' });
    expect(homeOf('arn:aws:servicecatalog:us-east-1:123456789012:stack/p/pp-1')).toEqual({ partition: 'aws', account: '123456789012' });
    for (const notOne of ['', 'arn:aws:s3:::bucket', 'arn:aws:iam::12345:role/X', 'xarn:aws:iam::123456789012:role/X', 'role/X']) {
      expect(homeOf(notOne)).toBeUndefined();
    }
  });

  test('checkHome names the key, the value and both homes; partition first, and unknown parts are not compared', () => {
    const values = { OWNER: 'arn:aws-cn:iam::999999999999:role/A', LAUNCH_ROLE: 'arn:aws:iam::999999999999:role/L' };
    expect(checkHome(values, { partition: 'aws', account: '123456789012' }, 'the stack')).toEqual([
      expect.stringMatching(
        /^OWNER "arn:aws-cn:iam::999999999999:role\/A" is in partition aws-cn, but the stack is in partition aws\. Service Catalog accepts only/,
      ),
      expect.stringMatching(
        /^LAUNCH_ROLE "arn:aws:iam::999999999999:role\/L" is in account 999999999999, but the stack is in account 123456789012\./,
      ),
    ]);
    expect(checkHome(values, {}, 'the stack')).toEqual([]);
    expect(checkHome(values, { partition: 'aws-cn' }, 'the stack')).toEqual([expect.stringMatching(/^LAUNCH_ROLE .* partition aws, but/)]);
    expect(checkHome({ OWNER: 'not-an-arn' }, { partition: 'aws', account: '123456789012' }, 'x')).toEqual([]);
    expect(checkHome({ OWNER: 'arn:aws:iam::123456789012:role/A' }, { partition: 'aws', account: '123456789012' }, 'x')).toEqual([]);
  });

  test('checkSameHome names the partition or the account that differs, or nothing', () => {
    const role = (partition: string, account: string) => `arn:${partition}:iam::${account}:role/R`;
    expect(checkSameHome(role('aws', '111111111111'), role('aws', '111111111111'))).toBeUndefined();
    expect(checkSameHome(role('aws', '111111111111'), role('aws-cn', '111111111111'))).toMatch(
      /^owner "arn:aws:iam::111111111111:role\/R" is in partition aws but launchRole "arn:aws-cn:iam::111111111111:role\/R" is in partition aws-cn\./,
    );
    expect(checkSameHome(role('aws', '111111111111'), role('aws', '222222222222'))).toMatch(
      /is in account 111111111111 but launchRole .* is in account 222222222222\./,
    );
    expect(checkSameHome('not-an-arn', role('aws', '222222222222'))).toBeUndefined();
    expect(checkSameHome(role('aws', '222222222222'), 'not-an-arn')).toBeUndefined();
  });
});

describe('values in messages', () => {
  test('a string is quoted; other values are JSON; past 160 characters the value is cut and its length said', () => {
    expect(show('pp-1')).toBe('"pp-1"');
    expect(show(42)).toBe('42');
    expect(show({ a: 1 })).toBe('{"a":1}');
    expect(show(undefined)).toBe('undefined');
    expect(show('x'.repeat(160))).toBe(JSON.stringify('x'.repeat(160)));
    expect(show('x'.repeat(161))).toBe(`${JSON.stringify('x'.repeat(160))}... (161 characters in all)`);
    expect(show(['y'.repeat(200)])).toMatch(/^"\[\\"y{158}"\.\.\. \(204 characters in all\)$/);
  });
});

describe('every declared value, checked together', () => {
  const ROLE_B = 'arn:aws:iam::210987654321:role/Launch';
  test('each present value is checked; absent ones are not', () => {
    expect(checkDeclaredValues({})).toEqual([]);
    expect(checkDeclaredValues({ productId: 'pp-1', owner: ROLE, launchRole: PATH_ROLE, acceptLanguage: 'jp' })).toEqual([]);
    expect(checkDeclaredValues({ productId: 'bad id' })).toEqual([expect.stringContaining('provisionedProductId "bad id"')]);
    expect(checkDeclaredValues({ owner: 'bad' })).toEqual([expect.stringContaining('owner "bad"')]);
    expect(checkDeclaredValues({ launchRole: 'bad' })).toEqual([expect.stringContaining('launchRole "bad"')]);
    expect(checkDeclaredValues({ acceptLanguage: 'fr' })).toEqual([expect.stringContaining('acceptLanguage "fr"')]);
  });

  test('owner and launch role must share a home, checked only once each is valid', () => {
    expect(checkDeclaredValues({ owner: ROLE, launchRole: ROLE_B })).toEqual([
      expect.stringMatching(/account 123456789012 but launchRole/),
    ]);
    expect(checkDeclaredValues({ owner: ROLE, launchRole: USER })).toHaveLength(1);
    expect(checkDeclaredValues({ productId: 'bad id', owner: ROLE, launchRole: ROLE_B })).toHaveLength(1);
  });
});

describe('parseResourceProperties, value by value', () => {
  const base = { ProvisionedProductId: 'pp-1', ProvisionedProductProperties: { OWNER: ROLE } };
  const problemsOf = (raw: Record<string, unknown> | undefined) => {
    try {
      parseResourceProperties(raw);
      return [];
    } catch (e) {
      return [...(e as InvalidPropertiesError).problems];
    }
  };

  test('the properties CloudFormation delivers for a minimal resource parse, with the defaults', () => {
    expect(parseResourceProperties({ ServiceToken: 'arn:x', ...base })).toEqual({
      productId: 'pp-1',
      properties: { OWNER: ROLE },
      acceptLanguage: undefined,
      restoreOnDelete: true,
    });
  });

  test.each([
    ['no properties at all', undefined, [/ProvisionedProductId is missing or not a string \(got undefined\)/, /must be a map/]],
    ['a missing product id', { ProvisionedProductProperties: { OWNER: ROLE } }, [/ProvisionedProductId is missing or not a string/]],
    ['a product id that is a list', { ...base, ProvisionedProductId: ['pp-1'] }, [/not a string \(got \["pp-1"\]\)/]],
    ['a product id that is an object', { ...base, ProvisionedProductId: { id: 'pp-1' } }, [/not a string \(got \{"id":"pp-1"\}\)/]],
    [
      'a map that is a string',
      { ...base, ProvisionedProductProperties: 'OWNER' },
      [/ProvisionedProductProperties must be a map with OWNER and\/or LAUNCH_ROLE \(got "OWNER"\)/],
    ],
    ['a map that is a list', { ...base, ProvisionedProductProperties: [ROLE] }, [/must be a map/]],
    ['a map that is null', { ...base, ProvisionedProductProperties: null }, [/must be a map .*\(got null\)/]],
    ['no map', { ProvisionedProductId: 'pp-1' }, [/must be a map .*\(got undefined\)/]],
    ['an empty map', { ...base, ProvisionedProductProperties: {} }, [/set at least one of owner and launchRole/]],
    ['an OWNER that is a number', { ...base, ProvisionedProductProperties: { OWNER: 7 } }, [/^OWNER must be an ARN string \(got 7\)\.$/]],
    [
      'a LAUNCH_ROLE that is null',
      { ...base, ProvisionedProductProperties: { LAUNCH_ROLE: null } },
      [/^LAUNCH_ROLE must be an ARN string \(got null\)/],
    ],
    [
      'an unknown key',
      { ...base, ProvisionedProductProperties: { OWNER: ROLE, Owner: ROLE } },
      [/unknown ProvisionedProductProperties key "Owner"; only OWNER and LAUNCH_ROLE can be managed/],
    ],
    ['an AcceptLanguage that is a boolean', { ...base, AcceptLanguage: true }, [/AcceptLanguage must be a string \(got true\)/]],
    ['a RestoreOnDelete that is a number', { ...base, RestoreOnDelete: 1 }, [/^RestoreOnDelete 1 is not a boolean\. Use true or false\.$/]],
    [
      'an unknown property',
      { ...base, Tags: [] },
      [
        /^unknown resource property "Tags"; known ones are ServiceToken, ProvisionedProductId, ProvisionedProductProperties, AcceptLanguage, RestoreOnDelete\.$/,
      ],
    ],
  ])('%s is refused, saying what was wrong', (_, raw, expected) => {
    const problems = problemsOf(raw);
    expect(problems).toHaveLength(expected.length);
    expected.forEach((pattern, i) => expect(problems[i]).toMatch(pattern));
  });

  test('an empty AcceptLanguage is no AcceptLanguage', () => {
    expect(parseResourceProperties({ ...base, AcceptLanguage: '' }).acceptLanguage).toBeUndefined();
  });

  test.each([
    ['', true],
    [null, true],
    [undefined, true],
    ['true', true],
    [true, true],
    ['false', false],
    [false, false],
  ])('RestoreOnDelete %j means %s', (value, restore) => {
    expect(parseResourceProperties({ ...base, RestoreOnDelete: value }).restoreOnDelete).toBe(restore);
  });

  test.each([['TRUE'], ['False'], ['no'], [0], [{}]])('RestoreOnDelete %j is refused', (value) => {
    expect(problemsOf({ ...base, RestoreOnDelete: value })).toEqual([expect.stringContaining('is not a boolean')]);
  });

  test('one problem reads as a sentence; many are counted, and past eight the rest are summed up', () => {
    expect(() => parseResourceProperties({ ...base, AcceptLanguage: 'fr' })).toThrow(
      /^Invalid ProvisionedProductProperties: acceptLanguage "fr"/,
    );
    const nine = Object.fromEntries(Array.from({ length: 9 }, (_, i) => [`K${i}`, 'x']));
    const error = (() => {
      try {
        parseResourceProperties({ ...base, ProvisionedProductProperties: { OWNER: ROLE, ...nine } });
        return undefined;
      } catch (e) {
        return e as InvalidPropertiesError;
      }
    })();
    expect(error?.name).toBe('InvalidPropertiesError');
    expect(error?.message).toMatch(/^Invalid ProvisionedProductProperties \(9 problems\): unknown ProvisionedProductProperties key "K0"/);
    expect(error?.message).toMatch(/key "K7";[^|]*\| \.\.\.and 1 more$/);
    expect(error?.message).not.toContain('"K8"');
    expect(error?.message).toContain('"K0"; only OWNER and LAUNCH_ROLE can be managed. | unknown ProvisionedProductProperties key "K1"');
    const eight = Object.fromEntries(Array.from({ length: 8 }, (_, i) => [`K${i}`, 'x']));
    expect(() => parseResourceProperties({ ...base, ProvisionedProductProperties: { OWNER: ROLE, ...eight } })).toThrow(
      /^Invalid ProvisionedProductProperties \(8 problems\): .*"K7"; only OWNER and LAUNCH_ROLE can be managed\.$/,
    );
  });
});

describe("readLeniently (Delete, and an Update's old properties): never refuses", () => {
  test('reads what it can and defaults the rest', () => {
    expect(readLeniently(undefined)).toEqual({
      productId: undefined,
      managedKeys: [],
      values: {},
      acceptLanguage: undefined,
      restoreOnDelete: true,
    });
    expect(
      readLeniently({
        ProvisionedProductId: 'pp-1',
        ProvisionedProductProperties: { LAUNCH_ROLE: 'x', OWNER: 'y' },
        AcceptLanguage: 'zh',
        RestoreOnDelete: 'false',
      }),
    ).toEqual({
      productId: 'pp-1',
      managedKeys: ['OWNER', 'LAUNCH_ROLE'],
      values: { OWNER: 'y', LAUNCH_ROLE: 'x' },
      acceptLanguage: 'zh',
      restoreOnDelete: false,
    });
  });

  test('values of the wrong kind are ignored, and anything but a plain "false" restores', () => {
    expect(
      readLeniently({
        ProvisionedProductId: 7,
        ProvisionedProductProperties: { OWNER: 1, LAUNCH_ROLE: 'x' },
        AcceptLanguage: '',
        RestoreOnDelete: 'nope',
      }),
    ).toEqual({
      productId: undefined,
      managedKeys: ['LAUNCH_ROLE'],
      values: { LAUNCH_ROLE: 'x' },
      acceptLanguage: undefined,
      restoreOnDelete: true,
    });
    expect(readLeniently({ ProvisionedProductProperties: 'OWNER', AcceptLanguage: 5, RestoreOnDelete: false })).toEqual({
      productId: undefined,
      managedKeys: [],
      values: {},
      acceptLanguage: undefined,
      restoreOnDelete: false,
    });
    expect(readLeniently({ ProvisionedProductProperties: null }).managedKeys).toEqual([]);
  });
});

describe('the rules as a fresh container loads them', () => {
  // The patterns and messages are built once, when the module loads: these checks load it anew, so
  // that what the load builds is tested as such (and mutation testing can change it).
  const fresh = () => {
    let modules: { rules: typeof import('../lib/rules'); props: typeof import('../lambda/resource-properties') } | undefined;
    jest.isolateModules(() => {
      modules = {
        rules: jest.requireActual<typeof import('../lib/rules')>('../lib/rules'),
        props: jest.requireActual<typeof import('../lambda/resource-properties')>('../lambda/resource-properties'),
      };
    });
    return modules as NonNullable<typeof modules>;
  };

  test('accept what Service Catalog accepts and refuse the rest, with the same messages', () => {
    const { rules, props } = fresh();
    const ok = (arn: string) => rules.checkOwnerArn(arn) === undefined;
    expect(rules.PROPERTY_KEYS).toEqual(['OWNER', 'LAUNCH_ROLE']);
    expect(rules.ACCEPT_LANGUAGES).toEqual(['en', 'jp', 'zh']);
    expect(rules.MAX_PROPERTY_VALUE_LENGTH).toBe(1024);
    expect(rules.MAX_SHOWN_CHARACTERS).toBe(160);
    for (const id of ['pp-abcd1234efgh5', 'A', 'a_b-C', 'x'.repeat(100)]) expect(rules.checkProductId(id)).toBeUndefined();
    for (const id of ['', 'pp abc', 'x'.repeat(101), 'pp-1\n']) expect(rules.checkProductId(id)).toBeDefined();
    for (const arn of [
      ROLE,
      PATH_ROLE,
      USER,
      SESSION,
      'arn:aws-us-gov:iam::123456789012:role/a/b/X',
      `arn:aws:iam::123456789012:role/${'n'.repeat(64)}`,
    ]) {
      expect(ok(arn)).toBe(true);
    }
    for (const arn of [
      'arn:aws:iam::123456789012:group/g',
      'arn:aws:iam::12345678901:role/X',
      'arn:aws:iam::123456789012:role/',
      'arn:aws:iam::123456789012:role/a b',
      `arn:aws:iam::123456789012:role/${'n'.repeat(65)}`,
      'arn:aws:sts::123456789012:assumed-role/R/s',
      `arn:aws:sts::123456789012:assumed-role/R/${'s'.repeat(65)}`,
      'arn:awsx:iam::123456789012:role/X',
      ' arn:aws:iam::123456789012:role/X',
      'arn:aws:iam::123456789012:role/X ',
      'arn:aws:iam::123456789012:role/path/X/',
      'arn:aws:iam::123456789012:role/pa\u0000th/X',
    ]) {
      expect(ok(arn)).toBe(false);
    }
    expect(rules.checkLaunchRoleArn(PATH_ROLE)).toBeUndefined();
    expect(rules.checkLaunchRoleArn(USER)).toMatch(
      /names a user or a session, not a role\. Pass an IAM role ARN \(a user ARN is not valid for LAUNCH_ROLE\)\.$/,
    );
    expect(rules.checkOwnerArn('x')).toMatch(
      /\. Pass an IAM user ARN, an IAM role ARN or an STS assumed-role ARN in the account of the product\.$/,
    );
    expect(rules.checkAcceptLanguage('fr')).toMatch(/\. Use one of en, jp, zh \(AcceptLanguage.ENGLISH, JAPANESE or CHINESE\)\.$/);
    expect(rules.checkSameHome(ROLE, 'arn:aws:iam::210987654321:role/L')).toMatch(
      /\. Service Catalog accepts only principals of the product's own account and partition: use an ARN from there\.$/,
    );
    expect(() => props.parseResourceProperties({ ProvisionedProductId: 'pp-1', ProvisionedProductProperties: {} })).toThrow(
      /^Invalid ProvisionedProductProperties: set at least one of owner and launchRole: there is nothing to manage\.$/,
    );
    expect(() =>
      props.parseResourceProperties({ ProvisionedProductId: 'pp-1', ProvisionedProductProperties: { OWNER: ROLE }, RestoreOnDelete: 'x' }),
    ).toThrow(/RestoreOnDelete "x" is not a boolean\. Use true or false\.$/);
    expect(() => props.parseResourceProperties({ ProvisionedProductProperties: { OWNER: ROLE } })).toThrow(
      /as shown by `aws servicecatalog search-provisioned-products`\.$/,
    );
  });
});
