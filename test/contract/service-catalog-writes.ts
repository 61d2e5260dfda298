/**
 * Contract behaviours of Service Catalog's writes: UpdateProvisionedProductProperties, its records, idempotency, busy products, and the writes it refuses.
 */
import { DescribeRecordCommand } from '@aws-sdk/client-service-catalog';
import {
  type Behaviour,
  type ContractContext,
  Difference,
  Inconclusive,
  NotRun,
  describeError,
  expectEqual,
  expectThat,
  newToken,
  outcomeOf,
  show,
  sleep,
} from './behaviour';
import { RECORD_STATUSES, type RecordRun, readProduct, searchById, waitForRecord, waitUntilFree, writeProperties } from './probes';
import { SC_DOCS } from './service-catalog-reads';

const UPDATE_DOCS = `${SC_DOCS}/API_UpdateProvisionedProductProperties.html`;
const FINAL = new Set(['SUCCEEDED', 'FAILED']);

/** One of the target's owners that the product does not have now. */
function anotherOwner(ctx: ContractContext, current: string): string {
  const [a, b] = ctx.target.owners;
  return current === a ? b : a;
}

/** Writes `properties` (with a fresh token) and waits for the record, which must SUCCEED. */
async function apply(ctx: ContractContext, properties: Record<string, string>, label: string): Promise<RecordRun & { recordId: string }> {
  const out = await writeProperties(ctx.sc, ctx.target.productId, properties, newToken(label));
  const recordId = out.RecordId ?? '';
  const run = await waitForRecord(ctx.sc, recordId, ctx.target.timing, out.Status);
  expectEqual(run.detail.Status, 'SUCCEEDED', `the status of record ${recordId} writing ${show(properties)}`);
  return { ...run, recordId };
}

/**
 * Writes properties the service must not apply: they are refused with one of `errorNames`, or
 * their record ends FAILED with RecordErrors; either way the product ends AVAILABLE or TAINTED with
 * its values unchanged. Returns how it went.
 */
async function expectNotApplied(
  ctx: ContractContext,
  properties: Record<string, string>,
  errorNames: readonly string[],
  client = ctx.sc,
): Promise<string> {
  const { sc, target } = ctx;
  const before = await readProduct(sc, target.productId);
  const write = await outcomeOf(writeProperties(client, target.productId, properties, newToken('refused')));
  let how: string;
  if (write.error) {
    expectThat(
      errorNames.includes(write.error.name),
      `writing ${show(properties)} was refused with ${describeError(write.error)}; expected ${errorNames.join(' or ')}, or a FAILED record`,
    );
    how = `refused: ${write.error.name}`;
  } else {
    const recordId = write.value.RecordId ?? '';
    const run = await waitForRecord(sc, recordId, target.timing, write.value.Status);
    expectThat(run.detail.Status === 'FAILED', `the service applied ${show(properties)}: record ${recordId} ${show(run.detail.Status)}`);
    const errors = run.detail.RecordErrors ?? [];
    expectThat(errors.length > 0, `record ${recordId} FAILED without RecordErrors`);
    how = `record ${recordId} FAILED (${errors.map((e) => `${e.Code ?? ''}: ${e.Description ?? ''}`).join('; ')})`;
  }
  const status = await waitUntilFree(sc, target.productId, target.timing);
  expectThat(
    status === 'AVAILABLE' || status === 'TAINTED',
    `after writing ${show(properties)} the product is ${status}, not AVAILABLE or TAINTED`,
  );
  const after = await readProduct(sc, target.productId);
  expectEqual(after.userArn, before.userArn, `the owner (UserArn) after writing ${show(properties)}`);
  expectEqual(after.launchRole, before.launchRole, `the launch role after writing ${show(properties)}`);
  return `${how}; product ${status}, values unchanged`;
}

