#!/usr/bin/env node
// `prepack` of every published package (cwd = the package folder): refuses to pack a package
// whose build is missing or older than its sources, or that lacks its README or CHANGELOG, so an
// unbuilt or unversioned tarball cannot be published. It never builds: `pnpm build` (turbo) does.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

const cwd = process.cwd();
const pkg = JSON.parse(readFileSync(join(cwd, 'package.json'), 'utf8'));
const problems = [];

/** Every file path named by an exports map (any depth), main/module/types and bin. */
function targets() {
  const out = new Set();
  const walk = (v) => {
    if (typeof v === 'string') out.add(v);
    else if (v && typeof v === 'object') for (const x of Object.values(v)) walk(x);
  };
  walk(pkg.publishConfig?.exports ?? pkg.exports);
  for (const k of ['main', 'module', 'types']) if (pkg[k]) out.add(pkg[k]);
  walk(pkg.bin);
  return [...out].filter((p) => p !== './package.json');
}

function newest(dir) {
  let best = { time: 0, file: '' };
  if (!existsSync(dir)) return best;
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!e.isFile()) continue;
    const file = join(e.parentPath ?? e.path, e.name);
    const time = statSync(file).mtimeMs;
    if (time > best.time) best = { time, file };
  }
  return best;
}

const built = targets();
let oldestBuilt = Number.POSITIVE_INFINITY;
for (const t of built) {
  const file = join(cwd, t);
  if (!existsSync(file)) problems.push(`${t} is missing: run \`pnpm build\` at the repository root first`);
  else oldestBuilt = Math.min(oldestBuilt, statSync(file).mtimeMs);
}
const src = newest(join(cwd, 'src'));
if (problems.length === 0 && src.time > oldestBuilt) {
  problems.push(`dist/ is older than ${src.file.slice(cwd.length + 1)}: run \`pnpm build\` at the repository root first`);
}
for (const f of ['README.md', 'CHANGELOG.md']) {
  if (!existsSync(join(cwd, f))) {
    problems.push(
      f === 'CHANGELOG.md' ? 'CHANGELOG.md is missing: run `pnpm version-packages` (changeset version) first' : `${f} is missing`,
    );
  }
}
if (problems.length > 0) {
  for (const p of problems) process.stderr.write(`prepack ${pkg.name}: refusing to pack: ${p}\n`);
  process.exit(1);
}
