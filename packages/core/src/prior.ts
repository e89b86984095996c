import { fail } from './errors';
import {
  checkDistribution,
  checkLabels,
  checkLogits,
  checkNonNegative,
  checkPositive,
  checkPositiveInteger,
  checkTemperature,
  type Labels,
  type Matrix,
} from './matrix';
import {
  accumulateExact,
  addLabelStatistics,
  addOuterUpper,
  addSparseOuterUpper,
  capSparseIndices,
  emptyPriorStatistics,
  mergePriorStatistics,
  type PassRequest,
  type PriorChunk,
  type PriorSolverName,
  type PriorSolverOutcome,
  type PriorSolverSettings,
  type PriorStatistics,
  type PriorStatisticsLevel,
  priorStatistics,
  runPriorSolver,
  runPriorSolverAsync,
  SPARSE_HESSIAN_THRESHOLD,
} from './prior-solver';
import { stratifiedFolds } from './random';
import { calibrateTemperature, type TemperatureMethod } from './temperature';

/** Result shared by every prior estimator of this package. */
export interface PriorEstimate {
  /** log q, length C (natural log; sum of exp = 1). */
  logPrior: Float64Array;
  /** q = exp(logPrior), length C, positive, sums to 1. */
  prior: Float64Array;
  /** The temperature T the logits were divided by (store it with q). */
  temperature: number;
  /** Final value of the objective the estimator minimises (nats; see each estimator). */
  objective: number;
  /** Max-abs gradient (or fixed-point residual) at the returned point: the tolerance reached. */
  gradientNorm: number;
  iterations: number;
  converged: boolean;
  /** Which algorithm produced the result (e.g. 'newton', 'lbfgs', 'em', 'power-iteration', 'sgd'). */
  solver: string;
  /** Number of full passes over the data. */
  passes: number;
}

/** Options of {@link estimatePrior}. */
export interface EstimatePriorOptions {
  /**
   * Temperature T > 0 dividing the logits, or a calibration method run first on the same labelled
   * logits ('nll' | 'match-confidence', see calibrateTemperature). Default 1.
   */
  temperature?: number | TemperatureMethod;
  /**
   * lambda >= 0: adds lambda/2 * ||b - mean(b)||^2, shrinking log q toward uniform. Dimensionless;
   * the Hessian diagonal is about pi_k ~ 1/C, so lambda ~ 1/C halves the deviations of log q.
   * Choose it by held-out cross-entropy with {@link selectRegularization}. Default 0.
   */
  regularization?: number;
  /**
   * Label-free prior matching: solve mean_i softmax(z_i / T - b) = targetMarginal (length C,
   * sums to 1) on unlabelled logits; `labels` may then be omitted (and are ignored if given).
   */
  targetMarginal?: ArrayLike<number>;
  /** Stop when max-abs gradient <= tolerance (default 1e-9). */
  tolerance?: number;
  /** Iteration cap (default 500). */
  maxIterations?: number;
  /**
   * 'auto' (default): 'newton' for C <= 64, 'sparse-newton' above. 'lbfgs' (preconditioned by the
   * exact Hessian diagonal) is available for comparison and is sometimes faster for mid-sized C.
   */
  solver?: PriorSolverName;
  /**
   * Precision of the cached exp(z/T - rowmax) buffer: 'auto' (default) uses Float64 up to 2^24
   * entries and Float32 above when its certified rounding bound is below tolerance / 4.
   * 'float32' forces the smaller buffer (the solve is then finished on exact passes if needed).
   */
  cachePrecision?: 'auto' | 'float32' | 'float64';
}

/** Largest N x C for which the exp cache is kept in Float64 (128 MiB); above it Float32 is used. */
const FLOAT64_CACHE_LIMIT = 1 << 24;

/**
 * Relative error of one Float32 cache entry: float32 rounding (2^-24) plus the table exp below
 * (< 2e-13, see fastExpTable), so a probability moves by at most 2 delta / (1 - delta) relatively
 * with delta <= 2^-24 (1 + 4e-6): 2.00001 * 2^-24 bounds that with slack for the Float64 sums.
 */
const FLOAT32_GRADIENT_BOUND = 2.00001 * 2 ** -24;

/**
 * Entries with z/T - rowmax < -EXP_CUTOFF are stored as 0 in the Float32 cache (e^-64 = 1.6e-28;
 * the row maximum contributes 1). Each such entry is an absolute error < e^-64, accounted for in
 * the rounding bound of estimatePrior like the Float32 underflow (2^-150) it replaces.
 */
const EXP_CUTOFF = 64;

/** 16 / ln 2: x * EXP_SCALE is the exponent in sixteenths of a power of two. */
const EXP_SCALE = 16 / Math.LN2;
const LN2_16 = Math.LN2 / 16;
/** 1.5 * 2^52: adding and subtracting it rounds a double of magnitude < 2^51 to the nearest integer. */
const ROUND_MAGIC = 6755399441055744;
let fastExpTableCache: Float64Array | undefined;

