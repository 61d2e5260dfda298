/**
 * The mistakes synth catches that would otherwise fail only at deploy (or not at all), and the one
 * it must not flag: each message asserted in full, as the user reads it.
 */
import { App, Duration, Fn, Stack, type StackProps } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { Owner, ProvisionedProductProperties, type ProvisionedProductPropertiesProps } from '../lib';

const ACCOUNT = '123456789012';
const ENV = { env: { account: ACCOUNT, region: 'us-east-1' } };
const FIX = 'Pass the id of an existing provisioned product (pp-...), as shown by `aws servicecatalog search-provisioned-products`.';

function construct(s: Stack, id: string, props: Partial<ProvisionedProductPropertiesProps> = {}): ProvisionedProductProperties {
  const owner = Owner.fromArn(`arn:aws:iam::${s.account}:role/PlatformAdmin`);
  return new ProvisionedProductProperties(s, id, { provisionedProductId: `pp-${id.toLowerCase()}`, owner, ...props });
}

/** The message `make` throws, or '' when it does not throw. */
function thrown(make: () => unknown): string {
  try {
    make();
    return '';
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
}

/** The error synth stops with, or '' when it succeeds. */
function synthError(app: App): string {
  try {
    app.synth();
    return '';
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
}

describe('a provisioned product id that is another kind of Service Catalog id', () => {
  test.each([
    ['prod-abcdfz3syn2rg', 'a product id (prod-...)'],
    ['port-y3fnkeslpxxxx', 'a portfolio id (port-...)'],
    ['pa-pcz347abcdcfm', 'a provisioning artifact (product version) id (pa-...)'],
    ['rec-tfuawdabcdege', 'a record id (rec-...)'],
    ['lpv2-abcdg3jp6t5k6', 'a launch path id (lpv2-...)'],
    ['lpv3-y3fnkeslpxxxx', 'a launch path id (lpv3-...)'],
    ['plan-cuxae3z6glaui', 'a provisioned product plan id (plan-...)'],
    ['cons-7tr6gei4bxxxx', 'a constraint id (cons-...)'],
    ['tag-p3abc2pkpz5qc', 'a TagOption id (tag-...)'],
  ])('%s fails synth, saying it looks like %s', (id, kind) => {
    const s = new Stack(new App(), 'Test', ENV);
    expect(thrown(() => construct(s, 'Bad', { provisionedProductId: id }))).toBe(
      `ProvisionedProductProperties at Test/Bad: provisionedProductId "${id}" looks like ${kind}, not the id of a provisioned product. ${FIX}`,
    );
  });

  test.each(['pp-abcd27bm4mldq', 'pp-1', 'my-product', 'Prod-Abc', 'prod_abc', 'production'])('%s passes', (id) => {
    const s = new Stack(new App(), 'Test', ENV);
    expect(() => construct(s, 'Ok', { provisionedProductId: id })).not.toThrow();
  });

  test('a token is not checked', () => {
    const s = new Stack(new App(), 'Test', ENV);
    expect(() => construct(s, 'Tok', { provisionedProductId: Fn.importValue('prod-abc') })).not.toThrow();
  });
});

describe('reservedConcurrency below the instances that share the provider', () => {
  test('fails synth, naming both numbers, the instances and what to set', () => {
    const app = new App();
    const s = new Stack(app, 'Test', ENV);
    construct(s, 'One', { reservedConcurrency: 1 });
    construct(s, 'Two');
    expect(synthError(app)).toBe(
      'Validation failed with the following errors:\n' +
        '  [Test/ProvisionedProductPropertiesProvider] reservedConcurrency 1 is less than the 2 ProvisionedProductProperties in stack Test that share its provider (Test/One, Test/Two): ' +
        'every instance may run at once and needs one execution of each of the provider functions, so a deployment that changes them together would be throttled, wait and can fail. ' +
        'Set reservedConcurrency to at least 2 (on the first instance, or the same on every instance), or leave it unset.',
    );
  });

  test('counts the instances of its own stack only, and passes when it covers them', () => {
    const app = new App();
    const s = new Stack(app, 'Test', ENV);
    construct(s, 'One', { reservedConcurrency: 2 });
    construct(s, 'Two', { reservedConcurrency: 2 });
    const other = new Stack(app, 'Other', ENV);
    construct(other, 'Three', { reservedConcurrency: 1 });
    expect(synthError(app)).toBe('');
  });

  test('unset, it is not checked', () => {
    const app = new App();
    const s = new Stack(app, 'Test', ENV);
    for (let i = 0; i < 3; i++) construct(s, `P${i}`);
    expect(synthError(app)).toBe('');
  });
});

describe('one product managed twice', () => {
  const MESSAGE_END =
    'Two ProvisionedProductProperties on one product would overwrite each other and restore the wrong values on delete: keep one and merge their owner and launchRole.';

  function appWith(aProps?: StackProps, bProps?: StackProps, id = 'pp-same'): App {
    const app = new App();
    construct(new Stack(app, 'A', aProps), 'One', { provisionedProductId: id });
    construct(new Stack(app, 'B', bProps), 'Two', { provisionedProductId: id });
    return app;
  }

  test('in one account and region, fails synth once, on the repeat, naming the first', () => {
    expect(synthError(appWith(ENV, ENV))).toBe(
      'Validation failed with the following errors:\n' +
        `  [B/Two] provisionedProductId "pp-same" is also managed by A/One, in the same account (${ACCOUNT}) and region (us-east-1). ${MESSAGE_END}`,
    );
  });

  test('in one stack, likewise', () => {
    const app = new App();
    const s = new Stack(app, 'A', ENV);
    construct(s, 'One', { provisionedProductId: 'pp-same' });
    construct(s, 'Two', { provisionedProductId: 'pp-same' });
    construct(s, 'Three', { provisionedProductId: 'pp-same' });
    expect(synthError(app)).toBe(
      'Validation failed with the following errors:\n' +
        `  [A/Two] provisionedProductId "pp-same" is also managed by A/One, in the same account (${ACCOUNT}) and region (us-east-1). ${MESSAGE_END}\n` +
        `  [A/Three] provisionedProductId "pp-same" is also managed by A/One, in the same account (${ACCOUNT}) and region (us-east-1). ${MESSAGE_END}`,
    );
  });

  test.each([
    ['accounts', { env: { account: '999999999999', region: 'us-east-1' } }],
    ['regions', { env: { account: ACCOUNT, region: 'eu-west-1' } }],
    ['environments, one of them environment-agnostic', undefined],
  ])('in stacks of different %s, is fine (another product)', (_, bProps) => {
    expect(synthError(appWith(ENV, bProps))).toBe('');
  });

  test('in two environment-agnostic stacks, fails synth, saying that synth cannot tell the accounts apart', () => {
    expect(synthError(appWith(undefined, undefined))).toBe(
      'Validation failed with the following errors:\n' +
        '  [B/Two] provisionedProductId "pp-same" is also managed by A/One, in the same account and region as far as synth can tell ' +
        `(an environment-agnostic stack: give the stacks an env if they deploy to different accounts or regions). ${MESSAGE_END}`,
    );
  });

  test('the same token twice is a warning on the repeat, not an error', () => {
    const app = new App();
    const a = new Stack(app, 'A', ENV);
    const id = Fn.importValue('SharedProductId');
    construct(a, 'One', { provisionedProductId: id });
    construct(a, 'Two', { provisionedProductId: id });
    construct(a, 'Other', { provisionedProductId: Fn.importValue('OtherProductId') });
    expect(synthError(app)).toBe('');
    const warnings = Annotations.fromStack(a).findWarning('*', Match.anyValue());
    expect(warnings.map((w) => [w.id, w.entry.data])).toEqual([
      [
        '/A/Two',
        'provisionedProductId is the same token as that of A/One, in the same account (123456789012) and region (us-east-1): it is only known at deploy, and if it names one product, ' +
          'Two ProvisionedProductProperties on one product would overwrite each other and restore the wrong values on delete. ' +
          'Check that the two name different products, or keep one and merge their owner and launchRole. [ack: cdk-provisioned-product-properties:sharedProductIdToken]',
      ],
    ]);
  });
});

describe('each timing message names only the rule that was broken', () => {
  const EXPECTED: Array<[string, Partial<ProvisionedProductPropertiesProps>, string[]]> = [
    [
      'a totalTimeout over an hour',
      { totalTimeout: Duration.hours(2) },
      [
        "totalTimeout 2 hours is over 1 hour, CloudFormation's limit for a custom resource: use at most Duration.hours(1), e.g. totalTimeout: Duration.minutes(30)",
      ],
    ],
    [
      'a queryInterval of 1.5 seconds',
      { queryInterval: Duration.millis(1500) },
      [
        'queryInterval 1 second 500 millis (1500 ms) is not a whole number of seconds of at least 1: use whole seconds, e.g. queryInterval: Duration.seconds(5)',
      ],
    ],
    [
      'a totalTimeout of 90.5 seconds',
      { totalTimeout: Duration.millis(90_500) },
      [
        'totalTimeout 1 minute 30 seconds (90500 ms) is not a whole number of seconds: use whole seconds, e.g. totalTimeout: Duration.minutes(30)',
      ],
    ],
    [
      'a queryInterval as long as totalTimeout',
      { queryInterval: Duration.minutes(1), totalTimeout: Duration.minutes(1) },
      [
        'queryInterval 1 minute is not shorter than totalTimeout 1 minute: the waiter asks every queryInterval until totalTimeout, so make queryInterval shorter, e.g. queryInterval: Duration.seconds(5)',
      ],
    ],
    [
      'a totalTimeout that is no multiple of queryInterval',
      { queryInterval: Duration.seconds(7), totalTimeout: Duration.seconds(60) },
      [
        'totalTimeout 1 minute is not a whole number of queryIntervals (7 seconds): use a multiple of queryInterval, e.g. totalTimeout: Duration.seconds(56) or totalTimeout: Duration.seconds(63)',
      ],
    ],
    [
      'a totalTimeout just under the hour that is no multiple of queryInterval',
      { queryInterval: Duration.seconds(7), totalTimeout: Duration.seconds(3599) },
      [
        'totalTimeout 59 minutes 59 seconds is not a whole number of queryIntervals (7 seconds): use a multiple of queryInterval, e.g. totalTimeout: Duration.seconds(3598)',
      ],
    ],
    [
      'two rules broken at once',
      { queryInterval: Duration.millis(1500), totalTimeout: Duration.hours(2) },
      [
        'queryInterval 1 second 500 millis (1500 ms) is not a whole number of seconds of at least 1: use whole seconds, e.g. queryInterval: Duration.seconds(5)',
        "totalTimeout 2 hours is over 1 hour, CloudFormation's limit for a custom resource: use at most Duration.hours(1), e.g. totalTimeout: Duration.minutes(30)",
      ],
    ],
  ];
  test.each(EXPECTED)('%s', (_, props, messages) => {
    const s = new Stack(new App(), 'Test', ENV);
    expect(thrown(() => construct(s, 'Bad', props))).toBe(`ProvisionedProductProperties at Test/Bad: ${messages.join(' | ')}`);
  });
});
