/**
 * What aws-cdk-lib's testhelpers/jest-autoclean does, for the aws-cdk-lib versions of the peer range
 * that predate it (jest.config.js uses this only there): an App without an outdir synthesizes into
 * a new temporary directory that nothing removes, some 600 KB each. The whole run gets one
 * temporary directory (TMPDIR, which the test workers inherit), removed when it ends.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The variable that hands the directory from the global setup to the global teardown (one process). */
const ROOT_ENV = 'PPP_JEST_TMPDIR';

/** jest's globalSetup: runs before the workers start, which inherit TMPDIR. */
export function setup(): void {
  const root = mkdtempSync(join(tmpdir(), 'ppp-jest-'));
  process.env[ROOT_ENV] = root;
  process.env.TMPDIR = root;
}

/** jest's globalTeardown: after every test file. */
export function teardown(): void {
  const root = process.env[ROOT_ENV];
  if (root) rmSync(root, { recursive: true, force: true });
}