/**
 * 2^(-j/16) for j = 0 .. 16 * 64 / ln 2 + 2 (correctly rounded to within 1 ulp by Math.pow). With
 * x = -j ln2/16 + r, |r| <= ln2/32 (+ 1e-14), exp(x) = 2^(-j/16) * e^r and e^r is its degree-5
 * Taylor polynomial: relative truncation error <= r^6/720 * e^|r| < 1.5e-13, plus a few ulps of
 * rounding, so < 2e-13 in total, far below the Float32 rounding (6e-8) that follows.
 */
function fastExpTable(): Float64Array {
  if (!fastExpTableCache) {
    const n = Math.ceil(EXP_CUTOFF * EXP_SCALE) + 3;
    fastExpTableCache = new Float64Array(n);
    for (let j = 0; j < n; j++) fastExpTableCache[j] = 2 ** (-j / 16);
  }
  return fastExpTableCache;
}

/**
 * Fills E[o .. o + C) with exp(data * beta - m) (m = beta * rowmax, so every exponent is <= 0) by
 * the table exp, 0 below -EXP_CUTOFF; returns their Float64 sum of the Float32-rounded values.
 */
function fillExpRowFloat32(
  data: ArrayLike<number>,
  o: number,
  C: number,
  beta: number,
  m: number,
  E: Float32Array,
  table: Float64Array,
): number {
  let s = 0;
  for (let k = 0; k < C; k++) {
    const x = data[o + k]! * beta - m;
    if (x < -EXP_CUTOFF) {
      E[o + k] = 0;
      continue;
    }
    const j = ROUND_MAGIC - x * EXP_SCALE - ROUND_MAGIC; // nearest integer to -x * 16 / ln 2, >= 0
    const r = x + j * LN2_16;
    const p = 1 + r * (1 + r * (0.5 + r * (1 / 6 + r * (1 / 24 + r * (1 / 120)))));
    const e = Math.fround(table[j | 0]! * p);
    E[o + k] = e;
    s += e;
  }
  return s;
}

/** Float64 cache row: exp(data * beta - m) by Math.exp; returns the sum. */
function fillExpRowFloat64(data: ArrayLike<number>, o: number, C: number, beta: number, m: number, E: Float64Array): number {
  let s = 0;
  for (let k = 0; k < C; k++) {
    const e = Math.exp(data[o + k]! * beta - m);
    E[o + k] = e;
    s += e;
  }
  return s;
}

/** First index of the row maximum (rows are validated: not all masked). */
function rowArgmax(data: ArrayLike<number>, o: number, C: number): number {
  let top = 0;
  let m = data[o]!;
  for (let k = 1; k < C; k++) {
    const v = data[o + k]!;
    if (v > m) {
      m = v;
      top = k;
    }
  }
  return top;
}

/** s = sum_k E[o + k] w[k] with four partial sums (breaks the add dependency chain). */
function rowDot(E: Float32Array | Float64Array, o: number, w: Float64Array, C: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let k = 0;
  for (; k + 3 < C; k += 4) {
    s0 += E[o + k]! * w[k]!;
    s1 += E[o + k + 1]! * w[k + 1]!;
    s2 += E[o + k + 2]! * w[k + 2]!;
    s3 += E[o + k + 3]! * w[k + 3]!;
  }
  for (; k < C; k++) s0 += E[o + k]! * w[k]!;
  return s0 + s1 + s2 + s3;
}

/** Number of indices listed by the last {@link rowDotSelect} call. */
let selectedCount = 0;

/**
 * rowDot that also lists in `index` (count in selectedCount) the k with E[o + k] w[k] >= cut: with
 * cut <= SPARSE_HESSIAN_THRESHOLD * s this is a superset of the sparse-Hessian entries of the row.
 */
function rowDotSelect(E: Float32Array | Float64Array, o: number, w: Float64Array, C: number, cut: number, index: Int32Array): number {
  let s0 = 0;
  let s1 = 0;
  let count = 0;
  let k = 0;
  for (; k + 1 < C; k += 2) {
    const t0 = E[o + k]! * w[k]!;
    const t1 = E[o + k + 1]! * w[k + 1]!;
    s0 += t0;
    s1 += t1;
    if (t0 >= cut) index[count++] = k;
    if (t1 >= cut) index[count++] = k + 1;
  }
  for (; k < C; k++) {
    const t = E[o + k]! * w[k]!;
    s0 += t;
    if (t >= cut) index[count++] = k;
  }
  selectedCount = count;
  return s0 + s1;
}

/** The second row's sum of the last {@link rowDot2} call. */
let secondSum = 0;

