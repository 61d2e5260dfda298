/** jest's globalTeardown where aws-cdk-lib has no jest-autoclean: see jest-tmpdir.ts. */
export { teardown as default } from './jest-tmpdir';
