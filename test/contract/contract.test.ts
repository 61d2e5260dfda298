/**
 * The contract suite against the project's fakes: each behaviour the handler relies on, with the same body `npm run test:contract:aws` runs against AWS, must hold of the fake that every other test uses (a fresh one per behaviour).
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { Behaviour } from './behaviour';
import { useDynamoDBLocal } from '../support/fixtures';
import { type FakeTarget, startFakeTarget } from './fake-target';
import { runBehaviour } from './runner';
import { BEHAVIOURS } from './suite';

// One DynamoDB Local for the file (its JVM takes seconds to start); each target gets a fresh table in it.
const dynamodbLocal = useDynamoDBLocal();
let target: FakeTarget | undefined;

beforeEach(async () => {
  target = await startFakeTarget({ dynamodbLocal: dynamodbLocal() });
});

afterEach(async () => {
  const current = target;
  target = undefined;
  if (!current) return;
  try {
    // The suite's calls must be well-formed: a malformed one would test the fake's validation instead.
    expect(current.fakeServiceCatalog.violations).toEqual([]);
  } finally {
    await current.close();
  }
});

/** Runs `behaviour` against the current fake and expects it to hold. */
async function expectHolds(behaviour: Behaviour): Promise<void> {
  if (!target) throw new Error('the fake target runs only inside a test');
  const result = await runBehaviour(target, behaviour);
  expect({ id: behaviour.id, verdict: result.verdict, detail: result.detail }).toEqual({
    id: behaviour.id,
    verdict: 'as-assumed',
    detail: '',
  });
}

describe.each(['Service Catalog', 'DynamoDB'] as const)('%s, as the handler relies on it, holds of the fake', (service) => {
  for (const behaviour of BEHAVIOURS.filter((b) => b.service === service)) {
    const name = `${behaviour.id}: ${behaviour.assumption}`;
    switch (behaviour.fake.kind) {
      case 'models':
        test(name, () => expectHolds(behaviour));
        break;
      case 'pending':
        // Issue #12 (branch `mutation`) makes the fake stricter: a search query it does not
        // understand lists nothing, and UserArn differs from UserArnSession for a product an
        // assumed-role session provisioned. Until it is merged these fail as the fake deviates
        // (the behaviour's `fake.today`); once merged they pass, test.failing reports that, and
        // they become plain tests (set `fake: { kind: 'models' }` on the behaviour).
        test.failing(`${name} (the fake does not yet: issue ${behaviour.fake.issue})`, () => expectHolds(behaviour));
        break;
      case 'not-modelled':
        test(`${behaviour.id} is not run against the fake (${behaviour.fake.why}): only npm run test:contract:aws checks it`, async () => {
          if (!target) throw new Error('no target');
          expect((await runBehaviour(target, behaviour)).verdict).toBe('not-run');
        });
        break;
    }
  }
});

test("docs/verifying-against-aws.md's list of assumptions names every behaviour of the suite, in order, with where the fake stands", () => {
  const page = readFileSync(path.join(__dirname, '..', '..', 'docs', 'verifying-against-aws.md'), 'utf8');
  const section = page.split(/^## The assumptions, and where they stand$/m)[1]?.split(/^#{1,3} /m)[0] ?? '';
  const rows = section
    .split('\n')
    .filter((line) => line.startsWith('| `'))
    .map((line) => line.split(' | ').map((cell) => cell.replace(/^\| |`| \|$/g, '')));
  expect(rows.map((r) => r[0])).toEqual(BEHAVIOURS.map((b) => b.id));
  for (const [row, behaviour] of rows.map((r, i) => [r, BEHAVIOURS[i]] as const)) {
    const fake = behaviour.fake;
    const standing = fake.kind === 'models' ? 'models it' : fake.kind === 'pending' ? `not yet (issue ${fake.issue}` : 'cannot (';
    expect({ id: row[0], fake: row[3].slice(0, standing.length) }).toEqual({ id: behaviour.id, fake: standing });
    expect(row[4]).not.toBe('');
  }
});