/** rowDot of the two consecutive rows at o and o + C (w read once); the second sum in secondSum. */
function rowDot2(E: Float32Array | Float64Array, o: number, w: Float64Array, C: number): number {
  const ob = o + C;
  let a0 = 0;
  let a1 = 0;
  let b0 = 0;
  let b1 = 0;
  let k = 0;
  for (; k + 1 < C; k += 2) {
    const w0 = w[k]!;
    const w1 = w[k + 1]!;
    a0 += E[o + k]! * w0;
    a1 += E[o + k + 1]! * w1;
    b0 += E[ob + k]! * w0;
    b1 += E[ob + k + 1]! * w1;
  }
  for (; k < C; k++) {
    a0 += E[o + k]! * w[k]!;
    b0 += E[ob + k]! * w[k]!;
  }
  secondSum = b0 + b1;
  return a0 + a1;
}

/** acc[k] += E[o + k] * ra + E[o + C + k] * rb: two rows per load / store of acc. */
function rowAxpy2(E: Float32Array | Float64Array, o: number, ra: number, rb: number, acc: Float64Array, C: number): void {
  const ob = o + C;
  for (let k = 0; k < C; k++) acc[k]! += E[o + k]! * ra + E[ob + k]! * rb;
}

/**
 * Sparse-Hessian part of one row (r = 1 / s): keeps the listed candidates with p_ik = E_ik r w_k >=
 * SPARSE_HESSIAN_THRESHOLD, adds their squares to acc2 (times w^2 later) and their pairwise products
 * to the second moment. Entries below the threshold (p^2 < 0.002 p) are left out of squaredMass in
 * this Hessian model: its diagonal only grows, so it stays diagonally dominant.
 */
function sparseRow(
  E: Float32Array | Float64Array,
  o: number,
  r: number,
  w: Float64Array,
  threshold: Float64Array,
  index: Int32Array,
  candidates: number,
  acc2: Float64Array,
  p: Float64Array,
  secondMoment: Float64Array,
  C: number,
): void {
  let count = 0;
  for (let x = 0; x < candidates; x++) {
    const k = index[x]!;
    if (E[o + k]! * r >= threshold[k]!) index[count++] = k;
  }
  for (let x = 0; x < count; x++) {
    const k = index[x]!;
    const u = E[o + k]! * r;
    acc2[k]! += u * u;
    p[k] = u * w[k]!;
  }
  const kept = capSparseIndices(p, index, count);
  addSparseOuterUpper(secondMoment, p, index, kept, C);
}

/** acc[k] += E[o + k] * r. */
function rowAxpy(E: Float32Array | Float64Array, o: number, r: number, acc: Float64Array, C: number): void {
  for (let k = 0; k < C; k++) acc[k]! += E[o + k]! * r;
}

/**
 * exp(z / T - rowmax) computed once; every solver pass is then two multiply-add sweeps, since
 * softmax(z_i / T - b)_k is proportional to E_ik * exp(-b_k). Internal.
 */
class ExpCache {
  readonly E: Float32Array | Float64Array;
  readonly rowMaxima: Float64Array;
  /** A column where the row attains its maximum (E = exp(0) = 1 there). */
  readonly rowArgmax: Int32Array;
  /**
   * s_i = sum_k E_ik lastW_k of the latest pass (0 if unknown). Since s_i(w) >= rho * lastSums_i with
   * rho = min_k w_k / lastW_k, it gives a tight lower bound on the new s_i before it is summed,
   * hence a tight cut for the sparse-Hessian candidates.
   */
  private readonly lastSums: Float64Array;
  private lastW: Float64Array;
  constructor(
    readonly logits: Matrix,
    readonly beta: number,
    float32: boolean,
  ) {
    const { data, rows, cols } = logits;
    this.E = float32 ? new Float32Array(rows * cols) : new Float64Array(rows * cols);
    this.rowMaxima = new Float64Array(rows);
    this.rowArgmax = new Int32Array(rows);
    this.lastSums = new Float64Array(rows);
    this.lastW = new Float64Array(cols).fill(1);
    const E = this.E;
    const table = fastExpTable();
    // The statistics at b = 0 come for free while the cache is filled (the solver's first pass).
    const atZero = emptyPriorStatistics(cols);
    const acc = atZero.mass;
    let lse = 0;
    let pendingInverse = 0;
    for (let i = 0; i < rows; i++) {
      const o = i * cols;
      const top = rowArgmax(data, o, cols);
      this.rowArgmax[i] = top;
      const m = data[o + top]! * beta;
      this.rowMaxima[i] = m;
      const s =
        E instanceof Float32Array ? fillExpRowFloat32(data, o, cols, beta, m, E, table) : fillExpRowFloat64(data, o, cols, beta, m, E);
      lse += m + Math.log(s);
      this.lastSums[i] = s;
      // Rows in pairs for the accumulation (acc loaded / stored once per two rows).
      if (i % 2 === 1) rowAxpy2(E, o - cols, pendingInverse, 1 / s, acc, cols);
      else if (i === rows - 1) rowAxpy(E, o, 1 / s, acc, cols);
      else pendingInverse = 1 / s;
    }
    atZero.logSumExp = lse;
    atZero.rows = rows;
    this.atZero = atZero;
  }

