import { fail } from './errors';
import { lbfgs, maxAbs } from './lbfgs';
import type { PriorStatistics, PriorStatisticsLevel } from './prior-statistics';

// The statistics live in prior-statistics.ts; re-exported here for existing imports.
export {
  accumulateExact,
  addLabelStatistics,
  emptyPriorStatistics,
  mergePriorStatistics,
  type PriorChunk,
  type PriorStatistics,
  type PriorStatisticsLevel,
  priorStatistics,
} from './prior-statistics';

// ---------------------------------------------------------------------------------------------
// The solver: a generator that asks for passes and never touches data itself.

/** Which algorithm minimises the prior objective. */
export type PriorSolverName = 'auto' | 'newton' | 'sparse-newton' | 'lbfgs';

/** Largest C for which 'auto' picks Newton (the C x C Hessian pass costs ~C/2 gradient passes). */
export const NEWTON_MAX_CLASSES = 64;

/** Settings of the prior solver (internal; validated by the public entry points). */
export interface PriorSolverSettings {
  classes: number;
  regularization: number;
  targetMarginal?: Float64Array;
  tolerance: number;
  maxIterations: number;
  solver: PriorSolverName;
  initialBias?: Float64Array;
  /** Start with one multiplicative fixed-point step (default true). */
  fixedPointStart?: boolean;
  /**
   * Passes are cheap relative to the sparse-Hessian terms (an accelerated kernel backend): 'auto'
   * then picks 'lbfgs' above NEWTON_MAX_CLASSES (fewer heavy passes; measured in gla speed).
   */
  fastPasses?: boolean;
}

/** A pass the solver needs: statistics of all rows at `bias`, at `level`. */
export interface PassRequest {
  bias: Float64Array;
  level: PriorStatisticsLevel;
}

/** What the solver returns (internal). */
export interface PriorSolverOutcome {
  /** b* with mean(b*) = 0. */
  bias: Float64Array;
  objective: number;
  gradient: Float64Array;
  gradientNorm: number;
  iterations: number;
  passes: number;
  converged: boolean;
  solver: 'newton' | 'sparse-newton' | 'lbfgs' | 'sparse-newton+lbfgs';
}

interface Model {
  value: number;
  gradient: Float64Array;
  stats: PriorStatistics;
}

/** Turns pass statistics into objective and gradient for the settings (internal). */
function evaluateModel(settings: PriorSolverSettings, stats: PriorStatistics, bias: Float64Array, target: Float64Array): Model {
  const C = settings.classes;
  const N = stats.rows;
  const lambda = settings.regularization;
  let mean = 0;
  for (let k = 0; k < C; k++) mean += bias[k]!;
  mean /= C;
  let value = stats.logSumExp / N - (settings.targetMarginal ? 0 : stats.labelLogitSum / N);
  let reg = 0;
  const gradient = new Float64Array(C);
  for (let k = 0; k < C; k++) {
    const centred = bias[k]! - mean;
    value += target[k]! * bias[k]!;
    reg += centred * centred;
    gradient[k] = target[k]! - stats.mass[k]! / N + lambda * centred;
  }
  value += 0.5 * lambda * reg;
  return { value, gradient, stats };
}

function centre(v: Float64Array): void {
  let mean = 0;
  for (let k = 0; k < v.length; k++) mean += v[k]!;
  mean /= v.length;
  for (let k = 0; k < v.length; k++) v[k]! -= mean;
}

/**
 * Cholesky solve of A x = r for symmetric A (n x n, row-major, overwritten by its factor).
 * Returns false if A is not numerically positive definite.
 */
function choleskySolve(A: Float64Array, r: Float64Array, n: number): boolean {
  for (let j = 0; j < n; j++) {
    const rj = j * n;
    let d = A[rj + j]!;
    for (let k = 0; k < j; k++) d -= A[rj + k]! * A[rj + k]!;
    if (!(d > 0)) return false;
    const ljj = Math.sqrt(d);
    A[rj + j] = ljj;
    for (let i = j + 1; i < n; i++) {
      const ri = i * n;
      let s = A[ri + j]!;
      for (let k = 0; k < j; k++) s -= A[ri + k]! * A[rj + k]!;
      A[ri + j] = s / ljj;
    }
  }
  for (let i = 0; i < n; i++) {
    let s = r[i]!;
    for (let k = 0; k < i; k++) s -= A[i * n + k]! * r[k]!;
    r[i] = s / A[i * n + i]!;
  }
  for (let i = n - 1; i >= 0; i--) {
    let s = r[i]!;
    for (let k = i + 1; k < n; k++) s -= A[k * n + i]! * r[k]!;
    r[i] = s / A[i * n + i]!;
  }
  return true;
}

