// Resolves the CloudFormation intrinsics and pseudo parameters a synthesized construct stack uses,
// and names its resources (ARNs, function names, the stack id) as CloudFormation would.

/** A synthesized template, as far as the harness reads it. */
export interface Template {
  Resources: Record<string, { Type: string; Properties?: Record<string, unknown>; Metadata?: Record<string, unknown> }>;
}

/** What the pseudo parameters and resource references resolve to. */
export interface ResolveContext {
  readonly template: Template;
  readonly account: string;
  readonly region: string;
  readonly partition: string;
  readonly stackName: string;
  readonly stackId: string;
}

const NO_VALUE = Symbol('AWS::NoValue');

/** Resolves the intrinsics a synthesized construct stack uses; throws on anything else. */
export function resolve(value: unknown, ctx: ResolveContext): unknown {
  if (Array.isArray(value)) return value.map((v) => resolve(v, ctx)).filter((v) => v !== NO_VALUE);
  if (value === null || typeof value !== 'object') return value;
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj);
  if (keys.length === 1 && (keys[0] === 'Ref' || keys[0].startsWith('Fn::'))) {
    const arg = obj[keys[0]];
    switch (keys[0]) {
      case 'Ref':
        return ref(String(arg), ctx);
      case 'Fn::GetAtt': {
        const [id, attr] = Array.isArray(arg) ? (arg as string[]) : String(arg).split(/\.(.*)/s);
        return getAtt(id, attr, ctx);
      }
      case 'Fn::Join': {
        const [sep, parts] = arg as [string, unknown[]];
        return (resolve(parts, ctx) as unknown[]).map(String).join(sep);
      }
      case 'Fn::Select': {
        const [index, list] = arg as [unknown, unknown];
        return (resolve(list, ctx) as unknown[])[Number(resolve(index, ctx))];
      }
      case 'Fn::Split': {
        const [sep, source] = arg as [string, unknown];
        return String(resolve(source, ctx)).split(sep);
      }
      case 'Fn::Sub': {
        const [text, vars] = Array.isArray(arg) ? (arg as [string, Record<string, unknown>]) : [String(arg), {}];
        return text.replace(/\$\{([^}!]+)\}/g, (_m, name: string) => {
          if (name in vars) return String(resolve(vars[name], ctx));
          const dot = name.indexOf('.');
          return String(dot > 0 ? getAtt(name.slice(0, dot), name.slice(dot + 1), ctx) : ref(name, ctx));
        });
      }
      default:
        throw new Error(`harness: cannot resolve ${keys[0]} in ${JSON.stringify(value)}`);
    }
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) {
    const r = resolve(v, ctx);
    if (r !== NO_VALUE) out[k] = r;
  }
  return out;
}

function ref(name: string, ctx: ResolveContext): unknown {
  switch (name) {
    case 'AWS::Partition':
      return ctx.partition;
    case 'AWS::Region':
      return ctx.region;
    case 'AWS::AccountId':
      return ctx.account;
    case 'AWS::StackName':
      return ctx.stackName;
    case 'AWS::StackId':
      return ctx.stackId;
    case 'AWS::URLSuffix':
      return 'amazonaws.com';
    case 'AWS::NoValue':
      return NO_VALUE;
  }
  const res = ctx.template.Resources[name];
  if (!res) throw new Error(`harness: Ref to unknown resource ${name}`);
  switch (res.Type) {
    case 'AWS::StepFunctions::StateMachine':
      return arnOf(name, ctx);
    case 'AWS::Lambda::Function':
      return functionName(name);
    default:
      return name;
  }
}

function getAtt(logicalId: string, attr: string, ctx: ResolveContext): string {
  if (attr !== 'Arn') throw new Error(`harness: cannot resolve Fn::GetAtt ${logicalId}.${attr}`);
  return arnOf(logicalId, ctx);
}

/** The ARN of a resource of the template. */
export function arnOf(logicalId: string, ctx: ResolveContext): string {
  const res = ctx.template.Resources[logicalId];
  if (!res) throw new Error(`harness: unknown resource ${logicalId}`);
  const { partition: p, region: r, account: a } = ctx;
  switch (res.Type) {
    case 'AWS::Lambda::Function':
      return `arn:${p}:lambda:${r}:${a}:function:${functionName(logicalId)}`;
    case 'AWS::StepFunctions::StateMachine': {
      // A StateMachineName (the provider names its waiter) is the name; else CloudFormation makes one up.
      const name = res.Properties?.StateMachineName;
      return `arn:${p}:states:${r}:${a}:stateMachine:${name === undefined ? logicalId : String(resolve(name, ctx))}`;
    }
    case 'AWS::IAM::Role':
      return `arn:${p}:iam::${a}:role/${logicalId}`;
    case 'AWS::IAM::User':
      return `arn:${p}:iam::${a}:user/${logicalId}`;
    case 'AWS::Logs::LogGroup':
      return `arn:${p}:logs:${r}:${a}:log-group:${logicalId}:*`;
    default:
      throw new Error(`harness: no ARN for ${logicalId} (${res.Type})`);
  }
}

/** The physical name of an AWS::Lambda::Function without a FunctionName. */
export function functionName(logicalId: string): string {
  return logicalId.slice(0, 64);
}

/** The stack id (ARN) CloudFormation gives a stack, with a UUID derived from its name. */
export function stackIdOf(stackName: string, region: string, account: string): string {
  return `arn:aws:cloudformation:${region}:${account}:stack/${stackName}/${uuidFor(stackName)}`;
}

function uuidFor(text: string): string {
  const hex = Buffer.from(text.padEnd(16, '0')).toString('hex').slice(0, 32);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}
