/**
 * The handler with its ledger (design.md §4a), against AWS's own DynamoDB Local and a fake
 * CloudFormation: every delivery of a request answers with the first delivery's decision; a request
 * a later one superseded writes nothing; a Create CloudFormation took a failed answer to leaves
 * nothing changed; the priors come from the ledger and a physical id that disagrees is refused; a
 * resource created before the ledger existed still updates and deletes correctly.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import type { DynamoDBLocal, FakeServiceCatalog } from '../../harness';
import { LEDGER } from '../../lib/contract';
import type * as Handler from '../../lambda/index';
import { resourceKey } from '../../lambda/ledger-rules';
import { encodePhysicalId, type PhysicalIdFields } from '../../lambda/physical-id';
import { ACCOUNT, ADMIN, ALICE, LAUNCH_A, LAUNCH_B, OPS } from '../support/fixtures';
import {
  type HandlerRunner,
  type HandlerServices,
  cloudFormationStatus,
  currentStackId,
  event,
  loadHandler,
  runner,
  startWaiter,
  useHandlerUnderTest,
} from '../support/handler-events';

const MALLORY = `arn:aws:iam::${ACCOUNT}:role/Mallory`;
const preLedger = JSON.parse(readFileSync(path.join(__dirname, '..', 'fixtures', 'pre-ledger-physical-ids.json'), 'utf8')) as {
  ids: ReadonlyArray<{ fields: PhysicalIdFields; physicalId: string }>;
};

let fake: FakeServiceCatalog;
let dynamodb: DynamoDBLocal;
let services: HandlerServices;
let handler: typeof Handler;
let run: HandlerRunner;
useHandlerUnderTest((under) => {
  ({ fake, dynamodb, handler } = under);
  services = under;
  run = runner(handler);
});

let products = 0;
/** A fresh product owned by `owner` with launch role LAUNCH_A. */
function product(owner = ALICE, launchRole = LAUNCH_A): string {
  const id = `pp-ledger${++products}`;
  fake.addProduct({ id, owner, launchRole, account: ACCOUNT });
  return id;
}

const state = (id: string) => {
  const p = fake.product(id);
  return { owner: p?.owner, launchRole: p?.launchRole };
};
const writes = (id: string) => fake.callsOf('UpdateProvisionedProductProperties').filter((c) => c.input?.ProvisionedProductId === id);
const reads = (id: string) => fake.callsOf('DescribeProvisionedProduct').filter((c) => c.input?.Id === id);

/** isComplete until it completes or throws (as the waiter's calls would). */
async function finish(merged: Handler.IsCompleteEvent, h = handler): Promise<Handler.IsCompleteResult> {
  for (let i = 0; i < 200; i++) {
    const result = await h.isComplete(merged);
    if (result.IsComplete) return result;
  }
  throw new Error('isComplete never completed');
}

describe('every delivery of a request answers with its first decision', () => {
  test('a copy delivered after the first delivery wrote answers with its physical id and true priors, without reading the product', async () => {
    const id = product();
    const e = event('Create', { id, owner: ADMIN, launchRole: LAUNCH_B });
    const first = await run(e);
    expect(state(id)).toEqual({ owner: ADMIN, launchRole: LAUNCH_B });
    const readsBefore = reads(id).length;
    const copy = await handler.onEvent(e);
    expect(copy.PhysicalResourceId).toBe(first.physicalId);
    expect(copy.PlannedChange?.Priors).toEqual({ OWNER: ALICE, LAUNCH_ROLE: LAUNCH_A });
    expect(reads(id).length).toBe(readsBefore);
  });

  test('a copy delivered while the first still decides waits for its decision instead of failing', async () => {
    const slow = await loadHandler(services, { SEARCH_DELAY_MS: '100' });
    const id = product();
    fake.setSearchLag(id, 2); // the first delivery searches three times, 100 ms apart
    const e = event('Create', { id, owner: ADMIN });
    const [first, copy] = await Promise.all([slow.onEvent(e), sleep(30).then(() => slow.onEvent(e))]);
    expect(copy).toEqual(first);
    expect(reads(id)).toHaveLength(1);
  });

  test('a delivery under the same RequestId with other properties is refused, and nothing is written', async () => {
    const id = product();
    const e = event('Create', { id, owner: ADMIN }, { requestId: 'request-forged-copy' });
    await handler.onEvent(e);
    const other = event('Create', { id, owner: MALLORY }, { requestId: 'request-forged-copy' });
    await expect(handler.onEvent(other)).rejects.toThrow(
      /carries other properties or another physical id than its first delivery did.*nothing was written/,
    );
    expect(writes(id)).toHaveLength(0);
  });

  test('a first decision that failed is not kept: the next delivery decides afresh', async () => {
    const id = 'pp-ledger-late';
    const e = event('Create', { id, owner: ADMIN });
    await expect(handler.onEvent(e)).rejects.toThrow(/pp-ledger-late/);
    fake.addProduct({ id, owner: ALICE, account: ACCOUNT });
    const { data } = await run(e);
    expect(data.PreviousOwnerArn).toBe(ALICE);
    expect(state(id).owner).toBe(ADMIN);
  });
});