  private atZero: PriorStatistics | undefined;

  pass(bias: Float64Array, level: PriorStatisticsLevel): PriorStatistics {
    if (level === 'gradient' && this.atZero && bias.every((v) => v === 0)) {
      const stats = this.atZero;
      this.atZero = undefined;
      return stats;
    }
    const { rows, cols: C } = this.logits;
    const E = this.E;
    const stats = emptyPriorStatistics(C, level);
    let minBias = Number.POSITIVE_INFINITY;
    for (let k = 0; k < C; k++) if (bias[k]! < minBias) minBias = bias[k]!;
    const w = new Float64Array(C);
    for (let k = 0; k < C; k++) w[k] = Math.exp(minBias - bias[k]!);
    const acc = new Float64Array(C);
    const acc2 = new Float64Array(C);
    const p = new Float64Array(C);
    const diagonal = level !== 'gradient';
    const hessian = level === 'hessian';
    const sparse = level === 'sparse-hessian';
    const threshold = new Float64Array(C);
    for (let k = 0; k < C; k++) threshold[k] = SPARSE_HESSIAN_THRESHOLD / w[k]!;
    const index = new Int32Array(C);
    const { rowMaxima, rowArgmax } = this;
    const indexB = new Int32Array(C);
    const { lastSums, lastW } = this;
    let rho = Number.POSITIVE_INFINITY;
    for (let k = 0; k < C; k++) rho = Math.min(rho, w[k]! / lastW[k]!);
    if (!(rho >= 0 && rho < Number.POSITIVE_INFINITY)) rho = 0;
    // Candidate cut of row i: SPARSE_HESSIAN_THRESHOLD * (lower bound of s_i); E[o + argmax] = 1
    // gives s_i >= w[argmax], the latest pass s_i >= rho * lastSums[i] (the rounding of these
    // bounds, ~1e-16 relative, can only drop pairs at the threshold from this Hessian model).
    const cutOf = (i: number) => SPARSE_HESSIAN_THRESHOLD * Math.max(w[rowArgmax[i]!]!, rho * lastSums[i]!);
    let lse = 0;
    let i = 0;
    if (!diagonal || sparse) {
      // Rows in pairs: w and acc are loaded / stored once per two rows.
      for (; i + 1 < rows; i += 2) {
        const o = i * C;
        let sa: number;
        let sb: number;
        let na = 0;
        let nb = 0;
        if (sparse) {
          sa = rowDotSelect(E, o, w, C, cutOf(i), index);
          na = selectedCount;
          sb = rowDotSelect(E, o + C, w, C, cutOf(i + 1), indexB);
          nb = selectedCount;
        } else {
          sa = rowDot2(E, o, w, C);
          sb = secondSum;
        }
        // Extreme bias: finish row by row below (exact fallback).
        if (!(sa > 1e-280 && sa < 1e280 && sb > 1e-280 && sb < 1e280)) break;
        lastSums[i] = sa;
        lastSums[i + 1] = sb;
        lse += rowMaxima[i]! + rowMaxima[i + 1]! - 2 * minBias + Math.log(sa) + Math.log(sb);
        const ra = 1 / sa;
        const rb = 1 / sb;
        rowAxpy2(E, o, ra, rb, acc, C);
        if (sparse) {
          sparseRow(E, o, ra, w, threshold, index, na, acc2, p, stats.secondMoment!, C);
          sparseRow(E, o + C, rb, w, threshold, indexB, nb, acc2, p, stats.secondMoment!, C);
        }
      }
    }
    for (; i < rows; i++) {
      const o = i * C;
      const s = sparse ? rowDotSelect(E, o, w, C, cutOf(i), index) : rowDot(E, o, w, C);
      if (!(s > 1e-280 && s < 1e280)) {
        // Extreme bias: fall back to the exact row computation.
        accumulateExact(stats, this.logits, i, i + 1, bias, this.beta, level);
        lastSums[i] = 0;
        continue;
      }
      lastSums[i] = s;
      lse += rowMaxima[i]! - minBias + Math.log(s);
      const r = 1 / s;
      if (!diagonal) {
        rowAxpy(E, o, r, acc, C);
      } else if (sparse) {
        rowAxpy(E, o, r, acc, C);
        sparseRow(E, o, r, w, threshold, index, selectedCount, acc2, p, stats.secondMoment!, C);
      } else if (hessian) {
        for (let k = 0; k < C; k++) {
          const u = E[o + k]! * r;
          acc[k]! += u;
          acc2[k]! += u * u;
          p[k] = u * w[k]!;
        }
        addOuterUpper(stats.secondMoment!, p, C);
      } else {
        for (let k = 0; k < C; k++) {
          const u = E[o + k]! * r;
          acc[k]! += u;
          acc2[k]! += u * u;
        }
      }
    }
    this.lastW = w;
    stats.logSumExp += lse;
    stats.rows = rows;
    for (let k = 0; k < C; k++) {
      stats.mass[k]! += w[k]! * acc[k]!;
      if (diagonal) stats.squaredMass![k]! += w[k]! * w[k]! * acc2[k]!;
    }
    return stats;
  }
}

