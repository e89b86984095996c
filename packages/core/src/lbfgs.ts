/**
 * Limited-memory BFGS for smooth convex problems, written as a generator so the same algorithm runs
 * over in-memory, chunked or asynchronous (worker) objective evaluations: it yields the point it
 * needs evaluated and receives `{ value, gradient }` back. {@link minimizeLbfgs} is the synchronous
 * driver.
 *
 * Line search: backtracking Armijo (sufficient decrease c1 = 1e-4, halving with a safeguarded
 * quadratic interpolation), plus Hager-Zhang's approximate-Wolfe acceptance near the optimum where
 * the objective differences fall under rounding noise. Curvature pairs with s'y <= 0 are skipped, so
 * the inverse-Hessian model stays positive definite. Deterministic.
 */

import { fail } from './errors';
import { checkPositive, checkPositiveInteger } from './matrix';

/** Objective value and gradient at a point. */
export interface Evaluation {
  value: number;
  gradient: Float64Array;
}

/** Options of the L-BFGS minimiser. */
export interface LbfgsOptions {
  /** Stop when max_k |gradient_k| <= tolerance (default 1e-9). */
  tolerance?: number;
  /** Maximum number of iterations (accepted steps; default 1000). */
  maxIterations?: number;
  /** Number of curvature pairs kept (default 10). */
  memory?: number;
  /**
   * Optional diagonal Hessian approximation at the last accepted point (all entries > 0); the
   * initial inverse-Hessian model is then gamma * diag(1 / d).
   */
  preconditioner?: () => Float64Array | undefined;
  /** Optional in-place projection of a search direction (e.g. onto a gauge subspace). */
  projectDirection?: (direction: Float64Array) => void;
  /** Optional cap on the largest entry of a trial step (default Infinity). */
  maxStep?: number;
  /**
   * Also stop (converged) after an accepted step whose relative decrease
   * (f_k - f_{k+1}) / max(|f_k|, |f_{k+1}|, 1) is <= this: SciPy L-BFGS-B's `ftol` rule (its
   * default is factr 1e7 x machine epsilon = 2.2e-9). Default 0: off.
   */
  relativeDecrease?: number;
  /**
   * Curvature pairs to start from (e.g. those of an earlier run on a cheaper model of the same
   * objective), oldest first; the run keeps its pairs in these arrays (updated in place, at most
   * `memory`), so they can seed a continuation even if the run is abandoned. Pairs with s'y <= 0 are dropped.
   */
  history?: LbfgsHistory;
  /**
   * Storage of the curvature pairs (default 'float64'). 'float32' halves the history's memory
   * (2 x memory vectors of the variables' length) with Float64 products: the inverse-Hessian model is
   * that of the rounded pairs (still positive definite, s'y recomputed from them), only the search
   * directions change, not the stopping test.
   */
  historyPrecision?: 'float64' | 'float32';
}

/** Curvature pairs of an L-BFGS run, oldest first: steps s_k and gradient changes y_k. */
export interface LbfgsHistory {
  S: (Float64Array | Float32Array)[];
  Y: (Float64Array | Float32Array)[];
}

/** Outcome of an L-BFGS run. */
export interface LbfgsResult {
  x: Float64Array;
  value: number;
  gradient: Float64Array;
  /** max-abs gradient at `x`. */
  gradientNorm: number;
  iterations: number;
  /** Number of objective evaluations. */
  evaluations: number;
  converged: boolean;
  /** The curvature pairs at the end (can seed {@link LbfgsOptions.history} of a continuation). */
  history?: LbfgsHistory;
  /**
   * Storage of the curvature pairs (default 'float64'). 'float32' halves the history's memory
   * (2 x memory vectors of the variables' length) with Float64 products: the inverse-Hessian model is
   * that of the rounded pairs (still positive definite, s'y recomputed from them), only the search
   * directions change, not the stopping test.
   */
  historyPrecision?: 'float64' | 'float32';
}

/** Max-abs norm. */
export function maxAbs(v: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < v.length; i++) {
    const a = Math.abs(v[i]!);
    if (a > m || Number.isNaN(a)) m = a;
  }
  return m;
}

/** A vector of the variables, or a stored curvature vector (Float32 with `historyPrecision: 'float32'`). */
type Vec = Float64Array | Float32Array;

function dot(a: Vec, b: Vec): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

// The loops over the variables live in small functions: the generator itself is resumable, which
// V8 does not optimise on-stack, so loops inside its body would run unoptimised.

/** y += a x. */
function axpy(y: Float64Array, a: number, x: Vec): void {
  for (let i = 0; i < y.length; i++) y[i]! += a * x[i]!;
}

