import { fail } from './errors';
import { referenceKernels } from './kernels-reference';

/**
 * The kernel layer under core's hot loops. A backend implements some or all of these kernels on
 * raw typed arrays (inputs are validated by the callers; kernels trust them). The pure-TypeScript
 * reference backend (`'reference'`, src/kernels-reference.ts) implements every kernel, is always
 * registered and is the fallback; accelerated backends (e.g. @gla/kernels-wasm) register with
 * {@link registerKernels} and are held to the same conformance suite (`kernelConformanceCases`).
 *
 * Conventions: matrices are row-major; every sum is accumulated in Float64; `E` arrays are the
 * cached exp(beta z - rowmax) of the prior solver (Float32 or Float64).
 */
export type KernelArray = Float32Array | Float64Array;

/** The kernels a backend can implement (all optional except `name`). */
export interface KernelBackend {
  /** Stable name reported in results (e.g. 'reference', 'wasm-simd'). */
  readonly name: string;
  /**
   * Relative error of the exp that `expShiftFill` evaluates before it rounds to a Float32 `E`
   * (the prior solver's certified rounding bound uses it). Required with expShiftFill.
   */
  readonly expRelativeError?: number;
  /**
   * Exp-shift fill of rows [0, rows): `rowMax[i] = beta * max_k data[i, k]`, `E[i, k] = exp(beta *
   * data[i, k] - rowMax[i])` (-Infinity entries give exactly 0; a Float64 `E` to within a few ulps
   * of Math.exp with no cut-off; a Float32 `E` to within `expRelativeError` before rounding, and
   * exactly 0 where the exponent is below -64),
   * `rowSum[i] = sum_k E[i, k]` (Float64 sum of the stored values). When `mass` is given, also
   * `mass[k] += sum_i E[i, k] / rowSum[i]` (the softmax mass at b = 0).
   * The input validation is fused in: returns the first row where some beta * data[i, k] - rowMax[i]
   * is NaN (a NaN or +Infinity entry, every entry -Infinity, or an overflow of beta * data), or
   * `rows` when there is none; the outputs of that row and the later ones are then unspecified.
   */
  expShiftFill?(
    data: KernelArray,
    rows: number,
    cols: number,
    beta: number,
    E: KernelArray,
    rowMax: Float64Array,
    rowSum: Float64Array,
    mass?: Float64Array,
  ): number;
  /**
   * Fused softmax-mass pass over the cache with column weights w (w_k = exp(min b - b_k) in (0, 1]):
   * `rowSum[i] = s_i = sum_k E[i, k] w_k`, `mass[k] += sum_i E[i, k] / s_i` and, when
   * `squaredMass` is given, `squaredMass[k] += sum_i (E[i, k] / s_i)^2` (the Hessian-diagonal
   * term). The caller multiplies by w_k (resp. w_k^2). Callers guarantee s_i in [1e-280, 1e280].
   */
  massPass?(
    E: KernelArray,
    rows: number,
    cols: number,
    w: Float64Array,
    rowSum: Float64Array,
    mass: Float64Array,
    squaredMass?: Float64Array,
  ): void;
  /**
   * Lists, for rows [rowStart, rowEnd), the columns with E[i, k] w_k >= cut[i]: row i's indices
   * (ascending) are `index[offsets[i - rowStart] .. offsets[i - rowStart + 1])`, offsets[0] = 0.
   * Stops before a row whose indices would not fit in `index`; returns the number of rows
   * completed (their offsets are written).
   */
  selectAbove?(
    E: KernelArray,
    rowStart: number,
    rowEnd: number,
    cols: number,
    w: Float64Array,
    cut: Float64Array,
    index: Int32Array,
    offsets: Int32Array,
  ): number;
  /** The first row in [rowStart, rows) holding a NaN or +-Infinity, or `rows` (input validation). */
  firstNonFiniteRow?(data: KernelArray, rowStart: number, rows: number, cols: number): number;
  /** `out[i] = log sum_k exp(beta * data[i, k])` (stable; -Infinity entries are masked). */
  rowLogSumExp?(data: KernelArray, rows: number, cols: number, beta: number, out: Float64Array): void;
  /**
   * Temperature-NLL pass at inverse temperature beta (sums over rows, not means): with
   * p_i = softmax(beta (z_i - max z_i)) and u_i = z_i - max z_i: `value = sum_i [log sum_k exp(beta
   * u_ik) - beta u_{i, y_i}]`, `d1 = sum_i (E_p[u_i] - u_{i, y_i})`, `d2 = sum_i Var_p[u_i]`.
   * Labelled entries must be finite.
   */
  temperatureNll?(
    data: KernelArray,
    rows: number,
    cols: number,
    labels: Int32Array,
    beta: number,
  ): { value: number; d1: number; d2: number };
  /**
   * Fused softmax-NLL pass of a two-term logit ensemble (sums over rows, not means): for
   * `l_i = a f_i + b d_i + offset` (evaluated as `(a * f_ik + b * d_ik) + offset_k` in Float64, the
   * order of `combineLogits`; without `d`: `a * f_ik + offset_k`; without `offset`: no addition),
   * p_i = softmax(l_i), m_i = max_k l_ik and s_i = sum_k exp(l_ik - m_i):
   * - `value = sum_i loss_i`, `loss_i = (m_i + log s_i) - l_{i, y_i}` (Infinity for a masked label);
   *   `options.rowLoss[i] = loss_i` when given (length >= rows);
   * - `correct`: the number of rows whose first maximum (the argmax rule of `argmaxRows`: the
   *   lowest index among equal maxima) is the label;
   * - with `options.derivatives`: the gradient `gradA = sum_i (E_p[f_i] - f_{i, y_i})`,
   *   `gradB = sum_i (E_p[d_i] - d_{i, y_i})` and the Hessian `hessAA = sum_i Var_p[f_i]`,
   *   `hessBB = sum_i Var_p[d_i]`, `hessAB = sum_i Cov_p[f_i, d_i]` (moments of f - f_y, d - d_y;
   *   entries with l_ik = -Infinity are excluded; labelled entries must then be finite). Without
   *   `d` (or without `derivatives`) the terms that need it are 0.
   * Masked entries: -Infinity in f or d (with a positive weight) or in the offset gives
   * l_ik = -Infinity, probability exactly 0. Inputs are trusted: every row must have a finite l
   * entry (a NaN l, e.g. 0 * -Infinity, gives unspecified results).
   */
  ensembleNll?(
    f: KernelArray,
    d: KernelArray | undefined,
    rows: number,
    cols: number,
    labels: Int32Array,
    a: number,
    b: number,
    offset: Float64Array | undefined,
    options?: EnsembleNllOptions,
  ): EnsembleNll;
  /**
   * Optional: a rows x cols buffer the backend's kernels read in place (e.g. inside a WebAssembly
   * memory), used for the prior solver's exp cache; undefined when it cannot allocate one.
   */
  allocateCache?(dtype: 'float32' | 'float64', rows: number, cols: number): KernelArray | undefined;
  /**
   * Optional: the caller no longer uses a buffer returned by allocateCache; the backend may reuse
   * its memory for the next allocateCache (no page faults on a fresh 200 MB buffer per solve).
   */
  releaseCache?(E: KernelArray): void;
  /**
   * Asynchronous fused probe evaluations with the training rows kept in the backend
   * (trainLinearProbeAsync). The backend's README states the precision of each `ProbePrecision`.
   */
  probeSession?(problem: ProbeSessionProblem): Promise<ProbeSession>;
  /**
   * Asynchronous head logits (applyHeadAsync): `out (n x C) = X_rows W^T + bias`, X_rows the rows
   * `rowIndex` of `features` (default all rows), W C x D. Precision: the features' dtype (Float32
   * features: Float32 products and W rounded to Float32; Float64: Float64 throughout).
   */
  applyHeadGemm?(
    features: KernelArray,
    rows: number,
    cols: number,
    rowIndex: Int32Array | undefined,
    W: KernelArray,
    classes: number,
    bias: ArrayLike<number>,
    out: Float64Array,
  ): Promise<void>;
  /** `out (m x n) = A (m x k) B^T` with B n x k; Float64 accumulation. */
  gemmABt?(A: KernelArray, m: number, B: KernelArray, n: number, k: number, out: Float64Array): void;
}