interface ResolvedOptions {
  settings: Omit<PriorSolverSettings, 'classes'>;
  temperature: number;
}

function resolveOptions(
  logits: Matrix,
  labels: Labels | undefined,
  options: EstimatePriorOptions,
  name: string,
): ResolvedOptions & { y?: Int32Array } {
  if (options === null || typeof options !== 'object') fail('invalid-option', `${name}: options must be an object`);
  const C = logits.cols;
  const targetMarginal = options.targetMarginal === undefined ? undefined : checkDistribution(options.targetMarginal, C, 'targetMarginal');
  const y = labels === undefined || targetMarginal ? undefined : checkLabels(labels, logits.rows, C);
  if (!targetMarginal && !y) fail('invalid-option', `${name}: labels are required unless targetMarginal is given`);
  let temperature: number;
  const t = options.temperature ?? 1;
  if (t === 'nll' || t === 'match-confidence') {
    if (labels === undefined) fail('invalid-option', `${name}: temperature '${t}' needs labels to calibrate on`);
    temperature = calibrateTemperature(logits, labels, { method: t });
  } else if (typeof t === 'number') {
    temperature = checkTemperature(t);
  } else {
    fail('invalid-option', `${name}: temperature must be a number > 0, 'nll' or 'match-confidence', got ${String(t)}`);
  }
  const solver = options.solver ?? 'auto';
  if (!['auto', 'newton', 'sparse-newton', 'lbfgs'].includes(solver)) fail('invalid-option', `${name}: unknown solver '${String(solver)}'`);
  return {
    y,
    temperature,
    settings: {
      regularization: checkNonNegative(options.regularization ?? 0, 'regularization'),
      ...(targetMarginal ? { targetMarginal } : {}),
      tolerance: checkPositive(options.tolerance ?? 1e-9, 'tolerance'),
      maxIterations: checkPositiveInteger(options.maxIterations ?? 500, 'maxIterations'),
      solver,
    },
  };
}

function finish(outcome: PriorSolverOutcome, temperature: number): PriorEstimate {
  const b = outcome.bias;
  let max = Number.NEGATIVE_INFINITY;
  for (const v of b) if (v > max) max = v;
  let s = 0;
  for (const v of b) s += Math.exp(v - max);
  const lse = max + Math.log(s);
  const logPrior = new Float64Array(b.length);
  const prior = new Float64Array(b.length);
  for (let k = 0; k < b.length; k++) {
    logPrior[k] = b[k]! - lse;
    prior[k] = Math.exp(logPrior[k]!);
  }
  return {
    logPrior,
    prior,
    temperature,
    objective: outcome.objective,
    gradientNorm: outcome.gradientNorm,
    iterations: outcome.iterations,
    converged: outcome.converged,
    solver: outcome.solver,
    passes: outcome.passes,
  };
}

/**
 * The GLA prior estimator (METHOD.md): b* = argmin_b (1/N) sum_i [logsumexp(z_i/T - b) -
 * (z_{i,y_i}/T - b_{y_i})] (+ lambda/2 ||b - mean b||^2), q = softmax(b*). At the optimum the mean
 * debiased probability equals the label histogram: mean_i softmax(z_i/T - log q) = pi_hat.
 *
 * Solver: exp(z/T - rowmax) is cached once (Float64, or Float32 above 2^24 entries), after which a
 * pass costs two multiply-add sweeps. C <= 64: Newton (C x C Hessian from the same pass, Cholesky,
 * Armijo line search), quadratic convergence in ~5-10 passes. C > 64: L-BFGS preconditioned by the
 * exact Hessian diagonal (the multiplicative fixed point b_k += log(mean p_k / pi_k) is this
 * diagonal-Newton step; L-BFGS adds the off-diagonal curvature), ~10-30 passes. With a Float32
 * cache the final gradient is re-verified by an exact Float64 pass (and the solve continued on exact
 * passes if needed), so `gradientNorm` is always the exact max-abs gradient.
 *
 * When the classes are perfectly separated the objective is flat around the start (b = 0) to
 * machine precision: the gradient vanishes there and q = uniform is returned (the data identify no
 * prior). Use regularization or another estimator in that case.
 *
 * @param logits N x C zero-shot logits (Float32 or Float64; -Infinity = masked class)
 * @param labels N labels; optional when `targetMarginal` is given
 * @throws GlaError `empty-class` when a class has no label and regularization is 0
 */