/** sum_i y_i^2 / diag_i (diag_i = 1 without diag). */
function weightedSquares(y: Vec, diag: Float64Array | undefined): number {
  let s = 0;
  if (diag) for (let i = 0; i < y.length; i++) s += (y[i]! * y[i]!) / diag[i]!;
  else for (let i = 0; i < y.length; i++) s += (y[i]! * y[i]!) / 1;
  return s;
}

/** q = gamma q / diag (diag_i = 1 without diag). */
function scaleByDiag(q: Float64Array, gamma: number, diag: Float64Array | undefined): void {
  if (diag) for (let i = 0; i < q.length; i++) q[i] = (gamma * q[i]!) / diag[i]!;
  else for (let i = 0; i < q.length; i++) q[i] = (gamma * q[i]!) / 1;
}

/** out = a + t d. */
function stepTo(out: Float64Array, a: Float64Array, t: number, d: Float64Array): void {
  for (let i = 0; i < out.length; i++) out[i] = a[i]! + t * d[i]!;
}

/** out = a - b (rounded to Float32 when out is). */
function difference(out: Vec, a: Float64Array, b: Float64Array): void {
  for (let i = 0; i < out.length; i++) out[i] = a[i]! - b[i]!;
}

/** v = -v. */
function negate(v: Float64Array): void {
  for (let i = 0; i < v.length; i++) v[i] = -v[i]!;
}

/** v = s v. */
function scale(v: Float64Array, s: number): void {
  for (let i = 0; i < v.length; i++) v[i] = v[i]! * s;
}

/**
 * The L-BFGS iteration as a generator: yields a point (a fresh Float64Array the caller may keep)
 * and expects its {@link Evaluation} back via `next()`. Returns the {@link LbfgsResult}.
 */