const MAX_STEP = 10;

/** Relative residual at which the conjugate-gradient Newton solve stops (inexact Newton). */
const PCG_RELATIVE_RESIDUAL = 1e-8;

/**
 * The GLA prior solver as a generator: yields {@link PassRequest}s, receives the summed
 * {@link PriorStatistics} of all rows, returns the optimum (gauge mean(b) = 0). It starts with one
 * multiplicative fixed-point step, then: 'newton' (exact C x C Hessian, Cholesky with the gauge
 * direction made definite; 'auto' for C <= 64), 'sparse-newton' (sparsified Hessian, PCG; 'auto'
 * above) or 'lbfgs' (preconditioned by the exact Hessian diagonal). Newton steps use the
 * log-residual right-hand side and an Armijo / approximate-Wolfe line search with secant
 * backtracking.
 */
export function* priorSolver(settings: PriorSolverSettings): Generator<PassRequest, PriorSolverOutcome, PriorStatistics> {
  const C = settings.classes;
  const solver =
    settings.solver === 'auto' ? (C <= NEWTON_MAX_CLASSES ? 'newton' : settings.fastPasses ? 'lbfgs' : 'sparse-newton') : settings.solver;
  let level: PriorStatisticsLevel = solver === 'newton' ? 'hessian' : solver === 'lbfgs' ? 'diagonal' : 'sparse-hessian';
  // 'auto' guards sparse Newton: when it stops converging superlinearly (nearly separable logits,
  // where the dropped off-diagonal terms are as large as the kept diagonal), L-BFGS takes over.
  const guarded = settings.solver === 'auto' && solver === 'sparse-newton';
  const b0 = settings.initialBias ? Float64Array.from(settings.initialBias) : new Float64Array(C);
  centre(b0);
  let passes = 0;
  const first = yield { bias: Float64Array.from(b0), level: 'gradient' };
  passes++;
  const target = resolveTarget(settings, first);
  let model = evaluateModel(settings, first, b0, target);
  if (maxAbs(model.gradient) <= settings.tolerance) {
    // Already optimal at the start (e.g. perfectly separated classes: the objective is flat).
    return {
      bias: b0,
      objective: model.value,
      gradient: model.gradient,
      gradientNorm: maxAbs(model.gradient),
      iterations: 0,
      passes,
      converged: true,
      solver,
    };
  }
  if (settings.fixedPointStart !== false) {
    // Start from one multiplicative fixed-point step b_k += log(mean p_k / pi_k) (the EM/Sinkhorn
    // update; a diagonal-Newton step), clamped to +-MAX_STEP.
    for (let k = 0; k < C; k++) {
      const ratio = Math.log(Math.max(first.mass[k]! / first.rows, 1e-300) / Math.max(target[k]!, 1e-300));
      b0[k]! += Math.max(-MAX_STEP, Math.min(MAX_STEP, ratio));
    }
    centre(b0);
  }
  {
    const stats = yield { bias: Float64Array.from(b0), level };
    passes++;
    model = evaluateModel(settings, stats, b0, target);
  }
  let start: Float64Array = b0;
  let iterationsBefore = 0;
  let solverName: PriorSolverOutcome['solver'] = solver;
  if (solver !== 'lbfgs') {
    let hessianModel: SparseHessian | undefined;
    let b: Float64Array = b0;
    let iterations = 0;
    let gn = maxAbs(model.gradient);
    let switchToLbfgs = false;
    while (gn > settings.tolerance && iterations < settings.maxIterations) {
      if (solver === 'sparse-newton' && model.stats.secondMoment) hessianModel = sparseHessian(model.stats, settings.regularization);
      // Newton on the log-residual: the gradient pi'_k - m_k is replaced by m_k log(pi'_k / m_k)
      // (pi' = pi + lambda (b - mean b)), equal to first order at the optimum (so convergence stays
      // quadratic) but bounded far from it, like the multiplicative fixed point (see logResidual).
      const residual = logResidual(model, b, target, settings.regularization) ?? model.gradient;
      const direction = (g: Float64Array) =>
        solver === 'newton' ? newtonDirection(settings, model, g) : sparseNewtonDirection(hessianModel!, g);
      let d = direction(residual);
      let slope = 0;
      for (let k = 0; k < C; k++) slope += d[k]! * model.gradient[k]!;
      if (!(slope < 0) && residual !== model.gradient) {
        d = direction(model.gradient);
        slope = 0;
        for (let k = 0; k < C; k++) slope += d[k]! * model.gradient[k]!;
      }
      if (!(slope < 0)) break;
      let t = 1;
      let accepted: { b: Float64Array; model: Model } | undefined;
      for (let ls = 0; ls < 50; ls++) {
        const bt = new Float64Array(C);
        for (let k = 0; k < C; k++) bt[k] = b[k]! + t * d[k]!;
        // Sparse Newton refreshes its Hessian model only while far from the optimum (chord steps after).
        const trialLevel: PriorStatisticsLevel = solver === 'sparse-newton' && gn < SPARSE_REFRESH_BELOW ? 'gradient' : level;
        const stats: PriorStatistics = yield { bias: bt, level: trialLevel };
        passes++;
        const trial = evaluateModel(settings, stats, bt, target);
        let newSlope = 0;
        for (let k = 0; k < C; k++) newSlope += d[k]! * trial.gradient[k]!;
        const armijo = trial.value <= model.value + 1e-4 * t * slope;
        // Hager-Zhang approximate Wolfe: near the optimum the decrease is below rounding noise.
        const noise = 1e-10 * Math.abs(model.value) + 1e-300;
        const approxWolfe = trial.value <= model.value + noise && newSlope >= 0.9 * slope && newSlope <= -0.9998 * slope;
        if (Number.isFinite(trial.value) && (armijo || approxWolfe)) {
          accepted = { b: bt, model: trial };
          break;
        }
        // Convex along the line: secant on the directional derivative, kept inside [0.05 t, 0.7 t].
        const secant = Number.isFinite(trial.value) && newSlope > slope ? (t * slope) / (slope - newSlope) : 0.1 * t;
        t = Math.min(0.7 * t, Math.max(0.05 * t, secant));
      }
      if (!accepted) break;
      b = accepted.b;
      model = accepted.model;
      const previous = gn;
      gn = maxAbs(model.gradient);
      iterations++;
      if (guarded && iterations >= SWITCH_AFTER && gn > SWITCH_RATIO * previous && gn > settings.tolerance) {
        switchToLbfgs = true;
        break;
      }
    }
    if (switchToLbfgs) {
      start = b;
      iterationsBefore = iterations;
      solverName = 'sparse-newton+lbfgs';
      level = 'diagonal';
    } else
      return {
        bias: b,
        objective: model.value,
        gradient: model.gradient,
        gradientNorm: gn,
        iterations,
        passes,
        converged: gn <= settings.tolerance,
        solver,
      };
  }
  // L-BFGS preconditioned by the exact Hessian diagonal (gradient-level statistics of a chord
  // step carry no squared mass: the diagonal is then mean p_k, an upper bound).
  let latest = model.stats;
  const lambdaDiag = settings.regularization * (1 - 1 / C);
  const run = lbfgs(start, {
    tolerance: settings.tolerance,
    maxIterations: Math.max(1, settings.maxIterations - iterationsBefore),
    memory: 12,
    maxStep: MAX_STEP,
    projectDirection: centre,
    preconditioner: () => {
      const N = latest.rows;
      const sq = latest.squaredMass;
      const diag = new Float64Array(C);
      let max = 0;
      for (let k = 0; k < C; k++) {
        const h = (latest.mass[k]! - (sq ? sq[k]! : 0)) / N + lambdaDiag;
        diag[k] = h;
        if (h > max) max = h;
      }
      const floor = Math.max(1e-300, 1e-12 * max);
      for (let k = 0; k < C; k++) if (!(diag[k]! > floor)) diag[k] = floor;
      return diag;
    },
  });
  let step = run.next();
  // The first point requested is b0, whose statistics we already have.
  step = run.next({ value: model.value, gradient: model.gradient });
  while (!step.done) {
    const stats: PriorStatistics = yield { bias: step.value, level };
    passes++;
    latest = stats;
    const ev = evaluateModel(settings, stats, step.value, target);
    step = run.next({ value: ev.value, gradient: ev.gradient });
  }
  const r = step.value;
  centre(r.x);
  return {
    bias: r.x,
    objective: r.value,
    gradient: r.gradient,
    gradientNorm: r.gradientNorm,
    iterations: iterationsBefore + r.iterations,
    passes,
    converged: r.converged,
    solver: solverName,
  };
}

