/**
 * The thin layer over Service Catalog: the four calls the handler makes, and which of their errors mean "not now".
 */
import { setTimeout as sleep } from 'node:timers/promises';
import {
  DescribeProvisionedProductCommand,
  DescribeRecordCommand,
  type RecordError,
  SearchProvisionedProductsCommand,
  ServiceCatalogClient,
  UpdateProvisionedProductPropertiesCommand,
} from '@aws-sdk/client-service-catalog';
import { isServerError, isThrottlingError, isTransientError } from '@smithy/service-error-classification';
import type { PropertyValues } from '../lib/rules';
import { stackInstances, timing } from './config';
import type { PlannedChange } from './events';
import { lateSpreadMs, spreadDelayMs } from './pacing';

// Created once per container. The SDK honours AWS_ENDPOINT_URL_SERVICE_CATALOG, which is how the
// tests point it at a local fake. maxAttempts covers throttling and 5xx bursts with backoff. The
// stack-wide pace is lambda/pacing.ts's: the SDK's adaptive retry mode would limit one container's
// calls only, and a container makes a handful per event (docs/scale.md).
const client = new ServiceCatalogClient({ maxAttempts: 6 });

/**
 * The client of the one write call, which is made under the resource's write lease: it must have
 * landed before the lease can lapse, or a later request that waited for the lease could read the
 * product, decide, and be overwritten by this call arriving late. The SDK's standard retries absorb
 * a 5xx or throttling burst (a few attempts, each bounded to a quarter of the lease, no client-side
 * rate limiter to wait on), and writeProperties aborts the whole call, retries and backoff included,
 * at half the lease. A call that still fails for now is retried by the handler, under the lease
 * taken anew (so only while its request is still the latest), with the same IdempotencyToken.
 */
const WRITE_ATTEMPTS = 3;
const writeCallBoundMs = Math.max(1, Math.floor(timing.writeLeaseMs / 2));
const writeClient = new ServiceCatalogClient({
  maxAttempts: WRITE_ATTEMPTS,
  retryMode: 'standard',
  requestHandler: {
    // Without throwOnRequestTimeout the SDK only warns when requestTimeout passes.
    throwOnRequestTimeout: true,
    requestTimeout: Math.max(1, Math.floor(timing.writeLeaseMs / 4)),
    connectionTimeout: Math.max(1, Math.floor(timing.writeLeaseMs / 8)),
  },
});

/** The product as the handler needs it. */
export interface ProductState {
  /** Status from DescribeProvisionedProduct (AVAILABLE, UNDER_CHANGE, TAINTED, ERROR, PLAN_IN_PROGRESS). */
  readonly status: string;
  /** The product's ARN, whose account the owner and launch role must share. */
  readonly arn: string;
  /** Current OWNER and LAUNCH_ROLE ('' for none). OWNER is '' also when search did not list the product. */
  readonly values: PropertyValues;
  /** False when SearchProvisionedProducts did not list the product, so its owner is unknown. */
  readonly ownerKnown: boolean;
}

/** Timing of the short search retry: search results can lag a just-created product. */
export interface SearchRetry {
  readonly attempts: number;
  readonly delayMs: number;
}

/**
 * Reads the product's status, launch role (DescribeProvisionedProduct) and owner
 * (SearchProvisionedProducts, at account level, filtered by id: its UserArnSession). Returns
 * `undefined` when the product does not exist. In a stack of many instances, which all read at
 * once, it first waits for a random moment of the stack's read window (lambda/pacing.ts).
 */
