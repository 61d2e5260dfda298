/**
 * The contract target on AWS: the suite's own fixture stack (its outputs) or a provisioned product and a ledger-shaped table named by environment variables, reached through the standard credential chain.
 */
import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import {
  DescribeProvisionedProductCommand,
  ServiceCatalogClient,
  type ServiceCatalogClientConfig,
  UpdateProvisionedProductCommand,
} from '@aws-sdk/client-service-catalog';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { homeOf } from '../../lib/rules';
import { randomSuffix, sleep } from './behaviour';
import { handlerEnvOf } from './handler-ledger';
import { readProduct } from './probes';
import type { ContractTarget, LedgerTable } from './target';
import { CONTRACT_OUTPUTS, FIXTURE_OUTPUTS } from '../integ/names';

/** What the suite needs on AWS. */
export interface AwsFixture {
  readonly productId: string;
  /** An owner the suite may set; the product's current owner is the other one it alternates with. */
  readonly owner: string;
  /** A launch role the suite may set (other than the product's current one). */
  readonly launchRole: string;
  /** A role the suite may assume that may update provisioned products but not pass roles. */
  readonly noPassRoleRoleArn?: string;
  /** A table of the ledger's shape (partition key `id`, a string; TTL on `expiration`) the suite may write items of its own to. */
  readonly ledgerTableName?: string;
  /** Whether the suite may update the provisioned product itself to make it busy: only its own fixture. */
  readonly mayUpdateProduct: boolean;
}

/** The environment variables that name a product of your own instead of the fixture. */
export const CONTRACT_ENV = {
  productId: 'CONTRACT_PROVISIONED_PRODUCT_ID',
  owner: 'CONTRACT_OWNER_ARN',
  launchRole: 'CONTRACT_LAUNCH_ROLE_ARN',
  noPassRoleRoleArn: 'CONTRACT_NO_PASSROLE_ROLE_ARN',
  ledgerTableName: 'CONTRACT_LEDGER_TABLE_NAME',
} as const;

/** A product named by the environment ({@link CONTRACT_ENV}), or undefined when none is; throws what is missing. */
export function fixtureFromEnv(env: NodeJS.ProcessEnv): AwsFixture | undefined {
  const productId = env[CONTRACT_ENV.productId];
  if (!productId) return undefined;
  const owner = env[CONTRACT_ENV.owner];
  const launchRole = env[CONTRACT_ENV.launchRole];
  const missing = [!owner && CONTRACT_ENV.owner, !launchRole && CONTRACT_ENV.launchRole].filter(Boolean);
  if (!owner || !launchRole) {
    throw new Error(
      `${CONTRACT_ENV.productId}=${productId} names your own product, so the suite also needs ${missing.join(' and ')}: ` +
        'an owner and a launch role of its account that it may set (it puts the current ones back after each change). ' +
        `Optional: ${CONTRACT_ENV.noPassRoleRoleArn} (a role you may assume that may update provisioned products but not iam:PassRole) and ` +
        `${CONTRACT_ENV.ledgerTableName} (a DynamoDB table of the ledger's shape, partition key "id" (a string) and TTL on "expiration", that the suite may write items of its own to).`,
    );
  }
  return {
    productId,
    owner,
    launchRole,
    noPassRoleRoleArn: env[CONTRACT_ENV.noPassRoleRoleArn] || undefined,
    ledgerTableName: env[CONTRACT_ENV.ledgerTableName] || undefined,
    mayUpdateProduct: false,
  };
}

/** The fixture stack's outputs as a fixture; throws naming a missing output. */
export function fixtureFromOutputs(outputs: Readonly<Record<string, string>>): AwsFixture {
  const get = (key: string): string => {
    const value = outputs[key];
    if (!value) throw new Error(`The contract fixture stack has no output ${key} (outputs: ${Object.keys(outputs).join(', ') || 'none'})`);
    return value;
  };
  return {
    productId: get(FIXTURE_OUTPUTS.productId),
    owner: get(FIXTURE_OUTPUTS.ownerA),
    launchRole: get(FIXTURE_OUTPUTS.launchRole),
    noPassRoleRoleArn: get(CONTRACT_OUTPUTS.noPassRoleRoleArn),
    ledgerTableName: get(CONTRACT_OUTPUTS.ledgerTableName),
    mayUpdateProduct: true,
  };
}

