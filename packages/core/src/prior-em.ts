import { fail } from './errors';
import { type BackendChoice, checkBackendChoice, type KernelBackend, resolveKernel } from './kernels';
import {
  checkDistribution,
  checkFinite,
  checkMatrix,
  checkNonEmpty,
  checkPositive,
  checkPositiveInteger,
  checkTemperature,
  type Matrix,
} from './matrix';
import type { PriorEstimate } from './prior';

/** Fixed-point acceleration of {@link estimatePriorEM}. */
export type EMAcceleration = 'squarem' | 'none';

/** Options of {@link estimatePriorEM}. */
export interface EstimatePriorEMOptions {
  /** T > 0 dividing the logits (default 1). */
  temperature?: number;
  /** The label distribution the posteriors softmax(z/T) are calibrated for (length C; default uniform). */
  trainPrior?: ArrayLike<number>;
  /** Stop when a plain EM step changes q by max_k |q_new - q_old| <= tolerance (default 1e-10). */
  tolerance?: number;
  /** Most EM-map evaluations (= N x C passes, see {@link estimatePriorEM}); default 10000. */
  maxIterations?: number;
  /**
   * 'squarem' (default): SQUAREM extrapolation (Varadhan & Roland 2008, step length S3) of the EM
   * map in log(q / pi_s), with a monotone-likelihood safeguard; same fixed point and stopping rule.
   * 'none': plain EM steps (the reference iteration).
   */
  acceleration?: EMAcceleration;
  /**
   * Kernel backend of the passes: 'auto' (default: the fastest registered, see registerKernels)
   * or a backend name ('reference' = the pure-TypeScript kernels).
   */
  backend?: BackendChoice;
}

/**
 * Kernel column weights below this are raised to it (massPass needs s_i >= 1e-280); a pass with
 * raised weights is kept only where every s_i >= FLOORED_MIN_ROW_SUM, so the raise changes each s_i
 * by < C * WEIGHT_FLOOR / s_i <= 1e-17 relatively (below Float64 rounding), else it runs exactly.
 */
const WEIGHT_FLOOR = 1e-270;
const FLOORED_MIN_ROW_SUM_PER_CLASS = 1e-253;

/** Relative slack of the monotone-likelihood test (rounding of a mean of N logs). */
const LIKELIHOOD_SLACK = 1e-13;

/** SQUAREM step-length cap: starts at 1 (a plain step), times STEP_FACTOR whenever the S3 step reaches it. */
const STEP_FACTOR = 4;
const STEP_MAX = 2 ** 20;

/** One EM-map evaluation at a point theta_k = log(q_k / pi_s,k) (any additive constant). */
interface EMPass {
  /** The input point (as given). */
  theta: Float64Array;
  /** q at the input point (normalised, length C). */
  q: Float64Array;
  /** EM(q), normalised (sums to 1 up to rounding). */
  next: Float64Array;
  /** log(EM(q)_k / pi_s,k) (-Infinity for classes with no posterior mass: they stay 0). */
  nextTheta: Float64Array;
  /** Mean log-likelihood at q: (1/N) sum_i log sum_k p_ik q_k / pi_s,k (nats). */
  logLikelihood: number;
  /** max_k |EM(q)_k - q_k| (the fixed-point residual of a plain EM step). */
  change: number;
}

/**
 * Saerens, Latinne & Decaestecker (2002) EM for label shift, on UNLABELLED logits. Assumes
 * p_i = softmax(z_i / T) are calibrated posteriors under `trainPrior` pi_s and estimates the label
 * distribution q of the given examples:
 *   E-step  r_ik = p_ik q_k / pi_s,k, normalised over k;   M-step  q_k = mean_i r_ik.
 * Each step increases the likelihood prod_i sum_k p_ik q_k / pi_s,k; `objective` is its negative
 * mean log (nats, up to a constant) at the point the last EM step started from, `gradientNorm`
 * the change max_k |dq_k| of that last plain EM step (fixed-point residual). Note: this estimates
 * the label distribution of the data set, not the pre-training prior of a zero-shot model (for
 * that use estimatePrior, optionally with `targetMarginal`).
 *
 * Computation: E_ik = exp(z_ik / T - rowmax_i) is cached once in Float64 (the `expShiftFill`
 * kernel; its row sums give p_ik = E_ik / rowSum_i) and every EM step is one `massPass` kernel
 * sweep with column weights w_k proportional to q_k / pi_s,k (max w = 1): s_i = sum_k E_ik w_k,
 * EM(q)_k = w_k sum_i (E_ik / s_i) / N, log-likelihood = mean_i log(s_i / rowSum_i) + const.
 * The fill's sums are the first step (q = pi_s). With acceleration 'squarem' (default), every two
 * EM steps from theta_0 = log(q / pi_s) are extrapolated, theta' = theta_0 + 2a r + a^2 v with
 * r = theta_1 - theta_0, v = theta_2 - 2 theta_1 + theta_0 and a = |r| / |v| (S3) capped by an
 * adaptive maximum; theta' is kept when its likelihood is not below that of theta_1 (otherwise
 * the plain step theta_2 is taken and the cap shrinks), so the likelihood never decreases by more
 * than rounding and the fixed point is EM's. The stopping rule is checked after every EM step:
 * stop when a plain EM step (from any point) changes q by max_k |dq_k| <= tolerance; EM(q) of
 * that step is returned.
 * `iterations` counts EM-map evaluations (the fill's included), `passes` the N x C passes
 * (the same number: each evaluation is one pass over E; an exact fallback pass, see below, also
 * counts once); `backend` names the kernels that ran.
 * Rows whose s_i would leave the kernel's range [1e-280, 1e280] (classes with q_k / max q below
 * ~1e-250 carrying all of a row's posterior mass) are handled by an exact log-space pass.
 * @param logits N x C (-Infinity = masked class)
 * @throws GlaError `non-finite` / `masked-row` for invalid logits, `invalid-option`,
 *   `invalid-temperature`.
 */
