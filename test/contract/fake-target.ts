/**
 * The contract target over the project's fakes: a fake Service Catalog seeded with one product provisioned by an assumed-role session.
 */
import { ServiceCatalogClient } from '@aws-sdk/client-service-catalog';
import { FakeServiceCatalog } from '../../harness';
import type { ContractTarget } from './target';

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

/** The fake target, with the fake behind it (for checks on the calls it received). */
export interface FakeTarget extends ContractTarget {
  readonly fakeServiceCatalog: FakeServiceCatalog;
}

/** Options of {@link startFakeTarget}. */
export interface FakeTargetOptions {
  /** How long a record runs; long enough to be seen running. Default 400 ms. */
  readonly recordDurationMs?: number;
}

/** The SDK settings that point a client at a fake: its endpoint, a region and dummy credentials. */
export function fakeClientConfig(endpoint: string) {
  return { endpoint, region: REGION, credentials: { accessKeyId: 'contract', secretAccessKey: 'contract' }, maxAttempts: 1 };
}

/** Starts the fake with the fixture product and returns the target over it. */
export async function startFakeTarget(options: FakeTargetOptions = {}): Promise<FakeTarget> {
  const serviceCatalog = await FakeServiceCatalog.start({ recordDurationMs: options.recordDurationMs ?? 400, account: FAKE_ACCOUNT });
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
      await serviceCatalog.close();
    },
  };
}
