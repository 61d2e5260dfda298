import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { CustomResource, Duration, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct, IConstruct } from 'constructs';
import {
  ATTRIBUTE,
  RESOURCE_PROPERTY,
  checkLaunchRoleArn,
  checkOwnerArn,
  checkProductId,
  checkSameAccount,
} from './rules';

/** The directory of the bundled handler, built by `npm run build:handler` (scripts/bundle-handler.mjs). */
const HANDLER_DIR = path.join(__dirname, '..', 'assets', 'handler');

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
  /** An owner given by ARN: an IAM user, IAM role or STS assumed-role ARN (tokens allowed). */
  public static fromArn(arn: string): Owner {
    return new Owner(arn);
  }

  /** The IAM role `role` as owner. */
  public static fromRole(role: iam.IRole): Owner {
    return new Owner(role.roleArn);
  }

  /** The IAM user `user` as owner. */
  public static fromUser(user: iam.IUser): Owner {
    return new Owner(user.userArn);
  }

  /** @param arn The owner's ARN. */
  private constructor(public readonly arn: string) {}
}

/** Properties of {@link ProvisionedProductProperties}. */
export interface ProvisionedProductPropertiesProps {
  /**
   * The id of the provisioned product to manage (`pp-...`). Tokens are allowed.
   *
   * Two `ProvisionedProductProperties` in one app must not name the same product.
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
   * @default true
   */
  readonly restoreOnDelete?: boolean;

  /**
   * How often the provider's waiter asks whether a slow Service Catalog record has finished.
   * Records that finish within the first 15 seconds are reported at once without it.
   *
   * One provider serves every instance in a stack: every instance that sets this must set the
   * same value.
   *
   * @default Duration.seconds(5)
   */
  readonly queryInterval?: Duration;

  /**
   * How long to wait for a record (including a busy product becoming available) before failing
   * the deployment. At most one hour, CloudFormation's limit for a custom resource.
   *
   * One provider serves every instance in a stack: every instance that sets this must set the
   * same value.
   *
   * @default Duration.minutes(30)
   */
  readonly totalTimeout?: Duration;
}

/**
 * Manages the OWNER and LAUNCH_ROLE of an AWS Service Catalog provisioned product through
 * UpdateProvisionedProductProperties, and puts the prior values back when the resource is deleted.
 *
 * @example
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

  constructor(scope: Construct, id: string, props: ProvisionedProductPropertiesProps) {
    super(scope, id);
    this.validate(props);

    const provider = ProvisionedProductPropertiesProvider.getOrCreate(this, props);
    const properties: Record<string, string> = {};
    if (props.owner) properties.OWNER = props.owner.arn;
    if (props.launchRole) properties.LAUNCH_ROLE = props.launchRole.roleArn;

    const resource = new CustomResource(this, 'Resource', {
      serviceToken: provider.serviceToken,
      resourceType: 'Custom::ProvisionedProductProperties',
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
  }

  /** The synth-time half of lib/rules.ts: every value that is not a token is checked now. */
  private validate(props: ProvisionedProductPropertiesProps): void {
    const problems: string[] = [];
    const literal = (value: string | undefined): value is string => value !== undefined && !Token.isUnresolved(value);
    if (!props.owner && !props.launchRole) {
      problems.push('set at least one of owner and launchRole: there is nothing to manage.');
    }
    if (literal(props.provisionedProductId)) push(problems, checkProductId(props.provisionedProductId));
    const owner = props.owner?.arn;
    const role = props.launchRole?.roleArn;
    if (literal(owner)) push(problems, checkOwnerArn(owner));
    if (literal(role)) push(problems, checkLaunchRoleArn(role));
    if (literal(owner) && literal(role)) push(problems, checkSameAccount(owner, role));
    if (problems.length > 0) {
      throw new Error(`ProvisionedProductProperties at ${this.node.path}: ${problems.join(' | ')}`);
    }
    if (literal(props.provisionedProductId)) claimProduct(this, props.provisionedProductId);
  }
}

/**
 * Literal product ids claimed per app: two instances naming one product would fight over it.
 * Checked as a node validation so that the error comes at synth with both construct paths.
 */