/** Options of {@link KernelBackend.ensembleNll}. */
export interface EnsembleNllOptions {
  /** Also compute the gradient and the Hessian in (a, b) (default false). */
  derivatives?: boolean;
  /** Receives the per-row losses loss_i (nats; length >= rows). */
  rowLoss?: Float64Array;
}

/** Result of {@link KernelBackend.ensembleNll}: sums over the rows (nats; divide by N for means). */
export interface EnsembleNll {
  /** sum_i [logsumexp(l_i) - l_{i, y_i}]. */
  value: number;
  /** Rows whose argmax (first index on ties) is the label. */
  correct: number;
  /** d value / da, d value / db (0 unless `derivatives`). */
  gradA: number;
  gradB: number;
  /** Second derivatives (0 unless `derivatives`). */
  hessAA: number;
  hessAB: number;
  hessBB: number;
}

/** Arithmetic of a fused probe evaluation. */
export type ProbePrecision = 'float32' | 'float64';

/** What a {@link KernelBackend.probeSession} evaluates over (validated by the caller). */
export interface ProbeSessionProblem {
  /** The full feature matrix X (rows x cols, row-major). */
  features: KernelArray;
  rows: number;
  cols: number;
  /** The training rows t -> rowIndex[t] into X (default: all rows in order); n = its length. */
  rowIndex?: Int32Array;
  /** Loss weight w_t of each training row (length n, >= 0). */
  rowWeights: Float64Array;
  /** Number of classes C. */
  classes: number;
}

