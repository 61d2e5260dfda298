/**
 * Which cdk-nag majors the installed aws-cdk-lib runs, for the tests that run them: cdk-nag 3 needs
 * aws-cdk-lib's acknowledgement API and the aws-cdk-lib its peer range names, newer than the
 * minimum of this package's range; cdk-nag 2 runs on the whole range.
 */
import { readFileSync } from 'node:fs';
import * as cdk from 'aws-cdk-lib';
import type { App } from 'aws-cdk-lib';

/**
 * aws-cdk-lib's acknowledgement API, which cdk-nag 3 reads. The oldest aws-cdk-lib versions of the
 * peer range do not have it: there the construct writes only the cdk_nag metadata cdk-nag 2 reads.
 */
export const Validations = (
  cdk as unknown as {
    Validations?: {
      readonly ACKNOWLEDGED_RULES_METADATA_KEY: string;
      of(scope: App): { addPlugins(...plugins: object[]): void };
    };
  }
).Validations;

/** The package.json of an installed package. */
const packageJson = (name: string) =>
  JSON.parse(readFileSync(require.resolve(`${name}/package.json`), 'utf8')) as {
    version: string;
    peerDependencies?: Record<string, string>;
  };
const packageVersion = (name: string) => packageJson(name).version;
const packagePeer = (name: string, peer: string) => packageJson(name).peerDependencies?.[peer] ?? '';
/** The minor version of an `x.y.z` or `^x.y.z`. */
const minor = (version: string) => Number(/(\d+)\.(\d+)\.\d+/.exec(version)?.[2]);
/**
 * Whether the installed aws-cdk-lib is one cdk-nag 3 supports (its peer range: 2.257.0 and later).
 * Below that, cdk-nag 3 cannot run (its users are on newer aws-cdk-lib) and its tests are skipped:
 * CI runs them against the newest aws-cdk-lib (scripts/check-peer-range.sh latest).
 */
export const V3_RUNS = Validations !== undefined && minor(packageVersion('aws-cdk-lib')) >= minor(packagePeer('cdk-nag', 'aws-cdk-lib'));

/**
 * A cdk-nag 3 report, as far as the tests read it (spelled out: on aws-cdk-lib versions older than
 * cdk-nag 3 supports, the aws-cdk-lib types its declarations name do not exist).
 */
export interface NagReport {
  readonly violations: ReadonlyArray<{
    readonly ruleName: string;
    readonly severity?: string;
    readonly violatingResources: ReadonlyArray<{ readonly constructPath?: string }>;
  }>;
}
