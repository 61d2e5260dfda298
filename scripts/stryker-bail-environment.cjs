// The Jest environment of mutation runs (stryker.config.mjs): once a test of a file fails, the
// mutant is caught, and the file's remaining tests are skipped instead of run to no purpose. Jest
// cannot bail programmatically, and most mutants fail most of the handler tests they touch.
'use strict';
// eslint-disable-next-line @typescript-eslint/no-require-imports -- Stryker's jest runner loads environments with require()
const { TestEnvironment } = require('jest-environment-node');

class BailOnFirstFailure extends TestEnvironment {
  failed = false;

  async handleTestEvent(event) {
    if (event.name === 'test_fn_failure' || event.name === 'hook_failure') this.failed = true;
    if (event.name === 'test_start' && this.failed) event.test.mode = 'skip';
  }
}

module.exports = BailOnFirstFailure;
