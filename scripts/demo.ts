/**
 * `npm run demo`: one full lifecycle of the example app's resource (bin/app.ts), without an AWS
 * account.
 *
 * The example stack is synthesized as `cdk synth` would, and its custom resource is driven through
 * Create → Update (new owner) → Delete by the harness's CloudFormation driver (harness/): the real
 * provider framework from aws-cdk-lib and the bundled handler, run in-process against a local fake
 * Service Catalog on 127.0.0.1. Waits are compressed (5 s → 50 ms). For each CloudFormation event
 * the script prints what CloudFormation saw, the Service Catalog record, and the product's owner and
 * launch role before and after.
 *
 *   npm run demo               # the defaults of bin/app.ts
 *   npm run demo -- --verbose  # also print the handler's and the framework's logs
 *
 * It needs the handler bundle: `npm run build:handler` first (npm run build does it too).
 */
import { App } from 'aws-cdk-lib';
import { ProvisionedProductOwnershipStack, settingsFromContext } from '../bin/app';
import {
  type EventResult,
  FakeServiceCatalog,
  LifecycleDriver,
  type StepResult,
  resourceOf,
  startLocalServices,
  synthesize,
} from '../harness';

const ACCOUNT = '123456789012';
/** Who owns the product before the stack is deployed, and its launch role. */
const ORIGINAL_OWNER = `arn:aws:iam::${ACCOUNT}:user/product-requester`;
const ORIGINAL_LAUNCH_ROLE = `arn:aws:iam::${ACCOUNT}:role/OriginalLaunchRole`;
/** The owner the Update hands the product to. */
const NEXT_OWNER = `arn:aws:iam::${ACCOUNT}:role/PlatformOperators`;

const verbose = process.argv.includes('--verbose');

/** Synthesizes bin/app.ts's stack with this CDK context, as `cdk synth -c key=value` would. */
function synthExample(context: Record<string, string>) {
  return synthesize(
    (app: App) =>
      new ProvisionedProductOwnershipStack(app, 'ProvisionedProductOwnership', settingsFromContext(app), {
        env: { account: ACCOUNT, region: 'us-east-1' },
      }),
    { context },
  );
}

function show(fake: FakeServiceCatalog, id: string): string {
  const p = fake.product(id);
  if (!p) return '(product does not exist)';
  return `owner ${p.owner}, launch role ${p.launchRole || '(none)'}, status ${p.status}`;
}

function printEvent(label: string, result: EventResult, fake: FakeServiceCatalog): void {
  console.log(`  ${label}: ${result.RequestType} → ${result.Status} in ${result.responseMs} ms`);
  if (result.Status === 'FAILED') console.log(`    Reason: ${result.Reason.split('\n')[0]}`);
  console.log(`    PhysicalResourceId: ${result.PhysicalResourceId}`);
  if (result.Data) console.log(`    Data: ${JSON.stringify(result.Data)}`);
  const handlerCalls = result.invocations.map((i) => `${i.fn}${i.outcome === 'ok' ? '' : ` (${i.outcome})`}`);
  console.log(`    handler invocations: ${handlerCalls.join(', ') || '(none)'}; waiter checks: ${result.waiterAttempts}`);
  const recordId = result.Data?.RecordId;
  const record = recordId ? fake.record(recordId) : undefined;
  if (record) {
    const errors = record.recordErrors.map((e) => `${e.Code}: ${e.Description}`).join('; ');
    console.log(
      `    record ${record.recordId}: ${record.status} ${JSON.stringify(record.properties)}${errors ? ` errors: ${errors}` : ''}`,
    );
  } else {
    console.log('    record: none (nothing needed changing)');
  }
}

async function step(title: string, fake: FakeServiceCatalog, productId: string, run: () => Promise<StepResult>): Promise<StepResult> {
  console.log(`\n${title}`);
  console.log(`  before: ${show(fake, productId)}`);
  const result = await run();
  printEvent('event', result, fake);
  for (const f of result.followUps) printEvent(`then (${f.phase})`, f, fake);
  console.log(`  after:  ${show(fake, productId)}`);
  console.log(`  stack:  ${result.stackStatus}`);
  return result;
}

async function main(): Promise<void> {
  const services = await startLocalServices({ recordDurationMs: 200, account: ACCOUNT });
  const fake = services.serviceCatalog;
  try {
    const model = synthExample({});
    const resource = resourceOf(model);
    const productId = String(resource.properties.ProvisionedProductId);
    fake.addProduct({ id: productId, owner: ORIGINAL_OWNER, launchRole: ORIGINAL_LAUNCH_ROLE });

    console.log('ProvisionedProductProperties demo: the example app (bin/app.ts) against a local fake Service Catalog');
    console.log(`  stack ${model.stackName}, resource ${resource.logicalId} (${resource.type})`);
    console.log(`  properties: ${JSON.stringify({ ...resource.properties, ServiceToken: '(the provider framework)' })}`);
    console.log(`  provisioned product ${productId} at ${fake.endpoint}: ${show(fake, productId)}`);

    const driver = new LifecycleDriver(model, { ...services.driverOptions, timeScale: 0.01, echoLogs: verbose });

    const created = await step('1. cdk deploy (Create): hand the product to the platform owner and launch role', fake, productId, () =>
      driver.create(),
    );
    const next = resourceOf(synthExample({ ownerArn: NEXT_OWNER })).properties;
    await step(`2. cdk deploy -c ownerArn=${NEXT_OWNER} (Update): change the owner`, fake, productId, () => driver.update(next));
    await step('3. cdk destroy (Delete): put back the owner and launch role the product had before', fake, productId, () =>
      driver.delete(),
    );

    const final = fake.product(productId);
    const restored = final?.owner === ORIGINAL_OWNER && final.launchRole === ORIGINAL_LAUNCH_ROLE;
    console.log(
      `\n${restored ? 'Restored' : 'NOT restored'}: ${productId} is back with ${ORIGINAL_OWNER} and ${ORIGINAL_LAUNCH_ROLE}` +
        ` (recorded at Create in the ledger and the physical id: PreviousOwnerArn ${created.Data?.PreviousOwnerArn}).`,
    );
    if (!restored || fake.violations.length > 0 || driver.responseUrlLeaks().length > 0) {
      if (fake.violations.length > 0) console.error(`Malformed Service Catalog calls: ${fake.violations.join('; ')}`);
      process.exitCode = 1;
    }
  } finally {
    await services.close();
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
