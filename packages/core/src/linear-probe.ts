import { fail } from './errors';
import { applyHead, checkHead, type LinearHead } from './heads';
import { type BackendChoice, checkBackendChoice, resolveKernel } from './kernels';
import { type LbfgsResult, lbfgs, minimizeLbfgs } from './lbfgs';
import {
  checkFinite,
  checkLabels,
  checkMatrix,
  checkNonEmpty,
  checkNonNegative,
  checkPositive,
  checkPositiveInteger,
  checkVector,
  type Labels,
  type Matrix,
} from './matrix';
import { takeRows } from './prior-selection';
import { stratifiedFolds } from './random';

/** Options of {@link trainLinearProbe}. */
export interface LinearProbeOptions {
  /** L2 penalty on the weights (not the bias): adds l2/2 * ||W||^2 (default 1e-3). */
  l2?: number;
  /** L-BFGS iteration cap (default 500). */
  maxIterations?: number;
  /** Stop when the max-abs gradient <= tolerance (default 1e-6). */
  tolerance?: number;
  /** Per-class loss weights (length C, >= 0; default all 1), e.g. for balanced training. */
  classWeights?: ArrayLike<number>;
  /** Start from this head (e.g. the zero-shot head) instead of zeros. */
  init?: LinearHead;
  /** Number of classes C (default: max label + 1, or init's C). */
  classes?: number;
  /** Kernel backend of the GEMMs ('auto' = fastest registered; 'reference' = TypeScript). */
  backend?: BackendChoice;
}

/** Result of {@link trainLinearProbe}. */
export interface LinearProbe {
  head: LinearHead;
  /** Logits of the trained head for new features (N x D -> N x C). */
  logits(features: Matrix): Matrix;
  /** Final objective: weighted mean cross-entropy (nats) + l2/2 ||W||^2. */
  objective: number;
  /** Max-abs gradient at the returned head. */
  gradientNorm: number;
  iterations: number;
  converged: boolean;
  /** Kernel backend that ran the GEMMs. */
  backend: string;
}

/** A validated probe problem (internal): shapes, labels, weights, start point and preconditioner. */
interface ProbeProblem {
  N: number;
  D: number;
  C: number;
  nW: number;
  y: Int32Array;
  l2: number;
  tolerance: number;
  maxIterations: number;
  classWeights: Float64Array;
  x0: Float64Array;
  diag: Float64Array;
}

function probeProblem(features: Matrix, labels: Labels, options: LinearProbeOptions, name: string): ProbeProblem {
  checkMatrix(features, 'features');
  checkNonEmpty(features, 'features');
  checkFinite(features, 'features', false);
  if (options === null || typeof options !== 'object') fail('invalid-option', `${name}: options must be an object`);
  const N = features.rows;
  const D = features.cols;
  let C = options.classes;
  if (options.init) {
    const [Ci, Di] = checkHead(options.init, 'init');
    if (Di !== D) fail('shape-mismatch', `${name}: init head has ${Di} columns, features have ${D}`);
    if (C !== undefined && C !== Ci) fail('shape-mismatch', `${name}: classes = ${C} but init head has ${Ci} rows`);
    C = Ci;
  }
  if (C === undefined) {
    let max = -1;
    for (let i = 0; i < labels.length; i++) if (Number.isInteger(labels[i]) && labels[i]! > max) max = labels[i]!;
    C = max + 1;
  }
  checkPositiveInteger(C, 'classes');
  const y = checkLabels(labels, N, C);
  const l2 = checkNonNegative(options.l2 ?? 1e-3, 'l2');
  const tolerance = checkPositive(options.tolerance ?? 1e-6, 'tolerance');
  const maxIterations = checkPositiveInteger(options.maxIterations ?? 500, 'maxIterations');
  const classWeights = new Float64Array(C).fill(1);
  if (options.classWeights !== undefined) {
    checkVector(options.classWeights, C, 'classWeights');
    for (let c = 0; c < C; c++) {
      const w = options.classWeights[c]!;
      if (w < 0) fail('invalid-option', `classWeights[${c}] = ${w} must be >= 0`);
      classWeights[c] = w;
    }
  }
  const X = features.data;
  const nW = C * D;
  const x0 = new Float64Array(nW + C);
  if (options.init) {
    x0.set(options.init.weights.data, 0);
    x0.set(options.init.bias, nW);
  }
  // Fixed diagonal preconditioner: the Hessian diagonal at W = 0 with uniform softmax, up to a
  // common factor: E_w[x_d^2] + l2 for the weights, 1 for the biases. The weights of small-scale
  // features (e.g. L2-normalised embeddings) otherwise have a curvature ~D times below the biases'.
  const diag = new Float64Array(nW + C);
  {
    const s = (1 / C) * (1 - 1 / C);
    let wsum = 0;
    for (let i = 0; i < N; i++) wsum += classWeights[y[i]!]!;
    const ex2 = new Float64Array(D);
    for (let i = 0; i < N; i++) {
      const w = classWeights[y[i]!]! / wsum;
      const o = i * D;
      for (let d = 0; d < D; d++) ex2[d]! += w * X[o + d]! * X[o + d]!;
    }
    for (let c = 0; c < C; c++) for (let d = 0; d < D; d++) diag[c * D + d] = s * ex2[d]! + l2;
    for (let c = 0; c < C; c++) diag[nW + c] = s;
    for (let j = 0; j < diag.length; j++) if (!(diag[j]! > 1e-12)) diag[j] = 1e-12;
  }
  return { N, D, C, nW, y, l2, tolerance, maxIterations, classWeights, x0, diag };
}

