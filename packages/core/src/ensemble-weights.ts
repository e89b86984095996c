import { fail } from './errors';
import { foldRows, takeLabels } from './folds';
import { type BackendChoice, checkBackendChoice, type KernelBackend, resolveKernel } from './kernels';
import { checkLabels, checkLogits, type Matrix } from './matrix';
import { negativeLogLikelihood } from './metrics';
import { takeRows } from './prior';
import { pairedZStatistic } from './statistics';
import { calibrateTemperature, type TemperatureMethod } from './temperature';

/**
 * sum_k w_k * M_k + offset (offset broadcast over rows), for N x C matrices of one shape.
 * @param terms [weight, matrix] pairs (at least one) @param offset optional length-C row offset
 * @returns new N x C Float64 matrix
 */
export function combineLogits(terms: ReadonlyArray<readonly [number, Matrix]>, offset?: ArrayLike<number>): Matrix {
  if (!Array.isArray(terms) || terms.length === 0) fail('empty-input', 'combineLogits: needs at least one [weight, matrix] term');
  const first = terms[0]![1];
  const { rows, cols } = first;
  for (const [k, [w, m]] of terms.entries()) {
    if (typeof w !== 'number' || !Number.isFinite(w)) fail('non-finite', `combineLogits: weight of term ${k} is not finite`);
    if (m.rows !== rows || m.cols !== cols)
      fail('shape-mismatch', `combineLogits: term ${k} is ${m.rows} x ${m.cols}, term 0 ${rows} x ${cols}`);
  }
  if (offset && offset.length !== cols) fail('length-mismatch', `combineLogits: offset has length ${offset.length}, expected ${cols}`);
  const out = new Float64Array(rows * cols);
  for (const [w, m] of terms) {
    const d = m.data;
    for (let k = 0; k < out.length; k++) out[k]! += w * d[k]!;
  }
  if (offset) for (let i = 0; i < rows; i++) for (let c = 0; c < cols; c++) out[i * cols + c]! += offset[c]!;
  return { data: out, rows, cols };
}

function hasNonZero(v: ArrayLike<number> | undefined): boolean {
  if (!v) return false;
  for (let c = 0; c < v.length; c++) if (v[c] !== 0) return true;
  return false;
}

/**
 * A row offset as Float64 (validated: length C, entries finite or -Infinity (a masked class), at
 * least one finite); undefined when absent.
 */
function checkOffset(offset: ArrayLike<number> | undefined, C: number, name: string): Float64Array | undefined {
  if (offset === undefined) return undefined;
  if (offset?.length !== C) fail('length-mismatch', `${name}: offset has length ${offset?.length}, expected ${C}`);
  let finite = 0;
  for (let c = 0; c < C; c++) {
    const v = offset[c]!;
    if (Number.isFinite(v)) finite++;
    else if (v !== Number.NEGATIVE_INFINITY) fail('non-finite', `${name}: offset[${c}] = ${String(v)} is neither finite nor -Infinity`);
  }
  if (finite === 0) fail('masked-row', `${name}: every class of the offset is masked (-Infinity)`);
  return offset instanceof Float64Array ? offset : Float64Array.from(offset);
}

/** True when `data` (rows x cols) holds only finite entries (the firstNonFiniteRow kernel). */
function allFinite(m: Matrix): boolean {
  return m.cols === 0 || resolveKernel('firstNonFiniteRow').firstNonFiniteRow!(m.data, 0, m.rows, m.cols) === m.rows;
}

/**
 * Temperature of `logits / T + offset` (offset e.g. -log pi_s, added AFTER scaling), for a model
 * trained on a label distribution pi_s and calibrated on held-out data of another one (balanced
 * validation): it calibrates softmax(f/T - log pi_s), so f/T itself is the calibrated log-posterior
 * under pi_s that the GLA formula needs. Bounded to T in [0.01, 100], so it also returns a finite
 * T (where the NLL reaches its infimum) when the labelled logits are separable.
 * - `method: 'nll'` (default): golden-section search on log T to |Δ log T| <= 1e-6.
 * - `method: 'match-confidence'` (the reference's rule): the T where mean max-softmax confidence of
 *   softmax(logits/T + offset) equals its top-1 accuracy; a scan of log T over 161 points finds the
 *   sign change of the gap nearest T = 1, refined by bisection to |gap| <= 1e-3 (the accuracy
 *   moves with T once there is an offset, so the gap is not monotone); without a sign change, the
 *   scanned T with the smallest |gap|.
 * With an all-zero offset prefer {@link calibrateTemperature} (unbounded, reports separability).
 * The NLL passes run on the `ensembleNll` kernel (`options.backend`, default 'auto').
 * @param logits N x C held-out (or cross-fitted) logits @param offset length C
 * @returns T in [0.01, 100]
 */
