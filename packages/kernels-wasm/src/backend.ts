import type {
  EnsembleNll,
  EnsembleNllOptions,
  KernelArray,
  KernelBackend,
  ProbePrecision,
  ProbeSession,
  ProbeSessionProblem,
} from '@gla/core';
import { KERNELS_WASM_BASE64 } from './kernels.wasm';
import { availableCores, PROBE_RESERVED, type ProbePartWorker, probeLayout, runProbeBlocks, startProbeWorker } from './probe-worker';
import { type Helper, OP_MASS_DOUBLE, OP_MASS_FLOAT, threadHelper, wasmThreadsEnabled } from './threads';

/** The exports of native/kernels.c (pointers are byte offsets into the instance's memory). */
interface Exports {
  fill_float_float(z: number, rows: number, cols: number, beta: number, E: number, max: number, sum: number, mass: number): number;
  fill_double_float(z: number, rows: number, cols: number, beta: number, E: number, max: number, sum: number, mass: number): number;
  fill_float_double(z: number, rows: number, cols: number, beta: number, E: number, max: number, sum: number, mass: number): number;
  fill_double_double(z: number, rows: number, cols: number, beta: number, E: number, max: number, sum: number, mass: number): number;
  mass_float(E: number, rows: number, cols: number, w: number, sum: number, mass: number, sq: number): void;
  mass_double(E: number, rows: number, cols: number, w: number, sum: number, mass: number, sq: number): void;
  select_float(E: number, rows: number, cols: number, w: number, cut: number, index: number, capacity: number, offsets: number): number;
  select_double(E: number, rows: number, cols: number, w: number, cut: number, index: number, capacity: number, offsets: number): number;
  rowexpsum_float(z: number, rows: number, cols: number, beta: number, max: number, out: number): void;
  rowexpsum_double(z: number, rows: number, cols: number, beta: number, max: number, out: number): void;
  nll_float(z: number, rows: number, cols: number, labels: number, beta: number, sums: number, out: number, scratch: number): void;
  nll_double(z: number, rows: number, cols: number, labels: number, beta: number, sums: number, out: number, scratch: number): void;
  ensemble_float: EnsembleExport;
  ensemble_double: EnsembleExport;
  ensemble_float_float: EnsembleExport;
  ensemble_float_double: EnsembleExport;
  ensemble_double_float: EnsembleExport;
  ensemble_double_double: EnsembleExport;
  gemm_abt(A: number, m: number, B: number, n: number, k: number, out: number): void;
  sum_float(p: number, n: number): number;
  nonfinite_row_float(z: number, rows: number, cols: number): number;
  nonfinite_row_double(z: number, rows: number, cols: number): number;
  probe_ff: ProbeExport;
  probe_fd: ProbeExport;
  probe_dd: ProbeExport;
}

/** probe_*(X, m, D, C, W, b, w, Z, rowMax, rowSum, G, gb): one block of a fused probe evaluation. */
type ProbeExport = (
  X: number,
  m: number,
  D: number,
  C: number,
  W: number,
  b: number,
  w: number,
  Z: number,
  rowMax: number,
  rowSum: number,
  G: number,
  gb: number,
) => void;

/** ensemble_*(f, d, rows, cols, labels, a, b, offset, derivs, rowMax, rowSum, labelLogit, out, scratch). */
type EnsembleExport = (
  f: number,
  d: number,
  rows: number,
  cols: number,
  labels: number,
  a: number,
  b: number,
  offset: number,
  derivs: number,
  rowMax: number,
  rowSum: number,
  labelLogit: number,
  out: number,
  scratch: number,
) => void;

const PAGE = 65536;
/** Stack (64 KiB, placed first) and the module's data: operands start above this. */
const RESERVED = PROBE_RESERVED;
/** Bytes of a streamed block of rows (stays in L2). */
const BLOCK_BYTES = 1 << 18;
/** Multiply-adds (n D C) of one probe evaluation from which a worker takes half the rows. */
const PROBE_WORKER_MIN_WORK = 1 << 22;
/** Entries of the selection index buffer of an arena. */
const SELECT_SCRATCH = 1 << 16;

