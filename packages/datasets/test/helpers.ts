import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SHARED_DIR } from '@gla/tooling/shared-data';

const here = dirname(fileURLToPath(import.meta.url));
/** The reference data: ../shared beside the repository, or $GLA_SHARED_DIR. */
export const SHARED = SHARED_DIR;
export const CIFAR10_SAMPLE = join(SHARED, 'data/images/cifar10-sample');
export const FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';
export const FORTUNES_DIR = '/usr/share/games/fortunes';
export const PACKAGE_ROOT = resolve(here, '..');

let numpyChecked: boolean | undefined;
/** True if python3 with numpy is available. */
export function hasNumpy(): boolean {
  if (numpyChecked === undefined) {
    const r = spawnSync('python3', ['-c', 'import numpy'], { stdio: 'ignore' });
    numpyChecked = r.status === 0;
    if (!numpyChecked) console.warn('[datasets tests] python3 with numpy not found: numpy round-trip tests are skipped');
  }
  return numpyChecked;
}

/** Runs a python3 snippet (numpy imported as np) and returns its stdout. */
export function python(code: string, args: string[] = []): string {
  return execFileSync('python3', ['-c', `import numpy as np, sys, json\n${code}`, ...args], { encoding: 'utf8', maxBuffer: 1 << 26 });
}

export function makeTempDir(prefix = 'gla-datasets-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** True if the Debian data package's files are there; warns (once per name) when not. */
const warned = new Set<string>();
export function hasPath(path: string, what: string): boolean {
  const ok = existsSync(path);
  if (!ok && !warned.has(path)) {
    warned.add(path);
    console.warn(`[datasets tests] ${path} missing (${what} not installed): those tests are skipped`);
  }
  return ok;
}
