/**
 * Principals and products the tests share: one account, a few owners and launch roles, and the
 * two-product fake Service Catalog the end-to-end tests start for each test.
 */
import { DynamoDBLocal, FakeServiceCatalog, FakeStepFunctions } from '../../harness';

export const ACCOUNT = '123456789012';
/** The original owners of the test products. */
export const ALICE = `arn:aws:iam::${ACCOUNT}:user/alice`;
export const BOB = `arn:aws:iam::${ACCOUNT}:user/bob`;
/** Owners a resource sets. */
export const ADMIN = `arn:aws:iam::${ACCOUNT}:role/PlatformAdmin`;
export const OPS = `arn:aws:iam::${ACCOUNT}:role/Ops`;
/** Launch roles. */
export const LAUNCH_A = `arn:aws:iam::${ACCOUNT}:role/LaunchA`;
export const LAUNCH_B = `arn:aws:iam::${ACCOUNT}:role/LaunchB`;

/**
 * Starts a fake Service Catalog before each test with pp-alpha (owner ALICE, launch role LAUNCH_A)
 * and pp-beta (owner BOB, no launch role), checks after each that no malformed call reached it, and
 * closes it. Returns a getter for the current fake.
 */
export function useTwoProductFake(recordDurationMs = 10): () => FakeServiceCatalog {
  let fake: FakeServiceCatalog | undefined;
  beforeEach(async () => {
    fake = await FakeServiceCatalog.start({ recordDurationMs, account: ACCOUNT });
    fake.addProduct({ id: 'pp-alpha', owner: ALICE, launchRole: LAUNCH_A });
    fake.addProduct({ id: 'pp-beta', owner: BOB });
  });
  afterEach(async () => {
    const current = fake;
    fake = undefined;
    if (!current) return;
    try {
      expect(current.violations).toEqual([]);
    } finally {
      await current.close();
    }
  });
  return () => {
    if (!fake) throw new Error('the fake Service Catalog runs only inside a test');
    return fake;
  };
}

/**
 * Starts one fake Step Functions for the test file (the lifecycle driver has it serve its own
 * waiter's executions), checks after each test that no malformed call reached it, and closes it
 * after the file. Returns a getter for it.
 */
export function useFakeStepFunctions(): () => FakeStepFunctions {
  let sfn: FakeStepFunctions | undefined;
  beforeAll(async () => {
    sfn = await FakeStepFunctions.start();
  });
  afterEach(() => {
    expect(sfn?.violations).toEqual([]);
  });
  afterAll(async () => {
    await sfn?.close();
  });
  return () => {
    if (!sfn) throw new Error('the fake Step Functions runs only inside a test');
    return sfn;
  };
}

/**
 * Starts one DynamoDB Local (AWS's own emulator, on 127.0.0.1) for the test file and stops it after
 * the file. Returns a getter for it; each test creates the tables it needs.
 */
export function useDynamoDBLocal(): () => DynamoDBLocal {
  let local: DynamoDBLocal | undefined;
  beforeAll(async () => {
    local = await DynamoDBLocal.start();
  }, 90_000);
  afterAll(async () => {
    await local?.close();
  });
  return () => {
    if (!local) throw new Error('DynamoDB Local runs only inside a test');
    return local;
  };
}
