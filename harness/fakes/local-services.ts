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

/** Starts them all (DynamoDB Local takes a second or two: a JVM). */
export async function startLocalServices(options: FakeServiceCatalogOptions = {}): Promise<LocalServices> {
  const [serviceCatalog, dynamodb, cloudFormation] = await Promise.all([
    FakeServiceCatalog.start(options),
    DynamoDBLocal.start(),
    FakeCloudFormation.start(),
  ]);
  return {
    serviceCatalog,
    dynamodb,
    cloudFormation,
    driverOptions: { endpoint: serviceCatalog.endpoint, dynamodb, cloudFormation },
    close: async () => {
      await Promise.all([serviceCatalog.close(), dynamodb.close(), cloudFormation.close()]);
    },
  };
}