export function calibrateTemperatureWithOffset(
  logits: Matrix,
  labels: ArrayLike<number>,
  offset: ArrayLike<number>,
  options: { method?: TemperatureMethod; backend?: BackendChoice } = {},
): number {
  checkLogits(logits);
  const y = checkLabels(labels as Int32Array, logits.rows, logits.cols);
  if (offset?.length !== logits.cols)
    fail('length-mismatch', `calibrateTemperatureWithOffset: offset has length ${offset?.length}, expected ${logits.cols}`);
  const method = options.method ?? 'nll';
  if (method === 'match-confidence') return matchConfidenceWithOffset(logits, y, offset);
  if (method !== 'nll') fail('invalid-option', `calibrateTemperatureWithOffset: unknown method '${String(method)}'`);
  const backend = checkBackendChoice(options.backend, 'calibrateTemperatureWithOffset');
  let finiteOffset = true;
  for (let c = 0; c < offset.length; c++) if (!Number.isFinite(offset[c]!)) finiteOffset = false;
  // The fused kernel where no combined row can be NaN or fully masked (a finite offset, or finite
  // logits and a valid offset); otherwise the combined matrix, whose validation names the problem.
  const fused = finiteOffset || (allFinite(logits) && checkOffset(offset, logits.cols, 'calibrateTemperatureWithOffset') !== undefined);
  const kernel = fused ? resolveKernel('ensembleNll', backend) : undefined;
  const offset64 = fused ? (offset instanceof Float64Array ? offset : Float64Array.from(offset)) : undefined;
  const nll = kernel
    ? (logT: number) =>
        kernel.ensembleNll!(logits.data, undefined, logits.rows, logits.cols, y, Math.exp(-logT), 0, offset64).value / y.length
    : (logT: number) => negativeLogLikelihood(combineLogits([[Math.exp(-logT), logits]], offset), y);
  let a = Math.log(0.01);
  let b = Math.log(100);
  const g = (Math.sqrt(5) - 1) / 2;
  let c = b - g * (b - a);
  let d = a + g * (b - a);
  let fc = nll(c);
  let fd = nll(d);
  for (let it = 0; it < 80 && b - a > 1e-6; it++) {
    if (fc < fd) {
      b = d;
      d = c;
      fd = fc;
      c = b - g * (b - a);
      fc = nll(c);
    } else {
      a = c;
      c = d;
      fc = fd;
      d = a + g * (b - a);
      fd = nll(d);
    }
  }
  return Math.exp((a + b) / 2);
}

/** mean max-softmax confidence minus top-1 accuracy of logits/T + offset. */
function confidenceGap(logits: Matrix, y: Int32Array, offset: ArrayLike<number>, T: number): number {
  const { data, rows, cols } = logits;
  const beta = 1 / T;
  let conf = 0;
  let hit = 0;
  for (let i = 0; i < rows; i++) {
    const o = i * cols;
    let max = Number.NEGATIVE_INFINITY;
    let arg = 0;
    for (let j = 0; j < cols; j++) {
      const v = data[o + j]! * beta + offset[j]!;
      if (v > max) {
        max = v;
        arg = j;
      }
    }
    let s = 0;
    for (let j = 0; j < cols; j++) s += Math.exp(data[o + j]! * beta + offset[j]! - max);
    conf += 1 / s;
    if (arg === y[i]) hit++;
  }
  return (conf - hit) / rows;
}

