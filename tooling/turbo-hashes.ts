/**
 * Checks that turbo's cache keys follow the package graph: after a change to one package's
 * sources, the `typecheck` hash of that package and of every package that depends on it
 * (directly or not, through dependencies or devDependencies) must change, and no other.
 *
 * Nothing in the repository is edited: the tracked (and untracked, not ignored) files are copied
 * to a temporary folder, one source file per package is changed there, and `turbo run <task>
 * --dry=json` is compared before and after.
 *
 *   node --import tsx tooling/turbo-hashes.ts [task]     (exit code 1 when a hash is stale)
 */
import { execFileSync } from 'node:child_process';
import { appendFileSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repositoryRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');

interface DryTask {
  taskId: string;
  package: string;
  task: string;
  hash: string;
  directory: string;
  inputs: Record<string, string>;
}

/** What changed after editing one package's source file. */
export interface PackageHashCheck {
  /** The package whose file was edited. */
  readonly edited: string;
  /** The file edited (relative to the repository root). */
  readonly file: string;
  /** Packages expected to get a new hash: the edited one and all its dependents, sorted. */
  readonly expected: readonly string[];
  /** Packages whose task hash changed, sorted. */
  readonly changed: readonly string[];
  /** Expected to change but did not: a stale result would be replayed from the cache. */
  readonly stale: readonly string[];
  /** Changed without depending on the edited package (a cache key wider than the graph). */
  readonly spurious: readonly string[];
}

export interface TurboHashOptions {
  /** The task whose hashes are compared (default `'typecheck'`). */
  readonly task?: string;
  /** Repository to check (default: this one). */
  readonly root?: string;
  /** Rewrites the copied turbo.json before the runs (used to prove the check can fail). */
  readonly editTurboJson?: (config: { tasks: Record<string, { dependsOn?: string[] }> }) => void;
  /** Only edit these packages (default: every workspace package with a task hash). */
  readonly packages?: readonly string[];
}

function listFiles(root: string): string[] {
  const out = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '-z'], { cwd: root, encoding: 'utf8' });
  return out.split('\0').filter((f) => f !== '');
}

function dryRun(turbo: string, cwd: string, task: string): DryTask[] {
  const json = execFileSync(turbo, ['run', task, '--dry=json'], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, TURBO_TELEMETRY_DISABLED: '1', DO_NOT_TRACK: '1' },
    maxBuffer: 64 * 1024 * 1024,
  });
  return (JSON.parse(json) as { tasks: DryTask[] }).tasks;
}

/** Declared workspace dependencies (all kinds) of every package, keyed by package name. */
function workspaceGraph(root: string, directories: Map<string, string>): Map<string, Set<string>> {
  const graph = new Map<string, Set<string>>();
  for (const [name, dir] of directories) {
    const manifest = JSON.parse(readFileSync(join(root, dir, 'package.json'), 'utf8')) as Record<
      string,
      Record<string, string> | undefined
    >;
    const deps = new Set<string>();
    for (const field of ['dependencies', 'devDependencies', 'optionalDependencies', 'peerDependencies']) {
      for (const dep of Object.keys(manifest[field] ?? {})) if (directories.has(dep)) deps.add(dep);
    }
    graph.set(name, deps);
  }
  return graph;
}

function dependentsOf(graph: Map<string, Set<string>>, start: string): Set<string> {
  const reached = new Set([start]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const [name, deps] of graph) {
      if (reached.has(name)) continue;
      for (const dep of deps) {
        if (reached.has(dep)) {
          reached.add(name);
          grew = true;
          break;
        }
      }
    }
  }
  return reached;
}

/**
 * Runs the check for every package (or `options.packages`) and returns one record per edited
 * package. A record with a non-empty `stale` list is a failure.
 */
export function checkTurboHashes(options: TurboHashOptions = {}): PackageHashCheck[] {
  const root = options.root ?? repositoryRoot;
  const task = options.task ?? 'typecheck';
  const turbo = join(root, 'node_modules', '.bin', 'turbo');
  const copy = mkdtempSync(join(tmpdir(), 'gla-turbo-hashes-'));
  try {
    for (const file of listFiles(root)) {
      mkdirSync(dirname(join(copy, file)), { recursive: true });
      copyFileSync(join(root, file), join(copy, file));
    }
    // So that turbo finds the repository's own turbo (hashes do not read node_modules).
    symlinkSync(join(root, 'node_modules'), join(copy, 'node_modules'));
    if (options.editTurboJson) {
      const config = JSON.parse(readFileSync(join(copy, 'turbo.json'), 'utf8'));
      options.editTurboJson(config);
      writeFileSync(join(copy, 'turbo.json'), JSON.stringify(config, null, 2));
    }
    const before = dryRun(turbo, copy, task).filter((t) => t.task === task);
    const directories = new Map(before.map((t) => [t.package, t.directory]));
    const graph = workspaceGraph(copy, directories);
    const results: PackageHashCheck[] = [];
    for (const edited of options.packages ?? [...directories.keys()].sort()) {
      const own = before.find((t) => t.package === edited);
      if (own === undefined) throw new Error(`turbo-hashes: no '${task}' task in package ${edited}`);
      // A file every dependent reads: a TypeScript source among the package's own task inputs
      // that is not a test (dependents never see tests).
      const file = Object.keys(own.inputs)
        .filter((f) => f.endsWith('.ts') && !/(^|\/)(test|bench)\//.test(f) && !f.endsWith('.test.ts') && !f.startsWith('../'))
        .sort((a, b) => Number(b.endsWith('index.ts')) - Number(a.endsWith('index.ts')) || a.localeCompare(b))[0];
      if (file === undefined) throw new Error(`turbo-hashes: ${edited} has no TypeScript source among its '${task}' inputs`);
      const path = join(copy, own.directory, file);
      const original = readFileSync(path);
      appendFileSync(path, `\n// turbo-hashes probe ${Date.now()}\n`);
      let after: DryTask[];
      try {
        after = dryRun(turbo, copy, task).filter((t) => t.task === task);
      } finally {
        writeFileSync(path, original);
      }
      const changed = after.filter((t) => before.find((b) => b.taskId === t.taskId)?.hash !== t.hash).map((t) => t.package);
      const expected = [...dependentsOf(graph, edited)].filter((p) => directories.has(p));
      results.push({
        edited,
        file: join(own.directory, file),
        expected: expected.sort(),
        changed: changed.sort(),
        stale: expected.filter((p) => !changed.includes(p)).sort(),
        spurious: changed.filter((p) => !expected.includes(p)).sort(),
      });
    }
    return results;
  } finally {
    rmSync(copy, { recursive: true, force: true });
  }
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const results = checkTurboHashes({ task: process.argv[2] ?? 'typecheck' });
  let failed = false;
  for (const r of results) {
    const verdict = r.stale.length === 0 ? 'ok' : 'STALE';
    failed ||= r.stale.length > 0;
    console.log(`${verdict.padEnd(5)} edit ${r.file}: ${r.changed.length}/${r.expected.length} dependents re-hashed`);
    if (r.stale.length > 0) console.log(`      stale: ${r.stale.join(', ')}`);
    if (r.spurious.length > 0) console.log(`      re-hashed without depending on it: ${r.spurious.join(', ')}`);
  }
  process.exitCode = failed ? 1 : 0;
}