/** The guard of 'auto' sparse Newton: after this many iterations ... */
const SWITCH_AFTER = 3;
/** ... an iteration that reduces the max-abs gradient by less than this factor hands over to L-BFGS. */
const SWITCH_RATIO = 0.25;

/** Below this max-abs gradient sparse Newton keeps its last Hessian model (chord steps). */
const SPARSE_REFRESH_BELOW = 1e-4;

interface SparseHessian {
  solve(q: Float64Array): Float64Array;
}

/** Newton direction with the sparsified Hessian (PCG solve), centred and capped. */
function sparseNewtonDirection(hessian: SparseHessian, gradient: Float64Array): Float64Array {
  const minus = new Float64Array(gradient.length);
  for (let k = 0; k < gradient.length; k++) minus[k] = -gradient[k]!;
  const d = hessian.solve(minus);
  centre(d);
  const m = maxAbs(d);
  if (m > MAX_STEP) for (let k = 0; k < d.length; k++) d[k]! *= MAX_STEP / m;
  return d;
}

/**
 * The Hessian approximation A = diag(exact H_kk) - (sparse off-diagonal second moments)/N +
 * lambda (I - 11^T/C) + sigma 11^T/C (sigma fixes the gauge direction). H is a weighted graph
 * Laplacian (zero row sums for lambda = 0) and dropping off-diagonal entries keeps A diagonally
 * dominant, hence positive definite. Solves use Jacobi-preconditioned conjugate gradients.
 */
