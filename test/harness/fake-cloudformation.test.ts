/**
 * The fake CloudFormation answers DescribeStackResource, through the real SDK and the handler's own layer, from the stacks registered with it.
 */
import { FakeCloudFormation } from '../../harness';

type CloudFormationModule = typeof import('../../lambda/cloudformation');

const STACK_ID = 'arn:aws:cloudformation:us-east-1:123456789012:stack/Fleet/11111111-2222-3333-4444-555555555555';
let fake: FakeCloudFormation;
let cfn: CloudFormationModule;
let status: string | undefined;

beforeAll(async () => {
  fake = await FakeCloudFormation.start();
  Object.assign(process.env, {
    AWS_ENDPOINT_URL_CLOUDFORMATION: fake.endpoint,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
  });
  jest.isolateModules(() => {
    cfn = jest.requireActual<CloudFormationModule>('../../lambda/cloudformation');
  });
  fake.serve(STACK_ID, (logicalId) =>
    logicalId === 'Ownership' && status !== undefined ? { status, resourceType: 'Custom::ProvisionedProductProperties' } : undefined,
  );
});

afterAll(() => fake.close());
afterEach(() => expect(fake.violations).toEqual([]));

test('a Create CloudFormation awaits is CREATE_IN_PROGRESS, by stack id or name', async () => {
  status = 'CREATE_IN_PROGRESS';
  await expect(cfn.resourceStatus(STACK_ID, 'Ownership')).resolves.toBe('CREATE_IN_PROGRESS');
  await expect(cfn.resourceStatus('Fleet', 'Ownership')).resolves.toBe('CREATE_IN_PROGRESS');
});

test('a resource that was rolled back and removed, or a stack that is gone, reads as no resource', async () => {
  status = undefined;
  await expect(cfn.resourceStatus(STACK_ID, 'Ownership')).resolves.toBeUndefined();
  await expect(cfn.resourceStatus(STACK_ID.replace('Fleet', 'Gone'), 'Ownership')).resolves.toBeUndefined();
  expect(fake.calls.slice(-2).map((c) => c.outcome)).toEqual(['ValidationError', 'ValidationError']);
});

test('throttling is retried by the SDK; a denied call is an error the caller sees', async () => {
  status = 'CREATE_FAILED';
  fake.fault = { code: 'Throttling', count: 2 };
  await expect(cfn.resourceStatus(STACK_ID, 'Ownership')).resolves.toBe('CREATE_FAILED');
  fake.fault = { code: 'AccessDenied', count: 1 };
  await expect(cfn.resourceStatus(STACK_ID, 'Ownership')).rejects.toMatchObject({ name: 'AccessDenied' });
});
