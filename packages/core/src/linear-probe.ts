import { fail } from './errors';
import { applyHead, checkHead, checkRowIndex, type LinearHead } from './heads';
import { type BackendChoice, checkBackendChoice, type KernelArray, type ProbeSession, resolveKernel } from './kernels';
import { type LbfgsResult, lbfgs, maxAbs, minimizeLbfgs } from './lbfgs';
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
  /**
   * Also stop after an L-BFGS step whose relative objective decrease
   * (f_k - f_{k+1}) / max(|f_k|, |f_{k+1}|, 1) is <= this (SciPy L-BFGS-B's `ftol`, which
   * scikit-learn's lbfgs LogisticRegression leaves at 2.2e-9); default 0: off. In
   * trainLinearProbeAsync it applies to the last (Float64) phase only.
   */
  relativeDecrease?: number;
  /** Per-class loss weights (length C, >= 0; default all 1), e.g. for balanced training. */
  classWeights?: ArrayLike<number>;
  /** Start from this head (e.g. the zero-shot head) instead of zeros; a head on the RAW features. */
  init?: LinearHead;
  /** Number of classes C (default: max label + 1 over the training rows, or init's C). */
  classes?: number;
  /** Kernel backend of the GEMMs ('auto' = fastest registered; 'reference' = TypeScript). */
  backend?: BackendChoice;
  /**
   * Optimise in coordinates centred by the training rows' column means mu, for conditioning:
   * W (x - mu) + b' with b' = b + W mu, by rank-one corrections (no centred copy). The objective
   * and the optimum are the same as without centring; the returned head is on the raw features.
   */
  center?: boolean;
  /**
   * Train on these rows of `features` only (indices in [0, features.rows), repeats allowed), read in
   * place (no copy). `labels` stay indexed like the features (length features.rows); only the
   * labels of these rows are read. Default: all rows.
   */
  rows?: ArrayLike<number>;
  /**
   * Rows per evaluation block of the synchronous engine (default: block scratch of ~4 MiB). Only the
   * summation order depends on it, not the objective or the optimum.
   */
  blockRows?: number;
  /**
   * trainLinearProbeAsync only: max-abs gradient at which the Float32 phase hands over to the
   * Float64 phase (default {@link PROBE_FLOAT32_TOLERANCE}).
   */
  float32Tolerance?: number;
}

/** Result of {@link trainLinearProbe}. */
export interface LinearProbe {
  head: LinearHead;
  /** Logits of the trained head for new features (N x D -> N x C). */
  logits(features: Matrix): Matrix;
  /** Final objective: weighted mean cross-entropy (nats) + l2/2 ||W||^2. */
  objective: number;
  /** Max-abs gradient at the returned head (in the optimiser's coordinates: centred when `center`). */
  gradientNorm: number;
  iterations: number;
  /** Objective evaluations (each costs two N x D x C GEMMs; >= iterations with the line search). */
  evaluations: number;
  converged: boolean;
  /** Kernel backend that ran the GEMMs. */
  backend: string;
  /** trainLinearProbeAsync on a fused backend: iterations, evaluations and wall time (s) per precision phase. */
  phases?: { precision: 'float32' | 'float64'; iterations: number; evaluations: number; seconds: number }[];
}

/**
 * A validated probe problem (internal). The model is z_i = W (x_i - mu) + b' on the training rows
 * i = rowIndex[t] (t < n), mu = 0 without centring; the optimiser's variables are [W (C x D), b'].
 */
interface ProbeProblem {
  /** Number of training rows. */
  n: number;
  D: number;
  C: number;
  nW: number;
  X: KernelArray;
  /** Training rows into X (undefined: rows 0..n-1 in order). */
  rowIndex: Int32Array | undefined;
  /** Labels of the training rows (length n). */
  y: Int32Array;
  /** Per-training-row loss weight w_t = classWeights[y_t] / n. */
  rowWeights: Float64Array;
  /** Column means of the training rows (centring), or undefined. */
  mu: Float64Array | undefined;
  l2: number;
  tolerance: number;
  relativeDecrease: number;
  maxIterations: number;
  x0: Float64Array;
  /** Diagonal preconditioner of L-BFGS (with centring only). */
  diag: Float64Array | undefined;
}