export const recordLifecycle: Behaviour = {
  id: 'sc.record-lifecycle',
  service: 'Service Catalog',
  assumption:
    'UpdateProvisionedProductProperties answers with a RecordId and a record status; DescribeRecord then reports only CREATED, IN_PROGRESS, IN_PROGRESS_IN_ERROR, SUCCEEDED or FAILED, in that order, ending SUCCEEDED with no RecordErrors, RecordType UPDATE_PROVISIONED_PRODUCT_PROPERTIES.',
  reliedOnBy: 'lambda/decisions.ts recordOutcome: SUCCEEDED completes, FAILED fails, the rest (and any unknown status) keep waiting.',
  source: `${SC_DOCS}/API_RecordDetail.html (Status)`,
  fake: { kind: 'models' },
  writes: true,
  async run(ctx) {
    const { sc, target } = ctx;
    const owner = anotherOwner(ctx, (await readProduct(sc, target.productId)).userArn);
    const out = await writeProperties(sc, target.productId, { OWNER: owner }, newToken('lifecycle'));
    const recordId = out.RecordId ?? '';
    expectThat(recordId !== '', 'UpdateProvisionedProductProperties answered without a RecordId');
    const run = await waitForRecord(sc, recordId, target.timing, out.Status);
    const order = run.statuses.map((s) => RECORD_STATUSES.indexOf(s as (typeof RECORD_STATUSES)[number]));
    expectThat(!order.includes(-1), `record ${recordId} went through ${run.statuses.join(' → ')}, which has an undocumented status`);
    expectThat(
      order.every((o, i) => i === 0 || o >= order[i - 1]),
      `record ${recordId} went through ${run.statuses.join(' → ')}, out of order`,
    );
    expectEqual(run.detail.Status, 'SUCCEEDED', `record ${recordId}'s final status`);
    expectEqual(run.detail.RecordType, 'UPDATE_PROVISIONED_PRODUCT_PROPERTIES', 'RecordType');
    expectEqual(run.detail.ProvisionedProductId, target.productId, "the record's ProvisionedProductId");
    expectEqual((run.detail.RecordErrors ?? []).length, 0, 'the number of RecordErrors of a SUCCEEDED record');
    ctx.observe(`record ${recordId}: ${run.statuses.join(' → ')}`);
  },
};

export const readAfterWrite: Behaviour = {
  id: 'sc.read-after-write',
  service: 'Service Catalog',
  assumption:
    'As soon as DescribeRecord reports SUCCEEDED, DescribeProvisionedProduct shows the new launch role, the record as LastRecordId and a settled status, and the first search shows the new owner in UserArn.',
  reliedOnBy:
    'on-event.ts compares the values it reads with the targets and skips equal ones: a read that lagged a just-finished record (a rollback right after a Create, say) would skip a write that is needed.',
  source: 'Not documented: the API says nothing about consistency between DescribeRecord, DescribeProvisionedProduct and the search index.',
  fake: { kind: 'models' },
  writes: true,
  async run(ctx) {
    const { sc, target } = ctx;
    const before = await readProduct(sc, target.productId);
    const owner = anotherOwner(ctx, before.userArn);
    const properties: Record<string, string> = { OWNER: owner };
    if (before.launchRole !== target.launchRole) properties.LAUNCH_ROLE = target.launchRole;
    else ctx.observe(`the product already has launch role ${target.launchRole}: only the owner changes`);
    const { recordId } = await apply(ctx, properties, 'read-after-write');
    const after = await readProduct(sc, target.productId);
    expectThat(after.status === 'AVAILABLE' || after.status === 'TAINTED', `right after SUCCEEDED the product is ${after.status}`);
    expectEqual(after.lastRecordId, recordId, 'LastRecordId right after SUCCEEDED');
    if (properties.LAUNCH_ROLE) expectEqual(after.launchRole, properties.LAUNCH_ROLE, 'LaunchRoleArn right after SUCCEEDED');
    if (after.userArn !== owner) {
      const since = Date.now();
      let lag = 'did not show it within 30 s';
      while (Date.now() - since < 30_000) {
        await sleep(target.timing.pollMs);
        if ((await searchById(sc, target.productId)).some((p) => p.UserArn === owner)) {
          lag = `showed it ${Date.now() - since} ms later`;
          break;
        }
      }
      throw new Difference(`right after SUCCEEDED the search reported owner ${show(after.userArn)}, not ${owner}; it ${lag}`);
    }
    ctx.observe(`record ${recordId}: the next reads show ${Object.keys(properties).join(' and ')}`);
  },
};

