/**
 * Calling the handlers as the provider framework does, against a fake Service Catalog: events, environment, and the onEvent → isComplete loop.
 */
import type * as Handler from '../../lambda/index';
import { FakeServiceCatalog, FakeStepFunctions } from '../../harness';
import { ACCOUNT } from './fixtures';
import { WAITER_ARN_ENV } from '../../lib/contract';

/** The waiter state machine the handler tests pretend to run under. */
export const WAITER_ARN = 'arn:aws:states:us-east-1:123456789012:stateMachine:ProvisionedProductPropertiesWaiter-test';

/** What {@link useHandlerUnderTest} starts for a test file. */
export interface HandlerUnderTest {
  readonly fake: FakeServiceCatalog;
  readonly sfn: FakeStepFunctions;
  readonly handler: typeof Handler;
}

/**
 * Registers a test file's set-up: before all tests, a fake Service Catalog (records finish after
 * 20 ms, account {@link ACCOUNT}), a fake Step Functions and the handler pointed at both, handed to
 * `started`; after each test, faults removed and no malformed call received by either fake; after
 * all, both fakes stopped.
 */
export function useHandlerUnderTest(started: (under: HandlerUnderTest) => void): void {
  let under: HandlerUnderTest | undefined;
  beforeAll(async () => {
    const fake = await FakeServiceCatalog.start({ recordDurationMs: 20, account: ACCOUNT });
    const sfn = await FakeStepFunctions.start();
    under = { fake, sfn, handler: await loadHandler(fake, sfn) };
    started(under);
  });
  afterEach(() => {
    if (!under) return;
    under.fake.setFaults(undefined);
    under.sfn.setFaults(undefined);
    expect(under.fake.violations).toEqual([]);
    expect(under.sfn.violations).toEqual([]);
  });
  afterAll(() => (under ? Promise.all([under.fake.close(), under.sfn.close()]) : undefined));
}

/** The properties of one test resource, as a test names them. */
export type Props = { id: string; owner?: string; launchRole?: string; restoreOnDelete?: string; acceptLanguage?: string };

/**
 * Points the handler's SDK clients at the fakes, compresses its timing, and loads it. With `env`,
 * loads a separate instance (its own SDK clients and timing, as another Lambda container would
 * have) with those variables on top, and leaves the environment as it was.
 */
export async function loadHandler(fake: FakeServiceCatalog, sfn: FakeStepFunctions, env?: Record<string, string>): Promise<typeof Handler> {
  const base = {
    AWS_ENDPOINT_URL_SERVICE_CATALOG: fake.endpoint,
    AWS_ENDPOINT_URL_SFN: sfn.endpoint,
    [WAITER_ARN_ENV]: WAITER_ARN,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    FAST_PATH_WINDOW_MS: '300',
    POLL_INTERVAL_MS: '10',
    SEARCH_ATTEMPTS: '3',
    SEARCH_DELAY_MS: '5',
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

/** A CloudFormation event for `props`; a fresh RequestId unless one is given. */
export function event(
  type: 'Create' | 'Update' | 'Delete',
  props: Props,
  extra: { physicalId?: string; old?: Props; requestId?: string } = {},
): Handler.CustomResourceEvent {
  return {
    RequestType: type,
    ServiceToken: 'arn:aws:lambda:us-east-1:123456789012:function:provider',
    ResponseURL: 'https://cloudformation-custom-resource-response.example/signed',
    ResourceType: 'Custom::ProvisionedProductProperties',
    RequestId: extra.requestId ?? `req-${++seq}`,
    LogicalResourceId: 'PlatformOwnership',
    StackId: 'arn:aws:cloudformation:us-east-1:123456789012:stack/Test/1',
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
 * A {@link HandlerRunner} over `handler`: after onEvent, the framework starts the waiter with the
 * event and onEvent's result, which `sfn` then lists.
 */
export function runner(handler: typeof Handler, sfn: FakeStepFunctions): HandlerRunner {
  return async (e, maxChecks = 200) => {
    const planned = await handler.onEvent(e);
    const merged = startWaiter(sfn, e, planned);
    for (let i = 0; i < maxChecks; i++) {
      const result = await handler.isComplete(merged);
      if (result.IsComplete) return { physicalId: planned.PhysicalResourceId, data: result.Data, planned };
    }
    throw new Error('isComplete never completed');
  };
}

/** What the framework does after onEvent: starts the waiter with the event and onEvent's result, which isComplete then receives. */
export function startWaiter(
  sfn: FakeStepFunctions,
  e: Handler.CustomResourceEvent,
  planned: Handler.OnEventResult,
): Handler.IsCompleteEvent {
  const merged = { ...e, ...planned };
  sfn.startExecution(WAITER_ARN, JSON.stringify(merged));
  return merged;
}
