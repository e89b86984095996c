import type { EnsembleNll, EnsembleNllOptions, KernelArray, KernelBackend } from './kernels';

/**
 * The pure-TypeScript reference kernels: the definition every backend is tested against and the
 * fallback that runs everywhere (no WebAssembly, no workers). Internal; see src/kernels.ts.
 */

/**
 * Entries with beta z - rowmax < -EXP_CUTOFF are stored as 0 in the exp cache (e^-64 = 1.6e-28;
 * the row maximum contributes 1). The prior solver accounts for them in its rounding bound.
 */
export const EXP_CUTOFF = 64;

/** 16 / ln 2: x * EXP_SCALE is the exponent in sixteenths of a power of two. */
const EXP_SCALE = 16 / Math.LN2;
const LN2_16 = Math.LN2 / 16;
/** 1.5 * 2^52: adding and subtracting it rounds a double of magnitude < 2^51 to the nearest integer. */
const ROUND_MAGIC = 6755399441055744;
let fastExpTableCache: Float64Array | undefined;

/**
 * 2^(-j/16) for j = 0 .. 16 * 64 / ln 2 + 2 (correctly rounded to within 1 ulp by Math.pow). With
 * x = -j ln2/16 + r, |r| <= ln2/32 (+ 1e-14), exp(x) = 2^(-j/16) * e^r and e^r is its degree-5
 * Taylor polynomial: relative truncation error <= r^6/720 * e^|r| < 1.5e-13, plus a few ulps of
 * rounding, so < 2e-13 in total, far below the Float32 rounding (6e-8) that follows.
 */
function fastExpTable(): Float64Array {
  if (!fastExpTableCache) {
    const n = Math.ceil(EXP_CUTOFF * EXP_SCALE) + 3;
    fastExpTableCache = new Float64Array(n);
    for (let j = 0; j < n; j++) fastExpTableCache[j] = 2 ** (-j / 16);
  }
  return fastExpTableCache;
}

/**
 * Fills E[o .. o + C) with exp(data * beta - m) (m = beta * rowmax, so every exponent is <= 0) by
 * the table exp, 0 below -EXP_CUTOFF; returns their Float64 sum of the Float32-rounded values (NaN
 * when some exponent is NaN).
 */
function fillExpRowFloat32(data: KernelArray, o: number, C: number, beta: number, m: number, E: Float32Array, table: Float64Array): number {
  let s = 0;
  for (let k = 0; k < C; k++) {
    const x = data[o + k]! * beta - m;
    if (!(x >= -EXP_CUTOFF)) {
      if (Number.isNaN(x)) return Number.NaN; // an invalid row (see expShiftFill)
      E[o + k] = 0;
      continue;
    }
    const j = ROUND_MAGIC - x * EXP_SCALE - ROUND_MAGIC; // nearest integer to -x * 16 / ln 2, >= 0
    const r = x + j * LN2_16;
    const p = 1 + r * (1 + r * (0.5 + r * (1 / 6 + r * (1 / 24 + r * (1 / 120)))));
    const e = Math.fround(table[j | 0]! * p);
    E[o + k] = e;
    s += e;
  }
  return s;
}

/** Float64 cache row: exp(data * beta - m) by Math.exp (no cut-off); returns the sum (NaN when some exponent is NaN). */
function fillExpRowFloat64(data: KernelArray, o: number, C: number, beta: number, m: number, E: Float64Array): number {
  let s = 0;
  for (let k = 0; k < C; k++) {
    const e = Math.exp(data[o + k]! * beta - m);
    E[o + k] = e;
    s += e;
  }
  return s;
}

/** Row maximum (-Infinity for an empty or all-masked row). */
function rowMaxOf(data: KernelArray, o: number, C: number): number {
  let m = Number.NEGATIVE_INFINITY;
  for (let k = 0; k < C; k++) {
    const v = data[o + k]!;
    if (v > m) m = v;
  }
  return m;
}

/** acc[k] += E[o + k] * ra + E[o + C + k] * rb: two rows per load / store of acc. */
function rowAxpy2(E: KernelArray, o: number, ra: number, rb: number, acc: Float64Array, C: number): void {
  const ob = o + C;
  for (let k = 0; k < C; k++) acc[k]! += E[o + k]! * ra + E[ob + k]! * rb;
}