export const busyRecord: Behaviour = {
  id: 'sc.busy-record',
  service: 'Service Catalog',
  assumption:
    'While a properties record runs, the product is UNDER_CHANGE and a write with another IdempotencyToken is refused with InvalidStateException.',
  reliedOnBy:
    'is-complete.ts retries a write refused with InvalidStateException until the product is free; on-event.ts does not compare the values of a busy product (a rollback lands after the record of the event that timed out).',
  source: `${UPDATE_DOCS} (Errors: InvalidStateException); ${SC_DOCS}/API_ProvisionedProductDetail.html (UNDER_CHANGE)`,
  fake: { kind: 'models' },
  writes: true,
  async run(ctx) {
    const { sc, target } = ctx;
    const current = (await readProduct(sc, target.productId)).userArn;
    const [first, second] = [anotherOwner(ctx, current), current];
    const started = await writeProperties(sc, target.productId, { OWNER: first }, newToken('busy-first'));
    const recordId = started.RecordId ?? '';
    const status = (await readProduct(sc, target.productId)).status;
    const next = await outcomeOf(writeProperties(sc, target.productId, { OWNER: second }, newToken('busy-second')));
    const recordThen = (await sc.send(new DescribeRecordCommand({ Id: recordId }))).RecordDetail?.Status ?? '';
    const ran = !FINAL.has(recordThen);
    await waitForRecord(sc, recordId, target.timing, started.Status);
    if (next.value) {
      await waitForRecord(sc, next.value.RecordId ?? '', target.timing, next.value.Status);
      if (!ran) throw new Inconclusive(`record ${recordId} finished before the second write arrived, which was accepted`);
      throw new Difference(`a second write while record ${recordId} was ${recordThen} was accepted (record ${next.value.RecordId ?? ''})`);
    }
    if (next.error.name !== 'InvalidStateException') {
      throw new Difference(`the second write was refused with ${describeError(next.error)}, expected InvalidStateException`);
    }
    if (status !== 'UNDER_CHANGE') {
      if (ran) throw new Difference(`the product was ${status} while its record ${recordId} was ${recordThen}`);
      throw new Inconclusive(`record ${recordId} finished before the product could be read busy`);
    }
    ctx.observe(`while record ${recordId} was ${recordThen}: product UNDER_CHANGE, second write InvalidStateException`);
  },
};

export const busyUpdate: Behaviour = {
  id: 'sc.busy-update',
  service: 'Service Catalog',
  assumption:
    'While another operation runs on the product (an UpdateProvisionedProduct), it is UNDER_CHANGE and UpdateProvisionedProductProperties is refused with InvalidStateException; afterwards the product is AVAILABLE (or TAINTED) again.',
  reliedOnBy: "is-complete.ts retries InvalidStateException until the product is free, within the provider's totalTimeout.",
  source: `${UPDATE_DOCS} (Errors: InvalidStateException)`,
  fake: { kind: 'models' },
  writes: true,
  async run(ctx) {
    const { sc, target } = ctx;
    if (!target.makeBusy) throw new NotRun('this target cannot update the provisioned product (only the fixture the suite deploys can be)');
    const current = (await readProduct(sc, target.productId)).userArn;
    await target.makeBusy();
    const status = (await readProduct(sc, target.productId)).status;
    const write = await outcomeOf(writeProperties(sc, target.productId, { OWNER: anotherOwner(ctx, current) }, newToken('busy-update')));
    const free = await waitUntilFree(sc, target.productId, target.timing);
    if (write.value) {
      await waitForRecord(sc, write.value.RecordId ?? '', target.timing, write.value.Status);
      throw new Difference(`a write while the product was ${status} was accepted (record ${write.value.RecordId ?? ''})`);
    }
    expectEqual(status, 'UNDER_CHANGE', 'the status of a product being updated');
    expectEqual(write.error.name, 'InvalidStateException', 'the error of a write to a product being updated');
    expectThat(free === 'AVAILABLE' || free === 'TAINTED', `after the update the product is ${free}`);
    ctx.observe(`UNDER_CHANGE, write refused with InvalidStateException, then ${free}`);
  },
};

export const tokenRepeat: Behaviour = {
  id: 'sc.token-repeat',
  service: 'Service Catalog',
  assumption:
    'A write repeated with the same IdempotencyToken and parameters after its record finished answers with the same RecordId and starts no new record.',
  reliedOnBy:
    'is-complete.ts writes on every waiter call until it sees the record: a redelivered or repeated isComplete must not apply the change twice.',
  source: `${UPDATE_DOCS} (IdempotencyToken: "uniquely identifies the provisioning product update request")`,
  fake: { kind: 'models' },
  writes: true,
  async run(ctx) {
    const { sc, target } = ctx;
    const properties = { OWNER: anotherOwner(ctx, (await readProduct(sc, target.productId)).userArn) };
    const token = newToken('repeat');
    const first = await writeProperties(sc, target.productId, properties, token);
    await waitForRecord(sc, first.RecordId ?? '', target.timing, first.Status);
    const again = await outcomeOf(writeProperties(sc, target.productId, properties, token));
    if (again.error) throw new Difference(`repeating the write after its record finished was refused: ${describeError(again.error)}`);
    expectEqual(again.value.RecordId, first.RecordId, 'the RecordId of the repeated write');
    expectEqual((await readProduct(sc, target.productId)).lastRecordId, first.RecordId, 'LastRecordId after the repeat');
    ctx.observe(`both answered record ${first.RecordId ?? ''}`);
  },
};

