/**
 * The scale benchmark (`npm run bench:scale`): one stack of N instances on distinct products, all
 * created at once as CloudFormation creates a stack's custom resources, then all updated, then all
 * deleted, under AWS's quotas (harness/fakes/quota.ts, the defaults unless SCALE_QUOTAS overrides
 * them). Not a test: nothing here asserts a time. Writes bench/scale-results.json and docs/scale.svg.
 *
 * For each N and phase: wall time, calls per instance per API (throttled answers included: every
 * call the account's quota sees), throttled answers, failed events, the slowest instance, and the
 * lower bound on the phase that the tightest quota sets. Times are real-world seconds: the run is
 * compressed by SCALE_TIME_SCALE (default 0.5), the quotas' refill rates with it, and the times are
 * divided back (the SDK's own retry backoff stays real time, so a compressed run errs on the slow side).
 *
 * Environment: SCALE_SIZES (default 1,50,200,400), SCALE_TIME_SCALE, SCALE_RECORD_MS (the record's
 * real-world duration, default 5000), SCALE_PACING=off, SCALE_PHASES=Create, SCALE_TIMELINE=1, SCALE_QUOTAS (JSON: {"servicecatalog:DescribeRecord":
 * {"burst":10,"perSecond":5}, "lambda:Concurrency": 500, ...}), SCALE_RESERVED_CONCURRENCY (the
 * construct's reservedConcurrency; default none), SCALE_OUT (results file), SCALE_CHART (the chart).
 */
import { writeFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import * as os from 'node:os';
import * as path from 'node:path';
import { Stack } from 'aws-cdk-lib';
import { Owner, ProvisionedProductProperties } from '../lib';
import { RESOURCE_PROPERTY, STACK_INSTANCES_ENV } from '../lib/contract';
import {
  AccountQuotas,
  type BucketSpec,
  DEFAULT_LAMBDA_CONCURRENCY,
  DEFAULT_QUOTAS,
  DynamoDBLocal,
  FakeCloudFormation,
  LifecycleDriver,
  type QuotaApi,
  RESOURCE_TYPE,
  type StepResult,
  startLocalServices,
  synthesize,
} from '../harness';
import { scaleChart } from './scale-chart';
import { ACCOUNT, ORIGINAL_OWNER, ADMIN, OPS } from './fixtures';

const QUIET = { POWERTOOLS_LOG_LEVEL: 'SILENT' };
const SIZES = (process.env.SCALE_SIZES ?? '1,50,200,400').split(',').map(Number);
const TIME_SCALE = Number(process.env.SCALE_TIME_SCALE ?? '0.5');
/**
 * A record's real-world duration. UpdateProvisionedProductProperties changes metadata only (no
 * stack update, no provisioning engine), so its record takes seconds; 5 s sits inside the range the
 * latency bench covers (0.5 to 8 s), where the fast path matters.
 */
const RECORD_MS = Number(process.env.SCALE_RECORD_MS ?? '5000');
const RESERVED = process.env.SCALE_RESERVED_CONCURRENCY ? Number(process.env.SCALE_RESERVED_CONCURRENCY) : undefined;
/**
 * SCALE_PACING=off tells the handlers the stack holds one instance, which turns their pacing off
 * (lambda/pacing.ts): what the handlers did before it, against the same quotas.
 */
const PACING = process.env.SCALE_PACING !== 'off';
const OUT = process.env.SCALE_OUT ?? path.join(__dirname, 'scale-results.json');
const CHART = process.env.SCALE_CHART ?? path.join(__dirname, '..', 'docs', 'scale.svg');

type Phase = 'Create' | 'Update' | 'Delete';

/** Overrides of the quotas, from SCALE_QUOTAS. */
function quotaOverrides(): { quotas: Partial<Record<QuotaApi, BucketSpec | null>>; lambdaConcurrency?: number } {
  const raw = process.env.SCALE_QUOTAS;
  if (!raw) return { quotas: {} };
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(raw) as Record<string, unknown>;
  } catch (e) {
    throw new Error(
      `SCALE_QUOTAS is not JSON (${(e as Error).message}): give e.g. '{"servicecatalog:DescribeRecord":{"burst":10,"perSecond":5}}'`,
      { cause: e },
    );
  }
  const { 'lambda:Concurrency': concurrency, ...quotas } = parsed;
  if (concurrency !== undefined && typeof concurrency !== 'number') {
    throw new Error(
      `SCALE_QUOTAS: lambda:Concurrency ${JSON.stringify(concurrency)} is not a number: give the account's concurrent executions, e.g. 1000`,
    );
  }
  return { quotas: quotas, lambdaConcurrency: concurrency };
}