/** b' - W mu (the raw-coordinate bias of the centred model), or b' itself without centring (internal). */
function rawBias(W: Float64Array, b: Float64Array, mu: Float64Array | undefined, C: number, D: number, sign = -1): Float64Array {
  const out = Float64Array.from(b);
  if (!mu) return out;
  for (let c = 0; c < C; c++) {
    let s = 0;
    const o = c * D;
    for (let d = 0; d < D; d++) s += W[o + d]! * mu[d]!;
    out[c]! += sign * s;
  }
  return out;
}

function probeProblem(features: Matrix, labels: Labels, options: LinearProbeOptions, name: string): ProbeProblem {
  checkMatrix(features, 'features');
  checkNonEmpty(features, 'features');
  checkFinite(features, 'features', false);
  if (options === null || typeof options !== 'object') fail('invalid-option', `${name}: options must be an object`);
  const D = features.cols;
  const X = features.data as KernelArray;
  if (!(X instanceof Float32Array || X instanceof Float64Array)) fail('invalid-dtype', `${name}: features must be Float32 or Float64`);
  if (labels === null || typeof labels !== 'object' || typeof (labels as ArrayLike<number>).length !== 'number')
    fail('invalid-option', `labels: expected an Int32Array or array of integers`);
  if (labels.length !== features.rows)
    fail('length-mismatch', `labels: has length ${labels.length}, expected ${features.rows} (one per feature row)`);
  const rowIndex = checkRowIndex(options.rows, features.rows, name);
  const n = rowIndex ? rowIndex.length : features.rows;
  const row = (t: number) => (rowIndex ? rowIndex[t]! : t);
  let C = options.classes;
  if (options.init) {
    const [Ci, Di] = checkHead(options.init, 'init');
    if (Di !== D) fail('shape-mismatch', `${name}: init head has ${Di} columns, features have ${D}`);
    if (C !== undefined && C !== Ci) fail('shape-mismatch', `${name}: classes = ${C} but init head has ${Ci} rows`);
    C = Ci;
  }
  if (C === undefined) {
    let max = -1;
    for (let t = 0; t < n; t++) {
      const v = labels[row(t)]!;
      if (Number.isInteger(v) && v > max) max = v;
    }
    C = max + 1;
  }
  checkPositiveInteger(C, 'classes');
  const y = new Int32Array(n);
  for (let t = 0; t < n; t++) {
    const i = row(t);
    const v = labels[i]!;
    if (typeof v !== 'number' || !Number.isInteger(v)) fail('label-not-integer', `labels[${i}] = ${String(v)} is not an integer`);
    if (v < 0 || v >= C) fail('label-out-of-range', `labels[${i}] = ${v} is outside [0, ${C})`);
    y[t] = v;
  }
  const l2 = checkNonNegative(options.l2 ?? 1e-3, 'l2');
  const tolerance = checkPositive(options.tolerance ?? 1e-6, 'tolerance');
  const maxIterations = checkPositiveInteger(options.maxIterations ?? 500, 'maxIterations');
  const relativeDecrease = checkNonNegative(options.relativeDecrease ?? 0, 'relativeDecrease');
  if (options.blockRows !== undefined) checkPositiveInteger(options.blockRows, 'blockRows');
  if (options.center !== undefined && typeof options.center !== 'boolean') fail('invalid-option', `${name}: center must be a boolean`);
  const classWeights = new Float64Array(C).fill(1);
  if (options.classWeights !== undefined) {
    checkVector(options.classWeights, C, 'classWeights');
    for (let c = 0; c < C; c++) {
      const w = options.classWeights[c]!;
      if (w < 0) fail('invalid-option', `classWeights[${c}] = ${w} must be >= 0`);
      classWeights[c] = w;
    }
  }
  const rowWeights = new Float64Array(n);
  for (let t = 0; t < n; t++) rowWeights[t] = classWeights[y[t]!]! / n;
  let mu: Float64Array | undefined;
  if (options.center) {
    mu = new Float64Array(D);
    for (let t = 0; t < n; t++) {
      const o = row(t) * D;
      for (let d = 0; d < D; d++) mu[d]! += X[o + d]!;
    }
    for (let d = 0; d < D; d++) mu[d]! /= n;
  }
  const nW = C * D;
  const x0 = new Float64Array(nW + C);
  if (options.init) {
    const W0 = Float64Array.from(options.init.weights.data);
    x0.set(W0, 0);
    x0.set(rawBias(W0, Float64Array.from(options.init.bias), mu, C, D, +1), nW);
  }
  // Fixed diagonal preconditioner (centred coordinates only): the Hessian diagonal at W = 0 with
  // uniform softmax: s E_w[(x_d - mu_d)^2] + l2 for the weights, s for the biases. The weights of
  // small-scale features (e.g. L2-normalised embeddings) otherwise have a curvature ~D times below the
  // biases'. Without centring the Hessian couples the biases with W mu, and this diagonal slows
  // L-BFGS down (fortunes 7,045 x 512 x 22 at tolerance 1e-6: 89 iterations with it, 64 without;
  // centred: 42 with, 53 without; the 16,000 x 512 x 1,000 synthetic problem: 14 with, 15 without).
  let diag: Float64Array | undefined;
  if (mu) {
    diag = new Float64Array(nW + C);
    const s = (1 / C) * (1 - 1 / C);
    let wsum = 0;
    for (let t = 0; t < n; t++) wsum += rowWeights[t]!;
    const ex2 = new Float64Array(D);
    if (wsum > 0) {
      for (let t = 0; t < n; t++) {
        const w = rowWeights[t]! / wsum;
        const o = row(t) * D;
        for (let d = 0; d < D; d++) {
          const v = X[o + d]! - mu[d]!;
          ex2[d]! += w * v * v;
        }
      }
    }
    for (let c = 0; c < C; c++) for (let d = 0; d < D; d++) diag[c * D + d] = s * ex2[d]! + l2;
    for (let c = 0; c < C; c++) diag[nW + c] = s;
    for (let j = 0; j < diag.length; j++) if (!(diag[j]! > 1e-12)) diag[j] = 1e-12;
  }
  return {
    n,
    D,
    C,
    nW,
    X,
    rowIndex,
    y,
    rowWeights,
    mu,
    l2,
    tolerance,
    relativeDecrease,
    maxIterations,
    x0,
    diag,
  };
}