export const tokenRepeatBusy: Behaviour = {
  id: 'sc.token-repeat-busy',
  service: 'Service Catalog',
  assumption:
    'A write repeated with the same IdempotencyToken while its own record still runs (the product UNDER_CHANGE) answers with the same RecordId, not InvalidStateException.',
  reliedOnBy:
    'is-complete.ts: a second isComplete (waiter retry, redelivery) repeats the write while the first record runs and must get that record back to watch it.',
  source: `${UPDATE_DOCS} (IdempotencyToken); the busy case is not documented`,
  fake: { kind: 'models' },
  writes: true,
  async run(ctx) {
    const { sc, target } = ctx;
    const properties = { OWNER: anotherOwner(ctx, (await readProduct(sc, target.productId)).userArn) };
    const token = newToken('repeat-busy');
    const first = await writeProperties(sc, target.productId, properties, token);
    const recordId = first.RecordId ?? '';
    const again = await outcomeOf(writeProperties(sc, target.productId, properties, token));
    const recordThen = (await sc.send(new DescribeRecordCommand({ Id: recordId }))).RecordDetail?.Status ?? '';
    await waitForRecord(sc, recordId, target.timing, first.Status);
    if (again.error)
      throw new Difference(`the repeat while record ${recordId} was ${recordThen} was refused: ${describeError(again.error)}`);
    expectEqual(again.value.RecordId, recordId, 'the RecordId of the repeated write');
    if (FINAL.has(recordThen)) throw new Inconclusive(`record ${recordId} had finished before the repeat was answered`);
    ctx.observe(`repeat while record ${recordId} was ${recordThen}: same record`);
  },
};

export const userArnRoundTrip: Behaviour = {
  id: 'sc.userarn-roundtrip',
  service: 'Service Catalog',
  assumption:
    'The UserArn the search reports is accepted as OWNER, and writing it back leaves UserArn unchanged (whatever principal provisioned the product).',
  reliedOnBy: 'Delete writes the recorded UserArn back as OWNER to restore the prior owner (on-event.ts onDelete, physical-id.ts).',
  source: `${UPDATE_DOCS} (OWNER accepts IAM user, IAM role and STS assumed-role ARNs)`,
  fake: { kind: 'models' },
  writes: true,
  async run(ctx) {
    const { sc, target } = ctx;
    const before = await readProduct(sc, target.productId);
    expectThat(before.listed && before.userArn !== '', `the search did not report an owner for ${target.productId}`);
    const write = await outcomeOf(writeProperties(sc, target.productId, { OWNER: before.userArn }, newToken('roundtrip')));
    if (write.error) throw new Difference(`UserArn ${before.userArn} was refused as OWNER: ${describeError(write.error)}`);
    const run = await waitForRecord(sc, write.value.RecordId ?? '', target.timing, write.value.Status);
    expectEqual(run.detail.Status, 'SUCCEEDED', `the record writing UserArn ${before.userArn} back`);
    expectEqual((await readProduct(sc, target.productId)).userArn, before.userArn, 'UserArn after writing it back as OWNER');
    ctx.observe(`OWNER=${before.userArn} accepted and read back unchanged`);
  },
};

export const failedRecord: Behaviour = {
  id: 'sc.failed-record',
  service: 'Service Catalog',
  assumption:
    'A write the service cannot apply (a launch role that does not exist) is refused with InvalidParametersException or ends in a FAILED record with RecordErrors; the product is then AVAILABLE or TAINTED with its values unchanged, and accepts the next write.',
  reliedOnBy:
    'is-complete.ts reports FAILED records with their RecordErrors and refused writes with the error; a rollback then writes the priors to the same product.',
  source: `${SC_DOCS}/API_RecordDetail.html (FAILED, RecordErrors); ${SC_DOCS}/API_ProvisionedProductDetail.html (TAINTED)`,
  fake: { kind: 'models' },
  writes: true,
  async run(ctx) {
    const { sc, target } = ctx;
    const how = await expectNotApplied(ctx, await target.unappliableWrite(), ['InvalidParametersException']);
    const { recordId } = await apply(ctx, { OWNER: anotherOwner(ctx, (await readProduct(sc, target.productId)).userArn) }, 'after-failure');
    ctx.observe(`${how}; the next write (record ${recordId}) SUCCEEDED`);
  },
};