function matchConfidenceWithOffset(logits: Matrix, y: Int32Array, offset: ArrayLike<number>): number {
  const points = 161;
  const lo = Math.log(0.01);
  const hi = Math.log(100);
  const grid = Array.from({ length: points }, (_, i) => lo + ((hi - lo) * i) / (points - 1));
  const gaps = grid.map((t) => confidenceGap(logits, y, offset, Math.exp(t)));
  let best = -1;
  for (let i = 0; i + 1 < points; i++) {
    if (gaps[i]! >= 0 && gaps[i + 1]! <= 0 && (best < 0 || Math.abs(grid[i]!) < Math.abs(grid[best]!))) best = i;
  }
  if (best < 0) {
    let arg = 0;
    for (let i = 1; i < points; i++) if (Math.abs(gaps[i]!) < Math.abs(gaps[arg]!)) arg = i;
    return Math.exp(grid[arg]!);
  }
  let a = grid[best]!;
  let b = grid[best + 1]!;
  for (let it = 0; it < 60; it++) {
    const m = 0.5 * (a + b);
    const gm = confidenceGap(logits, y, offset, Math.exp(m));
    if (Math.abs(gm) <= 1e-3) return Math.exp(m);
    if (gm > 0) a = m;
    else b = m;
  }
  return Math.exp(0.5 * (a + b));
}

/** Result of {@link fitEnsembleWeights}. */
export interface EnsembleWeights {
  /** Weights (a, b) >= 0 of a * f + b * z + offset. */
  weights: [number, number];
  /** 1 / a and 1 / b (Infinity when a weight is 0). */
  finetunedTemperature: number;
  zeroShotTemperature: number;
  /** Mean NLL (nats) at the returned weights. */
  nll: number;
  /** Max-abs projected gradient at the returned weights. */
  gradientNorm: number;
  iterations: number;
}

/**
 * Joint calibration of a two-model ensemble: the NLL-optimal weights (a, b) >= 0 of
 * `a * f + b * z + offset` on held-out (or cross-fitted) logits, by projected Newton with
 * backtracking from `start` (default [1, 1]). Calibrating the temperatures separately assumes the
 * models' errors are conditionally independent; two heads on the same frozen features are not,
 * and the joint fit discounts the overlap. This is an extension (`gla-weighted`), not the paper's
 * GLA, whose weights are (1/T_f, 1/T_z) from separate calibrations. Every NLL / gradient / Hessian
 * evaluation is one pass of the `ensembleNll` kernel (`options.backend`, default 'auto').
 * @param f N x C @param z N x C @param labels N class indices @param options.offset length C
 *   (default 0; entries finite or -Infinity for a masked class)
 */
export function fitEnsembleWeights(
  f: Matrix,
  z: Matrix,
  labels: ArrayLike<number>,
  options: { offset?: ArrayLike<number>; start?: [number, number]; backend?: BackendChoice } = {},
): EnsembleWeights {
  checkLogits(f, 'f', false);
  checkLogits(z, 'z', false);
  if (f.rows !== z.rows || f.cols !== z.cols)
    fail('shape-mismatch', `fitEnsembleWeights: f is ${f.rows} x ${f.cols}, z ${z.rows} x ${z.cols}`);
  const y = checkLabels(labels as Int32Array, f.rows, f.cols);
  const offset = checkOffset(options.offset, f.cols, 'fitEnsembleWeights');
  const start = options.start ?? [1, 1];
  const kernel = resolveKernel('ensembleNll', checkBackendChoice(options.backend, 'fitEnsembleWeights'));
  return fitWeights(kernel, f, z, y, offset, start);
}

