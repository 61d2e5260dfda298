/**
 * The two fakes the handlers talk to, started and closed together, for the demo, the benchmark and tests that need both.
 */
import { FakeServiceCatalog, type FakeServiceCatalogOptions } from './fake-service-catalog';
import { FakeStepFunctions } from './fake-step-functions';

/** A fake Service Catalog and a fake Step Functions on 127.0.0.1. */
export interface LocalServices {
  readonly serviceCatalog: FakeServiceCatalog;
  readonly stepFunctions: FakeStepFunctions;
  /** The driver options that point the handlers at them. */
  readonly driverOptions: { readonly endpoint: string; readonly stepFunctions: FakeStepFunctions };
  /** Stops both. */
  close(): Promise<void>;
}

/** Starts both fakes. */
export async function startLocalServices(options: FakeServiceCatalogOptions = {}): Promise<LocalServices> {
  const [serviceCatalog, stepFunctions] = await Promise.all([FakeServiceCatalog.start(options), FakeStepFunctions.start()]);
  return {
    serviceCatalog,
    stepFunctions,
    driverOptions: { endpoint: serviceCatalog.endpoint, stepFunctions },
    close: async () => {
      await Promise.all([serviceCatalog.close(), stepFunctions.close()]);
    },
  };
}