function decodeBase64(b64: string): Uint8Array<ArrayBuffer> {
  const atobFn = (globalThis as { atob?: (s: string) => string }).atob;
  if (atobFn) {
    const s = atobFn(b64);
    const out = new Uint8Array(s.length);
    for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
    return out;
  }
  const B = (globalThis as { Buffer?: { from(s: string, e: string): Uint8Array } }).Buffer!;
  return Uint8Array.from(B.from(b64, 'base64'));
}

let compiled: WebAssembly.Module | undefined;
let unsupported: unknown;

/** The compiled module, or undefined where WebAssembly SIMD is unavailable. */
export function wasmModule(): WebAssembly.Module | undefined {
  if (compiled || unsupported) return compiled;
  try {
    const bytes = decodeBase64(KERNELS_WASM_BASE64);
    if (typeof WebAssembly === 'undefined' || !WebAssembly.validate(bytes)) throw new Error('WebAssembly SIMD128 is not supported here');
    compiled = new WebAssembly.Module(bytes);
  } catch (error) {
    unsupported = error;
  }
  return compiled;
}

/**
 * One instance with its own memory and a bump allocator. The scratch arena grows; a cache arena
 * is sized once for its E buffer (so views on it never detach) plus streaming scratch.
 */
class Arena {
  readonly memory: WebAssembly.Memory;
  readonly x: Exports;
  /** Identifies the arena to the helper thread (shared arenas only). */
  readonly id = ++arenas;
  private top = RESERVED;
  constructor(
    bytes: number,
    private readonly growable = true,
    /** A fixed-size SHARED memory whose mass passes the helper thread splits with the caller. */
    readonly helper?: Helper,
  ) {
    const pages = Math.ceil(Math.max(bytes, RESERVED + PAGE) / PAGE);
    this.memory = helper
      ? new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true })
      : new WebAssembly.Memory({ initial: pages });
    const instance = new WebAssembly.Instance(helper ? helper.module : wasmModule()!, { env: { memory: this.memory } });
    this.x = instance.exports as unknown as Exports;
  }
  reset(to = RESERVED): void {
    this.top = to;
  }
  get mark(): number {
    return this.top;
  }
  /** Reserves `bytes` (16-byte aligned), growing the memory when allowed; returns the offset. */
  reserve(bytes: number): number {
    const at = (this.top + 15) & ~15;
    const end = at + bytes;
    if (end > this.memory.buffer.byteLength) {
      // A cache arena never grows: growing would detach the views on its E buffer.
      if (!this.growable) throw new Error(`kernels-wasm: cache arena overflow (${end} > ${this.memory.buffer.byteLength} bytes)`);
      const need = Math.ceil((end - this.memory.buffer.byteLength) / PAGE);
      this.memory.grow(need);
    }
    this.top = end;
    return at;
  }
  f64(at: number, n: number): Float64Array {
    return new Float64Array(this.memory.buffer, at, n);
  }
  f32(at: number, n: number): Float32Array {
    return new Float32Array(this.memory.buffer, at, n);
  }
  i32(at: number, n: number): Int32Array {
    return new Int32Array(this.memory.buffer, at, n);
  }
  view(a: KernelArray, at: number, n: number): KernelArray {
    return a instanceof Float32Array ? this.f32(at, n) : this.f64(at, n);
  }
}

let arenas = 0;
let scratchArena: Arena | undefined;
function scratch(): Arena {
  scratchArena ??= new Arena(RESERVED + 64 * PAGE);
  scratchArena.reset();
  return scratchArena;
}

/** Arenas that own a cache buffer (E allocated by allocateCache), by its ArrayBuffer. */
const owners = new WeakMap<ArrayBufferLike, { arena: Arena; base: number }>();

/** Caches of at least this many entries get a shared memory (mass passes on two threads, Node). */
const THREADED_MIN_ENTRIES = 1 << 20;

function ownerOf(a: KernelArray): { arena: Arena; at: number } | undefined {
  const o = owners.get(a.buffer);
  if (!o) return undefined;
  return { arena: o.arena, at: a.byteOffset };
}

const bytesOf = (a: KernelArray) => (a instanceof Float32Array ? 4 : 8);

function blockRowsFor(cols: number): number {
  // A multiple of 4, so the four-row sweeps group the same rows whether E is streamed or read in place.
  return Math.max(4, Math.floor(BLOCK_BYTES / (cols * 8)) & ~3);
}

