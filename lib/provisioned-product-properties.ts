/**
 * The public API: the ProvisionedProductProperties construct, its props, Owner and AcceptLanguage.
 */
import { CustomResource, Duration, Stack, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { RegionInfo } from 'aws-cdk-lib/region-info';
import { Construct } from 'constructs';
import { checkConcurrencyCoversInstances, shareStackSize } from './concurrency';
import { ATTRIBUTE, DRIFT, RESOURCE_PROPERTY, RESOURCE_TYPE, SERVICE_NAME } from './contract';
import { claimProduct } from './product-claims';
import { ProvisionedProductPropertiesProvider } from './provider/provider';
import type { SharedProviderProps } from './provider/shared-provider-props';
import { NOTHING_TO_MANAGE, type TypeRule, checkDeclaredValues, checkHome, checkProductIdKind, checkTypes, show } from './rules';

/** Language code for Service Catalog's AcceptLanguage parameter. */
export enum AcceptLanguage {
  /** English (Service Catalog's default). */
  ENGLISH = 'en',
  /** Japanese. */
  JAPANESE = 'jp',
  /** Chinese. */
  CHINESE = 'zh',
}

/**
 * The principal that owns a provisioned product: an IAM user, an IAM role or an STS assumed-role
 * session of the product's account. The owner can see, update, terminate and run service actions
 * on the product.
 */
export class Owner {
  /**
   * An owner given by ARN: an IAM user, IAM role or STS assumed-role ARN (tokens allowed).
   *
   * @param arn The owner's ARN, in the account of the product.
   */
  public static fromArn(arn: string): Owner {
    return new Owner(arn);
  }

  /**
   * The IAM role `role` as owner.
   *
   * @param role A role of the product's account, defined in the app or imported.
   */
  public static fromRole(role: iam.IRole): Owner {
    return new Owner(role.roleArn);
  }

  /**
   * The IAM user `user` as owner.
   *
   * @param user A user of the product's account, defined in the app or imported.
   */
  public static fromUser(user: iam.IUser): Owner {
    return new Owner(user.userArn);
  }

  /** @param arn The owner's ARN. */
  private constructor(public readonly arn: string) {}
}

/**
 * Properties of {@link ProvisionedProductProperties}: the product and the values to manage, and
 * the settings of the provider every instance in the stack shares ({@link SharedProviderProps}).
 */
export interface ProvisionedProductPropertiesProps extends SharedProviderProps {
  /**
   * The id of the provisioned product to manage (`pp-...`). Tokens are allowed.
   *
   * Two `ProvisionedProductProperties` in one app must not name the same product in one account
   * and region (an error at synth; for a token used twice, a warning). An id that is plainly
   * another kind of Service Catalog id (`prod-...`, `port-...`, `pa-...`, ...) is an error at synth.
   */
  readonly provisionedProductId: string;

  /**
   * The owner to give the product (Service Catalog's OWNER property).
   *
   * @default - the owner is not managed
   */
  readonly owner?: Owner;

  /**
   * The IAM role the product launches with (Service Catalog's LAUNCH_ROLE property).
   *
   * @default - the launch role is not managed
   */
  readonly launchRole?: iam.IRole;

  /**
   * The language for Service Catalog's messages.
   *
   * @default - Service Catalog's default (English)
   */
  readonly acceptLanguage?: AcceptLanguage;

  /**
   * Whether deleting this resource puts back the owner and launch role the product had before
   * this resource first changed them.
   *
   * `false` holds for every Delete, the ones of a rollback included: CloudFormation's Delete does
   * not say why it is sent, so a Create that succeeded and was then rolled back (another resource
   * of the stack failed) leaves its values in place too.
   *
   * @default true
   */
  readonly restoreOnDelete?: boolean;
}

/**
 * Manages the OWNER and LAUNCH_ROLE of an AWS Service Catalog provisioned product through
 * UpdateProvisionedProductProperties, and puts the prior values back when the resource is deleted.
 *
 * @example
 * import * as iam from 'aws-cdk-lib/aws-iam';
 * import { Owner, ProvisionedProductProperties } from 'cdk-provisioned-product-properties';
 *
 * new ProvisionedProductProperties(this, 'PlatformOwnership', {
 *   provisionedProductId: 'pp-abcd1234efgh5',
 *   owner: Owner.fromRole(platformAdminRole),
 *   launchRole: iam.Role.fromRoleArn(this, 'Launch', launchRoleArn),
 * });
 */
export class ProvisionedProductProperties extends Construct {
  /** The record of the last change this resource made ('' when nothing needed changing). */
  public readonly recordId: string;
  /** The product's owner before this resource first changed it. */
  public readonly previousOwnerArn: string;
  /** The product's launch role before this resource first changed it ('' when it had none). */
  public readonly previousLaunchRoleArn: string;
  /**
   * The dead-letter queue of the stack's provider (shared by every instance in the stack): a
   * CloudFormation event the provider could not handle after Lambda's retries lands here, for a
   * person to see. Encrypted by SQS, kept 14 days.
   */
  public readonly deadLetterQueue: sqs.IQueue;
  /** What the last successful Create or Update wrote over that someone had changed by hand ('' when nothing). */
  public readonly changedByHand: string;
  private readonly provider: ProvisionedProductPropertiesProvider;

  /**
   * Defines the custom resource, and the stack's shared provider when it is the stack's first.
   * Literal values are checked now: a value that breaks the input rules throws, naming the
   * construct path, the field and the value.
   *
   * @param scope The scope in which to define this construct; its stack hosts the shared provider.
   * @param id The scoped construct id.
   * @param props The product to manage, and its owner and/or launch role.
   */
  constructor(scope: Construct, id: string, props: ProvisionedProductPropertiesProps) {
    super(scope, id);
    this.checkProps(props);

    const provider = ProvisionedProductPropertiesProvider.getOrCreate(this, props);
    checkConcurrencyCoversInstances(provider);
    shareStackSize(provider);
    this.provider = provider;
    this.deadLetterQueue = provider.deadLetterQueue;
    const properties: Record<string, string> = {};
    if (props.owner) properties.OWNER = props.owner.arn;
    if (props.launchRole) properties.LAUNCH_ROLE = props.launchRole.roleArn;

    const resource = new CustomResource(this, 'Resource', {
      serviceToken: provider.serviceToken,
      resourceType: RESOURCE_TYPE,
      properties: {
        [RESOURCE_PROPERTY.productId]: props.provisionedProductId,
        [RESOURCE_PROPERTY.properties]: properties,
        [RESOURCE_PROPERTY.acceptLanguage]: props.acceptLanguage,
        [RESOURCE_PROPERTY.restoreOnDelete]: String(props.restoreOnDelete ?? true),
      },
    });
    this.recordId = resource.getAttString(ATTRIBUTE.recordId);
    this.previousOwnerArn = resource.getAttString(ATTRIBUTE.previousOwnerArn);
    this.previousLaunchRoleArn = resource.getAttString(ATTRIBUTE.previousLaunchRoleArn);
    this.changedByHand = resource.getAttString(ATTRIBUTE.changedByHand);
  }

  /**
   * The number of CloudFormation events waiting in {@link deadLetterQueue} (the maximum over 5
   * minutes): alarm when it is at least 1. Each such event is a deployment the provider could not
   * answer; see the README's Troubleshooting.
   *
   * @param props Options to change the metric's period, statistic, label, ...
   */
  public metricDeadLetterEvents(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
      statistic: 'Maximum',
      period: Duration.minutes(5),
      ...props,
    });
  }

  /**
   * The number of the stack's managed products whose owner or launch role the last drift check
   * found different from what the stack declares (the maximum over the check's interval): alarm
   * when it is at least 1. One metric for the whole stack, whichever instance it is read from; the
   * log names each product, key, declared and found value. Needs the provider's `driftCheck`.
   *
   * @param props Options to change the metric's period, statistic, label, ...
   */
  public metricDrift(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    const check = this.provider.driftCheck;
    if (!check) {
      this.fail([
        `metricDrift() needs the drift check, which the stack's provider does not have: set driftCheck (e.g. driftCheck: DriftCheck.daily()) on the first ProvisionedProductProperties of stack ${Stack.of(this).stackName}`,
      ]);
    }
    return new cloudwatch.Metric({
      namespace: DRIFT.namespace,
      metricName: DRIFT.metric.drifted,
      dimensionsMap: { service: SERVICE_NAME, [DRIFT.stackDimension]: Stack.of(this).stackName },
      statistic: 'Maximum',
      // CloudWatch alarms take periods of up to a day.
      period: Duration.seconds(Math.min(check.interval.toSeconds(), 24 * 60 * 60)),
      ...props,
    });
  }

  /**
   * The synth-time half of lib/rules.ts: the props' types, then every value that is not a token,
   * and the provider settings (the same check the stack's provider applies).
   */
  private checkProps(props: ProvisionedProductPropertiesProps): void {
    if (typeof props !== 'object' || props === null) this.fail([`props must be an object (got ${show(props)})`]);
    const types = checkTypes(props as unknown as Record<string, unknown>, PROPS_TYPES);
    if (types.length > 0) this.fail(types);
    const literal = (value: string | undefined): string | undefined =>
      value === undefined || Token.isUnresolved(value) ? undefined : value;
    const declared = {
      productId: literal(props.provisionedProductId),
      owner: literal(props.owner?.arn),
      launchRole: literal(props.launchRole?.roleArn),
      acceptLanguage: literal(props.acceptLanguage),
    };
    const problems = props.owner || props.launchRole ? [] : [NOTHING_TO_MANAGE];
    problems.push(...checkDeclaredValues(declared));
    // A hint at synth only: an id of another kind fails at deploy anyway, after the provider is created.
    if (problems.length === 0 && declared.productId !== undefined) pushIf(problems, checkProductIdKind(declared.productId));
    if (problems.length === 0) {
      const stack = Stack.of(this);
      const home = { partition: literal(stackPartition(stack)), account: literal(stack.account) };
      problems.push(...checkHome({ OWNER: declared.owner, LAUNCH_ROLE: declared.launchRole }, home, `stack ${stack.stackName}`));
    }
    problems.push(...ProvisionedProductPropertiesProvider.checkSettings(this, props));
    if (problems.length > 0) this.fail(problems);
    claimProduct(this, props.provisionedProductId);
  }

  /** Fails synth, naming this construct and every problem. */
  private fail(problems: readonly string[]): never {
    throw new Error(`ProvisionedProductProperties at ${this.node.path}: ${problems.join(' | ')}`);
  }
}