/**
 * Softmax cross-entropy part of one evaluation: `logits` (N x C, X W^T without bias) is overwritten;
 * residuals r_ic = w_i (p_ic - 1[c = y_i]) go to R (C x N when `transposed`, else N x C) and their
 * column sums to gb. Returns the weighted mean cross-entropy (internal).
 */
function probeResiduals(
  p: ProbeProblem,
  b: Float64Array,
  logits: Float64Array,
  R: Float64Array,
  transposed: boolean,
  gb: Float64Array,
): number {
  const { N, C, y, classWeights } = p;
  let loss = 0;
  gb.fill(0);
  for (let i = 0; i < N; i++) {
    const o = i * C;
    let m = Number.NEGATIVE_INFINITY;
    for (let c = 0; c < C; c++) {
      const v = logits[o + c]! + b[c]!;
      logits[o + c] = v;
      if (v > m) m = v;
    }
    const yi = y[i]!;
    const zy = logits[o + yi]!;
    let s = 0;
    for (let c = 0; c < C; c++) {
      const e = Math.exp(logits[o + c]! - m);
      logits[o + c] = e;
      s += e;
    }
    const wi = classWeights[yi]! / N;
    loss += wi * (m + Math.log(s) - zy);
    const scale = wi / s;
    for (let c = 0; c < C; c++) {
      const r = scale * logits[o + c]! - (c === yi ? wi : 0);
      R[transposed ? c * N + i : o + c] = r;
      gb[c]! += r;
    }
  }
  return loss;
}

/** gW = G + l2 W (G is D x C when `transposed`, else C x D); returns l2/2 ||W||^2 (internal). */
function probeWeightGradient(p: ProbeProblem, W: Float64Array, G: Float64Array, transposed: boolean, gW: Float64Array): number {
  const { C, D, l2 } = p;
  let reg = 0;
  for (let c = 0; c < C; c++) {
    const o = c * D;
    for (let d = 0; d < D; d++) {
      const w = W[o + d]!;
      reg += w * w;
      gW[o + d] = (transposed ? G[d * C + c]! : G[o + d]!) + l2 * w;
    }
  }
  return 0.5 * l2 * reg;
}

function probeResult(p: ProbeProblem, result: LbfgsResult, backend: string): LinearProbe {
  const { C, D, nW } = p;
  const head: LinearHead = {
    weights: { data: Float64Array.from(result.x.subarray(0, nW)), rows: C, cols: D },
    bias: Float64Array.from(result.x.subarray(nW)),
  };
  return {
    head,
    logits: (f: Matrix) => applyHead(head, f),
    objective: result.value,
    gradientNorm: result.gradientNorm,
    iterations: result.iterations,
    converged: result.converged,
    backend,
  };
}

/**
 * Multinomial logistic regression on frozen features:
 *   min_{W, b} (1/N) sum_i w_{y_i} [logsumexp(W x_i + b) - (W x_i + b)_{y_i}] + l2/2 ||W||_F^2
 * (bias unregularised), by L-BFGS (memory 10, Armijo backtracking line search); deterministic.
 * Each objective evaluation costs two N x C x D GEMMs in Float64 on the fastest registered
 * `gemmABt` kernel (X^T is materialised once per call, N x D extra doubles).
 * @param features N x D @param labels N class indices
 */
