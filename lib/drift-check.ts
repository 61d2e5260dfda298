/**
 * The drift check setting: how often the provider compares every managed product with what the stack declares, and whether it writes the declared values back.
 */
import { Duration } from 'aws-cdk-lib';
import { DRIFT } from './contract';

/** Options of a drift check. */
export interface DriftCheckOptions {
  /**
   * Whether the check writes the declared values back when it finds them changed (waiting on the
   * record, under the same fencing as a deploy's write: never over a deploy that has started).
   * Without it the check only reports.
   *
   * @default false
   */
  readonly restore?: boolean;
}

/**
 * A scheduled check, on the stack's shared provider, of the owner and launch role of every
 * provisioned product the stack's ProvisionedProductProperties manage: each difference from what the
 * stack declares (a change made outside the stack) is logged, counted in the `DriftedProducts`
 * metric (see `metricDrift()`), and with `restore` written back.
 *
 * Each check reads each product once: DescribeProvisionedProduct and SearchProvisionedProducts, two
 * Service Catalog API calls, which Service Catalog bills beyond its free tier. The default interval
 * is a day; see the README for the cost of shorter ones.
 */
export class DriftCheck {
  /**
   * A check once a day.
   *
   * @param options Whether the check restores the declared values.
   */
  public static daily(options: DriftCheckOptions = {}): DriftCheck {
    return new DriftCheck(Duration.hours(DRIFT.defaultIntervalHours), options.restore ?? false);
  }

  /**
   * A check every `interval`: whole minutes, at least 10 (a check may take several minutes).
   *
   * @param interval How often to check.
   * @param options Whether the check restores the declared values.
   */
  public static every(interval: Duration, options: DriftCheckOptions = {}): DriftCheck {
    return new DriftCheck(interval, options.restore ?? false);
  }

  /**
   * @param interval How often the check runs.
   * @param restore Whether it writes the declared values back.
   */
  private constructor(
    public readonly interval: Duration,
    public readonly restore: boolean,
  ) {}
}

/** The shortest interval: a check of a large stack, with restores waiting on records, takes minutes. */
export const MIN_DRIFT_INTERVAL_MINUTES = 10;
