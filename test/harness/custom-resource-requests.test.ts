/**
 * CustomResourceRequests' redeliveries, with a fake `deliver` standing in for the provider (no AWS,
 * no Lambda): which copy of which request reaches the provider when, in what order, and that late
 * copies carry the original payload, answer into `lateResponses`, and are waited for by settle.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { CustomResourceModel, StackModel } from '../../harness';
import { type CfnRequest, CustomResourceRequests, type Redelivery } from '../../harness/cloudformation/custom-resource-requests';

const STACK_ID = 'arn:aws:cloudformation:us-east-1:123456789012:stack/Late/11111111-2222-3333-4444-555555555555';
const MODEL = { stackId: STACK_ID, region: 'us-east-1' } as StackModel;
const RESOURCE: CustomResourceModel = {
  logicalId: 'Ownership',
  type: 'Custom::ProvisionedProductProperties',
  properties: { ServiceToken: 'arn:aws:lambda:us-east-1:123456789012:function:framework-onEvent' },
};

interface Event {
  readonly RequestType: string;
  readonly RequestId: string;
  readonly ResponseURL: string;
  readonly PhysicalResourceId?: string;
}

/**
 * A provider that logs every delivery, starts an "execution" for it (unless told not to) and
 * answers each delivery's event a few ms later, with the status `answer` gives for its RequestId.
 */
function setup(
  options: {
    answer?: (requestId: string) => 'SUCCESS' | 'FAILED';
    startsWaiter?: (requestId: string) => boolean;
    /** How long a delivery's execution runs before it answers (ms). */
    workMs?: number;
  } = {},
) {
  const deliveries: string[] = [];
  const payloads: string[] = [];
  const inflight = new Set<Promise<void>>();
  const requests: CustomResourceRequests = new CustomResourceRequests(MODEL, RESOURCE, {
    scaled: (ms) => ms,
    deliver: async (payload, onAttempt) => {
      onAttempt();
      const event = JSON.parse(payload) as Event;
      deliveries.push(event.RequestId);
      payloads.push(payload);
      if (options.startsWaiter?.(event.RequestId) === false) {
        // onEvent answered by itself: a response, no waiter.
        await answer(event);
        return;
      }
      requests.count(event.RequestId, { kind: 'execution-started' });
      const work = sleep(options.workMs ?? 5).then(() => answer(event));
      inflight.add(work);
      void work.finally(() => inflight.delete(work));
    },
    settle: async () => {
      while (inflight.size > 0) await Promise.allSettled([...inflight]);
    },
  });
  const answer = (event: Event): Promise<void> => {
    const url = new URL(event.ResponseURL);
    return requests.receive(
      { method: 'PUT', path: url.pathname + url.search },
      JSON.stringify({
        Status: options.answer?.(event.RequestId) ?? 'SUCCESS',
        Reason: '',
        PhysicalResourceId: event.PhysicalResourceId ?? 'physical-1',
        RequestId: event.RequestId,
        LogicalResourceId: RESOURCE.logicalId,
        StackId: STACK_ID,
      }),
    );
  };
  const send = (requestId: string, type: CfnRequest['RequestType'], redeliver?: Redelivery) =>
    requests.send(
      {
        RequestId: requestId,
        RequestType: type,
        LogicalResourceId: RESOURCE.logicalId,
        ...(type !== 'Create' ? { PhysicalResourceId: 'physical-1' } : {}),
        ResourceProperties: { ServiceToken: String(RESOURCE.properties.ServiceToken) },
      },
      redeliver,
    );
  return { requests, deliveries, payloads, send, inflight };
}