/**
 * Softmax cross-entropy of training rows [t0, t0 + m) (internal): `logits` (m x C, X W^T without
 * bias) is overwritten; residuals r_tc = w_t (p_tc - 1[c = y_t]) go to RT (C x m, transposed) and
 * are added to gb (length C). Returns sum_t w_t (lse_t - z_{t, y_t}).
 */
function blockResiduals(
  p: ProbeProblem,
  t0: number,
  m: number,
  bias: Float64Array,
  logits: Float64Array,
  RT: Float64Array,
  gb: Float64Array,
): number {
  const { C, y, rowWeights } = p;
  let loss = 0;
  for (let i = 0; i < m; i++) {
    const o = i * C;
    let mx = Number.NEGATIVE_INFINITY;
    for (let c = 0; c < C; c++) {
      const v = logits[o + c]! + bias[c]!;
      logits[o + c] = v;
      if (v > mx) mx = v;
    }
    const yi = y[t0 + i]!;
    const zy = logits[o + yi]!;
    let s = 0;
    for (let c = 0; c < C; c++) {
      const e = Math.exp(logits[o + c]! - mx);
      logits[o + c] = e;
      s += e;
    }
    const wi = rowWeights[t0 + i]!;
    loss += wi * (mx + Math.log(s) - zy);
    const scale = wi / s;
    for (let c = 0; c < C; c++) {
      const r = scale * logits[o + c]! - (c === yi ? wi : 0);
      RT[c * m + i] = r;
      gb[c]! += r;
    }
  }
  return loss;
}