/**
 * The target over `fixture`. `clientConfig` goes to every client, `dynamodbConfig` (default: the
 * same) to the DynamoDB ones, the suite's and, through the environment, the handler's (the tests
 * point them at the fakes and DynamoDB Local); by default the SDK's standard credential chain and
 * region apply.
 */
export async function awsTarget(
  fixture: AwsFixture,
  clientConfig: ServiceCatalogClientConfig = {},
  dynamodbConfig: DynamoDBClientConfig = clientConfig,
): Promise<ContractTarget> {
  const sc = new ServiceCatalogClient({ maxAttempts: 6, ...clientConfig });
  // A product provisioned moments ago (the fixture) can take a while to appear in the search.
  let product = await readProduct(sc, fixture.productId);
  for (let attempt = 1; !product.listed && attempt < 30; attempt++) {
    await sleep(2_000);
    product = await readProduct(sc, fixture.productId);
  }
  const home = homeOf(product.arn);
  if (!home) throw new Error(`Provisioned product ${fixture.productId} has Arn ${JSON.stringify(product.arn)}, which names no account`);
  if (product.owner === '' || product.owner === fixture.owner) {
    throw new Error(
      `The suite alternates the owner between the product's current one (${product.owner || 'unknown: the search does not list it'}) and ${fixture.owner}: they must be two different principals.`,
    );
  }
  const region = await sc.config.region();
  const withoutPassRole = fixture.noPassRoleRoleArn ? assumedClient(fixture.noPassRoleRoleArn, clientConfig) : undefined;
  const ledger: LedgerTable | undefined = fixture.ledgerTableName
    ? {
        tableName: fixture.ledgerTableName,
        client: new DynamoDBClient({ maxAttempts: 6, ...dynamodbConfig }),
        handlerEnv: handlerEnvOf(dynamodbConfig),
      }
    : undefined;
  return {
    name: `AWS account ${home.account}, ${region}`,
    kind: 'aws',
    serviceCatalog: sc,
    productId: fixture.productId,
    owners: [fixture.owner, product.owner],
    launchRole: fixture.launchRole,
    foreignAccount: home.account === '111111111111' ? '222222222222' : '111111111111',
    timing: { pollMs: 1_000, recordTimeoutMs: 10 * 60_000 },
    unappliableWrite: () =>
      Promise.resolve({ LAUNCH_ROLE: `arn:${home.partition}:iam::${home.account}:role/ppp-contract-no-such-role-${randomSuffix(10)}` }),
    makeBusy: fixture.mayUpdateProduct ? () => updateInPlace(sc, fixture.productId) : undefined,
    withoutPassRole,
    ledger,
    close: () => {
      sc.destroy();
      withoutPassRole?.destroy();
      ledger?.client.destroy();
      return Promise.resolve();
    },
  };
}

/** Updates the provisioned product to its own artifact (no change to its stack): it is UNDER_CHANGE meanwhile. */
async function updateInPlace(sc: ServiceCatalogClient, productId: string): Promise<void> {
  const detail = (await sc.send(new DescribeProvisionedProductCommand({ Id: productId }))).ProvisionedProductDetail ?? {};
  await sc.send(
    new UpdateProvisionedProductCommand({
      ProvisionedProductId: productId,
      ProductId: detail.ProductId,
      ProvisioningArtifactId: detail.ProvisioningArtifactId,
      UpdateToken: `contract-busy-${randomSuffix(16)}`,
    }),
  );
  await sleep(1_000);
}

/** A Service Catalog client acting as `roleArn` (assumed through STS with the caller's credentials). */
function assumedClient(roleArn: string, clientConfig: ServiceCatalogClientConfig): ServiceCatalogClient {
  const sts = new STSClient({ ...(clientConfig as object) });
  return new ServiceCatalogClient({
    maxAttempts: 6,
    ...clientConfig,
    credentials: async () => {
      const out = await sts.send(
        new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: `ppp-contract-${randomSuffix(8)}`, DurationSeconds: 3600 }),
      );
      const c = out.Credentials;
      if (!c?.AccessKeyId || !c.SecretAccessKey) throw new Error(`AssumeRole of ${roleArn} returned no credentials`);
      return { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.SessionToken, expiration: c.Expiration };
    },
  });
}
