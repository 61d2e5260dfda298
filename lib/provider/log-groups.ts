/**
 * The provider's two log groups (the functions' and the waiter's), and the grant that lets CloudWatch Logs use the user's log key.
 */
import { Annotations, ArnFormat, Fn, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';

/** Name prefixes of the provider's log groups (the stack's uuid follows), which the log key's grant is limited to. */
const LOG_GROUP_PREFIX = {
  functions: '/aws/lambda/provisioned-product-properties-',
  waiter: '/aws/vendedlogs/states/provisioned-product-properties-',
} as const;

/** The provider's log groups. */
export interface ProviderLogGroups {
  /** Every function's log group: the two handlers' and the framework's three. */
  readonly functions: logs.LogGroup;
  /** The waiter state machine's execution history. */
  readonly waiter: logs.LogGroup;
}

/**
 * Both log groups are named with the stack's id (so that a re-created stack never meets the group
 * a deleted one retained), under prefixes the log key's grant can name without a reference to this
 * stack. The waiter's group holds its execution history, every event but without execution data
 * (the waiter's input is the CloudFormation event, whose ResponseURL is a pre-signed S3 URL that
 * must not be logged), named under /aws/vendedlogs/ as Step Functions recommends (it keeps the
 * account's CloudWatch Logs resource policy small).
 */
export function createLogGroups(scope: Construct, stackUuid: string, encryptionKey: kms.IKey | undefined): ProviderLogGroups {
  if (encryptionKey) grantLogEncryption(scope, encryptionKey);
  const group = (id: string, prefix: string) =>
    new logs.LogGroup(scope, id, {
      logGroupName: Fn.join('', [prefix, stackUuid]),
      retention: logs.RetentionDays.THREE_MONTHS,
      removalPolicy: RemovalPolicy.RETAIN,
      encryptionKey,
    });
  return { functions: group('Logs', LOG_GROUP_PREFIX.functions), waiter: group('WaiterLogs', LOG_GROUP_PREFIX.waiter) };
}

/**
 * Lets CloudWatch Logs use `key` for the provider's log groups: the key-policy statement of the
 * CloudWatch Logs documentation, for this region's logs service, limited by the encryption context
 * to log groups named with the provider's prefixes in this account and region. The group names
 * are matched by prefix, not by the stack's uuid, because the key's policy must not refer to this
 * stack (the key is created first, and may be in another stack). For an imported key, whose policy
 * the app cannot change, warns at synth with the statement to add.
 */
function grantLogEncryption(scope: Construct, key: kms.IKey): void {
  const stack = Stack.of(scope);
  const groups = Object.values(LOG_GROUP_PREFIX).map((prefix) =>
    stack.formatArn({ service: 'logs', resource: 'log-group', resourceName: `${prefix}*`, arnFormat: ArnFormat.COLON_RESOURCE_NAME }),
  );
  const principal = `logs.${stack.region}.amazonaws.com`;
  const { statementAdded } = key.addToResourcePolicy(
    new iam.PolicyStatement({
      principals: [new iam.ServicePrincipal(principal)],
      actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
      resources: ['*'],
      conditions: { ArnLike: { 'kms:EncryptionContext:aws:logs:arn': groups } },
    }),
  );
  if (!statementAdded) {
    const literal = (v: string, placeholder: string) => (Token.isUnresolved(v) ? placeholder : v);
    const said = Object.values(LOG_GROUP_PREFIX).map(
      (prefix) =>
        `arn:${literal(stack.partition, '<partition>')}:logs:${literal(stack.region, '<region>')}:${literal(stack.account, '<account>')}:log-group:${prefix}*`,
    );
    Annotations.of(scope).addWarningV2(
      'cdk-provisioned-product-properties:logEncryptionKeyPolicy',
      `logEncryptionKey ${key.node.path} is imported, so the app cannot change its key policy: CloudWatch Logs must be allowed to use the key, or the provider's log groups fail to create. ` +
        `Add to the key policy an Allow of kms:Encrypt*, kms:Decrypt*, kms:ReEncrypt*, kms:GenerateDataKey*, kms:Describe* on * for the service principal logs.${literal(stack.region, '<region>')}.amazonaws.com, ` +
        `with the condition ArnLike kms:EncryptionContext:aws:logs:arn ${said.join(' or ')} (see docs/compliance.md, Encrypted logs).`,
    );
  }
}
