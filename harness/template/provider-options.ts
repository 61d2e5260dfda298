/**
 * The provider options a regulated account sets (its VPC, a log key, reserved concurrency, tracing), which constructStack adds when E2E_PROVIDER_OPTIONS=regulated.
 *
 * The driver runs the functions in-process and ignores where they would run, so these change the
 * template but must change nothing of the behaviour: any e2e test can be rerun with them, e.g.
 * `E2E_PROVIDER_OPTIONS=regulated npx jest test/e2e/faults.test.ts`.
 */
import type { Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import type { SharedProviderProps } from '../../lib';

/** The environment variable that selects the provider options constructStack adds. */
export const PROVIDER_OPTIONS_ENV = 'E2E_PROVIDER_OPTIONS';

/** The options E2E_PROVIDER_OPTIONS asks for in `stack` (none when it is unset). */
export function providerOptionsFromEnv(stack: Stack): SharedProviderProps {
  const asked = process.env[PROVIDER_OPTIONS_ENV];
  if (asked === undefined || asked === '') return {};
  if (asked !== 'regulated') throw new Error(`${PROVIDER_OPTIONS_ENV}=${asked} is not known: use 'regulated', or leave it unset`);
  return regulatedOptions(stack);
}

/** A VPC of two isolated subnets, rotated log and ledger keys, reserved concurrency 10 and tracing, in `stack`. */
export function regulatedOptions(stack: Stack): SharedProviderProps {
  const vpc = new ec2.Vpc(stack, 'RegulatedVpc', {
    maxAzs: 2,
    natGateways: 0,
    subnetConfiguration: [{ name: 'Private', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }],
  });
  const logEncryptionKey = new kms.Key(stack, 'RegulatedLogKey', { enableKeyRotation: true });
  const ledgerEncryptionKey = new kms.Key(stack, 'RegulatedLedgerKey', { enableKeyRotation: true });
  return { vpc, logEncryptionKey, ledgerEncryptionKey, reservedConcurrency: 10, tracing: true };
}
