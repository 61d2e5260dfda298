/**
 * The contract suite's vocabulary: a behaviour of a service the handler relies on, the context its body runs in, and the ways a run of it can end.
 *
 * A behaviour's body is written once against the SDK clients of its {@link ContractContext} and its
 * target: the same body runs against the project's fakes and DynamoDB Local (`npm test`) and
 * against AWS (`npm run test:contract:aws`). It ends normally when the service behaved as assumed, and throws
 * {@link Difference} (it did not), {@link Inconclusive} (the run could not observe the situation,
 * e.g. a record finished before it could be seen running) or {@link NotRun} (the target lacks what
 * the behaviour needs). Any other error is a difference too: the service answered what the
 * handler does not expect.
 */
import type { ServiceCatalogClient } from '@aws-sdk/client-service-catalog';
import type { ContractTarget } from './target';

/** How the project's fakes stand to a behaviour. */
export type FakeStanding =
  /** The fake behaves as assumed: `npm test` runs the behaviour against it. */
  | { readonly kind: 'models' }
  /** The fake does not behave so today; the named issue makes it. `npm test` runs it as `test.failing`. */
  | { readonly kind: 'pending'; readonly issue: string; readonly today: string }
  /** The fake has nothing to check it with (IAM, say): only AWS can run it. */
  | { readonly kind: 'not-modelled'; readonly why: string };

/** One behaviour of a service that the handler relies on. */
export interface Behaviour {
  /** Stable id, e.g. `sc.busy-record`: docs/verifying-against-aws.md's list and the report name it. */
  readonly id: string;
  readonly service: 'Service Catalog' | 'DynamoDB';
  /** What the handler assumes, in one or two sentences. */
  readonly assumption: string;
  /** Where the handler relies on it, and what would go wrong otherwise. */
  readonly reliedOnBy: string;
  /** The documentation that says so, or why none does. */
  readonly source: string;
  readonly fake: FakeStanding;
  /** Whether the body changes the product: the runner puts its owner and launch role back afterwards. */
  readonly writes: boolean;
  run(ctx: ContractContext): Promise<void>;
}

/** What a behaviour's body works with. */
export interface ContractContext {
  readonly target: ContractTarget;
  readonly sc: ServiceCatalogClient;
  /** Notes what was seen (statuses, lags, error names): printed with the result. */
  readonly observe: (text: string) => void;
}

/** The service did not behave as assumed. */
export class Difference extends Error {
  override readonly name = 'Difference';
}

/** The run could not observe the situation the behaviour is about; nothing is known either way. */
export class Inconclusive extends Error {
  override readonly name = 'Inconclusive';
}

/** The target lacks what the behaviour needs (a principal without iam:PassRole, say). */
export class NotRun extends Error {
  override readonly name = 'NotRun';
}

/** A value as messages show it: JSON, so that '' and undefined are visible. */
export function show(value: unknown): string {
  return value === undefined ? 'undefined' : JSON.stringify(value);
}

/** Throws a {@link Difference} unless `actual` equals `expected`. */
export function expectEqual<T>(actual: T, expected: T, what: string): void {
  if (actual !== expected) throw new Difference(`${what} is ${show(actual)}, expected ${show(expected)}`);
}

/** Throws a {@link Difference} unless `condition` holds. */
export function expectThat(condition: boolean, difference: string): asserts condition {
  if (!condition) throw new Difference(difference);
}

/** The error a promise rejects with, or undefined when it resolves (its value is then in `value`). */
export async function outcomeOf<T>(promise: Promise<T>): Promise<{ error: Error; value?: undefined } | { error?: undefined; value: T }> {
  try {
    return { value: await promise };
  } catch (e) {
    return { error: e instanceof Error ? e : new Error(String(e)) };
  }
}

/** An error as a report shows it: its name (the service's error code) and message. */
export function describeError(e: Error): string {
  return `${e.name}: ${e.message}`;
}

/** A fresh IdempotencyToken (the API's pattern: `[a-zA-Z0-9][a-zA-Z0-9_-]*`, at most 128). */
export function newToken(label: string): string {
  return `contract-${label}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`;
}

/** Lowercase letters and digits, as in service-made ids. */
export function randomSuffix(length: number): string {
  let s = '';
  while (s.length < length) s += Math.random().toString(36).slice(2);
  return s.slice(0, length);
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