/**
 * Weight gradient and penalty (internal): gW = G - gb mu^T + l2 W, with G = sum_t r_t x_t^T on the
 * raw features (C x D); returns l2/2 ||W||^2.
 */
function probeWeightGradient(p: ProbeProblem, W: Float64Array, G: Float64Array, gb: Float64Array, gW: Float64Array): number {
  const { C, D, l2, mu } = p;
  let reg = 0;
  for (let c = 0; c < C; c++) {
    const o = c * D;
    const g = gb[c]!;
    for (let d = 0; d < D; d++) {
      const w = W[o + d]!;
      reg += w * w;
      gW[o + d] = G[o + d]! - (mu ? g * mu[d]! : 0) + l2 * w;
    }
  }
  return 0.5 * l2 * reg;
}

function probeResult(p: ProbeProblem, result: LbfgsResult, backend: string): LinearProbe {
  const { C, D, nW } = p;
  const W = Float64Array.from(result.x.subarray(0, nW));
  const head: LinearHead = {
    weights: { data: W, rows: C, cols: D },
    bias: rawBias(W, result.x.subarray(nW), p.mu, C, D),
  };
  return {
    head,
    logits: (f: Matrix) => applyHead(head, f),
    objective: result.value,
    gradientNorm: result.gradientNorm,
    iterations: result.iterations,
    evaluations: result.evaluations,
    converged: result.converged,
    backend,
  };
}

/** Default bytes of block scratch of the synchronous engine. */
const BLOCK_BYTES = 4 * 1024 * 1024;

/**
 * Multinomial logistic regression on frozen features:
 *   min_{W, b} (1/n) sum_i w_{y_i} [logsumexp(W x_i + b) - (W x_i + b)_{y_i}] + l2/2 ||W||_F^2
 * (bias unregularised; i over the training rows), by L-BFGS (memory 10, Armijo backtracking line
 * search, a fixed diagonal preconditioner); deterministic. Each evaluation runs over blocks of
 * `blockRows` rows: logits, residuals and the gradient R^T X of a block on the fastest registered
 * `gemmABt` kernel, accumulated in Float64 — scratch of O(blockRows (C + D)) numbers, no N x C
 * buffer and no copy of X (also with `rows` and `center`).
 * @param features N x D (Float32 or Float64) @param labels N class indices (only the training rows' are read)
 */
export function trainLinearProbe(features: Matrix, labels: Labels, options: LinearProbeOptions = {}): LinearProbe {
  const p = probeProblem(features, labels, options, 'trainLinearProbe');
  const { n, D, C, nW, X, rowIndex, mu } = p;
  const gemmBackend = resolveKernel('gemmABt', checkBackendChoice(options.backend, 'trainLinearProbe'));
  const gemm = gemmBackend.gemmABt;
  const elementBytes = X instanceof Float32Array ? 4 : 8;
  const bs = Math.min(n, options.blockRows ?? Math.max(16, Math.floor(BLOCK_BYTES / (2 * D * elementBytes + 16 * C))));
  const make = (length: number): KernelArray => (X instanceof Float32Array ? new Float32Array(length) : new Float64Array(length));
  const Xb = rowIndex ? make(bs * D) : undefined; // gathered rows of a block (only with `rows`)
  const XbT = make(D * bs); // the block transposed (D x m): the gradient GEMM reads contiguous rows
  const logits = new Float64Array(bs * C);
  const RT = new Float64Array(C * bs);
  const Gb = new Float64Array(nW);
  const G = new Float64Array(nW);
  const evaluate = (x: Float64Array, gradient: Float64Array): number => {
    const W = x.subarray(0, nW);
    const bias = rawBias(W, x.subarray(nW), mu, C, D);
    const gb = gradient.subarray(nW);
    gb.fill(0);
    G.fill(0);
    let loss = 0;
    for (let t0 = 0; t0 < n; t0 += bs) {
      const m = Math.min(bs, n - t0);
      let A: KernelArray;
      if (Xb && rowIndex) {
        for (let i = 0; i < m; i++) {
          const o = rowIndex[t0 + i]! * D;
          Xb.set(X.subarray(o, o + D), i * D);
        }
        A = Xb;
      } else A = X.subarray(t0 * D, (t0 + m) * D);
      gemm(A, m, W, C, D, logits);
      loss += blockResiduals(p, t0, m, bias, logits, RT, gb);
      for (let i = 0; i < m; i++) {
        const o = i * D;
        for (let d = 0; d < D; d++) XbT[d * m + i] = A[o + d]!;
      }
      gemm(RT, C, XbT, D, m, Gb);
      for (let j = 0; j < nW; j++) G[j]! += Gb[j]!;
    }
    return loss + probeWeightGradient(p, W, G, gb, gradient.subarray(0, nW));
  };
  const result = minimizeLbfgs(evaluate, p.x0, {
    tolerance: p.tolerance,
    maxIterations: p.maxIterations,
    memory: 10,
    preconditioner: () => p.diag,
    relativeDecrease: p.relativeDecrease,
  });
  return probeResult(p, result, gemmBackend.name);
}

