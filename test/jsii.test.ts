/**
 * The library in every jsii language: lib/ compiles with jsii, every example (README and TSDoc)
 * compiles under jsii-rosetta's strict mode, jsii-pacmak generates Python, Java, C# and Go from the
 * packed package, the Python compiles and has the API with Python's names, a wheel builds from it
 * without any network, and jsii-diff catches a removed API.
 *
 * Everything happens in a copy of the package's sources in a temporary directory (node_modules
 * linked from this project), so the test neither needs nor disturbs this checkout's build, which
 * test/package.test.ts rebuilds meanwhile. Nothing is fetched: no PyPI, Maven, NuGet or Go proxy.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(__dirname, '..');
const PACKAGE = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  name: string;
  version: string;
  jsii: { targets: { python: { module: string; distName: string }; java: { package: string }; dotnet: { namespace: string } } };
};
const TARGETS = ['python', 'java', 'dotnet', 'go'] as const;
/** What the jsii build reads: the package's sources and metadata, not tests, handler or build output. */
const SOURCES = ['lib', 'rosetta', 'README.md', 'LICENSE', 'package.json', 'tsconfig.json', 'tsconfig.build.json'];

/** The jsii tools print a banner about Node 20's end of life on every run; it is known (CONTRIBUTING.md, Development). */
const env = { ...process.env, JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION: process.versions.node.split('.')[0] };

/** Runs a command, returning its stdout; a failure throws with everything it printed. */
function run(command: string, args: string[], cwd: string): string {
  try {
    return execFileSync(command, args, { cwd, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 * 1024 * 1024 });
  } catch (e) {
    const { stdout, stderr } = e as { stdout?: string; stderr?: string };
    throw new Error(`${command} ${args.join(' ')} failed in ${cwd}:\n${stdout ?? ''}\n${stderr ?? ''}`, { cause: e });
  }
}

/** Runs one of this project's jsii tools (node_modules/<pkg>/bin/<pkg>). */
function tool(name: string, args: string[], cwd: string): string {
  return run(process.execPath, [join(ROOT, 'node_modules', name, 'bin', name), ...args], cwd);
}

/** Runs npm; under `npm test` the npm that runs the tests. */
function npm(args: string[], cwd: string): string {
  const npmCli = process.env.npm_execpath;
  return npmCli?.endsWith('.js') ? run(process.execPath, [npmCli, ...args], cwd) : run('npm', args, cwd);
}

/** A Python interpreter that answers `import <modules>`, or undefined. */
function pythonWith(modules: string[]): string | undefined {
  for (const candidate of ['python3', '/usr/bin/python3']) {
    try {
      execFileSync(candidate, ['-c', `import ${['sys', ...modules].join(', ')}`], { stdio: 'ignore' });
      return candidate;
    } catch {
      // not there, or without the modules: try the next
    }
  }
  return undefined;
}

const python = pythonWith([]);
// Debian's python3-setuptools and python3-wheel: building the wheel needs both (setup.py bdist_wheel).
const wheelPython = pythonWith(['setuptools', 'wheel']);
const pythonTest = python ? test : test.skip;
const wheelTest = wheelPython ? test : test.skip;
const NO_PYTHON = python ? '' : ' [skipped: no python3 on PATH]';
const NO_WHEEL = wheelPython ? '' : ' [skipped: no python3 with setuptools and wheel; apt-get install python3-setuptools python3-wheel]';

/** Every file under `dir`, relative to it. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name).slice(dir.length + 1))
    .sort();
}

/** The first ```python block under the README.md heading `## <heading>`. */
function readmePythonExample(heading = 'Usage'): string {
  const section = readFileSync(join(ROOT, 'README.md'), 'utf8').split(new RegExp(`^## ${heading}\\s*$`, 'm'))[1];
  const block = section && /^```python\n([\s\S]*?)^```/m.exec(section);
  if (!block) throw new Error(`README.md has no \`\`\`python block under '## ${heading}'`);
  return block[1];
}