/** acc[k] += E[o + k] * r. */
function rowAxpy(E: KernelArray, o: number, r: number, acc: Float64Array, C: number): void {
  for (let k = 0; k < C; k++) acc[k]! += E[o + k]! * r;
}

function expShiftFill(
  data: KernelArray,
  rows: number,
  cols: number,
  beta: number,
  E: KernelArray,
  rowMax: Float64Array,
  rowSum: Float64Array,
  mass?: Float64Array,
): number {
  const table = fastExpTable();
  let pendingInverse = 0;
  for (let i = 0; i < rows; i++) {
    const o = i * cols;
    const m = rowMaxOf(data, o, cols) * beta;
    rowMax[i] = m;
    const s =
      E instanceof Float32Array ? fillExpRowFloat32(data, o, cols, beta, m, E, table) : fillExpRowFloat64(data, o, cols, beta, m, E);
    if (Number.isNaN(s)) return i;
    rowSum[i] = s;
    if (!mass) continue;
    // Rows in pairs for the accumulation (acc loaded / stored once per two rows).
    if (i % 2 === 1) rowAxpy2(E, o - cols, pendingInverse, 1 / s, mass, cols);
    else if (i === rows - 1) rowAxpy(E, o, 1 / s, mass, cols);
    else pendingInverse = 1 / s;
  }
  return rows;
}

/** s = sum_k E[o + k] w[k] with four partial sums (breaks the add dependency chain). */
function rowDot(E: KernelArray, o: number, w: Float64Array, C: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let k = 0;
  for (; k + 3 < C; k += 4) {
    s0 += E[o + k]! * w[k]!;
    s1 += E[o + k + 1]! * w[k + 1]!;
    s2 += E[o + k + 2]! * w[k + 2]!;
    s3 += E[o + k + 3]! * w[k + 3]!;
  }
  for (; k < C; k++) s0 += E[o + k]! * w[k]!;
  return s0 + s1 + s2 + s3;
}

/** The second row's sum of the last {@link rowDot2} call. */
let secondSum = 0;

/** rowDot of the two consecutive rows at o and o + C (w read once); the second sum in secondSum. */
function rowDot2(E: KernelArray, o: number, w: Float64Array, C: number): number {
  const ob = o + C;
  let a0 = 0;
  let a1 = 0;
  let b0 = 0;
  let b1 = 0;
  let k = 0;
  for (; k + 1 < C; k += 2) {
    const w0 = w[k]!;
    const w1 = w[k + 1]!;
    a0 += E[o + k]! * w0;
    a1 += E[o + k + 1]! * w1;
    b0 += E[ob + k]! * w0;
    b1 += E[ob + k + 1]! * w1;
  }
  for (; k < C; k++) {
    a0 += E[o + k]! * w[k]!;
    b0 += E[ob + k]! * w[k]!;
  }
  secondSum = b0 + b1;
  return a0 + a1;
}

function massPass(
  E: KernelArray,
  rows: number,
  C: number,
  w: Float64Array,
  rowSum: Float64Array,
  mass: Float64Array,
  squaredMass?: Float64Array,
): void {
  let i = 0;
  if (!squaredMass) {
    // Rows in pairs: w and mass are loaded / stored once per two rows.
    for (; i + 1 < rows; i += 2) {
      const o = i * C;
      const sa = rowDot2(E, o, w, C);
      const sb = secondSum;
      rowSum[i] = sa;
      rowSum[i + 1] = sb;
      rowAxpy2(E, o, 1 / sa, 1 / sb, mass, C);
    }
  }
  for (; i < rows; i++) {
    const o = i * C;
    const s = rowDot(E, o, w, C);
    rowSum[i] = s;
    const r = 1 / s;
    if (!squaredMass) {
      rowAxpy(E, o, r, mass, C);
      continue;
    }
    for (let k = 0; k < C; k++) {
      const u = E[o + k]! * r;
      mass[k]! += u;
      squaredMass[k]! += u * u;
    }
  }
}