function sparseHessian(stats: PriorStatistics, lambda: number): SparseHessian {
  const C = stats.classes;
  const N = stats.rows;
  const S = stats.secondMoment!;
  const sq = stats.squaredMass!;
  const diag = new Float64Array(C);
  let sigma = 0;
  for (let k = 0; k < C; k++) {
    diag[k] = (stats.mass[k]! - sq[k]!) / N;
    sigma += diag[k]!;
  }
  sigma /= C;
  let nnz = 0;
  for (let a = 0; a < C; a++) {
    const row = a * C;
    for (let b = a + 1; b < C; b++) if (S[row + b] !== 0) nnz++;
  }
  const ra = new Int32Array(nnz);
  const ca = new Int32Array(nnz);
  const va = new Float64Array(nnz);
  let e = 0;
  for (let a = 0; a < C; a++) {
    const row = a * C;
    for (let b = a + 1; b < C; b++) {
      const v = S[row + b]!;
      if (v !== 0) {
        ra[e] = a;
        ca[e] = b;
        va[e++] = v / N;
      }
    }
  }
  const jacobi = new Float64Array(C);
  for (let k = 0; k < C; k++) jacobi[k] = 1 / Math.max(diag[k]! + lambda * (1 - 1 / C) + sigma / C, 1e-300);
  const apply = (v: Float64Array, out: Float64Array) => {
    let mean = 0;
    for (let k = 0; k < C; k++) mean += v[k]!;
    mean /= C;
    for (let k = 0; k < C; k++) out[k] = diag[k]! * v[k]! + lambda * (v[k]! - mean) + sigma * mean;
    for (let e = 0; e < va.length; e++) {
      const a = ra[e]!;
      const b = ca[e]!;
      const w = va[e]!;
      out[a]! -= w * v[b]!;
      out[b]! -= w * v[a]!;
    }
  };
  return {
    solve(q) {
      const x = new Float64Array(C);
      const r = Float64Array.from(q);
      const z = new Float64Array(C);
      const p = new Float64Array(C);
      const Ap = new Float64Array(C);
      for (let k = 0; k < C; k++) z[k] = r[k]! * jacobi[k]!;
      p.set(z);
      let rz = 0;
      let r0 = 0;
      for (let k = 0; k < C; k++) {
        rz += r[k]! * z[k]!;
        r0 += r[k]! * r[k]!;
      }
      if (r0 === 0) return x;
      for (let iter = 0; iter < 4 * C + 50; iter++) {
        apply(p, Ap);
        let pAp = 0;
        for (let k = 0; k < C; k++) pAp += p[k]! * Ap[k]!;
        if (!(pAp > 0)) break;
        const alpha = rz / pAp;
        let rr = 0;
        for (let k = 0; k < C; k++) {
          x[k]! += alpha * p[k]!;
          r[k]! -= alpha * Ap[k]!;
          rr += r[k]! * r[k]!;
        }
        if (rr <= PCG_RELATIVE_RESIDUAL ** 2 * r0) break;
        let rzNew = 0;
        for (let k = 0; k < C; k++) {
          z[k] = r[k]! * jacobi[k]!;
          rzNew += r[k]! * z[k]!;
        }
        const beta = rzNew / rz;
        rz = rzNew;
        for (let k = 0; k < C; k++) p[k] = z[k]! + beta * p[k]!;
      }
      return x;
    },
  };
}