export async function readProduct(
  productId: string,
  acceptLanguage: string | undefined,
  searchRetry: SearchRetry,
): Promise<ProductState | undefined> {
  const spread = spreadDelayMs(Math.random(), stackInstances, timing.readSpacingMs);
  if (spread > 0) {
    const moment = Date.now() + spread;
    await sleep(spread);
    const again = lateSpreadMs(Date.now() - moment, timing.readSpacingMs, Math.random());
    if (again > 0) await sleep(again);
  }
  let detail;
  try {
    const out = await client.send(new DescribeProvisionedProductCommand({ Id: productId, AcceptLanguage: acceptLanguage }));
    detail = out.ProvisionedProductDetail;
  } catch (e) {
    if (errorName(e) === 'ResourceNotFoundException') return undefined;
    throw e;
  }
  if (!detail) return undefined;

  let owner: string | undefined;
  for (let attempt = 1; owner === undefined && attempt <= searchRetry.attempts; attempt++) {
    if (attempt > 1) await sleep(searchRetry.delayMs);
    const out = await client.send(
      new SearchProvisionedProductsCommand({
        AcceptLanguage: acceptLanguage,
        AccessLevelFilter: { Key: 'Account', Value: 'self' },
        Filters: { SearchQuery: [`id:${productId}`] },
      }),
    );
    const match = (out.ProvisionedProducts ?? []).find((p) => p.Id === productId);
    // The owner is the principal OWNER was set to, session included: UserArnSession. UserArn is
    // only the IAM identity behind it (an assumed-role session's role), and restoring that would
    // hand the product from the session to everyone using the role. UserArn is the fallback for a
    // listing that carries no session.
    if (match) owner = match.UserArnSession ?? match.UserArn ?? '';
  }
  return {
    status: detail.Status ?? '',
    arn: detail.Arn ?? '',
    values: { OWNER: owner ?? '', LAUNCH_ROLE: detail.LaunchRoleArn ?? '' },
    ownerKnown: owner !== undefined,
  };
}

/**
 * Calls UpdateProvisionedProductProperties with the planned change; returns the record it started.
 * The call ends (answered, or given up as a TimeoutError) within half the write lease and by
 * `endBy` (epoch ms): a call that would have too little time is not made.
 */
export async function writeProperties(change: PlannedChange, endBy: number): Promise<{ recordId: string; status: string }> {
  const boundMs = Math.min(writeCallBoundMs, Math.floor(endBy - Date.now()));
  if (boundMs < writeCallBoundMs / 5) {
    throw Object.assign(
      new Error(
        `Not sent: only ${Math.max(0, boundMs)} ms of the write lease (WRITE_LEASE_MS) were left for UpdateProvisionedProductProperties`,
      ),
      { name: 'TimeoutError' },
    );
  }
  const bound = AbortSignal.timeout(boundMs);
  try {
    const out = await writeClient.send(
      new UpdateProvisionedProductPropertiesCommand({
        ProvisionedProductId: change.ProductId,
        ProvisionedProductProperties: change.Properties,
        IdempotencyToken: change.IdempotencyToken,
        AcceptLanguage: change.AcceptLanguage,
      }),
      { abortSignal: bound },
    );
    return { recordId: out.RecordId ?? '', status: out.Status ?? '' };
  } catch (e) {
    // Our own bound, not the service's answer: "not now", like any timeout (isTransient).
    if (bound.aborted && errorName(e) === 'AbortError') {
      throw Object.assign(
        new Error(`UpdateProvisionedProductProperties had no answer within ${boundMs} ms, its share of the write lease (WRITE_LEASE_MS)`),
        { name: 'TimeoutError', cause: e },
      );
    }
    throw e;
  }
}

/** Calls DescribeRecord; returns its status and errors. */
export async function readRecord(recordId: string, acceptLanguage: string | undefined): Promise<{ status: string; errors: RecordError[] }> {
  const out = await client.send(new DescribeRecordCommand({ Id: recordId, AcceptLanguage: acceptLanguage }));
  return { status: out.RecordDetail?.Status ?? '', errors: out.RecordDetail?.RecordErrors ?? [] };
}

/** The error's name (the service's error code for SDK errors). */
export function errorName(e: unknown): string {
  return e instanceof Error ? e.name : typeof e;
}

/**
 * True for errors that say "not now" rather than "no", after the SDK's own retries: the handler
 * keeps waiting on them instead of failing. The SDK's classification decides throttling, transient
 * errors (timeouts, 500/502/503/504, the connection errors it lists) and other 5xx. It does not
 * list every Node.js system error a request that got no answer can end with (ECONNABORTED,
 * EHOSTDOWN, a bare "socket hang up"...): without an HTTP status, those are transient too.
 */
export function isTransient(e: unknown): boolean {
  if (!(e instanceof Error)) return false;
  const sdkError = e as Parameters<typeof isTransientError>[0];
  if (isThrottlingError(sdkError) || isTransientError(sdkError) || isServerError(sdkError)) return true;
  if ((e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode !== undefined) return false;
  const code = (e as { code?: string }).code ?? '';
  return /^E[A-Z]+$/.test(code) || /socket hang up/.test(e.message);
}
