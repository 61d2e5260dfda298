/**
 * Calling the handlers as the provider framework does, against a fake Service Catalog, DynamoDB Local (the ledger) and a fake CloudFormation: events, environment, and the onEvent → isComplete loop.
 */
import { randomUUID } from 'node:crypto';
import type * as Handler from '../../lambda/index';
import { DynamoDBLocal, FakeCloudFormation, FakeServiceCatalog } from '../../harness';
import { LEDGER } from '../../lib/contract';
import { ACCOUNT } from './fixtures';

/** What {@link useHandlerUnderTest} starts for a test file. */
export interface HandlerUnderTest {
  readonly fake: FakeServiceCatalog;
  readonly dynamodb: DynamoDBLocal;
  readonly cfn: FakeCloudFormation;
  /** The ledger table the handler uses. */
  readonly ledgerTable: string;
  readonly handler: typeof Handler;
}

/**
 * CloudFormation's status of the current test's resources, by logical id, as the fake answers
 * DescribeStackResource: {@link startWaiter} sets `<TYPE>_IN_PROGRESS`, {@link runner} the
 * outcome. Emptied before each test.
 */
export const cloudFormationStatus = new Map<string, string>();

/** The stack of the current test: a fresh StackId per test, so that no test meets another's ledger entries. */
let stackId = 'arn:aws:cloudformation:us-east-1:123456789012:stack/Test/00000000-0000-0000-0000-000000000000';

/** The StackId the current test's events carry. */
export function currentStackId(): string {
  return stackId;
}

/**
 * Registers a test file's set-up: before all tests, a fake Service Catalog (records finish after
 * 20 ms, account {@link ACCOUNT}), DynamoDB Local with a ledger table, a fake CloudFormation and
 * the handler pointed at them, handed to `started`; before each test, a fresh stack; after each
 * test, faults removed and no malformed call received; after all, everything stopped.
 */
export function useHandlerUnderTest(started: (under: HandlerUnderTest) => void): void {
  let under: HandlerUnderTest | undefined;
  beforeAll(async () => {
    const [fake, dynamodb, cfn] = await Promise.all([
      FakeServiceCatalog.start({ recordDurationMs: 20, account: ACCOUNT }),
      DynamoDBLocal.start(),
      FakeCloudFormation.start(),
    ]);
    const ledgerTable = await createLedgerTable(dynamodb);
    under = { fake, dynamodb, cfn, ledgerTable, handler: await loadHandler({ fake, dynamodb, cfn, ledgerTable }) };
    started(under);
  }, 90_000);
  beforeEach(() => {
    stackId = `arn:aws:cloudformation:us-east-1:123456789012:stack/Test/${randomUUID()}`;
    cloudFormationStatus.clear();
    under?.cfn.serve(stackId, (logicalId) => {
      const status = cloudFormationStatus.get(logicalId);
      return status ? { status, resourceType: 'Custom::ProvisionedProductProperties' } : undefined;
    });
  });
  afterEach(() => {
    if (!under) return;
    under.fake.setFaults(undefined);
    under.cfn.fault = undefined;
    expect(under.fake.violations).toEqual([]);
    expect(under.cfn.violations).toEqual([]);
  });
  afterAll(() => (under ? Promise.all([under.fake.close(), under.dynamodb.close(), under.cfn.close()]) : undefined));
}

/** A table of the ledger's shape, as the provider declares it. */
export function createLedgerTable(dynamodb: DynamoDBLocal): Promise<string> {
  return dynamodb.createTable({ logicalId: 'Ledger', partitionKey: LEDGER.partitionKey, timeToLiveAttribute: LEDGER.timeToLiveAttribute });
}

/** The properties of one test resource, as a test names them. */
export type Props = { id: string; owner?: string; launchRole?: string; restoreOnDelete?: string; acceptLanguage?: string };

/** Where {@link loadHandler} points the handler. */
export interface HandlerServices {
  readonly fake: FakeServiceCatalog;
  readonly dynamodb: DynamoDBLocal;
  readonly cfn: FakeCloudFormation;
  readonly ledgerTable: string;
}

/**
 * Points the handler's SDK clients at the fakes and the ledger, compresses its timing, and loads
 * it. With `env`, loads a separate instance (its own SDK clients and timing, as another Lambda
 * container would have) with those variables on top, and leaves the environment as it was.
 */
