/**
 * Contract behaviours of Step Functions: how ListExecutions and DescribeExecution report the waiter's executions, which the handler reads to tell a redelivered request from a new one.
 */
import { DescribeExecutionCommand, type ExecutionListItem, type ExecutionStatus, ListExecutionsCommand } from '@aws-sdk/client-sfn';
import { LISTING_CHECK_WINDOW_MS } from '../../lambda/deliveries';
import { type Behaviour, type ContractContext, Difference, NotRun, expectEqual, expectThat, randomSuffix, show, sleep } from './behaviour';

const SFN_DOCS = 'https://docs.aws.amazon.com/step-functions/latest/apireference';
const MAX_PAGES = 50;

/** The target's state machine, or NotRun. */
function executionsOf(ctx: ContractContext): NonNullable<ContractContext['target']['executions']> {
  const executions = ctx.target.executions;
  if (!executions) throw new NotRun('this target has no state machine to start executions of');
  return executions;
}

/** An input shaped like the waiter's: the event plus onEvent's result, as JSON text. */
function waiterLikeInput(): string {
  return JSON.stringify({
    StackId: 'arn:aws:cloudformation:us-east-1:123456789012:stack/Contract/00000000-0000-0000-0000-000000000000',
    LogicalResourceId: 'Ownership',
    RequestId: `contract-${randomSuffix(12)}`,
    PhysicalResourceId: 'sc-ppp:contract',
    PlannedAt: Date.now(),
    PlannedChange: { ProductId: 'pp-contract', Properties: { OWNER: 'arn:aws:iam::123456789012:role/Ünïcode' } },
  });
}

/**
 * Lists the state machine's executions page by page (newest first), as lambda/step-functions.ts
 * does: until no nextToken, or past the first execution started before `since`.
 */
async function listSince(
  ctx: ContractContext,
  since: Date,
  options: { statusFilter?: ExecutionStatus; maxResults?: number } = {},
): Promise<{ items: ExecutionListItem[]; pages: number }> {
  const { stateMachineArn } = executionsOf(ctx);
  const items: ExecutionListItem[] = [];
  let nextToken: string | undefined;
  let pages = 0;
  do {
    const out = await ctx.sfn.send(
      new ListExecutionsCommand({ stateMachineArn, statusFilter: options.statusFilter, maxResults: options.maxResults ?? 100, nextToken }),
    );
    pages++;
    const page = out.executions ?? [];
    expectThat(
      page.length <= (options.maxResults ?? 100),
      `a page asked for at most ${options.maxResults ?? 100} executions listed ${page.length}`,
    );
    items.push(...page);
    if (page.some((e) => e.startDate !== undefined && e.startDate < since)) break;
    nextToken = out.nextToken;
  } while (nextToken && pages < MAX_PAGES);
  return { items, pages };
}

/** Starts `count` executions, `executionGapMs` apart; returns their ARNs in start order and the time before the first. */
async function start(ctx: ContractContext, count: number): Promise<{ arns: string[]; since: Date }> {
  const executions = executionsOf(ctx);
  const since = new Date(Date.now() - 1000);
  const arns: string[] = [];
  for (let i = 0; i < count; i++) {
    if (i > 0) await sleep(ctx.target.timing.executionGapMs);
    arns.push(await executions.start(waiterLikeInput()));
  }
  return { arns, since };
}

/** Waits until every one of `arns` is listed; returns how long that took. A wait past the target's listing timeout is a difference. */
async function waitListed(ctx: ContractContext, arns: readonly string[], since: Date, statusFilter?: ExecutionStatus): Promise<number> {
  const began = Date.now();
  for (;;) {
    const listed = new Set((await listSince(ctx, since, { statusFilter })).items.map((e) => e.executionArn));
    if (arns.every((a) => listed.has(a))) return Date.now() - began;
    if (Date.now() - began > ctx.target.timing.listingTimeoutMs) {
      throw new Difference(
        `${arns.filter((a) => !listed.has(a)).length} of ${arns.length} execution(s) were not listed${statusFilter ? ` (statusFilter ${statusFilter})` : ''} within ${ctx.target.timing.listingTimeoutMs / 1000} s of their start`,
      );
    }
    await sleep(ctx.target.timing.pollMs);
  }
}

/** Throws unless `items` are newest first. */
function expectNewestFirst(items: readonly ExecutionListItem[], where: string): void {
  for (let i = 1; i < items.length; i++) {
    const [a, b] = [items[i - 1].startDate?.getTime() ?? 0, items[i].startDate?.getTime() ?? 0];
    expectThat(
      a >= b,
      `${where}: execution ${i} (started ${new Date(b).toISOString()}) is listed after one started earlier (${new Date(a).toISOString()})`,
    );
  }
}

export const describeInput: Behaviour = {
  id: 'sfn.describe-input',
  service: 'Step Functions',
  assumption:
    'DescribeExecution returns the input an execution was started with, as the same JSON text, at once after StartExecution (before it is listed).',
  reliedOnBy:
    "lambda/request-lookup.ts reads each listed execution's input to find the request it belongs to and the decision an earlier delivery made.",
  source: `${SFN_DOCS}/API_DescribeExecution.html (input)`,
  fake: { kind: 'models' },
  writes: false,
  async run(ctx) {
    const input = waiterLikeInput();
    const arn = await executionsOf(ctx).start(input);
    const out = await ctx.sfn.send(new DescribeExecutionCommand({ executionArn: arn }));
    expectEqual(out.input, input, 'the input DescribeExecution returns');
    expectEqual(out.status, 'RUNNING', 'the status of a just-started execution');
    ctx.observe(`${input.length} characters returned unchanged`);
  },
};

