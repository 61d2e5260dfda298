/**
 * The benchmark behind docs/performance.md and the README's API calls summary (`npm run bench`).
 * Prints a table and writes bench/results.json. Not a test: nothing here asserts a time.
 *
 * 1. Added latency: CloudFormation's response time minus the record's completion time, for records
 *    finishing in 0.5, 2, 8 and 30 s, in real time (timeScale 1) through the lifecycle driver (the
 *    real provider framework, the bundled handler, the fake Service Catalog), with the fast path
 *    and without it (FAST_PATH_WINDOW_MS=0: the plain provider-framework behaviour), in one run.
 * 2. Calls per Create / Update / Delete, by service and operation (Service Catalog, the ledger's
 *    DynamoDB, CloudFormation), and per instance for Creates of 1, 20 and 100 instances of one
 *    stack at once, each also with every Create delivered twice (BENCH_FLEETS=0 skips the fleets).
 * 3. Handler bundle size and module load time against the bare SDK client.
 * 4. Synth time and template size for 1, 10 and 100 instances.
 *
 * BENCH_SAMPLES (default 5) sets the samples per record duration and mode. The samples of one
 * duration spread over ±15% of it, so that records end at different moments between two polls
 * (a fixed duration would always meet the poll schedule at the same point and show one number).
 */
import { writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Owner, ProvisionedProductProperties, type ProvisionedProductPropertiesProps } from '../lib';
import { Stack } from 'aws-cdk-lib';
import {
  DynamoDBLocal,
  FakeCloudFormation,
  LifecycleDriver,
  type LocalServices,
  RESOURCE_TYPE,
  startLocalServices,
  synthesize,
} from '../harness';
import { footprint, median, synthScaling } from './footprint';
import { ACCOUNT, ORIGINAL_OWNER, ADMIN, OPS } from './fixtures';

const DURATIONS_MS = [500, 2_000, 8_000, 30_000];
const CALLS_RECORD_MS = 1_500;
const SAMPLES = Number(process.env.BENCH_SAMPLES ?? '5');
/** The fleets whose Create calls are counted, and their time scale. */
const FLEETS = (process.env.BENCH_FLEET_SIZES ?? '1,20,100').split(',').map(Number);
const FLEET_TIME_SCALE = 0.1;
const QUIET = { POWERTOOLS_LOG_LEVEL: 'SILENT' };

type Mode = 'fast path' | 'plain framework';

/** One DynamoDB Local and one fake CloudFormation for the whole run (a JVM each run would be dozens at once); each driver plays a stack of its own. */
let sharedServices: Promise<{ dynamodb: DynamoDBLocal; cloudFormation: FakeCloudFormation }> | undefined;
function shared(): Promise<{ dynamodb: DynamoDBLocal; cloudFormation: FakeCloudFormation }> {
  sharedServices ??= Promise.all([DynamoDBLocal.start(), FakeCloudFormation.start()]).then(([dynamodb, cloudFormation]) => ({
    dynamodb,
    cloudFormation,
  }));
  return sharedServices;
}

interface LatencySample {
  mode: Mode;
  recordMs: number;
  addedMs: number;
}

/** One Create whose record takes `recordMs`, in real time; returns response time minus record completion. */
async function addedLatency(mode: Mode, nominalMs: number, sample: number, index: number): Promise<LatencySample> {
  const spread = SAMPLES > 1 ? sample / (SAMPLES - 1) : 0.5;
  const recordMs = Math.round(nominalMs * (0.85 + 0.3 * spread));
  const services = await startLocalServices({ recordDurationMs: recordMs, account: ACCOUNT }, await shared());
  const fake = services.serviceCatalog;
  try {
    const id = `pp-bench${index}`;
    fake.addProduct({ id, owner: ORIGINAL_OWNER });
    const driver = LifecycleDriver.fromConstruct(
      { provisionedProductId: id, owner: Owner.fromArn(ADMIN) },
      { ...services.driverOptions, timeScale: 1, env: mode === 'plain framework' ? { ...QUIET, FAST_PATH_WINDOW_MS: '0' } : QUIET },
    );
    const created = await driver.create();
    if (created.Status !== 'SUCCESS') throw new Error(`${mode} ${recordMs} ms: Create ${created.Status}: ${created.Reason}`);
    const write = fake.callsOf('UpdateProvisionedProductProperties').find((c) => c.outcome === 'ok');
    if (!write) throw new Error('no write was made');
    const recordDone = write.at + recordMs;
    return { mode, recordMs: nominalMs, addedMs: created.responses[0].at - recordDone };
  } finally {
    await services.close();
  }
}

