/**
 * Runs contract behaviours against a target and reports, one line each, whether the service behaved as the fake assumes; puts the product's owner and launch role back after every behaviour that changes them.
 */
import { type Behaviour, type ContractContext, Difference, Inconclusive, NotRun, newToken, show } from './behaviour';
import { readProduct, waitForRecord, waitUntilFree, writeProperties } from './probes';
import type { ContractTarget } from './target';

/** How a behaviour's run ended. */
export type Verdict = 'as-assumed' | 'differs' | 'inconclusive' | 'not-run';

export interface BehaviourResult {
  readonly behaviour: Behaviour;
  readonly verdict: Verdict;
  /** Why it differs, was inconclusive or was not run ('' when as assumed). */
  readonly detail: string;
  /** What the run saw on the way. */
  readonly observations: readonly string[];
}

/** The result of a whole run. */
export interface ContractReport {
  readonly results: readonly BehaviourResult[];
  /** Empty when the product got its owner and launch role back after every change; otherwise what is left to do by hand. */
  readonly restoreProblems: readonly string[];
}

/** Runs one behaviour against `target` and classifies how it ended. */
export async function runBehaviour(target: ContractTarget, behaviour: Behaviour): Promise<BehaviourResult> {
  const observations: string[] = [];
  const ctx: ContractContext = { target, sc: target.serviceCatalog, observe: (t) => observations.push(t) };
  try {
    await behaviour.run(ctx);
    return { behaviour, verdict: 'as-assumed', detail: '', observations };
  } catch (e) {
    const error = e instanceof Error ? e : new Error(String(e));
    const verdict: Verdict = error instanceof Inconclusive ? 'inconclusive' : error instanceof NotRun ? 'not-run' : 'differs';
    // A Difference says what differs; any other error is the service answering what the handler does not expect.
    const detail = error instanceof Difference || verdict !== 'differs' ? error.message : `${error.name}: ${error.message}`;
    return { behaviour, verdict, detail, observations };
  }
}

/** The words of a result: "as the fake assumes" or "differs: …" (or why it says neither). */
export function verdictText(result: BehaviourResult): string {
  const fake = result.behaviour.fake;
  switch (result.verdict) {
    case 'as-assumed':
      if (fake.kind === 'models') return 'as the fake assumes';
      if (fake.kind === 'pending') return `as documented, which the fake does not model yet (issue ${fake.issue}: today ${fake.today})`;
      return `as assumed (the fake does not model this: ${fake.why})`;
    case 'differs':
      return `differs: ${result.detail}`;
    case 'inconclusive':
      return `inconclusive: ${result.detail}`;
    case 'not-run':
      return `not run: ${result.detail}`;
  }
}

/** Whether a result is a deviation of the fake already known and planned away (a pending behaviour differing on the fake). */
export function isKnownDeviation(result: BehaviourResult, target: Pick<ContractTarget, 'kind'>): boolean {
  return target.kind === 'fake' && result.verdict === 'differs' && result.behaviour.fake.kind === 'pending';
}

/** One report line for a result. */
export function resultLine(result: BehaviourResult, target: Pick<ContractTarget, 'kind'>): string {
  const seen = result.observations.length > 0 ? ` [${result.observations.join('; ')}]` : '';
  const fake = result.behaviour.fake;
  const known = isKnownDeviation(result, target) && fake.kind === 'pending' ? ` (known deviation of the fake, issue ${fake.issue})` : '';
  return `${result.behaviour.id}: ${verdictText(result)}${known}${seen}`;
}

/**
 * The exit code of a run: 1 when a behaviour differs (other than a known deviation of the fake) or
 * the product could not be put back, else 0.
 */
export function exitCodeOf(report: ContractReport, target: Pick<ContractTarget, 'kind'>): number {
  const differs = report.results.some((r) => r.verdict === 'differs' && !isKnownDeviation(r, target));
  return differs || report.restoreProblems.length > 0 ? 1 : 0;
}

/** Counts per verdict, as the report's last line says them. */
export function summary(results: readonly BehaviourResult[]): string {
  const count = (v: Verdict) => results.filter((r) => r.verdict === v).length;
  return `${count('as-assumed')} as assumed, ${count('differs')} differ, ${count('inconclusive')} inconclusive, ${count('not-run')} not run`;
}

/**
 * Runs `behaviours` in order against `target`, printing a line for each, and puts the product's
 * owner and launch role back to what they were at the start after each behaviour that writes.
 */
export async function runContract(
  target: ContractTarget,
  behaviours: readonly Behaviour[],
  print: (line: string) => void,
): Promise<ContractReport> {
  const sc = target.serviceCatalog;
  const start = await readProduct(sc, target.productId);
  const originals = { owner: start.owner, launchRole: start.launchRole };
  print(
    `against ${target.name}: product ${target.productId} (owner ${originals.owner || '(unknown)'}, launch role ${originals.launchRole || '(none)'})`,
  );
  const results: BehaviourResult[] = [];
  const restoreProblems: string[] = [];
  for (const behaviour of behaviours) {
    const result = await runBehaviour(target, behaviour);
    results.push(result);
    print(resultLine(result, target));
    if (!behaviour.writes) continue;
    const problem = await putBack(target, originals);
    if (problem) {
      restoreProblems.push(`after ${behaviour.id}: ${problem}`);
      print(`could not put the product back after ${behaviour.id}: ${problem}`);
      break;
    }
  }
  print(summary(results));
  return { results, restoreProblems };
}

/** Writes the original owner and launch role back where they changed; returns what went wrong, if anything. */
async function putBack(target: ContractTarget, originals: { owner: string; launchRole: string }): Promise<string | undefined> {
  const sc = target.serviceCatalog;
  try {
    await waitUntilFree(sc, target.productId, target.timing);
    const now = await readProduct(sc, target.productId);
    const properties: Record<string, string> = {};
    if (originals.owner && now.owner !== originals.owner) properties.OWNER = originals.owner;
    if (originals.launchRole && now.launchRole !== originals.launchRole) properties.LAUNCH_ROLE = originals.launchRole;
    if (!originals.launchRole && now.launchRole)
      return `the product had no launch role and now has ${now.launchRole}, which cannot be cleared`;
    if (Object.keys(properties).length === 0) return undefined;
    const out = await writeProperties(sc, target.productId, properties, newToken('put-back'));
    const run = await waitForRecord(sc, out.RecordId ?? '', target.timing, out.Status);
    if (run.detail.Status !== 'SUCCEEDED')
      return `record ${out.RecordId ?? ''} writing ${show(properties)} ended ${show(run.detail.Status)}`;
    return undefined;
  } catch (e) {
    return `${(e as Error).name}: ${(e as Error).message}; set OWNER=${originals.owner} and LAUNCH_ROLE=${originals.launchRole || '(none)'} on ${target.productId} by hand`;
  }
}
