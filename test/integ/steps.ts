/**
 * The integration run's steps (what each deploy of the integration stack declares) and the run itself: deploy each step, check the product through the SDK, and destroy at the end, also on failure.
 */
import { DescribeRecordCommand, type ServiceCatalogClient } from '@aws-sdk/client-service-catalog';
import { show, sleep } from '../contract/behaviour';
import { BUSY_STATUSES, readProduct } from '../contract/probes';
import { CONSTRUCT_OUTPUTS, FIXTURE_OUTPUTS } from './names';

/** The deploys of one run, in order. */
export const INTEG_STEPS = ['base', 'managed', 'changed', 'removed'] as const;
export type IntegStep = (typeof INTEG_STEPS)[number];

/** The fixture's roles a step can name. */
export type FixtureRole = 'ownerA' | 'ownerB' | 'launchRole';

/** What a step declares: the construct (with which roles) or none. */
export interface StepDeclaration {
  readonly what: string;
  readonly construct?: { readonly owner: FixtureRole; readonly launchRole: FixtureRole };
}

export const STEPS: Readonly<Record<IntegStep, StepDeclaration>> = {
  base: { what: 'the fixture alone (portfolio, product, provisioned product, roles)' },
  managed: { what: 'ProvisionedProductProperties: owner A, the launch role', construct: { owner: 'ownerA', launchRole: 'launchRole' } },
  changed: { what: 'a change: owner B', construct: { owner: 'ownerB', launchRole: 'launchRole' } },
  removed: { what: 'ProvisionedProductProperties removed: its Delete restores the priors' },
};

/** Deploys the integration stack at a step, and destroys it. */
export interface IntegDeployer {
  /** Deploys the stack as `step` declares it; resolves with its outputs. */
  deploy(step: IntegStep): Promise<Readonly<Record<string, string>>>;
  destroy(): Promise<void>;
}

export interface IntegRunOptions {
  readonly sc: ServiceCatalogClient;
  readonly deployer: IntegDeployer;
  readonly print: (line: string) => void;
  /** How long a check waits for the product to show the expected values (search can lag), and how often it looks. */
  readonly checkTimeoutMs: number;
  readonly pollMs: number;
}

/** The owner and launch role a check expects. */
interface Values {
  readonly owner: string;
  readonly launchRole: string;
}

/** A check that failed: the run stops, destroys, and reports it. */
class CheckFailed extends Error {}

/** Runs every step with its checks, then destroys (also on failure); returns whether every check passed. */
export async function runIntegration(options: IntegRunOptions): Promise<boolean> {
  const { deployer, print } = options;
  let passed = false;
  try {
    await steps(options);
    passed = true;
  } catch (e) {
    print(`FAILED: ${e instanceof CheckFailed ? e.message : `${(e as Error).name}: ${(e as Error).message}`}`);
  }
  print('destroying the integration stack (the provider log groups are kept, as in any deployment of the construct)');
  try {
    await deployer.destroy();
    print('destroyed');
  } catch (e) {
    print(`could not destroy the integration stack: ${(e as Error).message}. Delete it in the CloudFormation console.`);
    passed = false;
  }
  print(passed ? 'PASSED: owner and launch role were as declared at every step, and the priors came back' : 'the run FAILED (see above)');
  return passed;
}

async function steps(options: IntegRunOptions): Promise<void> {
  const { deployer, print } = options;
  const count = INTEG_STEPS.length;
  let priors: Values | undefined;
  let lastLaunchRole = '';
  for (const [i, step] of INTEG_STEPS.entries()) {
    const declaration = STEPS[step];
    print(`${i + 1}/${count} deploying ${step}: ${declaration.what}`);
    const outputs = await deployer.deploy(step);
    const output = (key: string): string => {
      const value = outputs[key];
      if (value === undefined) throw new CheckFailed(`the ${step} deploy has no output ${key}`);
      return value;
    };
    const productId = output(FIXTURE_OUTPUTS.productId);
    if (!priors) {
      priors = await settledValues(options, productId);
      print(`    priors: owner ${priors.owner}, launch role ${priors.launchRole || '(none)'}`);
      if (priors.launchRole !== output(FIXTURE_OUTPUTS.priorLaunchRole)) {
        print(
          `    note: the product reports launch role ${priors.launchRole || '(none)'}, not its launch constraint's ${output(FIXTURE_OUTPUTS.priorLaunchRole)}; the run goes on from what it reports`,
        );
      }
      continue;
    }
    const construct = declaration.construct;
    // A launch role cannot be cleared: where the product had none, the construct's stays (README, Limits).
    const expected: Values = construct
      ? { owner: output(FIXTURE_OUTPUTS[construct.owner]), launchRole: output(FIXTURE_OUTPUTS[construct.launchRole]) }
      : { owner: priors.owner, launchRole: priors.launchRole || lastLaunchRole };
    lastLaunchRole = expected.launchRole;
    await expectValues(options, productId, expected, step);
    if (construct) {
      expectOutput(output(CONSTRUCT_OUTPUTS.previousOwner), priors.owner, `${step}: the construct's previousOwnerArn`);
      expectOutput(output(CONSTRUCT_OUTPUTS.previousLaunchRole), priors.launchRole, `${step}: the construct's previousLaunchRoleArn`);
      const recordId = output(CONSTRUCT_OUTPUTS.recordId);
      const status = (await options.sc.send(new DescribeRecordCommand({ Id: recordId }))).RecordDetail?.Status;
      expectOutput(status ?? '', 'SUCCEEDED', `${step}: the status of the construct's record ${recordId}`);
    }
    print(
      `    ok: owner ${expected.owner}, launch role ${expected.launchRole}${construct ? '; previous* outputs are the priors' : priors.launchRole ? ' (the priors)' : ' (the prior owner; the launch role stays, as the product had none)'}`,
    );
  }
}

function expectOutput(actual: string, expected: string, what: string): void {
  if (actual !== expected) throw new CheckFailed(`${what} is ${show(actual)}, expected ${show(expected)}`);
}

/** The product's owner and launch role once it is settled and listed. */
async function settledValues(options: IntegRunOptions, productId: string): Promise<Values> {
  const deadline = Date.now() + options.checkTimeoutMs;
  for (;;) {
    const product = await readProduct(options.sc, productId);
    if (product.listed && !BUSY_STATUSES.has(product.status)) return { owner: product.owner, launchRole: product.launchRole };
    if (Date.now() > deadline) {
      throw new CheckFailed(
        `product ${productId} stayed ${product.listed ? product.status : 'unlisted by the search'} for ${options.checkTimeoutMs / 1000} s`,
      );
    }
    await sleep(options.pollMs);
  }
}

/** Waits until the product shows `expected` (the search can lag); fails with what it showed last. */
async function expectValues(options: IntegRunOptions, productId: string, expected: Values, step: IntegStep): Promise<void> {
  const deadline = Date.now() + options.checkTimeoutMs;
  for (;;) {
    const actual = await settledValues(options, productId);
    if (actual.owner === expected.owner && actual.launchRole === expected.launchRole) return;
    if (Date.now() > deadline) {
      throw new CheckFailed(
        `after ${step}, product ${productId} has owner ${show(actual.owner)} and launch role ${show(actual.launchRole)}; expected ${show(expected.owner)} and ${show(expected.launchRole)}`,
      );
    }
    await sleep(options.pollMs);
  }
}
