/**
 * A stateful, in-process fake of the AWS Service Catalog API for tests: the backend's state and
 * operations (./service-catalog-backend) served over AWS JSON 1.1 on 127.0.0.1, with every call
 * logged, malformed calls recorded as violations, and faults injected on request.
 *
 * The real `@aws-sdk/client-service-catalog` talks to it when
 * `process.env.AWS_ENDPOINT_URL_SERVICE_CATALOG = fake.endpoint` (plus a region and dummy credentials).
 * Only four operations exist: DescribeProvisionedProduct, SearchProvisionedProducts,
 * UpdateProvisionedProductProperties and DescribeRecord.
 */
import { AwsJsonServer, type FakeCall, type FaultKind, type FaultPlan } from './aws-json-server';
import type { AccountQuotas } from './quota';
import { type FakeServiceCatalogOptions, ServiceCatalogBackend } from './service-catalog-backend';

export type { FakeCall, FaultPlan } from './aws-json-server';
export type { FakeProductInit, FakeProductView, FakeRecordView, FakeServiceCatalogOptions, RecordPlan } from './service-catalog-backend';

/** Stateful fake Service Catalog server; see ./service-catalog-backend for the time model and deviations. */
export class FakeServiceCatalog extends ServiceCatalogBackend {
  /** Starts a fake listening on 127.0.0.1 on a random port. */
  static async start(options: FakeServiceCatalogOptions = {}): Promise<FakeServiceCatalog> {
    const fake = new FakeServiceCatalog(options);
    fake.server = await AwsJsonServer.start(
      { targetPrefix: 'AWS242ServiceCatalogService.', contentType: 'application/x-amz-json-1.1' },
      fake.operations,
    );
    return fake;
  }

  private server!: AwsJsonServer;
  private closing?: Promise<void>;

  private constructor(options: FakeServiceCatalogOptions) {
    super(options);
  }

  /** Base URL to put into AWS_ENDPOINT_URL_SERVICE_CATALOG, e.g. 'http://127.0.0.1:12345'. */
  get endpoint(): string {
    return this.server.endpoint;
  }

  /** Number of faults injected so far, per kind. */
  get faultsInjected(): Record<FaultKind, number> {
    return this.server.faultsInjected;
  }

  /** Every HTTP call received, in arrival order. */
  get calls(): FakeCall[] {
    return this.server.calls;
  }

  /** Descriptions of malformed calls (API-model violations, unknown operations, bad HTTP). */
  get violations(): string[] {
    return this.server.violations;
  }

  /**
   * Keeps (or with undefined stops keeping) the account's Service Catalog quotas: a call over its
   * operation's bucket is answered 400 ThrottlingException, as the service does.
   */
  useQuotas(quotas: AccountQuotas | undefined): void {
    this.server.setQuota(quotas ? (op) => !isQuotaOp(op) || quotas.take(`servicecatalog:${op}`) : undefined);
  }

  /** Installs (or with undefined removes) fault injection; resets the PRNG to the plan's seed. */
  setFaults(plan: FaultPlan | undefined): void {
    this.server.setFaults(plan);
  }

  /**
   * Makes `op` answer `ms` after it ran (0: at once), as a slow or distant service would: a write
   * is applied on arrival, and only its answer is late.
   */
  setLatency(op: string, ms: number): void {
    this.server.setLatency(op, ms);
  }

  /** Calls of one operation, in arrival order. */
  callsOf(op: string): FakeCall[] {
    return this.server.callsOf(op);
  }

  /** Stops the server, drops all connections, freezes unfinished records; leaves no open handles. */
  close(): Promise<void> {
    if (!this.closing) {
      this.freeze();
      this.closing = this.server.close();
    }
    return this.closing;
  }
}

/** The operations that have a quota (all four the fake serves). */
function isQuotaOp(
  op: string,
): op is 'DescribeProvisionedProduct' | 'SearchProvisionedProducts' | 'UpdateProvisionedProductProperties' | 'DescribeRecord' {
  return ['DescribeProvisionedProduct', 'SearchProvisionedProducts', 'UpdateProvisionedProductProperties', 'DescribeRecord'].includes(op);
}
