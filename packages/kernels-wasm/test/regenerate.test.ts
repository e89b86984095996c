import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: plain ESM build script without type declarations
import { compile, moduleSource, VARIANTS } from '../scripts/build-wasm.mjs';

describe('the committed wasm modules', () => {
  for (const [variant, { file }] of Object.entries(VARIANTS as Record<string, { file: string }>)) {
    it(`${file} is what scripts/build-wasm.mjs builds from native/kernels.c (clang-14 + lld-14, see tooling/setup.sh)`, () => {
      const committed = readFileSync(fileURLToPath(new URL(`../src/${file}`, import.meta.url)), 'utf8');
      expect(moduleSource(compile(variant), variant)).toBe(committed);
    });
  }
});