/**
 * Label moments of the training rows (internal): S = sum_t w_t e_{y_t} x_t^T (C x D, raw features)
 * and s = sum_t w_t e_{y_t} (C), the constant parts of the gradient, so a fused evaluation needs
 * only sum_t w_t p_t x_t^T, sum_t w_t p_t and sum_t w_t lse_t.
 */
function labelMoments(p: ProbeProblem): { S: Float64Array; s: Float64Array } {
  const { n, D, C, X, rowIndex, y, rowWeights } = p;
  const S = new Float64Array(C * D);
  const s = new Float64Array(C);
  for (let t = 0; t < n; t++) {
    const w = rowWeights[t]!;
    if (w === 0) continue;
    const c = y[t]!;
    s[c]! += w;
    const o = (rowIndex ? rowIndex[t]! : t) * D;
    const oc = c * D;
    for (let d = 0; d < D; d++) S[oc + d]! += w * X[o + d]!;
  }
  return { S, s };
}

/**
 * The label terms of a fused evaluation (internal; a function of its own so V8 optimises its loops,
 * which in the async phase loop it would not): subtracts S from G and s from gb, returns
 * sum_t w_t z_{t, y_t} = sum_c (W_c . S_c + bias_c s_c).
 */
function subtractLabelMoments(
  W: Float64Array,
  bias: Float64Array,
  S: Float64Array,
  s: Float64Array,
  C: number,
  D: number,
  G: Float64Array,
  gb: Float64Array,
): number {
  let zy = 0;
  for (let c = 0; c < C; c++) {
    const o = c * D;
    let dot = 0;
    for (let d = 0; d < D; d++) dot += W[o + d]! * S[o + d]!;
    zy += dot + bias[c]! * s[c]!;
    gb[c]! -= s[c]!;
  }
  for (let j = 0; j < C * D; j++) G[j]! -= S[j]!;
  return zy;
}

/**
 * The Float32 phase of {@link trainLinearProbeAsync} stops at this max-abs gradient when the
 * requested tolerance is finer; the Float64 phase (on the same backend) continues from there.
 */
export const PROBE_FLOAT32_TOLERANCE = 1e-5;

/** Evaluations without a Float32-resolvable decrease after which the Float32 phase ends. */
const FLOAT32_STALL = 8;

