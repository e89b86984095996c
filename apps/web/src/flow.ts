/**
 * The app's computation, free of DOM and workers (runs in the page, the worker and Node tests):
 * zero-shot logits as the CLI computes them, the labelled subset, the prior solve and the
 * before/after evaluation. Everything numeric is @gla/core.
 */
import {
  accuracy,
  applyHead,
  argmaxRows,
  balancedAccuracy,
  calibrateTemperature,
  createRng,
  debias,
  estimatePrior,
  expectedCalibrationError,
  l2Normalize,
  type Matrix,
  perClassAccuracy,
  type ReliabilityBin,
  reliabilityBins,
  zeroShotHead,
} from '@gla/core';
import { AppError } from './errors';

/**
 * Zero-shot logits: logitScale x cosine between the L2-normalised features and, per class, the
 * normalised mean of the normalised prompt embeddings (prompt ensembling; `textFeatures` is
 * templates x C rows, template-major). The same numbers as `gla run` on a feature directory.
 */
export function zeroShotLogits(features: Matrix, textFeatures: Matrix, classes: number, logitScale: number): Matrix {
  const head = zeroShotHead(textFeatures, { classes, scale: logitScale });
  return applyHead(head, l2Normalize(features));
}

/** Which labelled rows estimate q: every row, or k per class drawn with a seeded shuffle. */
export type Selection = { kind: 'all' } | { kind: 'per-class'; k: number; seed: number };

/** Row indices used for estimation (ascending). k per class: the first k of each class after a seeded shuffle. */
export function selectRows(labels: Int32Array, classes: number, selection: Selection): Int32Array {
  if (selection.kind === 'all') return Int32Array.from(labels.keys());
  if (!Number.isInteger(selection.k) || selection.k < 1)
    throw new AppError('bad-option', `k must be a whole number >= 1, got ${selection.k}.`);
  const byClass: number[][] = Array.from({ length: classes }, () => []);
  for (let i = 0; i < labels.length; i++) byClass[labels[i]!]!.push(i);
  const rng = createRng(selection.seed);
  const chosen: number[] = [];
  for (const members of byClass) {
    // a class with fewer than k examples contributes all of them (the page says so)
    rng.shuffle(members);
    chosen.push(...members.slice(0, selection.k));
  }
  return Int32Array.from(chosen.sort((a, b) => a - b));
}

export function takeRows(m: Matrix, rows: Int32Array): Matrix {
  const out = new Float64Array(rows.length * m.cols);
  rows.forEach((r, i) => {
    for (let j = 0; j < m.cols; j++) out[i * m.cols + j] = m.data[r * m.cols + j]!;
  });
  return { data: out, rows: rows.length, cols: m.cols };
}

/** What the worker is asked to do. */
export interface EstimateRequest {
  logits: Matrix;
  /** Labels of every row (undefined: no labels at all). */
  labels?: Int32Array;
  mode: { kind: 'labelled'; selection: Selection } | { kind: 'label-free'; targetMarginal: Float64Array };
  /** 'nll' (labelled only) or a fixed T > 0. */
  temperature: 'nll' | number;
}

export interface EstimateResult {
  prior: Float64Array;
  logPrior: Float64Array;
  temperature: number;
  temperatureMethod: 'nll' | 'given';
  objective: number;
  gradientNorm: number;
  iterations: number;
  converged: boolean;
  solver: string;
  /** Kernel backend of the solve's data passes ('wasm-simd' when @gla/kernels-wasm loaded, else 'reference'). */
  kernels: string;
  /** Rows the estimate used. */
  rows: Int32Array;
  /** Wall time of calibration + solve, ms. */
  solveMs: number;
}

/**
 * q as `gla prior` computes it: T calibrated by NLL on the selected labelled logits (or given),
 * then `estimatePrior` with lambda = 0, tolerance 1e-9, 500 iterations; label-free: prior
 * matching of `mean softmax(z/T - b)` to the target marginal on every row.
 */
