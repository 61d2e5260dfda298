/**
 * Which errors say "not now" (keep waiting) and which say "no" (fail the deploy), for the errors the
 * fakes cannot produce: Node's system errors of a request that got no answer, and 5xx codes outside
 * the SDK's list. The fakes' faults cover the rest end to end (handler-faults.test.ts).
 */
import { errorName, isTransient } from '../../lambda/service-catalog';

/** An error as the SDK surfaces a service's answer: its code as the name, the HTTP status in $metadata. */
const answered = (name: string, httpStatusCode: number, message = 'x') =>
  Object.assign(new Error(message), { name, $metadata: { httpStatusCode } });
/** An error as Node surfaces a request that got no answer: a system error code, no HTTP status. */
const unanswered = (code: string | undefined, message: string) => Object.assign(new Error(message), code ? { code } : {});

test.each([
  ['throttling', answered('ThrottlingException', 400)],
  ['a 500', answered('InternalFailure', 500)],
  ['a 501 (any 5xx)', answered('NotImplemented', 501)],
  ['a 507 (any 5xx)', answered('InsufficientStorage', 507)],
  ['a host that went down', unanswered('EHOSTDOWN', 'connect EHOSTDOWN 10.0.0.1:443')],
  ['an aborted connection', unanswered('ECONNABORTED', 'aborted')],
  ['a bare socket hang up', unanswered(undefined, 'socket hang up')],
])('%s is "not now"', (_, error) => expect(isTransient(error)).toBe(true));

test.each([
  ['a missing permission', answered('AccessDeniedException', 400)],
  ['a bad parameter', answered('InvalidParametersException', 400)],
  ['a 400 whose message mentions a hang-up', answered('ValidationException', 400, 'socket hang up')],
  ['a 400 with a system-error-like code', Object.assign(answered('Denied', 403), { code: 'EACCES' })],
  ['a code that is not a system error', unanswered('Econn', 'x')],
  ['a code with a prefix', unanswered('XECONNABORTED', 'x')],
  ['a code with a suffix', unanswered('ECONNABORTED1', 'x')],
  ['an error with neither code nor hang-up', unanswered(undefined, 'the socket hung up')],
  ['something thrown that is not an Error', { code: 'ECONNABORTED', message: 'socket hang up' }],
])('%s is "no"', (_, error) => expect(isTransient(error)).toBe(false));

test('an error is named by its code; anything else by its type', () => {
  expect(errorName(answered('AccessDeniedException', 400))).toBe('AccessDeniedException');
  expect(errorName('boom')).toBe('string');
  expect(errorName(undefined)).toBe('undefined');
});

test('a write with too little of its lease left is not sent, and fails as a timeout, which is "not now"', async () => {
  const { writeProperties } = await import('../../lambda/service-catalog');
  const change = {
    ProductId: 'pp-x',
    Properties: { OWNER: 'arn:aws:iam::123456789012:role/A' },
    IdempotencyToken: 't',
    Purpose: 'apply' as const,
    Priors: { OWNER: '', LAUNCH_ROLE: '' },
  };
  const failure = await writeProperties(change, Date.now() + 1).catch((e: unknown) => e);
  expect(failure).toMatchObject({
    name: 'TimeoutError',
    message: expect.stringMatching(/^Not sent: only \d+ ms of the write lease \(WRITE_LEASE_MS\) were left/) as unknown,
  });
  expect(isTransient(failure)).toBe(true);
});
