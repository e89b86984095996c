import { fail } from './errors';
import { checkLabels, checkLogits, type Labels, type Matrix } from './matrix';
import { rowLogSumExp } from './softmax';

function checkFiniteList(values: ArrayLike<number>, name: string): void {
  if (values === null || typeof values !== 'object' || typeof values.length !== 'number')
    fail('invalid-option', `${name}: expected an array of numbers`);
  for (let i = 0; i < values.length; i++) if (!Number.isFinite(values[i]!)) fail('non-finite', `${name}[${i}] is not finite`);
}

/** Arithmetic mean (Float64 accumulation); NaN for an empty list. */
export function mean(values: ArrayLike<number>): number {
  if (values.length === 0) return Number.NaN;
  let s = 0;
  for (let i = 0; i < values.length; i++) s += values[i]!;
  return s / values.length;
}

/** Sample standard deviation (divisor n - 1); 0 for a single value, NaN for an empty list. */
export function sampleStd(values: ArrayLike<number>): number {
  if (values.length === 0) return Number.NaN;
  if (values.length < 2) return 0;
  const m = mean(values);
  let ss = 0;
  for (let i = 0; i < values.length; i++) ss += (values[i]! - m) ** 2;
  return Math.sqrt(ss / (values.length - 1));
}

/**
 * Per-row negative log-likelihood of softmax(logits) at the labels (nats): log-sum-exp of row i
 * minus logits[i, y_i]. The mean of the result is {@link negativeLogLikelihood} at T = 1.
 * @param logits N x C @param labels N class indices @returns length N
 */
export function rowNegativeLogLikelihood(logits: Matrix, labels: Labels): Float64Array {
  checkLogits(logits);
  const y = checkLabels(labels, logits.rows, logits.cols);
  const { data, cols } = logits;
  const out = new Float64Array(logits.rows);
  for (let i = 0; i < logits.rows; i++) out[i] = rowLogSumExp(data, i * cols, cols) - data[i * cols + y[i]!]!;
  return out;
}

/**
 * Paired z statistic of a - b over the entries where `mask` is non-zero (all when omitted):
 * mean(d) / (sd(d) / sqrt(n)). ±Infinity when every difference is the same non-zero number, 0 when
 * all are 0 or there is no entry.
 */
export function pairedZStatistic(a: ArrayLike<number>, b: ArrayLike<number>, mask?: ArrayLike<number>): number {
  if (a.length !== b.length) fail('length-mismatch', `pairedZStatistic: a has length ${a.length}, b ${b.length}`);
  if (mask && mask.length !== a.length) fail('length-mismatch', `pairedZStatistic: mask has length ${mask.length}, expected ${a.length}`);
  let n = 0;
  let sum = 0;
  for (let i = 0; i < a.length; i++) {
    if (mask && !mask[i]) continue;
    n++;
    sum += a[i]! - b[i]!;
  }
  if (n === 0) return 0;
  const m = sum / n;
  let ss = 0;
  for (let i = 0; i < a.length; i++) {
    if (mask && !mask[i]) continue;
    ss += (a[i]! - b[i]! - m) ** 2;
  }
  const se = n > 1 ? Math.sqrt(ss / (n - 1) / n) : 0;
  if (!(se > 1e-15 * Math.max(1, Math.abs(m)))) return m > 0 ? Number.POSITIVE_INFINITY : m < 0 ? Number.NEGATIVE_INFINITY : 0;
  return m / se;
}

/** log Gamma(x) for x > 0 (Lanczos, g = 7, 9 terms; relative error ~1e-15). */
function logGamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - logGamma(1 - x);
  const c = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905,
    -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  const z = x - 1;
  let s = c[0]!;
  for (let i = 1; i < 9; i++) s += c[i]! / (z + i);
  const t = z + 7.5;
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(s);
}

/** Continued fraction of the regularised incomplete beta function (modified Lentz). */
function betaContinuedFraction(a: number, b: number, x: number): number {
  const tiny = 1e-300;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 500; m++) {
    const m2 = 2 * m;
    let num = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2));
    d = 1 + num * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + num / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    h *= d * c;
    num = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1));
    d = 1 + num * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + num / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return h;
}