describe('a request that a later request of the resource superseded writes nothing', () => {
  test("an Update's late isComplete after the next Update registered skips its write and says so", async () => {
    const id = product();
    const { physicalId } = await run(event('Create', { id, owner: ADMIN }));
    const older = event('Update', { id, owner: OPS }, { physicalId, old: { id, owner: ADMIN } });
    const olderPlanned = startWaiter(older, await handler.onEvent(older));
    const newer = event('Update', { id, owner: ADMIN, launchRole: LAUNCH_B }, { physicalId, old: { id, owner: OPS } });
    await run(newer);
    const writesBefore = writes(id).length;
    await expect(handler.isComplete(olderPlanned)).rejects.toThrow(
      new RegExp(
        `Skipped the write to provisioned product ${id}: a later CloudFormation request of this resource \\(Update ${newer.RequestId}\\)`,
      ),
    );
    expect(writes(id).length).toBe(writesBefore);
    expect(state(id)).toEqual({ owner: ADMIN, launchRole: LAUNCH_B });
  });

  test('a copy of an old request, decided again after a later request registered, is refused without reading the product', async () => {
    const id = 'pp-ledger-old-copy';
    const create = event('Create', { id, owner: ADMIN });
    await expect(handler.onEvent(create)).rejects.toThrow(/pp-ledger-old-copy/); // answered FAILED: CloudFormation moves on
    fake.addProduct({ id, owner: ALICE, account: ACCOUNT });
    await run(event('Delete', { id, owner: ADMIN }, { physicalId: 'AWSCDK::CustomResourceProviderFramework::CREATE_FAILED' }));
    const readsBefore = reads(id).length;
    await expect(handler.onEvent(create)).rejects.toThrow(/This Create is not the latest request of this resource: a later one \(Delete /);
    expect(reads(id).length).toBe(readsBefore);
    expect(writes(id)).toHaveLength(0);
  });

  test('a request first delivered after a Delete removed its physical id is refused without reading or writing', async () => {
    const id = product();
    const { physicalId } = await run(event('Create', { id, owner: ADMIN }));
    // An Update the framework failed before the handler saw it, and whose copy comes only after the stack's Delete.
    const stale = event('Update', { id, owner: OPS }, { physicalId, old: { id, owner: ADMIN } });
    await run(event('Delete', { id, owner: ADMIN }, { physicalId }));
    const [readsBefore, writesBefore] = [reads(id).length, writes(id).length];
    await expect(handler.onEvent(stale)).rejects.toThrow(
      /This Update names physical id .* which a Delete of this resource has already removed.*It changed nothing and recorded nothing/,
    );
    expect([reads(id).length, writes(id).length]).toEqual([readsBefore, writesBefore]);
    expect(state(id).owner).toBe(ALICE);
  });

  test("CloudFormation's retry of a Delete it took a failure for, after a copy of that Delete finished, succeeds without a write", async () => {
    const id = product();
    const { physicalId } = await run(event('Create', { id, owner: ADMIN }));
    await run(event('Delete', { id, owner: ADMIN }, { physicalId })); // the copy that finished
    const writesBefore = writes(id).length;
    const { planned } = await run(event('Delete', { id, owner: ADMIN }, { physicalId })); // CloudFormation's retry
    expect(planned.PlannedChange).toBeUndefined();
    expect(writes(id).length).toBe(writesBefore);
    expect(state(id).owner).toBe(ALICE);
  });

  test('a resource created again with the same product and priors gets the same physical id, which lives again', async () => {
    const id = product();
    const first = await run(event('Create', { id, owner: ADMIN }));
    await run(event('Delete', { id, owner: ADMIN }, { physicalId: first.physicalId }));
    const again = await run(event('Create', { id, owner: ADMIN }));
    expect(again.physicalId).toBe(first.physicalId);
    await run(event('Update', { id, owner: OPS }, { physicalId: again.physicalId, old: { id, owner: ADMIN } }));
    expect(state(id).owner).toBe(OPS);
  });

  test('a finished Delete forgets the priors, so a later Create of the same resource records them afresh', async () => {
    const id = product();
    const { physicalId } = await run(event('Create', { id, owner: ADMIN }));
    await run(event('Delete', { id, owner: ADMIN }, { physicalId }));
    fake.changeByHand(id, { owner: OPS });
    const { data } = await run(event('Create', { id, owner: ADMIN }));
    expect(data.PreviousOwnerArn).toBe(OPS);
  });
});

describe('a Create that CloudFormation took a failed answer to leaves nothing changed', () => {
  test('before its write (the framework answered it FAILED): nothing is written, and the event says so', async () => {
    const id = product();
    const e = event('Create', { id, owner: ADMIN });
    const planned = startWaiter(e, await handler.onEvent(e));
    cloudFormationStatus.set(e.LogicalResourceId, 'CREATE_FAILED');
    await expect(handler.isComplete(planned)).rejects.toThrow(
      new RegExp(
        `CloudFormation took a failed answer to this Create \\(the resource is CREATE_FAILED\\).*Nothing was written to provisioned product ${id}`,
      ),
    );
    expect(writes(id)).toHaveLength(0);
  });

  test('after its write (the rollback was answered meanwhile): what it wrote is put back to the priors', async () => {
    const id = product();
    const e = event('Create', { id, owner: ADMIN, launchRole: LAUNCH_B });
    const planned = startWaiter(e, await handler.onEvent(e));
    fake.planNextRecord({ durationMs: 200 });
    expect(await handler.isComplete({ ...planned, PlannedAt: 0 })).toEqual({ IsComplete: false }); // written; the record runs
    cloudFormationStatus.delete(e.LogicalResourceId); // the framework answered the rollback Delete of its marker itself
    await expect(finish(planned)).rejects.toThrow(
      new RegExp(`the resource is gone from the stack.*Put provisioned product ${id} back to its prior values`),
    );
    expect(state(id)).toEqual({ owner: ALICE, launchRole: LAUNCH_A });
  });

  test('a late copy of a Create CloudFormation took a success for leaves its values in place', async () => {
    const id = product();
    const e = event('Create', { id, owner: ADMIN });
    const { planned } = await run(e);
    expect(cloudFormationStatus.get(e.LogicalResourceId)).toBe('CREATE_COMPLETE');
    await expect(finish(startWaiter(e, planned))).resolves.toMatchObject({ IsComplete: true });
    expect(state(id).owner).toBe(ADMIN);
  });

  test("a later Create of a resource whose capture no Delete undid keeps the ledger's priors, not the values it left", async () => {
    const id = product();
    const first = event('Create', { id, owner: ADMIN });
    await run(first); // the stack then fails and CloudFormation deletes the resource without a Delete reaching the handler
    cloudFormationStatus.delete(first.LogicalResourceId);
    const again = await run(event('Create', { id, owner: OPS }));
    expect(again.data.PreviousOwnerArn).toBe(ALICE);
    await run(event('Delete', { id, owner: OPS }, { physicalId: again.physicalId }));
    expect(state(id).owner).toBe(ALICE);
  });
});

describe('a replacement CloudFormation never adopted (the framework failed it with the old physical id)', () => {
  test('its rollback Update puts the product the replacement changed back to its priors, then forgets them', async () => {
    const [b, a] = [product(), product()];
    const { physicalId } = await run(event('Create', { id: b, owner: ADMIN }));
    // The replacement to product a decides and writes (a copy of it did), but CloudFormation took a FAILED from the framework.
    const replacement = event('Update', { id: a, owner: OPS }, { physicalId, old: { id: b, owner: ADMIN } });
    await finish(startWaiter(replacement, await handler.onEvent(replacement)));
    expect(state(a).owner).toBe(OPS);
    const rollback = event('Update', { id: b, owner: ADMIN }, { physicalId, old: { id: a, owner: OPS } });
    const planned = await handler.onEvent(rollback);
    expect(planned.Orphans).toEqual([expect.objectContaining({ ProductId: a, Priors: { OWNER: ALICE, LAUNCH_ROLE: LAUNCH_A } })]);
    await finish(startWaiter(rollback, planned));
    expect(state(a)).toEqual({ owner: ALICE, launchRole: LAUNCH_A });
    expect(state(b).owner).toBe(ADMIN);
    // Forgotten: a later replacement to a records its priors afresh.
    fake.changeByHand(a, { owner: ADMIN });
    const again = await run(event('Update', { id: a, owner: OPS }, { physicalId, old: { id: b, owner: ADMIN } }));
    expect(again.data.PreviousOwnerArn).toBe(ADMIN);
  });

  test('a replacement CloudFormation adopted is not undone: its cleanup Delete restores only the old product', async () => {
    const [b, a] = [product(), product()];
    const { physicalId } = await run(event('Create', { id: b, owner: ADMIN }));
    const replaced = await run(event('Update', { id: a, owner: OPS }, { physicalId, old: { id: b, owner: ADMIN } }));
    await run(event('Delete', { id: b, owner: ADMIN }, { physicalId }));
    const next = event('Update', { id: a, owner: ADMIN }, { physicalId: replaced.physicalId, old: { id: a, owner: OPS } });
    const planned = await handler.onEvent(next);
    expect(planned.Orphans).toBeUndefined();
    await finish(startWaiter(next, planned));
    expect(state(a).owner).toBe(ADMIN);
    expect(state(b).owner).toBe(ALICE);
  });
});

describe('the priors come from the ledger, and a physical id that disagrees with it is refused (untrusted input)', () => {
  async function managed(): Promise<{ id: string; forged: string }> {
    const id = product();
    await run(event('Create', { id, owner: ADMIN, launchRole: LAUNCH_B }));
    // Well formed, this product, this account: only the ledger can tell that the prior owner is false.
    const forged = encodePhysicalId({ productId: id, priorOwnerArn: MALLORY, priorLaunchRoleArn: LAUNCH_A });
    return { id, forged };
  }

  test('an Update that drops the owner, sent with a forged prior owner, is refused naming both, and writes nothing', async () => {
    const { id, forged } = await managed();
    const update = event('Update', { id, launchRole: LAUNCH_B }, { physicalId: forged, old: { id, owner: ADMIN, launchRole: LAUNCH_B } });
    await expect(handler.onEvent(update)).rejects.toThrow(
      new RegExp(
        `prior values for provisioned product ${id} \\(owner "${MALLORY}".*are not those the provider's ledger recorded.*\\(owner "${ALICE}"`,
      ),
    );
    expect(writes(id)).toHaveLength(1); // the Create's
  });

  test('a Delete sent with a forged prior owner is refused naming both, and writes nothing', async () => {
    const { id, forged } = await managed();
    await expect(handler.onEvent(event('Delete', { id, owner: ADMIN, launchRole: LAUNCH_B }, { physicalId: forged }))).rejects.toThrow(
      /are not those the provider's ledger recorded when this resource first changed it.*Nothing was written/,
    );
    expect(writes(id)).toHaveLength(1);
    expect(state(id)).toEqual({ owner: ADMIN, launchRole: LAUNCH_B });
  });
});

describe('a resource created before the ledger existed (physical ids from the release before it)', () => {
  const fixtures = preLedger.ids;

  test('the fixtures are what this release encodes too', () => {
    for (const f of fixtures) expect(encodePhysicalId(f.fields)).toBe(f.physicalId);
  });

  test.each(fixtures.map((f) => [f.fields.productId, f] as const))(
    '%s: updates, deletes back to the priors its id carries, and gets a ledger entry that then guards it',
    async (_, { fields, physicalId }) => {
      const id = fields.productId;
      // What the old release had set at its Create.
      fake.addProduct({ id, owner: ADMIN, launchRole: LAUNCH_B, account: ACCOUNT });
      await run(event('Update', { id, owner: OPS, launchRole: LAUNCH_B }, { physicalId, old: { id, owner: ADMIN, launchRole: LAUNCH_B } }));
      expect(state(id)).toEqual({ owner: OPS, launchRole: LAUNCH_B });
      // The entry it got refuses an id with other priors from now on.
      const forged = encodePhysicalId({ ...fields, priorOwnerArn: MALLORY });
      await expect(handler.onEvent(event('Delete', { id, owner: OPS, launchRole: LAUNCH_B }, { physicalId: forged }))).rejects.toThrow(
        /are not those the provider's ledger recorded/,
      );
      await run(event('Delete', { id, owner: OPS, launchRole: LAUNCH_B }, { physicalId }));
      // A prior launch role of none cannot be restored (Service Catalog cannot clear it): it stays.
      expect(state(id)).toEqual({ owner: fields.priorOwnerArn, launchRole: fields.priorLaunchRoleArn || LAUNCH_B });
    },
  );
});

describe('what the ledger holds, and when it is slow', () => {
  test('no ResponseURL and nothing unbounded: per request a hashed record, per resource one item', async () => {
    const id = product();
    const e = event('Create', { id, owner: ADMIN });
    const { physicalId } = await run(e);
    await run(event('Update', { id, owner: OPS }, { physicalId, old: { id, owner: ADMIN } }));
    const items = await dynamodb.items(services.ledgerTable);
    const text = JSON.stringify(items);
    expect(text).not.toContain('ResponseURL');
    expect(text).not.toContain(e.ResponseURL);
    const ids = items.map((i) => String(i[LEDGER.partitionKey]?.S));
    for (const key of ids) expect(key.length).toBeLessThanOrEqual(200);
    expect(ids.filter((k) => k === resourceKey(currentStackId(), e.LogicalResourceId))).toHaveLength(1);
  });

  test('two throttled ledger calls in a row are retried by the SDK: the Create goes through', async () => {
    const fresh = await loadHandler(services, {});
    const id = product();
    const throttledBefore = dynamodb.calls.filter((c) => c.outcome === 'ThrottlingException').length;
    dynamodb.throttleNext = 2;
    await runner(fresh)(event('Create', { id, owner: ADMIN }));
    expect(state(id).owner).toBe(ADMIN);
    expect(dynamodb.calls.filter((c) => c.outcome === 'ThrottlingException').length - throttledBefore).toBe(2);
  });
});

describe('the write lease', () => {
  test('a request that registers while an older request holds the lease reads the product only once the lease is given back', async () => {
    const id = product();
    const e = event('Create', { id, owner: ADMIN });
    // An older request of the resource, writing right now.
    const key = { [LEDGER.partitionKey]: { S: resourceKey(currentStackId(), e.LogicalResourceId) } };
    await dynamodb.client.send(
      new UpdateItemCommand({
        TableName: services.ledgerTable,
        Key: key,
        UpdateExpression: 'SET writerRequestId = :r, writerUntil = :u',
        ExpressionAttributeValues: { ':r': { S: 'older-request' }, ':u': { N: String(Date.now() + 400) } },
      }),
    );
    let releasedAt = 0;
    const release = sleep(150).then(async () => {
      releasedAt = Date.now();
      await dynamodb.client.send(
        new UpdateItemCommand({ TableName: services.ledgerTable, Key: key, UpdateExpression: 'REMOVE writerRequestId, writerUntil' }),
      );
    });
    await handler.onEvent(e);
    await release;
    expect(reads(id)[0].at).toBeGreaterThanOrEqual(releasedAt);
  });
});

describe('what isComplete returns when there was nothing to do', () => {
  test('a Delete of an id this resource did not write completes with empty attributes', async () => {
    const e = event('Delete', { id: 'pp-any', owner: ADMIN }, { physicalId: 'legacy-id' });
    expect(await handler.isComplete(startWaiter(e, await handler.onEvent(e)))).toEqual({
      IsComplete: true,
      Data: { RecordId: '', PreviousOwnerArn: '', PreviousLaunchRoleArn: '', ChangedByHand: '' },
    });
  });

  test('a Delete whose product vanished before the write completes without a record', async () => {
    const id = product(ALICE);
    const { physicalId } = await run(event('Create', { id, owner: ADMIN }));
    const e = event('Delete', { id, owner: ADMIN }, { physicalId });
    const planned = await handler.onEvent(e);
    fake.terminate(id);
    expect(await handler.isComplete(startWaiter(e, planned))).toEqual({
      IsComplete: true,
      Data: { RecordId: '', PreviousOwnerArn: ALICE, PreviousLaunchRoleArn: LAUNCH_A, ChangedByHand: '' },
    });
  });

  test("a busy product's values are not compared: an Update plans every target, even one already in place", async () => {
    const id = product(ALICE);
    const { physicalId } = await run(event('Create', { id, owner: OPS }));
    fake.setBusy(id, 60_000);
    const u = event('Update', { id, owner: OPS, launchRole: LAUNCH_A }, { physicalId, old: { id, owner: OPS } });
    expect((await handler.onEvent(u)).PlannedChange?.Properties).toEqual({ OWNER: OPS, LAUNCH_ROLE: LAUNCH_A });
    fake.setBusy(id, 0);
  });
});
