#!/usr/bin/env node
// Checks the pending release plan (`changeset status`) against the rule in .changeset/README.md:
// while any published package is still at 0.0.0 (never released), the only changeset is
// `initial-release` and every package goes to exactly 0.1.0. Prints the plan; exits 1 otherwise.
//
//   node tooling/release/release-plan.mjs [repo-root]
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { publishedPackageDirs, ROOT } from './manifests.mjs';

const root = resolve(process.argv[2] ?? ROOT);
const FIRST = '0.1.0';
const tmp = mkdtempSync(join(tmpdir(), 'gla-plan-'));
const out = join(tmp, 'status.json');
try {
  execFileSync(process.execPath, [join(ROOT, 'node_modules', '@changesets', 'cli', 'bin.js'), 'status', '--output', out], {
    cwd: root,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const status = JSON.parse(readFileSync(out, 'utf8'));
  const packages = publishedPackageDirs().map((dir) => JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')));
  const problems = [];
  for (const r of status.releases) console.log(`${r.name}: ${r.oldVersion} -> ${r.newVersion} (${r.type})`);
  if (packages.some((p) => p.version === '0.0.0')) {
    const ids = status.changesets.map((c) => c.id);
    if (ids.length !== 1 || ids[0] !== 'initial-release') {
      problems.push(`before the first release the only changeset must be initial-release, found: ${ids.join(', ') || 'none'}`);
    }
    for (const p of packages) {
      const r = status.releases.find((x) => x.name === p.name);
      if (!r || r.newVersion !== FIRST) problems.push(`${p.name}: planned ${r ? r.newVersion : 'no release'}, expected ${FIRST}`);
    }
  }
  for (const p of problems) process.stderr.write(`release plan: ${p}\n`);
  process.exit(problems.length > 0 ? 1 : 0);
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