/**
 * Allocates a rows x cols cache buffer inside its own wasm memory (the passes then read it in
 * place); undefined when it would not fit in a 32-bit memory.
 */
function allocateCache(dtype: 'float32' | 'float64', rows: number, cols: number): KernelArray | undefined {
  const bytes = rows * cols * (dtype === 'float32' ? 4 : 8);
  const scratchBytes = 2 * BLOCK_BYTES + blockRowsFor(cols) * 64 + Math.max(SELECT_SCRATCH, cols) * 4 + 8 * cols * 8 + 16 * PAGE;
  const total = RESERVED + bytes + scratchBytes + 64;
  if (total > 4 * 1024 ** 3 - PAGE) return undefined;
  // A released arena is reused while the garbage collector has not taken it (its pages are then
  // already mapped: a fresh 200 MB memory costs ~0.1 s of page faults on first touch), provided
  // it is not more than twice the size needed.
  const spare = released?.deref();
  released = undefined;
  const bytesOfSpare = spare?.memory.buffer.byteLength ?? 0;
  const helper = rows * cols >= THREADED_MIN_ENTRIES ? threadHelper() : undefined;
  const arena =
    spare && spare.helper === helper && bytesOfSpare >= total && bytesOfSpare <= 2 * total ? spare : new Arena(total, false, helper);
  arena.reset();
  arena.helper?.attach(arena.id, arena.memory);
  const at = arena.reserve(bytes);
  const E = dtype === 'float32' ? arena.f32(at, rows * cols) : arena.f64(at, rows * cols);
  owners.set(E.buffer, { arena, base: arena.mark });
  return E;
}

/** The arena of the latest released cache (weakly held: it never keeps memory alive by itself). */
let released: WeakRef<Arena> | undefined;

/** Takes back a buffer of allocateCache: its arena may serve the next allocateCache. */
function releaseCache(E: KernelArray): void {
  const owner = owners.get(E.buffer);
  if (!owner) return;
  owners.delete(E.buffer);
  owner.arena.helper?.detach(owner.arena.id);
  released = new WeakRef(owner.arena);
}

/** The arena to compute in for a call whose large operand is `E` (its owner, else the scratch arena). */
function arenaFor(E: KernelArray): { arena: Arena; eAt: number | undefined } {
  const owner = ownerOf(E);
  if (owner) {
    owner.arena.reset(owners.get(E.buffer)!.base);
    return { arena: owner.arena, eAt: owner.at };
  }
  return { arena: scratch(), eAt: undefined };
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
  const { arena, eAt } = arenaFor(E);
  const x = arena.x;
  const B = blockRowsFor(cols);
  const zAt = arena.reserve(B * cols * 8);
  const eScratch = eAt === undefined ? arena.reserve(B * cols * bytesOf(E)) : 0;
  const maxAt = arena.reserve(B * 8);
  const sumAt = arena.reserve(B * 8);
  const massAt = mass ? arena.reserve(cols * 8) : 0;
  if (mass) arena.f64(massAt, cols).set(mass);
  const fill =
    data instanceof Float32Array
      ? E instanceof Float32Array
        ? x.fill_float_float
        : x.fill_float_double
      : E instanceof Float32Array
        ? x.fill_double_float
        : x.fill_double_double;
  for (let r0 = 0; r0 < rows; r0 += B) {
    const n = Math.min(B, rows - r0);
    arena.view(data, zAt, n * cols).set(data.subarray(r0 * cols, (r0 + n) * cols));
    const ePtr = eAt === undefined ? eScratch : eAt + r0 * cols * bytesOf(E);
    const invalid = fill(zAt, n, cols, beta, ePtr, maxAt, sumAt, mass ? massAt : 0);
    if (invalid < n) return r0 + invalid;
    if (eAt === undefined) E.set(arena.view(E, eScratch, n * cols), r0 * cols);
    rowMax.set(arena.f64(maxAt, n), r0);
    rowSum.set(arena.f64(sumAt, n), r0);
  }
  if (mass) mass.set(arena.f64(massAt, cols));
  return rows;
}

