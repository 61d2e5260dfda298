// aws-cdk-lib's jest helper that removes the temporary assembly directories apps synthesize to;
// the versions of the peer range older than it (its minimum, which CI tests) get one temporary
// directory for the whole run instead, removed at its end (test/support/jest-tmpdir.ts).
const autoclean = 'aws-cdk-lib/testhelpers/jest-autoclean';
const hasAutoclean = (() => {
  try {
    require.resolve(autoclean);
    return true;
  } catch {
    return false;
  }
})();

/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    // Type-checking is done once by `npm run typecheck`; jest only transpiles.
    '^.+\\.tsx?$': ['ts-jest', { diagnostics: false }],
  },
  setupFiles: ['<rootDir>/test/support/jest-env.ts'],
  ...(hasAutoclean
    ? { setupFilesAfterEnv: [autoclean] }
    : { globalSetup: '<rootDir>/test/support/jest-tmpdir-setup.ts', globalTeardown: '<rootDir>/test/support/jest-tmpdir-teardown.ts' }),
  testTimeout: 60000,
};
