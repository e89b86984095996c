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

/** Default feature-cache folder: ~/.cache/gla unless GLA_CACHE_DIR is set. */
export function defaultCacheDir(): string {
  if (process.env.GLA_CACHE_DIR) return userPath(process.env.GLA_CACHE_DIR);
  const xdg = process.env.XDG_CACHE_HOME;
  const home = process.env.HOME ?? '/tmp';
  return join(xdg && isAbsolute(xdg) ? xdg : join(home, '.cache'), 'gla');
}
