import { fail } from './errors';
import { checkLabels, checkLogits, checkPositiveInteger, type Labels, type Matrix } from './matrix';
import { rowLogSumExp, rowMax } from './softmax';

/**
 * Row-wise argmax (first index on ties; masked -Infinity entries never win unless the row is all
 * masked, which throws).
 * @param logits N x C scores
 * @returns Int32Array of N predicted classes
 */
export function argmaxRows(logits: Matrix): Int32Array {
  checkLogits(logits);
  const { data, rows, cols } = logits;
  const out = new Int32Array(rows);
  for (let i = 0; i < rows; i++) {
    const o = i * cols;
    let best = 0;
    let bv = data[o]!;
    for (let j = 1; j < cols; j++) {
      const v = data[o + j]!;
      if (v > bv) {
        bv = v;
        best = j;
      }
    }
    out[i] = best;
  }
  return out;
}

function predictionsAndLabels(logits: Matrix, labels: Labels): { pred: Int32Array; y: Int32Array } {
  const pred = argmaxRows(logits);
  const y = checkLabels(labels, logits.rows, logits.cols);
  return { pred, y };
}

/** Top-1 accuracy in [0, 1]. @param logits N x C @param labels N class indices */
export function accuracy(logits: Matrix, labels: Labels): number {
  const { pred, y } = predictionsAndLabels(logits, labels);
  let hit = 0;
  for (let i = 0; i < y.length; i++) if (pred[i] === y[i]) hit++;
  return hit / y.length;
}

/**
 * Accuracy of each class (fraction of its examples predicted correctly).
 * @returns Float64Array of C values; NaN for a class with no example
 */
export function perClassAccuracy(logits: Matrix, labels: Labels): Float64Array {
  const { pred, y } = predictionsAndLabels(logits, labels);
  const hit = new Float64Array(logits.cols);
  const count = new Float64Array(logits.cols);
  for (let i = 0; i < y.length; i++) {
    count[y[i]!]!++;
    if (pred[i] === y[i]) hit[y[i]!]!++;
  }
  for (let c = 0; c < hit.length; c++) hit[c] = count[c]! > 0 ? hit[c]! / count[c]! : Number.NaN;
  return hit;
}

/** Mean of per-class accuracies over the classes present in `labels` (in [0, 1]). */
export function balancedAccuracy(logits: Matrix, labels: Labels): number {
  const pc = perClassAccuracy(logits, labels);
  let s = 0;
  let n = 0;
  for (const a of pc) {
    if (!Number.isNaN(a)) {
      s += a;
      n++;
    }
  }
  return s / n;
}

/** Head / medium / tail accuracies (each in [0, 1], NaN if a group has no test example). */
export interface GroupAccuracy {
  head: number;
  medium: number;
  tail: number;
  /** Class indices in each group. */
  groups: { head: Int32Array; medium: Int32Array; tail: Int32Array };
}

/** Classes ranked by a score and cut into head / medium / tail thirds (see {@link classGroups}). */
export interface ClassGroups {
  /** Class indices ranked by score, highest first (ties: lower class index first). */
  order: number[];
  /** The top round(C/3) classes of `order`. */
  head: number[];
  /** Ranks round(C/3) .. round(2C/3) - 1. */
  medium: number[];
  /** The rest. */
  tail: number[];
}

/**
 * The project's one head / medium / tail rule: classes ranked by `ranking` (descending; ties by
 * class index) and cut into thirds at ranks round(C/3) and round(2C/3), the integer cuts nearest
 * to the exact thirds of the ranking (C = 10 gives 3/4/3, C = 22 gives 7/8/7, C = 100 gives
 * 33/34/33). The cut is symmetric: reversing the ranking swaps head and tail exactly. The GLA
 * reference groups by the ranking of q; pass training counts for frequency groups.
 * @param ranking C scores, higher = more frequent (NaN rejected)
 */
export function classGroups(ranking: ArrayLike<number>): ClassGroups {
  if (ranking === null || typeof ranking !== 'object' || typeof ranking.length !== 'number')
    fail('invalid-option', 'classGroups: ranking must be an array of numbers');
  const C = ranking.length;
  for (let c = 0; c < C; c++) if (Number.isNaN(ranking[c]!)) fail('non-finite', `classGroups: ranking[${c}] is NaN`);
  const order = Array.from({ length: C }, (_, c) => c).sort((a, b) => ranking[b]! - ranking[a]! || a - b);
  const first = Math.round(C / 3);
  const second = Math.round((2 * C) / 3);
  return { order, head: order.slice(0, first), medium: order.slice(first, second), tail: order.slice(second) };
}

/**
 * Head / medium / tail accuracy: classes grouped by {@link classGroups} (thirds of the ranking,
 * cut at round(C/3) and round(2C/3)); each group's accuracy is computed over the test examples
 * whose label is in that group.
 * @param ranking C scores; higher = more frequent (e.g. training counts or the estimated prior q)
 */