/** Every call the handlers make, by service and operation: Service Catalog, the ledger (DynamoDB), CloudFormation. */
type CallCounts = Record<string, number>;

/** Counts the calls `step` makes, by `service:operation`. */
async function countCalls(services: LocalServices, step: () => Promise<void>): Promise<CallCounts> {
  const [sc, ddb, cfn] = [services.serviceCatalog.calls.length, services.dynamodb.calls.length, services.cloudFormation.calls.length];
  await step();
  const counts: CallCounts = {};
  const add = (key: string) => (counts[key] = (counts[key] ?? 0) + 1);
  for (const c of services.serviceCatalog.calls.slice(sc)) add(`servicecatalog:${c.op}`);
  for (const c of services.dynamodb.calls.slice(ddb)) add(`dynamodb:${c.op}`);
  for (const c of services.cloudFormation.calls.slice(cfn)) add(`cloudformation:${c.action}`);
  return counts;
}

/** Calls per Create / Update / Delete by operation, in one real-time lifecycle with 1.5 s records. */
async function callsPerEvent(): Promise<Record<string, CallCounts>> {
  const services = await startLocalServices({ recordDurationMs: CALLS_RECORD_MS, account: ACCOUNT }, await shared());
  const fake = services.serviceCatalog;
  try {
    fake.addProduct({ id: 'pp-calls', owner: ORIGINAL_OWNER });
    const props = (owner: string): ProvisionedProductPropertiesProps => ({ provisionedProductId: 'pp-calls', owner: Owner.fromArn(owner) });
    const driver = LifecycleDriver.fromConstruct(props(ADMIN), { ...services.driverOptions, timeScale: 1, env: QUIET });
    const counts: Record<string, CallCounts> = {};
    const measure = async (name: string, step: () => Promise<{ Status: string }>) => {
      counts[name] = await countCalls(services, async () => {
        const result = await step();
        if (result.Status !== 'SUCCESS') throw new Error(`${name} failed`);
      });
    };
    await measure('Create', () => driver.create());
    await measure('Update', () => driver.update(LifecycleDriver.propertiesFor(props(OPS))));
    await measure('Delete', () => driver.delete());
    return counts;
  } finally {
    await services.close();
  }
}

/** A fleet's calls: per instance, for a Create of every instance of one stack at once, and for the same with every Create delivered twice. */
interface FleetCalls {
  readonly instances: number;
  readonly duplicated: boolean;
  /** Calls per instance, by service and operation (the total divided by the instances). */
  readonly perInstance: CallCounts;
  readonly wallMs: number;
}

/**
 * Creates `n` instances of one stack at once (each its own driver, playing the same stack: one
 * StackId, one ledger table), optionally with each Create delivered again two seconds after the
 * first delivery started its waiter, then deletes them; counts the Creates' calls per instance.
 * Scaled time (FLEET_TIME_SCALE): the call counts do not depend on it, since every duration scales alike.
 */
