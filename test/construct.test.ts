import { App, Duration, Fn, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { AcceptLanguage, Owner, ProvisionedProductProperties } from '../lib';

const OWNER = 'arn:aws:iam::123456789012:role/PlatformAdmin';
const LAUNCH = 'arn:aws:iam::123456789012:role/ServiceCatalogLaunch';

/** A resource of a synthesized template, as far as these tests read it. */
interface TemplateResource {
  readonly Properties: Record<string, unknown>;
}

/** One statement of an IAM policy document. */
interface Statement {
  readonly Action: string | string[];
  readonly Resource: unknown;
  readonly Condition?: unknown;
}

function resources(t: Template, type: string, props?: object): TemplateResource[] {
  return Object.values(t.findResources(type, props)) as TemplateResource[];
}

function actions(statement: Statement): string[] {
  return [statement.Action].flat();
}

function stack(): Stack {
  return new Stack(new App(), 'Test', { env: { account: '123456789012', region: 'us-east-1' } });
}

describe('the custom resource', () => {
  test('carries the product id, the managed keys, the language and restoreOnDelete', () => {
    const s = stack();
    new ProvisionedProductProperties(s, 'Ownership', {
      provisionedProductId: 'pp-abcd1234efgh5',
      owner: Owner.fromArn(OWNER),
      launchRole: iam.Role.fromRoleArn(s, 'Launch', LAUNCH),
      acceptLanguage: AcceptLanguage.JAPANESE,
      restoreOnDelete: false,
    });
    Template.fromStack(s).hasResourceProperties('Custom::ProvisionedProductProperties', {
      ProvisionedProductId: 'pp-abcd1234efgh5',
      ProvisionedProductProperties: { OWNER, LAUNCH_ROLE: LAUNCH },
      AcceptLanguage: 'jp',
      RestoreOnDelete: 'false',
    });
  });

  test('manages only the keys given: owner alone sends no LAUNCH_ROLE, and restoreOnDelete defaults to true', () => {
    const s = stack();
    new ProvisionedProductProperties(s, 'Ownership', { provisionedProductId: 'pp-1', owner: Owner.fromArn(OWNER) });
    Template.fromStack(s).hasResourceProperties('Custom::ProvisionedProductProperties', {
      ProvisionedProductProperties: { OWNER, LAUNCH_ROLE: Match.absent() },
      RestoreOnDelete: 'true',
      AcceptLanguage: Match.absent(),
    });
  });

  test('Owner.fromRole and Owner.fromUser take the principal ARN, tokens included', () => {
    const s = stack();
    const role = new iam.Role(s, 'Admin', { assumedBy: new iam.AccountRootPrincipal() });
    const user = new iam.User(s, 'Alice');
    new ProvisionedProductProperties(s, 'ByRole', { provisionedProductId: 'pp-1', owner: Owner.fromRole(role) });
    new ProvisionedProductProperties(s, 'ByUser', { provisionedProductId: 'pp-2', owner: Owner.fromUser(user) });
    const t = Template.fromStack(s);
    t.hasResourceProperties('Custom::ProvisionedProductProperties', {
      ProvisionedProductId: 'pp-1',
      ProvisionedProductProperties: { OWNER: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Admin'), 'Arn'] } },
    });
    t.hasResourceProperties('Custom::ProvisionedProductProperties', {
      ProvisionedProductId: 'pp-2',
      ProvisionedProductProperties: { OWNER: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Alice'), 'Arn'] } },
    });
  });

  test('exposes recordId, previousOwnerArn and previousLaunchRoleArn as attributes', () => {
    const s = stack();
    const p = new ProvisionedProductProperties(s, 'Ownership', { provisionedProductId: 'pp-1', owner: Owner.fromArn(OWNER) });
    expect(s.resolve(p.recordId)).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^Ownership/), 'RecordId'] });
    expect(s.resolve(p.previousOwnerArn)).toEqual({ 'Fn::GetAtt': [expect.any(String), 'PreviousOwnerArn'] });
    expect(s.resolve(p.previousLaunchRoleArn)).toEqual({ 'Fn::GetAtt': [expect.any(String), 'PreviousLaunchRoleArn'] });
  });
});