function massPass(
  E: KernelArray,
  rows: number,
  cols: number,
  w: Float64Array,
  rowSum: Float64Array,
  mass: Float64Array,
  squaredMass?: Float64Array,
): void {
  const { arena, eAt } = arenaFor(E);
  const x = arena.x;
  const B = eAt === undefined ? blockRowsFor(cols) : rows;
  const wAt = arena.reserve(cols * 8);
  const massAt = arena.reserve(cols * 8);
  const sqAt = squaredMass ? arena.reserve(cols * 8) : 0;
  const sumAt = arena.reserve(Math.min(B, rows) * 8);
  const eScratch = eAt === undefined ? arena.reserve(B * cols * bytesOf(E)) : 0;
  arena.f64(wAt, cols).set(w);
  arena.f64(massAt, cols).set(mass);
  if (squaredMass) arena.f64(sqAt, cols).set(squaredMass);
  const pass = E instanceof Float32Array ? x.mass_float : x.mass_double;
  if (eAt !== undefined && arena.helper && rows >= 8) {
    // The helper thread takes rows [h, rows) into its own mass / squared-mass sums.
    const h = (rows >> 1) & ~3;
    const mass2At = arena.reserve(cols * 8);
    const sq2At = squaredMass ? arena.reserve(cols * 8) : 0;
    arena.f64(mass2At, cols).fill(0);
    if (squaredMass) arena.f64(sq2At, cols).fill(0);
    const eBytes = bytesOf(E);
    const op = E instanceof Float32Array ? OP_MASS_FLOAT : OP_MASS_DOUBLE;
    arena.helper.start(op, arena.id, [eAt + h * cols * eBytes, rows - h, cols, wAt, sumAt + h * 8, mass2At, sq2At]);
    pass(eAt, h, cols, wAt, sumAt, massAt, sqAt);
    arena.helper.join();
    rowSum.set(arena.f64(sumAt, rows));
    const m1 = arena.f64(massAt, cols);
    const m2 = arena.f64(mass2At, cols);
    for (let k = 0; k < cols; k++) mass[k] = m1[k]! + m2[k]!;
    if (squaredMass) {
      const q1 = arena.f64(sqAt, cols);
      const q2 = arena.f64(sq2At, cols);
      for (let k = 0; k < cols; k++) squaredMass[k] = q1[k]! + q2[k]!;
    }
    return;
  }
  for (let r0 = 0; r0 < rows; r0 += B) {
    const n = Math.min(B, rows - r0);
    let ePtr: number;
    if (eAt === undefined) {
      arena.view(E, eScratch, n * cols).set(E.subarray(r0 * cols, (r0 + n) * cols));
      ePtr = eScratch;
    } else ePtr = eAt + r0 * cols * bytesOf(E);
    pass(ePtr, n, cols, wAt, sumAt, massAt, sqAt);
    rowSum.set(arena.f64(sumAt, n), r0);
  }
  mass.set(arena.f64(massAt, cols));
  if (squaredMass) squaredMass.set(arena.f64(sqAt, cols));
}

function selectAbove(
  E: KernelArray,
  rowStart: number,
  rowEnd: number,
  cols: number,
  w: Float64Array,
  cut: Float64Array,
  index: Int32Array,
  offsets: Int32Array,
): number {
  const { arena, eAt } = arenaFor(E);
  const x = arena.x;
  const B = blockRowsFor(cols);
  const wAt = arena.reserve(cols * 8);
  const cutAt = arena.reserve(B * 8);
  const offAt = arena.reserve((B + 1) * 4);
  const scratchCapacity = Math.max(SELECT_SCRATCH, cols);
  const idxAt = arena.reserve(scratchCapacity * 4);
  const eScratch = eAt === undefined ? arena.reserve(B * cols * bytesOf(E)) : 0;
  arena.f64(wAt, cols).set(w);
  const select = E instanceof Float32Array ? x.select_float : x.select_double;
  offsets[0] = 0;
  let used = 0;
  let r0 = rowStart;
  while (r0 < rowEnd) {
    const n = Math.min(B, rowEnd - r0);
    let ePtr: number;
    if (eAt === undefined) {
      arena.view(E, eScratch, n * cols).set(E.subarray(r0 * cols, (r0 + n) * cols));
      ePtr = eScratch;
    } else ePtr = eAt + r0 * cols * bytesOf(E);
    arena.f64(cutAt, n).set(cut.subarray(r0, r0 + n));
    const capacity = Math.min(scratchCapacity, index.length - used);
    const done = select(ePtr, n, cols, wAt, cutAt, idxAt, capacity, offAt);
    const off = arena.i32(offAt, done + 1);
    index.set(arena.i32(idxAt, off[done]!), used);
    for (let r = 1; r <= done; r++) offsets[r0 - rowStart + r] = used + off[r]!;
    used += off[done]!;
    r0 += done;
    // Stopped early: by the caller's buffer (return), or by the scratch (a row always fits: go on).
    if (done < n && capacity === index.length - used + off[done]!) return r0 - rowStart;
  }
  return rowEnd - rowStart;
}