async function fleetCalls(n: number, duplicated: boolean): Promise<FleetCalls> {
  const services = await startLocalServices(
    { recordDurationMs: Math.round(CALLS_RECORD_MS * FLEET_TIME_SCALE), account: ACCOUNT },
    await shared(),
  );
  try {
    const model = synthesize((app) => {
      const stack = new Stack(app, 'Fleet', { env: { account: ACCOUNT, region: 'us-east-1' } });
      for (let i = 0; i < n; i++) {
        services.serviceCatalog.addProduct({ id: `pp-fleet${i}`, owner: ORIGINAL_OWNER });
        new ProvisionedProductProperties(stack, `Instance${i}`, { provisionedProductId: `pp-fleet${i}`, owner: Owner.fromArn(ADMIN) });
      }
      return stack;
    });
    const ids = Object.keys(model.template.Resources).filter((id) => model.template.Resources[id].Type === RESOURCE_TYPE);
    const first = new LifecycleDriver(model, { ...services.driverOptions, timeScale: FLEET_TIME_SCALE, env: QUIET, logicalId: ids[0] });
    const drivers = [
      first,
      ...ids.slice(1).map(
        (logicalId) =>
          new LifecycleDriver(model, {
            ...services.driverOptions,
            timeScale: FLEET_TIME_SCALE,
            env: QUIET,
            logicalId,
            sameStackAs: first,
          }),
      ),
    ];
    const started = Date.now();
    const counts = await countCalls(services, async () => {
      const redeliver = duplicated ? ({ times: 1, when: 'after-start', afterMs: 2_000 } as const) : undefined;
      const results = await Promise.all(drivers.map((d) => d.create(undefined, { redeliver })));
      const failed = results.filter((r) => r.Status !== 'SUCCESS');
      if (failed.length > 0) throw new Error(`fleet of ${n}: ${failed.length} Creates failed: ${failed[0].Reason}`);
      await Promise.all(drivers.map((d) => d.settle()));
    });
    const wallMs = Date.now() - started;
    await Promise.all(drivers.map((d) => d.delete()));
    const perInstance = Object.fromEntries(Object.entries(counts).map(([k, v]) => [k, Number((v / n).toFixed(2))]));
    return { instances: n, duplicated, perInstance, wallMs };
  } finally {
    await services.close();
  }
}

function pad(s: string | number, n: number): string {
  return String(s).padEnd(n);
}

