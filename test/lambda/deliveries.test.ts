/**
 * Telling deliveries of one CloudFormation request apart, and what a later delivery may take from an earlier one's waiter execution.
 */
import { earlierDecision, isSameRequest, mayFollowAnEarlierDelivery, requestOf } from '../../lambda/deliveries';

const REQUEST = { StackId: 'arn:aws:cloudformation:us-east-1:123456789012:stack/S/1', LogicalResourceId: 'Ownership', RequestId: 'req-1' };
const ADMIN = 'arn:aws:iam::123456789012:role/Admin';
const ALICE = 'arn:aws:iam::123456789012:user/alice';

describe('the same request', () => {
  test('an execution of the same stack, resource and request is the same request, whatever else it holds', () => {
    expect(isSameRequest({ ...REQUEST, RequestType: 'Create', PhysicalResourceId: 'x' }, REQUEST)).toBe(true);
  });

  test.each([
    ['another stack', { ...REQUEST, StackId: 'arn:aws:cloudformation:us-east-1:123456789012:stack/S/2' }],
    ['another resource', { ...REQUEST, LogicalResourceId: 'Other' }],
    ['another request', { ...REQUEST, RequestId: 'req-2' }],
    ['no request id', { StackId: REQUEST.StackId, LogicalResourceId: REQUEST.LogicalResourceId }],
    ['input that is not JSON', undefined],
    ['input that is null', null],
    ['input that is a string', JSON.stringify(REQUEST)],
  ])('an execution of %s is not', (_, input) => expect(isSameRequest(input, REQUEST)).toBe(false));

  test('requestOf keeps exactly what every delivery shares', () => {
    expect(requestOf({ ...REQUEST, RequestType: 'Create' } as never)).toEqual(REQUEST);
  });
});

describe("an earlier delivery's decision", () => {
  const change = { ProductId: 'pp-1', Properties: { OWNER: ADMIN } };

  test('is its physical id, when it planned, and its planned change if any', () => {
    expect(earlierDecision({ ...REQUEST, PhysicalResourceId: 'sc-ppp:v1|pp-1|||', PlannedAt: 5, PlannedChange: change })).toEqual({
      PhysicalResourceId: 'sc-ppp:v1|pp-1|||',
      PlannedAt: 5,
      PlannedChange: change,
    });
    expect(earlierDecision({ PhysicalResourceId: 'id', PlannedAt: 0 })).toEqual({ PhysicalResourceId: 'id', PlannedAt: 0 });
  });

  test.each([
    ['no physical id', { PlannedAt: 5 }],
    ['a physical id that is not a string', { PhysicalResourceId: 7, PlannedAt: 5 }],
    ['no PlannedAt (an execution started by an older handler)', { PhysicalResourceId: 'id' }],
    ['a PlannedAt that is a string', { PhysicalResourceId: 'id', PlannedAt: '5' }],
    ['a planned change that is null', { PhysicalResourceId: 'id', PlannedAt: 5, PlannedChange: null }],
    ['a planned change that is a string', { PhysicalResourceId: 'id', PlannedAt: 5, PlannedChange: 'OWNER' }],
    ['input that is null', null],
    ['input that is a number', 5],
  ])('is none for an input with %s', (_, input) => expect(earlierDecision(input)).toBeUndefined());
});

describe('whether a delivery may have read after an earlier one wrote', () => {
  const current = { OWNER: ALICE, LAUNCH_ROLE: '' };
  test('a busy product: perhaps', () => expect(mayFollowAnEarlierDelivery(false, current, { OWNER: ADMIN })).toBe(true));
  test('a desired value already in place: perhaps', () => {
    expect(mayFollowAnEarlierDelivery(true, { OWNER: ADMIN, LAUNCH_ROLE: '' }, { OWNER: ADMIN })).toBe(true);
    expect(mayFollowAnEarlierDelivery(true, { OWNER: ALICE, LAUNCH_ROLE: ADMIN }, { OWNER: ADMIN, LAUNCH_ROLE: ADMIN })).toBe(true);
  });
  test('a settled product with none of the desired values: no, what it read are the priors', () => {
    expect(mayFollowAnEarlierDelivery(true, current, { OWNER: ADMIN })).toBe(false);
    expect(mayFollowAnEarlierDelivery(true, current, { LAUNCH_ROLE: ADMIN })).toBe(false);
    expect(mayFollowAnEarlierDelivery(true, { OWNER: ALICE, LAUNCH_ROLE: '' }, { OWNER: ADMIN, LAUNCH_ROLE: undefined })).toBe(false);
  });
});

test("a lookup reaches back past CloudFormation's hour, and a capture checks the listing for its first minute", () => {
  let m: typeof import('../../lambda/deliveries') | undefined;
  jest.isolateModules(() => {
    m = jest.requireActual<typeof import('../../lambda/deliveries')>('../../lambda/deliveries');
  });
  expect(m!.LOOKBACK_MS).toBe(65 * 60 * 1000);
  expect(m!.LISTING_CHECK_WINDOW_MS).toBe(60 * 1000);
});