const claims = new WeakMap<IConstruct, Map<string, ProvisionedProductProperties[]>>();

function claimProduct(instance: ProvisionedProductProperties, productId: string): void {
  const root = instance.node.root;
  let byId = claims.get(root);
  if (!byId) claims.set(root, (byId = new Map()));
  const owners = byId.get(productId) ?? [];
  owners.push(instance);
  byId.set(productId, owners);
  instance.node.addValidation({
    validate: () => {
      const others = owners.filter((o) => o !== instance);
      if (others.length === 0) return [];
      return [
        `provisionedProductId ${JSON.stringify(productId)} is also managed by ${others.map((o) => o.node.path).join(', ')}. ` +
          'Two ProvisionedProductProperties on one product would overwrite each other and restore the wrong values on delete: keep one and merge their owner and launchRole.',
      ];
    },
  });
}

function push(problems: string[], message: string | undefined): void {
  if (message !== undefined) problems.push(message);
}

/** Handler timing, passed to the functions as environment variables. */
const FAST_PATH_WINDOW = Duration.seconds(15);
const POLL_INTERVAL = Duration.seconds(1);
const DEFAULT_QUERY_INTERVAL = Duration.seconds(5);
const DEFAULT_TOTAL_TIMEOUT = Duration.minutes(30);
const MAX_TOTAL_TIMEOUT = Duration.hours(1);

/**
 * The one provider per stack behind every ProvisionedProductProperties in it: the onEvent and
 * isComplete functions, their role and log group, and the provider framework's waiter.
 */
class ProvisionedProductPropertiesProvider extends Construct {
  /** The construct id of the provider, a direct child of the stack. */
  private static readonly ID = 'ProvisionedProductPropertiesProvider';

  /** The stack's provider, created on first use with that instance's waiter settings. */
  public static getOrCreate(
    instance: ProvisionedProductProperties,
    props: ProvisionedProductPropertiesProps,
  ): ProvisionedProductPropertiesProvider {
    const stack = Stack.of(instance);
    const existing = stack.node.tryFindChild(this.ID) as ProvisionedProductPropertiesProvider | undefined;
    if (!existing) {
      return new ProvisionedProductPropertiesProvider(stack, this.ID, instance, props);
    }
    existing.checkSameSettings(instance, props);
    return existing;
  }

  /** The custom resources' ServiceToken. */
  public readonly serviceToken: string;
  private readonly queryInterval: Duration;
  private readonly totalTimeout: Duration;
  private readonly settingsFrom: string;

