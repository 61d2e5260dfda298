/**
 * The README's Usage examples as a new user pastes them: into the stack that `cdk init app`
 * generates. The TypeScript example goes into the constructor of a fresh
 * `cdk init app --language typescript` stack and must type-check with the generated tsconfig
 * (`tsc --noEmit`); the Python example must be valid Python with the constructor that
 * `cdk init app --language python` writes.
 *
 * Offline and fast: the project's own CDK CLI generates the apps (`--generate-only`: no npm install,
 * no git), the app's node_modules is this project's, and the package resolves (tsconfig `paths`) to
 * this checkout's lib/ sources, so no build is needed and none that test/package.test.ts runs
 * meanwhile is read half-written. test/package.test.ts checks the packed declarations.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(__dirname, '..');
const PACKAGE = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { name: string }).name;
const CDK_CLI = join(ROOT, 'node_modules', 'aws-cdk', 'bin', 'cdk');
const TSC = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');

/** The first fenced block of `language` under README's '## Usage', up to the next '## ' heading. */
function readmeUsageBlock(language: 'ts' | 'python'): string {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const usage = readme.split(/^## Usage\s*$/m)[1]?.split(/^## /m)[0];
  const block = usage && new RegExp(`^\`\`\`${language}\\n([\\s\\S]*?)^\`\`\``, 'm').exec(usage);
  if (!block) throw new Error(`README.md has no \`\`\`${language} block under '## Usage'`);
  return block[1];
}

/** Runs a command; a failure throws with everything it printed. */
function run(command: string, args: string[], cwd: string): string {
  try {
    return execFileSync(command, args, {
      cwd,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      // No telemetry (and --no-notices below): nothing needs the network.
      env: { ...process.env, CDK_DISABLE_CLI_TELEMETRY: 'true' },
    });
  } catch (e) {
    const { stdout, stderr } = e as { stdout?: string; stderr?: string };
    throw new Error(`${command} ${args.join(' ')} failed in ${cwd}:\n${stdout ?? ''}\n${stderr ?? ''}`, { cause: e });
  }
}

/** `cdk init app --language <language> --generate-only` in a new directory `<work>/<name>`. */
function cdkInit(work: string, name: string, language: 'typescript' | 'python'): string {
  const dir = join(work, name);
  mkdirSync(dir);
  run(process.execPath, [CDK_CLI, 'init', 'app', '--language', language, '--generate-only', '--no-notices'], dir);
  return dir;
}

/** A Python interpreter on the PATH, or undefined. */
function findPython(): string | undefined {
  try {
    execFileSync('python3', ['--version'], { stdio: 'ignore' });
    return 'python3';
  } catch {
    return undefined;
  }
}

let work: string;

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'ppp-readme-example-'));
});

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

test("the README's TypeScript example compiles in the constructor of a fresh `cdk init app --language typescript` stack", () => {
  const app = cdkInit(work, 'readme-app', 'typescript');
  const stackFile = join(app, 'lib', 'readme-app-stack.ts');
  const generated = readFileSync(stackFile, 'utf8');
  // What the example is pasted into: the generated constructor, whose `props` it must not redeclare.
  const superCall = '    super(scope, id, props);\n';
  expect(generated).toContain('constructor(scope: Construct, id: string, props?: cdk.StackProps) {\n' + superCall);
  expect(generated.trimEnd().endsWith('  }\n}')).toBe(true);

  const example = readmeUsageBlock('ts').split('\n');
  const imports = example.filter((l) => /^import\s/.test(l));
  const body = example.filter((l) => !/^import\s/.test(l));
  const head = generated.slice(0, generated.indexOf(superCall) + superCall.length);
  writeFileSync(stackFile, [...imports, head + body.map((l) => (l ? `    ${l}` : l)).join('\n'), '  }', '}', ''].join('\n'));

  // This project's node_modules serves the app; the package is this checkout's lib/.
  symlinkSync(join(ROOT, 'node_modules'), join(app, 'node_modules'), 'junction');
  const tsconfig = JSON.parse(readFileSync(join(app, 'tsconfig.json'), 'utf8')) as { compilerOptions: Record<string, unknown> };
  tsconfig.compilerOptions.paths = { [PACKAGE]: [join(ROOT, 'lib', 'index.ts')] };
  writeFileSync(join(app, 'tsconfig.json'), JSON.stringify(tsconfig, null, 2));

  // tsc prints the diagnostics and exits non-zero on any: run() then throws them.
  expect(run(process.execPath, [TSC, '--noEmit', '-p', app], app)).toBe('');
}, 180_000);

const python = findPython();
(python ? test : test.skip)(
  `the README's Python example is valid Python, with the stack constructor \`cdk init app --language python\` writes${python ? '' : ' [skipped: no python3 on PATH]'}`,
  () => {
    const app = cdkInit(work, 'readme-py-app', 'python');
    const stackFile = join(app, 'readme_py_app', 'readme_py_app_stack.py');
    const generated = readFileSync(stackFile, 'utf8');
    const example = readmeUsageBlock('python');
    // The generated stack's constructor and super call, as the example has them.
    const signature = (source: string) => source.split('\n').filter((l) => /^\s+(def __init__\(|super\(\)\.__init__\()/.test(l));
    expect(signature(example)).toEqual(signature(generated));
    expect(signature(example)).toHaveLength(2);

    // The example replaces the generated stack module, its class renamed to what app.py imports.
    const generatedClass = /^class (\w+)\(Stack\):/m.exec(generated)?.[1];
    expect(generatedClass).toBeDefined();
    writeFileSync(stackFile, example.replace(/^class \w+\(Stack\):/m, `class ${generatedClass}(Stack):`));
    const sources = [join('readme_py_app', 'readme_py_app_stack.py'), 'app.py'];
    expect(readdirSync(app)).toContain('app.py');
    run(python!, ['-m', 'py_compile', ...sources], app);
  },
  60_000,
);
