/**
 * The package as a user gets it: build, `npm pack`, install the tarball into a fresh CDK app
 * outside this repository, paste in the README's Usage example, type-check it against the packed
 * declarations and synthesize it.
 *
 * Offline: the tarball is unpacked into the app's node_modules by hand, and aws-cdk-lib and
 * constructs (the peer dependencies) are symlinked from this project's node_modules.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ts from 'typescript';

const ROOT = join(__dirname, '..');
const PACKAGE = 'cdk-provisioned-product-properties';

/** Runs npm with this project as cwd; under `npm test` the npm that runs the tests. */
function npm(args: string[]): string {
  const npmCli = process.env.npm_execpath;
  const [command, argv] = npmCli?.endsWith('.js') ? [process.execPath, [npmCli, ...args]] : ['npm', args];
  return execFileSync(command, argv, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** The first ```ts block under '## Usage' in README.md. */
function readmeUsageExample(): string {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const section = readme.split(/^## Usage\s*$/m)[1];
  const block = section && /^```ts\n([\s\S]*?)^```/m.exec(section);
  if (!block) throw new Error("README.md has no ```ts block under '## Usage'");
  return block[1];
}

/** The example as the body of a stack's constructor, its imports hoisted to the module. */
function appSource(example: string): string {
  const lines = example.split('\n');
  const imports = lines.filter((l) => /^import\s/.test(l));
  const body = lines.filter((l) => !/^import\s/.test(l));
  return [
    ...imports,
    "import * as usageCdk from 'aws-cdk-lib';",
    '',
    'class UsageStack extends usageCdk.Stack {',
    '  constructor(scope: usageCdk.App, id: string) {',
    '    super(scope, id);',
    ...body.map((l) => (l ? `    ${l}` : l)),
    '  }',
    '}',
    '',
    "const app = new usageCdk.App({ outdir: 'cdk.out' });",
    "new UsageStack(app, 'Usage');",
    'app.synth();',
    '',
  ].join('\n');
}

/** Type-checks main.ts against the installed package and emits main.js; throws the diagnostics. */
function compile(appDir: string): void {
  const options: ts.CompilerOptions = {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.CommonJS,
    moduleResolution: ts.ModuleResolutionKind.Node10,
    strict: true,
    esModuleInterop: true,
    skipLibCheck: true,
    types: [],
    outDir: appDir,
  };
  const program = ts.createProgram([join(appDir, 'main.ts')], options);
  const diagnostics = [...ts.getPreEmitDiagnostics(program), ...program.emit().diagnostics];
  if (diagnostics.length > 0) {
    const host = { getCanonicalFileName: (f: string) => f, getCurrentDirectory: () => appDir, getNewLine: () => '\n' };
    throw new Error(`The README's Usage example does not compile against the packed package:\n${ts.formatDiagnostics(diagnostics, host)}`);
  }
}

interface Template {
  readonly Resources: Record<string, { readonly Type: string; readonly Properties?: Record<string, unknown> }>;
}

describe('the packed package', () => {
  let work: string;
  let files: string[];
  let template: Template;
  let appDir: string;

  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'ppp-package-'));
    npm(['run', 'build']);
    // Scripts off: `prepare` would build a second time, and its output would corrupt --json.
    const [packed] = JSON.parse(npm(['pack', '--json', '--ignore-scripts', '--pack-destination', work])) as Array<{
      filename: string;
      files: Array<{ path: string }>;
    }>;
    files = packed.files.map((f) => f.path).sort();

    appDir = join(work, 'app');
    const installed = join(appDir, 'node_modules', PACKAGE);
    mkdirSync(installed, { recursive: true });
    execFileSync('tar', ['-xzf', join(work, packed.filename), '-C', installed, '--strip-components=1']);
    for (const peer of ['aws-cdk-lib', 'constructs']) {
      symlinkSync(join(ROOT, 'node_modules', peer), join(appDir, 'node_modules', peer), 'junction');
    }
    writeFileSync(join(appDir, 'package.json'), JSON.stringify({ name: 'usage-app', private: true }));
    writeFileSync(join(appDir, 'main.ts'), appSource(readmeUsageExample()));
    compile(appDir);
    execFileSync(process.execPath, ['main.js'], { cwd: appDir, stdio: ['ignore', 'pipe', 'pipe'] });
    template = JSON.parse(readFileSync(join(appDir, 'cdk.out', 'Usage.template.json'), 'utf8')) as Template;
  }, 240_000);

  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  test('holds the compiled construct, its declarations, the jsii assembly, the handler bundle, README and package.json, and nothing else', () => {
    // Every module of lib/, its folders included (lib/provider/), as a path relative to lib/.
    const modules = readdirSync(join(ROOT, 'lib'), { recursive: true, encoding: 'utf8' })
      .filter((f) => f.endsWith('.ts'))
      .map((f) => f.split('\\').join('/'))
      .map((f) => f.replace(/\.ts$/, ''));
    const expected = [
      '.jsii',
      'README.md',
      'assets/handler/index.js',
      'package.json',
      ...modules.flatMap((m) => [`dist/${m}.d.ts`, `dist/${m}.js`]),
      ...(existsSync(join(ROOT, 'LICENSE')) ? ['LICENSE'] : []),
    ].sort();
    expect(files).toEqual(expected);
    expect(files.filter((f) => /^(test|bin|lambda|scripts|lib)\//.test(f))).toEqual([]);
  });

  test('ships the jsii assembly (.jsii) that Construct Hub and the other languages read, named, versioned and licensed as package.json says', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { name: string; version: string; license: string };
    const assembly = JSON.parse(readFileSync(join(appDir, 'node_modules', PACKAGE, '.jsii'), 'utf8')) as Record<string, unknown>;
    expect(assembly).toMatchObject({ schema: 'jsii/0.10.0', name: pkg.name, version: pkg.version, license: pkg.license });
    expect(Object.keys(assembly.targets as object).sort()).toEqual(['dotnet', 'go', 'java', 'js', 'python']);
  });

  test('ships the repository, homepage, author and stability package.json gives, in the jsii assembly the other languages are built from', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as PackageMetadata;
    const assembly = JSON.parse(readFileSync(join(appDir, 'node_modules', PACKAGE, '.jsii'), 'utf8')) as Record<string, unknown>;
    expect(assembly).toMatchObject({
      repository: { type: 'git', url: pkg.repository.url },
      homepage: pkg.homepage,
      author: { name: pkg.author.name, organization: pkg.author.organization },
      docs: { stability: pkg.stability },
    });
  });

  test("synthesizes the README's Usage example in a fresh app", () => {
    const resources = Object.values(template.Resources);
    const ofType = (type: string) => resources.filter((r) => r.Type === type);
    // One custom resource per instance the example defines (it manages an existing product and one the stack provisions).
    const instances = readmeUsageExample().match(/new ProvisionedProductProperties\(/g) ?? [];
    expect(instances.length).toBeGreaterThan(0);
    expect(ofType('Custom::ProvisionedProductProperties')).toHaveLength(instances.length);
    const handlers = ofType('AWS::Lambda::Function')
      .map((r) => r.Properties?.Handler)
      .sort();
    expect(handlers).toEqual(expect.arrayContaining(['index.isComplete', 'index.onEvent']));
    expect(ofType('AWS::StepFunctions::StateMachine')).toHaveLength(1);
  });

  test('ships the handler bundle as the Lambda asset, with no build step at the user', () => {
    const assets = readdirSync(join(appDir, 'cdk.out')).filter((d) => d.startsWith('asset.'));
    const bundled = readFileSync(join(ROOT, 'assets', 'handler', 'index.js'), 'utf8');
    const shipped = assets.filter((d) => existsSync(join(appDir, 'cdk.out', d, 'index.js')));
    expect(shipped.some((d) => readFileSync(join(appDir, 'cdk.out', d, 'index.js'), 'utf8') === bundled)).toBe(true);
  });
});

