/** jest's globalSetup where aws-cdk-lib has no jest-autoclean: see jest-tmpdir.ts. */
export { setup as default } from './jest-tmpdir';
