import { fail } from './errors';
import { type BackendChoice, checkBackendChoice, resolveKernel } from './kernels';
import {
  checkDistribution,
  checkLabels,
  checkMatrix,
  checkNonEmpty,
  checkNonNegative,
  checkPositive,
  checkPositiveInteger,
  checkTemperature,
  type Labels,
  type Matrix,
} from './matrix';
import { cutoffBound, ExpCache, FLOAT64_CACHE_LIMIT, float32GradientBound } from './prior-exp-cache';
import {
  type PassRequest,
  type PriorSolverName,
  type PriorSolverOutcome,
  type PriorSolverSettings,
  runPriorSolver,
  runPriorSolverAsync,
} from './prior-solver';
import {
  accumulateExact,
  addLabelStatistics,
  emptyPriorStatistics,
  mergePriorStatistics,
  type PriorChunk,
  type PriorStatistics,
  type PriorStatisticsLevel,
  priorStatistics,
} from './prior-statistics';
import { calibrateTemperature, type TemperatureMethod } from './temperature';

/** Result shared by every prior estimator of this package. */
export interface PriorEstimate {
  /** log q, length C (natural log; sum of exp = 1). */
  logPrior: Float64Array;
  /** q = exp(logPrior), length C, positive, sums to 1. */
  prior: Float64Array;
  /** The temperature T the logits were divided by (store it with q). */
  temperature: number;
  /** Final value of the objective the estimator minimises (nats; see each estimator). */
  objective: number;
  /** Max-abs gradient (or fixed-point residual) at the returned point: the tolerance reached. */
  gradientNorm: number;
  iterations: number;
  converged: boolean;
  /** Which algorithm produced the result (e.g. 'newton', 'lbfgs', 'em', 'power-iteration', 'sgd'). */
  solver: string;
  /** Number of full passes over the data. */
  passes: number;
  /**
   * Kernel backend that ran the data passes (e.g. 'reference', 'wasm-simd'); absent for estimators
   * that do not use the kernel layer.
   */
  backend?: string;
}

/** Options of {@link estimatePrior}. */
export interface EstimatePriorOptions {
  /**
   * Temperature T > 0 dividing the logits, or a calibration method run first on the same labelled
   * logits ('nll' | 'match-confidence', see calibrateTemperature). Default 1.
   */
  temperature?: number | TemperatureMethod;
  /**
   * lambda >= 0: adds lambda/2 * ||b - mean(b)||^2, shrinking log q toward uniform. Dimensionless;
   * the Hessian diagonal is about pi_k ~ 1/C, so lambda ~ 1/C halves the deviations of log q.
   * Choose it by held-out cross-entropy with {@link selectRegularization}. Default 0.
   */
  regularization?: number;
  /**
   * Label-free prior matching: solve mean_i softmax(z_i / T - b) = targetMarginal (length C,
   * sums to 1) on unlabelled logits; `labels` may then be omitted (and are ignored if given).
   */
  targetMarginal?: ArrayLike<number>;
  /** Stop when max-abs gradient <= tolerance (default 1e-9). */
  tolerance?: number;
  /** Iteration cap (default 500). */
  maxIterations?: number;
  /**
   * 'auto' (default): 'newton' for C <= 64, 'sparse-newton' above. 'lbfgs' (preconditioned by the
   * exact Hessian diagonal) is available for comparison and is sometimes faster for mid-sized C.
   */
  solver?: PriorSolverName;
  /**
   * Precision of the cached exp(z/T - rowmax) buffer: 'auto' (default) uses Float64 up to 2^24
   * entries and Float32 above when its certified rounding bound is below tolerance / 4.
   * 'float32' forces the smaller buffer (the solve is then finished on exact passes if needed).
   */
  cachePrecision?: 'auto' | 'float32' | 'float64';
  /**
   * Kernel backend of the in-memory passes: 'auto' (default: the fastest registered, see
   * registerKernels) or a backend name ('reference' = the pure-TypeScript kernels).
   */
  backend?: BackendChoice;
}

interface ResolvedOptions {
  settings: Omit<PriorSolverSettings, 'classes'>;
  temperature: number;
}