  private constructor(scope: Construct, id: string, first: ProvisionedProductProperties, props: ProvisionedProductPropertiesProps) {
    super(scope, id);
    this.queryInterval = props.queryInterval ?? DEFAULT_QUERY_INTERVAL;
    this.totalTimeout = props.totalTimeout ?? DEFAULT_TOTAL_TIMEOUT;
    this.settingsFrom = first.node.path;
    checkWaiterSettings(first, this.queryInterval, this.totalTimeout);

    if (!existsSync(path.join(HANDLER_DIR, 'index.js'))) {
      throw new Error(
        `The ProvisionedProductProperties handler bundle is missing from ${HANDLER_DIR}. It is built with the package: run \`npm run build\` (or \`npm run build:handler\`) in the package, then synth again.`,
      );
    }

    const role = new iam.Role(this, 'HandlerRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'Reads and updates the owner and launch role of Service Catalog provisioned products',
    });
    // The four Service Catalog actions the handler calls. None supports resource-level
    // permissions, so the resource is '*'; the handler needs account-level access to read and
    // update products other principals own, so no servicecatalog:userLevel condition.
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'ManageProvisionedProductProperties',
        actions: [
          'servicecatalog:DescribeProvisionedProduct',
          'servicecatalog:SearchProvisionedProducts',
          'servicecatalog:UpdateProvisionedProductProperties',
          'servicecatalog:DescribeRecord',
        ],
        resources: ['*'],
      }),
    );
    // Setting LAUNCH_ROLE hands a role to Service Catalog, and Delete restores a prior launch
    // role only known at deploy time: allow passing roles of this account, to Service Catalog only.
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'PassLaunchRolesToServiceCatalog',
        actions: ['iam:PassRole'],
        resources: [Stack.of(this).formatArn({ service: 'iam', region: '', resource: 'role', resourceName: '*' })],
        conditions: { StringEquals: { 'iam:PassedToService': 'servicecatalog.amazonaws.com' } },
      }),
    );

    const logGroup = new logs.LogGroup(this, 'Logs', {
      retention: logs.RetentionDays.THREE_MONTHS,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    logGroup.grantWrite(role);

    const code = lambda.Code.fromAsset(HANDLER_DIR);
    const environment = {
      POWERTOOLS_SERVICE_NAME: 'provisioned-product-properties',
      POWERTOOLS_LOG_LEVEL: 'INFO',
      FAST_PATH_WINDOW_MS: String(FAST_PATH_WINDOW.toMilliseconds()),
      POLL_INTERVAL_MS: String(POLL_INTERVAL.toMilliseconds()),
    };
    const fn = (name: string, handler: string, description: string) =>
      new lambda.Function(this, name, {
        code,
        handler,
        description,
        runtime: lambda.Runtime.NODEJS_24_X,
        architecture: lambda.Architecture.ARM_64,
        memorySize: 256,
        timeout: Duration.minutes(1),
        role,
        logGroup,
        loggingFormat: lambda.LoggingFormat.JSON,
        environment,
      });
    const onEvent = fn('OnEvent', 'index.onEvent', 'ProvisionedProductProperties: validates, records the prior owner and launch role, plans the change');
    const isComplete = fn('IsComplete', 'index.isComplete', 'ProvisionedProductProperties: applies the change and waits for its Service Catalog record');

    const provider = new cr.Provider(this, 'Provider', {
      onEventHandler: onEvent,
      isCompleteHandler: isComplete,
      queryInterval: this.queryInterval,
      totalTimeout: this.totalTimeout,
      logGroup,
    });
    this.serviceToken = provider.serviceToken;
  }

  private checkSameSettings(instance: ProvisionedProductProperties, props: ProvisionedProductPropertiesProps): void {
    const conflicts: string[] = [];
    if (props.queryInterval && props.queryInterval.toSeconds() !== this.queryInterval.toSeconds()) {
      conflicts.push(`queryInterval ${props.queryInterval.toHumanString()} (the provider has ${this.queryInterval.toHumanString()})`);
    }
    if (props.totalTimeout && props.totalTimeout.toSeconds() !== this.totalTimeout.toSeconds()) {
      conflicts.push(`totalTimeout ${props.totalTimeout.toHumanString()} (the provider has ${this.totalTimeout.toHumanString()})`);
    }
    if (conflicts.length > 0) {
      throw new Error(
        `ProvisionedProductProperties at ${instance.node.path}: ${conflicts.join(' and ')}. One provider serves every ProvisionedProductProperties in stack ${Stack.of(this).stackName}, ` +
          `and its settings came from ${this.settingsFrom}, the first instance. Give every instance in the stack the same queryInterval and totalTimeout, or set them on the first one only.`,
      );
    }
  }
}

function checkWaiterSettings(instance: IConstruct, queryInterval: Duration, totalTimeout: Duration): void {
  const problems: string[] = [];
  if (queryInterval.toSeconds() < 1) problems.push(`queryInterval ${queryInterval.toHumanString()} is under 1 second`);
  if (totalTimeout.toSeconds() > MAX_TOTAL_TIMEOUT.toSeconds()) {
    problems.push(`totalTimeout ${totalTimeout.toHumanString()} is over 1 hour, CloudFormation's limit for a custom resource`);
  }
  if (queryInterval.toSeconds() >= totalTimeout.toSeconds()) {
    problems.push(`queryInterval ${queryInterval.toHumanString()} is not shorter than totalTimeout ${totalTimeout.toHumanString()}`);
  }
  if (problems.length > 0) {
    throw new Error(`ProvisionedProductProperties at ${instance.node.path}: ${problems.join('; ')}. Use a queryInterval of at least 1 second and a totalTimeout of at most 1 hour.`);
  }
}
