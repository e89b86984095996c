import { fail } from './errors';
import { type BackendChoice, checkBackendChoice, resolveKernel } from './kernels';
import { checkLabels, checkLogits, type Labels, type Matrix } from './matrix';
import { rowMax } from './softmax';

/** Temperature calibration rules; see {@link calibrateTemperature}. */
export type TemperatureMethod = 'match-confidence' | 'nll';

/** Options of {@link calibrateTemperature}. */
export interface CalibrateTemperatureOptions {
  /** Default 'nll'. */
  method?: TemperatureMethod;
  /** 'match-confidence': stop when |mean confidence - accuracy| <= this (default 0.001 = 0.1 pp). */
  gapTolerance?: number;
  /** Kernel backend of the NLL passes ('auto' = fastest registered; 'reference' = TypeScript). */
  backend?: BackendChoice;
}

/** Mean max-softmax confidence of softmax(logits / T), in (0, 1] (internal, validated input). */
export function meanConfidence(logits: Matrix, temperature: number): number {
  const { data, rows, cols } = logits;
  const beta = 1 / temperature;
  let total = 0;
  for (let i = 0; i < rows; i++) {
    const o = i * cols;
    const m = rowMax(data, o, cols) * beta;
    let s = 0;
    for (let j = 0; j < cols; j++) s += Math.exp(data[o + j]! * beta - m);
    total += 1 / s;
  }
  return total / rows;
}

function top1Accuracy(logits: Matrix, y: Int32Array): number {
  const { data, rows, cols } = logits;
  let hit = 0;
  for (let i = 0; i < rows; i++) {
    const o = i * cols;
    let best = 0;
    for (let j = 1; j < cols; j++) if (data[o + j]! > data[o + best]!) best = j;
    if (best === y[i]) hit++;
  }
  return hit / rows;
}

const T_MIN = 1e-4;
const T_MAX = 1e4;

/**
 * Reference rule: the T at which the mean max-softmax confidence equals top-1 accuracy. Confidence
 * is non-increasing in T, so the root is bracketed: start with [0.1, 10], widen by x1.1 on the
 * side that does not yet bracket (down to 1e-4 / up to 1e4), then Illinois false position in log T
 * (bisection fallback) until |gap| <= gapTolerance. If the root is outside [1e-4, 1e4] (accuracy
 * below what any temperature can reach, e.g. accuracy < 1/C), the closest end is returned.
 */
function matchConfidence(logits: Matrix, y: Int32Array, gapTolerance: number): number {
  const acc = top1Accuracy(logits, y);
  const gap = (t: number) => meanConfidence(logits, t) - acc;
  let lo = 0.1;
  let hi = 10;
  let glo = gap(lo);
  let ghi = gap(hi);
  if (Math.abs(glo) <= gapTolerance) return lo;
  if (Math.abs(ghi) <= gapTolerance) return hi;
  while (glo < 0 && lo > T_MIN) {
    hi = lo;
    ghi = glo;
    lo /= 1.1;
    glo = gap(lo);
    if (Math.abs(glo) <= gapTolerance) return lo;
  }
  while (ghi > 0 && hi < T_MAX) {
    lo = hi;
    glo = ghi;
    hi *= 1.1;
    ghi = gap(hi);
    if (Math.abs(ghi) <= gapTolerance) return hi;
  }
  if (glo < 0) return lo;
  if (ghi > 0) return hi;
  // Illinois false position on log T; glo >= 0 >= ghi.
  let a = Math.log(lo);
  let b = Math.log(hi);
  let fa = glo;
  let fb = ghi;
  let side = 0;
  for (let iter = 0; iter < 200; iter++) {
    let c = fa - fb !== 0 ? (a * -fb + b * fa) / (fa - fb) : 0.5 * (a + b);
    if (!(c > a && c < b) || iter % 8 === 7) c = 0.5 * (a + b);
    const fc = gap(Math.exp(c));
    if (Math.abs(fc) <= gapTolerance) return Math.exp(c);
    if (fc > 0) {
      a = c;
      fa = fc;
      if (side === 1) fb /= 2;
      side = 1;
    } else {
      b = c;
      fb = fc;
      if (side === -1) fa /= 2;
      side = -1;
    }
    if (b - a < 1e-14) break;
  }
  return Math.exp(0.5 * (a + b));
}

/**
 * NLL of softmax(beta * z) and its first two derivatives in beta = 1/T (internal). The NLL is
 * convex in beta: d/dbeta = mean(E_p[z] - z_y), d2/dbeta2 = mean(Var_p[z]) >= 0.
 */
export function temperatureNllDerivatives(
  logits: Matrix,
  y: Int32Array,
  beta: number,
  backend: BackendChoice = 'auto',
): { value: number; d1: number; d2: number } {
  const { data, rows, cols } = logits;
  const r = resolveKernel('temperatureNll', backend).temperatureNll!(data, rows, cols, y, beta);
  return { value: r.value / rows, d1: r.d1 / rows, d2: r.d2 / rows };
}