export function trainLinearProbe(features: Matrix, labels: Labels, options: LinearProbeOptions = {}): LinearProbe {
  const p = probeProblem(features, labels, options, 'trainLinearProbe');
  const { N, D, C, nW } = p;
  const gemmBackend = resolveKernel('gemmABt', checkBackendChoice(options.backend, 'trainLinearProbe'));
  const gemm = gemmBackend.gemmABt;
  const X = features.data;
  // Buffers reused by every evaluation (no allocation per iteration). X^T (D x N) is built once, so
  // both sweeps are register-blocked dot-product kernels over contiguous rows:
  //   logits (N x C) = X (N x D) W^T,   gradient^T (D x C) = X^T (D x N) R (N x C) = X^T (R^T)^T.
  // X^T keeps the features' dtype (a Float32 transpose is exact): the GEMM kernels read either.
  const XT = X instanceof Float32Array ? new Float32Array(N * D) : new Float64Array(N * D);
  for (let i = 0; i < N; i++) {
    const o = i * D;
    for (let d = 0; d < D; d++) XT[d * N + i] = X[o + d]!;
  }
  const logits = new Float64Array(N * C);
  const RT = new Float64Array(C * N);
  const GT = new Float64Array(D * C);
  const evaluate = (x: Float64Array, gradient: Float64Array): number => {
    const W = x.subarray(0, nW);
    gemm(X, N, W, C, D, logits);
    const loss = probeResiduals(p, x.subarray(nW), logits, RT, true, gradient.subarray(nW));
    gemm(XT, D, RT, C, N, GT);
    return loss + probeWeightGradient(p, W, GT, true, gradient.subarray(0, nW));
  };
  const result = minimizeLbfgs(evaluate, p.x0, {
    tolerance: p.tolerance,
    maxIterations: p.maxIterations,
    memory: 10,
    preconditioner: () => p.diag,
  });
  return probeResult(p, result, gemmBackend.name);
}

/**
 * {@link trainLinearProbe} on an asynchronous kernel backend that keeps the feature matrix inside
 * it (`probeGemmSession`, e.g. onnxruntime's MLAS GEMM via @gla/kernels-onnx): same objective,
 * same L-BFGS, the two GEMMs per evaluation run there (in that backend's precision, e.g. Float32
 * products; every other sum in Float64). Without such a backend it runs the synchronous version.
 */
export async function trainLinearProbeAsync(features: Matrix, labels: Labels, options: LinearProbeOptions = {}): Promise<LinearProbe> {
  const p = probeProblem(features, labels, options, 'trainLinearProbeAsync');
  const backend = resolveKernel('probeGemmSession', checkBackendChoice(options.backend, 'trainLinearProbeAsync'));
  if (!backend.probeGemmSession) return trainLinearProbe(features, labels, options);
  const { N, C, D, nW } = p;
  const session = await backend.probeGemmSession(features.data, N, D);
  try {
    const logits = new Float64Array(N * C);
    const R = new Float64Array(N * C);
    const G = new Float64Array(C * D);
    // Float32 products put a noise floor of ~1e-6 on the gradient: the asynchronous phase stops at
    // ASYNC_TOLERANCE, then the synchronous Float64 path finishes from its head (few iterations),
    // so the reported gradient norm is exact.
    const coarse = Math.max(p.tolerance, ASYNC_TOLERANCE);
    const run = lbfgs(p.x0, { tolerance: coarse, maxIterations: p.maxIterations, memory: 10, preconditioner: () => p.diag });
    let step = run.next();
    while (!step.done) {
      const x = step.value;
      const gradient = new Float64Array(nW + C);
      const W = x.subarray(0, nW);
      await session.logits(W, C, logits);
      const loss = probeResiduals(p, x.subarray(nW), logits, R, false, gradient.subarray(nW));
      await session.gradient(R, C, G);
      const value = loss + probeWeightGradient(p, W, G, false, gradient.subarray(0, nW));
      step = run.next({ value, gradient });
    }
    const first = probeResult(p, step.value, backend.name);
    const remaining = p.maxIterations - first.iterations;
    if (coarse === p.tolerance || remaining < 1) return first;
    await session.release();
    const { backend: _b, ...rest } = options;
    const polish = trainLinearProbe(features, labels, { ...rest, init: first.head, maxIterations: remaining, classes: C });
    return { ...polish, iterations: first.iterations + polish.iterations, backend: `${backend.name}+${polish.backend}` };
  } finally {
    await session.release();
  }
}