export async function loadHandler(services: HandlerServices, env?: Record<string, string>): Promise<typeof Handler> {
  const base = {
    AWS_ENDPOINT_URL_SERVICE_CATALOG: services.fake.endpoint,
    AWS_ENDPOINT_URL_DYNAMODB: services.dynamodb.endpoint,
    AWS_ENDPOINT_URL_CLOUDFORMATION: services.cfn.endpoint,
    [LEDGER.tableEnv]: services.ledgerTable,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    FAST_PATH_WINDOW_MS: '300',
    POLL_INTERVAL_MS: '10',
    SEARCH_ATTEMPTS: '3',
    SEARCH_DELAY_MS: '5',
    WRITE_LEASE_MS: '500',
    // The stack-wide pacing, compressed like the rest (x0.01 of the defaults).
    READ_SPACING_MS: '1',
    WRITE_SPACING_MS: '6',
    POWERTOOLS_LOG_LEVEL: 'SILENT',
  };
  Object.assign(process.env, base);
  if (!env) return import('../../lambda/index');
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env);
  try {
    let handler: typeof Handler | undefined;
    await jest.isolateModulesAsync(async () => {
      handler = await import('../../lambda/index');
    });
    return handler as typeof Handler;
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

/** The resource properties CloudFormation delivers for `p` (every scalar a string). */
export function resourceProperties(p: Props): Record<string, unknown> {
  const map: Record<string, string> = {};
  if (p.owner) map.OWNER = p.owner;
  if (p.launchRole) map.LAUNCH_ROLE = p.launchRole;
  return {
    ServiceToken: 'arn:aws:lambda:us-east-1:123456789012:function:provider',
    ProvisionedProductId: p.id,
    ProvisionedProductProperties: map,
    ...(p.acceptLanguage ? { AcceptLanguage: p.acceptLanguage } : {}),
    RestoreOnDelete: p.restoreOnDelete ?? 'true',
  };
}

let seq = 0;

/** A CloudFormation event for `props` in the current test's stack; a fresh RequestId unless one is given. */
export function event(
  type: 'Create' | 'Update' | 'Delete',
  props: Props,
  extra: { physicalId?: string; old?: Props; requestId?: string; logicalId?: string } = {},
): Handler.CustomResourceEvent {
  return {
    RequestType: type,
    ServiceToken: 'arn:aws:lambda:us-east-1:123456789012:function:provider',
    ResponseURL: 'https://cloudformation-custom-resource-response.example/signed',
    ResourceType: 'Custom::ProvisionedProductProperties',
    RequestId: extra.requestId ?? `req-${++seq}`,
    LogicalResourceId: extra.logicalId ?? 'PlatformOwnership',
    StackId: stackId,
    PhysicalResourceId: extra.physicalId,
    ResourceProperties: resourceProperties(props),
    OldResourceProperties: extra.old ? resourceProperties(extra.old) : undefined,
  } as Handler.CustomResourceEvent;
}

/** Runs an event as the provider framework would: onEvent, then isComplete until done. */
export type HandlerRunner = (
  e: Handler.CustomResourceEvent,
  maxChecks?: number,
) => Promise<{ physicalId: string; data: Record<string, string>; planned: Handler.OnEventResult }>;

/**
 * A {@link HandlerRunner} over `handler`: CloudFormation awaits the event from onEvent until
 * isComplete says it is done; then the resource has that request's outcome.
 */
export function runner(handler: typeof Handler): HandlerRunner {
  return async (e, maxChecks = 200) => {
    cloudFormationStatus.set(e.LogicalResourceId, `${e.RequestType.toUpperCase()}_IN_PROGRESS`);
    try {
      const planned = await handler.onEvent(e, LAMBDA_CONTEXT());
      const merged = startWaiter(e, planned);
      for (let i = 0; i < maxChecks; i++) {
        const result = await handler.isComplete(merged);
        if (result.IsComplete) {
          answered(e, 'COMPLETE');
          return { physicalId: planned.PhysicalResourceId, data: result.Data, planned };
        }
      }
      throw new Error('isComplete never completed');
    } catch (err) {
      answered(e, 'FAILED');
      throw err;
    }
  };
}

/** What CloudFormation makes of the resource once it took the answer to `e`. */
function answered(e: Handler.CustomResourceEvent, outcome: 'COMPLETE' | 'FAILED'): void {
  if (e.RequestType === 'Delete' && outcome === 'COMPLETE') cloudFormationStatus.delete(e.LogicalResourceId);
  else cloudFormationStatus.set(e.LogicalResourceId, `${e.RequestType.toUpperCase()}_${outcome}`);
}

/** A Lambda context with a minute to go, as the handler's functions have. */
export const LAMBDA_CONTEXT = (remainingMs = 60_000) => {
  const deadline = Date.now() + remainingMs;
  return { getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()) };
};

/**
 * What the framework does after onEvent: starts the waiter with the event and onEvent's result,
 * which isComplete then receives. CloudFormation awaits the request meanwhile (unless a test has set
 * the resource's status otherwise).
 */
export function startWaiter(e: Handler.CustomResourceEvent, planned: Handler.OnEventResult): Handler.IsCompleteEvent {
  if (!cloudFormationStatus.has(e.LogicalResourceId)) {
    cloudFormationStatus.set(e.LogicalResourceId, `${e.RequestType.toUpperCase()}_IN_PROGRESS`);
  }
  return { ...e, ...planned };
}
