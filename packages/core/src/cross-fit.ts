import { combineLogits } from './ensemble-weights';
import { fail } from './errors';
import { foldRows, takeLabels } from './folds';
import { applyHead, applyHeadAsync, type LinearHead } from './heads';
import { type BackendChoice, checkBackendChoice, resolveKernel } from './kernels';
import { trainCenteredLinearProbe, trainCenteredLinearProbeAsync } from './linear-probe';
import { checkLabels, checkMatrix, checkPositiveInteger, type Matrix } from './matrix';
import { accuracy, negativeLogLikelihood } from './metrics';
import { estimatePrior, takeRows } from './prior';

/** Compares candidates: higher accuracy first, then lower NLL (ties within 1e-12). */
function better(acc: number, nll: number, bestAcc: number, bestNll: number): boolean {
  return acc > bestAcc + 1e-12 || (Math.abs(acc - bestAcc) <= 1e-12 && nll < bestNll);
}

/** Number of classes up to which {@link classScaledTolerance} leaves a probe tolerance as it is. */
const TOLERANCE_CLASSES = 100;

/**
 * A linear probe's max-abs gradient tolerance for C classes: `tolerance` up to 100 classes, then
 * `tolerance * 100 / C`. The gradient of class c's weights is a class-frequency-weighted mean
 * (n_c / N ~ 1/C): at C = 1,000 the gradient of the all-zero head is already ~5e-5 on L2-normalised
 * features, below the protocols' 1e-4, so an unscaled tolerance stops before the first step.
 */
