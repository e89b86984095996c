/**
 * The one place bench imports GLA math from. TEMPORARY: @gla/core's index did not export its API
 * yet when this was written, so this facade takes the landed functions from core's sources and
 * provides minimal stand-ins for the rest (probe, EM, eigenvector, reference SGD, ensembles).
 * Once @gla/core exports them, this file becomes `export * from '@gla/core'`.
 */
import { fail } from '../../../packages/core/src/errors';
import { minimizeLbfgs } from '../../../packages/core/src/lbfgs';
import type { Labels, Matrix } from '../../../packages/core/src/matrix';
import { createRng } from '../../../packages/core/src/random';
import { type PriorEstimate, debiasedCrossEntropy } from '../../../packages/core/src/prior';
import { softmax } from '../../../packages/core/src/softmax';

export { GlaError } from '../../../packages/core/src/errors';
export type { Labels, Matrix } from '../../../packages/core/src/matrix';
export {
  accuracy,
  argmaxRows,
  groupAccuracy,
  negativeLogLikelihood,
  type ReliabilityBin,
  reliabilityBins,
} from '../../../packages/core/src/metrics';
export { estimatePrior, selectRegularization, debiasedCrossEntropy, type PriorEstimate } from '../../../packages/core/src/prior';
export { createRng, stratifiedFolds } from '../../../packages/core/src/random';
export { calibrateTemperature } from '../../../packages/core/src/temperature';
export { softmax } from '../../../packages/core/src/softmax';

void createRng;

export interface LinearHead {
  weights: Matrix;
  bias: Float64Array;
}

/** Multinomial logistic regression: mean CE + l2/2 ||W||^2 (bias unpenalised), L-BFGS. */
export function trainLinearProbe(x: Matrix, labels: Labels, options: { classes?: number; l2?: number; maxIterations?: number; tolerance?: number; init?: LinearHead }): LinearHead & { iterations: number; converged: boolean } {
  const N = x.rows;
  const D = x.cols;
  let C = options.classes ?? 0;
  for (let i = 0; i < N; i++) C = Math.max(C, (labels[i] as number) + 1);
  const l2 = options.l2 ?? 1e-3;
  const P = C * D + C;
  const x0 = new Float64Array(P);
  if (options.init) {
    x0.set(options.init.weights.data, 0);
    x0.set(options.init.bias, C * D);
  }
  const z = new Float64Array(C);
  const evaluate = (w: Float64Array, g: Float64Array): number => {
    g.fill(0);
    let total = 0;
    for (let i = 0; i < N; i++) {
      const xo = i * D;
      let max = Number.NEGATIVE_INFINITY;
      for (let c = 0; c < C; c++) {
        let s = w[C * D + c]!;
        const wo = c * D;
        for (let j = 0; j < D; j++) s += x.data[xo + j]! * w[wo + j]!;
        z[c] = s;
        if (s > max) max = s;
      }
      let sum = 0;
      for (let c = 0; c < C; c++) {
        z[c] = Math.exp(z[c]! - max);
        sum += z[c]!;
      }
      const y = labels[i] as number;
      total += Math.log(sum) - Math.log(z[y]!);
      for (let c = 0; c < C; c++) {
        const r = (z[c]! / sum - (c === y ? 1 : 0)) / N;
        if (r === 0) continue;
        const wo = c * D;
        for (let j = 0; j < D; j++) g[wo + j]! += r * x.data[xo + j]!;
        g[C * D + c]! += r;
      }
    }
    let norm = 0;
    for (let k = 0; k < C * D; k++) {
      norm += w[k]! * w[k]!;
      g[k]! += l2 * w[k]!;
    }
    return total / N + 0.5 * l2 * norm;
  };
  const r = minimizeLbfgs(evaluate, x0, { tolerance: options.tolerance ?? 1e-5, maxIterations: options.maxIterations ?? 300 });
  return { weights: { data: r.x.slice(0, C * D), rows: C, cols: D }, bias: r.x.slice(C * D), iterations: r.iterations, converged: r.converged };
}

function finishPrior(q: Float64Array, T: number, iterations: number, converged: boolean, solver: string, residual: number): PriorEstimate {
  let s = 0;
  for (const v of q) s += v;
  const prior = Float64Array.from(q, (v) => Math.max(v / s, 1e-300));
  return { prior, logPrior: Float64Array.from(prior, Math.log), temperature: T, objective: Number.NaN, gradientNorm: residual, iterations, converged, solver, passes: iterations };
}

/** Saerens-style EM on unlabelled logits: q <- q * mean_i softmax(z_i/T - log q) / target. */
export function estimatePriorEM(logits: Matrix, options: { temperature?: number; targetMarginal?: ArrayLike<number>; maxIterations?: number; tolerance?: number } = {}): PriorEstimate {
  const T = options.temperature ?? 1;
  const C = logits.cols;
  let q = new Float64Array(C).fill(1 / C);
  let residual = Number.POSITIVE_INFINITY;
  let it = 0;
  for (; it < (options.maxIterations ?? 1000) && residual > (options.tolerance ?? 1e-8); it++) {
    const shifted = new Float64Array(logits.rows * C);
    for (let i = 0; i < logits.rows; i++) for (let c = 0; c < C; c++) shifted[i * C + c] = logits.data[i * C + c]! / T - Math.log(q[c]!);
    const p = softmax({ data: shifted, rows: logits.rows, cols: C });
    const m = new Float64Array(C);
    for (let i = 0; i < logits.rows; i++) for (let c = 0; c < C; c++) m[c]! += p.data[i * C + c]! / logits.rows;
    residual = 0;
    const next = new Float64Array(C);
    for (let c = 0; c < C; c++) {
      const target = options.targetMarginal ? options.targetMarginal[c]! : 1 / C;
      residual = Math.max(residual, Math.abs(m[c]! - target));
      next[c] = q[c]! * (m[c]! / target);
    }
    const s = next.reduce((a, b) => a + b, 0);
    q = Float64Array.from(next, (v) => v / s);
  }
  return finishPrior(q, T, it, residual <= (options.tolerance ?? 1e-8), 'em', residual);
}

