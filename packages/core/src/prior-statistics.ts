/**
 * Sufficient statistics of the GLA prior objective (value, gradient, Hessian terms) per block of
 * rows, their merge, and the exact Float64 accumulation that defines them.
 */
import { fail } from './errors';
import { checkLabels, checkLogits, checkPositiveInteger, checkTemperature, type Labels, type Matrix } from './matrix';

/**
 * How much a data pass accumulates: `'gradient'` (objective + per-class softmax mass, O(C)),
 * `'diagonal'` (+ per-class squared mass, the Hessian diagonal, O(C)) or `'hessian'`
 * (+ the C x C second moment sum_i p_i p_i^T, O(C^2) per row).
 */
export type PriorStatisticsLevel = 'gradient' | 'diagonal' | 'sparse-hessian' | 'hessian';

/**
 * Level 'sparse-hessian' accumulates p_ia p_ib only for pairs with both probabilities >=
 * SPARSE_HESSIAN_THRESHOLD (the diagonal stays exact via squaredMass): a cheap approximation of the
 * Hessian used as the L-BFGS initial inverse-Hessian model for large C.
 */
export const SPARSE_HESSIAN_THRESHOLD = 2e-3;

/** At most this many probabilities per row enter the sparse Hessian (the largest ones). */
export const SPARSE_HESSIAN_MAX_PER_ROW = 12;

/**
 * Keeps at most SPARSE_HESSIAN_MAX_PER_ROW of the listed indices by raising the threshold
 * (doubling) until few enough remain; returns the new count (internal).
 */
export function capSparseIndices(p: Float64Array, index: Int32Array, count: number): number {
  let threshold = SPARSE_HESSIAN_THRESHOLD;
  while (count > SPARSE_HESSIAN_MAX_PER_ROW) {
    threshold *= 2;
    let kept = 0;
    for (let x = 0; x < count; x++) {
      const k = index[x]!;
      if (p[k]! >= threshold) index[kept++] = k;
    }
    count = kept;
  }
  return count;
}

/**
 * Sufficient statistics of the GLA prior objective for a set of rows at a bias b (C values), with
 * p_i = softmax(z_i / T - b). Sums (not means), so chunks add up with {@link mergePriorStatistics}.
 */
export interface PriorStatistics {
  classes: number;
  /** Number of rows. */
  rows: number;
  /** sum_i logsumexp(z_i / T - b). */
  logSumExp: number;
  /** sum_i p_i (length C). */
  mass: Float64Array;
  /** sum_i p_i^2 elementwise (length C); levels 'diagonal' and 'hessian'. */
  squaredMass?: Float64Array;
  /**
   * sum_i p_i p_i^T (C x C, row-major, upper triangle filled); level 'hessian'. At level
   * 'sparse-hessian' only pairs of probabilities >= SPARSE_HESSIAN_THRESHOLD are summed.
   */
  secondMoment?: Float64Array;
  /** Label histogram (counts, length C) of the labelled rows; independent of b. */
  labelCounts: Float64Array;
  /** sum over labelled rows of z_{i, y_i} / T; independent of b. */
  labelLogitSum: number;
  /** Number of rows that carried a label. */
  labelledRows: number;
}

/** A block of rows: logits (n x C) and optionally their labels (n). */
export interface PriorChunk {
  logits: Matrix;
  labels?: Labels;
}

/** An all-zero statistics object for C classes at the given level. */
export function emptyPriorStatistics(classes: number, level: PriorStatisticsLevel = 'gradient'): PriorStatistics {
  checkPositiveInteger(classes, 'classes');
  if (!['gradient', 'diagonal', 'sparse-hessian', 'hessian'].includes(level))
    fail('invalid-option', `unknown statistics level '${String(level)}'`);
  return {
    classes,
    rows: 0,
    logSumExp: 0,
    mass: new Float64Array(classes),
    ...(level !== 'gradient' ? { squaredMass: new Float64Array(classes) } : {}),
    ...(level === 'hessian' || level === 'sparse-hessian' ? { secondMoment: new Float64Array(classes * classes) } : {}),
    labelCounts: new Float64Array(classes),
    labelLogitSum: 0,
    labelledRows: 0,
  };
}

function addInto(into: Float64Array | undefined, from: Float64Array | undefined): void {
  if (!into || !from) return;
  for (let k = 0; k < into.length; k++) into[k]! += from[k]!;
}

/**
 * Adds statistics `b` into `a` in place (a is returned). Both must have the same number of
 * classes; fields missing from either side are dropped from the result's level.
 */
export function mergePriorStatistics(a: PriorStatistics, b: PriorStatistics): PriorStatistics {
  if (a.classes !== b.classes) fail('shape-mismatch', `mergePriorStatistics: ${a.classes} vs ${b.classes} classes`);
  a.rows += b.rows;
  a.logSumExp += b.logSumExp;
  addInto(a.mass, b.mass);
  if (a.squaredMass && b.squaredMass) addInto(a.squaredMass, b.squaredMass);
  else delete a.squaredMass;
  if (a.secondMoment && b.secondMoment) addInto(a.secondMoment, b.secondMoment);
  else delete a.secondMoment;
  addInto(a.labelCounts, b.labelCounts);
  a.labelLogitSum += b.labelLogitSum;
  a.labelledRows += b.labelledRows;
  return a;
}

