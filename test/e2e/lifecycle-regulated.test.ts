/**
 * The lifecycle scenarios of lifecycle.test.ts again, with the provider options a regulated account
 * sets (VPC, log key, reserved concurrency, tracing; harness/template/provider-options.ts): the driver runs
 * the functions in-process and ignores their VPC placement, so the options must change nothing of
 * what CloudFormation sees or of the products' owners and launch roles.
 */
import { Owner } from '../../lib';
import { PROVIDER_OPTIONS_ENV, constructStack, synthesize } from '../../harness';
import { ADMIN } from '../support/fixtures';
import './lifecycle.test';

// Set for this file's tests only: the variable would outlive the file in the jest worker.
beforeAll(() => {
  process.env[PROVIDER_OPTIONS_ENV] = 'regulated';
});
afterAll(() => {
  delete process.env[PROVIDER_OPTIONS_ENV];
});

test('the stack the driver runs here has the regulated options: every function in the VPC, reserved and traced, the log groups encrypted', () => {
  const model = synthesize(constructStack({ provisionedProductId: 'pp-alpha', owner: Owner.fromArn(ADMIN) }));
  const resources = Object.values(model.template.Resources);
  const functions = resources.filter((r) => r.Type === 'AWS::Lambda::Function');
  expect(functions).toHaveLength(5);
  for (const fn of functions) {
    expect(fn.Properties?.VpcConfig).toBeDefined();
    expect(fn.Properties).toMatchObject({ ReservedConcurrentExecutions: 10, TracingConfig: { Mode: 'Active' } });
  }
  const groups = resources.filter((r) => r.Type === 'AWS::Logs::LogGroup');
  expect(groups).toHaveLength(2);
  for (const group of groups) expect(group.Properties?.KmsKeyId).toBeDefined();
});
