#!/usr/bin/env node
// Checks packed tarballs (node check-tarballs.mjs DIR): each holds package.json, LICENSE,
// README.md, CHANGELOG.md and dist/, nothing from src/ or test/, no source maps, no .ts other than
// declarations, no `source` export condition and no workspace: ranges. Prints a size table.
import { execFileSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.argv[2];
const problems = [];
const rows = [];
for (const name of readdirSync(dir)
  .filter((f) => f.endsWith('.tgz'))
  .sort()) {
  const file = join(dir, name);
  const listing = execFileSync('tar', ['-tvzf', file], { encoding: 'utf8' }).trim().split('\n');
  const files = listing.map((l) =>
    l
      .split(/\s+/)
      .slice(5)
      .join(' ')
      .replace(/^package\//, ''),
  );
  const unpacked = listing.reduce((s, l) => s + Number(l.split(/\s+/)[2]), 0);
  for (const need of ['package.json', 'LICENSE', 'README.md', 'CHANGELOG.md'])
    if (!files.includes(need)) problems.push(`${name}: no ${need}`);
  if (!files.some((f) => f.startsWith('dist/'))) problems.push(`${name}: no dist/`);
  for (const f of files) {
    if (/^(src|test|tests|bench|fixtures)\//.test(f) || f.endsWith('.map') || (/\.[cm]?ts$/.test(f) && !/\.d\.[cm]?ts$/.test(f)))
      problems.push(`${name}: ships ${f}`);
  }
  // No duplicated bundles: each error class is defined once per format (entries share chunks).
  for (const ext of ['.js', '.cjs']) {
    const counts = new Map();
    for (const f of files.filter((x) => x.startsWith('dist/') && x.endsWith(ext))) {
      const code = execFileSync('tar', ['-xzOf', file, `package/${f}`], {
        encoding: 'utf8',
        maxBuffer: 1 << 28,
      });
      for (const m of code.matchAll(/(?:class (\w+Error)|(\w+Error) = class) extends Error\b/g))
        counts.set(m[1] ?? m[2], (counts.get(m[1] ?? m[2]) ?? 0) + 1);
    }
    for (const [cls, n] of counts)
      if (n > 1) problems.push(`${name}: ${cls} is defined ${n} times in its ${ext} files (duplicated bundle)`);
  }
  const manifest = execFileSync('tar', ['-xzOf', file, 'package/package.json'], { encoding: 'utf8' });
  if (/"source"\s*:/.test(manifest)) problems.push(`${name}: package.json keeps a "source" condition`);
  if (/workspace:/.test(manifest)) problems.push(`${name}: package.json keeps a workspace: range`);
  rows.push(
    `${name.padEnd(28)} ${String(statSync(file).size).padStart(8)} B packed ${String(unpacked).padStart(9)} B unpacked ${String(files.length).padStart(3)} files`,
  );
}
for (const r of rows) console.log(`consumer: ${r}`);
for (const p of problems) console.error(`check-tarballs: ${p}`);
process.exit(problems.length > 0 ? 1 : 0);
