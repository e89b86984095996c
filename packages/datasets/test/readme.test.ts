import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { makeTempDir, PACKAGE_ROOT } from './helpers';

const tmp = makeTempDir();
afterAll(tmp.cleanup);

it("runs the README's first ts example and prints what it promises", () => {
  const readme = readFileSync(join(PACKAGE_ROOT, 'README.md'), 'utf8');
  const block = /```ts\n([\s\S]*?)```/.exec(readme)?.[1];
  expect(block).toBeDefined();
  const expected = /\/\/ → (.*)/.exec(block!)?.[1];
  const source = block!.replace("'@gla/datasets'", JSON.stringify(join(PACKAGE_ROOT, 'src/index.ts')));
  const file = join(tmp.dir, 'readme-example.mts');
  writeFileSync(file, source);
  const out = execFileSync(process.execPath, ['--conditions=source', '--import', 'tsx', file], { cwd: PACKAGE_ROOT, encoding: 'utf8' });
  expect(out.trim()).toBe(expected);
});
