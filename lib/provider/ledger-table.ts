/**
 * The provider's ledger: the DynamoDB table in which the handlers record each CloudFormation request's decision, each resource's latest request and each product's priors.
 */
import { RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type { Construct } from 'constructs';
import { LEDGER } from '../contract';

/** What each handler does with the ledger, as DynamoDB's item-level actions (a transaction needs those of its items). */
const LEDGER_ACTIONS = {
  // Powertools' idempotency record (put, read, complete, delete on failure); the one-time registration (a transaction's Put and Update); the priors.
  onEvent: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
  // The write lease and forgetting a deleted resource's priors.
  isComplete: ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
} as const;

/**
 * The ledger table: on demand (a handful of small writes per deploy, nothing when idle), with a
 * time to live on the attribute the idempotency records and registrations expire by, point-in-time
 * recovery (what the compliance packs ask of a table; a table of a few KB costs next to nothing to
 * keep recoverable), and encrypted with `encryptionKey` when given.
 *
 * It is deleted with the provider (RemovalPolicy.DESTROY): the handler functions name it in their
 * environment, so CloudFormation deletes it only after them, and they only after every instance,
 * whose ServiceToken is the provider's: the ledger outlives every instance's Delete. Nothing in it
 * is needed once the last instance is gone (each Delete has restored its product).
 */
export function createLedgerTable(scope: Construct, encryptionKey: kms.IKey | undefined): dynamodb.Table {
  const table = new dynamodb.Table(scope, 'Ledger', {
    partitionKey: { name: LEDGER.partitionKey, type: dynamodb.AttributeType.STRING },
    billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
    timeToLiveAttribute: LEDGER.timeToLiveAttribute,
    removalPolicy: RemovalPolicy.DESTROY,
    ...(encryptionKey ? { encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED, encryptionKey } : {}),
  });
  // On the L1, where every aws-cdk-lib of the peer range has it (the L2's option was renamed over time).
  (table.node.defaultChild as dynamodb.CfnTable).pointInTimeRecoverySpecification = { pointInTimeRecoveryEnabled: true };
  return table;
}

/** Grants each handler role the ledger actions it uses, on this table only, and the use of its key. */
export function grantLedger(table: dynamodb.Table, roles: { onEvent: iam.IGrantable; isComplete: iam.IGrantable }): void {
  for (const [handler, grantee] of Object.entries(roles) as Array<[keyof typeof LEDGER_ACTIONS, iam.IGrantable]>) {
    iam.Grant.addToPrincipal({ grantee, actions: [...LEDGER_ACTIONS[handler]], resourceArns: [table.tableArn] });
    table.encryptionKey?.grant(grantee, 'kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey');
  }
}

/** Lets isComplete read CloudFormation's status of the resources of this stack only (DescribeStackResource). */
export function grantStackStatus(scope: Construct, isComplete: iam.IGrantable): void {
  iam.Grant.addToPrincipal({
    grantee: isComplete,
    actions: ['cloudformation:DescribeStackResource'],
    resourceArns: [Stack.of(scope).stackId],
  });
}