describe('the provider', () => {
  test('one provider per stack: 50 instances have as many functions as 1', () => {
    const count = (n: number) => {
      const s = stack();
      for (let i = 0; i < n; i++)
        new ProvisionedProductProperties(s, `P${i}`, { provisionedProductId: `pp-${i}`, owner: Owner.fromArn(OWNER) });
      const t = Template.fromStack(s);
      return [
        Object.keys(t.findResources('AWS::Lambda::Function')).length,
        Object.keys(t.findResources('AWS::StepFunctions::StateMachine')).length,
      ];
    };
    expect(count(50)).toEqual(count(1));
    expect(count(1)).toEqual([5, 1]); // onEvent, isComplete, and the framework's onEvent, isComplete, onTimeout
  });

  test("the handlers are told how many instances share the stack's provider, counting those added after the first; the framework's are not", () => {
    const s = stack();
    for (let i = 0; i < 3; i++)
      new ProvisionedProductProperties(s, `Ownership${i}`, { provisionedProductId: `pp-${i}`, owner: Owner.fromArn(OWNER) });
    const t = Template.fromStack(s);
    for (const fn of resources(t, 'AWS::Lambda::Function')) {
      const variables = (fn.Properties.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ?? {};
      expect(variables.STACK_INSTANCES).toBe(String(fn.Properties.Handler).startsWith('index.') ? '3' : undefined);
    }
  });

  test('isComplete may run for 7 minutes, to wait for its turn to write in a stack of up to 500 instances; onEvent for 1', () => {
    const s = stack();
    new ProvisionedProductProperties(s, 'Ownership', { provisionedProductId: 'pp-1', owner: Owner.fromArn(OWNER) });
    const t = Template.fromStack(s);
    expect(resources(t, 'AWS::Lambda::Function', { Properties: { Handler: 'index.isComplete' } })[0].Properties.Timeout).toBe(420);
    expect(resources(t, 'AWS::Lambda::Function', { Properties: { Handler: 'index.onEvent' } })[0].Properties.Timeout).toBe(60);
  });

  test('handlers run Node.js 22 or newer on arm64, from the prebuilt bundle, logging to a group with retention', () => {
    const s = stack();
    new ProvisionedProductProperties(s, 'Ownership', { provisionedProductId: 'pp-1', owner: Owner.fromArn(OWNER) });
    const t = Template.fromStack(s);
    for (const handler of ['index.onEvent', 'index.isComplete']) {
      const [fn] = resources(t, 'AWS::Lambda::Function', { Properties: { Handler: handler } });
      expect(fn).toBeDefined();
      expect(Number(/^nodejs(\d+)\.x$/.exec(String(fn.Properties.Runtime))?.[1])).toBeGreaterThanOrEqual(22);
      expect(fn.Properties.Architectures).toEqual(['arm64']);
      expect((fn.Properties.LoggingConfig as { LogGroup?: unknown }).LogGroup).toBeDefined();
    }
    t.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: Match.anyValue() });
    expect(Object.keys(t.findResources('Custom::LogRetention'))).toHaveLength(0);
  });

  test('least privilege per handler: onEvent only reads products, isComplete alone writes and passes roles, both use only their own ledger', () => {
    const s = stack();
    new ProvisionedProductProperties(s, 'Ownership', { provisionedProductId: 'pp-1', owner: Owner.fromArn(OWNER) });
    const t = Template.fromStack(s);
    const fnRole = (handler: string) => {
      const [fn] = resources(t, 'AWS::Lambda::Function', { Properties: { Handler: handler } });
      return (fn.Properties.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
    };
    const statementsOf = (roleId: string) =>
      resources(t, 'AWS::IAM::ManagedPolicy')
        .filter((p) => JSON.stringify(p.Properties.Roles) === JSON.stringify([{ Ref: roleId }]))
        .flatMap((p) => (p.Properties.PolicyDocument as { Statement: Statement[] }).Statement);
    const actionsOf = (roleId: string) =>
      statementsOf(roleId)
        .flatMap(actions)
        .filter((a) => !a.startsWith('logs:'))
        .sort();
    const [onEventRole, isCompleteRole] = [fnRole('index.onEvent'), fnRole('index.isComplete')];
    expect(onEventRole).not.toBe(isCompleteRole);
    expect(actionsOf(onEventRole)).toEqual([
      'dynamodb:DeleteItem',
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
      'servicecatalog:DescribeProvisionedProduct',
      'servicecatalog:SearchProvisionedProducts',
    ]);
    expect(actionsOf(isCompleteRole)).toEqual([
      'cloudformation:DescribeStackResource',
      'dynamodb:GetItem',
      'dynamodb:UpdateItem',
      'iam:PassRole',
      'servicecatalog:DescribeRecord',
      'servicecatalog:UpdateProvisionedProductProperties',
    ]);
    const pass = statementsOf(isCompleteRole).filter((st) => actions(st).includes('iam:PassRole'));
    expect(pass).toHaveLength(1);
    expect(pass[0].Condition).toEqual({ StringEquals: { 'iam:PassedToService': 'servicecatalog.amazonaws.com' } });
    expect(JSON.stringify(pass[0].Resource)).toContain(':role/*');
    // The ledger actions name the provider's own table, item by item; DescribeStackResource names this stack.
    const [table] = Object.keys(t.findResources('AWS::DynamoDB::Table'));
    for (const role of [onEventRole, isCompleteRole]) {
      for (const st of statementsOf(role).filter((x) => actions(x).some((a) => a.startsWith('dynamodb:')))) {
        expect(st.Resource).toEqual({ 'Fn::GetAtt': [table, 'Arn'] });
      }
    }
    const describe = statementsOf(isCompleteRole).filter((x) => actions(x).includes('cloudformation:DescribeStackResource'));
    expect(describe.map((st) => st.Resource)).toEqual([{ Ref: 'AWS::StackId' }]);
  });

  test('the ledger: one on-demand table per stack, with a time to live, point-in-time recovery, deleted after the functions that name it', () => {
    const s = stack();
    new ProvisionedProductProperties(s, 'A', { provisionedProductId: 'pp-1', owner: Owner.fromArn(OWNER) });
    new ProvisionedProductProperties(s, 'B', { provisionedProductId: 'pp-2', owner: Owner.fromArn(OWNER) });
    const t = Template.fromStack(s);
    t.resourceCountIs('AWS::DynamoDB::Table', 1);
    const [[id, table]] = Object.entries(t.findResources('AWS::DynamoDB::Table'));
    expect(table).toMatchObject({
      DeletionPolicy: 'Delete',
      Properties: {
        BillingMode: 'PAY_PER_REQUEST',
        KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
        TimeToLiveSpecification: { AttributeName: 'expiration', Enabled: true },
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      },
    });
    expect((table as { Properties: Record<string, unknown> }).Properties.SSESpecification).toBeUndefined();
    for (const fn of resources(t, 'AWS::Lambda::Function').filter((f) => String(f.Properties.Handler).startsWith('index.'))) {
      expect((fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables.LEDGER_TABLE_NAME).toEqual({ Ref: id });
    }
  });

  test('ledgerEncryptionKey encrypts the ledger with that key, and each handler role may use it for the table', () => {
    const s = stack();
    const key = new kms.Key(s, 'LedgerKey', { enableKeyRotation: true });
    new ProvisionedProductProperties(s, 'Ownership', {
      provisionedProductId: 'pp-1',
      owner: Owner.fromArn(OWNER),
      ledgerEncryptionKey: key,
    });
    const t = Template.fromStack(s);
    t.hasResourceProperties('AWS::DynamoDB::Table', {
      SSESpecification: {
        SSEEnabled: true,
        SSEType: 'KMS',
        KMSMasterKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^LedgerKey'), 'Arn'] },
      },
    });
    const policies = JSON.stringify(resources(t, 'AWS::IAM::ManagedPolicy').map((p) => p.Properties.PolicyDocument));
    expect(policies).toContain('kms:GenerateDataKey');
  });

  test('the waiter logs every event without execution data (its input holds the pre-signed ResponseURL), to a group with retention', () => {
    const s = stack();
    new ProvisionedProductProperties(s, 'Ownership', { provisionedProductId: 'pp-1', owner: Owner.fromArn(OWNER) });
    const t = Template.fromStack(s);
    t.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      LoggingConfiguration: {
        Level: 'ALL',
        IncludeExecutionData: false,
        Destinations: [{ CloudWatchLogsLogGroup: { LogGroupArn: Match.anyValue() } }],
      },
    });
    const groups = resources(t, 'AWS::Logs::LogGroup');
    expect(groups).toHaveLength(2);
    for (const group of groups) expect(group.Properties.RetentionInDays).toBe(90);
  });

  test('no role of the provider carries an AWS managed policy', () => {
    const s = stack();
    new ProvisionedProductProperties(s, 'Ownership', { provisionedProductId: 'pp-1', owner: Owner.fromArn(OWNER) });
    const roles = resources(Template.fromStack(s), 'AWS::IAM::Role');
    expect(roles).toHaveLength(5); // onEvent, isComplete, framework onEvent, framework isComplete/onTimeout, waiter
    for (const role of roles) expect(role.Properties.ManagedPolicyArns).toBeUndefined();
  });

  test('queryInterval and totalTimeout reach the waiter', () => {
    const s = stack();
    new ProvisionedProductProperties(s, 'Ownership', {
      provisionedProductId: 'pp-1',
      owner: Owner.fromArn(OWNER),
      queryInterval: Duration.seconds(10),
      totalTimeout: Duration.minutes(20),
    });
    const [sm] = resources(Template.fromStack(s), 'AWS::StepFunctions::StateMachine');
    const definition = JSON.stringify(sm.Properties.DefinitionString);
    expect(definition).toContain('\\"IntervalSeconds\\":10');
    expect(definition).toContain('\\"MaxAttempts\\":120');
    // The handler knows them too, so that it fails with its own message just before the waiter gives up.
    Template.fromStack(s).hasResourceProperties('AWS::Lambda::Function', {
      Handler: 'index.isComplete',
      Environment: { Variables: Match.objectLike({ TOTAL_TIMEOUT_MS: '1200000', QUERY_INTERVAL_MS: '10000' }) },
    });
  });

  test('conflicting waiter settings in one stack are an error naming both instances', () => {
    const s = stack();
    new ProvisionedProductProperties(s, 'First', {
      provisionedProductId: 'pp-1',
      owner: Owner.fromArn(OWNER),
      queryInterval: Duration.seconds(10),
    });
    new ProvisionedProductProperties(s, 'Same', {
      provisionedProductId: 'pp-2',
      owner: Owner.fromArn(OWNER),
      queryInterval: Duration.seconds(10),
    });
    new ProvisionedProductProperties(s, 'Unset', { provisionedProductId: 'pp-3', owner: Owner.fromArn(OWNER) });
    expect(
      () =>
        new ProvisionedProductProperties(s, 'Second', {
          provisionedProductId: 'pp-4',
          owner: Owner.fromArn(OWNER),
          queryInterval: Duration.seconds(3),
        }),
    ).toThrow(/Test\/Second: queryInterval 3 seconds \(the provider has 10 seconds\).*came from Test\/First/);
  });

  test('waiter settings past CloudFormation limits are rejected', () => {
    const s = stack();
    expect(
      () =>
        new ProvisionedProductProperties(s, 'Long', {
          provisionedProductId: 'pp-1',
          owner: Owner.fromArn(OWNER),
          totalTimeout: Duration.hours(2),
        }),
    ).toThrow(/totalTimeout 2 hours is over 1 hour/);
  });
});

