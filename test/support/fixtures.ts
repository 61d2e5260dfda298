/**
 * Principals and products the tests share: one account, a few owners and launch roles, and the
 * two-product fake Service Catalog the end-to-end tests start for each test.
 */
import { DynamoDBLocal, FakeCloudFormation, FakeServiceCatalog } from '../../harness';

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
 * Starts one fake CloudFormation for the test file (each lifecycle driver has it answer for its own
 * stack), checks after each test that no malformed call reached it, and closes it after the file.
 * Returns a getter for it.
 */
export function useFakeCloudFormation(): () => FakeCloudFormation {
  let cfn: FakeCloudFormation | undefined;
  beforeAll(async () => {
    cfn = await FakeCloudFormation.start();
  });
  afterEach(() => {
    expect(cfn?.violations).toEqual([]);
  });
  afterAll(async () => {
    await cfn?.close();
  });
  return () => {
    if (!cfn) throw new Error('the fake CloudFormation runs only inside a test');
    return cfn;
  };
}

/**
 * What a lifecycle driver needs besides the fake Service Catalog, for the whole test file: AWS's own
 * DynamoDB Local for the ledger (each driver creates its stack's table) and the fake CloudFormation.
 * Returns a getter for the driver options.
 */
export function useLedgerServices(): () => { dynamodb: DynamoDBLocal; cloudFormation: FakeCloudFormation } {
  const dynamodb = useDynamoDBLocal();
  const cloudFormation = useFakeCloudFormation();
  return () => ({ dynamodb: dynamodb(), cloudFormation: cloudFormation() });
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