/** One phase of one N. */
interface PhaseResult {
  readonly phase: Phase;
  /** Real-world seconds from the first request to the last response. */
  readonly wallSeconds: number;
  /** The slowest instance's response time, real-world seconds. */
  readonly slowestSeconds: number;
  readonly failedEvents: number;
  /** Reasons of failed events (the first few). */
  readonly failures: string[];
  /** Calls per instance by API, throttled answers included. */
  readonly callsPerInstance: Record<string, number>;
  /** Throttled answers by API. */
  readonly throttled: Record<string, number>;
  /** The most Lambda executions running at once. */
  readonly peakConcurrency: number;
  /** The harness's own event-loop stalls during the phase (ms of this machine's time): a stall holds back every timer, which then fire together. */
  readonly eventLoopDelayMs: { p99: number; max: number };
  /** The lower bound the tightest quota sets on the phase: which quota, and the real-world seconds. */
  readonly bound: { api: string; seconds: number; formula: string };
}

interface SizeResult {
  readonly instances: number;
  readonly phases: PhaseResult[];
}

/** Counts calls and throttled answers by API since the marks, from the fakes' logs and the quotas' counters. */
class Meter {
  private marks = { sc: 0, ddb: 0, cfn: 0, asked: {} as Record<string, number>, throttled: {} as Record<string, number> };
  constructor(
    private readonly services: Awaited<ReturnType<typeof startLocalServices>>,
    private readonly quotas: AccountQuotas,
  ) {}

  mark(): void {
    this.marks = {
      sc: this.services.serviceCatalog.calls.length,
      ddb: this.services.dynamodb.calls.length,
      cfn: this.services.cloudFormation.calls.length,
      asked: { ...this.quotas.asked },
      throttled: { ...this.quotas.throttled },
    };
  }

  read(): { calls: Record<string, number>; throttled: Record<string, number> } {
    const calls: Record<string, number> = {};
    const throttled: Record<string, number> = {};
    const add = (to: Record<string, number>, key: string) => (to[key] = (to[key] ?? 0) + 1);
    for (const c of this.services.serviceCatalog.calls.slice(this.marks.sc)) {
      add(calls, `servicecatalog:${c.op}`);
      if (c.outcome === 'ThrottlingException') add(throttled, `servicecatalog:${c.op}`);
    }
    for (const c of this.services.dynamodb.calls.slice(this.marks.ddb)) {
      add(calls, `dynamodb:${c.op}`);
      if (c.outcome === 'ProvisionedThroughputExceededException') add(throttled, `dynamodb:${c.op}`);
    }
    for (const c of this.services.cloudFormation.calls.slice(this.marks.cfn)) {
      add(calls, `cloudformation:${c.action}`);
      if (c.outcome === 'Throttling') add(throttled, `cloudformation:${c.action}`);
    }
    for (const api of ['lambda:Invoke', 'states:StartExecution', 'states:StateTransition']) {
      const asked = (this.quotas.asked[api] ?? 0) - (this.marks.asked[api] ?? 0);
      const refused = (this.quotas.throttled[api] ?? 0) - (this.marks.throttled[api] ?? 0);
      if (asked > 0) calls[api] = asked;
      if (refused > 0) throttled[api] = refused;
    }
    return { calls, throttled };
  }
}