function rowLogSumExp(data: KernelArray, rows: number, cols: number, beta: number, out: Float64Array): void {
  const arena = scratch();
  const x = arena.x;
  const B = blockRowsFor(cols);
  const zAt = arena.reserve(B * cols * 8);
  const maxAt = arena.reserve(B * 8);
  const sumAt = arena.reserve(B * 8);
  const run = data instanceof Float32Array ? x.rowexpsum_float : x.rowexpsum_double;
  for (let r0 = 0; r0 < rows; r0 += B) {
    const n = Math.min(B, rows - r0);
    arena.view(data, zAt, n * cols).set(data.subarray(r0 * cols, (r0 + n) * cols));
    run(zAt, n, cols, beta, maxAt, sumAt);
    const m = arena.f64(maxAt, n);
    const s = arena.f64(sumAt, n);
    for (let r = 0; r < n; r++) out[r0 + r] = m[r]! + Math.log(s[r]!);
  }
}

function temperatureNll(
  data: KernelArray,
  rows: number,
  cols: number,
  labels: Int32Array,
  beta: number,
): { value: number; d1: number; d2: number } {
  const arena = scratch();
  const x = arena.x;
  const B = blockRowsFor(cols);
  const zAt = arena.reserve(B * cols * 8);
  const yAt = arena.reserve(B * 4);
  const sumAt = arena.reserve(B * 8);
  const outAt = arena.reserve(3 * 8);
  const tmpAt = arena.reserve(cols * 8 + 16);
  const run = data instanceof Float32Array ? x.nll_float : x.nll_double;
  let value = 0;
  let d1 = 0;
  let d2 = 0;
  for (let r0 = 0; r0 < rows; r0 += B) {
    const n = Math.min(B, rows - r0);
    arena.view(data, zAt, n * cols).set(data.subarray(r0 * cols, (r0 + n) * cols));
    arena.i32(yAt, n).set(labels.subarray(r0, r0 + n));
    run(zAt, n, cols, yAt, beta, sumAt, outAt, tmpAt);
    const out = arena.f64(outAt, 3);
    d1 += out[0]!;
    d2 += out[1]!;
    value -= out[2]!;
    const s = arena.f64(sumAt, n);
    for (let r = 0; r < n; r++) value += Math.log(s[r]!);
  }
  return { value, d1, d2 };
}

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
  const arena = scratch();
  const x = arena.x;
  // Blocks of rows of f and d together within BLOCK_BYTES (f and d streamed in their own dtypes).
  const B = Math.max(4, Math.floor(BLOCK_BYTES / (cols * 16)) & ~3);
  const fAt = arena.reserve(B * cols * bytesOf(f));
  const dAt = d ? arena.reserve(B * cols * bytesOf(d)) : 0;
  const offAt = arena.reserve(cols * 8);
  const yAt = arena.reserve(B * 4);
  const maxAt = arena.reserve(B * 8);
  const sumAt = arena.reserve(B * 8);
  const lyAt = arena.reserve(B * 8);
  const outAt = arena.reserve(6 * 8);
  const tmpAt = arena.reserve(cols * 8 + 16);
  const off = arena.f64(offAt, cols);
  if (offset) off.set(offset.subarray(0, cols));
  else off.fill(0);
  arena.f64(outAt, 6).fill(0);
  const f32 = f instanceof Float32Array;
  const run = !d
    ? f32
      ? x.ensemble_float
      : x.ensemble_double
    : f32
      ? d instanceof Float32Array
        ? x.ensemble_float_float
        : x.ensemble_float_double
      : d instanceof Float32Array
        ? x.ensemble_double_float
        : x.ensemble_double_double;
  const derivs = options.derivatives === true ? 1 : 0;
  const rowLoss = options.rowLoss;
  let value = 0;
  for (let r0 = 0; r0 < rows; r0 += B) {
    const n = Math.min(B, rows - r0);
    arena.view(f, fAt, n * cols).set(f.subarray(r0 * cols, (r0 + n) * cols));
    if (d) arena.view(d, dAt, n * cols).set(d.subarray(r0 * cols, (r0 + n) * cols));
    arena.i32(yAt, n).set(labels.subarray(r0, r0 + n));
    run(fAt, dAt, n, cols, yAt, a, d ? b : 0, offAt, derivs, maxAt, sumAt, lyAt, outAt, tmpAt);
    const m = arena.f64(maxAt, n);
    const s = arena.f64(sumAt, n);
    const ly = arena.f64(lyAt, n);
    for (let r = 0; r < n; r++) {
      const loss = m[r]! + Math.log(s[r]!) - ly[r]!;
      if (rowLoss) rowLoss[r0 + r] = loss;
      value += loss;
    }
  }
  const out = arena.f64(outAt, 6);
  return { value, correct: out[0]!, gradA: out[1]!, gradB: out[2]!, hessAA: out[3]!, hessAB: out[4]!, hessBB: out[5]! };
}