export function estimatePriorEM(logits: Matrix, options: EstimatePriorEMOptions = {}): PriorEstimate {
  checkMatrix(logits, 'logits');
  checkNonEmpty(logits, 'logits');
  if (options === null || typeof options !== 'object') fail('invalid-option', 'estimatePriorEM: options must be an object');
  const { rows: N, cols: C, data } = logits;
  const T = checkTemperature(options.temperature ?? 1);
  const trainPrior =
    options.trainPrior === undefined ? new Float64Array(C).fill(1 / C) : checkDistribution(options.trainPrior, C, 'trainPrior', false);
  const tol = checkPositive(options.tolerance ?? 1e-10, 'tolerance');
  const maxIterations = checkPositiveInteger(options.maxIterations ?? 10000, 'maxIterations');
  const acceleration = options.acceleration ?? 'squarem';
  if (acceleration !== 'squarem' && acceleration !== 'none')
    fail('invalid-option', `estimatePriorEM: acceleration must be 'squarem' or 'none', got ${String(acceleration)}`);
  const backendChoice = checkBackendChoice(options.backend, 'estimatePriorEM');
  const fill = resolveKernel('expShiftFill', backendChoice);
  const massKernel = resolveKernel('massPass', backendChoice);
  const E = massKernel.allocateCache?.('float64', N, C) ?? new Float64Array(N * C);
  try {
    const rowMax = new Float64Array(N);
    const rowSum = new Float64Array(N);
    const mass0 = new Float64Array(C);
    const beta = 1 / T;
    const invalid = fill.expShiftFill!(data, N, C, beta, E, rowMax, rowSum, mass0);
    if (invalid < N) {
      // The fill found a NaN / +-Infinity entry or a fully masked row: the exact check names it.
      checkFinite(logits, 'logits', true);
      fail('non-finite', `logits: row ${invalid} overflows when multiplied by 1 / T = ${beta}`);
    }
    const solver = new EMPasses(E as Float64Array, N, C, trainPrior, rowSum, massKernel);
    let current = solver.fromFill(mass0);
    let iterations = 1;
    let stepMax = 1;
    while (current.change > tol && iterations < maxIterations) {
      if (acceleration === 'none') {
        current = solver.pass(current.nextTheta);
        iterations++;
        continue;
      }
      const second = solver.pass(current.nextTheta);
      iterations++;
      if (second.change <= tol || iterations >= maxIterations) {
        current = second;
        break;
      }
      const proposal = squaremPoint(current.theta, second.theta, second.nextTheta, second.next, stepMax);
      if (proposal.theta === undefined) {
        // Step 1: the plain step theta_2 (the cap grows when the S3 step was above it).
        if (proposal.capped) stepMax = Math.min(STEP_MAX, stepMax * STEP_FACTOR);
        current = solver.pass(second.nextTheta);
        iterations++;
        continue;
      }
      const extrapolated = solver.pass(proposal.theta);
      iterations++;
      if (
        Number.isFinite(extrapolated.logLikelihood) &&
        extrapolated.logLikelihood >= second.logLikelihood - LIKELIHOOD_SLACK * (1 + Math.abs(second.logLikelihood))
      ) {
        current = extrapolated;
        if (proposal.capped) stepMax = Math.min(STEP_MAX, stepMax * STEP_FACTOR);
      } else {
        stepMax = Math.max(1, stepMax / STEP_FACTOR);
        if (iterations >= maxIterations) {
          current = second;
          break;
        }
        current = solver.pass(second.nextTheta);
        iterations++;
      }
    }
    let sum = 0;
    for (const v of current.next) sum += v;
    const prior = current.next.map((v) => v / sum);
    return {
      prior,
      logPrior: prior.map(Math.log),
      temperature: T,
      objective: -current.logLikelihood,
      gradientNorm: current.change,
      iterations,
      converged: current.change <= tol,
      solver: acceleration === 'none' ? 'em' : 'em+squarem',
      passes: iterations,
      backend: fill.name === massKernel.name ? fill.name : `${fill.name}+${massKernel.name}`,
    };
  } finally {
    massKernel.releaseCache?.(E);
  }
}