export function groupAccuracy(logits: Matrix, labels: Labels, ranking: ArrayLike<number>): GroupAccuracy {
  const { pred, y } = predictionsAndLabels(logits, labels);
  const C = logits.cols;
  if (ranking?.length !== C) fail('length-mismatch', `groupAccuracy: ranking has length ${ranking?.length}, expected ${C}`);
  for (let c = 0; c < C; c++) {
    if (!Number.isFinite(ranking[c]!)) fail('non-finite', `groupAccuracy: ranking[${c}] is not finite`);
  }
  const groups = classGroups(ranking);
  const group = new Int32Array(C);
  for (const c of groups.medium) group[c] = 1;
  for (const c of groups.tail) group[c] = 2;
  const hit = [0, 0, 0];
  const count = [0, 0, 0];
  for (let i = 0; i < y.length; i++) {
    const g = group[y[i]!]!;
    count[g]!++;
    if (pred[i] === y[i]) hit[g]!++;
  }
  const acc = (g: number) => (count[g]! > 0 ? hit[g]! / count[g]! : Number.NaN);
  return {
    head: acc(0),
    medium: acc(1),
    tail: acc(2),
    groups: { head: Int32Array.from(groups.head), medium: Int32Array.from(groups.medium), tail: Int32Array.from(groups.tail) },
  };
}

/**
 * Mean negative log-likelihood (cross-entropy, nats) of the labels under softmax(logits / T).
 * Infinity if a label's class is masked.
 */
export function negativeLogLikelihood(logits: Matrix, labels: Labels, options: { temperature?: number } = {}): number {
  checkLogits(logits);
  const y = checkLabels(labels, logits.rows, logits.cols);
  const T = options.temperature ?? 1;
  if (!(T > 0) || !Number.isFinite(T)) fail('invalid-temperature', `negativeLogLikelihood: temperature must be > 0, got ${T}`);
  const beta = 1 / T;
  const { data, cols } = logits;
  let s = 0;
  for (let i = 0; i < y.length; i++) s += rowLogSumExp(data, i * cols, cols, beta) - data[i * cols + y[i]!]! * beta;
  return s / y.length;
}

/** One confidence bin of a reliability diagram. */
export interface ReliabilityBin {
  /** Bin edges in [0, 1]: (lower, upper]; the first bin includes 0. */
  lower: number;
  upper: number;
  /** Number of examples whose max-softmax confidence falls in the bin. */
  count: number;
  /** Mean confidence and accuracy of those examples (NaN when empty). */
  confidence: number;
  accuracy: number;
}

/**
 * Reliability diagram: examples binned by max-softmax confidence into `bins` equal-width bins
 * (default 15) on [0, 1].
 */
export function reliabilityBins(logits: Matrix, labels: Labels, options: { bins?: number; temperature?: number } = {}): ReliabilityBin[] {
  checkLogits(logits);
  const y = checkLabels(labels, logits.rows, logits.cols);
  const bins = checkPositiveInteger(options.bins ?? 15, 'bins');
  const T = options.temperature ?? 1;
  if (!(T > 0) || !Number.isFinite(T)) fail('invalid-temperature', `reliabilityBins: temperature must be > 0, got ${T}`);
  const beta = 1 / T;
  const { data, cols } = logits;
  const count = new Float64Array(bins);
  const conf = new Float64Array(bins);
  const hit = new Float64Array(bins);
  for (let i = 0; i < y.length; i++) {
    const o = i * cols;
    const m = rowMax(data, o, cols);
    const lse = rowLogSumExp(data, o, cols, beta);
    const c = Math.exp(m * beta - lse);
    let arg = 0;
    while (data[o + arg]! !== m) arg++;
    const b = Math.min(bins - 1, Math.max(0, Math.ceil(c * bins) - 1));
    count[b]!++;
    conf[b]! += c;
    if (arg === y[i]) hit[b]!++;
  }
  return Array.from({ length: bins }, (_, b) => ({
    lower: b / bins,
    upper: (b + 1) / bins,
    count: count[b]!,
    confidence: count[b]! > 0 ? conf[b]! / count[b]! : Number.NaN,
    accuracy: count[b]! > 0 ? hit[b]! / count[b]! : Number.NaN,
  }));
}

/**
 * Expected calibration error (in [0, 1]): sum over bins of (count/N) * |accuracy - confidence|,
 * 15 equal-width bins by default.
 */
export function expectedCalibrationError(logits: Matrix, labels: Labels, options: { bins?: number; temperature?: number } = {}): number {
  const bins = reliabilityBins(logits, labels, options);
  let e = 0;
  for (const b of bins) if (b.count > 0) e += (b.count / logits.rows) * Math.abs(b.accuracy - b.confidence);
  return e;
}

/**
 * Confusion matrix: entry (true class, predicted class) counts examples.
 * @returns C x C Float64 matrix (rows = true labels, cols = predictions)
 */
export function confusionMatrix(logits: Matrix, labels: Labels): Matrix {
  const { pred, y } = predictionsAndLabels(logits, labels);
  const C = logits.cols;
  const data = new Float64Array(C * C);
  for (let i = 0; i < y.length; i++) data[y[i]! * C + pred[i]!]!++;
  return { data, rows: C, cols: C };
}
