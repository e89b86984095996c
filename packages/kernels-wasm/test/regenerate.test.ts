import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: plain ESM build script without type declarations
import { compile, moduleSource } from '../scripts/build-wasm.mjs';

describe('the committed wasm module', () => {
  it('is what scripts/build-wasm.mjs builds from native/kernels.c (clang-14 + lld-14, see tooling/setup.sh)', () => {
    const committed = readFileSync(fileURLToPath(new URL('../src/kernels.wasm.ts', import.meta.url)), 'utf8');
    expect(moduleSource(compile())).toBe(committed);
  });
});