export function classScaledTolerance(tolerance: number, classes: number): number {
  return tolerance * Math.min(1, TOLERANCE_CLASSES / classes);
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

/** Options of {@link crossFitLinearProbe} and {@link crossFitLinearProbeAsync}. */
export interface CrossFitOptions {
  classes: number;
  /** N fold indices in [0, foldCount), one per labelled row. */
  folds: ArrayLike<number>;
  foldCount: number;
  l2Grid: readonly number[];
  /** Gradient tolerance of every fold fit (default {@link classScaledTolerance}(1e-4, classes)). */
  tolerance?: number;
  /** Iteration cap of every fold fit (default 150). */
  maxIterations?: number;
  /**
   * The labelled rows of `features` (default: all rows). `labels` and `folds` then have one entry
   * per selected row, and no copy of the labelled features is made by the caller.
   */
  rows?: ArrayLike<number>;
}

/** One fold fit the l2 path asks for: train on `train`, warm-started from `init`; score on `held` (positions in the labelled set). */
interface FoldRequest {
  train: Int32Array;
  held: Int32Array;
  l2: number;
  init: LinearHead | undefined;
}

/** Validated inputs of a cross-fit; `rowsOf` maps labelled positions to rows of the features (internal). */
function crossFitSetup(features: Matrix, labels: ArrayLike<number>, options: CrossFitOptions, name: string) {
  checkMatrix(features, 'features');
  const C = checkPositiveInteger(options.classes, 'classes');
  const rows = options.rows;
  const n = rows ? rows.length : features.rows;
  if (rows)
    for (let r = 0; r < n; r++) {
      const i = rows[r]!;
      if (!(Number.isInteger(i) && i >= 0 && i < features.rows))
        fail('invalid-option', `${name}: rows[${r}] = ${i} is not a row of the ${features.rows}-row features`);
    }
  const y = checkLabels(labels as Int32Array, n, C);
  if (options.folds.length !== y.length) fail('length-mismatch', `${name}: folds has length ${options.folds.length}, expected ${y.length}`);
  if (!options.l2Grid.length) fail('empty-input', `${name}: l2Grid is empty`);
  const rowsOf = (positions: Int32Array): Int32Array => (rows ? Int32Array.from(positions, (r) => rows[r]!) : positions);
  // The probe engine's labels are indexed like the features (it reads those of its `rows`).
  let featureLabels = y;
  if (rows) {
    featureLabels = new Int32Array(features.rows);
    for (let r = 0; r < n; r++) featureLabels[rows[r]!] = y[r]!;
  }
  return { C, y, featureLabels, parts: foldRows(options.folds, options.foldCount), rowsOf };
}

/**
 * The l2 path of a cross-fit as a coroutine (internal; one implementation for the synchronous and
 * asynchronous forms): l2 from the largest down, each fold warm-started from the same fold's head
 * at the previous l2 (at the first l2: from the previous fold's head); it yields every fold fit and
 * receives the head with its held-out logits; candidates are scored by out-of-fold accuracy (ties:
 * lower NLL).
 */
function* crossFitPath(
  C: number,
  y: Int32Array,
  parts: ReturnType<typeof foldRows>,
  l2Grid: readonly number[],
): Generator<FoldRequest, CrossFittedProbe, { head: LinearHead; logits: Matrix }> {
  let best: CrossFittedProbe | undefined;
  let bestAcc = -1;
  let bestNll = Number.POSITIVE_INFINITY;
  const scores: CrossFittedProbe['scores'] = [];
  let previous: (LinearHead | undefined)[] = [];
  for (const l2 of [...l2Grid].sort((a, b) => b - a)) {
    const oof = new Float64Array(y.length * C);
    const heads: (LinearHead | undefined)[] = [];
    for (let f = 0; f < parts.length; f++) {
      const { train, held } = parts[f]!;
      if (held.length === 0) continue;
      const { head, logits } = yield { train, held, l2, init: previous[f] ?? heads[f - 1] };
      heads[f] = head;
      for (let r = 0; r < held.length; r++) oof.set(logits.data.subarray(r * C, (r + 1) * C), held[r]! * C);
    }
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
 * K-fold cross-fitting of a (centred) linear probe: every labelled example gets an out-of-fold
 * logit, and l2 is chosen among `l2Grid` by out-of-fold accuracy (ties: lower NLL). Candidates run
 * from the largest l2 down, each fold warm-started from the same fold's previous head.
 * @param features N x D (the labelled rows, or any rows with `options.rows`) @param labels n
 * labels of the labelled rows; `options.folds` n fold indices in [0, foldCount)
 */
export function crossFitLinearProbe(features: Matrix, labels: ArrayLike<number>, options: CrossFitOptions): CrossFittedProbe {
  const { C, y, featureLabels, parts, rowsOf } = crossFitSetup(features, labels, options, 'crossFitLinearProbe');
  const path = crossFitPath(C, y, parts, options.l2Grid);
  let step = path.next();
  while (!step.done) {
    const { train, held, l2, init } = step.value;
    const head = trainCenteredLinearProbe(features, featureLabels, {
      classes: C,
      l2,
      tolerance: options.tolerance ?? classScaledTolerance(1e-4, C),
      maxIterations: options.maxIterations ?? 150,
      rows: rowsOf(train),
      ...(init ? { init } : {}),
    });
    step = path.next({ head, logits: applyHead(head, takeRows(features, rowsOf(held))) });
  }
  return step.value;
}

/**
 * {@link crossFitLinearProbe} with the fold fits and their held-out logits on an asynchronous
 * kernel backend (e.g. onnxruntime, Float32 GEMMs): the same l2 path and selection, so the same
 * result to the solver's tolerance. Without such a backend it computes the synchronous result.
 */
export async function crossFitLinearProbeAsync(
  features: Matrix,
  labels: ArrayLike<number>,
  options: CrossFitOptions & { backend?: BackendChoice },
): Promise<CrossFittedProbe> {
  const { C, y, featureLabels, parts, rowsOf } = crossFitSetup(features, labels, options, 'crossFitLinearProbeAsync');
  const backend = options.backend ? { backend: options.backend } : {};
  const path = crossFitPath(C, y, parts, options.l2Grid);
  let step = path.next();
  while (!step.done) {
    const { train, held, l2, init } = step.value;
    const head = await trainCenteredLinearProbeAsync(features, featureLabels, {
      classes: C,
      l2,
      tolerance: options.tolerance ?? classScaledTolerance(1e-4, C),
      maxIterations: options.maxIterations ?? 150,
      rows: rowsOf(train),
      ...backend,
      ...(init ? { init } : {}),
    });
    step = path.next({ head, logits: await applyHeadAsync(head, features, { rows: rowsOf(held), ...backend }) });
  }
  return step.value;
}

/**
 * WiSE-FT's alpha on given logits: for a linear head, logits(interpolateHeads(zs, ft, alpha)) =
 * (1 - alpha) zs-logits + alpha ft-logits (biases included), so each candidate combines the two
 * logit matrices instead of applying an interpolated head. The best accuracy wins (ties: lower
 * NLL; then the earlier candidate). On finite logits each candidate's accuracy and NLL come from one
 * fused pass of the `ensembleNll` kernel (`options.backend`, default 'auto'; no combined matrix);
 * logits with masked (-Infinity) or invalid entries are combined and scored by `accuracy` /
 * `negativeLogLikelihood`, whose validation names the problem.
 * @param zeroShot N x C @param finetuned N x C (e.g. out-of-fold) @param labels N
 */
export function selectWiseAlphaFromLogits(
  zeroShot: Matrix,
  finetuned: Matrix,
  labels: ArrayLike<number>,
  alphaGrid: readonly number[],
  options: { backend?: BackendChoice } = {},
): { alpha: number; scores: { alpha: number; accuracy: number; nll: number }[] } {
  checkMatrix(zeroShot, 'zeroShot');
  checkMatrix(finetuned, 'finetuned');
  if (zeroShot.rows !== finetuned.rows || zeroShot.cols !== finetuned.cols)
    fail('shape-mismatch', `selectWiseAlpha: logits are ${zeroShot.rows} x ${zeroShot.cols} and ${finetuned.rows} x ${finetuned.cols}`);
  const y = checkLabels(labels as Int32Array, zeroShot.rows, zeroShot.cols);
  if (!alphaGrid.length) fail('empty-input', 'selectWiseAlpha: alphaGrid is empty');
  const backend = checkBackendChoice(options.backend, 'selectWiseAlpha');
  const { rows, cols } = zeroShot;
  const scan = resolveKernel('firstNonFiniteRow').firstNonFiniteRow;
  const finite = (m: Matrix) => cols === 0 || scan(m.data, 0, rows, cols) === rows;
  const kernel = rows > 0 && finite(zeroShot) && finite(finetuned) ? resolveKernel('ensembleNll', backend) : undefined;
  let bestAlpha = alphaGrid[0]!;
  let bestAcc = -1;
  let bestNll = Number.POSITIVE_INFINITY;
  const scores: { alpha: number; accuracy: number; nll: number }[] = [];
  for (const alpha of alphaGrid) {
    if (typeof alpha !== 'number' || !(alpha >= 0 && alpha <= 1))
      fail('invalid-option', `selectWiseAlpha: alpha must be in [0, 1], got ${String(alpha)}`);
    let acc: number;
    let nll: number;
    if (kernel) {
      const r = kernel.ensembleNll(zeroShot.data, finetuned.data, rows, cols, y, 1 - alpha, alpha, undefined);
      acc = r.correct / rows;
      nll = r.value / rows;
    } else {
      const m = combineLogits([
        [1 - alpha, zeroShot],
        [alpha, finetuned],
      ]);
      acc = accuracy(m, y);
      nll = negativeLogLikelihood(m, y);
    }
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
 * WiSE-FT's alpha for linear heads, chosen on cross-fitted logits: for every candidate, each fold's
 * rows get the logits of `interpolateHeads(zeroShot, foldHead_f, alpha)`; the candidate with the
 * best out-of-fold accuracy (ties: lower NLL; then the earlier candidate) wins. The same selection
 * (cross-fitted, accuracy then NLL) as the probe's l2. The two heads' logits are computed once per
 * fold and combined per alpha ({@link selectWiseAlphaFromLogits}); rows of a fold without a head
 * score as all-zero logits.
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
  const zs = new Float64Array(y.length * C);
  const ft = new Float64Array(y.length * C);
  foldRows(options.folds, options.foldCount).forEach(({ held }, f) => {
    const head = options.foldHeads[f];
    if (!head || held.length === 0) return;
    const x = takeRows(features, held);
    const z = applyHead(options.zeroShotHead, x);
    const l = applyHead(head, x);
    for (let r = 0; r < held.length; r++) {
      zs.set(z.data.subarray(r * C, (r + 1) * C), held[r]! * C);
      ft.set(l.data.subarray(r * C, (r + 1) * C), held[r]! * C);
    }
  });
  return selectWiseAlphaFromLogits({ data: zs, rows: y.length, cols: C }, { data: ft, rows: y.length, cols: C }, y, options.alphaGrid);
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