/** The metadata fields of package.json that a registry page shows. */
interface PackageMetadata {
  readonly repository: { readonly type: string; readonly url: string };
  readonly homepage: string;
  readonly bugs: { readonly url: string };
  readonly author: { readonly name: string; readonly url?: string; readonly email?: string; readonly organization?: boolean };
  readonly stability: string;
}

describe('package metadata', () => {
  const text = readFileSync(join(ROOT, 'package.json'), 'utf8');
  const pkg = JSON.parse(text) as PackageMetadata;

  test('has the repository, homepage, bugs, author and jsii stability every registry page shows', () => {
    expect(pkg.repository.type).toBe('git');
    expect(pkg.repository.url).toMatch(/^https:\/\/\S+\.git$/);
    expect(pkg.homepage).toMatch(/^https:\/\/\S+$/);
    expect(pkg.bugs.url).toMatch(/^https:\/\/\S+$/);
    expect(pkg.author.name).toMatch(/\S/);
    expect(pkg.author.url ?? pkg.author.email).toBeDefined();
    expect(['experimental', 'stable', 'deprecated']).toContain(pkg.stability);
  });

  test('builds against the bottom of its peer range: each peer devDependency is the peer minimum (the jsii rule)', () => {
    const { peerDependencies, devDependencies } = JSON.parse(text) as {
      peerDependencies: Record<string, string>;
      devDependencies: Record<string, string>;
    };
    for (const peer of ['aws-cdk-lib', 'constructs']) {
      expect([peer, devDependencies[peer]]).toEqual([peer, peerDependencies[peer].replace(/^[\^~]/, '')]);
    }
  });

  test("lists every placeholder left in package.json in CONTRIBUTING.md's release checklist", () => {
    const placeholders = [...new Set(text.match(/\b(OWNER|REPO|AUTHOR)\b/g) ?? [])].sort();
    const contributing = readFileSync(join(ROOT, 'CONTRIBUTING.md'), 'utf8');
    const checklist = contributing.split(/^## Release checklist\s*$/m)[1]?.split(/^## /m)[0];
    expect(checklist).toBeDefined();
    const listed = [...(checklist ?? '').matchAll(/^\| `([A-Z]+)` \|/gm)].map((m) => m[1]);
    for (const placeholder of placeholders) expect([placeholder, listed]).toEqual([placeholder, expect.arrayContaining([placeholder])]);
  });
});
