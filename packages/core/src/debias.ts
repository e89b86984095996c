import { fail } from './errors';
import { checkDistribution, checkLogits, checkMatrix, checkTemperature, checkVector, type Matrix } from './matrix';

function checkLogPrior(logPrior: ArrayLike<number>, C: number, name: string): void {
  checkVector(logPrior, C, name);
}

/**
 * Debiased zero-shot logits: z / T - log q (per row; -Infinity masked entries stay -Infinity).
 * @param logits N x C zero-shot logits
 * @param logPrior log q, length C (e.g. estimatePrior(...).logPrior)
 * @returns new N x C Float64 matrix
 */
export function debias(logits: Matrix, logPrior: ArrayLike<number>, options: { temperature?: number } = {}): Matrix {
  checkLogits(logits);
  checkLogPrior(logPrior, logits.cols, 'logPrior');
  const beta = 1 / checkTemperature(options.temperature ?? 1);
  const { data, rows, cols } = logits;
  const out = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) {
    const o = i * cols;
    for (let k = 0; k < cols; k++) out[o + k] = data[o + k]! * beta - logPrior[k]!;
  }
  return { data: out, rows, cols };
}

/** Inputs of {@link glaLogits}. */
export interface GlaLogitsInput {
  /** f: N x C logits of the fine-tuned model. */
  finetuned: Matrix;
  /** z: N x C logits of the zero-shot model. */
  zeroShot: Matrix;
  /** log q: the zero-shot model's label prior (length C). */
  logPrior: ArrayLike<number>;
  /** T_f > 0 (default 1). */
  finetunedTemperature?: number;
  /** T_z > 0 (default 1); use the temperature q was estimated with. */
  zeroShotTemperature?: number;
  /** pi_s: label distribution the fine-tuned model was trained on (length C; default uniform = no term). */
  trainPrior?: ArrayLike<number>;
  /** pi_t: target label distribution (length C; default uniform = no term). */
  targetPrior?: ArrayLike<number>;
}

/**
 * The GLA ensemble (METHOD.md): f / T_f + z / T_z - log q - log pi_s + log pi_t, per row.
 * With balanced fine-tuning and test, the last two terms are constants and omitted.
 * @returns new N x C Float64 matrix
 */
export function glaLogits(input: GlaLogitsInput): Matrix {
  if (input === null || typeof input !== 'object') fail('invalid-option', 'glaLogits: expected an input object');
  const f = checkLogits(input.finetuned, 'finetuned');
  const z = checkLogits(input.zeroShot, 'zeroShot');
  if (f.rows !== z.rows || f.cols !== z.cols) {
    fail('shape-mismatch', `glaLogits: finetuned is ${f.rows} x ${f.cols} but zeroShot is ${z.rows} x ${z.cols}`);
  }
  const C = f.cols;
  checkLogPrior(input.logPrior, C, 'logPrior');
  const bf = 1 / checkTemperature(input.finetunedTemperature ?? 1, 'finetunedTemperature');
  const bz = 1 / checkTemperature(input.zeroShotTemperature ?? 1, 'zeroShotTemperature');
  const offset = new Float64Array(C);
  const trainPrior = input.trainPrior === undefined ? undefined : checkDistribution(input.trainPrior, C, 'trainPrior', false);
  const targetPrior = input.targetPrior === undefined ? undefined : checkDistribution(input.targetPrior, C, 'targetPrior');
  for (let k = 0; k < C; k++) {
    offset[k] = -input.logPrior[k]! - (trainPrior ? Math.log(trainPrior[k]!) : 0) + (targetPrior ? Math.log(targetPrior[k]!) : 0);
  }
  const out = new Float64Array(f.rows * C);
  for (let i = 0; i < f.rows; i++) {
    const o = i * C;
    for (let k = 0; k < C; k++) out[o + k] = f.data[o + k]! * bf + z.data[o + k]! * bz + offset[k]!;
  }
  return { data: out, rows: f.rows, cols: C };
}

/**
 * Post-hoc logit adjustment (Menon et al.): f - tau * log pi, per row.
 * @param logits N x C @param logPrior log pi (length C) @param tau >= 0 (default 1)
 */
export function logitAdjust(logits: Matrix, logPrior: ArrayLike<number>, tau = 1): Matrix {
  checkLogits(logits);
  checkLogPrior(logPrior, logits.cols, 'logPrior');
  if (typeof tau !== 'number' || !Number.isFinite(tau) || tau < 0)
    fail('invalid-option', `logitAdjust: tau must be a finite number >= 0, got ${String(tau)}`);
  const { data, rows, cols } = logits;
  const out = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) {
    const o = i * cols;
    for (let k = 0; k < cols; k++) out[o + k] = data[o + k]! - tau * logPrior[k]!;
  }
  return { data: out, rows, cols };
}

/**
 * Output ensemble w_a * a + w_b * b of two logit matrices of equal shape (default weights [1, 1]:
 * the plain `f + z` baseline).
 */
export function outputEnsemble(a: Matrix, b: Matrix, options: { weights?: [number, number] } = {}): Matrix {
  checkMatrix(a, 'a');
  checkMatrix(b, 'b');
  if (a.rows !== b.rows || a.cols !== b.cols)
    fail('shape-mismatch', `outputEnsemble: a is ${a.rows} x ${a.cols} but b is ${b.rows} x ${b.cols}`);
  checkLogits(a, 'a');
  checkLogits(b, 'b');
  const weights = options.weights ?? [1, 1];
  if (!Array.isArray(weights) || weights.length !== 2) fail('invalid-option', 'outputEnsemble: weights must be [wa, wb]');
  checkVector(weights, 2, 'weights');
  const [wa, wb] = weights;
  const out = new Float64Array(a.data.length);
  for (let i = 0; i < out.length; i++) out[i] = wa * a.data[i]! + wb * b.data[i]!;
  return { data: out, rows: a.rows, cols: a.cols };
}