/** The projected Newton iteration of {@link fitEnsembleWeights} on validated inputs (internal). */
function fitWeights(
  kernel: Required<Pick<KernelBackend, 'ensembleNll'>>,
  f: Matrix,
  z: Matrix,
  y: Int32Array,
  offset: Float64Array | undefined,
  start: readonly [number, number],
): EnsembleWeights {
  const N = f.rows;
  // Means over the rows of the fused pass: NLL, gradient and Hessian in (a, b).
  const evalAt = (a: number, b: number, withDerivatives: boolean) => {
    const r = kernel.ensembleNll(f.data, z.data, N, f.cols, y, a, b, offset, { derivatives: withDerivatives });
    return { nll: r.value / N, ga: r.gradA / N, gb: r.gradB / N, haa: r.hessAA / N, hbb: r.hessBB / N, hab: r.hessAB / N };
  };
  let a = Math.max(0, start[0]);
  let b = Math.max(0, start[1]);
  let cur = evalAt(a, b, true);
  let iterations = 0;
  for (let it = 0; it < 50; it++) {
    iterations = it + 1;
    const det = cur.haa * cur.hbb - cur.hab * cur.hab;
    let da: number;
    let db: number;
    if (det > 1e-18 * Math.max(1, cur.haa * cur.hbb)) {
      da = -(cur.hbb * cur.ga - cur.hab * cur.gb) / det;
      db = -(cur.haa * cur.gb - cur.hab * cur.ga) / det;
    } else {
      da = -cur.ga / Math.max(cur.haa, 1e-12);
      db = -cur.gb / Math.max(cur.hbb, 1e-12);
    }
    let step = 1;
    let accepted = false;
    for (let k = 0; k < 30; k++) {
      const na = Math.max(0, a + step * da);
      const nb = Math.max(0, b + step * db);
      // The full step (usually accepted) is evaluated with its derivatives: one pass, not two.
      const trial = evalAt(na, nb, k === 0);
      if (trial.nll <= cur.nll + 1e-12) {
        const moved = Math.abs(na - a) + Math.abs(nb - b);
        a = na;
        b = nb;
        cur = k === 0 ? trial : evalAt(a, b, true);
        accepted = moved > 1e-10 * (1 + a + b);
        break;
      }
      step /= 2;
    }
    if (!accepted) break;
  }
  // projected gradient: a component at the bound 0 with a positive gradient is stationary
  const pg = (w: number, g: number) => (w <= 0 && g > 0 ? 0 : Math.abs(g));
  return {
    weights: [a, b],
    finetunedTemperature: a > 0 ? 1 / a : Number.POSITIVE_INFINITY,
    zeroShotTemperature: b > 0 ? 1 / b : Number.POSITIVE_INFINITY,
    nll: cur.nll,
    gradientNorm: Math.max(pg(a, cur.ga), pg(b, cur.gb)),
    iterations,
  };
}

/** Candidate weights of a two-model ensemble `a f + w d`: f alone (1/T_f, 0), fixed (1/T_f, 1), or fitted. */
export type EnsembleWeightChoice = 'probe' | 'paper' | 'joint';

/** One-sided 5 % critical value of the standard normal (default `minZ` of {@link selectEnsembleWeights}). */
export const ENSEMBLE_SIGNIFICANCE_Z = 1.645;

/** Result of {@link selectEnsembleWeights}: the second-level cross-validation evidence and the choices. */
export interface EnsembleWeightSelection {
  /** The better of 'paper' and 'joint' by mean held-out NLL (ties: 'paper'). */
  ensemble: 'paper' | 'joint';
  /** `ensemble` if its held-out NLL improvement over f alone is significant (z > minZ), else 'probe'. */
  gated: EnsembleWeightChoice;
  /** Mean held-out NLL (nats) of each candidate. */
  nllProbe: number;
  nllPaper: number;
  nllJoint: number;
  /** Paired z statistic of nll(f alone) - nll(ensemble) over the held-out rows. */
  z: number;
}

/**
 * Chooses the weights of `a f + w d` (+ offset) among f alone (1/T_f, 0), fixed weights (1/T_f, 1)
 * and jointly NLL-fitted (a, w), by a second-level cross-validation over held-out values: for every
 * fold g, T_f and the joint weights are fitted on the other folds' rows and every candidate is
 * scored by per-row NLL on fold g. With d = z/T_z - log q this selects among the probe, the paper's
 * GLA and `gla-weighted`; with d = z/T_z among the probe, the output ensemble and its weighted form.
 * `gated` adds a significance test (our extension, `gla-gated`): the ensemble replaces f alone only
 * if its paired held-out NLL improvement has z > `minZ`. The NLL passes (temperature, joint fit,
 * held-out losses) run on the kernels of `options.backend` (default 'auto'), without N x C copies
 * beyond each fold's rows.
 * @param f N x C held-out (cross-fitted) logits @param d N x C @param folds N fold indices in [0, foldCount)
 */
