import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { afterAll, describe, expect, it, vi } from 'vitest';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
const block = /```ts\n([\s\S]*?)```/.exec(readme)?.[1];
const file = new URL(`./readme-example-${process.pid}.tmp.ts`, import.meta.url);

describe('README example', () => {
  afterAll(() => rmSync(file, { force: true }));

  it('runs as written (with @gla/core resolved to the sources) and prints a converged prior', async () => {
    expect(block).toBeDefined();
    expect(block).toContain("from '@gla/core'");
    writeFileSync(file, block!.replace("from '@gla/core'", "from '../src/index'"));
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    try {
      await import(/* @vite-ignore */ file.href);
      expect(log).toHaveBeenCalledTimes(1);
      const [prior, gradientNorm, acc] = log.mock.calls[0] as [Float64Array, number, number];
      expect(prior).toHaveLength(3);
      expect(prior.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
      expect(gradientNorm).toBeLessThanOrEqual(1e-9);
      expect(acc).toBeGreaterThanOrEqual(0);
      expect(acc).toBeLessThanOrEqual(1);
    } finally {
      log.mockRestore();
    }
  });
});
