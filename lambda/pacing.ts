/**
 * How one instance takes its share of the stack's pace of Service Catalog calls: pure decisions, from the number of instances that share the provider.
 *
 * Every instance of a stack is created (updated, deleted) at once, and each runs in Lambda
 * containers of its own: no client-side rate limiter sees the others' calls. What they share is
 * the stack's size, which the construct writes into their environment. So each spreads its calls
 * over the time the whole stack needs at the stack-wide pace (lib/contract.ts, `readSpacingMs` and
 * `writeSpacingMs`): N instances at one call per spacing take (N − 1) × spacing. A stack of one
 * instance has nothing to spread, and waits for nothing.
 */

/** A fraction in [0, 1) that depends only on `key` (FNV-1a): the same for every delivery and every call of one request. */
export function hashFraction(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h / 2 ** 32;
}

/** How long the stack's `instances` calls of one API take at one call per `spacingMs`: the window each instance spreads its call over. */
export function spreadWindowMs(instances: number, spacingMs: number): number {
  return Math.max(0, Math.floor(instances) - 1) * Math.max(0, spacingMs);
}

/** The delay before an instance's call, at `fraction` (in [0, 1)) of the window. */
export function spreadDelayMs(fraction: number, instances: number, spacingMs: number): number {
  return Math.floor(fraction * spreadWindowMs(instances, spacingMs));
}

/**
 * When a request may make its write: at its own point of the stack's write window, counted from
 * onEvent's end (`plannedAt`), the same for every isComplete call and delivery of the request.
 */
export function writeSlot(plannedAt: number, requestId: string, instances: number, writeSpacingMs: number): number {
  return plannedAt + spreadDelayMs(hashFraction(requestId), instances, writeSpacingMs);
}

/**
 * The pause between two DescribeRecord calls of one instance. The instances watching a record at
 * once are those that wrote within the fast-path window (at most one per write spacing, and never
 * more than the stack holds); together they keep to the read pace. Never shorter than `pollIntervalMs`,
 * and exactly that for a stack of one.
 */
export function pollIntervalFor(
  pollIntervalMs: number,
  instances: number,
  timing: { readonly fastPathWindowMs: number; readonly readSpacingMs: number; readonly writeSpacingMs: number },
): number {
  const watchers = Math.min(Math.max(1, Math.floor(instances)), Math.ceil(timing.fastPathWindowMs / Math.max(1, timing.writeSpacingMs)));
  // One watcher alone has no one to share the read pace with: it polls as a stack of one does.
  if (watchers <= 1) return pollIntervalMs;
  return Math.max(pollIntervalMs, Math.ceil(watchers * timing.readSpacingMs));
}

/**
 * The further delay of a call that woke `lateMs` after its moment (a cold start, a busy host, a
 * timer that fired late): the calls whose moments passed meanwhile would all go at once, so each
 * spreads again over the time it lost, at `fraction` (in [0, 1)) of it. Nothing when it is less
 * late than one spacing, the stack's pace.
 */
export function lateSpreadMs(lateMs: number, spacingMs: number, fraction: number): number {
  return spacingMs > 0 && lateMs > spacingMs ? Math.floor(fraction * lateMs) : 0;
}
