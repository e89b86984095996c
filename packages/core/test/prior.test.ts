import { describe, expect, it } from 'vitest';
import {
  createRng,
  emptyPriorStatistics,
  estimatePrior,
  estimatePriorChunked,
  estimatePriorChunkedAsync,
  GlaError,
  mergePriorStatistics,
  type PriorChunk,
  priorStatistics,
  selectRegularization,
} from '../src/index';
import { gaussianProblem, histogram, kl, maxAbsDiff, meanDebiasedSoftmax, randomProblem } from './helpers';

/**
 * Deliberately simple reference: F(b) = mean_i logsumexp(z_i/T - b) + sum_k pi_k b_k, Newton steps on
 * b[0..C-2] with b[C-1] = 0 (dense Gaussian elimination), step halving on F.
 */
function simpleNewton(data: Float64Array, N: number, C: number, labels: Int32Array, T: number): Float64Array {
  const pi = new Float64Array(C);
  for (const y of labels) pi[y]! += 1 / N;
  const evaluate = (b: Float64Array) => {
    let f = 0;
    const g = Float64Array.from(pi);
    const H = Array.from({ length: C }, () => new Float64Array(C));
    for (let i = 0; i < N; i++) {
      const v = Array.from({ length: C }, (_, k) => data[i * C + k]! / T - b[k]!);
      const m = Math.max(...v);
      const e = v.map((x) => Math.exp(x - m));
      const s = e.reduce((a, x) => a + x, 0);
      f += (m + Math.log(s)) / N;
      const p = e.map((x) => x / s);
      for (let k = 0; k < C; k++) {
        g[k]! -= p[k]! / N;
        H[k]![k]! += p[k]! / N;
        for (let l = 0; l < C; l++) H[k]![l]! -= (p[k]! * p[l]!) / N;
      }
    }
    for (let k = 0; k < C; k++) f += pi[k]! * b[k]!;
    return { f, g, H };
  };
  let b = new Float64Array(C);
  for (let iter = 0; iter < 200; iter++) {
    const { f, g, H } = evaluate(b);
    const n = C - 1;
    const A = Array.from({ length: n }, (_, r) => [...Array.from(H[r]!.subarray(0, n)), -g[r]!]);
    for (let col = 0; col < n; col++) {
      let piv = col;
      for (let r = col + 1; r < n; r++) if (Math.abs(A[r]![col]!) > Math.abs(A[piv]![col]!)) piv = r;
      [A[col], A[piv]] = [A[piv]!, A[col]!];
      for (let r = 0; r < n; r++) {
        if (r === col) continue;
        const factor = A[r]![col]! / A[col]![col]!;
        for (let c2 = col; c2 <= n; c2++) A[r]![c2]! -= factor * A[col]![c2]!;
      }
    }
    const d = new Float64Array(C);
    for (let k = 0; k < n; k++) d[k] = A[k]![n]! / A[k]![k]!;
    let t = 1;
    let next = b.map((x, k) => x + t * d[k]!);
    while (evaluate(next).f > f + 1e-15 && t > 1e-6) {
      t /= 2;
      next = b.map((x, k) => x + t * d[k]!);
    }
    b = next;
    if (Math.max(...d.map(Math.abs)) * t < 1e-13) break;
  }
  const m = Math.max(...b);
  const lse = m + Math.log(b.reduce((a, x) => a + Math.exp(x - m), 0));
  return b.map((x) => x - lse);
}

