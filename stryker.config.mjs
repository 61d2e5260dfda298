// Mutation testing (npm run test:mutation): how many deliberate faults in the input rules and the
// handler the tests that load the TypeScript sources catch. Not part of `npm test` (docs/mutation-testing.md).
/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  packageManager: 'npm',
  testRunner: 'jest',
  plugins: ['@stryker-mutator/jest-runner', './scripts/stryker-ignore-logger.mjs'],
  // Log calls are not mutated (scripts/stryker-ignore-logger.mjs): their text is not behaviour.
  ignorers: ['logger-calls'],
  // Every module with logic: the input rules (shared with synth) and every handler module (reading the
  // resource properties included). Left out:
  // lambda/logger.ts (one constructor call) and lambda/events.ts (types only).
  mutate: ['lib/rules.ts', 'lambda/*.ts', '!lambda/logger.ts', '!lambda/events.ts'],
  jest: {
    projectType: 'custom',
    configFile: 'jest.config.js',
    // Only the tests that load the sources: the e2e tests run the esbuild bundle, which Stryker does not mutate.
    config: {
      testMatch: ['<rootDir>/test/rules.test.ts', '<rootDir>/test/lambda/**/*.test.ts'],
      // Stop a test file at its first failure: the mutant is caught (scripts/stryker-bail-environment.cjs).
      testEnvironment: './scripts/stryker-bail-environment.cjs',
    },
    enableFindRelatedTests: true,
  },
  // Each mutant runs only the tests that executed its code in the dry run.
  coverageAnalysis: 'perTest',
  // A mutant in code that runs only when a module loads (a pattern, a constant) would need every
  // test, twice the time of the whole run: such "static" mutants are left out. The tests load the
  // rules, the physical id, the messages and the timing afresh inside a test,
  // so that what those modules build at load is still mutated and tested.
  ignoreStatic: true,
  // The machine has 2 cores shared with other work; the handler tests start fake HTTP servers and
  // wait on real (compressed) time, so a loaded machine needs generous timeouts.
  concurrency: 2,
  timeoutMS: 10_000,
  timeoutFactor: 2.5,
  // The handler modules keep per-container state (SDK clients, timing read from the environment):
  // a fresh Jest module registry per run is what Stryker's jest runner gives.
  ignorePatterns: ['cdk.out', 'dist', 'assets', 'coverage', 'reports', 'bench', '*.tgz'],
  reporters: ['clear-text', 'progress-append-only', 'html', 'json'],
  htmlReporter: { fileName: 'reports/mutation/index.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  clearTextReporter: { allowColor: false, logTests: false, reportTests: false, reportMutants: false, reportScoreTable: true },
  thresholds: { high: 90, low: 80, break: null },
  tempDirName: '.stryker-tmp',
  cleanTempDir: 'always',
};