/** Adds `message` to `problems` when there is one. */
function pushIf(problems: string[], message: string | undefined): void {
  if (message !== undefined) problems.push(message);
}

/** The stack's partition: the pseudo parameter unless the stack's region is a known literal. */
function stackPartition(stack: Stack): string {
  if (!Token.isUnresolved(stack.partition)) return stack.partition;
  if (Token.isUnresolved(stack.region)) return stack.partition;
  return RegionInfo.get(stack.region).partition ?? stack.partition;
}

/** `v[key]`, when `v` is an object. */
function member(v: unknown, key: string): unknown {
  return typeof v === 'object' && v !== null ? (v as Record<string, unknown>)[key] : undefined;
}

/**
 * The props' own types (the provider settings' are checked with them, in the provider's check),
 * for callers that TypeScript does not check (JavaScript, and every jsii language's loosely typed
 * corners): a wrong type must fail here, by name, rather than be dropped or fail deep inside CloudFormation.
 */
const PROPS_TYPES: readonly TypeRule[] = [
  { key: 'provisionedProductId', mustBe: 'a string', test: (v) => typeof v === 'string', required: true },
  {
    key: 'owner',
    mustBe: 'an Owner',
    test: (v) => typeof member(v, 'arn') === 'string',
    hint: 'use Owner.fromArn(arn), Owner.fromRole(role) or Owner.fromUser(user)',
  },
  {
    key: 'launchRole',
    mustBe: 'an iam.IRole',
    test: (v) => typeof member(v, 'roleArn') === 'string',
    hint: "for an ARN, pass iam.Role.fromRoleArn(this, 'LaunchRole', arn)",
  },
  { key: 'acceptLanguage', mustBe: 'an AcceptLanguage', test: (v) => typeof v === 'string' },
  { key: 'restoreOnDelete', mustBe: 'true or false', test: (v) => typeof v === 'boolean' },
];
