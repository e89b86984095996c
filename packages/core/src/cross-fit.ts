import { fail } from './errors';
import { foldRows, takeLabels } from './folds';
import { applyHead, interpolateHeads, type LinearHead } from './heads';
import { trainCenteredLinearProbe } from './linear-probe';
import { checkLabels, checkPositiveInteger, type Matrix } from './matrix';
import { accuracy, negativeLogLikelihood } from './metrics';
import { estimatePrior, takeRows } from './prior';

/** Compares candidates: higher accuracy first, then lower NLL (ties within 1e-12). */
function better(acc: number, nll: number, bestAcc: number, bestNll: number): boolean {
  return acc > bestAcc + 1e-12 || (Math.abs(acc - bestAcc) <= 1e-12 && nll < bestNll);
}

/** Result of {@link crossFitLinearProbe}. */
export interface CrossFittedProbe {
  /** The chosen L2 strength. */
  l2: number;
  /** N x C out-of-fold logits at the chosen l2 (row i from the head trained without i's fold). */
  outOfFold: Matrix;
  /** Fold heads at the chosen l2 (head f trained without fold f; undefined for an empty fold). */
  heads: (LinearHead | undefined)[];
  /** Out-of-fold accuracy and NLL of every candidate, in the order tried (largest l2 first). */
  scores: { l2: number; accuracy: number; nll: number }[];
}

/**
 * K-fold cross-fitting of a (centred) linear probe: every labelled example gets an out-of-fold
 * logit, and l2 is chosen among `l2Grid` by out-of-fold accuracy (ties: lower NLL). Candidates run
 * from the largest l2 down, each fold warm-started from the same fold's previous head.
 * @param features N x D @param labels N @param folds N fold indices in [0, foldCount)
 */
export function crossFitLinearProbe(
  features: Matrix,
  labels: ArrayLike<number>,
  options: {
    classes: number;
    folds: ArrayLike<number>;
    foldCount: number;
    l2Grid: readonly number[];
    tolerance?: number;
    maxIterations?: number;
  },
): CrossFittedProbe {
  const C = checkPositiveInteger(options.classes, 'classes');
  const y = checkLabels(labels as Int32Array, features.rows, C);
  if (options.folds.length !== y.length)
    fail('length-mismatch', `crossFitLinearProbe: folds has length ${options.folds.length}, expected ${y.length}`);
  if (!options.l2Grid.length) fail('empty-input', 'crossFitLinearProbe: l2Grid is empty');
  const parts = foldRows(options.folds, options.foldCount);
  let best: CrossFittedProbe | undefined;
  let bestAcc = -1;
  let bestNll = Number.POSITIVE_INFINITY;
  const scores: CrossFittedProbe['scores'] = [];
  let previous: (LinearHead | undefined)[] = [];
  for (const l2 of [...options.l2Grid].sort((a, b) => b - a)) {
    const oof = new Float64Array(y.length * C);
    const heads: (LinearHead | undefined)[] = [];
    parts.forEach(({ train, held }, f) => {
      if (held.length === 0) return;
      const init = previous[f] ?? heads[f - 1];
      const head = trainCenteredLinearProbe(takeRows(features, train), takeLabels(y, train), {
        classes: C,
        l2,
        tolerance: options.tolerance ?? 1e-4,
        maxIterations: options.maxIterations ?? 150,
        ...(init ? { init } : {}),
      });
      heads[f] = head;
      const logits = applyHead(head, takeRows(features, held));
      for (let r = 0; r < held.length; r++) oof.set(logits.data.subarray(r * C, (r + 1) * C), held[r]! * C);
    });
    previous = heads;
    const outOfFold: Matrix = { data: oof, rows: y.length, cols: C };
    const acc = accuracy(outOfFold, y);
    const nll = negativeLogLikelihood(outOfFold, y);
    scores.push({ l2, accuracy: acc, nll });
    if (better(acc, nll, bestAcc, bestNll)) {
      bestAcc = acc;
      bestNll = nll;
      best = { l2, outOfFold, heads, scores };
    }
  }
  return { ...best!, scores };
}