interface PythonClass {
  readonly initParameters: string[];
  readonly initKeywordParameters: string[];
  readonly members: string[];
  readonly enumMembers: string[];
}
interface PythonApi {
  readonly module: Record<string, PythonClass>;
  readonly snippet: {
    readonly constructKeywords: string[];
    readonly ownerMembers: string[];
    readonly acceptLanguageMembers: string[];
    readonly constructAttributes: string[];
  };
}

describe('the jsii build and the generated bindings', () => {
  let work: string;
  let project: string;
  let packageDir: string;
  let out: string;
  let tablet: { snippets: Record<string, { didCompile?: boolean; translations: Record<string, { source: string }> }> };

  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'ppp-jsii-'));
    project = join(work, 'project');
    mkdirSync(project);
    for (const source of SOURCES) cpSync(join(ROOT, source), join(project, source), { recursive: true });
    symlinkSync(join(ROOT, 'node_modules'), join(project, 'node_modules'), 'junction');

    tool('jsii', [], project);
    tool('jsii-rosetta', ['extract', '--strict', '.jsii'], project);
    tablet = JSON.parse(readFileSync(join(project, '.jsii.tabl.json'), 'utf8')) as typeof tablet;

    // pacmak embeds the npm tarball in every language's package. It packs a package directory by
    // copying it, node_modules followed, so it gets the unpacked tarball (whose dependencies
    // resolve through the node_modules beside it), not the project.
    const packed = JSON.parse(npm(['pack', '--json', '--ignore-scripts', '--pack-destination', work], project)) as Array<{
      filename: string;
    }>;
    const installed = join(work, 'installed');
    packageDir = join(installed, 'package');
    mkdirSync(packageDir, { recursive: true });
    execFileSync('tar', ['-xzf', join(work, packed[0].filename), '-C', packageDir, '--strip-components=1']);
    mkdirSync(join(installed, 'node_modules'));
    for (const peer of ['aws-cdk-lib', 'constructs']) {
      symlinkSync(join(ROOT, 'node_modules', peer), join(installed, 'node_modules', peer), 'junction');
    }

    out = join(work, 'out');
    tool(
      'jsii-pacmak',
      [
        '--code-only',
        '--no-npmignore',
        '--no-fingerprint',
        '--pack-command',
        'npm pack --ignore-scripts',
        '--rosetta-tablet',
        join(project, '.jsii.tabl.json'),
        '--rosetta-unknown-snippets',
        'fail',
        '--outdir',
        out,
        '--targets',
        ...TARGETS,
      ],
      packageDir,
    );
  }, 420_000);

  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  test('jsii compiles lib/ into an assembly named, versioned and licensed as package.json says', () => {
    const assembly = JSON.parse(readFileSync(join(project, '.jsii'), 'utf8')) as Record<string, unknown>;
    expect(assembly).toMatchObject({ name: PACKAGE.name, version: PACKAGE.version, license: 'Apache-2.0' });
    expect(Object.keys(assembly.types as object).sort()).toEqual(
      [
        'AcceptLanguage',
        'DriftCheck',
        'DriftCheckOptions',
        'Owner',
        'ProvisionedProductProperties',
        'ProvisionedProductPropertiesProps',
        'SharedProviderProps',
      ].map((t) => `${PACKAGE.name}.${t}`),
    );
  });

  test('every example, in the README and in the TSDoc, compiles under rosetta strict and is translated to every language', () => {
    const snippets = Object.values(tablet.snippets);
    // The README's Usage example, its regulated-options, dead-letter alarm and drift alarm examples, and the construct's @example.
    expect(snippets).toHaveLength(5);
    for (const snippet of snippets) {
      expect(snippet.didCompile).toBe(true);
      expect(Object.keys(snippet.translations).sort()).toEqual(expect.arrayContaining(['csharp', 'go', 'java', 'python']));
    }
  });

  test('jsii-pacmak generates code for Python, Java, C# and Go', () => {
    const main: Record<(typeof TARGETS)[number], string> = {
      python: join('python', 'src', PACKAGE.jsii.targets.python.module, '__init__.py'),
      java: join('java', 'src', 'main', 'java', ...PACKAGE.jsii.targets.java.package.split('.'), 'ProvisionedProductProperties.java'),
      dotnet: join(
        'dotnet',
        PACKAGE.jsii.targets.dotnet.namespace,
        PACKAGE.jsii.targets.dotnet.namespace,
        'ProvisionedProductProperties.cs',
      ),
      go: join('go', 'cdkprovisionedproductproperties', 'ProvisionedProductProperties.go'),
    };
    for (const target of TARGETS) expect(existsSync(join(out, main[target]))).toBe(true);
    // The construct's @example, translated (not the TypeScript) in each language's docs.
    expect(readFileSync(join(out, main.python), 'utf8')).toContain('owner=Owner.from_role(platform_admin_role)');
    expect(readFileSync(join(out, main.java), 'utf8')).toContain('ProvisionedProductProperties.Builder.create(this, "PlatformOwnership")');
    expect(readFileSync(join(out, main.dotnet), 'utf8')).toContain('ProvisionedProductId = "pp-abcd1234efgh5"');
    expect(readFileSync(join(out, main.go), 'utf8')).toContain('ProvisionedProductId: jsii.String("pp-abcd1234efgh5")');
    // The README's Usage example, translated, in the Python package's README.
    expect(readFileSync(join(out, 'python', 'README.md'), 'utf8')).toContain('provisioned_product_id="pp-abcd1234efgh5"');
  });

  pythonTest(`the generated Python compiles and has the construct, Owner and AcceptLanguage with Python's names${NO_PYTHON}`, () => {
    const pythonDir = join(out, 'python');
    const sources = filesUnder(pythonDir).filter((f) => f.endsWith('.py'));
    expect(sources).toEqual(expect.arrayContaining([join('src', PACKAGE.jsii.targets.python.module, '__init__.py')]));
    run(python!, ['-m', 'py_compile', ...sources], pythonDir);

    const init = readFileSync(join(pythonDir, 'src', PACKAGE.jsii.targets.python.module, '__init__.py'), 'utf8');
    expect(init).toMatch(/^class ProvisionedProductProperties\(/m);
    const snippet = join(work, 'readme_usage.py');
    writeFileSync(snippet, readmePythonExample());
    const api = JSON.parse(
      run(
        python!,
        [
          join(ROOT, 'test', 'support', 'python_api.py'),
          join(pythonDir, 'src', PACKAGE.jsii.targets.python.module, '__init__.py'),
          snippet,
        ],
        work,
      ),
    ) as PythonApi;
    const { ProvisionedProductProperties: construct, Owner: owner, AcceptLanguage: language } = api.module;
    expect(construct.initParameters).toEqual(['scope', 'id']);
    expect(construct.initKeywordParameters.sort()).toEqual(
      [
        'accept_language',
        'drift_check',
        'launch_role',
        'ledger_encryption_key',
        'log_encryption_key',
        'owner',
        'provisioned_product_id',
        'query_interval',
        'reserved_concurrency',
        'restore_on_delete',
        'security_groups',
        'total_timeout',
        'tracing',
        'vpc',
        'vpc_subnets',
      ].sort(),
    );
    expect(construct.members).toEqual(
      expect.arrayContaining([
        'previous_launch_role_arn',
        'previous_owner_arn',
        'record_id',
        'changed_by_hand',
        'metric_drift',
        'dead_letter_queue',
        'metric_dead_letter_events',
      ]),
    );
    expect(owner.members).toEqual(expect.arrayContaining(['arn', 'from_arn', 'from_role', 'from_user']));
    expect(language.enumMembers).toEqual(['ENGLISH', 'JAPANESE', 'CHINESE']);

    // The README's Python example uses only what the bindings define.
    expect(api.snippet.constructKeywords.length).toBeGreaterThan(0);
    expect(construct.initKeywordParameters).toEqual(expect.arrayContaining(api.snippet.constructKeywords));
    expect(owner.members).toEqual(expect.arrayContaining(api.snippet.ownerMembers));
    expect(language.enumMembers).toEqual(expect.arrayContaining(api.snippet.acceptLanguageMembers));
    expect(construct.members).toEqual(expect.arrayContaining(api.snippet.constructAttributes));

    // So does its drift example: DriftCheck's factories, the driftCheck keyword, metricDrift.
    const driftSnippet = join(work, 'readme_drift.py');
    writeFileSync(driftSnippet, readmePythonExample('Drift: changes made by hand'));
    const drift = JSON.parse(
      run(
        python!,
        [
          join(ROOT, 'test', 'support', 'python_api.py'),
          join(pythonDir, 'src', PACKAGE.jsii.targets.python.module, '__init__.py'),
          driftSnippet,
        ],
        work,
      ),
    ) as PythonApi;
    expect(drift.module.DriftCheck.members).toEqual(expect.arrayContaining(['daily', 'every']));
    expect(drift.snippet.constructKeywords).toEqual(expect.arrayContaining(['drift_check']));
    expect(construct.initKeywordParameters).toEqual(expect.arrayContaining(drift.snippet.constructKeywords));
    expect(construct.members).toEqual(expect.arrayContaining(drift.snippet.constructAttributes));
  });

  wheelTest(`a wheel builds from the generated Python without any network${NO_WHEEL}`, () => {
    const pythonDir = join(out, 'python');
    const dist = join(work, 'wheel');
    // setup.py directly: `pip wheel` or `python -m build` would fetch the build requirements of
    // pyproject.toml from PyPI; Debian's setuptools and wheel are what is installed.
    run(wheelPython!, ['setup.py', '--quiet', 'bdist_wheel', '--dist-dir', dist], pythonDir);
    const wheels = readdirSync(dist);
    // Wheel file names spell the distribution name with underscores.
    const distName = PACKAGE.jsii.targets.python.distName.replace(/-/g, '_');
    expect(wheels).toEqual([`${distName}-${PACKAGE.version}-py3-none-any.whl`]);
    const listing = run(wheelPython!, ['-m', 'zipfile', '--list', join(dist, wheels[0])], work);
    const module = PACKAGE.jsii.targets.python.module;
    expect(listing).toContain(`${module}/__init__.py`);
    // The npm package, which the jsii runtime loads into Node.js, is inside the wheel.
    expect(listing).toContain(`${module}/_jsii/${PACKAGE.name}@${PACKAGE.version}.jsii.tgz`);
  });

  test('jsii-diff (npm run compat) passes against the same API and fails on a removed method, naming it', () => {
    const compat = (earlier: string) => {
      try {
        run(process.execPath, [join(ROOT, 'scripts', 'compat.mjs'), earlier], project);
        return { ok: true, output: '' };
      } catch (e) {
        return { ok: false, output: (e as Error).message };
      }
    };
    // An "earlier release" beside the packed package, so that its dependencies resolve the same way.
    const earlier = join(work, 'installed', 'earlier');
    cpSync(packageDir, earlier, { recursive: true });
    expect(compat(earlier)).toEqual({ ok: true, output: '' });

    const assemblyFile = join(earlier, '.jsii');
    const assembly = JSON.parse(readFileSync(assemblyFile, 'utf8')) as {
      types: Record<string, { methods: Array<{ name: string }> }>;
    };
    const owner = assembly.types[`${PACKAGE.name}.Owner`];
    owner.methods.push({ ...owner.methods[0], name: 'fromGroup' });
    writeFileSync(assemblyFile, JSON.stringify(assembly));
    const result = compat(earlier);
    expect(result.ok).toBe(false);
    expect(result.output).toContain(`${PACKAGE.name}.Owner.fromGroup: has been removed`);
  });
});