describe('the copies CloudFormation has long stopped waiting for', () => {
  test('after-next-request: held until the next request has been delivered once, then the original event again', async () => {
    const { requests, deliveries, payloads, send } = setup();
    const create = await send('create', 'Create', { when: 'after-next-request' });
    expect(deliveries).toEqual(['create']);
    expect(create.deliveries).toBe(1);
    expect(requests.heldCopies).toBe(1);

    const update = await send('update', 'Update');
    expect(deliveries).toEqual(['create', 'update', 'create']);
    expect(requests.heldCopies).toBe(0);
    // The same event: same RequestId, same ResponseURL.
    expect(payloads[2]).toBe(payloads[0]);
    // Its answer is late; the next request's result has only its own.
    expect(update.responses.map((r) => r.RequestId)).toEqual(['update']);
    expect(requests.lateResponses.map((r) => r.RequestId)).toEqual(['create']);
    expect(requests.lateCopies).toEqual([
      expect.objectContaining({ requestId: 'create', when: 'after-next-request', releasedBy: 'update' }),
    ]);
  });

  test('after-next-request before its first delivery: the copy reaches the provider first', async () => {
    const { requests, deliveries, send } = setup();
    await send('create', 'Create', { when: 'after-next-request', nextRequest: 'before-its-first-delivery' });
    const update = await send('update', 'Update');
    expect(deliveries).toEqual(['create', 'create', 'update']);
    // CloudFormation had sent the update when the copy arrived.
    expect(requests.lateCopies[0].deliveredAt).toBeGreaterThanOrEqual(update.sentAt);
  });

  test('after-next-request with times: 2 and a delay: two copies, once each, only at the next request', async () => {
    const { deliveries, send } = setup();
    await send('update-1', 'Update', { when: 'after-next-request', times: 2, afterMs: 3 });
    await send('update-2', 'Update');
    await send('delete', 'Delete');
    expect(deliveries).toEqual(['update-1', 'update-2', 'update-1', 'update-1', 'delete']);
  });

  test('a next request that holds its own copy releases the earlier one and keeps its own for the one after', async () => {
    const { deliveries, send } = setup();
    await send('a', 'Create', { when: 'after-next-request' });
    await send('b', 'Update', { when: 'after-next-request', nextRequest: 'before-its-first-delivery' });
    await send('c', 'Update', { when: 'after-start' });
    expect(deliveries).toEqual(['a', 'b', 'a', 'b', 'c', 'c']);
  });

  test('after-stack-delete: held past other requests until a Delete answered SUCCESS, then delivered after its answer', async () => {
    const answers: Record<string, 'SUCCESS' | 'FAILED'> = { 'delete-1': 'FAILED' };
    const { requests, deliveries, send } = setup({ answer: (id) => answers[id] ?? 'SUCCESS' });
    await send('create', 'Create', { when: 'after-stack-delete' });
    await send('update', 'Update');
    const failed = await send('delete-1', 'Delete');
    expect(failed.Status).toBe('FAILED');
    expect(deliveries).toEqual(['create', 'update', 'delete-1']);
    const deleted = await send('delete-2', 'Delete');
    expect(deliveries).toEqual(['create', 'update', 'delete-1', 'delete-2', 'create']);
    const copy = requests.lateCopies[0];
    expect(copy).toMatchObject({ requestId: 'create', when: 'after-stack-delete', releasedBy: 'delete-2' });
    expect(copy.deliveredAt).toBeGreaterThanOrEqual(deleted.responses[0].at);
    // The Delete's send waited for the copy's execution too.
    expect(requests.lateResponses.map((r) => r.RequestId)).toEqual(['create']);
  });

  test('a moment that never comes: settle delivers the held copies, in the order they were held, and waits for their executions', async () => {
    const { requests, deliveries, send, inflight } = setup({ workMs: 20 });
    await send('create', 'Create', { when: 'after-stack-delete' });
    await send('delete', 'Delete', { when: 'after-next-request' });
    expect(deliveries).toEqual(['create', 'delete', 'create']);
    // The Delete's copy goes with the next request, a Create.
    await send('create-2', 'Create', { when: 'after-stack-delete', times: 2 });
    expect(deliveries).toEqual(['create', 'delete', 'create', 'create-2', 'delete']);
    await send('update', 'Update', { when: 'after-next-request' });
    expect(requests.heldCopies).toBe(3);
    await requests.settle();
    expect(deliveries).toEqual(['create', 'delete', 'create', 'create-2', 'delete', 'update', 'create-2', 'create-2', 'update']);
    expect(inflight.size).toBe(0);
    expect(requests.lateResponses.map((r) => r.RequestId)).toEqual(['create', 'delete', 'create-2', 'create-2', 'update']);
    expect(requests.lateCopies.filter((c) => c.releasedBy === 'settle')).toHaveLength(3);
  });

  test('a copy of a request answered FAILED is held and delivered like any other', async () => {
    const { requests, deliveries, send } = setup({ answer: (id) => (id === 'create' ? 'FAILED' : 'SUCCESS'), startsWaiter: () => false });
    const create = await send('create', 'Create', { when: 'after-next-request' });
    expect(create.Status).toBe('FAILED');
    await send('rollback', 'Delete');
    expect(deliveries).toEqual(['create', 'rollback', 'create']);
    expect(requests.lateResponses).toEqual([expect.objectContaining({ RequestId: 'create', Status: 'FAILED' })]);
  });

  test("condition 'waiter-started': a request whose onEvent started no waiter is not delivered again, late or not", async () => {
    const { requests, deliveries, send } = setup({ startsWaiter: (id) => id !== 'create' });
    await send('create', 'Create', { when: 'after-next-request', condition: 'waiter-started' });
    expect(requests.heldCopies).toBe(0);
    await send('update', 'Update', { when: 'after-stack-delete', condition: 'waiter-started' });
    expect(requests.heldCopies).toBe(1);
    await send('delete', 'Delete');
    expect(deliveries).toEqual(['create', 'update', 'delete', 'update']);
  });

  test('a copy is never released by its own request sent again', async () => {
    const { deliveries, send } = setup();
    await send('same', 'Delete', { when: 'after-next-request' });
    await send('same', 'Delete');
    expect(deliveries).toEqual(['same', 'same']);
    await send('other', 'Delete');
    expect(deliveries).toEqual(['same', 'same', 'other', 'same']);
  });
});

describe('the copies CloudFormation still waits for (unchanged)', () => {
  test("'after-start' (and no moment): the copy follows the first delivery at once, inside the request", async () => {
    const { requests, deliveries, send } = setup();
    const a = await send('a', 'Create', { when: 'after-start', times: 2 });
    const b = await send('b', 'Update', {});
    expect(deliveries).toEqual(['a', 'a', 'a', 'b', 'b']);
    expect(a.deliveries).toBe(3);
    expect(a.responses).toHaveLength(3);
    expect(b.deliveries).toBe(2);
    expect(requests.lateResponses).toEqual([]);
    expect(requests.heldCopies).toBe(0);
  });

  test("'after-response': the copy waits for the first response, and its answer still counts for the request", async () => {
    const { requests, send } = setup({ workMs: 10 });
    const a = await send('a', 'Create', { when: 'after-response' });
    expect(a.deliveries).toBe(2);
    expect(a.responses).toHaveLength(2);
    expect(a.responses[1].at).toBeGreaterThanOrEqual(a.responses[0].at + 10);
    expect(requests.lateResponses).toEqual([]);
  });
});
