/**
 * The public settings of the provider that every ProvisionedProductProperties in a stack shares: waiter timing, network, encryption, concurrency, tracing.
 */
import type { Duration } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type { DriftCheck } from '../drift-check';

/**
 * Settings of the one provider (functions, waiter, log groups) that every
 * ProvisionedProductProperties in a stack shares.
 *
 * The first instance in a stack creates the provider with its settings. Every later instance that
 * sets one of these must set the same value (or leave it unset to use the provider's): a different
 * value is an error at synth naming both instances.
 */
export interface SharedProviderProps {
  /**
   * How often the provider's waiter asks whether a slow Service Catalog record has finished.
   * Records that finish within the first 15 seconds are reported at once without it.
   *
   * @default Duration.seconds(5)
   */
  readonly queryInterval?: Duration;

  /**
   * How long to wait for a record (including a busy product becoming available) before failing
   * the deployment. At most one hour, CloudFormation's limit for a custom resource.
   *
   * It also bounds how late a CloudFormation event may start: one that Lambda could not run
   * within the hour minus totalTimeout and two minutes (throttled by `reservedConcurrency`, say)
   * goes to the dead-letter queue instead, so that no write lands after CloudFormation has given
   * up on the event and rolled back.
   *
   * @default Duration.minutes(30)
   */
  readonly totalTimeout?: Duration;

  /**
   * The VPC to run every Lambda function of the provider in: the two handlers and the provider
   * framework's onEvent, isComplete and onTimeout.
   *
   * The functions then reach AWS only through the VPC: their subnets need a NAT gateway, or
   * interface endpoints for Service Catalog (`servicecatalog`), CloudFormation (`cloudformation`),
   * Step Functions (`states`) and Lambda (`lambda`) plus gateway endpoints for DynamoDB (the
   * ledger) and S3 (CloudFormation's response URL is in S3). See docs/compliance.md.
   *
   * @default - the functions run outside any VPC of yours
   */
  readonly vpc?: ec2.IVpc;

  /**
   * Which subnets of `vpc` the functions run in. Public subnets are rejected: a Lambda function's
   * network interface gets no public IP address.
   *
   * @default - the VPC's default selection (its private subnets)
   */
  readonly vpcSubnets?: ec2.SubnetSelection;

  /**
   * The security groups of every function of the provider, in `vpc`.
   *
   * @default - one security group for all of them, allowing outbound HTTPS (TCP 443) only
   */
  readonly securityGroups?: ec2.ISecurityGroup[];

  /**
   * The KMS key that encrypts the provider's two log groups (the functions' log group and the
   * waiter's). The construct adds to the key's policy the grant CloudWatch Logs needs, limited to
   * log groups named like the provider's; for an imported key, whose policy the app cannot change,
   * add it yourself (see the README).
   *
   * @default - the log groups are encrypted by CloudWatch Logs with its own keys
   */
  readonly logEncryptionKey?: kms.IKey;

  /**
   * The KMS key that encrypts the provider's ledger, the DynamoDB table in which the handlers
   * record each CloudFormation request's decision and each product's prior owner and launch role.
   * The handler roles are granted its use (kms:Decrypt, kms:Encrypt, kms:GenerateDataKey); for an
   * imported key, whose policy the app cannot change, allow them in the key policy yourself.
   *
   * @default - the table is encrypted at rest with a key DynamoDB owns
   */
  readonly ledgerEncryptionKey?: kms.IKey;

  /**
   * Reserved concurrency of every function of the provider (each of the five reserves this many
   * executions from the account's regional limit). A whole number, at least 1.
   *
   * Every instance in the stack may run at once, and each needs one execution of each function at
   * a time: it must be at least the number of instances in the stack (synth fails otherwise, naming
   * both numbers). Leave room above it: a retried or duplicated event also takes an execution.
   *
   * @default - no reserved concurrency: the functions share the account's unreserved concurrency
   */
  readonly reservedConcurrency?: number;

  /**
   * Whether X-Ray active tracing is on for every function of the provider and for the waiter
   * state machine.
   *
   * @default false
   */
  readonly tracing?: boolean;

  /**
   * A scheduled check of every product the stack's instances manage: a difference from what the
   * stack declares (an owner or launch role changed outside the stack) is logged and counted in a
   * metric to alarm on (`metricDrift()`), and with `DriftCheck.daily({ restore: true })` written
   * back. The check runs in its own function, with its own role, in the provider's VPC, with its
   * keys and tracing.
   *
   * @default - no drift check
   */
  readonly driftCheck?: DriftCheck;
}
