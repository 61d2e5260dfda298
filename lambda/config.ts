/**
 * The handler's timing, read once from the environment the construct sets (names and defaults in lib/contract.ts).
 */
import { HANDLER_TIMING, type HandlerTimingKey, STACK_INSTANCES_ENV } from '../lib/contract';

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

/** How many instances share the stack's provider (the construct counts them); 1 when not told. */
export const stackInstances: number = (() => {
  const value = Number(process.env[STACK_INSTANCES_ENV] ?? '');
  return Number.isInteger(value) && value >= 1 ? value : 1;
})();