describe('estimatePrior: consistency on a generative model with known prior', () => {
  it('KL(q* || q) falls with N (at least halving from N to 4N) and is <= 0.01 at N = 80,000, C = 40', () => {
    const C = 40;
    const kls = [5000, 20000, 80000].map((n) => {
      const p = gaussianProblem({ n, classes: C, dim: 8, spread: 0.9, seed: 7 });
      const r = estimatePrior(p.logits, p.labels);
      expect(r.converged).toBe(true);
      expect(r.gradientNorm).toBeLessThanOrEqual(1e-9);
      return kl(Float64Array.from(p.logPrior, Math.exp), r.prior);
    });
    expect(kls[1]!).toBeLessThanOrEqual(kls[0]! / 2);
    expect(kls[2]!).toBeLessThanOrEqual(kls[1]! / 2);
    expect(kls[2]!).toBeLessThanOrEqual(0.01);
  });

  it('well-separated classes (prior not identifiable): finite, documented answer q = uniform', () => {
    const C = 5;
    const N = 50;
    const data = new Float64Array(N * C);
    const labels = new Int32Array(N);
    for (let i = 0; i < N; i++) {
      labels[i] = i % C;
      data[i * C + (i % C)] = 60;
    }
    const r = estimatePrior({ data, rows: N, cols: C }, labels);
    expect(r.converged).toBe(true);
    for (const q of r.prior) expect(q).toBeCloseTo(1 / C, 12);
    // Moderately separated: still finite, positive, sums to 1, optimality holds.
    for (let i = 0; i < N; i++) data[i * C + (i % C)] = 12 + (i % 3);
    const r2 = estimatePrior({ data, rows: N, cols: C }, labels);
    expect(r2.converged).toBe(true);
    expect(r2.prior.every((q) => q > 0 && Number.isFinite(q))).toBe(true);
    expect(r2.prior.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
  });
});

describe('estimatePrior: invariances and optimality', () => {
  const { logits, labels } = randomProblem(3, 600, 12);

  it('adding a constant to any row leaves q unchanged', () => {
    const base = estimatePrior(logits, labels, { temperature: 1.7 });
    const shifted = Float64Array.from(logits.data);
    const rng = createRng(1);
    for (let i = 0; i < logits.rows; i++) {
      const c = 1000 * (rng.next() - 0.5);
      for (let k = 0; k < logits.cols; k++) shifted[i * logits.cols + k]! += c;
    }
    const r = estimatePrior({ ...logits, data: shifted }, labels, { temperature: 1.7 });
    expect(maxAbsDiff(r.logPrior, base.logPrior)).toBeLessThan(1e-9);
  });

  it('permuting labels while keeping the histogram leaves q unchanged', () => {
    const base = estimatePrior(logits, labels);
    const permuted = createRng(5).shuffle(Int32Array.from(labels));
    const r = estimatePrior(logits, permuted);
    expect(maxAbsDiff(r.logPrior, base.logPrior)).toBeLessThan(1e-9);
  });

  it('constant logits give q proportional to 1 / label histogram (uniform when balanced)', () => {
    const C = 4;
    const N = 10;
    const data = new Float64Array(N * C).fill(3);
    const labels = Int32Array.from([0, 0, 0, 0, 1, 1, 1, 2, 2, 3]);
    const r = estimatePrior({ data, rows: N, cols: C }, labels);
    const inv = [1 / 4, 1 / 3, 1 / 2, 1].map((v) => v * 10);
    const z = inv.reduce((a, b) => a + b, 0);
    expect(
      maxAbsDiff(
        r.prior,
        inv.map((v) => v / z),
      ),
    ).toBeLessThan(1e-10);
    const balanced = estimatePrior({ data: new Float64Array(8 * C), rows: 8, cols: C }, Int32Array.from([0, 1, 2, 3, 0, 1, 2, 3]));
    expect(maxAbsDiff(balanced.prior, [0.25, 0.25, 0.25, 0.25])).toBeLessThan(1e-12);
  });

  it('the optimality condition mean softmax(z/T - log q) = label histogram holds to 1e-9', () => {
    for (const solver of ['newton', 'sparse-newton', 'lbfgs'] as const) {
      const r = estimatePrior(logits, labels, { temperature: 0.8, solver });
      expect(r.converged).toBe(true);
      const mean = meanDebiasedSoftmax(logits, r.logPrior, 0.8);
      expect(maxAbsDiff(mean, histogram(labels, logits.cols))).toBeLessThanOrEqual(1e-9);
      expect(r.prior.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 14);
    }
  });
});

describe('estimatePrior: agreement with an independent simple Newton implementation', () => {
  it('matches to 1e-8 in log q on random problems', () => {
    const rng = createRng(11);
    for (let trial = 0; trial < 6; trial++) {
      const C = 3 + rng.int(10);
      const N = 40 + rng.int(300);
      const T = 0.5 + 2 * rng.next();
      const { logits, labels } = randomProblem(100 + trial, N, C, 1 + 2 * rng.next());
      const expected = simpleNewton(logits.data as Float64Array, N, C, labels, T);
      const r = estimatePrior(logits, labels, { temperature: T });
      expect(r.gradientNorm).toBeLessThanOrEqual(1e-9);
      expect(maxAbsDiff(r.logPrior, expected)).toBeLessThan(1e-8);
    }
  });

  it('handles masked (-Infinity) classes like the simple implementation', () => {
    const { logits, labels } = randomProblem(31, 400, 8);
    const data = Float64Array.from(logits.data);
    const rng = createRng(2);
    for (let i = 0; i < 400; i++) {
      const k = rng.int(8);
      if (k !== labels[i]) data[i * 8 + k] = Number.NEGATIVE_INFINITY;
    }
    const expected = simpleNewton(data, 400, 8, labels, 1.3);
    for (const solver of ['newton', 'sparse-newton', 'lbfgs'] as const) {
      const r = estimatePrior({ data, rows: 400, cols: 8 }, labels, { temperature: 1.3, solver, tolerance: 1e-12 });
      expect(maxAbsDiff(r.logPrior, expected)).toBeLessThan(1e-8);
    }
  });

  it('all solvers and cache precisions agree on a mid-sized problem (C = 100)', () => {
    const { logits, labels } = randomProblem(21, 3000, 100, 1.5);
    const newton = estimatePrior(logits, labels, { solver: 'newton', tolerance: 1e-13 });
    for (const options of [{ solver: 'sparse-newton' }, { solver: 'lbfgs' }, { cachePrecision: 'float32' }] as const) {
      const r = estimatePrior(logits, labels, { ...options, tolerance: 1e-12 });
      expect(r.converged).toBe(true);
      expect(r.gradientNorm).toBeLessThanOrEqual(1e-12);
      expect(maxAbsDiff(r.logPrior, newton.logPrior)).toBeLessThan(1e-8);
    }
  });
});

describe('chunked estimation', () => {
  const { logits, labels } = randomProblem(8, 900, 15);
  const chunks: PriorChunk[] = [];
  for (let start = 0, size = 100; start < logits.rows; start += size, size += 50) {
    const end = Math.min(logits.rows, start + size);
    chunks.push({
      logits: { data: logits.data.slice(start * 15, end * 15), rows: end - start, cols: 15 },
      labels: labels.slice(start, end),
    });
  }
  const memory = estimatePrior(logits, labels, { temperature: 1.3 });

  it('estimatePriorChunked over an array and a factory equals estimatePrior', () => {
    const a = estimatePriorChunked(chunks, { classes: 15, temperature: 1.3 });
    const b = estimatePriorChunked(() => chunks.values(), { classes: 15, temperature: 1.3 });
    expect(maxAbsDiff(a.logPrior, memory.logPrior)).toBeLessThan(1e-10);
    expect(maxAbsDiff(b.logPrior, memory.logPrior)).toBeLessThan(1e-10);
    expect(a.objective).toBeCloseTo(memory.objective, 12);
  });

  it('a pass(bias) callback merging priorStatistics per chunk, sync and async, equals estimatePrior', async () => {
    const pass = (bias: Float64Array, level: Parameters<typeof priorStatistics>[3]) =>
      chunks.reduce((acc, chunk) => mergePriorStatistics(acc, priorStatistics(chunk, bias, 1.3, level)), emptyPriorStatistics(15, level));
    const sync = estimatePriorChunked({ pass }, { classes: 15, temperature: 1.3 });
    const asyncResult = await estimatePriorChunkedAsync({ pass: async (b, l) => pass(b, l) }, { classes: 15, temperature: 1.3 });
    expect(maxAbsDiff(sync.logPrior, memory.logPrior)).toBeLessThan(1e-10);
    expect(maxAbsDiff(asyncResult.logPrior, memory.logPrior)).toBeLessThan(1e-10);
  });

  it('large-C chunked (sparse Newton) equals in-memory', () => {
    const big = randomProblem(9, 1200, 80);
    const half = 600 * 80;
    const parts: PriorChunk[] = [
      { logits: { data: big.logits.data.slice(0, half), rows: 600, cols: 80 }, labels: big.labels.slice(0, 600) },
      { logits: { data: big.logits.data.slice(half), rows: 600, cols: 80 }, labels: big.labels.slice(600) },
    ];
    // Both solved to 1e-12: at the default 1e-9 the two (differently rounded) paths may differ by
    // ~1e-8 in log q on this ill-conditioned problem.
    const a = estimatePriorChunked(parts, { classes: 80, tolerance: 1e-12 });
    const b = estimatePrior(big.logits, big.labels, { tolerance: 1e-12 });
    expect(a.solver).toBe('sparse-newton');
    expect(maxAbsDiff(a.logPrior, b.logPrior)).toBeLessThan(1e-8);
  });
});

describe('regularization and label-free prior matching', () => {
  it('refuses an empty class without regularization, and shrinks toward uniform with it', () => {
    const { logits, labels } = randomProblem(4, 200, 6);
    const missing = labels.map((y) => (y === 5 ? 4 : y));
    expect(() => estimatePrior(logits, missing)).toThrowError(expect.objectContaining({ code: 'empty-class' }) as unknown as Error);
    const r = estimatePrior(logits, missing, { regularization: 0.05 });
    expect(r.converged).toBe(true);
    const spread = (v: Float64Array) => Math.max(...v) - Math.min(...v);
    const weak = estimatePrior(logits, labels, { regularization: 0 });
    const strong = estimatePrior(logits, labels, { regularization: 10 });
    expect(spread(strong.logPrior)).toBeLessThan(spread(weak.logPrior) / 5);
  });

  it('selectRegularization picks shrinkage at 1 shot (lambda = 0 cannot be fitted) and returns finite scores', () => {
    const p = gaussianProblem({ n: 20, classes: 20, dim: 6, spread: 0.8, seed: 3 });
    const s = selectRegularization(p.logits, p.labels, { folds: 2, seed: 1 });
    expect(s.scores[0]!.crossEntropy).toBe(Number.POSITIVE_INFINITY);
    expect(s.regularization).toBeGreaterThan(0);
    expect(Number.isFinite(Math.min(...s.scores.map((x) => x.crossEntropy)))).toBe(true);
    const again = selectRegularization(p.logits, p.labels, { folds: 2, seed: 1 });
    expect(again).toEqual(s);
  });

  it('targetMarginal recovers the prior from unlabelled logits', () => {
    const p = gaussianProblem({ n: 40000, classes: 10, dim: 6, spread: 0.9, seed: 5 });
    const target = new Float64Array(10).fill(0.1);
    const r = estimatePrior(p.logits, undefined, { targetMarginal: target });
    expect(r.converged).toBe(true);
    expect(maxAbsDiff(meanDebiasedSoftmax(p.logits, r.logPrior), target)).toBeLessThanOrEqual(1e-9);
    expect(kl(Float64Array.from(p.logPrior, Math.exp), r.prior)).toBeLessThan(0.005);
  });

  it('calibrates the temperature first when asked and reports it', () => {
    const { logits, labels } = randomProblem(6, 300, 5);
    const r = estimatePrior(logits, labels, { temperature: 'nll' });
    expect(r.temperature).toBeGreaterThan(0);
    expect(r.temperature).not.toBe(1);
    expect(() => estimatePrior(logits, undefined, { temperature: 'nll', targetMarginal: [0.2, 0.2, 0.2, 0.2, 0.2] })).toThrow(GlaError);
  });
});
