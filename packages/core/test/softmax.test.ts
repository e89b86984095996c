import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { GlaError, logSoftmax, logSumExp, matrix, softmax } from '../src/index';

const rowArb = (cols: number, magnitude: number) =>
  fc.array(fc.double({ min: -magnitude, max: magnitude, noNaN: true, noDefaultInfinity: true }), { minLength: cols, maxLength: cols });
const matrixArb = (magnitude: number) =>
  fc
    .integer({ min: 1, max: 8 })
    .chain((cols) =>
      fc
        .array(rowArb(cols, magnitude), { minLength: 1, maxLength: 6 })
        .map((rows) => matrix(Float64Array.from(rows.flat()), rows.length, cols)),
    );

describe('softmax family (property-based)', () => {
  it('rows sum to 1, entries in [0, 1], and log-softmax = log(softmax), for logits up to 1e4', () => {
    fc.assert(
      fc.property(matrixArb(1e4), fc.double({ min: 0.05, max: 20, noNaN: true }), (m, T) => {
        const p = softmax(m, { temperature: T });
        const lp = logSoftmax(m, { temperature: T });
        for (let i = 0; i < m.rows; i++) {
          let s = 0;
          for (let j = 0; j < m.cols; j++) {
            const v = p.data[i * m.cols + j]!;
            expect(v).toBeGreaterThanOrEqual(0);
            expect(v).toBeLessThanOrEqual(1);
            s += v;
            const l = lp.data[i * m.cols + j]!;
            expect(l).toBeLessThanOrEqual(1e-12);
            // log-softmax rounding is ~ulp(|z| / T), so compare relative to that scale.
            if (v > 1e-300) expect(Math.abs(Math.exp(l) - v)).toBeLessThanOrEqual(1e-14 * v * (1 + 1e4 / T));
          }
          expect(Math.abs(s - 1)).toBeLessThan(1e-12);
        }
      }),
    );
  });

  it('is invariant to adding a constant to a row; logSumExp shifts by it', () => {
    fc.assert(
      fc.property(matrixArb(100), fc.double({ min: -1e4, max: 1e4, noNaN: true }), (m, c) => {
        const shifted = matrix(
          m.data.map((v) => v + c),
          m.rows,
          m.cols,
        );
        const a = softmax(m).data;
        const b = softmax(shifted).data;
        for (let i = 0; i < a.length; i++) expect(Math.abs(a[i]! - b[i]!)).toBeLessThan(1e-9);
        const la = logSumExp(m);
        const lb = logSumExp(shifted);
        for (let i = 0; i < la.length; i++) expect(Math.abs(lb[i]! - la[i]! - c)).toBeLessThan(1e-9 * Math.max(1, Math.abs(c)));
      }),
    );
  });

  it('is stable at +-1e4 (no NaN/Infinity) and exact on known cases', () => {
    const m = matrix(Float64Array.from([1e4, -1e4, 1e4 - Math.log(3), 0, -1e4, 1e4]), 2, 3);
    const p = softmax(m).data;
    expect(p[0]).toBeCloseTo(0.75, 11);
    expect(p[2]).toBeCloseTo(0.25, 11);
    expect(p[1]).toBe(0);
    expect(p[5]).toBe(1);
    expect(logSumExp(m)[0]).toBeCloseTo(1e4 + Math.log(4 / 3), 9);
    expect(Array.from(logSoftmax(m).data).every((v) => !Number.isNaN(v))).toBe(true);
  });

  it('treats -Infinity as a masked class (probability exactly 0) and rejects all-masked rows', () => {
    fc.assert(
      fc.property(rowArb(6, 50), fc.integer({ min: 0, max: 5 }), (row, masked) => {
        const withMask = Float64Array.from(row);
        withMask[masked] = Number.NEGATIVE_INFINITY;
        const m = matrix(withMask, 1, 6);
        const p = softmax(m).data;
        expect(p[masked]).toBe(0);
        expect(logSoftmax(m).data[masked]).toBe(Number.NEGATIVE_INFINITY);
        const s = Array.from(p).reduce((a, b) => a + b, 0);
        expect(Math.abs(s - 1)).toBeLessThan(1e-12);
        // Same as softmax over the unmasked classes only.
        const rest = Float64Array.from(row.filter((_, j) => j !== masked));
        const q = softmax(matrix(rest, 1, 5)).data;
        const pRest = Array.from(p).filter((_, j) => j !== masked);
        for (let j = 0; j < 5; j++) expect(Math.abs(pRest[j]! - q[j]!)).toBeLessThan(1e-12);
      }),
    );
    const allMasked = matrix(Float64Array.from([0, 1, Number.NEGATIVE_INFINITY, Number.NEGATIVE_INFINITY]), 2, 2);
    for (const f of [softmax, logSoftmax, logSumExp]) {
      expect(() => f(allMasked)).toThrowError(GlaError);
      try {
        f(allMasked);
      } catch (error) {
        expect((error as GlaError).code).toBe('masked-row');
        expect((error as GlaError).message).toContain('row 1');
      }
    }
  });
});
