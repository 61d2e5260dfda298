// Generates API.md, the API reference, from the jsii assembly (.jsii, built by `npm run build`) with
// jsii-docgen, the generator Construct Hub itself uses: what it documents is the API every language
// sees. jsii-docgen writes to a temporary directory and only the result is copied out.
//
//   node scripts/docs.mjs                     # regenerate API.md (TypeScript)
//   node scripts/docs.mjs --check             # fail when API.md is not what the assembly generates
//   node scripts/docs.mjs --language python   # write API.python.md, the same reference for Python (not committed)
//
// `npm run docs` and `npm run docs:python` rebuild the assembly first; `npm run docs:check` runs in
// `npm test` right after the build. Every type, member, parameter and enum member of the public API
// must have a summary, in every mode.
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const check = process.argv.includes('--check');
const languageIndex = process.argv.indexOf('--language');
const language = languageIndex === -1 ? 'typescript' : process.argv[languageIndex + 1];
const committed = join(root, language === 'typescript' ? 'API.md' : `API.${language}.md`);

/** The public API's elements that have no summary, as `Type.member(parameter)` paths. */
function undocumented(assembly) {
  const missing = [];
  const need = (element, path) => {
    if (!element.docs?.summary) missing.push(path);
  };
  for (const type of Object.values(assembly.types ?? {})) {
    need(type, type.name);
    for (const member of type.members ?? []) need(member, `${type.name}.${member.name}`);
    for (const property of type.properties ?? []) need(property, `${type.name}.${property.name}`);
    const callables = [...(type.initializer ? [{ ...type.initializer, name: 'constructor' }] : []), ...(type.methods ?? [])];
    for (const callable of callables) {
      if (callable.name !== 'constructor') need(callable, `${type.name}.${callable.name}`);
      for (const parameter of callable.parameters ?? []) need(parameter, `${type.name}.${callable.name}(${parameter.name})`);
    }
  }
  return missing;
}

const out = mkdtempSync(join(tmpdir(), 'api-md-'));
try {
  if (!existsSync(join(root, '.jsii'))) {
    throw new Error('There is no jsii assembly (.jsii) to document: run `npm run build` first.');
  }
  const missing = undocumented(JSON.parse(readFileSync(join(root, '.jsii'), 'utf8')));
  if (missing.length > 0) {
    throw new Error(`Document every part of the public API in the TSDoc of lib/; these have no summary: ${missing.join(', ')}`);
  }
  const docgen = join(root, 'node_modules', 'jsii-docgen', 'bin', 'jsii-docgen');
  const generated = join(out, 'API.md');
  try {
    execFileSync(process.execPath, [docgen, '--language', language, '--output', generated], { cwd: root, stdio: 'inherit' });
  } catch {
    throw new Error(`jsii-docgen failed (see its messages above) for --language ${language}.`);
  }
  if (!check) {
    copyFileSync(generated, committed);
    console.log(`wrote ${committed}`);
  } else if (!existsSync(committed) || readFileSync(committed, 'utf8') !== readFileSync(generated, 'utf8')) {
    console.error('API.md is out of date with the TSDoc in lib/: run `npm run docs` and commit the result.');
    process.exitCode = 1;
  } else {
    console.log('API.md is current');
  }
} catch (e) {
  console.error(e instanceof Error ? e.message : e);
  process.exitCode = 1;
} finally {
  rmSync(out, { recursive: true, force: true });
}
