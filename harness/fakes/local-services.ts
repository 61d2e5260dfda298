/**
 * The services the handlers talk to, started and closed together, for the demo, the benchmark and tests that need them all:
 * the fake Service Catalog, AWS's own DynamoDB Local for the ledger, and the fake CloudFormation.
 */
import { DynamoDBLocal } from './dynamodb-local';
import { FakeCloudFormation } from './fake-cloudformation';
import { FakeServiceCatalog, type FakeServiceCatalogOptions } from './fake-service-catalog';

/** A fake Service Catalog, a DynamoDB Local and a fake CloudFormation, on 127.0.0.1. */
export interface LocalServices {
  readonly serviceCatalog: FakeServiceCatalog;
  readonly dynamodb: DynamoDBLocal;
  readonly cloudFormation: FakeCloudFormation;
  /** The driver options that point the handlers at them. */
  readonly driverOptions: { readonly endpoint: string; readonly dynamodb: DynamoDBLocal; readonly cloudFormation: FakeCloudFormation };
  /** Stops them all. */
  close(): Promise<void>;
}

/**
 * Starts them all (DynamoDB Local takes a second or two: a JVM). With `shared`, uses that DynamoDB
 * Local and fake CloudFormation instead (many runs at once: each driver plays a stack of its own),
 * and close() leaves them running.
 */
export async function startLocalServices(
  options: FakeServiceCatalogOptions = {},
  shared?: { readonly dynamodb: DynamoDBLocal; readonly cloudFormation: FakeCloudFormation },
): Promise<LocalServices> {
  const [serviceCatalog, dynamodb, cloudFormation] = await Promise.all([
    FakeServiceCatalog.start(options),
    shared?.dynamodb ?? DynamoDBLocal.start(),
    shared?.cloudFormation ?? FakeCloudFormation.start(),
  ]);
  return {
    serviceCatalog,
    dynamodb,
    cloudFormation,
    driverOptions: { endpoint: serviceCatalog.endpoint, dynamodb, cloudFormation },
    close: async () => {
      await Promise.all([serviceCatalog.close(), ...(shared ? [] : [dynamodb.close(), cloudFormation.close()])]);
    },
  };
}