export const launchRoleNotCleared: Behaviour = {
  id: 'sc.launch-role-not-cleared',
  service: 'Service Catalog',
  assumption:
    "LAUNCH_ROLE '' (no launch role) is refused with InvalidParametersException (or its record FAILS): a launch role cannot be cleared.",
  reliedOnBy:
    'decisions.ts planRestore leaves a launch role in place when the product had none (README, Limits), instead of writing an empty one.',
  source: `${UPDATE_DOCS} (LAUNCH_ROLE: "Only a role ARN is valid"); clearing is not documented either way`,
  fake: { kind: 'models' },
  writes: true,
  async run(ctx) {
    ctx.observe(await expectNotApplied(ctx, { LAUNCH_ROLE: '' }, ['InvalidParametersException']));
  },
};

export const foreignPrincipals: Behaviour = {
  id: 'sc.foreign-principals',
  service: 'Service Catalog',
  assumption:
    "An OWNER or a LAUNCH_ROLE of another account than the product's is refused with InvalidParametersException (or its record FAILS).",
  reliedOnBy:
    "The construct and the handler refuse such ARNs themselves (lib/rules.ts checkHome): the check must be no looser than the service's.",
  source: `${UPDATE_DOCS} ("change the owner ... to another IAM or STS entity within the same account"); for LAUNCH_ROLE not documented`,
  fake: { kind: 'models' },
  writes: true,
  async run(ctx) {
    const partition = /^arn:([^:]+):/.exec(ctx.target.launchRole)?.[1] ?? 'aws';
    const foreign = `arn:${partition}:iam::${ctx.target.foreignAccount}:role/ppp-contract-foreign`;
    const owner = await expectNotApplied(ctx, { OWNER: foreign }, ['InvalidParametersException']);
    const launchRole = await expectNotApplied(ctx, { LAUNCH_ROLE: foreign }, ['InvalidParametersException']);
    ctx.observe(`OWNER ${owner}; LAUNCH_ROLE ${launchRole}`);
  },
};

export const passRole: Behaviour = {
  id: 'sc.passrole',
  service: 'Service Catalog',
  assumption:
    'Setting LAUNCH_ROLE needs iam:PassRole on that role: a principal that may call UpdateProvisionedProductProperties but not pass the role can change the owner, and its LAUNCH_ROLE write is refused (or its record FAILS).',
  reliedOnBy:
    "lib/provider/handler-roles.ts gives the isComplete role iam:PassRole (to servicecatalog.amazonaws.com) on the account's roles, and nothing else does.",
  source:
    'Not documented for this call; iam:PassRole is how IAM guards handing a role to a service (IAM User Guide, "Granting a user permissions to pass a role").',
  fake: { kind: 'not-modelled', why: 'the fake Service Catalog checks no IAM permission' },
  writes: true,
  async run(ctx) {
    const { sc, target } = ctx;
    const client = target.withoutPassRole;
    if (!client) throw new NotRun('this target has no principal without iam:PassRole');
    const before = await readProduct(sc, target.productId);
    const control = await outcomeOf(
      writeProperties(client, target.productId, { OWNER: anotherOwner(ctx, before.userArn) }, newToken('no-passrole-owner')),
    );
    if (control.error)
      throw new Difference(`the principal without iam:PassRole could not even change the owner: ${describeError(control.error)}`);
    await waitForRecord(sc, control.value.RecordId ?? '', target.timing, control.value.Status);
    const role = before.launchRole === target.launchRole ? '' : target.launchRole;
    if (!role) throw new Inconclusive(`the product already has launch role ${target.launchRole}: there is no other role to pass`);
    const how = await expectNotApplied(
      ctx,
      { LAUNCH_ROLE: role },
      ['AccessDeniedException', 'AccessDenied', 'InvalidParametersException'],
      client,
    );
    ctx.observe(`owner change accepted; LAUNCH_ROLE ${how}`);
  },
};