async function main(): Promise<void> {
  const started = Date.now();
  console.log(
    `Benchmark on ${os.cpus().length} x ${os.cpus()[0]?.model ?? 'cpu'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}`,
  );

  if (process.env.BENCH_ONLY === 'fleets') {
    for (const n of FLEETS) for (const duplicated of [false, true]) console.log(JSON.stringify(await fleetCalls(n, duplicated)));
    return;
  }
  // Latency: every sample concurrently (each has its own fake and driver), so the run takes about
  // as long as the slowest record plus the plain waiter's interval.
  const jobs: Array<Promise<LatencySample>> = [];
  let index = 0;
  for (const mode of ['fast path', 'plain framework'] as Mode[]) {
    for (const recordMs of DURATIONS_MS) for (let i = 0; i < SAMPLES; i++) jobs.push(addedLatency(mode, recordMs, i, index++));
  }
  const samples = await Promise.all(jobs);
  const latency = DURATIONS_MS.map((recordMs) => {
    const of = (mode: Mode) => samples.filter((s) => s.mode === mode && s.recordMs === recordMs).map((s) => s.addedMs);
    const fast = of('fast path');
    const plain = of('plain framework');
    return {
      recordMs,
      fastMedianMs: Math.round(median(fast)),
      fastMaxMs: Math.round(Math.max(...fast)),
      plainMedianMs: Math.round(median(plain)),
      plainMaxMs: Math.round(Math.max(...plain)),
      ratio: Number((median(fast) / median(plain)).toFixed(2)),
    };
  });
  console.log(`\nAdded latency (CloudFormation response minus record completion), ${SAMPLES} samples each within ±15%, real time:`);
  console.log(
    `${pad('record', 8)}${pad('fast median', 13)}${pad('fast max', 10)}${pad('plain median', 14)}${pad('plain max', 11)}fast/plain`,
  );
  for (const l of latency) {
    console.log(
      `${pad(`${l.recordMs / 1000} s`, 8)}${pad(`${l.fastMedianMs} ms`, 13)}${pad(`${l.fastMaxMs} ms`, 10)}${pad(`${l.plainMedianMs} ms`, 14)}${pad(`${l.plainMaxMs} ms`, 11)}${l.ratio}`,
    );
  }

  const calls = await callsPerEvent();
  console.log(`\nCalls per event, every service the handlers call (${CALLS_RECORD_MS / 1000} s records, real time):`);
  for (const [event, ops] of Object.entries(calls)) {
    console.log(
      `${pad(event, 8)}${Object.entries(ops)
        .map(([op, n]) => `${op} ${n}`)
        .join(', ')}`,
    );
  }

  const fleets: FleetCalls[] = [];
  if (process.env.BENCH_FLEETS !== '0') {
    for (const n of FLEETS) for (const duplicated of [false, true]) fleets.push(await fleetCalls(n, duplicated));
    console.log(`\nCalls per instance, Creates of a whole stack at once (scaled time x${FLEET_TIME_SCALE}; counts do not depend on it):`);
    const keys = [...new Set(fleets.flatMap((f) => Object.keys(f.perInstance)))].sort();
    console.log(
      `${pad('instances', 11)}${pad('duplicate', 11)}${keys.map((k) => pad(k.replace(/^[a-z]+:/, ''), Math.max(10, k.replace(/^[a-z]+:/, '').length + 2))).join('')}total`,
    );
    for (const f of fleets) {
      const total = Object.values(f.perInstance).reduce((a, b) => a + b, 0);
      console.log(
        `${pad(f.instances, 11)}${pad(f.duplicated ? 'yes' : 'no', 11)}${keys.map((k) => pad(f.perInstance[k] ?? 0, Math.max(10, k.replace(/^[a-z]+:/, '').length + 2))).join('')}${total.toFixed(2)}`,
      );
    }
  }

  const foot = footprint(11);
  console.log(
    `\nHandler bundle: ${(foot.bundleBytes / 1024).toFixed(1)} KiB; load ${foot.bundleLoadMs.toFixed(1)} ms (median of ${foot.runs} fresh processes)`,
  );
  console.log(`Bare @aws-sdk/client-service-catalog load: ${foot.sdkLoadMs.toFixed(1)} ms; ratio ${foot.loadRatio.toFixed(2)}`);

  const synth = synthScaling([1, 10, 100], 3);
  const base = synth[0];
  console.log('\nSynth (construct + synth, median of 3 fresh processes) and template size:');
  console.log(
    `${pad('instances', 11)}${pad('synth', 10)}${pad('x of 1', 8)}${pad('template', 12)}${pad('x of 1', 8)}${pad('bytes/extra instance', 22)}functions`,
  );
  for (const s of synth) {
    const perInstance = s.instances > 1 ? Math.round((s.templateBytes - base.templateBytes) / (s.instances - 1)) : 0;
    console.log(
      `${pad(s.instances, 11)}${pad(`${Math.round(s.synthMs)} ms`, 10)}${pad((s.synthMs / base.synthMs).toFixed(2), 8)}${pad(`${s.templateBytes} B`, 12)}${pad((s.templateBytes / base.templateBytes).toFixed(2), 8)}${pad(perInstance || '-', 22)}${s.functions}`,
    );
  }

  const results = {
    machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, memoryGiB: Math.round(os.totalmem() / 2 ** 30), node: process.version },
    samplesPerCase: SAMPLES,
    latency,
    calls,
    fleets,
    footprint: foot,
    synth,
    runSeconds: Math.round((Date.now() - started) / 1000),
  };
  const out = path.join(__dirname, 'results.json');
  writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);
  console.log(`\nWrote ${out} (${results.runSeconds} s)`);
}

main()
  .catch((e: unknown) => {
    console.error(e);
    process.exitCode = 1;
  })
  .finally(async () => {
    const s = await sharedServices;
    await Promise.all([s?.dynamodb.close(), s?.cloudFormation.close()]);
  });