export function estimatePrior(logits: Matrix, labels?: Labels, options: EstimatePriorOptions = {}): PriorEstimate {
  checkLogits(logits);
  const resolved = resolveOptions(logits, labels, options, 'estimatePrior');
  const { temperature, y } = resolved;
  const C = logits.cols;
  const settings: PriorSolverSettings = { classes: C, ...resolved.settings };
  const labelStats = emptyPriorStatistics(C);
  if (y) addLabelStatistics(labelStats, logits, y, temperature);
  // Float32 cache: each cached exp has relative rounding error <= 2^-24, which moves every
  // softmax probability by at most ~2 * 2^-24 relatively, hence the gradient by at most
  // FLOAT32_GRADIENT_BOUND * max_k mean p_k. Used only when that bound is small against the tolerance.
  let maxTarget = 0;
  for (let k = 0; k < C; k++) {
    maxTarget = Math.max(
      maxTarget,
      settings.targetMarginal ? settings.targetMarginal[k]! : labelStats.labelCounts[k]! / Math.max(1, labelStats.labelledRows),
    );
  }
  const precision = options.cachePrecision ?? 'auto';
  if (!['auto', 'float32', 'float64'].includes(precision))
    fail('invalid-option', `estimatePrior: unknown cachePrecision '${String(precision)}'`);
  const float32 =
    precision === 'float32' ||
    (precision === 'auto' && logits.rows * C > FLOAT64_CACHE_LIMIT && FLOAT32_GRADIENT_BOUND * maxTarget <= 0.25 * settings.tolerance);
  const float32RoundingBound = (outcome: PriorSolverOutcome, rows: number): number => {
    // mean_i p_ik = target_k - gradient_k + lambda (b_k - mean b) at the returned point.
    let maxMass = 0;
    let mean = 0;
    for (const v of outcome.bias) mean += v / C;
    for (let k = 0; k < C; k++) {
      const target = settings.targetMarginal ? settings.targetMarginal[k]! : labelStats.labelCounts[k]! / rows;
      maxMass = Math.max(maxMass, target - outcome.gradient[k]! + settings.regularization * (outcome.bias[k]! - mean));
    }
    let lo = Number.POSITIVE_INFINITY;
    let hi = Number.NEGATIVE_INFINITY;
    for (const v of outcome.bias) {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
    // Relative rounding (and table-exp) error of the stored entries plus the absolute error
    // (< e^-EXP_CUTOFF each, relative to the row maximum 1) of the entries stored as 0.
    return FLOAT32_GRADIENT_BOUND * maxMass * 1.0001 + C * Math.exp(-EXP_CUTOFF) * Math.exp(hi - lo) * 2;
  };
  const cache = new ExpCache(logits, 1 / temperature, float32);
  const withLabels = (stats: PriorStatistics): PriorStatistics => {
    stats.labelCounts = labelStats.labelCounts;
    stats.labelLogitSum = labelStats.labelLogitSum;
    stats.labelledRows = labelStats.labelledRows;
    return stats;
  };
  const exactPass = (request: PassRequest): PriorStatistics => {
    const stats = emptyPriorStatistics(C, request.level);
    accumulateExact(stats, logits, 0, logits.rows, request.bias, 1 / temperature, request.level);
    return withLabels(stats);
  };
  const float32Tolerance = Math.max(settings.tolerance - FLOAT32_GRADIENT_BOUND * maxTarget * 2, 0.25 * settings.tolerance);
  let outcome = runPriorSolver(float32 ? { ...settings, tolerance: float32Tolerance } : settings, (request) =>
    withLabels(cache.pass(request.bias, request.level)),
  );
  if (float32) {
    const bound = float32RoundingBound(outcome, logits.rows);
    if (outcome.gradientNorm + bound <= settings.tolerance) {
      outcome = { ...outcome, gradientNorm: outcome.gradientNorm + bound };
    } else {
      // The cache's rounding could matter: continue on exact Float64 passes.
      const verified = runPriorSolver(
        {
          ...settings,
          initialBias: outcome.bias,
          fixedPointStart: false,
          maxIterations: Math.max(1, settings.maxIterations - outcome.iterations),
        },
        exactPass,
      );
      outcome = { ...verified, iterations: outcome.iterations + verified.iterations, passes: outcome.passes + verified.passes };
    }
  }
  return finish(outcome, temperature);
}

/** A data source for {@link estimatePriorChunked}. */
export type PriorSource =
  /** Chunks re-iterated on every pass (an array, or any re-iterable collection). */
  | Iterable<PriorChunk>
  /** A factory returning a fresh iterable of chunks for each pass (e.g. reading files again). */
  | (() => Iterable<PriorChunk>)
  /** Full control: return the summed statistics of all rows at `bias` (e.g. from workers). */
  | { pass(bias: Float64Array, level: PriorStatisticsLevel): PriorStatistics };

/** Options of the chunked estimators: like {@link EstimatePriorOptions} but T must be a number. */
export interface EstimatePriorChunkedOptions extends Omit<EstimatePriorOptions, 'temperature'> {
  /** Number of classes C (required). */
  classes: number;
  /** T > 0 (default 1). */
  temperature?: number;
}

function chunkedSettings(options: EstimatePriorChunkedOptions): { settings: PriorSolverSettings; temperature: number } {
  if (options === null || typeof options !== 'object') fail('invalid-option', 'estimatePriorChunked: options with `classes` are required');
  const C = checkPositiveInteger(options.classes, 'classes');
  const temperature = checkTemperature(options.temperature ?? 1);
  const fake: Matrix = { data: new Float64Array(C), rows: 1, cols: C };
  const resolved = resolveOptions(fake, options.targetMarginal ? undefined : [0], { ...options, temperature }, 'estimatePriorChunked');
  return { settings: { classes: C, ...resolved.settings }, temperature };
}

function statsOfChunks(
  chunks: Iterable<PriorChunk>,
  C: number,
  bias: Float64Array,
  T: number,
  level: PriorStatisticsLevel,
): PriorStatistics {
  const total = emptyPriorStatistics(C, level);
  let index = 0;
  for (const chunk of chunks) {
    if (chunk?.logits?.cols !== C) fail('shape-mismatch', `chunk ${index}: logits must have ${C} columns, got ${chunk?.logits?.cols}`);
    mergePriorStatistics(total, priorStatistics(chunk, bias, T, level));
    index++;
  }
  return total;
}

function passFunction(source: PriorSource, C: number, T: number): (request: PassRequest) => PriorStatistics {
  if (typeof source === 'function') return (r) => statsOfChunks(source(), C, r.bias, T, r.level);
  if (source && typeof (source as { pass?: unknown }).pass === 'function') {
    const s = source as { pass(bias: Float64Array, level: PriorStatisticsLevel): PriorStatistics };
    return (r) => s.pass(r.bias, r.level);
  }
  if (source && typeof (source as Iterable<PriorChunk>)[Symbol.iterator] === 'function') {
    return (r) => statsOfChunks(source as Iterable<PriorChunk>, C, r.bias, T, r.level);
  }
  return fail('invalid-option', 'estimatePriorChunked: source must be an iterable of chunks, a factory, or { pass }');
}

/**
 * The GLA prior estimator over data that is not one in-memory matrix: the solver only sees summed
 * {@link PriorStatistics}, one pass over the source per objective evaluation, in exact Float64.
 * Gives the same result as {@link estimatePrior} on the concatenated chunks.
 * @param source chunks (re-iterable), a chunk factory, or `{ pass(bias, level) }` returning summed statistics
 */
export function estimatePriorChunked(source: PriorSource, options: EstimatePriorChunkedOptions): PriorEstimate {
  const { settings, temperature } = chunkedSettings(options);
  return finish(runPriorSolver(settings, passFunction(source, settings.classes, temperature)), temperature);
}

/**
 * Asynchronous variant of {@link estimatePriorChunked} for sources whose passes are asynchronous
 * (web workers, worker_threads, streamed files): `pass(bias, level)` may return a Promise of the
 * summed statistics (e.g. each worker runs {@link priorStatistics} on its rows, the caller merges
 * them with mergePriorStatistics).
 */
export async function estimatePriorChunkedAsync(
  source: { pass(bias: Float64Array, level: PriorStatisticsLevel): Promise<PriorStatistics> | PriorStatistics },
  options: EstimatePriorChunkedOptions,
): Promise<PriorEstimate> {
  const { settings, temperature } = chunkedSettings(options);
  if (typeof source?.pass !== 'function') fail('invalid-option', 'estimatePriorChunkedAsync: source must provide pass(bias, level)');
  return finish(await runPriorSolverAsync(settings, (r) => source.pass(r.bias, r.level)), temperature);
}

/** Copies the given rows of a matrix (same dtype). Internal helper. */
export function takeRows(m: Matrix, indices: ArrayLike<number>): Matrix {
  const { cols } = m;
  const out = m.data instanceof Float32Array ? new Float32Array(indices.length * cols) : new Float64Array(indices.length * cols);
  for (let r = 0; r < indices.length; r++) {
    const i = indices[r]!;
    out.set(m.data.subarray(i * cols, (i + 1) * cols), r * cols);
  }
  return { data: out, rows: indices.length, cols };
}

/** Mean cross-entropy of labels under softmax(z / T - log q) (debiased logits), in nats. */
export function debiasedCrossEntropy(logits: Matrix, labels: Int32Array, logPrior: Float64Array, temperature: number): number {
  const { data, rows, cols } = logits;
  const beta = 1 / temperature;
  let total = 0;
  for (let i = 0; i < rows; i++) {
    const o = i * cols;
    let m = Number.NEGATIVE_INFINITY;
    for (let k = 0; k < cols; k++) {
      const v = data[o + k]! * beta - logPrior[k]!;
      if (v > m) m = v;
    }
    let s = 0;
    for (let k = 0; k < cols; k++) s += Math.exp(data[o + k]! * beta - logPrior[k]! - m);
    const y = labels[i]!;
    total += m + Math.log(s) - (data[o + y]! * beta - logPrior[y]!);
  }
  return total / rows;
}

/** Options of {@link selectRegularization}. */
export interface SelectRegularizationOptions {
  /** Candidate lambdas (default [0, 1e-4, 1e-3, 1e-2, 1e-1, 1]). */
  candidates?: number[];
  /** Number of stratified folds (default 5; capped at N). */
  folds?: number;
  /** Seed of the fold assignment (default 0). */
  seed?: number;
  /** T (number or calibration method, calibrated once on all the data; default 1). */
  temperature?: number | TemperatureMethod;
  tolerance?: number;
}

/** Outcome of {@link selectRegularization}. */
export interface RegularizationSelection {
  /** The lambda with the lowest mean held-out cross-entropy (ties: the larger lambda). */
  regularization: number;
  /** Mean held-out cross-entropy (nats) per candidate; Infinity when a fold had no finite optimum. */
  scores: { regularization: number; crossEntropy: number }[];
  temperature: number;
}

/**
 * Picks `regularization` for {@link estimatePrior} by stratified k-fold cross-validation: for each
 * candidate lambda, q is estimated on k-1 folds and scored by the held-out cross-entropy of the
 * debiased logits z/T - log q on the remaining fold. lambda = 0 scores Infinity when a training fold
 * lacks a class (common at 1-2 shots), so shrinkage is then chosen automatically.
 * @param logits N x C @param labels N
 */
export function selectRegularization(logits: Matrix, labels: Labels, options: SelectRegularizationOptions = {}): RegularizationSelection {
  checkLogits(logits);
  const C = logits.cols;
  const y = checkLabels(labels, logits.rows, C);
  const candidates = options.candidates ?? [0, 1e-4, 1e-3, 1e-2, 1e-1, 1];
  if (!Array.isArray(candidates) || candidates.length === 0)
    fail('invalid-option', 'selectRegularization: candidates must be a non-empty array');
  for (const c of candidates) checkNonNegative(c, 'candidates[]');
  const folds = Math.min(checkPositiveInteger(options.folds ?? 5, 'folds'), logits.rows);
  if (folds < 2) fail('invalid-option', 'selectRegularization: needs at least 2 folds (and 2 examples)');
  const seed = options.seed ?? 0;
  const t = options.temperature ?? 1;
  const temperature = typeof t === 'number' ? checkTemperature(t) : calibrateTemperature(logits, y, { method: t });
  const assignment = stratifiedFolds(y, C, folds, seed);
  const splits = Array.from({ length: folds }, (_, f) => {
    const train: number[] = [];
    const test: number[] = [];
    for (let i = 0; i < y.length; i++) (assignment[i] === f ? test : train).push(i);
    return { train, test };
  });
  const scores = candidates.map((lambda) => {
    let total = 0;
    let count = 0;
    for (const { train, test } of splits) {
      if (test.length === 0 || train.length === 0) continue;
      const trainY = Int32Array.from(train, (i) => y[i]!);
      const testY = Int32Array.from(test, (i) => y[i]!);
      let estimate: PriorEstimate;
      try {
        estimate = estimatePrior(takeRows(logits, train), trainY, {
          temperature,
          regularization: lambda,
          ...(options.tolerance ? { tolerance: options.tolerance } : {}),
        });
      } catch (error) {
        if ((error as { code?: string }).code === 'empty-class') return { regularization: lambda, crossEntropy: Number.POSITIVE_INFINITY };
        throw error;
      }
      total += debiasedCrossEntropy(takeRows(logits, test), testY, estimate.logPrior, temperature) * test.length;
      count += test.length;
    }
    return { regularization: lambda, crossEntropy: total / count };
  });
  let best = scores[0]!;
  for (const s of scores) {
    if (s.crossEntropy < best.crossEntropy || (s.crossEntropy === best.crossEntropy && s.regularization > best.regularization)) best = s;
  }
  return { regularization: best.regularization, scores, temperature };
}