/**
 * Fused evaluations of the probe over the training rows x_t (kept inside the backend). For
 * z_t = W x_t + bias and p_t = softmax(z_t), one call computes the label-free parts
 *   G = sum_t w_t p_t x_t^T (C x D, overwritten), gb = sum_t w_t p_t (C, overwritten),
 * and returns sum_t w_t logsumexp(z_t); the caller subtracts the constant label terms.
 */
export interface ProbeSession {
  evaluate(W: Float64Array, bias: Float64Array, precision: ProbePrecision, G: Float64Array, gb: Float64Array): Promise<number>;
  release(): Promise<void>;
}

/** Names of the kernels of {@link KernelBackend}. */
export type KernelName =
  | 'expShiftFill'
  | 'massPass'
  | 'selectAbove'
  | 'firstNonFiniteRow'
  | 'rowLogSumExp'
  | 'temperatureNll'
  | 'ensembleNll'
  | 'gemmABt'
  | 'probeSession'
  | 'applyHeadGemm';

/** Every kernel name, in a fixed order. */
export const KERNEL_NAMES: readonly KernelName[] = [
  'expShiftFill',
  'massPass',
  'selectAbove',
  'firstNonFiniteRow',
  'rowLogSumExp',
  'temperatureNll',
  'ensembleNll',
  'gemmABt',
  'probeSession',
  'applyHeadGemm',
];

interface Registered {
  backend: KernelBackend;
  priority: number;
  order: number;
}

const registry = new Map<string, Registered>([['reference', { backend: referenceKernels, priority: 0, order: 0 }]]);
let registrations = 1;

/**
 * Registers (or replaces) a kernel backend. The default for each kernel is the registered backend
 * with the highest `priority` that implements it (ties: the later registration); the reference
 * backend has priority 0. Backends measure themselves and register with a priority only when they
 * are faster (see each backend's README for the numbers).
 */
export function registerKernels(backend: KernelBackend, options: { priority?: number } = {}): void {
  if (!backend || typeof backend.name !== 'string' || backend.name.length === 0)
    fail('invalid-option', 'registerKernels: the backend needs a non-empty name');
  if (backend.expShiftFill && !(typeof backend.expRelativeError === 'number' && backend.expRelativeError >= 0))
    fail('invalid-option', `registerKernels: backend '${backend.name}' implements expShiftFill without expRelativeError`);
  const priority = options.priority ?? 1;
  if (!Number.isFinite(priority)) fail('invalid-option', `registerKernels: priority must be finite, got ${priority}`);
  registry.set(backend.name, { backend, priority, order: registrations++ });
}

/** Removes a registered backend (the reference backend cannot be removed). */
export function unregisterKernels(name: string): void {
  if (name === 'reference') fail('invalid-option', 'unregisterKernels: the reference backend is always available');
  registry.delete(name);
}

/** Registered backends, best first: `{ name, priority, kernels }`. */
export function kernelBackends(): {
  name: string;
  priority: number;
  kernels: KernelName[];
}[] {
  return [...registry.values()]
    .sort((a, b) => b.priority - a.priority || b.order - a.order)
    .map((r) => ({
      name: r.backend.name,
      priority: r.priority,
      kernels: KERNEL_NAMES.filter((k) => typeof r.backend[k] === 'function'),
    }));
}

/** The registered backend of this name (throws `invalid-option` when there is none). */
export function getKernelBackend(name: string): KernelBackend {
  const r = registry.get(name);
  if (!r) fail('invalid-option', `unknown kernel backend '${name}' (registered: ${[...registry.keys()].join(', ')})`);
  return r.backend;
}

/** A kernel choice: 'auto' (default: fastest registered) or a backend name. */
export type BackendChoice = 'auto' | (string & {});

/**
 * The backend that runs kernel `kernel`: with a backend name, that backend if it implements the
 * kernel, else the reference; with 'auto', the best registered backend implementing it.
 */
export function resolveKernel<K extends KernelName>(
  kernel: K,
  choice: BackendChoice = 'auto',
): KernelBackend & Required<Pick<KernelBackend, K>> {
  if (choice !== 'auto') {
    const b = getKernelBackend(choice);
    if (typeof b[kernel] === 'function') return b as KernelBackend & Required<Pick<KernelBackend, K>>;
    return registry.get('reference')!.backend as KernelBackend & Required<Pick<KernelBackend, K>>;
  }
  let best: Registered | undefined;
  for (const r of registry.values()) {
    if (typeof r.backend[kernel] !== 'function') continue;
    if (!best || r.priority > best.priority || (r.priority === best.priority && r.order > best.order)) best = r;
  }
  return (best ?? registry.get('reference')!).backend as KernelBackend & Required<Pick<KernelBackend, K>>;
}

/** Validates a `backend` option (internal). */
export function checkBackendChoice(choice: unknown, name: string): BackendChoice {
  if (choice === undefined || choice === 'auto') return 'auto';
  if (typeof choice !== 'string') fail('invalid-option', `${name}: backend must be 'auto' or a registered backend name`);
  getKernelBackend(choice);
  return choice;
}
