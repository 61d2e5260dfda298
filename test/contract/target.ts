/**
 * What the contract suite runs against: a Service Catalog with one provisioned product it may change (and puts back), principals to set, and a DynamoDB table of the ledger's shape.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { ServiceCatalogClient } from '@aws-sdk/client-service-catalog';

/** How long the target's operations take, and so how the suite waits on them. */
export interface TargetTiming {
  /** Pause between polls of a record or a product's status. */
  readonly pollMs: number;
  /** How long a record (or a busy product) may take before the suite gives up on it. */
  readonly recordTimeoutMs: number;
}

/**
 * A DynamoDB table of the ledger's shape (lib/contract.ts LEDGER: partition key `id`, a string;
 * TTL on `expiration`) that the suite may write items of its own to.
 */
export interface LedgerTable {
  readonly tableName: string;
  /** A client of the table's DynamoDB, for the suite's own requests. */
  readonly client: DynamoDBClient;
  /**
   * What the handler's ledger modules (lambda/ledger.ts, which reads its settings from the
   * environment as in Lambda) need in the environment, besides the table's name, to reach the
   * same DynamoDB: nothing on AWS (the standard chain, like the suite's clients), the endpoint,
   * region and credentials of DynamoDB Local for the fake.
   */
  readonly handlerEnv: Readonly<Record<string, string>>;
}

/** One endpoint the suite can run against: the project's fakes, or AWS. */
export interface ContractTarget {
  /** How the report names it ('the fake', 'AWS account 123456789012, eu-west-1'). */
  readonly name: string;
  /** The project's fakes, or a real service. */
  readonly kind: 'fake' | 'aws';
  readonly serviceCatalog: ServiceCatalogClient;
  /** The provisioned product the suite reads and changes (its owner and launch role are put back after each change). */
  readonly productId: string;
  /** Two owners and a launch role of the product's account that the suite may set. */
  readonly owners: readonly [string, string];
  readonly launchRole: string;
  /** An account that is not the product's (no call is made to it). */
  readonly foreignAccount: string;
  readonly timing: TargetTiming;
  /** The properties of a write the service accepts but cannot apply (a launch role that does not exist, say). */
  unappliableWrite(): Promise<Record<string, string>>;
  /**
   * Keeps the product busy for a while through another operation than a properties write (an
   * update of the provisioned product); returns once it is under way. Absent: not possible here.
   */
  readonly makeBusy?: () => Promise<void>;
  /** A Service Catalog client whose principal may not iam:PassRole the launch role. Absent: none here. */
  readonly withoutPassRole?: ServiceCatalogClient;
  /** The ledger-shaped table. Absent: no DynamoDB behaviour runs. */
  readonly ledger?: LedgerTable;
  /** Stops what the target started and releases its clients. */
  close(): Promise<void>;
}
