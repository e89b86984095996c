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

/**
 * Head / medium / tail accuracy as in the reference: classes are sorted by `ranking` (descending:
 * e.g. the training label counts or the estimated prior q) and split into thirds, the first
 * `floor(C/3)` classes being head, the next `floor(C/3)` medium and the rest tail. Each group's
 * accuracy is computed over the test examples whose label is in that group.
 * @param ranking C scores; higher = more frequent (ties broken by class index)
 */
export function groupAccuracy(logits: Matrix, labels: Labels, ranking: ArrayLike<number>): GroupAccuracy {
  const { pred, y } = predictionsAndLabels(logits, labels);
  const C = logits.cols;
  if (ranking?.length !== C) fail('length-mismatch', `groupAccuracy: ranking has length ${ranking?.length}, expected ${C}`);
  for (let c = 0; c < C; c++) {
    if (!Number.isFinite(ranking[c]!)) fail('non-finite', `groupAccuracy: ranking[${c}] is not finite`);
  }
  const order = Array.from({ length: C }, (_, c) => c).sort((a, b) => ranking[b]! - ranking[a]! || a - b);
  const third = Math.floor(C / 3);
  const group = new Int32Array(C);
  order.forEach((c, r) => {
    group[c] = r < third ? 0 : r < 2 * third ? 1 : 2;
  });
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
    groups: {
      head: Int32Array.from(order.slice(0, third)),
      medium: Int32Array.from(order.slice(third, 2 * third)),
      tail: Int32Array.from(order.slice(2 * third)),
    },
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
