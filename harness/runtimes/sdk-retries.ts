/**
 * The AWS SDK's standard retry mode, for the calls the harness makes on behalf of code that uses the SDK (the provider framework's Lambda and Step Functions clients).
 *
 * The framework's outbound calls go through the harness instead of the SDK, so the SDK's retries
 * of a throttled answer are played here: three attempts, each retry after a random delay of up to
 * 500 ms × 2^n for a throttling error (at most 20 s), as @smithy/util-retry's StandardRetryStrategy
 * does (THROTTLING_RETRY_DELAY_BASE, MAXIMUM_RETRY_DELAY). Like the SDK's own backoff elsewhere in
 * the harness, the delays are real time.
 */
import { setTimeout as sleep } from 'node:timers/promises';

/** The SDK's default attempts (DEFAULT_MAX_ATTEMPTS). */
const MAX_ATTEMPTS = 3;
const THROTTLING_BASE_MS = 500;
const MAXIMUM_DELAY_MS = 20_000;

/** Whether an error is a throttled answer the SDK retries (Lambda's 429, Step Functions' ThrottlingException). */
export function isThrottle(e: unknown): boolean {
  const name = (e as { name?: unknown } | undefined)?.name;
  return name === 'TooManyRequestsException' || name === 'ThrottlingException';
}

/** The delay before retry `n` (0-based) of a throttled call: full jitter up to 500 ms × 2^n, at most 20 s. */
export function throttlingDelay(n: number, random: () => number = Math.random): number {
  return Math.floor(random() * Math.min(MAXIMUM_DELAY_MS, THROTTLING_BASE_MS * 2 ** n));
}

/** Runs `call` with the SDK's standard retries of a throttled answer; any other error, or the last throttle, is thrown. */
export async function withSdkRetries<T>(call: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (e) {
      if (!isThrottle(e) || attempt >= MAX_ATTEMPTS) throw e;
      await sleep(throttlingDelay(attempt - 1));
    }
  }
}