/**
 * The lower bound a quota sets on a phase in which every instance needs `perInstance` calls of its
 * API: the calls beyond the bucket's burst come at its refill rate, (N × perInstance − burst) / rate;
 * and for the write, the last record then runs its course. The tightest quota is the largest bound.
 */
export function lowerBound(
  instances: number,
  phase: Phase,
  quotas: AccountQuotas,
  recordMs: number,
): { api: string; seconds: number; formula: string } {
  // What every event needs at least, per instance: the product's two reads (onEvent), one write and
  // one read of its record (isComplete); a Create also asks CloudFormation twice.
  const needs: Array<[QuotaApi, number]> = [
    ['servicecatalog:DescribeProvisionedProduct', 1],
    ['servicecatalog:SearchProvisionedProducts', 1],
    ['servicecatalog:UpdateProvisionedProductProperties', 1],
    ['servicecatalog:DescribeRecord', 1],
    ['states:StartExecution', 1],
  ];
  if (phase === 'Create') needs.push(['cloudformation:DescribeStackResource', 2]);
  let best = { api: 'none', seconds: recordMs / 1000, formula: 'the record duration' };
  for (const [api, perInstance] of needs) {
    const spec = quotas.spec(api);
    if (!spec) continue;
    const queued = Math.max(0, (instances * perInstance - spec.burst) / spec.perSecond);
    const tail = api === 'servicecatalog:UpdateProvisionedProductProperties' ? recordMs / 1000 : 0;
    const seconds = queued + tail;
    if (seconds > best.seconds) {
      best = {
        api,
        seconds,
        formula: `(${instances} × ${perInstance} − burst ${spec.burst}) / ${spec.perSecond} per s${tail ? ` + the ${recordMs / 1000} s record` : ''}`,
      };
    }
  }
  return best;
}

