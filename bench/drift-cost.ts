/**
 * What the drift check costs (`npm run bench:drift`): the calls one check makes per product, by
 * service and operation, counted through the harness (the scheduled function the template declares,
 * against the fake Service Catalog and DynamoDB Local) for stacks of 1, 10 and 50 instances; and
 * from them the monthly cost of N products at the default interval and two shorter ones, at the
 * prices below. Writes bench/drift-results.json. Not a test: nothing here asserts.
 */
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { Stack } from 'aws-cdk-lib';
import { DriftCheck, Owner, ProvisionedProductProperties } from '../lib';
import { DRIFT } from '../lib/contract';
import { LifecycleDriver, RESOURCE_TYPE, startLocalServices, synthesize } from '../harness';
import { ACCOUNT } from './fixtures';

const SIZES = (process.env.BENCH_DRIFT_SIZES ?? '1,10,50').split(',').map(Number);
/**
 * us-east-1 list prices (December 2026): Service Catalog bills every API call beyond 1,000 a month
 * per account (https://aws.amazon.com/servicecatalog/pricing/); CloudWatch a custom metric per
 * month (the first 10 free per account are not counted here). Lambda, DynamoDB on demand, the
 * EventBridge schedule and the log lines cost well under a cent a month at these volumes.
 */
const PRICE = { serviceCatalogCall: 0.0007, serviceCatalogFreeCalls: 1_000, customMetricMonth: 0.3 };
const INTERVALS: Array<[string, number]> = [
  ['1 day (default)', 24],
  ['6 hours', 6],
  ['1 hour', 1],
];
const PRODUCTS = [10, 100, 400];

async function callsPerProduct(n: number): Promise<Record<string, number>> {
  const services = await startLocalServices({ recordDurationMs: 20, account: ACCOUNT });
  try {
    const model = synthesize((app) => {
      const stack = new Stack(app, 'DriftCost', { env: { account: ACCOUNT, region: 'us-east-1' } });
      for (let i = 0; i < n; i++) {
        services.serviceCatalog.addProduct({ id: `pp-drift${i}`, owner: `arn:aws:iam::${ACCOUNT}:user/alice` });
        new ProvisionedProductProperties(stack, `Instance${i}`, {
          provisionedProductId: `pp-drift${i}`,
          owner: Owner.fromArn(`arn:aws:iam::${ACCOUNT}:role/PlatformAdmin`),
          driftCheck: i === 0 ? DriftCheck.daily() : undefined,
        });
      }
      return stack;
    });
    const ids = Object.keys(model.template.Resources).filter((id) => model.template.Resources[id].Type === RESOURCE_TYPE);
    const options = { ...services.driverOptions, timeScale: 0.01, env: { POWERTOOLS_LOG_LEVEL: 'SILENT' } };
    const first = new LifecycleDriver(model, { ...options, logicalId: ids[0] });
    const drivers = [first, ...ids.slice(1).map((logicalId) => new LifecycleDriver(model, { ...options, logicalId, sameStackAs: first }))];
    for (const d of drivers) {
      const created = await d.create();
      if (created.Status !== 'SUCCESS') throw new Error(`Create failed: ${created.Reason}`);
    }
    // One product in ten changed by hand: the findings are recorded, as in a stack that drifts.
    for (let i = 0; i < n; i += 10) services.serviceCatalog.changeByHand(`pp-drift${i}`, { owner: `arn:aws:iam::${ACCOUNT}:user/mallory` });
    const [sc, ddb] = [services.serviceCatalog.calls.length, services.dynamodb.calls.length];
    const run = await first.checkDrift();
    if (run.error) throw new Error(`the check failed: ${run.error.errorMessage}`);
    const counts: Record<string, number> = {};
    for (const c of services.serviceCatalog.calls.slice(sc)) counts[`servicecatalog:${c.op}`] = (counts[`servicecatalog:${c.op}`] ?? 0) + 1;
    for (const c of services.dynamodb.calls.slice(ddb)) counts[`dynamodb:${c.op}`] = (counts[`dynamodb:${c.op}`] ?? 0) + 1;
    for (const d of drivers) d.release();
    return Object.fromEntries(Object.entries(counts).map(([k, v]) => [k, Number((v / n).toFixed(3))]));
  } finally {
    await services.close();
  }
}

async function main(): Promise<void> {
  const measured = [];
  for (const n of SIZES) {
    const perProduct = await callsPerProduct(n);
    measured.push({ instances: n, perProduct });
    console.log(`${n} instances: calls per product per check ${JSON.stringify(perProduct)}`);
  }
  const largest = measured[measured.length - 1].perProduct;
  const scPerProduct = Object.entries(largest)
    .filter(([k]) => k.startsWith('servicecatalog:'))
    .reduce((a, [, v]) => a + v, 0);
  const metrics = Object.keys(DRIFT.metric).length - 1; // RestoredProducts only with restore
  const monthly = INTERVALS.map(([interval, hours]) => ({
    interval,
    byProducts: PRODUCTS.map((products) => {
      const calls = Math.round(scPerProduct * products * ((30 * 24) / hours));
      const serviceCatalogUsd = Math.max(0, calls - PRICE.serviceCatalogFreeCalls) * PRICE.serviceCatalogCall;
      return { products, serviceCatalogCalls: calls, usd: Number((serviceCatalogUsd + metrics * PRICE.customMetricMonth).toFixed(2)) };
    }),
  }));
  console.log(
    `\nService Catalog calls per product per check: ${scPerProduct}; custom metrics per stack: ${metrics} (${metrics + 1} with restore)`,
  );
  console.log(`Monthly cost, USD (Service Catalog calls beyond the free 1,000 + ${metrics} custom metrics):`);
  console.log(`${'interval'.padEnd(18)}${PRODUCTS.map((p) => `${p} products`.padEnd(16)).join('')}`);
  for (const m of monthly) console.log(`${m.interval.padEnd(18)}${m.byProducts.map((b) => `$${b.usd}`.padEnd(16)).join('')}`);
  const out = path.join(__dirname, 'drift-results.json');
  writeFileSync(
    out,
    `${JSON.stringify({ measured, serviceCatalogCallsPerProduct: scPerProduct, customMetrics: metrics, price: PRICE, monthly }, null, 2)}\n`,
  );
  console.log(`\nWrote ${out}`);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
