import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  accuracy,
  applyHead,
  calibrateTemperature,
  debias,
  estimatePrior,
  estimatePriorChunked,
  estimatePriorEigen,
  estimatePriorEM,
  GlaError,
  type GlaErrorCode,
  glaLogits,
  interpolateHeads,
  logitAdjust,
  matrix,
  outputEnsemble,
  selectRegularization,
  softmax,
  trainLinearProbe,
  zeroShotHead,
} from '../src/index';

function codeOf(f: () => unknown): GlaErrorCode | 'no-error' | 'other-error' {
  try {
    f();
    return 'no-error';
  } catch (error) {
    return error instanceof GlaError ? error.code : 'other-error';
  }
}

const good = matrix(Float64Array.from([1, 2, 3, 4, 5, 6, 0, 1, 2, 2, 1, 0]), 4, 3);
const labels = Int32Array.from([0, 1, 2, 0]);

describe('validation: every bad input throws GlaError with the right code', () => {
  it('non-finite entries anywhere (NaN, +Infinity; -Infinity only where masking is meaningful)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 11 }), fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY), (index, bad) => {
        const data = Float64Array.from(good.data);
        data[index] = bad;
        const m = matrix(data, 4, 3);
        for (const f of [
          () => softmax(m),
          () => estimatePrior(m, labels),
          () => calibrateTemperature(m, labels),
          () => accuracy(m, labels),
          () => debias(m, [0, 0, 0]),
          () => estimatePriorEM(m),
          () => estimatePriorEigen(m),
        ]) {
          expect(codeOf(f)).toBe('non-finite');
        }
        expect(codeOf(() => trainLinearProbe(m, labels))).toBe('non-finite');
      }),
    );
    const masked = Float64Array.from(good.data);
    masked[0] = Number.NEGATIVE_INFINITY;
    expect(codeOf(() => trainLinearProbe(matrix(masked, 4, 3), labels))).toBe('non-finite');
    expect(codeOf(() => estimatePrior(matrix(masked, 4, 3), labels))).toBe('non-finite'); // labelled class masked
  });

  it('labels out of range / not integers / wrong length', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 3 }),
        fc.oneof(fc.integer({ min: 3, max: 1000 }), fc.integer({ min: -1000, max: -1 })),
        (i, bad) => {
          const y = Array.from(labels);
          y[i] = bad;
          expect(codeOf(() => estimatePrior(good, y))).toBe('label-out-of-range');
          expect(codeOf(() => accuracy(good, y))).toBe('label-out-of-range');
        },
      ),
    );
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 3 }),
        fc.double({ min: 0.01, max: 1.99, noNaN: true }).filter((v) => !Number.isInteger(v)),
        (i, bad) => {
          const y = Array.from(labels);
          y[i] = bad;
          expect(codeOf(() => estimatePrior(good, y))).toBe('label-not-integer');
        },
      ),
    );
    expect(codeOf(() => estimatePrior(good, [0, 1, 2]))).toBe('length-mismatch');
    expect(codeOf(() => calibrateTemperature(good, [0, 1, 2, 0, 1]))).toBe('length-mismatch');
  });

  it('shapes, dtypes and empty inputs', () => {
    expect(codeOf(() => matrix(new Float64Array(5), 2, 3))).toBe('shape-mismatch');
    expect(codeOf(() => matrix([1, 2] as unknown as Float64Array, 1, 2))).toBe('invalid-dtype');
    expect(codeOf(() => softmax({ data: new Float64Array(5), rows: 2, cols: 3 }))).toBe('shape-mismatch');
    expect(codeOf(() => softmax(matrix(new Float64Array(0), 0, 3)))).toBe('empty-input');
    expect(codeOf(() => estimatePrior(matrix(new Float64Array(0), 0, 3), []))).toBe('empty-input');
    const other = matrix(new Float64Array(8), 4, 2);
    expect(codeOf(() => glaLogits({ finetuned: good, zeroShot: other, logPrior: [0, 0, 0] }))).toBe('shape-mismatch');
    expect(codeOf(() => outputEnsemble(good, other))).toBe('shape-mismatch');
    expect(codeOf(() => debias(good, [0, 0]))).toBe('length-mismatch');
    expect(codeOf(() => logitAdjust(good, [0, 0, 0, 0]))).toBe('length-mismatch');
    const head = { weights: matrix(new Float64Array(6), 3, 2), bias: new Float64Array(3) };
    expect(codeOf(() => applyHead(head, good))).toBe('shape-mismatch');
    expect(codeOf(() => applyHead({ ...head, bias: new Float64Array(2) }, other))).toBe('length-mismatch');
    expect(codeOf(() => interpolateHeads(head, { weights: matrix(new Float64Array(4), 2, 2), bias: new Float64Array(2) }, 0.5))).toBe(
      'shape-mismatch',
    );
    expect(codeOf(() => zeroShotHead(matrix(new Float64Array(10), 5, 2), { classes: 2 }))).toBe('shape-mismatch');
    expect(codeOf(() => estimatePriorChunked([{ logits: other, labels: [0, 1, 0, 1] }], { classes: 3 }))).toBe('shape-mismatch');
  });

  it('temperatures must be positive and finite', () => {
    fc.assert(
      fc.property(fc.oneof(fc.double({ max: 0, noNaN: true }), fc.constant(Number.NaN), fc.constant(Number.POSITIVE_INFINITY)), (T) => {
        expect(codeOf(() => softmax(good, { temperature: T }))).toBe('invalid-temperature');
        expect(codeOf(() => estimatePrior(good, labels, { temperature: T }))).toBe('invalid-temperature');
        expect(codeOf(() => debias(good, [0, 0, 0], { temperature: T }))).toBe('invalid-temperature');
        expect(codeOf(() => glaLogits({ finetuned: good, zeroShot: good, logPrior: [0, 0, 0], zeroShotTemperature: T }))).toBe(
          'invalid-temperature',
        );
        expect(codeOf(() => estimatePriorEM(good, { temperature: T }))).toBe('invalid-temperature');
      }),
    );
  });

  it('empty classes and invalid options', () => {
    expect(codeOf(() => estimatePrior(good, [0, 1, 1, 0]))).toBe('empty-class');
    expect(codeOf(() => estimatePrior(good, undefined, { targetMarginal: [0.5, 0.5, 0] }))).toBe('empty-class');
    expect(codeOf(() => estimatePriorEigen(good, [0, 1, 1, 0]))).toBe('empty-class');
    expect(codeOf(() => estimatePrior(good, [0, 1, 1, 0], { regularization: 0.1 }))).toBe('no-error');
    expect(codeOf(() => estimatePrior(good, labels, { regularization: -1 }))).toBe('invalid-option');
    expect(codeOf(() => estimatePrior(good, labels, { tolerance: 0 }))).toBe('invalid-option');
    expect(codeOf(() => estimatePrior(good, labels, { maxIterations: 1.5 }))).toBe('invalid-option');
    expect(codeOf(() => estimatePrior(good, labels, { solver: 'magic' as never }))).toBe('invalid-option');
    expect(codeOf(() => estimatePrior(good, undefined))).toBe('invalid-option');
    expect(codeOf(() => estimatePrior(good, undefined, { targetMarginal: [0.5, 0.6, 0.1] }))).toBe('invalid-option');
    expect(codeOf(() => estimatePrior(good, labels, { temperature: 'hot' as never }))).toBe('invalid-option');
    expect(codeOf(() => calibrateTemperature(good, labels, { method: 'x' as never }))).toBe('invalid-option');
    expect(codeOf(() => selectRegularization(good, labels, { folds: 1 }))).toBe('invalid-option');
    expect(codeOf(() => interpolateHeads(zeroShotHead(good), zeroShotHead(good), 1.5))).toBe('invalid-option');
    expect(codeOf(() => trainLinearProbe(good, labels, { l2: -1 }))).toBe('invalid-option');
    expect(codeOf(() => estimatePriorEM(good, { trainPrior: [0.5, 0.5, 0] }))).toBe('invalid-option');
  });

  it('messages name the offending index or shape', () => {
    const data = Float64Array.from(good.data);
    data[7] = Number.NaN;
    expect(() => softmax(matrix(data, 4, 3))).toThrowError(/\(2, 1\)/);
    expect(() => estimatePrior(good, [0, 1, 9, 0])).toThrowError(/labels\[2\] = 9/);
    expect(() => matrix(new Float64Array(5), 2, 3)).toThrowError(/2 x 3/);
  });

  it('does not mutate its inputs', () => {
    const data = Float64Array.from(good.data);
    const y = Int32Array.from(labels);
    const m = matrix(data, 4, 3);
    estimatePrior(m, y, { temperature: 'nll' });
    debias(m, [0.1, 0.2, 0.3]);
    softmax(m);
    expect(Array.from(data)).toEqual(Array.from(good.data));
    expect(Array.from(y)).toEqual(Array.from(labels));
  });
});