function resolveOptions(
  logits: Matrix,
  labels: Labels | undefined,
  options: EstimatePriorOptions,
  name: string,
): ResolvedOptions & { y?: Int32Array } {
  if (options === null || typeof options !== 'object') fail('invalid-option', `${name}: options must be an object`);
  const C = logits.cols;
  const targetMarginal = options.targetMarginal === undefined ? undefined : checkDistribution(options.targetMarginal, C, 'targetMarginal');
  const y = labels === undefined || targetMarginal ? undefined : checkLabels(labels, logits.rows, C);
  if (!targetMarginal && !y) fail('invalid-option', `${name}: labels are required unless targetMarginal is given`);
  let temperature: number;
  const t = options.temperature ?? 1;
  if (t === 'nll' || t === 'match-confidence') {
    if (labels === undefined) fail('invalid-option', `${name}: temperature '${t}' needs labels to calibrate on`);
    temperature = calibrateTemperature(logits, labels, { method: t });
  } else if (typeof t === 'number') {
    temperature = checkTemperature(t);
  } else {
    fail('invalid-option', `${name}: temperature must be a number > 0, 'nll' or 'match-confidence', got ${String(t)}`);
  }
  const solver = options.solver ?? 'auto';
  if (!['auto', 'newton', 'sparse-newton', 'lbfgs'].includes(solver)) fail('invalid-option', `${name}: unknown solver '${String(solver)}'`);
  return {
    y,
    temperature,
    settings: {
      regularization: checkNonNegative(options.regularization ?? 0, 'regularization'),
      ...(targetMarginal ? { targetMarginal } : {}),
      tolerance: checkPositive(options.tolerance ?? 1e-9, 'tolerance'),
      maxIterations: checkPositiveInteger(options.maxIterations ?? 500, 'maxIterations'),
      solver,
    },
  };
}

function finish(outcome: PriorSolverOutcome, temperature: number): PriorEstimate {
  const b = outcome.bias;
  let max = Number.NEGATIVE_INFINITY;
  for (const v of b) if (v > max) max = v;
  let s = 0;
  for (const v of b) s += Math.exp(v - max);
  const lse = max + Math.log(s);
  const logPrior = new Float64Array(b.length);
  const prior = new Float64Array(b.length);
  for (let k = 0; k < b.length; k++) {
    logPrior[k] = b[k]! - lse;
    prior[k] = Math.exp(logPrior[k]!);
  }
  return {
    logPrior,
    prior,
    temperature,
    objective: outcome.objective,
    gradientNorm: outcome.gradientNorm,
    iterations: outcome.iterations,
    converged: outcome.converged,
    solver: outcome.solver,
    passes: outcome.passes,
  };
}

/**
 * The GLA prior estimator (METHOD.md): b* = argmin_b (1/N) sum_i [logsumexp(z_i/T - b) -
 * (z_{i,y_i}/T - b_{y_i})] (+ lambda/2 ||b - mean b||^2), q = softmax(b*). At the optimum the mean
 * debiased probability equals the label histogram: mean_i softmax(z_i/T - log q) = pi_hat.
 *
 * Solver: exp(z/T - rowmax) is cached once (Float64, or Float32 above 2^24 entries), after which a
 * pass costs two multiply-add sweeps. C <= 64: Newton (C x C Hessian from the same pass, Cholesky,
 * Armijo line search), quadratic convergence in ~5-10 passes. C > 64: L-BFGS preconditioned by the
 * exact Hessian diagonal (the multiplicative fixed point b_k += log(mean p_k / pi_k) is this
 * diagonal-Newton step; L-BFGS adds the off-diagonal curvature), ~10-30 passes. With a Float32
 * cache the final gradient is re-verified by an exact Float64 pass (and the solve continued on exact
 * passes if needed), so `gradientNorm` is always the exact max-abs gradient.
 *
 * When the classes are perfectly separated the objective is flat around the start (b = 0) to
 * machine precision: the gradient vanishes there and q = uniform is returned (the data identify no
 * prior). Use regularization or another estimator in that case.
 *
 * @param logits N x C zero-shot logits (Float32 or Float64; -Infinity = masked class)
 * @param labels N labels; optional when `targetMarginal` is given
 * @throws GlaError `empty-class` when a class has no label and regularization is 0
 */
