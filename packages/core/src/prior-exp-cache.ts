import { fail } from './errors';
import { type KernelBackend, resolveKernel } from './kernels';
import { EXP_CUTOFF } from './kernels-reference';
import { checkFinite, type Matrix } from './matrix';
import {
  accumulateExact,
  addOuterUpper,
  addSparseOuterUpper,
  capSparseIndices,
  emptyPriorStatistics,
  type PriorStatistics,
  type PriorStatisticsLevel,
  SPARSE_HESSIAN_THRESHOLD,
} from './prior-statistics';

/** Largest N x C for which the exp cache is kept in Float64 (128 MiB); above it Float32 is used. */
export const FLOAT64_CACHE_LIMIT = 1 << 24;

/**
 * Relative error of one Float32 cache entry for a backend whose exp has relative error `expError`
 * before the Float32 rounding (2^-24): a probability moves by at most 2 delta / (1 - delta)
 * relatively with delta = 2^-24 + expError; the factors 1.00001 leave slack for the Float64 sums.
 * For the reference backend (2e-13) this is the historical constant 2.00001 * 2^-24.
 */
export function float32GradientBound(expError: number): number {
  return expError <= 2e-13 ? 2.00001 * 2 ** -24 : 2 * (2 ** -24 + expError) * 1.00001;
}

/** Absolute error bound of the entries stored as 0 (each < e^-EXP_CUTOFF relative to the row maximum). */
export function cutoffBound(C: number, biasRange: number): number {
  return C * Math.exp(-EXP_CUTOFF) * Math.exp(biasRange) * 2;
}

/** Bias spreads above this make s_i = sum_k E_ik w_k leave [1e-280, 1e280]: passes run exactly then. */
const MAX_KERNEL_BIAS_RANGE = 640;

/** Candidate indices buffer of the sparse-Hessian selection (grown on demand up to this). */
const SELECT_CAPACITY = 1 << 20;

/**
 * The in-memory engine of the GLA prior solver: E = exp(z / T - rowmax) computed once (by the
 * `expShiftFill` kernel, which also validates the logits: the constructor throws `non-finite` /
 * `masked-row` like checkLogits); every solver pass is then one fused kernel sweep over E, since
 * softmax(z_i / T - b)_k is proportional to E_ik * exp(-b_k). Call {@link ExpCache.release} when
 * done. Internal.
 */
export class ExpCache {
  readonly E: Float32Array | Float64Array;
  readonly rowMaxima: Float64Array;
  /** s_i of the latest pass (the fill's sums at b = 0 first). */
  private readonly rowSums: Float64Array;
  private atZero: PriorStatistics | undefined;
  private readonly massKernel: KernelBackend;
  private readonly selectKernel: KernelBackend;
  /** The backend of the fill and mass-pass kernels (reported in results). */
  readonly backend: string;
  /** Relative error of the fill's exp before Float32 rounding. */
  readonly expRelativeError: number;
  constructor(
    readonly logits: Matrix,
    readonly beta: number,
    float32: boolean,
    backend: string = 'auto',
  ) {
    const { data, rows, cols } = logits;
    const fill = resolveKernel('expShiftFill', backend);
    this.massKernel = resolveKernel('massPass', backend);
    this.E =
      this.massKernel.allocateCache?.(float32 ? 'float32' : 'float64', rows, cols) ??
      (float32 ? new Float32Array(rows * cols) : new Float64Array(rows * cols));
    this.rowMaxima = new Float64Array(rows);
    this.rowSums = new Float64Array(rows);
    this.selectKernel = resolveKernel('selectAbove', backend);
    this.backend = this.massKernel.name === fill.name ? fill.name : `${fill.name}+${this.massKernel.name}`;
    this.expRelativeError = float32 ? fill.expRelativeError! : 0;
    // The statistics at b = 0 come for free while the cache is filled (the solver's first pass).
    const atZero = emptyPriorStatistics(cols);
    const invalid = fill.expShiftFill!(data, rows, cols, beta, this.E, this.rowMaxima, this.rowSums, atZero.mass);
    if (invalid < rows) {
      this.release();
      // The fill found a NaN / +-Infinity entry or a fully masked row: the exact check names it.
      checkFinite(logits, 'logits', true);
      fail('non-finite', `logits: row ${invalid} overflows when multiplied by 1 / T = ${beta}`);
    }
    let lse = 0;
    for (let i = 0; i < rows; i++) lse += this.rowMaxima[i]! + Math.log(this.rowSums[i]!);
    atZero.logSumExp = lse;
    atZero.rows = rows;
    this.atZero = atZero;
  }

  /** Hands the cache buffer back to the backend that allocated it (the cache is unusable after). */
  release(): void {
    this.massKernel.releaseCache?.(this.E);
  }

