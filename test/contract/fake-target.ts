/**
 * The contract target over the project's fakes: a fake Service Catalog seeded with one product provisioned by an assumed-role session, and a table of the ledger's shape on AWS's own DynamoDB Local.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ServiceCatalogClient } from '@aws-sdk/client-service-catalog';
import { DynamoDBLocal, FakeServiceCatalog } from '../../harness';
import { LEDGER } from '../../lib/contract';
import { handlerEnvOf } from './handler-ledger';
import type { ContractTarget, LedgerTable } from './target';

export const FAKE_ACCOUNT = '123456789012';
const REGION = 'us-east-1';

/** The fixture the fake target holds, named as the AWS fixture's outputs name it. */
export const FAKE_FIXTURE = {
  productId: 'pp-contractfixt01',
  /** Who provisioned the product: an assumed-role session, as CloudFormation's is. */
  provisioner: `arn:aws:sts::${FAKE_ACCOUNT}:assumed-role/ContractProvisioner/contract-session`,
  /** The launch role the product was provisioned with (the AWS fixture's launch constraint). */
  priorLaunchRole: `arn:aws:iam::${FAKE_ACCOUNT}:role/ContractPriorLaunchRole`,
  owners: [`arn:aws:iam::${FAKE_ACCOUNT}:role/ContractOwnerA`, `arn:aws:iam::${FAKE_ACCOUNT}:role/ContractOwnerB`] as const,
  launchRole: `arn:aws:iam::${FAKE_ACCOUNT}:role/ContractLaunchRole`,
} as const;

/** The fake target, with the fakes behind it (for checks on the calls they received). */
export interface FakeTarget extends ContractTarget {
  readonly fakeServiceCatalog: FakeServiceCatalog;
  readonly dynamodbLocal: DynamoDBLocal;
  readonly ledger: LedgerTable;
}

/** Options of {@link startFakeTarget}. */
export interface FakeTargetOptions {
  /** How long a record runs; long enough to be seen running. Default 400 ms. */
  readonly recordDurationMs?: number;
  /**
   * A running DynamoDB Local to create the target's table in (left running on close), so that a
   * test file starts the JVM once. Default: one of the target's own, stopped on close.
   */
  readonly dynamodbLocal?: DynamoDBLocal;
}

/** The SDK settings that point a client at a fake: its endpoint, a region and dummy credentials. */
export function fakeClientConfig(endpoint: string) {
  return { endpoint, region: REGION, credentials: { accessKeyId: 'contract', secretAccessKey: 'contract' }, maxAttempts: 1 };
}

/** Starts the fakes, the fixture product and a fresh ledger-shaped table, and returns the target over them. */
export async function startFakeTarget(options: FakeTargetOptions = {}): Promise<FakeTarget> {
  const [scStart, ddbStart] = await Promise.allSettled([
    FakeServiceCatalog.start({ recordDurationMs: options.recordDurationMs ?? 400, account: FAKE_ACCOUNT }),
    options.dynamodbLocal ?? DynamoDBLocal.start(),
  ]);
  if (scStart.status === 'rejected' || ddbStart.status === 'rejected') {
    // Stop what did start (DynamoDB Local says what it needs when Java is missing).
    if (scStart.status === 'fulfilled') await scStart.value.close();
    if (ddbStart.status === 'fulfilled' && !options.dynamodbLocal) await ddbStart.value.close();
    throw scStart.status === 'rejected' ? scStart.reason : (ddbStart as PromiseRejectedResult).reason;
  }
  const [serviceCatalog, dynamodbLocal] = [scStart.value, ddbStart.value];
  const tableName = await dynamodbLocal.createTable({
    logicalId: 'ContractLedger',
    partitionKey: LEDGER.partitionKey,
    timeToLiveAttribute: LEDGER.timeToLiveAttribute,
  });
  const ddbConfig = fakeClientConfig(dynamodbLocal.endpoint);
  const ledger: LedgerTable = { tableName, client: new DynamoDBClient(ddbConfig), handlerEnv: handlerEnvOf(ddbConfig) };
  serviceCatalog.addProduct({
    id: FAKE_FIXTURE.productId,
    owner: FAKE_FIXTURE.provisioner,
    launchRole: FAKE_FIXTURE.priorLaunchRole,
    name: 'ppp-contract-fixture',
  });
  const sc = new ServiceCatalogClient(fakeClientConfig(serviceCatalog.endpoint));
  return {
    name: 'the fake',
    kind: 'fake',
    serviceCatalog: sc,
    productId: FAKE_FIXTURE.productId,
    owners: FAKE_FIXTURE.owners,
    launchRole: FAKE_FIXTURE.launchRole,
    foreignAccount: '111111111111',
    timing: { pollMs: 20, recordTimeoutMs: 10_000 },
    fakeServiceCatalog: serviceCatalog,
    dynamodbLocal,
    ledger,
    // The fake knows no roles: the next record is planned to fail as an unknown launch role's would.
    unappliableWrite: () => {
      serviceCatalog.planNextRecord({
        fail: [{ Code: 'InvalidParametersException', Description: 'the fake fails this record as planned' }],
      });
      return Promise.resolve({ LAUNCH_ROLE: FAKE_FIXTURE.launchRole });
    },
    makeBusy: () => {
      serviceCatalog.setBusy(FAKE_FIXTURE.productId, 1_000);
      return Promise.resolve();
    },
    close: async () => {
      sc.destroy();
      ledger.client.destroy();
      await Promise.all([serviceCatalog.close(), options.dynamodbLocal ? undefined : dynamodbLocal.close()]);
    },
  };
}
