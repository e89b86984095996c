import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const packageDir = fileURLToPath(new URL('..', import.meta.url));
const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');

it("runs the root README's @gla/core example as written and it removes the bias", () => {
  const block = /```ts\n([\s\S]*?)```/.exec(readme)?.[1];
  expect(block).toContain("from '@gla/core'");
  expect(block!.trim().split('\n').length).toBeLessThanOrEqual(10);
  // Written inside this package so that '@gla/core' resolves by name (package self-reference through
  // `exports`, source condition) as it does for a user.
  const file = `${packageDir}readme-example-${process.pid}.tmp.mts`;
  writeFileSync(file, block!);
  try {
    const out = execFileSync(process.execPath, ['--conditions=source', '--import', 'tsx', file], {
      cwd: packageDir,
      encoding: 'utf8',
    });
    const q = /q = \[ '([\d.]+)', '([\d.]+)' \] ‖g‖∞ = ([\d.e-]+)/.exec(out);
    expect(q, out).not.toBeNull();
    expect(Number(q![1]) + Number(q![2])).toBeCloseTo(1, 2);
    expect(Number(q![1])).toBeGreaterThan(Number(q![2])); // the model's bias toward class 0
    expect(Number(q![3])).toBeLessThanOrEqual(1e-9);
    expect(out).toContain('predictions before: [ 0, 0, 0, 0 ] after: [ 0, 0, 1, 1 ]');
  } finally {
    rmSync(file, { force: true });
  }
});