/**
 * WiSE-FT's alpha for linear heads, chosen on cross-fitted logits: for every candidate, each fold's
 * rows get the logits of `interpolateHeads(zeroShot, foldHead_f, alpha)`; the candidate with the
 * best out-of-fold accuracy (ties: lower NLL; then the earlier candidate) wins. The same selection
 * (cross-fitted, accuracy then NLL) as the probe's l2.
 */
export function selectWiseAlpha(
  features: Matrix,
  labels: ArrayLike<number>,
  options: {
    folds: ArrayLike<number>;
    foldCount: number;
    foldHeads: readonly (LinearHead | undefined)[];
    zeroShotHead: LinearHead;
    alphaGrid: readonly number[];
  },
): { alpha: number; scores: { alpha: number; accuracy: number; nll: number }[] } {
  const C = options.zeroShotHead.weights.rows;
  const y = checkLabels(labels as Int32Array, features.rows, C);
  if (!options.alphaGrid.length) fail('empty-input', 'selectWiseAlpha: alphaGrid is empty');
  const parts = foldRows(options.folds, options.foldCount);
  let bestAlpha = options.alphaGrid[0]!;
  let bestAcc = -1;
  let bestNll = Number.POSITIVE_INFINITY;
  const scores: { alpha: number; accuracy: number; nll: number }[] = [];
  for (const alpha of options.alphaGrid) {
    const oof = new Float64Array(y.length * C);
    parts.forEach(({ held }, f) => {
      const head = options.foldHeads[f];
      if (!head || held.length === 0) return;
      const logits = applyHead(interpolateHeads(options.zeroShotHead, head, alpha), takeRows(features, held));
      for (let r = 0; r < held.length; r++) oof.set(logits.data.subarray(r * C, (r + 1) * C), held[r]! * C);
    });
    const m: Matrix = { data: oof, rows: y.length, cols: C };
    const acc = accuracy(m, y);
    const nll = negativeLogLikelihood(m, y);
    scores.push({ alpha, accuracy: acc, nll });
    if (better(acc, nll, bestAcc, bestNll)) {
      bestAcc = acc;
      bestNll = nll;
      bestAlpha = alpha;
    }
  }
  return { alpha: bestAlpha, scores };
}

/**
 * Cross-fitted debiased zero-shot logits: row i of fold f gets z_i / T - log q_(-f), with q_(-f)
 * estimated ({@link estimatePrior}) on the other folds only, so a weight fitted on these values is
 * fitted on held-out debiasing. A class absent from the other folds has no finite optimum at
 * `regularization` 0; that fold is then estimated with regularization max(regularization, 1e-2).
 */
export function crossFittedDebiasedLogits(
  zeroShot: Matrix,
  labels: ArrayLike<number>,
  options: { classes: number; folds: ArrayLike<number>; foldCount: number; temperature: number; regularization: number },
): Matrix {
  const C = options.classes;
  const y = checkLabels(labels as Int32Array, zeroShot.rows, C);
  const out = new Float64Array(zeroShot.rows * C);
  const T = options.temperature;
  for (const { train, held } of foldRows(options.folds, options.foldCount)) {
    if (held.length === 0) continue;
    const zTrain = takeRows(zeroShot, train);
    const yTrain = takeLabels(y, train);
    let logQ: Float64Array;
    try {
      logQ = estimatePrior(zTrain, yTrain, { temperature: T, regularization: options.regularization }).logPrior;
    } catch {
      logQ = estimatePrior(zTrain, yTrain, { temperature: T, regularization: Math.max(options.regularization, 1e-2) }).logPrior;
    }
    for (const i of held) for (let c = 0; c < C; c++) out[i * C + c] = zeroShot.data[i * C + c]! / T - logQ[c]!;
  }
  return { data: out, rows: zeroShot.rows, cols: C };
}