describe('synth-time validation', () => {
  test.each([
    [
      { provisionedProductId: 'pp bad id', owner: Owner.fromArn(OWNER) },
      /Test\/Bad: provisionedProductId "pp bad id" is not a provisioned product id/,
    ],
    [
      { provisionedProductId: 'pp-1', owner: Owner.fromArn('arn:aws:iam::123456789012:group/Admins') },
      /owner "arn:aws:iam::123456789012:group\/Admins" is not an IAM user/,
    ],
    [{ provisionedProductId: 'pp-1' }, /set at least one of owner and launchRole/],
  ])('rejects %j', (props, message) => {
    const s = stack();
    expect(() => new ProvisionedProductProperties(s, 'Bad', props)).toThrow(message);
  });

  test('a user given as launch role is rejected', () => {
    const s = stack();
    const user = iam.User.fromUserArn(s, 'U', 'arn:aws:iam::123456789012:user/alice');
    const asRole = { roleArn: user.userArn } as unknown as iam.IRole;
    expect(() => new ProvisionedProductProperties(s, 'Bad', { provisionedProductId: 'pp-1', launchRole: asRole })).toThrow(
      /launchRole "arn:aws:iam::123456789012:user\/alice" is not an IAM role ARN/,
    );
  });

  test('owner and launch role from different accounts are rejected', () => {
    const s = stack();
    expect(
      () =>
        new ProvisionedProductProperties(s, 'Bad', {
          provisionedProductId: 'pp-1',
          owner: Owner.fromArn(OWNER),
          launchRole: iam.Role.fromRoleArn(s, 'L', 'arn:aws:iam::999999999999:role/Launch'),
        }),
    ).toThrow(/account 123456789012 but launchRole .* account 999999999999/);
  });

  test('two instances naming the same literal product in one app (and place) fail synth, naming both paths (test/synth-hints.test.ts has the rest)', () => {
    const app = new App();
    const a = new Stack(app, 'A');
    const b = new Stack(app, 'B');
    new ProvisionedProductProperties(a, 'One', { provisionedProductId: 'pp-same', owner: Owner.fromArn(OWNER) });
    new ProvisionedProductProperties(b, 'Two', { provisionedProductId: 'pp-same', owner: Owner.fromArn(OWNER) });
    expect(() => app.synth()).toThrow(/\[B\/Two\][^\n]*"pp-same" is also managed by A\/One/);
  });

  test('token values are left to the handler', () => {
    const s = stack();
    const role = new iam.Role(s, 'Admin', { assumedBy: new iam.AccountRootPrincipal() });
    new ProvisionedProductProperties(s, 'Tok', { provisionedProductId: Fn.importValue('SharedProductId'), owner: Owner.fromRole(role) });
    Template.fromStack(s).hasResourceProperties('Custom::ProvisionedProductProperties', {
      ProvisionedProductId: { 'Fn::ImportValue': 'SharedProductId' },
    });
  });
});