/** Runs every phase for a stack of `n` instances. */
async function runSize(n: number, shared: { dynamodb: DynamoDBLocal; cloudFormation: FakeCloudFormation }): Promise<SizeResult> {
  const overrides = quotaOverrides();
  const quotas = new AccountQuotas({ timeScale: TIME_SCALE, ...overrides });
  const services = await startLocalServices(
    { recordDurationMs: Math.max(1, Math.round(RECORD_MS * TIME_SCALE)), account: ACCOUNT },
    shared,
  );
  services.serviceCatalog.useQuotas(quotas);
  shared.dynamodb.quotas = quotas;
  shared.cloudFormation.quotas = quotas;
  try {
    const model = synthesize((app) => {
      const stack = new Stack(app, `Scale${n}`, { env: { account: ACCOUNT, region: 'us-east-1' } });
      for (let i = 0; i < n; i++) {
        services.serviceCatalog.addProduct({ id: `pp-scale${i}`, owner: ORIGINAL_OWNER });
        new ProvisionedProductProperties(stack, `Instance${i}`, {
          provisionedProductId: `pp-scale${i}`,
          owner: Owner.fromArn(ADMIN),
          ...(RESERVED !== undefined ? { reservedConcurrency: RESERVED } : {}),
        });
      }
      return stack;
    });
    const ids = Object.keys(model.template.Resources).filter((id) => model.template.Resources[id].Type === RESOURCE_TYPE);
    const env = PACING ? QUIET : { ...QUIET, [STACK_INSTANCES_ENV]: '1' };
    const options = { ...services.driverOptions, timeScale: TIME_SCALE, env };
    const first = new LifecycleDriver(model, { ...options, logicalId: ids[0] });
    const drivers = [first, ...ids.slice(1).map((logicalId) => new LifecycleDriver(model, { ...options, logicalId, sameStackAs: first }))];
    for (const d of drivers) d.provider.useQuotas(quotas);
    const meter = new Meter(services, quotas);

    const phase = async (name: Phase, step: (d: LifecycleDriver) => Promise<StepResult>): Promise<PhaseResult> => {
      meter.mark();
      quotas.peakExecutions = quotas.concurrentExecutions;
      const loop = monitorEventLoopDelay({ resolution: 20 });
      loop.enable();
      const results = await Promise.all(drivers.map(step));
      // From CloudFormation's first request to its last response (the ledger table's creation before the first is not CloudFormation's).
      const wallMs = Math.max(...results.map((r) => r.sentAt + r.responseMs)) - Math.min(...results.map((r) => r.sentAt));
      await Promise.all(drivers.map((d) => d.settle()));
      loop.disable();
      const { calls, throttled } = meter.read();
      if (process.env.SCALE_TIMELINE) {
        // Service Catalog calls and throttled answers per real-world 5 s, by operation, for reading a run's shape.
        const t0 = Math.min(...results.map((r) => r.sentAt));
        const line: Record<string, string> = {};
        for (const op of ['DescribeProvisionedProduct', 'UpdateProvisionedProductProperties', 'DescribeRecord']) {
          const bins = new Map<number, [number, number]>();
          for (const c of services.serviceCatalog.callsOf(op).filter((x) => x.at >= t0)) {
            const bin = Math.floor((c.at - t0) / TIME_SCALE / 5000);
            const b = bins.get(bin) ?? [0, 0];
            b[0]++;
            if (c.outcome === 'ThrottlingException') b[1]++;
            bins.set(bin, b);
          }
          line[op] = [...bins.entries()]
            .sort((a, b) => a[0] - b[0])
            .map(([k, [n, t]]) => `${k * 5}:${n}/${t}`)
            .join(' ');
        }
        console.log(`  timeline ${name}: ${JSON.stringify(line)}`);
      }
      const failed = results.filter((r) => r.Status !== 'SUCCESS' || r.followUps.some((f) => f.Status !== 'SUCCESS'));
      const real = (ms: number) => Number((ms / TIME_SCALE / 1000).toFixed(1));
      const result: PhaseResult = {
        phase: name,
        wallSeconds: real(wallMs),
        slowestSeconds: real(Math.max(...results.map((r) => r.responseMs))),
        failedEvents: failed.length,
        failures: failed.slice(0, 3).map((r) => `${r.RequestType} ${r.Status}: ${r.Reason}`),
        callsPerInstance: Object.fromEntries(
          Object.entries(calls)
            .sort(([a], [b]) => a.localeCompare(b))
            .map(([k, v]) => [k, Number((v / n).toFixed(2))]),
        ),
        throttled,
        peakConcurrency: quotas.peakExecutions,
        eventLoopDelayMs: { p99: Math.round(loop.percentile(99) / 1e6), max: Math.round(loop.max / 1e6) },
        bound: lowerBound(n, name, quotas, RECORD_MS),
      };
      console.log(`  ${JSON.stringify(result)}`);
      return result;
    };

    const phases: PhaseResult[] = [];
    phases.push(await phase('Create', (d) => d.create()));
    if (process.env.SCALE_PHASES === 'Create') return { instances: n, phases };
    phases.push(
      await phase('Update', (d) => {
        const props = d.properties ?? {};
        const managed = props[RESOURCE_PROPERTY.properties] as Record<string, unknown>;
        return d.update({ ...props, [RESOURCE_PROPERTY.properties]: { ...managed, OWNER: OPS } });
      }),
    );
    phases.push(await phase('Delete', (d) => d.delete()));
    for (const d of drivers) d.release();
    if (first.ledgerTableName) await shared.dynamodb.dropTable(first.ledgerTableName);
    return { instances: n, phases };
  } finally {
    shared.dynamodb.quotas = undefined;
    shared.cloudFormation.quotas = undefined;
    await services.close();
  }
}

