import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const packageDir = fileURLToPath(new URL('..', import.meta.url));

it("runs the README's example as written", () => {
  const readme = readFileSync(`${packageDir}README.md`, 'utf8');
  const block = /```ts\n([\s\S]*?)```/.exec(readme)?.[1];
  expect(block).toContain("from '@gla/onnx-builder'");
  const file = `${packageDir}test/readme-example-${process.pid}.tmp.mts`;
  writeFileSync(file, block!.replace("'@gla/onnx-builder'", "'../src/index.ts'"));
  try {
    const out = execFileSync(process.execPath, ['--import', 'tsx', file], { cwd: packageDir, encoding: 'utf8' });
    expect(out.trim()).toBe('Mul → Softmax');
  } finally {
    rmSync(file, { force: true });
  }
});