/** Regularised incomplete beta I_x(a, b) for x in [0, 1]. */
function incompleteBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const logFront = logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log(1 - x);
  if (x < (a + 1) / (a + b + 2)) return (Math.exp(logFront) * betaContinuedFraction(a, b, x)) / a;
  return 1 - (Math.exp(logFront) * betaContinuedFraction(b, a, 1 - x)) / b;
}

/** CDF of Student's t distribution with `df` > 0 degrees of freedom at t. */
export function studentTCdf(t: number, df: number): number {
  if (!(df > 0) || !Number.isFinite(df)) fail('invalid-option', `studentTCdf: df must be a finite number > 0, got ${String(df)}`);
  if (Number.isNaN(t)) return Number.NaN;
  if (t === Number.POSITIVE_INFINITY) return 1;
  if (t === Number.NEGATIVE_INFINITY) return 0;
  const tail = 0.5 * incompleteBeta(df / (df + t * t), df / 2, 0.5);
  return t > 0 ? 1 - tail : tail;
}

/**
 * Quantile of Student's t distribution: the t with P(T <= t) = p, for p in (0, 1) and df > 0
 * (bisection on the CDF to ~1e-13 relative). studentTQuantile(0.975, 4) = 2.7764451...
 */
export function studentTQuantile(p: number, df: number): number {
  if (!(p > 0 && p < 1)) fail('invalid-option', `studentTQuantile: p must be in (0, 1), got ${String(p)}`);
  if (!(df > 0) || !Number.isFinite(df)) fail('invalid-option', `studentTQuantile: df must be a finite number > 0, got ${String(df)}`);
  if (p === 0.5) return 0;
  if (p < 0.5) return -studentTQuantile(1 - p, df);
  let lo = 0;
  let hi = 1;
  while (studentTCdf(hi, df) < p) {
    lo = hi;
    hi *= 2;
    if (hi > 1e300) return Number.POSITIVE_INFINITY;
  }
  for (let it = 0; it < 200 && hi - lo > 1e-13 * hi; it++) {
    const mid = 0.5 * (lo + hi);
    if (studentTCdf(mid, df) < p) lo = mid;
    else hi = mid;
  }
  return 0.5 * (lo + hi);
}

/** Summary of paired differences a_i - b_i (e.g. one method's accuracy minus another's, per seed). */
export interface PairedDifference {
  /** Number of pairs. */
  n: number;
  /** Mean of a_i - b_i. */
  mean: number;
  /** Sample standard deviation of the differences (0 for n = 1). */
  std: number;
  /** Two-sided Student-t confidence interval of the mean difference (NaN bounds for n < 2). */
  low: number;
  high: number;
  /** Confidence level of [low, high], e.g. 0.95. */
  confidence: number;
  /** Pairs with a_i > b_i, a_i = b_i (|d| <= 1e-12) and a_i < b_i. */
  wins: number;
  ties: number;
  losses: number;
}

/**
 * Paired comparison of two equally long lists (pair i = the same seed, split or cell): mean
 * difference with a Student-t interval `mean ± t_{(1+confidence)/2, n-1} * sd / sqrt(n)`, and the
 * win / tie / loss counts.
 * @param options.confidence in (0, 1), default 0.95
 */
export function pairedDifference(a: ArrayLike<number>, b: ArrayLike<number>, options: { confidence?: number } = {}): PairedDifference {
  checkFiniteList(a, 'a');
  checkFiniteList(b, 'b');
  if (a.length !== b.length) fail('length-mismatch', `pairedDifference: a has length ${a.length}, b ${b.length}`);
  if (a.length === 0) fail('empty-input', 'pairedDifference: no pairs');
  const confidence = options.confidence ?? 0.95;
  if (!(confidence > 0 && confidence < 1)) fail('invalid-option', `pairedDifference: confidence must be in (0, 1), got ${confidence}`);
  const d = Float64Array.from({ length: a.length }, (_, i) => a[i]! - b[i]!);
  const n = d.length;
  const m = mean(d);
  const s = sampleStd(d);
  let wins = 0;
  let ties = 0;
  for (const v of d) {
    if (Math.abs(v) <= 1e-12) ties++;
    else if (v > 0) wins++;
  }
  const half = n > 1 ? (studentTQuantile((1 + confidence) / 2, n - 1) * s) / Math.sqrt(n) : Number.NaN;
  return { n, mean: m, std: s, low: m - half, high: m + half, confidence, wins, ties, losses: n - wins - ties };
}