export function runEstimate(request: EstimateRequest): EstimateResult {
  const { logits, labels, mode } = request;
  const t0 = performance.now();
  let rows: Int32Array;
  let z: Matrix;
  let y: Int32Array | undefined;
  if (mode.kind === 'labelled') {
    if (!labels)
      throw new AppError('bad-option', 'Estimating q from labelled examples needs labels; choose label-free prior matching instead.');
    rows = selectRows(labels, logits.cols, mode.selection);
    z = mode.selection.kind === 'all' ? logits : takeRows(logits, rows);
    y = mode.selection.kind === 'all' ? labels : Int32Array.from(rows, (r) => labels[r]!);
  } else {
    if (mode.targetMarginal.length !== logits.cols)
      throw new AppError('bad-option', `The target marginal has ${mode.targetMarginal.length} entries; there are ${logits.cols} classes.`);
    rows = Int32Array.from({ length: logits.rows }, (_, i) => i);
    z = logits;
  }
  let temperature: number;
  if (request.temperature === 'nll') {
    if (!y) throw new AppError('bad-option', 'Calibrating T by NLL needs labels; give a fixed temperature for label-free prior matching.');
    temperature = calibrateTemperature(z, y, { method: 'nll' });
  } else {
    if (!(request.temperature > 0) || !Number.isFinite(request.temperature))
      throw new AppError('bad-option', `The temperature must be a positive number, got ${request.temperature}.`);
    temperature = request.temperature;
  }
  const estimate = estimatePrior(z, mode.kind === 'labelled' ? y : undefined, {
    temperature,
    regularization: 0,
    tolerance: 1e-9,
    maxIterations: 500,
    ...(mode.kind === 'label-free' ? { targetMarginal: mode.targetMarginal } : {}),
  });
  return {
    prior: estimate.prior,
    logPrior: estimate.logPrior,
    temperature,
    temperatureMethod: request.temperature === 'nll' ? 'nll' : 'given',
    objective: estimate.objective,
    gradientNorm: estimate.gradientNorm,
    iterations: estimate.iterations,
    converged: estimate.converged,
    solver: estimate.solver,
    kernels: estimate.backend ?? 'reference',
    rows,
    solveMs: performance.now() - t0,
  };
}

export function countPredictions(pred: Int32Array, classes: number): number[] {
  const counts = new Array<number>(classes).fill(0);
  for (const p of pred) counts[p]!++;
  return counts;
}

export interface Metrics {
  accuracy: number;
  balancedAccuracy: number;
  ece: number;
  recall: number[];
  reliability: ReliabilityBin[];
}

export interface Evaluation {
  /** Rows evaluated: those not used for estimation (all rows when every row was used). */
  rows: Int32Array;
  heldOut: boolean;
  debiased: Matrix;
  predictionsBefore: Int32Array;
  predictionsAfter: Int32Array;
  countsBefore: number[];
  countsAfter: number[];
  countsTrue?: number[];
  before?: Metrics;
  after?: Metrics;
}

function metrics(logits: Matrix, labels: Int32Array, temperature: number): Metrics {
  return {
    accuracy: accuracy(logits, labels),
    balancedAccuracy: balancedAccuracy(logits, labels),
    ece: expectedCalibrationError(logits, labels, { temperature }),
    recall: Array.from(perClassAccuracy(logits, labels)),
    reliability: reliabilityBins(logits, labels, { temperature }),
  };
}

/**
 * Debiased logits z/T - log q for every row, and the before/after comparison on the rows not
 * used to estimate q (every row when all were used). Before = softmax(z/T) (the same T, so the
 * calibration comparison is fair), after = softmax(z/T - log q).
 */
export function evaluate(
  logits: Matrix,
  labels: Int32Array | undefined,
  estimate: Pick<EstimateResult, 'logPrior' | 'temperature' | 'rows'>,
): Evaluation {
  const C = logits.cols;
  const debiased = debias(logits, estimate.logPrior, { temperature: estimate.temperature });
  const used = new Uint8Array(logits.rows);
  for (const r of estimate.rows) used[r] = 1;
  let rows = Int32Array.from({ length: logits.rows }, (_, i) => i).filter((i) => used[i] === 0);
  const heldOut = rows.length > 0 && labels !== undefined && estimate.rows.length < logits.rows;
  if (!heldOut) rows = Int32Array.from({ length: logits.rows }, (_, i) => i);
  const zEval = takeRows(logits, rows);
  const dEval = takeRows(debiased, rows);
  const predictionsBefore = argmaxRows(zEval);
  const predictionsAfter = argmaxRows(dEval);
  const out: Evaluation = {
    rows,
    heldOut,
    debiased,
    predictionsBefore,
    predictionsAfter,
    countsBefore: countPredictions(predictionsBefore, C),
    countsAfter: countPredictions(predictionsAfter, C),
  };
  if (labels) {
    const y = Int32Array.from(rows, (r) => labels[r]!);
    out.countsTrue = countPredictions(y, C);
    // softmax(z/T) for "before": scale the logits by 1/T, so every metric sees the same T
    const scaled = { data: Float64Array.from(zEval.data, (v) => v / estimate.temperature), rows: zEval.rows, cols: C };
    out.before = metrics(scaled, y, 1);
    out.after = metrics(dEval, y, 1);
  }
  return out;
}

/** Parses a marginal typed by the user ("uniform" or C numbers separated by commas/spaces; normalised). */
export function parseMarginal(text: string, classes: number): Float64Array {
  const t = text.trim().toLowerCase();
  if (t === '' || t === 'uniform') return new Float64Array(classes).fill(1 / classes);
  const values = t.split(/[\s,;]+/).map(Number);
  if (values.length !== classes || values.some((v) => !(v > 0) || !Number.isFinite(v)))
    throw new AppError('bad-option', `The target marginal needs ${classes} positive numbers (one per class) or "uniform"; got "${text}".`);
  const s = values.reduce((a, b) => a + b, 0);
  return Float64Array.from(values, (v) => v / s);
}