/** Journal version: principal left eigenvector of the class-confusion matrix of softmax(z/T). */
export function estimatePriorEigen(logits: Matrix, labels: Labels, options: { temperature?: number; maxIterations?: number } = {}): PriorEstimate {
  const T = options.temperature ?? 1;
  const C = logits.cols;
  const scaled = { data: Float64Array.from(logits.data, (v) => v / T), rows: logits.rows, cols: C };
  const p = softmax(scaled);
  const M = new Float64Array(C * C);
  const n = new Float64Array(C);
  for (let i = 0; i < logits.rows; i++) {
    const y = labels[i] as number;
    n[y]!++;
    for (let c = 0; c < C; c++) M[y * C + c]! += p.data[i * C + c]!;
  }
  for (let j = 0; j < C; j++) {
    if (n[j] === 0) fail('empty-class', `estimatePriorEigen: class ${j} has no example`);
    for (let c = 0; c < C; c++) M[j * C + c]! /= n[j]!;
  }
  let v = new Float64Array(C).fill(1 / C);
  let residual = 1;
  let it = 0;
  for (; it < (options.maxIterations ?? 10000) && residual > 1e-12; it++) {
    const next = new Float64Array(C);
    for (let j = 0; j < C; j++) for (let c = 0; c < C; c++) next[c]! += v[j]! * M[j * C + c]!;
    const s = next.reduce((a, b) => a + b, 0);
    residual = 0;
    for (let c = 0; c < C; c++) {
      next[c]! /= s;
      residual = Math.max(residual, Math.abs(next[c]! - v[c]!));
    }
    v = next;
  }
  return finishPrior(v, T, it, residual <= 1e-12, 'power-iteration', residual);
}

/** Stand-in for the authors' non-converging SGD (plain gradient steps on b, 1000 steps). */
export function estimatePriorReference(logits: Matrix, labels: Labels, options: { temperature?: number; steps?: number; learningRate?: number } = {}): PriorEstimate {
  const T = options.temperature ?? 1;
  const C = logits.cols;
  const N = logits.rows;
  const b = new Float64Array(C);
  const counts = new Float64Array(C);
  for (let i = 0; i < N; i++) counts[labels[i] as number]! += 1 / N;
  const lr = options.learningRate ?? 1;
  const row = new Float64Array(C);
  for (let s = 0; s < (options.steps ?? 1000); s++) {
    const m = new Float64Array(C);
    for (let i = 0; i < N; i++) {
      let max = Number.NEGATIVE_INFINITY;
      for (let c = 0; c < C; c++) {
        row[c] = logits.data[i * C + c]! / T - b[c]!;
        if (row[c]! > max) max = row[c]!;
      }
      let sum = 0;
      for (let c = 0; c < C; c++) {
        row[c] = Math.exp(row[c]! - max);
        sum += row[c]!;
      }
      for (let c = 0; c < C; c++) m[c]! += row[c]! / sum / N;
    }
    for (let c = 0; c < C; c++) b[c]! -= lr * (counts[c]! - m[c]!) * -1 * -1;
  }
  const q = Float64Array.from(b, Math.exp);
  return finishPrior(q, T, options.steps ?? 1000, false, 'sgd', Number.NaN);
}

export function debias(logits: Matrix, logPrior: ArrayLike<number>, options: { temperature?: number } = {}): Matrix {
  const T = options.temperature ?? 1;
  const C = logits.cols;
  const out = new Float64Array(logits.rows * C);
  for (let i = 0; i < logits.rows; i++) for (let c = 0; c < C; c++) out[i * C + c] = logits.data[i * C + c]! / T - logPrior[c]!;
  return { data: out, rows: logits.rows, cols: C };
}

export function glaLogits(o: { finetuned: Matrix; zeroShot: Matrix; logPrior: ArrayLike<number>; finetunedTemperature?: number; zeroShotTemperature?: number; trainPrior?: ArrayLike<number>; targetPrior?: ArrayLike<number> }): Matrix {
  const { finetuned: f, zeroShot: z } = o;
  const C = f.cols;
  const Tf = o.finetunedTemperature ?? 1;
  const Tz = o.zeroShotTemperature ?? 1;
  const out = new Float64Array(f.rows * C);
  for (let i = 0; i < f.rows; i++) {
    for (let c = 0; c < C; c++) {
      let v = f.data[i * C + c]! / Tf + z.data[i * C + c]! / Tz - o.logPrior[c]!;
      if (o.trainPrior) v -= Math.log(o.trainPrior[c]!);
      if (o.targetPrior) v += Math.log(o.targetPrior[c]!);
      out[i * C + c] = v;
    }
  }
  return { data: out, rows: f.rows, cols: C };
}

export function outputEnsemble(f: Matrix, z: Matrix, o: { finetunedTemperature?: number; zeroShotTemperature?: number } = {}): Matrix {
  return glaLogits({ finetuned: f, zeroShot: z, logPrior: new Float64Array(f.cols), ...o });
}

void debiasedCrossEntropy;
