import { estimatePrior, GlaError, kernelConformanceCases, resolveKernel } from '@gla/core';
import { describe, expect, it } from 'vitest';
import { wasmKernels, wasmUnavailableReason } from '../src/index';

describe('wasm-simd backend: the core kernel conformance suite', () => {
  it('is available in Node 20+ and registered as the default for every kernel', () => {
    expect(wasmUnavailableReason()).toBeUndefined();
    for (const k of ['expShiftFill', 'massPass', 'selectAbove', 'rowLogSumExp', 'temperatureNll', 'ensembleNll', 'gemmABt'] as const)
      expect(resolveKernel(k).name).toBe('wasm-simd');
  });
  for (const c of kernelConformanceCases()) it(c.name, () => expect(c.run(wasmKernels!)).toBe(true));
});

describe('wasm-simd cache buffers (allocateCache)', () => {
  for (const dtype of ['float32', 'float64'] as const) {
    it(`${dtype}: passes over an E inside wasm memory equal the streamed ones`, () => {
      const rows = 301;
      const cols = 203;
      const z = Float32Array.from({ length: rows * cols }, (_, i) => Math.sin(i * 0.37) * 6);
      const inside = wasmKernels!.allocateCache(dtype, rows, cols)!;
      const outside = dtype === 'float32' ? new Float32Array(rows * cols) : new Float64Array(rows * cols);
      const fill = (E: Float32Array | Float64Array) => {
        const max = new Float64Array(rows);
        const sum = new Float64Array(rows);
        const mass = new Float64Array(cols);
        wasmKernels!.expShiftFill!(z, rows, cols, 0.8, E, max, sum, mass);
        return { max, sum, mass };
      };
      expect(fill(inside)).toEqual(fill(outside));
      expect(Array.from(inside)).toEqual(Array.from(outside));
      const w = Float64Array.from({ length: cols }, (_, k) => Math.exp(-((k * 7) % 5) * 0.3));
      const pass = (E: Float32Array | Float64Array) => {
        const sum = new Float64Array(rows);
        const mass = new Float64Array(cols);
        const sq = new Float64Array(cols);
        wasmKernels!.massPass!(E, rows, cols, w, sum, mass, sq);
        const cut = sum.map((s) => s * 0.004);
        const index = new Int32Array(rows * 4);
        const offsets = new Int32Array(rows + 1);
        const done = wasmKernels!.selectAbove!(E, 0, rows, cols, w, cut, index, offsets);
        return { sum, mass, sq, done, index: Array.from(index.subarray(0, offsets[done])) };
      };
      const a = pass(inside);
      expect(a).toEqual(pass(outside));
      expect(a.index.length).toBeGreaterThan(rows);
    });
  }
  it('releaseCache: the next allocation of a size that fits reuses the memory, and passes over it are unchanged', () => {
    const rows = 97;
    const cols = 51;
    const z = Float32Array.from({ length: rows * cols }, (_, i) => Math.cos(i * 0.11) * 5);
    const fill = (E: Float32Array | Float64Array) => {
      const max = new Float64Array(rows);
      const sum = new Float64Array(rows);
      const mass = new Float64Array(cols);
      expect(wasmKernels!.expShiftFill!(z, rows, cols, 1.3, E, max, sum, mass)).toBe(rows);
      return { E: Array.from(E), sum, mass };
    };
    const first = wasmKernels!.allocateCache('float32', rows, cols)!;
    const want = fill(first);
    wasmKernels!.releaseCache(first);
    const again = wasmKernels!.allocateCache('float32', rows, cols)!;
    expect(again.buffer).toBe(first.buffer);
    expect(fill(again)).toEqual(want);
    wasmKernels!.releaseCache(again);
    // A much larger cache does not fit the released memory: a fresh one.
    const larger = wasmKernels!.allocateCache('float32', rows * 400, cols)!;
    expect(larger.buffer).not.toBe(first.buffer);
    // A buffer that was not released is never handed out twice.
    const other = wasmKernels!.allocateCache('float32', rows * 400, cols)!;
    expect(other.buffer).not.toBe(larger.buffer);
    wasmKernels!.releaseCache(larger);
    wasmKernels!.releaseCache(other);
  });
});

describe('estimatePrior on wasm-simd: the fill is the input validation', () => {
  const rows = 40;
  const cols = 7;
  const labels = Int32Array.from({ length: rows }, (_, i) => i % cols);
  const logits = (dtype: 'float32' | 'float64') => {
    const data = dtype === 'float32' ? new Float32Array(rows * cols) : new Float64Array(rows * cols);
    for (let i = 0; i < data.length; i++) data[i] = Math.sin(i * 0.7) * 3;
    return data;
  };
  const codeOf = (f: () => unknown) => {
    try {
      f();
      return 'none';
    } catch (error) {
      return error instanceof GlaError ? `${error.code}: ${error.message}` : 'other';
    }
  };
  for (const dtype of ['float32', 'float64'] as const) {
    for (const cachePrecision of ['float32', 'float64'] as const) {
      it(`${dtype} logits, ${cachePrecision} cache: NaN, +Infinity and a fully masked row are named`, () => {
        const run = (data: Float32Array | Float64Array) => () =>
          estimatePrior({ data, rows, cols }, labels, { cachePrecision, backend: 'wasm-simd' });
        const nan = logits(dtype);
        nan[17 * cols + 3] = Number.NaN;
        expect(codeOf(run(nan))).toMatch(/^non-finite: logits: entry \(17, 3\) is NaN/);
        const inf = logits(dtype);
        inf[33 * cols + 6] = Number.POSITIVE_INFINITY;
        expect(codeOf(run(inf))).toMatch(/^non-finite: logits: entry \(33, 6\) is Infinity/);
        const masked = logits(dtype);
        masked.fill(Number.NEGATIVE_INFINITY, 25 * cols, 26 * cols);
        // Labels would name the masked labelled class first: label-free prior matching reaches the fill.
        const targetMarginal = new Float64Array(cols).fill(1 / cols);
        expect(
          codeOf(() => estimatePrior({ data: masked, rows, cols }, undefined, { targetMarginal, cachePrecision, backend: 'wasm-simd' })),
        ).toMatch(/^masked-row: logits: row 25 has no finite entry/);
        expect(estimatePrior({ data: logits(dtype), rows, cols }, labels, { cachePrecision, backend: 'wasm-simd' }).backend).toBe(
          'wasm-simd',
        );
      });
    }
  }
});