export function selectEnsembleWeights(
  f: Matrix,
  d: Matrix,
  labels: ArrayLike<number>,
  folds: ArrayLike<number>,
  foldCount: number,
  options: { offset?: ArrayLike<number>; method?: TemperatureMethod; minZ?: number; backend?: BackendChoice } = {},
): EnsembleWeightSelection {
  checkLogits(f, 'f', false);
  checkLogits(d, 'd', false);
  if (f.rows !== d.rows || f.cols !== d.cols)
    fail('shape-mismatch', `selectEnsembleWeights: f is ${f.rows} x ${f.cols}, d ${d.rows} x ${d.cols}`);
  const y = checkLabels(labels as Int32Array, f.rows, f.cols);
  if (folds.length !== y.length) fail('length-mismatch', `selectEnsembleWeights: folds has length ${folds.length}, expected ${y.length}`);
  const C = f.cols;
  const offset = checkOffset(options.offset, C, 'selectEnsembleWeights');
  const method = options.method ?? 'nll';
  const minZ = options.minZ ?? ENSEMBLE_SIGNIFICANCE_Z;
  const backend = checkBackendChoice(options.backend, 'selectEnsembleWeights');
  const kernel = resolveKernel('ensembleNll', backend);
  const N = y.length;
  const probe = new Float64Array(N);
  const paper = new Float64Array(N);
  const joint = new Float64Array(N);
  const scored = new Uint8Array(N);
  let lossProbe = new Float64Array(0);
  let lossPaper = lossProbe;
  let lossJoint = lossProbe;
  for (const { train, held } of foldRows(folds, foldCount)) {
    if (held.length === 0 || train.length === 0) continue;
    const fT = takeRows(f, train);
    const dT = takeRows(d, train);
    const yT = takeLabels(y, train);
    const fH = takeRows(f, held);
    const dH = takeRows(d, held);
    const yH = takeLabels(y, held);
    const Tf =
      offset && hasNonZero(offset)
        ? calibrateTemperatureWithOffset(fT, yT, offset, { method, backend })
        : calibrateTemperature(fT, yT, { method, backend });
    const jt = fitWeights(kernel, fT, dT, yT, offset, [1 / Tf, 1]);
    // Per-row held-out NLL of each candidate: one fused pass each (no combined matrix).
    if (lossProbe.length < held.length) {
      lossProbe = new Float64Array(held.length);
      lossPaper = new Float64Array(held.length);
      lossJoint = new Float64Array(held.length);
    }
    const n = held.length;
    kernel.ensembleNll(fH.data, undefined, n, C, yH, 1 / Tf, 0, offset, { rowLoss: lossProbe });
    kernel.ensembleNll(fH.data, dH.data, n, C, yH, 1 / Tf, 1, offset, { rowLoss: lossPaper });
    kernel.ensembleNll(fH.data, dH.data, n, C, yH, jt.weights[0], jt.weights[1], offset, { rowLoss: lossJoint });
    held.forEach((i, r) => {
      probe[i] = lossProbe[r]!;
      paper[i] = lossPaper[r]!;
      joint[i] = lossJoint[r]!;
      scored[i] = 1;
    });
  }
  let n = 0;
  let sumProbe = 0;
  let sumPaper = 0;
  let sumJoint = 0;
  for (let i = 0; i < N; i++) {
    if (!scored[i]) continue;
    n++;
    sumProbe += probe[i]!;
    sumPaper += paper[i]!;
    sumJoint += joint[i]!;
  }
  if (n === 0) fail('empty-input', 'selectEnsembleWeights: no fold has both training and held-out rows');
  const nllProbe = sumProbe / n;
  const nllPaper = sumPaper / n;
  const nllJoint = sumJoint / n;
  const ensemble = nllJoint < nllPaper ? 'joint' : 'paper';
  const z = pairedZStatistic(probe, ensemble === 'joint' ? joint : paper, scored);
  return { ensemble, gated: z > minZ ? ensemble : 'probe', nllProbe, nllPaper, nllJoint, z };
}