function gemmABt(A: KernelArray, m: number, B: KernelArray, n: number, k: number, out: Float64Array): void {
  const arena = scratch();
  const x = arena.x;
  const bAt = arena.reserve(n * k * 8);
  arena.f64(bAt, n * k).set(B.subarray(0, n * k));
  const rowsPerBlock = Math.max(4, Math.floor(BLOCK_BYTES / (k * 8)) & ~3);
  const aAt = arena.reserve(rowsPerBlock * k * 8);
  const oAt = arena.reserve(rowsPerBlock * n * 8);
  for (let r0 = 0; r0 < m; r0 += rowsPerBlock) {
    const r = Math.min(rowsPerBlock, m - r0);
    arena.f64(aAt, r * k).set(A.subarray(r0 * k, (r0 + r) * k));
    x.gemm_abt(aAt, r, bAt, n, k, oAt);
    out.set(arena.f64(oAt, r * n), r0 * n);
  }
}

function firstNonFiniteRow(data: KernelArray, rowStart: number, rows: number, cols: number): number {
  const arena = scratch();
  const x = arena.x;
  const B = blockRowsFor(cols);
  const zAt = arena.reserve(B * cols * 8);
  const scan = data instanceof Float32Array ? x.nonfinite_row_float : x.nonfinite_row_double;
  for (let r0 = rowStart; r0 < rows; r0 += B) {
    const n = Math.min(B, rows - r0);
    arena.view(data, zAt, n * cols).set(data.subarray(r0 * cols, (r0 + n) * cols));
    const bad = scan(zAt, n, cols);
    if (bad < n) return r0 + bad;
  }
  return rows;
}

/**
 * Memory-read probe: the sum of a Float32 buffer read in place when it was allocated by
 * allocateCache (streamed otherwise); for benchmarks (time per pass vs. one read of the cache).
 */
export function readProbe(a: Float32Array): number {
  const owner = ownerOf(a);
  if (owner) return owner.arena.x.sum_float(owner.at, a.length);
  const arena = scratch();
  const at = arena.reserve(BLOCK_BYTES);
  const n = BLOCK_BYTES / 4;
  let s = 0;
  for (let i = 0; i < a.length; i += n) {
    const m = Math.min(n, a.length - i);
    arena.f32(at, m).set(a.subarray(i, i + m));
    s += arena.x.sum_float(at, m);
  }
  return s;
}

/**
 * Fused probe evaluations (the `probeSession` kernel) in one arena of its own holding the training
 * rows (gathered once, in their stored precision), the head and the block scratch. Per block of
 * rows (a few hundred KiB, in L2): logits W x + b, the softmax residuals and G += R^T X in one call.
 * 'float32' over Float32 rows: Float32 products summed in Float32 over d and over a block's rows
 * (like a Float32 GEMM), softmax and every sum across blocks in Float64; 'float64' (and Float64
 * rows at either precision): Float64 throughout. With two cores (and setWasmThreads not off) the
 * second half of the rows lives in a worker (Web Worker / worker_threads, see probe-worker.ts) that
 * evaluates them while the caller does the first half; G = G_first + G_second, deterministic.
 */
