/**
 * The handler's own ledger modules (lambda/ledger.ts, lambda/request-ledger.ts) loaded against a target's ledger-shaped table, so that the DynamoDB behaviours make the handler's requests, not copies of them.
 *
 * Those modules read their table's name, their client's settings (endpoint, region, credentials)
 * and their timing from the environment when they load, as in Lambda. So each target gets copies
 * of its own, loaded with its environment (jest.isolateModules under Jest, a fresh require in
 * `npm run test:contract:aws`), and the environment is put back once their client has made its
 * first request: the SDK resolves those settings on the first request and keeps them.
 */
import * as path from 'node:path';
import type { DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { HANDLER_TIMING, LEDGER } from '../../lib/contract';
import type { ContractTarget, LedgerTable } from './target';

export type LedgerModule = typeof import('../../lambda/ledger');
export type RequestLedgerModule = typeof import('../../lambda/request-ledger');

/** The handler's ledger layers, as one target's copies. */
export interface HandlerLedger {
  /** Registration, consistent reads, priors and the write lease (lambda/ledger.ts). */
  readonly ledger: LedgerModule;
  /** Each request decided once (lambda/request-ledger.ts, Powertools' idempotency). */
  readonly requests: RequestLedgerModule;
}

const loaded = new WeakMap<ContractTarget, Promise<HandlerLedger>>();

/** The handler's ledger modules against `table`, loaded once per target; `pollMs` is the handler's poll interval (a copy waiting for a decision). */
export function handlerLedger(target: ContractTarget, table: LedgerTable): Promise<HandlerLedger> {
  let modules = loaded.get(target);
  if (!modules) {
    modules = load(table, target.timing.pollMs);
    loaded.set(target, modules);
  }
  return modules;
}

async function load(table: LedgerTable, pollMs: number): Promise<HandlerLedger> {
  const env: Record<string, string> = {
    // The report's lines are the run's output; the handler's JSON log lines would bury them.
    POWERTOOLS_LOG_LEVEL: 'SILENT',
    [HANDLER_TIMING.pollIntervalMs.env]: String(pollMs),
    ...table.handlerEnv,
    [LEDGER.tableEnv]: table.tableName,
  };
  const saved = Object.entries(env).map(([key]) => [key, process.env[key]] as const);
  Object.assign(process.env, env);
  try {
    const modules = requireFresh();
    // Fixes the client's endpoint, region and credentials while the environment holds them (a read of a key nobody writes).
    await modules.ledger.readResource({ stackId: 'contract-suite', logicalResourceId: 'LoadCheck' });
    return modules;
  } finally {
    for (const [key, value] of saved) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  }
}

/** Loads fresh copies of the handler's ledger modules (and of what they import), reading the environment now. */
function requireFresh(): HandlerLedger {
  if (typeof jest !== 'undefined') {
    let modules: HandlerLedger | undefined;
    jest.isolateModules(() => {
      modules = {
        ledger: jest.requireActual<LedgerModule>('../../lambda/ledger'),
        requests: jest.requireActual<RequestLedgerModule>('../../lambda/request-ledger'),
      };
    });
    if (!modules) throw new Error('jest.isolateModules did not run its callback');
    return modules;
  }
  // Plain Node.js (ts-node): the handler's modules are loaded by nothing else here; forget them so
  // that they load again with this environment (request-ledger then shares this copy of ledger).
  const lambda = path.join(__dirname, '..', '..', 'lambda') + path.sep;
  for (const id of Object.keys(require.cache)) if (id.startsWith(lambda)) delete require.cache[id];
  /* eslint-disable @typescript-eslint/no-require-imports -- a synchronous, fresh load is the point */
  return {
    ledger: require('../../lambda/ledger') as LedgerModule,
    requests: require('../../lambda/request-ledger') as RequestLedgerModule,
  };
  /* eslint-enable @typescript-eslint/no-require-imports */
}

/**
 * What the handler's client needs in the environment to reach what a DynamoDB client with
 * `config` reaches: its endpoint, region and static credentials (none of them: the standard chain,
 * as on AWS). Other settings are the handler's own.
 */
export function handlerEnvOf(config: Pick<DynamoDBClientConfig, 'endpoint' | 'region' | 'credentials'>): Record<string, string> {
  const env: Record<string, string> = {};
  const { endpoint, region, credentials } = config;
  const refuse = (what: string) => {
    throw new Error(`the handler's ledger client takes its ${what} from the environment: give it as a plain value, not a provider`);
  };
  if (endpoint !== undefined) {
    if (typeof endpoint !== 'string') refuse('endpoint');
    env.AWS_ENDPOINT_URL_DYNAMODB = endpoint as string;
  }
  if (region !== undefined) {
    if (typeof region !== 'string') refuse('region');
    env.AWS_REGION = region as string;
  }
  if (credentials !== undefined) {
    if (typeof credentials === 'function') refuse('credentials');
    const c = credentials as { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
    // An AWS_PROFILE would take precedence over credentials in the environment.
    env.AWS_PROFILE = '';
    env.AWS_ACCESS_KEY_ID = c.accessKeyId;
    env.AWS_SECRET_ACCESS_KEY = c.secretAccessKey;
    if (c.sessionToken) env.AWS_SESSION_TOKEN = c.sessionToken;
  }
  return env;
}
