/**
 * A fake of the one CloudFormation call the handlers make, DescribeStackResource (AWS Query protocol), answered from the harness's own stacks.
 *
 * The real `@aws-sdk/client-cloudformation` talks to it when `AWS_ENDPOINT_URL_CLOUDFORMATION` is
 * its endpoint. Each {@link LifecycleDriver} registers its stack: the fake then answers with the
 * status the player gives the resource at that moment (CREATE_IN_PROGRESS while a Create awaits its
 * answer, CREATE_FAILED once a failed answer was taken, and so on), or with CloudFormation's
 * ValidationError when the stack or the resource does not exist. Faults ('throttle', 'denied') can be
 * injected like the other fakes'. Deviations: only the fields the handler reads are filled, and a
 * deleted stack answers "does not exist" (the service describes a deleted stack by its id).
 */
import { randomUUID } from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AccountQuotas } from './quota';

/** A resource as CloudFormation describes it; undefined when the stack has no such resource. */
export interface DescribedResource {
  readonly status: string;
  readonly physicalId?: string;
  readonly resourceType: string;
}

/** Answers for one stack's resources, read at every call. */
export type StackResources = (logicalId: string) => DescribedResource | undefined;

/** One call received. */
export interface CloudFormationCall {
  readonly action: string;
  readonly stackName: string;
  readonly logicalResourceId: string;
  readonly at: number;
  /** 'ok' or the error code sent back. */
  readonly outcome: string;
}

/** The fake CloudFormation server. */
export class FakeCloudFormation {
  /** Starts a fake listening on 127.0.0.1 on a random port. */
  static async start(): Promise<FakeCloudFormation> {
    const fake = new FakeCloudFormation();
    await new Promise<void>((resolve) => fake.http.listen(0, '127.0.0.1', resolve));
    fake.endpoint = `http://127.0.0.1:${(fake.http.address() as AddressInfo).port}`;
    return fake;
  }

  /** Base URL for AWS_ENDPOINT_URL_CLOUDFORMATION. */
  endpoint = '';
  /** Every call, in order. */
  readonly calls: CloudFormationCall[] = [];
  /** Calls that the real service would reject as malformed (must stay empty). */
  readonly violations: string[] = [];
  /** The next `count` calls answer with this error (ThrottlingException is retried by the SDK; AccessDenied is not). */
  fault?: { code: 'Throttling' | 'AccessDenied'; count: number };
  /** The account's quotas: a DescribeStackResource over its bucket is answered 400 Throttling "Rate exceeded", as CloudFormation does (none when undefined). */
  quotas?: AccountQuotas;
  private readonly stacks = new Map<string, StackResources[]>();
  private readonly http = http.createServer((req, res) => this.handle(req, res));

  /**
   * Serves resources of a stack, by its id (an ARN) and its name. Several calls for one stack add up
   * (each driver of a stack with many instances answers for its own resource): the first answer wins.
   */
  serve(stackId: string, resources: StackResources): () => void {
    const name = /:stack\/([^/]+)\//.exec(stackId)?.[1];
    const keys = name ? [stackId, name] : [stackId];
    for (const key of keys) this.stacks.set(key, [...(this.stacks.get(key) ?? []), resources]);
    // Stops answering for these resources (a long run of many drivers would otherwise keep every one alive).
    return () => {
      for (const key of keys) {
        const left = (this.stacks.get(key) ?? []).filter((r) => r !== resources);
        if (left.length > 0) this.stacks.set(key, left);
        else this.stacks.delete(key);
      }
    };
  }

  /** Stops the server. */
  async close(): Promise<void> {
    this.http.closeAllConnections();
    await new Promise<void>((resolve) => this.http.close(() => resolve()));
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      const form = new URLSearchParams(body);
      const action = form.get('Action') ?? '';
      const stackName = form.get('StackName') ?? '';
      const logicalResourceId = form.get('LogicalResourceId') ?? '';
      const answer = this.answer(action, stackName, logicalResourceId);
      this.calls.push({ action, stackName, logicalResourceId, at: Date.now(), outcome: answer.outcome });
      res.writeHead(answer.status, { 'content-type': 'text/xml', 'x-amzn-requestid': randomUUID() });
      res.end(answer.xml);
    });
  }

  private answer(action: string, stackName: string, logicalId: string): { status: number; outcome: string; xml: string } {
    if (action !== 'DescribeStackResource') {
      this.violations.push(`unexpected action ${JSON.stringify(action)}`);
      return errorXml(400, 'InvalidAction', `The action ${action} is not valid for this web service.`);
    }
    if (!stackName || !logicalId) {
      this.violations.push(`DescribeStackResource without StackName or LogicalResourceId`);
      return errorXml(400, 'ValidationError', 'StackName and LogicalResourceId are required');
    }
    if (this.fault && this.fault.count > 0) {
      this.fault.count--;
      return this.fault.code === 'Throttling'
        ? errorXml(400, 'Throttling', 'Rate exceeded')
        : errorXml(403, 'AccessDenied', 'User is not authorized to perform: cloudformation:DescribeStackResource');
    }
    if (this.quotas && !this.quotas.take('cloudformation:DescribeStackResource')) return errorXml(400, 'Throttling', 'Rate exceeded');
    const stack = this.stacks.get(stackName);
    const resource = stack?.map((answer) => answer(logicalId)).find((r) => r !== undefined);
    if (!stack) return errorXml(400, 'ValidationError', `Stack '${stackName}' does not exist`);
    if (!resource) return errorXml(400, 'ValidationError', `Resource ${logicalId} does not exist for stack ${stackName}`);
    const detail = [
      `<StackId>${xml(stackName)}</StackId>`,
      `<LogicalResourceId>${xml(logicalId)}</LogicalResourceId>`,
      resource.physicalId ? `<PhysicalResourceId>${xml(resource.physicalId)}</PhysicalResourceId>` : '',
      `<ResourceType>${xml(resource.resourceType)}</ResourceType>`,
      `<LastUpdatedTimestamp>${new Date().toISOString()}</LastUpdatedTimestamp>`,
      `<ResourceStatus>${xml(resource.status)}</ResourceStatus>`,
    ].join('');
    return {
      status: 200,
      outcome: 'ok',
      xml:
        '<DescribeStackResourceResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/">' +
        `<DescribeStackResourceResult><StackResourceDetail>${detail}</StackResourceDetail></DescribeStackResourceResult>` +
        `<ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></DescribeStackResourceResponse>`,
    };
  }
}

function errorXml(status: number, code: string, message: string): { status: number; outcome: string; xml: string } {
  return {
    status,
    outcome: code,
    xml:
      '<ErrorResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/">' +
      `<Error><Type>Sender</Type><Code>${code}</Code><Message>${xml(message)}</Message></Error>` +
      `<RequestId>${randomUUID()}</RequestId></ErrorResponse>`,
  };
}

function xml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}
