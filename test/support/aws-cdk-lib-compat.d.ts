/**
 * The aws-cdk-lib props newer than the peer range's minimum (package.json) that the harness and the
 * tests pass, declared here so that they type-check against every aws-cdk-lib of the range (CI
 * builds and tests both ends: scripts/check-peer-range.sh). An older aws-cdk-lib ignores them at
 * run time. Where a newer aws-cdk-lib declares a member itself, the declarations merge.
 */
import 'aws-cdk-lib';

declare module 'aws-cdk-lib/core/lib/app' {
  interface AppProps {
    /**
     * Whether synth runs aws-cdk-lib's built-in CloudFormation validation (aws-cdk-lib 2.275.0 and later).
     *
     * @default true
     */
    readonly builtinCloudFormationValidation?: boolean;
  }
}