/** CloudFormation's limit on the resources of one stack (CloudFormation quotas: "Resources"). */
const STACK_RESOURCE_LIMIT = 500;

/** The provider's own resources, counted in a synthesized template with one instance (default options): what a stack can hold besides its instances. */
function providerResources(): number {
  const model = synthesize((app) => {
    const stack = new Stack(app, 'Count', { env: { account: ACCOUNT, region: 'us-east-1' } });
    new ProvisionedProductProperties(stack, 'Instance', { provisionedProductId: 'pp-count', owner: Owner.fromArn(ADMIN) });
    return stack;
  });
  const all = Object.values(model.template.Resources);
  return all.length - all.filter((r) => r.Type === RESOURCE_TYPE).length;
}

function pad(s: string | number, n: number): string {
  return String(s).padEnd(n);
}

async function main(): Promise<void> {
  const started = Date.now();
  const machine = {
    cpus: os.cpus().length,
    model: os.cpus()[0]?.model ?? 'cpu',
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
  };
  console.log(`Scale benchmark on ${machine.cpus} x ${machine.model}, ${machine.memoryGiB} GiB, Node ${machine.node}`);
  const overrides = quotaOverrides();
  const quotasUsed = {
    ...Object.fromEntries(
      Object.entries({ ...DEFAULT_QUOTAS, ...overrides.quotas }).filter(
        (e): e is [string, BucketSpec] => e[1] !== null && e[1] !== undefined,
      ),
    ),
    'lambda:Concurrency': overrides.lambdaConcurrency ?? DEFAULT_LAMBDA_CONCURRENCY,
  };
  console.log(`Quotas (burst / per second; Lambda: concurrent executions): ${JSON.stringify(quotasUsed)}`);
  console.log(
    `Records of ${RECORD_MS / 1000} s; time compressed x${TIME_SCALE}, reported in real-world seconds; pacing ${PACING ? 'on' : 'off'}`,
  );
  const provider = providerResources();
  console.log(
    `The provider's own resources: ${provider}; the largest stack of instances alone: ${STACK_RESOURCE_LIMIT} - ${provider} = ${STACK_RESOURCE_LIMIT - provider}`,
  );

  const [dynamodb, cloudFormation] = await Promise.all([DynamoDBLocal.start(), FakeCloudFormation.start()]);
  const sizes: SizeResult[] = [];
  try {
    for (const n of SIZES) {
      console.log(`\n${n} instances:`);
      sizes.push(await runSize(n, { dynamodb, cloudFormation }));
    }
  } finally {
    await Promise.all([dynamodb.close(), cloudFormation.close()]);
  }

  const one = sizes.find((s) => s.instances === 1);
  console.log(
    '\nPer phase: real-world seconds, failed events, throttled answers, calls per instance (all APIs), and against N=1 the largest ratio of one API',
  );
  console.log(
    `${pad('N', 6)}${pad('phase', 8)}${pad('wall s', 9)}${pad('slowest s', 11)}${pad('bound s', 9)}${pad('wall/bound', 12)}${pad('failed', 8)}${pad('throttled', 11)}${pad('calls/inst', 12)}${pad('max ratio to N=1', 30)}tightest quota`,
  );
  for (const s of sizes) {
    for (const p of s.phases) {
      const total = Object.values(p.callsPerInstance).reduce((a, b) => a + b, 0);
      const throttled = Object.values(p.throttled).reduce((a, b) => a + b, 0);
      const base = one?.phases.find((q) => q.phase === p.phase);
      let worst = { api: '-', ratio: 0 };
      if (base) {
        for (const [api, v] of Object.entries(p.callsPerInstance)) {
          const ratio = v / (base.callsPerInstance[api] ?? 0);
          if (ratio > worst.ratio) worst = { api, ratio };
        }
      }
      console.log(
        `${pad(s.instances, 6)}${pad(p.phase, 8)}${pad(p.wallSeconds, 9)}${pad(p.slowestSeconds, 11)}${pad(p.bound.seconds.toFixed(1), 9)}${pad((p.wallSeconds / p.bound.seconds).toFixed(2), 12)}${pad(p.failedEvents, 8)}${pad(throttled, 11)}${pad(total.toFixed(2), 12)}${pad(`${worst.ratio.toFixed(2)} ${worst.api}`, 30)}${p.bound.api}: ${p.bound.formula}`,
      );
    }
  }

  // What issue 19 asks of the largest stack: no failed event, calls per instance within 1.2 times a stack of one's for
  // every API, and the Create phase within twice the lower bound its tightest quota sets.
  const largest = sizes[sizes.length - 1];
  if (one && largest && largest !== one) {
    const failed = sizes.reduce((a, s) => a + s.phases.reduce((b, p) => b + p.failedEvents, 0), 0);
    let worst = { api: '-', phase: '-', ratio: 0 };
    for (const p of largest.phases) {
      const base = one.phases.find((q) => q.phase === p.phase);
      for (const [api, v] of Object.entries(p.callsPerInstance)) {
        const ratio = v / (base?.callsPerInstance[api] ?? 0);
        if (ratio > worst.ratio) worst = { api, phase: p.phase, ratio };
      }
    }
    const create = largest.phases.find((p) => p.phase === 'Create');
    const say = (ok: boolean) => (ok ? 'yes' : 'NO');
    console.log(`\nFailed events at every N: ${failed} (${say(failed === 0)})`);
    console.log(
      `Calls per instance at N=${largest.instances} against N=1, largest ratio: ${worst.ratio.toFixed(2)} (${worst.api}, ${worst.phase}) (within 1.2: ${say(worst.ratio <= 1.2)})`,
    );
    if (create) {
      console.log(
        `Create at N=${largest.instances}: ${create.wallSeconds} s against the lower bound ${create.bound.seconds.toFixed(1)} s set by ${create.bound.api}, ${create.bound.formula}: ${(create.wallSeconds / create.bound.seconds).toFixed(2)} times (within 2: ${say(create.wallSeconds <= 2 * create.bound.seconds)})`,
      );
    }
  }

  // The table the README and docs/scale.md show, as Markdown.
  const apis = ['servicecatalog', 'dynamodb', 'cloudformation', 'lambda', 'states'];
  console.log(
    `\n| Instances | Phase | Wall time | Slowest instance | Lower bound (tightest quota) | Failed events | Throttled answers | Calls per instance: ${apis.join(' / ')} |`,
  );
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const s of sizes) {
    for (const p of s.phases) {
      const byService = apis.map((svc) =>
        Object.entries(p.callsPerInstance)
          .filter(([k]) => k.startsWith(`${svc}:`))
          .reduce((a, [, v]) => a + v, 0)
          .toFixed(1),
      );
      const throttled = Object.values(p.throttled).reduce((a, b) => a + b, 0);
      console.log(
        `| ${s.instances} | ${p.phase} | ${p.wallSeconds} s | ${p.slowestSeconds} s | ${p.bound.seconds.toFixed(1)} s | ${p.failedEvents} | ${throttled} | ${byService.join(' / ')} |`,
      );
    }
  }

  const results = {
    machine,
    timeScale: TIME_SCALE,
    recordSeconds: RECORD_MS / 1000,
    reservedConcurrency: RESERVED ?? null,
    pacing: PACING,
    providerResources: provider,
    largestStack: STACK_RESOURCE_LIMIT - provider,
    quotas: quotasUsed,
    sizes,
    runSeconds: Math.round((Date.now() - started) / 1000),
  };
  writeFileSync(OUT, `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(CHART, scaleChart(sizes));
  console.log(`\nWrote ${OUT} and ${CHART} (${results.runSeconds} s)`);
}

if (require.main === module) {
  main().catch((e: unknown) => {
    console.error(e);
    process.exitCode = 1;
  });
}
