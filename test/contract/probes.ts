/**
 * The Service Catalog reads and writes the contract behaviours and the integration checks make, through the SDK and the way the handler makes them.
 */
import {
  DescribeProvisionedProductCommand,
  DescribeRecordCommand,
  type ProvisionedProductAttribute,
  type RecordDetail,
  SearchProvisionedProductsCommand,
  type ServiceCatalogClient,
  UpdateProvisionedProductPropertiesCommand,
  type UpdateProvisionedProductPropertiesCommandOutput,
} from '@aws-sdk/client-service-catalog';
import { Difference, show, sleep } from './behaviour';

/** Every record status DescribeRecord documents, in the order a record goes through them. */
export const RECORD_STATUSES = ['CREATED', 'IN_PROGRESS', 'IN_PROGRESS_IN_ERROR', 'SUCCEEDED', 'FAILED'] as const;
const FINAL = new Set(['SUCCEEDED', 'FAILED']);

/** The statuses in which a product's values may still change (lambda/decisions.ts valuesAreSettled). */
export const BUSY_STATUSES = new Set(['UNDER_CHANGE', 'PLAN_IN_PROGRESS']);

/** A product as DescribeProvisionedProduct and the handler's search report it ('' for absent fields). */
export interface ProductReading {
  readonly status: string;
  readonly arn: string;
  readonly launchRole: string;
  readonly lastRecordId: string;
  /** Whether the handler's search (account level, `id:<id>`) listed it. */
  readonly listed: boolean;
  /** The search's UserArn: the principal, without a session. */
  readonly userArn: string;
  readonly userArnSession: string;
  /** The owner as the handler records it: UserArnSession, or UserArn when there is no session (sc.session-owner). */
  readonly owner: string;
}

/** Searches as the handler does: account level, filtered by id. */
export async function searchById(
  sc: ServiceCatalogClient,
  productId: string,
  acceptLanguage?: string,
): Promise<ProvisionedProductAttribute[]> {
  const out = await sc.send(
    new SearchProvisionedProductsCommand({
      AcceptLanguage: acceptLanguage,
      AccessLevelFilter: { Key: 'Account', Value: 'self' },
      Filters: { SearchQuery: [`id:${productId}`] },
    }),
  );
  return out.ProvisionedProducts ?? [];
}

/** Reads the product as the handler does: DescribeProvisionedProduct, then the search. */
export async function readProduct(sc: ServiceCatalogClient, productId: string, acceptLanguage?: string): Promise<ProductReading> {
  const detail = (await sc.send(new DescribeProvisionedProductCommand({ Id: productId, AcceptLanguage: acceptLanguage })))
    .ProvisionedProductDetail;
  const match = (await searchById(sc, productId, acceptLanguage)).find((p) => p.Id === productId);
  return {
    status: detail?.Status ?? '',
    arn: detail?.Arn ?? '',
    launchRole: detail?.LaunchRoleArn ?? '',
    lastRecordId: detail?.LastRecordId ?? '',
    listed: match !== undefined,
    userArn: match?.UserArn ?? '',
    userArnSession: match?.UserArnSession ?? '',
    owner: match?.UserArnSession ?? match?.UserArn ?? '',
  };
}

/** UpdateProvisionedProductProperties, as isComplete calls it. */
export function writeProperties(
  sc: ServiceCatalogClient,
  productId: string,
  properties: Record<string, string>,
  token: string,
  acceptLanguage?: string,
): Promise<UpdateProvisionedProductPropertiesCommandOutput> {
  return sc.send(
    new UpdateProvisionedProductPropertiesCommand({
      ProvisionedProductId: productId,
      ProvisionedProductProperties: properties,
      IdempotencyToken: token,
      AcceptLanguage: acceptLanguage,
    }),
  );
}

/** Where a record ended, and every status seen on the way (repeats collapsed), first to last. */
export interface RecordRun {
  readonly statuses: readonly string[];
  readonly detail: RecordDetail;
}

/** Polls DescribeRecord until the record is SUCCEEDED or FAILED; a record still running after `timeoutMs` is a difference. */
export async function waitForRecord(
  sc: ServiceCatalogClient,
  recordId: string,
  timing: { readonly pollMs: number; readonly recordTimeoutMs: number },
  firstStatus?: string,
): Promise<RecordRun> {
  const statuses: string[] = firstStatus ? [firstStatus] : [];
  const deadline = Date.now() + timing.recordTimeoutMs;
  for (;;) {
    const detail = (await sc.send(new DescribeRecordCommand({ Id: recordId }))).RecordDetail ?? {};
    const status = detail.Status ?? '';
    if (statuses[statuses.length - 1] !== status) statuses.push(status);
    if (FINAL.has(status)) return { statuses, detail };
    if (Date.now() > deadline) {
      throw new Difference(
        `record ${recordId} was still ${show(status)} after ${timing.recordTimeoutMs / 1000} s (statuses seen: ${statuses.join(' → ')})`,
      );
    }
    await sleep(timing.pollMs);
  }
}

/** Polls DescribeProvisionedProduct until the product is no longer busy; returns its status. */
export async function waitUntilFree(
  sc: ServiceCatalogClient,
  productId: string,
  timing: { readonly pollMs: number; readonly recordTimeoutMs: number },
): Promise<string> {
  const deadline = Date.now() + timing.recordTimeoutMs;
  for (;;) {
    const status = (await sc.send(new DescribeProvisionedProductCommand({ Id: productId }))).ProvisionedProductDetail?.Status ?? '';
    if (!BUSY_STATUSES.has(status)) return status;
    if (Date.now() > deadline) throw new Difference(`product ${productId} was still ${status} after ${timing.recordTimeoutMs / 1000} s`);
    await sleep(timing.pollMs);
  }
}
