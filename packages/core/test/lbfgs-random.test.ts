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

  // A convex quadratic 1/2 x'Ax - b'x with a known optimum A^{-1} b (A tridiagonal, condition ~100).
  const n = 60;
  const quadratic = (x: Float64Array, g: Float64Array) => {
    let f = 0;
    for (let i = 0; i < n; i++) {
      const ax = (2 + i / 10) * x[i]! - 0.9 * ((x[i - 1] ?? 0) + (x[i + 1] ?? 0));
      g[i] = ax - 1;
      f += 0.5 * x[i]! * ax - x[i]!;
    }
    return f;
  };
  const optimum = minimizeLbfgs(quadratic, new Float64Array(n), { tolerance: 1e-13, maxIterations: 2000 });

  it("relativeDecrease: SciPy's ftol rule stops early, converged, with the last step's decrease below it", () => {
    const values: number[] = [];
    const r = minimizeLbfgs(
      (x, g) => {
        const f = quadratic(x, g);
        values.push(f);
        return f;
      },
      new Float64Array(n),
      { tolerance: 1e-13, relativeDecrease: 1e-6, maxIterations: 2000 },
    );
    expect(r.converged).toBe(true);
    expect(r.iterations).toBeLessThan(optimum.iterations);
    expect(r.gradientNorm).toBeGreaterThan(1e-13); // not the gradient test
    expect(Math.abs(r.value - optimum.value) / Math.abs(optimum.value)).toBeLessThan(1e-5);
    // the accepted values decrease; the last accepted step's relative decrease is <= 1e-6, earlier ones' are not
    const accepted = [values[0]!];
    for (const v of values.slice(1)) if (v < accepted[accepted.length - 1]!) accepted.push(v);
    const dec = (k: number) => (accepted[k - 1]! - accepted[k]!) / Math.max(Math.abs(accepted[k - 1]!), Math.abs(accepted[k]!), 1);
    expect(dec(accepted.length - 1)).toBeLessThanOrEqual(1e-6);
    expect(dec(accepted.length - 2)).toBeGreaterThan(1e-6);
    expect(() => minimizeLbfgs(quadratic, new Float64Array(n), { relativeDecrease: -1 })).toThrow(GlaError);
  });

  it('history: a continuation from the pairs of a first run; Float32 storage reaches the same optimum', () => {
    const history = { S: [] as (Float64Array | Float32Array)[], Y: [] as (Float64Array | Float32Array)[] };
    const first = minimizeLbfgs(quadratic, new Float64Array(n), { tolerance: 1e-3, history });
    expect(history.S.length).toBe(Math.min(10, first.iterations));
    expect(first.history?.S.length).toBe(history.S.length);
    const cold = minimizeLbfgs(quadratic, first.x, { tolerance: 1e-10 });
    const warm = minimizeLbfgs(quadratic, first.x, { tolerance: 1e-10, history });
    expect(warm.converged).toBe(true);
    expect(warm.iterations).toBeLessThanOrEqual(cold.iterations);
    const f32 = minimizeLbfgs(quadratic, new Float64Array(n), { tolerance: 1e-10, historyPrecision: 'float32' });
    expect(f32.converged).toBe(true);
    expect(f32.history?.S.every((v) => v instanceof Float32Array)).toBe(true);
    for (const r of [warm, cold, f32]) {
      let dx = 0;
      for (let i = 0; i < n; i++) dx = Math.max(dx, Math.abs(r.x[i]! - optimum.x[i]!));
      expect(dx).toBeLessThan(1e-8);
    }
    expect(() =>
      minimizeLbfgs(quadratic, new Float64Array(n), { history: { S: [new Float64Array(3)], Y: [new Float64Array(3)] } }),
    ).toThrow(GlaError);
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