export const listingLag: Behaviour = {
  id: 'sfn.listing-lag',
  service: 'Step Functions',
  assumption: `ListExecutions (eventually consistent) lists a started execution within ${LISTING_CHECK_WINDOW_MS / 1000} s, with and without statusFilter RUNNING, and once it has listed it, lists it on every later call while it runs.`,
  reliedOnBy:
    "is-complete.ts waits for its request's execution to be listed before a capture's write, for at most that long (lambda/deliveries.ts LISTING_CHECK_WINDOW_MS); a later delivery's lookup must then find it.",
  source: `${SFN_DOCS}/API_ListExecutions.html ("This operation is eventually consistent"); the bound is not documented`,
  fake: { kind: 'models' },
  writes: false,
  async run(ctx) {
    const { arns, since } = await start(ctx, 1);
    const lag = await waitListed(ctx, arns, since);
    const lagRunning = await waitListed(ctx, arns, since, 'RUNNING');
    for (let i = 0; i < 3; i++) {
      await sleep(ctx.target.timing.pollMs);
      for (const statusFilter of [undefined, 'RUNNING'] as const) {
        const listed = (await listSince(ctx, since, { statusFilter })).items.some((e) => e.executionArn === arns[0]);
        expectThat(listed, `execution ${arns[0]} was listed, then not listed${statusFilter ? ' with statusFilter RUNNING' : ''}`);
      }
    }
    ctx.observe(`listed after ${lag} ms (then ${lagRunning} ms more with statusFilter RUNNING), and on the 3 listings after`);
  },
};

export const newestFirst: Behaviour = {
  id: 'sfn.newest-first',
  service: 'Step Functions',
  assumption: "ListExecutions lists a state machine's executions newest first (by startDate).",
  reliedOnBy:
    'lambda/step-functions.ts executionsSince stops at the first execution older than the lookback: listed in another order, it would stop too early.',
  source: `${SFN_DOCS}/API_ListExecutions.html ("Results are sorted by time, with the most recent execution first")`,
  fake: { kind: 'models' },
  writes: false,
  async run(ctx) {
    const { arns, since } = await start(ctx, 3);
    await waitListed(ctx, arns, since);
    const { items } = await listSince(ctx, since);
    expectNewestFirst(items, 'the listing');
    const positions = arns.map((a) => items.findIndex((e) => e.executionArn === a));
    expectThat(
      positions[0] > positions[1] && positions[1] > positions[2],
      `executions started in the order 1, 2, 3 were listed at positions ${positions.join(', ')}`,
    );
    ctx.observe(`3 executions listed newest first among ${items.length}`);
  },
};

export const pagination: Behaviour = {
  id: 'sfn.pagination',
  service: 'Step Functions',
  assumption:
    'ListExecutions pages by maxResults and nextToken: every execution is on exactly one page, and pages stay newest first across nextToken.',
  reliedOnBy:
    'lambda/step-functions.ts executionsSince follows nextToken page by page (100 a page) through up to 65 minutes of executions.',
  source: `${SFN_DOCS}/API_ListExecutions.html (maxResults, nextToken)`,
  fake: { kind: 'models' },
  writes: false,
  async run(ctx) {
    const { arns, since } = await start(ctx, 3);
    await waitListed(ctx, arns, since);
    const { items, pages } = await listSince(ctx, since, { maxResults: 1 });
    const seen = items.map((e) => e.executionArn ?? '');
    expectThat(new Set(seen).size === seen.length, `an execution was listed on two pages: ${seen.join(', ')}`);
    expectNewestFirst(items, 'the pages');
    for (const arn of arns) expectThat(seen.includes(arn), `execution ${arn} was on no page of ${pages}`);
    ctx.observe(`${pages} pages of 1`);
  },
};

export const statusFilter: Behaviour = {
  id: 'sfn.status-filter',
  service: 'Step Functions',
  assumption: 'ListExecutions with statusFilter RUNNING lists running executions, and with SUCCEEDED does not list them.',
  reliedOnBy: "is-complete.ts looks for its request's execution among the RUNNING ones only (lambda/request-lookup.ts isRequestListed).",
  source: `${SFN_DOCS}/API_ListExecutions.html (statusFilter)`,
  fake: { kind: 'models' },
  writes: false,
  async run(ctx) {
    const { arns, since } = await start(ctx, 1);
    await waitListed(ctx, arns, since, 'RUNNING');
    const succeeded = (await listSince(ctx, since, { statusFilter: 'SUCCEEDED' })).items;
    const wrong = succeeded.find((e) => e.executionArn === arns[0]);
    expectThat(wrong === undefined, `running execution ${arns[0]} was listed with statusFilter SUCCEEDED (status ${show(wrong?.status)})`);
    ctx.observe('listed as RUNNING only');
  },
};
