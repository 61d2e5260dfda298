/**
 * `npm run test:contract:aws`: the contract suite (test/contract/) against the real Service Catalog and DynamoDB, printing for each behaviour "as the fake assumes" or "differs: …".
 *
 * Without credentials and a region it says what it needs and exits 2 before calling AWS. With
 * them it deploys its fixture stack (test/integ/app.ts ProvisionedProductPropertiesContractFixture:
 * portfolio, no-op product, provisioned product, roles, an on-demand table of the ledger's shape)
 * with the project's CDK CLI, runs the suite, and destroys the stack (CONTRACT_KEEP_FIXTURE=1
 * keeps it for the next run). CONTRACT_PROVISIONED_PRODUCT_ID names a product of your own instead,
 * and CONTRACT_LEDGER_TABLE_NAME a ledger-shaped table for the DynamoDB behaviours (see
 * test/contract/aws-target.ts).
 * Exit code: 0 when nothing differs, 1 when something does (or the run failed), 2 when it could not start.
 *
 *   npm run test:contract:aws             # against AWS
 *   npm run test:contract:aws -- --fake   # the same report against the project's fakes and DynamoDB Local (offline; Java 17)
 */
import { CONTRACT_FIXTURE_STACK } from '../test/integ/names';
import { awsTarget, fixtureFromEnv, fixtureFromOutputs } from '../test/contract/aws-target';
import { exitCodeOf, runContract } from '../test/contract/runner';
import { BEHAVIOURS } from '../test/contract/suite';
import type { ContractTarget } from '../test/contract/target';
import { MissingAwsEnvironment, TEST_APP, checkAwsEnvironment, deployStack, destroyStack } from './aws-environment';

const COMMAND = 'npm run test:contract:aws';

/** Runs the suite as the command line asks; returns the exit code. */
export async function main(argv: readonly string[], env: NodeJS.ProcessEnv, print: (line: string) => void): Promise<number> {
  if (argv.includes('--fake')) {
    // Loaded here: the fakes bring the harness, the CDK and DynamoDB Local, which a run against AWS does not need.
    const { startFakeTarget } = await import('../test/contract/fake-target');
    return runOn(await startFakeTarget(), print);
  }
  try {
    const aws = await checkAwsEnvironment(COMMAND);
    print(`credentials ${aws.credentials}, region ${aws.region}`);
  } catch (e) {
    if (!(e instanceof MissingAwsEnvironment)) throw e;
    print(e.message);
    return 2;
  }
  let named;
  try {
    named = fixtureFromEnv(env);
  } catch (e) {
    print((e as Error).message);
    return 2;
  }
  if (named) return runOn(await awsTarget(named), print);

  const keep = env.CONTRACT_KEEP_FIXTURE === '1';
  print(
    `deploying the fixture stack ${CONTRACT_FIXTURE_STACK} with the project's CDK CLI (a few minutes; its one billable part is an on-demand table: a run costs a fraction of a cent)`,
  );
  try {
    const outputs = await deployStack(CONTRACT_FIXTURE_STACK, {});
    return await runOn(await awsTarget(fixtureFromOutputs(outputs)), print);
  } catch (e) {
    print(`the run failed: ${(e as Error).message}`);
    return 1;
  } finally {
    if (keep) {
      print(
        `kept ${CONTRACT_FIXTURE_STACK} (CONTRACT_KEEP_FIXTURE=1); \`npx cdk destroy ${CONTRACT_FIXTURE_STACK} --app '${TEST_APP}'\` removes it`,
      );
    } else {
      print(`destroying ${CONTRACT_FIXTURE_STACK}`);
      await destroyStack(CONTRACT_FIXTURE_STACK).catch((e: Error) =>
        print(
          `could not destroy ${CONTRACT_FIXTURE_STACK}: ${e.message}. Delete it in the CloudFormation console or run the command again.`,
        ),
      );
    }
  }
}

/** Runs the suite on `target`, closes it, and returns the exit code. */
async function runOn(target: ContractTarget, print: (line: string) => void): Promise<number> {
  try {
    return exitCodeOf(await runContract(target, BEHAVIOURS, print), target);
  } finally {
    await target.close();
  }
}

if (require.main === module) {
  main(process.argv.slice(2), process.env, (line) => console.log(`[contract] ${line}`)).then(
    (code) => {
      process.exitCode = code;
    },
    (e: Error) => {
      console.error(`[contract] ${e.stack ?? e.message}`);
      process.exitCode = 1;
    },
  );
}