function resolveTarget(settings: PriorSolverSettings, stats: PriorStatistics): Float64Array {
  const C = settings.classes;
  if (stats.classes !== C || stats.mass.length !== C)
    fail('shape-mismatch', `prior statistics have ${stats.classes} classes, expected ${C}`);
  if (stats.rows === 0) fail('empty-input', 'prior estimation: the data source produced no rows');
  const lambda = settings.regularization;
  if (settings.targetMarginal) {
    const t = settings.targetMarginal;
    if (lambda === 0) {
      for (let k = 0; k < C; k++)
        if (t[k] === 0) fail('empty-class', `targetMarginal[${k}] is 0: no finite optimum without regularization`);
    }
    return t;
  }
  if (stats.labelledRows === 0) fail('invalid-option', 'prior estimation needs labels or a targetMarginal');
  if (stats.labelledRows !== stats.rows)
    fail(
      'length-mismatch',
      `prior estimation: ${stats.labelledRows} of ${stats.rows} rows are labelled; label every row or use targetMarginal`,
    );
  const target = new Float64Array(C);
  for (let k = 0; k < C; k++) {
    const n = stats.labelCounts[k]!;
    if (n === 0 && lambda === 0) fail('empty-class', `class ${k} has no labelled example: no finite optimum; set regularization > 0`);
    target[k] = n / stats.labelledRows;
  }
  return target;
}

/**
 * r_k = m_k log(pi'_k / m_k) with m = mean softmax mass and pi' = target + lambda (b - mean b); the
 * same sign as the gradient pi'_k - m_k and equal to it to first order. Undefined when some m_k or
 * pi'_k is not positive (the plain gradient is used then).
 */
function logResidual(model: Model, b: Float64Array, target: Float64Array, lambda: number): Float64Array | undefined {
  const C = b.length;
  const N = model.stats.rows;
  let mean = 0;
  for (let k = 0; k < C; k++) mean += b[k]! / C;
  const r = new Float64Array(C);
  for (let k = 0; k < C; k++) {
    const m = model.stats.mass[k]! / N;
    const t = target[k]! + lambda * (b[k]! - mean);
    if (!(m > 0 && t > 0)) return undefined;
    r[k] = m * Math.log(t / m);
  }
  return r;
}

function newtonDirection(settings: PriorSolverSettings, model: Model, gradient: Float64Array): Float64Array {
  const C = settings.classes;
  const { stats } = model;
  const N = stats.rows;
  const S = stats.secondMoment;
  if (!S) fail('invalid-option', 'Newton solver needs second-moment statistics (level "hessian")');
  const lambda = settings.regularization;
  const H = new Float64Array(C * C);
  let trace = 0;
  for (let a = 0; a < C; a++) {
    for (let b = a; b < C; b++) {
      // Only the upper triangle of S is filled by addOuterUpper.
      const v = -S[a * C + b]! / N - lambda / C;
      H[a * C + b] = v;
      H[b * C + a] = v;
    }
    H[a * C + a]! += stats.mass[a]! / N + lambda;
    trace += H[a * C + a]!;
  }
  const shift = trace / C / C; // adds (trace / C) * (1 1^T / C): curvature along the gauge direction
  let damping = 0;
  for (let attempt = 0; attempt < 40; attempt++) {
    const A = new Float64Array(C * C);
    for (let i = 0; i < C * C; i++) A[i] = H[i]! + shift;
    if (damping > 0) for (let a = 0; a < C; a++) A[a * C + a]! += damping;
    const r = new Float64Array(C);
    for (let k = 0; k < C; k++) r[k] = -gradient[k]!;
    if (choleskySolve(A, r, C)) {
      centre(r);
      const m = maxAbs(r);
      if (m > MAX_STEP) for (let k = 0; k < C; k++) r[k]! *= MAX_STEP / m;
      return r;
    }
    damping = damping === 0 ? Math.max(1e-300, 1e-12 * (trace / C)) : damping * 10;
  }
  const r = new Float64Array(C);
  for (let k = 0; k < C; k++) r[k] = -gradient[k]!;
  return r;
}

/** Runs the solver against a synchronous pass function (internal). */
export function runPriorSolver(settings: PriorSolverSettings, pass: (request: PassRequest) => PriorStatistics): PriorSolverOutcome {
  const it = priorSolver(settings);
  let step = it.next();
  while (!step.done) step = it.next(pass(step.value));
  return step.value;
}

/** Runs the solver against an asynchronous pass function (internal). */
export async function runPriorSolverAsync(
  settings: PriorSolverSettings,
  pass: (request: PassRequest) => Promise<PriorStatistics> | PriorStatistics,
): Promise<PriorSolverOutcome> {
  const it = priorSolver(settings);
  let step = it.next();
  while (!step.done) step = it.next(await pass(step.value));
  return step.value;
}