export function estimatePrior(logits: Matrix, labels?: Labels, options: EstimatePriorOptions = {}): PriorEstimate {
  // Finiteness (NaN, +-Infinity, fully masked rows) is checked by the exp-cache fill (one pass less).
  checkMatrix(logits, 'logits');
  checkNonEmpty(logits, 'logits');
  const resolved = resolveOptions(logits, labels, options, 'estimatePrior');
  const { temperature, y } = resolved;
  const C = logits.cols;
  const settings: PriorSolverSettings = { classes: C, ...resolved.settings };
  const labelStats = emptyPriorStatistics(C);
  if (y) addLabelStatistics(labelStats, logits, y, temperature);
  // Float32 cache: each cached exp has relative rounding error <= 2^-24, which moves every
  // softmax probability by at most ~2 * 2^-24 relatively, hence the gradient by at most
  // FLOAT32_GRADIENT_BOUND * max_k mean p_k. Used only when that bound is small against the tolerance.
  let maxTarget = 0;
  for (let k = 0; k < C; k++) {
    maxTarget = Math.max(
      maxTarget,
      settings.targetMarginal ? settings.targetMarginal[k]! : labelStats.labelCounts[k]! / Math.max(1, labelStats.labelledRows),
    );
  }
  const backend = checkBackendChoice(options.backend, 'estimatePrior');
  const FLOAT32_GRADIENT_BOUND = float32GradientBound(resolveKernel('expShiftFill', backend).expRelativeError!);
  const precision = options.cachePrecision ?? 'auto';
  if (!['auto', 'float32', 'float64'].includes(precision))
    fail('invalid-option', `estimatePrior: unknown cachePrecision '${String(precision)}'`);
  const float32 =
    precision === 'float32' ||
    (precision === 'auto' && logits.rows * C > FLOAT64_CACHE_LIMIT && FLOAT32_GRADIENT_BOUND * maxTarget <= 0.25 * settings.tolerance);
  const float32RoundingBound = (outcome: PriorSolverOutcome, rows: number): number => {
    // mean_i p_ik = target_k - gradient_k + lambda (b_k - mean b) at the returned point.
    let maxMass = 0;
    let mean = 0;
    for (const v of outcome.bias) mean += v / C;
    for (let k = 0; k < C; k++) {
      const target = settings.targetMarginal ? settings.targetMarginal[k]! : labelStats.labelCounts[k]! / rows;
      maxMass = Math.max(maxMass, target - outcome.gradient[k]! + settings.regularization * (outcome.bias[k]! - mean));
    }
    let lo = Number.POSITIVE_INFINITY;
    let hi = Number.NEGATIVE_INFINITY;
    for (const v of outcome.bias) {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
    // Relative rounding (and table-exp) error of the stored entries plus the absolute error
    // (< e^-EXP_CUTOFF each, relative to the row maximum 1) of the entries stored as 0.
    return FLOAT32_GRADIENT_BOUND * maxMass * 1.0001 + cutoffBound(C, hi - lo);
  };
  const cache = new ExpCache(logits, 1 / temperature, float32, backend);
  settings.fastPasses = cache.backend !== 'reference';
  const withLabels = (stats: PriorStatistics): PriorStatistics => {
    stats.labelCounts = labelStats.labelCounts;
    stats.labelLogitSum = labelStats.labelLogitSum;
    stats.labelledRows = labelStats.labelledRows;
    return stats;
  };
  const exactPass = (request: PassRequest): PriorStatistics => {
    const stats = emptyPriorStatistics(C, request.level);
    accumulateExact(stats, logits, 0, logits.rows, request.bias, 1 / temperature, request.level);
    return withLabels(stats);
  };
  const float32Tolerance = Math.max(settings.tolerance - FLOAT32_GRADIENT_BOUND * maxTarget * 2, 0.25 * settings.tolerance);
  let outcome: PriorSolverOutcome;
  try {
    outcome = runPriorSolver(float32 ? { ...settings, tolerance: float32Tolerance } : settings, (request) =>
      withLabels(cache.pass(request.bias, request.level)),
    );
  } finally {
    cache.release();
  }
  if (float32) {
    const bound = float32RoundingBound(outcome, logits.rows);
    if (outcome.gradientNorm + bound <= settings.tolerance) {
      outcome = { ...outcome, gradientNorm: outcome.gradientNorm + bound };
    } else {
      // The cache's rounding could matter: continue on exact Float64 passes.
      const verified = runPriorSolver(
        {
          ...settings,
          initialBias: outcome.bias,
          fixedPointStart: false,
          maxIterations: Math.max(1, settings.maxIterations - outcome.iterations),
        },
        exactPass,
      );
      outcome = { ...verified, iterations: outcome.iterations + verified.iterations, passes: outcome.passes + verified.passes };
    }
  }
  return { ...finish(outcome, temperature), backend: cache.backend };
}

/** A data source for {@link estimatePriorChunked}. */
export type PriorSource =
  /** Chunks re-iterated on every pass (an array, or any re-iterable collection). */
  | Iterable<PriorChunk>
  /** A factory returning a fresh iterable of chunks for each pass (e.g. reading files again). */
  | (() => Iterable<PriorChunk>)
  /** Full control: return the summed statistics of all rows at `bias` (e.g. from workers). */
  | { pass(bias: Float64Array, level: PriorStatisticsLevel): PriorStatistics };

/** Options of the chunked estimators: like {@link EstimatePriorOptions} but T must be a number. */
export interface EstimatePriorChunkedOptions extends Omit<EstimatePriorOptions, 'temperature'> {
  /** Number of classes C (required). */
  classes: number;
  /** T > 0 (default 1). */
  temperature?: number;
}

function chunkedSettings(options: EstimatePriorChunkedOptions): { settings: PriorSolverSettings; temperature: number } {
  if (options === null || typeof options !== 'object') fail('invalid-option', 'estimatePriorChunked: options with `classes` are required');
  const C = checkPositiveInteger(options.classes, 'classes');
  const temperature = checkTemperature(options.temperature ?? 1);
  const fake: Matrix = { data: new Float64Array(C), rows: 1, cols: C };
  const resolved = resolveOptions(fake, options.targetMarginal ? undefined : [0], { ...options, temperature }, 'estimatePriorChunked');
  return { settings: { classes: C, ...resolved.settings }, temperature };
}

function statsOfChunks(
  chunks: Iterable<PriorChunk>,
  C: number,
  bias: Float64Array,
  T: number,
  level: PriorStatisticsLevel,
): PriorStatistics {
  const total = emptyPriorStatistics(C, level);
  let index = 0;
  for (const chunk of chunks) {
    if (chunk?.logits?.cols !== C) fail('shape-mismatch', `chunk ${index}: logits must have ${C} columns, got ${chunk?.logits?.cols}`);
    mergePriorStatistics(total, priorStatistics(chunk, bias, T, level));
    index++;
  }
  return total;
}

function passFunction(source: PriorSource, C: number, T: number): (request: PassRequest) => PriorStatistics {
  if (typeof source === 'function') return (r) => statsOfChunks(source(), C, r.bias, T, r.level);
  if (source && typeof (source as { pass?: unknown }).pass === 'function') {
    const s = source as { pass(bias: Float64Array, level: PriorStatisticsLevel): PriorStatistics };
    return (r) => s.pass(r.bias, r.level);
  }
  if (source && typeof (source as Iterable<PriorChunk>)[Symbol.iterator] === 'function') {
    return (r) => statsOfChunks(source as Iterable<PriorChunk>, C, r.bias, T, r.level);
  }
  return fail('invalid-option', 'estimatePriorChunked: source must be an iterable of chunks, a factory, or { pass }');
}

/**
 * The GLA prior estimator over data that is not one in-memory matrix: the solver only sees summed
 * {@link PriorStatistics}, one pass over the source per objective evaluation, in exact Float64.
 * Gives the same result as {@link estimatePrior} on the concatenated chunks.
 * @param source chunks (re-iterable), a chunk factory, or `{ pass(bias, level) }` returning summed statistics
 */
export function estimatePriorChunked(source: PriorSource, options: EstimatePriorChunkedOptions): PriorEstimate {
  const { settings, temperature } = chunkedSettings(options);
  return finish(runPriorSolver(settings, passFunction(source, settings.classes, temperature)), temperature);
}

/**
 * Asynchronous variant of {@link estimatePriorChunked} for sources whose passes are asynchronous
 * (web workers, worker_threads, streamed files): `pass(bias, level)` may return a Promise of the
 * summed statistics (e.g. each worker runs {@link priorStatistics} on its rows, the caller merges
 * them with mergePriorStatistics).
 */
export async function estimatePriorChunkedAsync(
  source: { pass(bias: Float64Array, level: PriorStatisticsLevel): Promise<PriorStatistics> | PriorStatistics },
  options: EstimatePriorChunkedOptions,
): Promise<PriorEstimate> {
  const { settings, temperature } = chunkedSettings(options);
  if (typeof source?.pass !== 'function') fail('invalid-option', 'estimatePriorChunkedAsync: source must provide pass(bias, level)');
  return finish(await runPriorSolverAsync(settings, (r) => source.pass(r.bias, r.level)), temperature);
}

// Model selection (cross-validated lambda) lives in prior-selection.ts; re-exported here.
export {
  type RegularizationSelection,
  type SelectRegularizationOptions,
  selectRegularization,
  takeRows,
} from './prior-selection';