/**
 * The SQUAREM point theta_0 + 2a r + a^2 v (S3 step a = |r| / |v| clamped to [1, stepMax]) over the
 * classes finite in all three points (the others keep theta_2); `theta` is undefined when a = 1
 * (the extrapolation is then the plain step theta_2); `capped` when the S3 step was >= stepMax.
 */
function squaremPoint(
  t0: Float64Array,
  t1: Float64Array,
  t2: Float64Array,
  q2: Float64Array,
  stepMax: number,
): { theta: Float64Array | undefined; capped: boolean } {
  const C = t0.length;
  // Gauge: every theta here is log(q / pi) of a normalised q, so the differences are comparable.
  // Norms in the Fisher metric of the simplex, sum_k q_k dtheta_k^2 (= sum_k dq_k^2 / q_k to first
  // order): classes drifting to q_k -> 0 (theta_k falling linearly) must not set the step length.
  let rr = 0;
  let vv = 0;
  for (let k = 0; k < C; k++) {
    if (!(Number.isFinite(t0[k]!) && Number.isFinite(t1[k]!) && Number.isFinite(t2[k]!))) continue;
    const r = t1[k]! - t0[k]!;
    const v = t2[k]! - 2 * t1[k]! + t0[k]!;
    const weight = q2[k]!;
    rr += weight * r * r;
    vv += weight * v * v;
  }
  if (!(rr > 0)) return { theta: undefined, capped: false };
  const s3 = vv > 0 ? Math.sqrt(rr / vv) : Number.POSITIVE_INFINITY;
  const capped = s3 >= stepMax;
  const step = Math.min(s3, stepMax);
  if (!(step > 1)) return { theta: undefined, capped };
  const theta = new Float64Array(C);
  for (let k = 0; k < C; k++) {
    if (!(Number.isFinite(t0[k]!) && Number.isFinite(t1[k]!) && Number.isFinite(t2[k]!))) {
      theta[k] = t2[k]!;
      continue;
    }
    const r = t1[k]! - t0[k]!;
    const v = t2[k]! - 2 * t1[k]! + t0[k]!;
    theta[k] = t0[k]! + 2 * step * r + step * step * v;
  }
  return { theta, capped };
}

/** The EM-map evaluations over the Float64 cache E (internal). */
class EMPasses {
  private readonly logTrainPrior: Float64Array;
  private readonly meanLogRowSum: number;
  private readonly rowSums: Float64Array;
  private readonly acc: Float64Array;
  private readonly w: Float64Array;
  private readonly kernelW: Float64Array;
  private readonly logW: Float64Array;
  constructor(
    private readonly E: Float64Array,
    private readonly N: number,
    private readonly C: number,
    private readonly trainPrior: Float64Array,
    rowSum: Float64Array,
    private readonly kernel: KernelBackend & Required<Pick<KernelBackend, 'massPass'>>,
  ) {
    this.logTrainPrior = trainPrior.map(Math.log);
    let s = 0;
    for (let i = 0; i < N; i++) s += Math.log(rowSum[i]!);
    this.meanLogRowSum = s / N;
    this.rowSums = new Float64Array(N);
    this.acc = new Float64Array(C);
    this.w = new Float64Array(C);
    this.kernelW = new Float64Array(C);
    this.logW = new Float64Array(C);
  }

  /** The first step, at q = pi_s (theta = 0, w = 1), from the fill's mass (sum_i E_ik / rowSum_i). */
  fromFill(mass0: Float64Array): EMPass {
    const C = this.C;
    this.logW.fill(0);
    this.w.fill(1);
    // s_i = rowSum_i, so the mean log(s_i / rowSum_i) is 0.
    return this.finish(new Float64Array(C), mass0, 0);
  }