describe('synth-time bad inputs', () => {
  const ok = { provisionedProductId: 'pp-abcd1234efgh5', owner: Owner.fromArn(OWNER) };
  const cnStack = () => new Stack(new App(), 'Cn', { env: { account: '123456789012', region: 'cn-north-1' } });
  const cases: Array<[string, (s: Stack) => unknown, RegExp, (() => Stack)?]> = [
    [
      'an acceptLanguage Service Catalog does not know',
      () => ({ ...ok, acceptLanguage: 'fr' }),
      /acceptLanguage "fr" is not a language code/,
    ],
    [
      'a launchRole given as an ARN string',
      () => ({ ...ok, launchRole: LAUNCH }),
      /launchRole must be an iam.IRole \(got string ".*"\): for an ARN, pass iam.Role.fromRoleArn/,
    ],
    ['an owner given as an ARN string', () => ({ ...ok, owner: OWNER }), /owner must be an Owner \(got string .*Owner.fromArn/],
    [
      'a product id that is a number',
      () => ({ ...ok, provisionedProductId: 42 }),
      /provisionedProductId must be a string \(got number 42\)/,
    ],
    [
      'restoreOnDelete as the string "false"',
      () => ({ ...ok, restoreOnDelete: 'false' }),
      /restoreOnDelete must be true or false \(got string "false"\)/,
    ],
    ['queryInterval as a number', () => ({ ...ok, queryInterval: 5 }), /queryInterval must be a Duration \(got number 5\)/],
    ['no props at all', () => undefined, /props must be an object/],
    [
      'an owner in another partition than the stack',
      () => ({ ...ok, owner: Owner.fromArn('arn:aws-cn:iam::123456789012:role/A') }),
      /is in partition aws-cn, but stack Test is in partition aws/,
    ],
    [
      'an owner of another account than the stack',
      () => ({ ...ok, owner: Owner.fromArn('arn:aws:iam::999999999999:role/A') }),
      /is in account 999999999999, but stack Test is in account 123456789012/,
    ],
    ['an aws owner in a China-region stack', () => ok, /is in partition aws, but stack Cn is in partition aws-cn/, cnStack],
    [
      'a 100 KB product id',
      () => ({ ...ok, provisionedProductId: 'p'.repeat(100_000) }),
      /\(100000 characters in all\) is not a provisioned product id/,
    ],
    [
      'a queryInterval of 1.5 seconds',
      () => ({ ...ok, queryInterval: Duration.millis(1500) }),
      /queryInterval 1 second 500 millis \(1500 ms\) is not a whole number of seconds.*queryInterval: Duration.seconds\(5\)/,
    ],
    [
      'a totalTimeout that is no multiple of queryInterval',
      () => ({ ...ok, queryInterval: Duration.seconds(7), totalTimeout: Duration.seconds(60) }),
      /totalTimeout 1 minute is not a whole number of queryIntervals \(7 seconds\)/,
    ],
    ['a totalTimeout over an hour', () => ({ ...ok, totalTimeout: Duration.hours(2) }), /totalTimeout 2 hours is over 1 hour/],
  ];
  test.each(cases)('%s fails synth, naming the construct path, the field and the value', (_, make, message, makeStack = stack) => {
    const s = makeStack();
    expect(() => new ProvisionedProductProperties(s, 'Bad', make(s) as never)).toThrow(
      new RegExp(`^ProvisionedProductProperties at ${s.stackName}/Bad: .*${message.source}`, 's'),
    );
  });

  test("a construct of the user's with the provider's id gives a clear error, not a TypeError", () => {
    const s = stack();
    new iam.Role(s, 'ProvisionedProductPropertiesProvider', { assumedBy: new iam.AccountRootPrincipal() });
    expect(() => new ProvisionedProductProperties(s, 'Ownership', ok)).toThrow(
      /already has a construct with the id ProvisionedProductPropertiesProvider .* rename your construct/,
    );
  });
});
