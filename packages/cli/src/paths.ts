import { existsSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The folder the user ran the command from. `pnpm gla` runs the CLI with its cwd set to
 * packages/cli; pnpm keeps the user's folder in INIT_CWD, which we prefer when present.
 */
export function userCwd(): string {
  const init = process.env.INIT_CWD;
  return init && isAbsolute(init) ? init : process.cwd();
}

/** Resolves a user-given path against {@link userCwd}. */
export function userPath(path: string): string {
  return isAbsolute(path) ? path : resolve(userCwd(), path);
}

/** This package's folder (packages/cli), from the module's own location (src/ or dist/). */
export function benchRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'python'))) return dir;
    dir = dirname(dir);
  }
  return resolve(dirname(fileURLToPath(import.meta.url)), '..');
}

/** The monorepo root (the folder holding pnpm-workspace.yaml), or the user's cwd if not found. */
export function repoRoot(): string {
  let dir = benchRoot();
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'pnpm-workspace.yaml'))) return dir;
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return userCwd();
}

/** Default output folder: results/ at the repo root (gitignored). */
export function defaultOutDir(): string {
  return join(repoRoot(), 'results');
}

/**
 * Makes a relative `$GLA_CACHE_DIR` absolute against the folder the user ran from
 * ({@link userCwd}, INIT_CWD under `pnpm gla`), so every library that reads the variable
 * (e.g. @gla/tfjs-to-onnx, which resolves it against the process cwd, packages/cli under pnpm)
 * sees the folder the user meant. Called once by the CLI before any command runs.
 */
export function resolveUserEnvironment(): void {
  const dir = process.env.GLA_CACHE_DIR;
  if (dir && !isAbsolute(dir)) process.env.GLA_CACHE_DIR = userPath(dir);
}