/** Gradient tolerance of the Float32 phase of {@link trainLinearProbeAsync}. */
const ASYNC_TOLERANCE = 1e-4;

/** Options of {@link selectL2}. */
export interface SelectL2Options extends Omit<LinearProbeOptions, 'l2'> {
  /** Candidate l2 values (default [1e-5, 1e-4, 1e-3, 1e-2, 1e-1]). */
  candidates?: number[];
  /** Stratified folds (default 5). */
  folds?: number;
  /** Seed of the fold assignment (default 0). */
  seed?: number;
}

/**
 * Picks l2 for {@link trainLinearProbe} by stratified k-fold cross-validation (seeded, deterministic):
 * highest mean held-out accuracy, ties broken by lower held-out cross-entropy.
 * @returns the chosen l2 and each candidate's held-out accuracy (in [0, 1]) and cross-entropy (nats)
 */
export function selectL2(
  features: Matrix,
  labels: Labels,
  options: SelectL2Options = {},
): { l2: number; scores: { l2: number; accuracy: number; crossEntropy: number }[] } {
  checkMatrix(features, 'features');
  checkNonEmpty(features, 'features');
  const candidates = options.candidates ?? [1e-5, 1e-4, 1e-3, 1e-2, 1e-1];
  if (!Array.isArray(candidates) || candidates.length === 0) fail('invalid-option', 'selectL2: candidates must be a non-empty array');
  for (const c of candidates) checkNonNegative(c, 'candidates[]');
  let C = options.classes ?? options.init?.weights.rows;
  if (C === undefined) {
    let max = -1;
    for (let i = 0; i < labels.length; i++) if (Number.isInteger(labels[i]) && labels[i]! > max) max = labels[i]!;
    C = max + 1;
  }
  const y = checkLabels(labels, features.rows, C);
  const folds = Math.min(checkPositiveInteger(options.folds ?? 5, 'folds'), features.rows);
  if (folds < 2) fail('invalid-option', 'selectL2: needs at least 2 folds');
  const assignment = stratifiedFolds(y, C, folds, options.seed ?? 0);
  const { candidates: _c, folds: _f, seed: _s, ...probeOptions } = options;
  // Warm starts along the l2 path: per fold, the candidates run from the strongest penalty to the
  // weakest, each started from the previous optimum (the problems are strictly convex, so only the
  // number of iterations changes, not the optimum beyond the solver tolerance).
  const order = candidates.map((l2, index) => ({ l2, index })).sort((u, v) => v.l2 - u.l2 || u.index - v.index);
  const tally = candidates.map(() => ({ hits: 0, ce: 0, n: 0 }));
  for (let f = 0; f < folds; f++) {
    const train: number[] = [];
    const test: number[] = [];
    for (let i = 0; i < y.length; i++) (assignment[i] === f ? test : train).push(i);
    if (train.length === 0 || test.length === 0) continue;
    const xTrain = takeRows(features, train);
    const yTrain = Int32Array.from(train, (i) => y[i]!);
    const xTest = takeRows(features, test);
    let previous: LinearHead | undefined = probeOptions.init;
    for (const { l2, index } of order) {
      const probe = trainLinearProbe(xTrain, yTrain, { ...probeOptions, classes: C, l2, ...(previous ? { init: previous } : {}) });
      previous = probe.head;
      const logits = probe.logits(xTest);
      const t = tally[index]!;
      for (let r = 0; r < test.length; r++) {
        const o = r * C;
        const yi = y[test[r]!]!;
        let m = Number.NEGATIVE_INFINITY;
        let arg = 0;
        for (let c = 0; c < C; c++) {
          if (logits.data[o + c]! > m) {
            m = logits.data[o + c]!;
            arg = c;
          }
        }
        let sum = 0;
        for (let c = 0; c < C; c++) sum += Math.exp(logits.data[o + c]! - m);
        t.ce += m + Math.log(sum) - logits.data[o + yi]!;
        if (arg === yi) t.hits++;
        t.n++;
      }
    }
  }
  const scores = candidates.map((l2, index) => ({
    l2,
    accuracy: tally[index]!.hits / tally[index]!.n,
    crossEntropy: tally[index]!.ce / tally[index]!.n,
  }));
  let best = scores[0]!;
  for (const s of scores) {
    if (s.accuracy > best.accuracy || (s.accuracy === best.accuracy && s.crossEntropy < best.crossEntropy)) best = s;
  }
  return { l2: best.l2, scores };
}