  /** One EM step from theta (log(q / pi_s) up to a constant; -Infinity = q_k = 0). */
  pass(theta: Float64Array): EMPass {
    const { N, C } = this;
    let top = Number.NEGATIVE_INFINITY;
    for (let k = 0; k < C; k++) if (theta[k]! > top) top = theta[k]!;
    const { w, kernelW, logW, acc, rowSums } = this;
    let floored = false;
    for (let k = 0; k < C; k++) {
      const lw = theta[k]! - top;
      logW[k] = lw;
      const v = Math.exp(lw);
      w[k] = v;
      if (lw > Number.NEGATIVE_INFINITY && v < WEIGHT_FLOOR) {
        kernelW[k] = WEIGHT_FLOOR;
        floored = true;
      } else kernelW[k] = v;
    }
    acc.fill(0);
    this.kernel.massPass(this.E, N, C, kernelW, rowSums, acc);
    let sumLog = 0;
    let lowest = Number.POSITIVE_INFINITY;
    for (let i = 0; i < N; i++) {
      const s = rowSums[i]!;
      if (s < lowest) lowest = s;
      sumLog += Math.log(s);
    }
    // Unfloored weights: s_i >= E_i,argmax * w_argmax >= ~WEIGHT_FLOOR always; floored ones are
    // kept only when the raise is negligible against every s_i.
    if (floored && !(lowest >= C * FLOORED_MIN_ROW_SUM_PER_CLASS)) return this.exactPass(theta);
    // EM(q)_k = w_k acc_k / N, in logs so that tiny w_k keep their value.
    const logNext = new Float64Array(C);
    for (let k = 0; k < C; k++) logNext[k] = logW[k]! + Math.log(acc[k]!);
    return this.finish(theta, logNext, sumLog / N - this.meanLogRowSum, true);
  }

  /**
   * Exact pass in logs (any weights): a_ik = log E_ik + log w_k, s_i = sum_k exp(a_ik - max_k a_ik).
   * TypeScript; only for weights that would take s_i out of the kernel's range.
   */
  private exactPass(theta: Float64Array): EMPass {
    const { N, C, E, logW } = this;
    const a = new Float64Array(C);
    const logNextMax = new Float64Array(C).fill(Number.NEGATIVE_INFINITY);
    // Column sums of r_ik in logs, accumulated as scaled sums: sum_i r_ik = exp(m_k) * acc_k.
    const acc = this.acc;
    acc.fill(0);
    let sumLog = 0;
    for (let i = 0; i < N; i++) {
      const o = i * C;
      let m = Number.NEGATIVE_INFINITY;
      for (let k = 0; k < C; k++) {
        const v = Math.log(E[o + k]!) + logW[k]!;
        a[k] = v;
        if (v > m) m = v;
      }
      let s = 0;
      for (let k = 0; k < C; k++) s += Math.exp(a[k]! - m);
      const logS = m + Math.log(s);
      sumLog += logS;
      for (let k = 0; k < C; k++) {
        const lr = a[k]! - logS; // log r_ik
        if (lr === Number.NEGATIVE_INFINITY) continue;
        if (lr > logNextMax[k]!) {
          acc[k] = acc[k]! * Math.exp(logNextMax[k]! - lr) + 1;
          logNextMax[k] = lr;
        } else acc[k]! += Math.exp(lr - logNextMax[k]!);
      }
    }
    const logNext = new Float64Array(C);
    for (let k = 0; k < C; k++) logNext[k] = acc[k]! > 0 ? logNextMax[k]! + Math.log(acc[k]!) : Number.NEGATIVE_INFINITY;
    return this.finish(theta, logNext, sumLog / N - this.meanLogRowSum, true);
  }

  /**
   * The EMPass of a step from theta whose log column sums are `logColumn` (log N EM(q)_k when
   * `isLog`, else the plain sums sum_i E_ik / s_i at w = 1); `meanLogS` = mean_i log(s_i / rowSum_i).
   */
  private finish(theta: Float64Array, column: Float64Array, meanLogS: number, isLog = false): EMPass {
    const { N, C, trainPrior, logTrainPrior, w } = this;
    const logN = Math.log(N);
    // q at the input: pi_k w_k / Z.
    let Z = 0;
    for (let k = 0; k < C; k++) Z += trainPrior[k]! * w[k]!;
    const q = new Float64Array(C);
    for (let k = 0; k < C; k++) q[k] = (trainPrior[k]! * w[k]!) / Z;
    const next = new Float64Array(C);
    const nextTheta = new Float64Array(C);
    let change = 0;
    for (let k = 0; k < C; k++) {
      const logColumn = isLog ? column[k]! : Math.log(column[k]!);
      const lq = logColumn - logN;
      const v = Math.exp(lq);
      next[k] = v;
      nextTheta[k] = lq - logTrainPrior[k]!;
      change = Math.max(change, Math.abs(v - q[k]!));
    }
    return { theta, q, next, nextTheta, logLikelihood: meanLogS - Math.log(Z), change };
  }
}
