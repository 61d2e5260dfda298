import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { Aws, CustomResource, Duration, Fn, RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct, IConstruct } from 'constructs';
import { ATTRIBUTE, RESOURCE_PROPERTY, checkLaunchRoleArn, checkOwnerArn, checkProductId, checkSameAccount } from './rules';

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
  if (!byId) claims.set(root, (byId = new Map<string, ProvisionedProductProperties[]>()));
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
        resources: [passRoleResource(this)],
        conditions: { StringEquals: { 'iam:PassedToService': 'servicecatalog.amazonaws.com' } },
      }),
    );

    const logGroup = new logs.LogGroup(this, 'Logs', {
      retention: logs.RetentionDays.THREE_MONTHS,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    logGroup.grantWrite(role);

    // The framework's own functions get roles from here rather than their default ones, which
    // carry the AWSLambdaBasicExecutionRole managed policy (logs on every log group): they log to
    // the provider's log group, and may write to it only. Two roles, as the framework requires
    // (one role for both would make a dependency cycle through the waiter state machine).
    const frameworkRole = (name: string, description: string): iam.Role => {
      const created = new iam.Role(this, name, { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'), description });
      logGroup.grantWrite(created);
      return created;
    };
    const frameworkOnEventRole = frameworkRole('FrameworkOnEventRole', 'ProvisionedProductProperties provider framework: onEvent');
    const frameworkCompleteAndTimeoutRole = frameworkRole(
      'FrameworkCompleteAndTimeoutRole',
      'ProvisionedProductProperties provider framework: isComplete and onTimeout',
    );

    // The waiter's execution history, every event but without execution data: the waiter's input
    // is the CloudFormation event, whose ResponseURL is a pre-signed S3 URL that must not be logged.
    // Named under /aws/vendedlogs/ as Step Functions recommends (it keeps the account's CloudWatch
    // Logs resource policy small), with the stack's id in it so that a re-created stack never meets
    // the group a deleted one retained.
    const waiterLogGroup = new logs.LogGroup(this, 'WaiterLogs', {
      logGroupName: Fn.join('', ['/aws/vendedlogs/states/provisioned-product-properties-', Fn.select(2, Fn.split('/', Aws.STACK_ID))]),
      retention: logs.RetentionDays.THREE_MONTHS,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    const code = lambda.Code.fromAsset(HANDLER_DIR);
    const environment = {
      POWERTOOLS_SERVICE_NAME: 'provisioned-product-properties',
      POWERTOOLS_LOG_LEVEL: 'INFO',
      FAST_PATH_WINDOW_MS: String(FAST_PATH_WINDOW.toMilliseconds()),
      POLL_INTERVAL_MS: String(POLL_INTERVAL.toMilliseconds()),
      // So that isComplete can fail with its own message just before the waiter gives up.
      TOTAL_TIMEOUT_MS: String(this.totalTimeout.toMilliseconds()),
      QUERY_INTERVAL_MS: String(this.queryInterval.toMilliseconds()),
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
    const onEvent = fn(
      'OnEvent',
      'index.onEvent',
      'ProvisionedProductProperties: validates, records the prior owner and launch role, plans the change',
    );
    const isComplete = fn(
      'IsComplete',
      'index.isComplete',
      'ProvisionedProductProperties: applies the change and waits for its Service Catalog record',
    );

    const provider = new cr.Provider(this, 'Provider', {
      onEventHandler: onEvent,
      isCompleteHandler: isComplete,
      queryInterval: this.queryInterval,
      totalTimeout: this.totalTimeout,
      logGroup,
      frameworkOnEventRole,
      frameworkCompleteAndTimeoutRole,
      disableWaiterStateMachineLogging: false,
      waiterStateMachineLogOptions: { destination: waiterLogGroup, level: sfn.LogLevel.ALL, includeExecutionData: false },
    });
    this.serviceToken = provider.serviceToken;

    this.acknowledgeNagFindings(role, [frameworkOnEventRole, frameworkCompleteAndTimeoutRole], [onEvent, isComplete], provider);
  }

  /**
   * Acknowledges, finding by finding, the cdk-nag AwsSolutions findings this provider cannot fix,
   * so that a user who applies AwsSolutions to an app sees none from it (and keeps all of their
   * own). Each acknowledgement names the exact finding and sits on the construct that has it.
   */
  private acknowledgeNagFindings(
    handlerRole: iam.Role,
    frameworkRoles: iam.Role[],
    handlers: lambda.Function[],
    provider: cr.Provider,
  ): void {
    Validations.of(handlerRole).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'servicecatalog:DescribeProvisionedProduct, SearchProvisionedProducts, UpdateProvisionedProductProperties and DescribeRecord support no resource-level permissions, so their resource must be *.',
    });
    Validations.of(handlerRole).acknowledge({
      id: `AwsSolutions-IAM5[${nagResource(this, passRoleResource(this))}]`,
      reason:
        "iam:PassRole on this account's roles, only to servicecatalog.amazonaws.com (iam:PassedToService): Delete restores the product's prior launch role, which is only known at deploy time, so the role cannot be named at synth.",
    });
    // grantInvoke by the framework: the function and every version and alias of it (`<arn>:*`).
    for (const grantee of frameworkRoles) {
      for (const handler of handlers) {
        Validations.of(grantee).acknowledge({
          id: `AwsSolutions-IAM5[${nagResource(this, `${handler.functionArn}:*`)}]`,
          reason:
            'Added by the aws-cdk-lib provider framework (custom-resources Provider): lambda:InvokeFunction on the handler function and its versions and aliases (<arn>:*).',
        });
      }
    }
    // The waiter state machine is the framework's own (construct id 'waiter-state-machine'); if a
    // later aws-cdk-lib moves it, acknowledging on the provider keeps these findings just as narrow.
    const waiter = provider.node.tryFindChild('waiter-state-machine') ?? provider;
    for (const child of ['framework-isComplete', 'framework-onTimeout']) {
      const fn = provider.node.tryFindChild(child) as lambda.IFunction | undefined;
      if (!fn) continue;
      Validations.of(waiter).acknowledge({
        id: `AwsSolutions-IAM5[${nagResource(this, `${fn.functionArn}:*`)}]`,
        reason:
          "Added by the aws-cdk-lib provider framework's waiter state machine: lambda:InvokeFunction on its own isComplete and onTimeout functions and their versions and aliases (<arn>:*).",
      });
    }
    Validations.of(waiter).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        "Added by the aws-cdk-lib provider framework's waiter state machine for its logging: the CloudWatch Logs log-delivery actions Step Functions needs (logs:CreateLogDelivery, GetLogDelivery, ...) support no resource-level permissions.",
    });
    Validations.of(waiter).acknowledge({
      id: 'AwsSolutions-SF2',
      reason:
        "The aws-cdk-lib provider framework's waiter state machine offers no X-Ray tracing option. It is a fixed retry loop around the isComplete function; its executions are logged (level ALL) and every decision is logged by the handler.",
    });
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

/** The roles the handler may pass to Service Catalog: any role of the stack's account. */
function passRoleResource(scope: IConstruct): string {
  return Stack.of(scope).formatArn({ service: 'iam', region: '', resource: 'role', resourceName: '*' });
}

/**
 * A policy resource as cdk-nag names it in a finding (`Resource::<LogicalId.Arn>:*`): the
 * resolved value with Ref and Fn::GetAtt written `<...>` and Fn::Join flattened. Acknowledging that
 * exact text leaves every other wildcard of the same rule reported.
 */
function nagResource(scope: IConstruct, value: string): string {
  const flatten = (node: unknown): string => {
    if (typeof node === 'string') return node.replace(/\$\{/g, '<').replace(/}/g, '>');
    const o = (node ?? {}) as Record<string, unknown>;
    if (Array.isArray(o['Fn::Join'])) {
      const [delimiter, items] = o['Fn::Join'] as [string, unknown[]];
      return items.map(flatten).join(delimiter);
    }
    if (Array.isArray(o['Fn::GetAtt'])) {
      const [resource, attribute] = o['Fn::GetAtt'] as unknown[];
      return `<${flatten(resource)}.${flatten(attribute)}>`;
    }
    if (o.Ref !== undefined) return `<${flatten(o.Ref)}>`;
    return JSON.stringify(node);
  };
  return `Resource::${flatten(Stack.of(scope).resolve(value))}`;
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
    throw new Error(
      `ProvisionedProductProperties at ${instance.node.path}: ${problems.join('; ')}. Use a queryInterval of at least 1 second and a totalTimeout of at most 1 hour.`,
    );
  }
}