/**
 * {@link trainLinearProbe} on an asynchronous backend with a fused `probeSession` (e.g. onnxruntime
 * via @gla/kernels-onnx): the whole evaluation (logits, softmax, gradient products, log-sum-exp) runs
 * inside the backend over chunks of the training rows, which it keeps (copied once per run); only
 * C x D + C + 1 numbers per chunk come back, summed in Float64. Same objective, same L-BFGS:
 * a Float32 phase to max-abs gradient {@link PROBE_FLOAT32_TOLERANCE}, then (when the requested
 * tolerance is finer) a Float64 phase on the same backend, so the reported gradient is Float64.
 * `center`, `rows` and `classWeights` work as in the synchronous engine. Without such a backend it
 * runs the synchronous version.
 */
export async function trainLinearProbeAsync(features: Matrix, labels: Labels, options: LinearProbeOptions = {}): Promise<LinearProbe> {
  const p = probeProblem(features, labels, options, 'trainLinearProbeAsync');
  const backend = resolveKernel('probeSession', checkBackendChoice(options.backend, 'trainLinearProbeAsync'));
  if (!backend.probeSession) return trainLinearProbe(features, labels, options);
  const { D, C, nW, mu } = p;
  const switchAt =
    options.float32Tolerance === undefined ? PROBE_FLOAT32_TOLERANCE : checkPositive(options.float32Tolerance, 'float32Tolerance');
  const { S, s } = labelMoments(p);
  const session: ProbeSession = await backend.probeSession({
    features: p.X,
    rows: features.rows,
    cols: D,
    ...(p.rowIndex ? { rowIndex: p.rowIndex } : {}),
    rowWeights: p.rowWeights,
    classes: C,
  });
  try {
    const G = new Float64Array(nW);
    // The curvature pairs, carried from the Float32 phase into the Float64 one (a model of the
    // same objective's Hessian: only the search directions depend on it, not the stopping test).
    const history = { S: [] as (Float64Array | Float32Array)[], Y: [] as (Float64Array | Float32Array)[] };
    // The pairs in Float32 when in Float64 they would take more than 16 MiB (16,000 x 512 x 1,000: 78 MiB
    // -> 39 MiB; same iterations there). Small problems keep Float64 pairs: the mixed-type products of
    // the two-loop recursion cost more time than the memory is worth (fortunes 7,045 x 512 x 22).
    const historyPrecision = 2 * 10 * (nW + C) * 8 > 16 * 2 ** 20 ? 'float32' : 'float64';
    // A phase of L-BFGS on `precision`. The Float32 phase also ends at its noise floor: after
    // FLOAT32_STALL evaluations in a row without a decrease of more than 1e-7 relative (the
    // objective's own Float32 resolution), from its best point so far.
    const phase = async (
      x0: Float64Array,
      tolerance: number,
      maxIterations: number,
      precision: 'float32' | 'float64',
      relativeDecrease: number,
    ): Promise<LbfgsResult> => {
      let best: LbfgsResult | undefined;
      let sinceBest = 0;
      let evaluations = 0;
      let improvements = 0;
      const run = lbfgs(x0, {
        tolerance,
        maxIterations,
        memory: 10,
        preconditioner: () => p.diag,
        relativeDecrease,
        history,
        historyPrecision,
      });
      let step = run.next();
      while (!step.done) {
        const x = step.value;
        const gradient = new Float64Array(nW + C);
        const W = x.subarray(0, nW);
        const bias = rawBias(W, x.subarray(nW), mu, C, D);
        const gb = gradient.subarray(nW);
        // sum_t w_t lse_t; G = sum_t w_t p_t x_t^T; gb = sum_t w_t p_t
        const lse = await session.evaluate(W, bias, precision, G, gb);
        const zy = subtractLabelMoments(W, bias, S, s, C, D, G, gb);
        const value = lse - zy + probeWeightGradient(p, W, G, gb, gradient.subarray(0, nW));
        evaluations++;
        if (precision === 'float32') {
          if (!best || value < best.value - 1e-7 * Math.abs(best.value)) {
            if (best) improvements++;
            best = { x, value, gradient, gradientNorm: maxAbs(gradient), iterations: improvements, evaluations, converged: false };
            sinceBest = 0;
          } else if (++sinceBest >= FLOAT32_STALL) return { ...best, evaluations };
        }
        step = run.next({ value, gradient });
      }
      return step.value;
    };
    const coarse = Math.max(p.tolerance, switchAt);
    const timer = (globalThis as { performance?: { now(): number } }).performance;
    const clock = () => (timer ? timer.now() : Date.now()) / 1000;
    const t0 = clock();
    const single = coarse === p.tolerance;
    const first = await phase(p.x0, coarse, p.maxIterations, 'float32', single ? p.relativeDecrease : 0);
    const t1 = clock();
    const phases: NonNullable<LinearProbe['phases']> = [
      { precision: 'float32', iterations: first.iterations, evaluations: first.evaluations, seconds: t1 - t0 },
    ];
    const remaining = p.maxIterations - first.iterations;
    if (single || remaining < 1) return { ...probeResult(p, first, `${backend.name}(float32)`), phases };
    const second = await phase(first.x, p.tolerance, remaining, 'float64', p.relativeDecrease);
    phases.push({ precision: 'float64', iterations: second.iterations, evaluations: second.evaluations, seconds: clock() - t1 });
    const result = probeResult(p, second, `${backend.name}(float32+float64)`);
    return { ...result, iterations: first.iterations + second.iterations, evaluations: first.evaluations + second.evaluations, phases };
  } finally {
    await session.release();
  }
}

