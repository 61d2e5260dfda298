/**
 * The handler's timing, read once from the environment the construct sets (names and defaults in lib/contract.ts).
 */
import { HANDLER_TIMING, type HandlerTimingKey } from '../lib/contract';

/** A non-negative number from the environment, or the contract's default. */
function fromEnv(key: HandlerTimingKey): number {
  const { env, default: fallback } = HANDLER_TIMING[key];
  const raw = process.env[env];
  const value = raw === undefined || raw === '' ? NaN : Number(raw);
  return Number.isFinite(value) && value >= 0 ? value : fallback;
}

/** The handler's timing for this container: see {@link HANDLER_TIMING} for what each value means. */
export const timing: Readonly<Record<HandlerTimingKey, number>> = Object.freeze(
  Object.fromEntries((Object.keys(HANDLER_TIMING) as HandlerTimingKey[]).map((key) => [key, fromEnv(key)])) as Record<
    HandlerTimingKey,
    number
  >,
);