function selectAbove(
  E: KernelArray,
  rowStart: number,
  rowEnd: number,
  C: number,
  w: Float64Array,
  cut: Float64Array,
  index: Int32Array,
  offsets: Int32Array,
): number {
  let count = 0;
  offsets[0] = 0;
  const capacity = index.length;
  for (let i = rowStart; i < rowEnd; i++) {
    const o = i * C;
    const c = cut[i]!;
    for (let k = 0; k < C; k++) {
      if (E[o + k]! * w[k]! >= c) {
        if (count === capacity) return i - rowStart;
        index[count++] = k;
      }
    }
    offsets[i - rowStart + 1] = count;
  }
  return rowEnd - rowStart;
}

function firstNonFiniteRow(data: KernelArray, rowStart: number, rows: number, cols: number): number {
  for (let i = rowStart; i < rows; i++) {
    const o = i * cols;
    // v * 0 is 0 for finite v and NaN for NaN / +-Infinity; four sums break the add chain.
    let a = 0;
    let b = 0;
    let c = 0;
    let d = 0;
    let j = 0;
    for (; j + 3 < cols; j += 4) {
      a += data[o + j]! * 0;
      b += data[o + j + 1]! * 0;
      c += data[o + j + 2]! * 0;
      d += data[o + j + 3]! * 0;
    }
    for (; j < cols; j++) a += data[o + j]! * 0;
    if (a + b + c + d !== 0) return i;
  }
  return rows;
}

function rowLogSumExp(data: KernelArray, rows: number, cols: number, beta: number, out: Float64Array): void {
  for (let i = 0; i < rows; i++) {
    const o = i * cols;
    const m = rowMaxOf(data, o, cols) * beta;
    let s = 0;
    for (let j = 0; j < cols; j++) s += Math.exp(data[o + j]! * beta - m);
    out[i] = m + Math.log(s);
  }
}

let nllScratch = new Float64Array(0);

function temperatureNll(
  data: KernelArray,
  rows: number,
  cols: number,
  labels: Int32Array,
  beta: number,
): { value: number; d1: number; d2: number } {
  if (nllScratch.length < cols) nllScratch = new Float64Array(cols);
  const e = nllScratch;
  let value = 0;
  let d1 = 0;
  let d2 = 0;
  for (let i = 0; i < rows; i++) {
    const o = i * cols;
    const m = rowMaxOf(data, o, cols);
    let s = 0;
    let s1 = 0;
    for (let j = 0; j < cols; j++) {
      const z = data[o + j]!;
      const v = z === Number.NEGATIVE_INFINITY ? 0 : Math.exp(beta * (z - m));
      e[j] = v;
      s += v;
      if (v > 0) s1 += v * (z - m);
    }
    const mean = s1 / s;
    let s2 = 0;
    for (let j = 0; j < cols; j++) {
      const v = e[j]!;
      if (v > 0) {
        const d = data[o + j]! - m - mean;
        s2 += v * d * d;
      }
    }
    const zy = data[o + labels[i]!]! - m;
    value += Math.log(s) - beta * zy;
    d1 += mean - zy;
    d2 += s2 / s;
  }
  return { value, d1, d2 };
}

let ensembleScratch = new Float64Array(0);

function ensembleNll(
  f: KernelArray,
  d: KernelArray | undefined,
  rows: number,
  cols: number,
  labels: Int32Array,
  a: number,
  b: number,
  offset: Float64Array | undefined,
  options: EnsembleNllOptions = {},
): EnsembleNll {
  if (ensembleScratch.length < cols) ensembleScratch = new Float64Array(cols);
  const l = ensembleScratch;
  const derivatives = options.derivatives === true;
  const rowLoss = options.rowLoss;
  let value = 0;
  let correct = 0;
  let gradA = 0;
  let gradB = 0;
  let hessAA = 0;
  let hessAB = 0;
  let hessBB = 0;
  for (let i = 0; i < rows; i++) {
    const o = i * cols;
    // The combined row (as combineLogits forms it), its maximum and first argmax.
    let m = Number.NEGATIVE_INFINITY;
    let arg = 0;
    for (let k = 0; k < cols; k++) {
      let v = a * f[o + k]!;
      if (d) v += b * d[o + k]!;
      if (offset) v += offset[k]!;
      l[k] = v;
      if (v > m) {
        m = v;
        arg = k;
      }
    }
    const y = labels[i]!;
    if (arg === y) correct++;
    let s = 0;
    if (!derivatives) {
      for (let k = 0; k < cols; k++) s += Math.exp(l[k]! - m);
    } else {
      // Moments of u = f - f_y and w = d - d_y (shift-invariant, and E_p[u] is the gradient term).
      const fy = f[o + y]!;
      const dy = d ? d[o + y]! : 0;
      let su = 0;
      let sw = 0;
      let suu = 0;
      let sww = 0;
      let suw = 0;
      for (let k = 0; k < cols; k++) {
        const v = l[k]!;
        const e = Math.exp(v - m);
        s += e;
        if (v === Number.NEGATIVE_INFINITY) continue;
        const u = f[o + k]! - fy;
        const eu = e * u;
        su += eu;
        suu += eu * u;
        if (d) {
          const w = d[o + k]! - dy;
          sw += e * w;
          sww += e * w * w;
          suw += eu * w;
        }
      }
      const mu = su / s;
      const mw = sw / s;
      gradA += mu;
      gradB += mw;
      hessAA += suu / s - mu * mu;
      hessBB += sww / s - mw * mw;
      hessAB += suw / s - mu * mw;
    }
    const loss = m + Math.log(s) - l[y]!;
    if (rowLoss) rowLoss[i] = loss;
    value += loss;
  }
  return { value, correct, gradA, gradB, hessAA, hessAB, hessBB };
}