export function* lbfgs(x0: Float64Array, options: LbfgsOptions = {}): Generator<Float64Array, LbfgsResult, Evaluation> {
  if (!(x0 instanceof Float64Array) || x0.length === 0) fail('invalid-option', 'lbfgs: x0 must be a non-empty Float64Array');
  for (let i = 0; i < x0.length; i++) if (!Number.isFinite(x0[i]!)) fail('non-finite', `lbfgs: x0[${i}] is not finite`);
  if (options === null || typeof options !== 'object') fail('invalid-option', 'lbfgs: options must be an object');
  if (options.tolerance !== undefined) checkPositive(options.tolerance, 'tolerance');
  if (options.maxIterations !== undefined) checkPositiveInteger(options.maxIterations, 'maxIterations');
  if (options.memory !== undefined) checkPositiveInteger(options.memory, 'memory');
  const tol = options.tolerance ?? 1e-9;
  const maxIterations = options.maxIterations ?? 1000;
  const m = options.memory ?? 10;
  const maxStep = options.maxStep ?? Number.POSITIVE_INFINITY;
  const n = x0.length;
  let x: Float64Array = Float64Array.from(x0);
  let cur: Evaluation = yield Float64Array.from(x);
  let evaluations = 1;
  if (options.relativeDecrease !== undefined && !(options.relativeDecrease >= 0))
    fail('invalid-option', `lbfgs: relativeDecrease must be >= 0, got ${options.relativeDecrease}`);
  const ftol = options.relativeDecrease ?? 0;
  const S: Vec[] = options.history?.S ?? [];
  const Y: Vec[] = options.history?.Y ?? [];
  const store32 = options.historyPrecision === 'float32';
  if (options.historyPrecision !== undefined && !store32 && options.historyPrecision !== 'float64')
    fail('invalid-option', `lbfgs: historyPrecision must be 'float64' or 'float32', got ${String(options.historyPrecision)}`);
  if (S.length !== Y.length) fail('shape-mismatch', `lbfgs: history has ${S.length} steps and ${Y.length} gradient changes`);
  const rho: number[] = [];
  {
    const pairs = S.splice(0, S.length).map((s, j) => [s, Y[j]!] as const);
    Y.length = 0;
    for (const [s, y] of pairs.slice(Math.max(0, pairs.length - m))) {
      if (s.length !== n || y.length !== n) fail('shape-mismatch', `lbfgs: a history pair has length ${s.length}, expected ${n}`);
      const sy = dot(s, y);
      if (!(sy > 1e-300)) continue;
      S.push(s);
      Y.push(y);
      rho.push(1 / sy);
    }
  }
  const alpha = new Float64Array(m);
  let iterations = 0;
  let converged = maxAbs(cur.gradient) <= tol;
  let stalled = 0;
  while (!converged && iterations < maxIterations) {
    // Two-loop recursion: d = -H g.
    const q = Float64Array.from(cur.gradient);
    for (let j = S.length - 1; j >= 0; j--) {
      const a = rho[j]! * dot(S[j]!, q);
      alpha[j] = a;
      axpy(q, -a, Y[j]!);
    }
    const diag = options.preconditioner?.();
    if (S.length > 0) {
      const s = S[S.length - 1]!;
      const y = Y[Y.length - 1]!;
      const yHy = weightedSquares(y, diag);
      const gamma = dot(s, y) / yHy;
      scaleByDiag(q, gamma, diag);
    } else if (diag) {
      scaleByDiag(q, 1, diag);
    } else {
      const g = maxAbs(q);
      scale(q, g > 0 ? Math.min(1, 1 / g) : 1);
    }
    for (let j = 0; j < S.length; j++) {
      const b = rho[j]! * dot(Y[j]!, q);
      axpy(q, alpha[j]! - b, S[j]!);
    }
    const d = q;
    negate(d);
    options.projectDirection?.(d);
    let slope = dot(cur.gradient, d);
    if (!(slope < 0)) {
      // Not a descent direction (should not happen for convex problems): reset to steepest descent.
      S.length = 0;
      Y.length = 0;
      rho.length = 0;
      d.set(cur.gradient);
      negate(d);
      options.projectDirection?.(d);
      slope = dot(cur.gradient, d);
      if (!(slope < 0)) break;
    }
    let t = 1;
    const dmax = maxAbs(d);
    if (dmax * t > maxStep) t = maxStep / dmax;
    let accepted: { x: Float64Array; ev: Evaluation } | undefined;
    for (let ls = 0; ls < 60; ls++) {
      const xt = new Float64Array(n);
      stepTo(xt, x, t, d);
      const ev: Evaluation = yield xt;
      evaluations++;
      const armijo = ev.value <= cur.value + 1e-4 * t * slope;
      const noiseLevel = 1e-10 * Math.abs(cur.value) + 1e-300;
      const approxWolfe =
        ev.value <= cur.value + noiseLevel && dot(ev.gradient, d) <= -0.9998 * slope && dot(ev.gradient, d) >= 0.9 * slope;
      if (Number.isFinite(ev.value) && (armijo || approxWolfe)) {
        accepted = { x: xt, ev };
        break;
      }
      const quad = Number.isFinite(ev.value) ? (-slope * t * t) / (2 * (ev.value - cur.value - slope * t)) : 0.1 * t;
      t = Math.min(0.5 * t, Math.max(0.1 * t, quad));
    }
    if (!accepted) {
      stalled++;
      if (S.length === 0 || stalled > 1) break;
      S.length = 0;
      Y.length = 0;
      rho.length = 0;
      continue;
    }
    stalled = 0;
    const s: Vec = store32 ? new Float32Array(n) : new Float64Array(n);
    const y: Vec = store32 ? new Float32Array(n) : new Float64Array(n);
    difference(s, accepted.x, x);
    difference(y, accepted.ev.gradient, cur.gradient);
    const sy = dot(s, y);
    if (sy > 1e-300 && sy > 1e-14 * Math.sqrt(dot(s, s) * dot(y, y))) {
      if (S.length === m) {
        S.shift();
        Y.shift();
        rho.shift();
      }
      S.push(s);
      Y.push(y);
      rho.push(1 / sy);
    }
    const decrease = (cur.value - accepted.ev.value) / Math.max(Math.abs(cur.value), Math.abs(accepted.ev.value), 1);
    x = accepted.x;
    cur = accepted.ev;
    iterations++;
    converged = maxAbs(cur.gradient) <= tol || (ftol > 0 && decrease <= ftol);
  }
  return {
    x,
    value: cur.value,
    gradient: cur.gradient,
    gradientNorm: maxAbs(cur.gradient),
    iterations,
    evaluations,
    converged,
    history: { S: [...S], Y: [...Y] },
  };
}

/**
 * Minimises a smooth function with {@link lbfgs}.
 * @param evaluate returns f(x) and writes the gradient into `gradient` (length n)
 * @param x0 starting point (not modified)
 */
export function minimizeLbfgs(
  evaluate: (x: Float64Array, gradient: Float64Array) => number,
  x0: Float64Array,
  options: LbfgsOptions = {},
): LbfgsResult {
  if (typeof evaluate !== 'function') fail('invalid-option', 'minimizeLbfgs: evaluate must be a function');
  const it = lbfgs(x0, options);
  let step = it.next();
  while (!step.done) {
    const gradient = new Float64Array(x0.length);
    const value = evaluate(step.value, gradient);
    step = it.next({ value, gradient });
  }
  return step.value;
}
