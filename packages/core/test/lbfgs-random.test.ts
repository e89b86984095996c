import { describe, expect, it } from 'vitest';
import { createRng, GlaError, minimizeLbfgs, stratifiedFolds } from '../src/index';

describe('minimizeLbfgs', () => {
  it('minimises the Rosenbrock function to the known optimum (1, 1)', () => {
    const r = minimizeLbfgs(
      (x, g) => {
        const [a, b] = [x[0]!, x[1]!];
        g[0] = -2 * (1 - a) - 400 * a * (b - a * a);
        g[1] = 200 * (b - a * a);
        return (1 - a) ** 2 + 100 * (b - a * a) ** 2;
      },
      Float64Array.from([-1.2, 1]),
      { tolerance: 1e-10, maxIterations: 500 },
    );
    expect(r.converged).toBe(true);
    expect(r.x[0]).toBeCloseTo(1, 8);
    expect(r.x[1]).toBeCloseTo(1, 8);
    expect(r.value).toBeLessThan(1e-16);
  });

  it('validates its inputs', () => {
    expect(() => minimizeLbfgs(() => 0, new Float64Array(0))).toThrow(GlaError);
    expect(() => minimizeLbfgs(() => 0, Float64Array.from([Number.NaN]))).toThrow(GlaError);
    expect(() => minimizeLbfgs(() => 0, Float64Array.from([1]), { memory: 0 })).toThrow(GlaError);
  });
});

describe('createRng and stratifiedFolds', () => {
  it('are deterministic for a seed and stratified', () => {
    const a = createRng(42);
    const b = createRng(42);
    const xs = Array.from({ length: 5 }, () => a.next());
    expect(Array.from({ length: 5 }, () => b.next())).toEqual(xs);
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
    const normals = Array.from({ length: 20000 }, () => a.normal());
    const mean = normals.reduce((s, x) => s + x, 0) / normals.length;
    const variance = normals.reduce((s, x) => s + (x - mean) ** 2, 0) / normals.length;
    expect(Math.abs(mean)).toBeLessThan(0.03);
    expect(Math.abs(variance - 1)).toBeLessThan(0.05);
    const labels = Int32Array.from({ length: 60 }, (_, i) => i % 3);
    const folds = stratifiedFolds(labels, 3, 4, 7);
    expect(Array.from(stratifiedFolds(labels, 3, 4, 7))).toEqual(Array.from(folds));
    for (let f = 0; f < 4; f++) {
      for (let c = 0; c < 3; c++) {
        const n = labels.filter((y, i) => y === c && folds[i] === f).length;
        expect(n).toBe(5);
      }
    }
    expect(() => stratifiedFolds([0, 5], 3, 2, 0)).toThrowError(
      expect.objectContaining({ code: 'label-out-of-range' }) as unknown as Error,
    );
  });
});
