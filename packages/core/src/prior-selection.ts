import { fail } from './errors';
import { checkLabels, checkLogits, checkNonNegative, checkPositiveInteger, checkTemperature, type Labels, type Matrix } from './matrix';
import { estimatePrior, type PriorEstimate } from './prior';
import { stratifiedFolds } from './random';
import { calibrateTemperature, type TemperatureMethod } from './temperature';

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
  // Folds outer, candidates inner: each fold's rows are copied once, not once per candidate.
  const totals = candidates.map(() => 0);
  const counts = candidates.map(() => 0);
  const emptyClass = candidates.map(() => false);
  for (const { train, test } of splits) {
    if (test.length === 0 || train.length === 0) continue;
    const trainZ = takeRows(logits, train);
    const testZ = takeRows(logits, test);
    const trainY = Int32Array.from(train, (i) => y[i]!);
    const testY = Int32Array.from(test, (i) => y[i]!);
    candidates.forEach((lambda, c) => {
      if (emptyClass[c]) return;
      let estimate: PriorEstimate;
      try {
        estimate = estimatePrior(trainZ, trainY, {
          temperature,
          regularization: lambda,
          ...(options.tolerance ? { tolerance: options.tolerance } : {}),
        });
      } catch (error) {
        if ((error as { code?: string }).code === 'empty-class') {
          emptyClass[c] = true;
          return;
        }
        throw error;
      }
      totals[c]! += debiasedCrossEntropy(testZ, testY, estimate.logPrior, temperature) * test.length;
      counts[c]! += test.length;
    });
  }
  const scores = candidates.map((lambda, c) => ({
    regularization: lambda,
    crossEntropy: emptyClass[c] ? Number.POSITIVE_INFINITY : totals[c]! / counts[c]!,
  }));
  let best = scores[0]!;
  for (const s of scores) {
    if (s.crossEntropy < best.crossEntropy || (s.crossEntropy === best.crossEntropy && s.regularization > best.regularization)) best = s;
  }
  return { regularization: best.regularization, scores, temperature };
}