/**
 * out (m x n) = A (m x k) B^T (B: n x k); rows of A and B contiguous. Blocks of 4 rows of A x 2 rows
 * of B (8 accumulators), so every loaded element feeds 2 or 4 products. Fixed summation order:
 * deterministic.
 */
function gemmABt(A: KernelArray, m: number, B: KernelArray, n: number, k: number, out: Float64Array): void {
  let i = 0;
  for (; i + 3 < m; i += 4) {
    const a0 = i * k;
    const a1 = a0 + k;
    const a2 = a1 + k;
    const a3 = a2 + k;
    const o0 = i * n;
    const o1 = o0 + n;
    const o2 = o1 + n;
    const o3 = o2 + n;
    let j = 0;
    for (; j + 1 < n; j += 2) {
      const b0 = j * k;
      const b1 = b0 + k;
      let s00 = 0;
      let s01 = 0;
      let s10 = 0;
      let s11 = 0;
      let s20 = 0;
      let s21 = 0;
      let s30 = 0;
      let s31 = 0;
      for (let d = 0; d < k; d++) {
        const w0 = B[b0 + d]!;
        const w1 = B[b1 + d]!;
        const x0 = A[a0 + d]!;
        const x1 = A[a1 + d]!;
        const x2 = A[a2 + d]!;
        const x3 = A[a3 + d]!;
        s00 += x0 * w0;
        s01 += x0 * w1;
        s10 += x1 * w0;
        s11 += x1 * w1;
        s20 += x2 * w0;
        s21 += x2 * w1;
        s30 += x3 * w0;
        s31 += x3 * w1;
      }
      out[o0 + j] = s00;
      out[o0 + j + 1] = s01;
      out[o1 + j] = s10;
      out[o1 + j + 1] = s11;
      out[o2 + j] = s20;
      out[o2 + j + 1] = s21;
      out[o3 + j] = s30;
      out[o3 + j + 1] = s31;
    }
    for (; j < n; j++) {
      const b0 = j * k;
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      for (let d = 0; d < k; d++) {
        const w = B[b0 + d]!;
        s0 += A[a0 + d]! * w;
        s1 += A[a1 + d]! * w;
        s2 += A[a2 + d]! * w;
        s3 += A[a3 + d]! * w;
      }
      out[o0 + j] = s0;
      out[o1 + j] = s1;
      out[o2 + j] = s2;
      out[o3 + j] = s3;
    }
  }
  for (; i < m; i++) {
    const a0 = i * k;
    for (let j = 0; j < n; j++) {
      const b0 = j * k;
      let s = 0;
      for (let d = 0; d < k; d++) s += A[a0 + d]! * B[b0 + d]!;
      out[i * n + j] = s;
    }
  }
}

/** The reference backend (priority 0, always registered). */
export const referenceKernels: KernelBackend = {
  name: 'reference',
  expRelativeError: 2e-13,
  expShiftFill,
  massPass,
  selectAbove,
  firstNonFiniteRow,
  rowLogSumExp,
  temperatureNll,
  ensembleNll,
  gemmABt,
};
