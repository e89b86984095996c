#!/usr/bin/env node
// The release fields of every published package.json, kept in one place.
//
//   node tooling/release/manifests.mjs          check; exit 1 naming each field that differs
//   node tooling/release/manifests.mjs --write  rewrite the fields below in place
//
// Derived fields: repository (with directory), homepage, bugs, license, engines, files,
// publishConfig.exports (the workspace `exports` without the `source` condition, which points at
// .ts files a consumer cannot load), the prepack guard and the publint/attw lint step.
// Hand-written fields that must be present: description, keywords.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const REPOSITORY = 'https://github.com/gla-toolkit/gla';
export const NODE_ENGINES = '>=20';

/** Folders under packages/ whose package.json is published. */
export function publishedPackageDirs() {
  return readdirSync(join(ROOT, 'packages'), { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(ROOT, 'packages', d.name, 'package.json')))
    .map((d) => join(ROOT, 'packages', d.name))
    .filter((dir) => !JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).private);
}

/** `exports` with every `source` condition removed (recursively). */
export function withoutSource(exportsField) {
  if (typeof exportsField !== 'object' || exportsField === null) return exportsField;
  const out = {};
  for (const [k, v] of Object.entries(exportsField)) if (k !== 'source') out[k] = withoutSource(v);
  return out;
}

const ORDER = [
  'name',
  'version',
  'description',
  'license',
  'repository',
  'homepage',
  'bugs',
  'keywords',
  'type',
  'sideEffects',
  'bin',
  'files',
  'main',
  'module',
  'types',
  'exports',
  'engines',
  'scripts',
  'publishConfig',
  'dependencies',
  'devDependencies',
  'peerDependencies',
  'peerDependenciesMeta',
  'optionalDependencies',
];

function expected(dir, pkg) {
  const folder = `packages/${dir.split(/[\\/]/).pop()}`;
  const want = {
    license: 'Apache-2.0',
    repository: { type: 'git', url: `git+${REPOSITORY}.git`, directory: folder },
    homepage: `${REPOSITORY}/tree/main/${folder}#readme`,
    bugs: { url: `${REPOSITORY}/issues` },
    engines: { node: NODE_ENGINES },
  };
  // dist and CHANGELOG.md always; other entries (e.g. the CLI's python/) are kept; sources never.
  const extra = (pkg.files ?? []).filter((f) => f !== 'dist' && f !== 'CHANGELOG.md' && !/^!?src(\/|$)/.test(f));
  want.files = ['dist', ...extra, 'CHANGELOG.md'];
  const scripts = { ...pkg.scripts, prepack: 'node ../../tooling/release/prepack.mjs' };
  const publishConfig = { ...pkg.publishConfig, access: 'public' };
  if (pkg.exports) publishConfig.exports = withoutSource(pkg.exports);
  return { ...want, scripts, publishConfig };
}

function ordered(pkg) {
  const out = {};
  for (const k of ORDER) if (k in pkg) out[k] = pkg[k];
  for (const k of Object.keys(pkg)) if (!(k in out)) out[k] = pkg[k];
  return out;
}

function main() {
  const write = process.argv.includes('--write');
  const problems = [];
  for (const dir of publishedPackageDirs()) {
    const file = join(dir, 'package.json');
    const pkg = JSON.parse(readFileSync(file, 'utf8'));
    const want = expected(dir, pkg);
    for (const [k, v] of Object.entries(want)) {
      if (JSON.stringify(pkg[k]) !== JSON.stringify(v)) problems.push(`${pkg.name}: "${k}" should be ${JSON.stringify(v)}`);
    }
    if (typeof pkg.description !== 'string' || pkg.description.length < 10) problems.push(`${pkg.name}: needs a description`);
    if (!Array.isArray(pkg.keywords) || pkg.keywords.length === 0) problems.push(`${pkg.name}: needs keywords`);
    if (!existsSync(join(dir, 'README.md'))) problems.push(`${pkg.name}: needs a README.md`);
    if (write) writeFileSync(file, `${JSON.stringify(ordered({ ...pkg, ...want }), null, 2)}\n`);
  }
  if (write) return;
  for (const p of problems) process.stderr.write(`manifests: ${p}\n`);
  if (problems.length > 0) {
    process.stderr.write('manifests: run `node tooling/release/manifests.mjs --write` to fix the derived fields\n');
    process.exit(1);
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) main();