  pass(bias: Float64Array, level: PriorStatisticsLevel): PriorStatistics {
    if (level === 'gradient' && this.atZero && bias.every((v) => v === 0)) {
      const stats = this.atZero;
      this.atZero = undefined;
      return stats;
    }
    const { rows, cols: C } = this.logits;
    const E = this.E;
    const stats = emptyPriorStatistics(C, level);
    let minBias = Number.POSITIVE_INFINITY;
    let maxBias = Number.NEGATIVE_INFINITY;
    for (let k = 0; k < C; k++) {
      if (bias[k]! < minBias) minBias = bias[k]!;
      if (bias[k]! > maxBias) maxBias = bias[k]!;
    }
    if (!(maxBias - minBias <= MAX_KERNEL_BIAS_RANGE) || level === 'hessian') {
      if (level === 'hessian' && maxBias - minBias <= MAX_KERNEL_BIAS_RANGE) return this.hessianPass(bias, minBias, stats);
      // Extreme bias: the row sums could under- or overflow; exact Float64 pass.
      accumulateExact(stats, this.logits, 0, rows, bias, this.beta, level);
      return stats;
    }
    const w = new Float64Array(C);
    for (let k = 0; k < C; k++) w[k] = Math.exp(minBias - bias[k]!);
    const acc = new Float64Array(C);
    const diagonal = level === 'diagonal';
    const acc2 = new Float64Array(C);
    const sums = this.rowSums;
    this.massKernel.massPass!(E, rows, C, w, sums, acc, diagonal ? acc2 : undefined);
    let lse = 0;
    for (let i = 0; i < rows; i++) lse += this.rowMaxima[i]! + Math.log(sums[i]!);
    stats.logSumExp = lse - rows * minBias;
    stats.rows = rows;
    if (level === 'sparse-hessian') this.sparseHessian(w, acc2, stats.secondMoment!);
    for (let k = 0; k < C; k++) {
      stats.mass[k]! += w[k]! * acc[k]!;
      if (level !== 'gradient') stats.squaredMass![k]! += w[k]! * w[k]! * acc2[k]!;
    }
    return stats;
  }

  /**
   * Sparse-Hessian terms of a pass whose row sums are in `rowSums`: the entries with p_ik =
   * E_ik w_k / s_i >= SPARSE_HESSIAN_THRESHOLD (listed by the selectAbove kernel) add their squares
   * to acc2 (times w^2 later) and their pairwise products (at most SPARSE_HESSIAN_MAX_PER_ROW per row)
   * to the second moment. Entries below the threshold (p^2 < 0.002 p) are left out of squaredMass
   * in this Hessian model: its diagonal only grows, so it stays diagonally dominant.
   */
  private sparseHessian(w: Float64Array, acc2: Float64Array, secondMoment: Float64Array): void {
    const { rows, cols: C } = this.logits;
    const E = this.E;
    const sums = this.rowSums;
    const cut = new Float64Array(rows);
    for (let i = 0; i < rows; i++) cut[i] = SPARSE_HESSIAN_THRESHOLD * sums[i]!;
    let index = new Int32Array(Math.min(SELECT_CAPACITY, Math.max(C, rows * 16)));
    const offsets = new Int32Array(rows + 1);
    const p = new Float64Array(C);
    const rowIndex = new Int32Array(C);
    let start = 0;
    while (start < rows) {
      const done = this.selectKernel.selectAbove!(E, start, rows, C, w, cut, index, offsets);
      if (done === 0) {
        index = new Int32Array(Math.max(index.length * 2, C));
        continue;
      }
      for (let r = 0; r < done; r++) {
        const i = start + r;
        const o = i * C;
        const inv = 1 / sums[i]!;
        let count = 0;
        for (let x = offsets[r]!; x < offsets[r + 1]!; x++) {
          const k = index[x]!;
          const u = E[o + k]! * inv;
          acc2[k]! += u * u;
          p[k] = u * w[k]!;
          rowIndex[count++] = k;
        }
        const kept = capSparseIndices(p, rowIndex, count);
        addSparseOuterUpper(secondMoment, p, rowIndex, kept, C);
      }
      start += done;
    }
  }

  /** Full C x C Hessian pass over the cache (Newton for small C; TypeScript). */
  private hessianPass(bias: Float64Array, minBias: number, stats: PriorStatistics): PriorStatistics {
    const { rows, cols: C } = this.logits;
    const E = this.E;
    const w = new Float64Array(C);
    for (let k = 0; k < C; k++) w[k] = Math.exp(minBias - bias[k]!);
    const p = new Float64Array(C);
    const { mass, squaredMass, secondMoment } = stats;
    let lse = 0;
    for (let i = 0; i < rows; i++) {
      const o = i * C;
      let s = 0;
      for (let k = 0; k < C; k++) {
        const v = E[o + k]! * w[k]!;
        p[k] = v;
        s += v;
      }
      lse += this.rowMaxima[i]! - minBias + Math.log(s);
      const r = 1 / s;
      for (let k = 0; k < C; k++) {
        const u = p[k]! * r;
        p[k] = u;
        mass[k]! += u;
        squaredMass![k]! += u * u;
      }
      addOuterUpper(secondMoment!, p, C);
    }
    stats.logSumExp = lse;
    stats.rows = rows;
    return stats;
  }
}
