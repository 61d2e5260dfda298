/**
 * The thin layer over Service Catalog: the four calls the handler makes, and nothing decided here.
 */
import {
  DescribeProvisionedProductCommand,
  DescribeRecordCommand,
  SearchProvisionedProductsCommand,
  ServiceCatalogClient,
  UpdateProvisionedProductPropertiesCommand,
} from '@aws-sdk/client-service-catalog';
import type { PropertyValues, RecordError } from './decisions';

// Created once per container. The SDK honours AWS_ENDPOINT_URL_SERVICE_CATALOG, which is how the
// tests point it at a local fake. maxAttempts covers throttling and 5xx bursts with backoff.
const client = new ServiceCatalogClient({ maxAttempts: 6 });

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
 * (SearchProvisionedProducts, at account level, filtered by id). Returns `undefined` when the
 * product does not exist.
 */
export async function readProduct(
  productId: string,
  acceptLanguage: string | undefined,
  searchRetry: SearchRetry,
): Promise<ProductState | undefined> {
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
    if (match) owner = match.UserArn ?? match.UserArnSession ?? '';
  }
  return {
    status: detail.Status ?? '',
    arn: detail.Arn ?? '',
    values: { OWNER: owner ?? '', LAUNCH_ROLE: detail.LaunchRoleArn ?? '' },
    ownerKnown: owner !== undefined,
  };
}

/** The change to make, as fixed by onEvent and carried to isComplete. */
export interface WriteRequest {
  readonly productId: string;
  readonly properties: Partial<PropertyValues>;
  readonly idempotencyToken: string;
  readonly acceptLanguage?: string;
}

/** Calls UpdateProvisionedProductProperties; returns the record it started. */
export async function writeProperties(req: WriteRequest): Promise<{ recordId: string; status: string }> {
  const out = await client.send(
    new UpdateProvisionedProductPropertiesCommand({
      ProvisionedProductId: req.productId,
      ProvisionedProductProperties: req.properties,
      IdempotencyToken: req.idempotencyToken,
      AcceptLanguage: req.acceptLanguage,
    }),
  );
  return { recordId: out.RecordId ?? '', status: out.Status ?? '' };
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
 * True for errors that say "not now" rather than "no": throttling, 5xx, dropped connections and
 * timeouts after the SDK's own retries. The handler keeps waiting on them instead of failing.
 */
export function isTransient(e: unknown): boolean {
  if (!(e instanceof Error)) return false;
  const status = (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  if (status !== undefined) return status >= 500 || /Throttl|TooManyRequests|RequestLimitExceeded/.test(e.name);
  // No HTTP status: the request never got an answer (reset, refused, timed out, hung up).
  const code = (e as { code?: string }).code ?? '';
  return (
    /^E[A-Z]+$/.test(code) ||
    /Timeout|Throttl|NetworkingError/.test(e.name) ||
    /socket hang up|ECONN|ETIMEDOUT|EPIPE|EAI_AGAIN/.test(e.message)
  );
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