/**
 * Accumulates {@link PriorStatistics} of one chunk at bias `bias` in exact Float64 arithmetic
 * (exp is evaluated on the fly; nothing is cached). This is the building block for out-of-core or
 * worker-parallel estimation: compute it per chunk (anywhere), merge, hand the sum to the solver.
 * @param chunk logits n x C (-Infinity = masked class) and optional labels (n)
 * @param bias b, length C (log-prior up to a constant)
 * @param temperature T > 0 dividing the logits
 */
export function priorStatistics(
  chunk: PriorChunk,
  bias: ArrayLike<number>,
  temperature: number,
  level: PriorStatisticsLevel = 'gradient',
): PriorStatistics {
  const logits = checkLogits(chunk.logits, 'chunk.logits');
  const T = checkTemperature(temperature);
  const C = logits.cols;
  if (bias?.length !== C) fail('length-mismatch', `priorStatistics: bias has length ${bias?.length}, expected ${C}`);
  for (let k = 0; k < C; k++) if (!Number.isFinite(bias[k]!)) fail('non-finite', `priorStatistics: bias[${k}] is not finite`);
  const stats = emptyPriorStatistics(C, level);
  if (chunk.labels !== undefined) {
    const y = checkLabels(chunk.labels, logits.rows, C, 'chunk.labels');
    addLabelStatistics(stats, logits, y, T);
  }
  accumulateExact(stats, logits, 0, logits.rows, bias, 1 / T, level);
  return stats;
}

/** Adds the label histogram and labelled-logit sum of validated rows (internal). */
export function addLabelStatistics(stats: PriorStatistics, logits: Matrix, y: Int32Array, T: number): void {
  const { data, cols } = logits;
  for (let i = 0; i < y.length; i++) {
    const v = data[i * cols + y[i]!]!;
    if (v === Number.NEGATIVE_INFINITY) fail('non-finite', `labels: row ${i} is labelled ${y[i]} but that class is masked (-Infinity)`);
    stats.labelCounts[y[i]!]!++;
    stats.labelLogitSum += v / T;
  }
  stats.labelledRows += y.length;
}

/** Exact Float64 accumulation of rows [start, end) (internal; inputs validated). */
export function accumulateExact(
  stats: PriorStatistics,
  logits: Matrix,
  start: number,
  end: number,
  bias: ArrayLike<number>,
  beta: number,
  level: PriorStatisticsLevel,
): void {
  const { data, cols: C } = logits;
  const p = new Float64Array(C);
  const sparseIndex = new Int32Array(C);
  const { mass, squaredMass, secondMoment } = stats;
  for (let i = start; i < end; i++) {
    const o = i * C;
    let m = Number.NEGATIVE_INFINITY;
    for (let k = 0; k < C; k++) {
      const v = data[o + k]! * beta - bias[k]!;
      p[k] = v;
      if (v > m) m = v;
    }
    let s = 0;
    for (let k = 0; k < C; k++) {
      const e = Math.exp(p[k]! - m);
      p[k] = e;
      s += e;
    }
    stats.logSumExp += m + Math.log(s);
    const inv = 1 / s;
    for (let k = 0; k < C; k++) {
      const pk = p[k]! * inv;
      p[k] = pk;
      mass[k]! += pk;
    }
    if (level !== 'gradient' && squaredMass) {
      for (let k = 0; k < C; k++) squaredMass[k]! += p[k]! * p[k]!;
    }
    if (level === 'hessian' && secondMoment) addOuterUpper(secondMoment, p, C);
    else if (level === 'sparse-hessian' && secondMoment) {
      let count = 0;
      for (let k = 0; k < C; k++) if (p[k]! >= SPARSE_HESSIAN_THRESHOLD) sparseIndex[count++] = k;
      count = capSparseIndices(p, sparseIndex, count);
      addSparseOuterUpper(secondMoment, p, sparseIndex, count, C);
    }
  }
  stats.rows += end - start;
}

/** Adds the upper triangle of p p^T into `target` (C x C); call {@link symmetrizeUpper} at the end. */
export function addOuterUpper(target: Float64Array, p: Float64Array, C: number): void {
  for (let a = 0; a < C; a++) {
    const pa = p[a]!;
    if (pa === 0) continue;
    const row = a * C;
    for (let b = a; b < C; b++) target[row + b]! += pa * p[b]!;
  }
}

/** Adds p_a p_b for a <= b among the listed (ascending) indices into `target` (internal). */
export function addSparseOuterUpper(target: Float64Array, p: Float64Array, index: Int32Array, count: number, C: number): void {
  for (let x = 0; x < count; x++) {
    const a = index[x]!;
    const pa = p[a]!;
    const row = a * C;
    for (let y = x; y < count; y++) {
      const b = index[y]!;
      target[row + b]! += pa * p[b]!;
    }
  }
}