/** Largest max - min over the finite entries of a row (Infinity when none has two finite entries). */
function maxRowRange(logits: Matrix): number {
  const { data, rows, cols } = logits;
  let range = 0;
  for (let i = 0; i < rows; i++) {
    let lo = Number.POSITIVE_INFINITY;
    let hi = Number.NEGATIVE_INFINITY;
    for (let c = i * cols, end = c + cols; c < end; c++) {
      const v = data[c]!;
      if (v === Number.NEGATIVE_INFINITY) continue;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    if (hi - lo > range) range = hi - lo;
  }
  return range > 0 ? range : Number.POSITIVE_INFINITY;
}

/**
 * Standard temperature scaling: T minimising the mean NLL of softmax(z / T). Safeguarded Newton on
 * beta = 1/T (the NLL is convex in beta), inside a bracket found by doubling, to |d NLL / d beta| *
 * beta <= 1e-13 (relative precision ~1e-12 in T).
 */
function nllTemperature(logits: Matrix, y: Int32Array, backend: BackendChoice): number {
  for (let i = 0; i < y.length; i++) {
    if (logits.data[i * logits.cols + y[i]!] === Number.NEGATIVE_INFINITY) {
      fail('non-finite', `calibrateTemperature: the labelled class of row ${i} is masked (-Infinity); NLL is infinite`);
    }
  }
  const d = (beta: number) => temperatureNllDerivatives(logits, y, beta, backend);
  if (d(1e-12).d1 >= 0) {
    fail(
      'not-identifiable',
      'calibrateTemperature: the logits are no better than uniform on these labels (NLL decreases as T grows without bound)',
    );
  }
  // The separation guard is relative to the logits' scale: logits of a strongly regularised probe
  // (row ranges ~1e-3) have their optimum far below T_MIN, which bounds T of unit-scale logits.
  const range = maxRowRange(logits);
  const betaMax = Math.max(1 / T_MIN, 1e6 / range);
  // The bracket starts near the logits' own scale (beta * range ~ 8, a power of 2; 1 for ranges >= 8).
  let lo = 0;
  let hi = range < 8 ? 2 ** Math.round(Math.log2(8 / range)) : 1;
  let cur = d(hi);
  while (cur.d1 < 0) {
    lo = hi;
    hi *= 2;
    if (hi > betaMax) {
      fail('not-identifiable', 'calibrateTemperature: NLL decreases as T -> 0 (the labelled examples are separated); no finite optimum');
    }
    cur = d(hi);
  }
  if (cur.d1 === 0 && cur.d2 === 0) {
    // Flat to machine precision: every labelled example is already classified with certainty.
    fail('not-identifiable', 'calibrateTemperature: NLL decreases as T -> 0 (the labelled examples are separated); no finite optimum');
  }
  let beta = hi;
  for (let iter = 0; iter < 200; iter++) {
    if (Math.abs(cur.d1) * beta <= 1e-13) break;
    if (cur.d1 > 0) hi = beta;
    else lo = beta;
    let next = cur.d2 > 0 ? beta - cur.d1 / cur.d2 : Number.NaN;
    if (!(next > lo && next < hi)) next = 0.5 * (lo + hi);
    if (hi - lo <= 1e-15 * hi) break;
    beta = next;
    cur = d(beta);
  }
  return 1 / beta;
}

/**
 * Calibrates a temperature T > 0 for `logits` on labelled examples.
 * - `'nll'` (default): standard temperature scaling, T = argmin mean NLL of softmax(z / T), solved
 *   by safeguarded Newton on 1/T to ~1e-12 relative precision.
 * - `'match-confidence'`: the reference's rule (mean max-softmax confidence = top-1 accuracy),
 *   bracketing from [0.1, 10] widened by x1.1, then false position, until |gap| <= 0.1 pp.
 *
 * @param logits N x C (masked -Infinity entries allowed)
 * @param labels N class indices
 * @returns T (dimensionless, > 0); divide the logits by it
 * @throws GlaError `not-identifiable` for 'nll' when no finite positive optimum exists
 */
export function calibrateTemperature(logits: Matrix, labels: Labels, options: CalibrateTemperatureOptions = {}): number {
  checkLogits(logits);
  const y = checkLabels(labels, logits.rows, logits.cols);
  const method = options.method ?? 'nll';
  if (method === 'nll') return nllTemperature(logits, y, checkBackendChoice(options.backend, 'calibrateTemperature'));
  if (method === 'match-confidence') {
    const tol = options.gapTolerance ?? 1e-3;
    if (!(tol > 0) || !Number.isFinite(tol)) fail('invalid-option', `calibrateTemperature: gapTolerance must be > 0, got ${tol}`);
    return matchConfidence(logits, y, tol);
  }
  return fail('invalid-option', `calibrateTemperature: unknown method '${String(method)}' (use 'nll' or 'match-confidence')`);
}