async function probeSession(problem: ProbeSessionProblem): Promise<ProbeSession> {
  const { features, cols: D, classes: C, rowIndex, rowWeights } = problem;
  const total = rowWeights.length;
  const single = features instanceof Float32Array;
  const eb = single ? 4 : 8;
  const B = Math.max(4, Math.min(total, Math.floor(BLOCK_BYTES / (C * 8 + D * eb))) & ~3) || 1;
  /** Training rows [t0, t1) into `out` (row-major, from its start). */
  const gather = (t0: number, t1: number, out: KernelArray): KernelArray => {
    for (let t = t0; t < t1; t++) {
      const r = rowIndex ? rowIndex[t]! : t;
      out.set(features.subarray(r * D, (r + 1) * D), (t - t0) * D);
    }
    return out;
  };
  // Rows [split, total) go to a worker when there are two cores and enough work per evaluation.
  let worker: ProbePartWorker | undefined;
  let split = total;
  if (wasmThreadsEnabled() && availableCores() >= 2 && total >= 2 * B && total * D * C >= PROBE_WORKER_MIN_WORK) {
    const half = Math.ceil(total / 2 / B) * B;
    const rows = (total - half) * D;
    const part = gather(half, total, single ? new Float32Array(rows) : new Float64Array(rows));
    worker = await startProbeWorker(wasmModule()!, part, rowWeights.slice(half, total), {
      n: total - half,
      D,
      C,
      B,
    });
    if (worker) split = half;
  }
  const n = split;
  const L = probeLayout(RESERVED, n, D, C, B, single);
  let arena: Arena | undefined = new Arena(L.bytes, false);
  arena.reserve(L.bytes - RESERVED);
  gather(0, n, arena.view(features, L.xAt, n * D));
  arena.f64(L.wAt, n).set(rowWeights.subarray(0, n));
  return {
    async evaluate(W: Float64Array, bias: Float64Array, precision: ProbePrecision, G: Float64Array, gb: Float64Array) {
      const a = arena;
      if (!a) throw new Error('kernels-wasm: probe session used after release');
      const f32 = precision === 'float32';
      const other = worker?.evaluate(W.slice(0, C * D), bias.slice(0, C), f32);
      let loss = runProbeBlocks(a.x, a.memory.buffer, L, W, bias, f32);
      G.set(a.f64(L.GAt, C * D));
      gb.set(a.f64(L.gbAt, C));
      if (other) {
        const part = await other;
        for (let j = 0; j < C * D; j++) G[j]! += part.G[j]!;
        for (let c = 0; c < C; c++) gb[c]! += part.gb[c]!;
        loss += part.loss;
      }
      return loss;
    },
    async release() {
      arena = undefined;
      worker?.terminate();
      worker = undefined;
    },
  };
}

/**
 * The WebAssembly SIMD backend (every kernel of @gla/core's layer), or undefined where
 * WebAssembly SIMD128 is not available. exp: degree-12 Taylor after Cody-Waite reduction (Float64
 * outputs, within a few ulps) or, for the Float32 cache, a degree-7 near-minimax polynomial
 * (relative error < 6e-11 before rounding; declared 1e-10).
 */
export function createWasmKernels():
  | (KernelBackend & { allocateCache: typeof allocateCache; releaseCache: typeof releaseCache })
  | undefined {
  if (!wasmModule()) return undefined;
  return {
    name: 'wasm-simd',
    expRelativeError: 1e-10,
    allocateCache,
    releaseCache,
    expShiftFill,
    massPass,
    selectAbove,
    rowLogSumExp,
    temperatureNll,
    ensembleNll,
    gemmABt,
    probeSession,
    firstNonFiniteRow,
  };
}

/** Why the backend is unavailable (undefined when it is available). */
export function wasmUnavailableReason(): string | undefined {
  wasmModule();
  return unsupported === undefined ? undefined : String((unsupported as Error)?.message ?? unsupported);
}
