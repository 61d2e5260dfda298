/**
 * `npm run test:integ:aws`: the integration run on a real account. Deploys test/integ/app.ts's integration stack step by step with the project's CDK CLI, checks the product through the SDK after each, and destroys it, also on failure.
 *
 * Steps (test/integ/steps.ts): the fixture alone (the priors are read), the construct with owner A
 * and the launch role, a change to owner B, the construct removed (the priors must be back). It
 * needs credentials, a region and a bootstrapped environment (`npx cdk bootstrap`); without
 * credentials or a region it says what it needs and exits 2 before calling AWS. Exit code 0 when
 * every check passed, 1 otherwise.
 *
 * It uses the project's CDK CLI rather than integ-runner: the newest integ-runner (2.197.10) reads
 * cloud assembly schema 53 at most, and aws-cdk-lib 2.276.0 writes 55.
 */
import { ServiceCatalogClient } from '@aws-sdk/client-service-catalog';
import { INTEG_STACK, STEP_CONTEXT } from '../test/integ/names';
import { type IntegDeployer, runIntegration } from '../test/integ/steps';
import { MissingAwsEnvironment, checkAwsEnvironment, deployStack, destroyStack } from './aws-environment';

const COMMAND = 'npm run test:integ:aws';

/** Deploys and destroys the integration stack with the project's CDK CLI. */
export const cdkDeployer: IntegDeployer = {
  deploy: (step) => deployStack(INTEG_STACK, { [STEP_CONTEXT]: step }),
  destroy: () => destroyStack(INTEG_STACK),
};

/** Runs the integration; returns the exit code. */
export async function main(print: (line: string) => void, deployer: IntegDeployer = cdkDeployer): Promise<number> {
  try {
    const aws = await checkAwsEnvironment(COMMAND);
    print(`credentials ${aws.credentials}, region ${aws.region}; stack ${INTEG_STACK}`);
  } catch (e) {
    if (!(e instanceof MissingAwsEnvironment)) throw e;
    print(e.message);
    return 2;
  }
  const sc = new ServiceCatalogClient({ maxAttempts: 6 });
  try {
    const passed = await runIntegration({ sc, deployer, print, checkTimeoutMs: 60_000, pollMs: 2_000 });
    return passed ? 0 : 1;
  } finally {
    sc.destroy();
  }
}

if (require.main === module) {
  main((line) => console.log(`[integ] ${line}`)).then(
    (code) => {
      process.exitCode = code;
    },
    (e: Error) => {
      console.error(`[integ] ${e.stack ?? e.message}`);
      process.exitCode = 1;
    },
  );
}