/** Options of {@link trainCenteredLinearProbe}. */
export interface CenteredProbeOptions {
  classes: number;
  /** L2 penalty on W (core's trainLinearProbe units: + l2/2 ||W||^2). */
  l2: number;
  /** Warm start (a head on the RAW features). */
  init?: LinearHead;
  /** Max-abs gradient tolerance (default 1e-5). */
  tolerance?: number;
  /** L-BFGS iteration cap (default 300). */
  maxIterations?: number;
  /** Train on these rows of `features` only, read in place (see {@link LinearProbeOptions.rows}). */
  rows?: ArrayLike<number>;
}

function centeredOptions(options: CenteredProbeOptions, name: string): LinearProbeOptions {
  if (options === null || typeof options !== 'object') fail('invalid-option', `${name}: options must be an object`);
  return {
    classes: options.classes,
    l2: options.l2,
    maxIterations: options.maxIterations ?? 300,
    tolerance: options.tolerance ?? 1e-5,
    center: true,
    ...(options.init ? { init: options.init } : {}),
    ...(options.rows !== undefined ? { rows: options.rows } : {}),
  };
}

/**
 * {@link trainLinearProbe} in coordinates centred by the training rows' column means, for
 * conditioning (`center: true`: rank-one corrections, no centred copy); the returned head is on the
 * raw features (W (x - mu) + b' = W x + (b' - W mu)), so the objective and the optimum are the same
 * as without centring, only reached faster.
 * @param features N x D @param labels N class indices (indexed like the features) @returns a head on the raw features
 */
export function trainCenteredLinearProbe(features: Matrix, labels: ArrayLike<number>, options: CenteredProbeOptions): LinearHead {
  return trainLinearProbe(features, labels as Labels, centeredOptions(options, 'trainCenteredLinearProbe')).head;
}

/** {@link trainCenteredLinearProbe} on {@link trainLinearProbeAsync}'s engine (fused sessions when registered). */
export async function trainCenteredLinearProbeAsync(
  features: Matrix,
  labels: ArrayLike<number>,
  options: CenteredProbeOptions & { backend?: BackendChoice },
): Promise<LinearHead> {
  const o = centeredOptions(options, 'trainCenteredLinearProbeAsync');
  const probe = await trainLinearProbeAsync(
    features,
    labels as Labels,
    options.backend !== undefined ? { ...o, backend: options.backend } : o,
  );
  return probe.head;
}

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
): {
  l2: number;
  scores: { l2: number; accuracy: number; crossEntropy: number }[];
} {
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
      const probe = trainLinearProbe(xTrain, yTrain, {
        ...probeOptions,
        classes: C,
        l2,
        ...(previous ? { init: previous } : {}),
      });
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
