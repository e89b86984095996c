/**
 * @gla/kernels-onnx: @gla/core's asynchronous probe and head kernels on onnxruntime (MLAS GEMM,
 * vectorised exp) through a @gla/runtime adapter (@gla/onnx-node or @gla/onnx-web). The training
 * rows are split into chunks, each the constant (initializer) of one fused graph built with
 * @gla/onnx-builder, so X is copied into onnxruntime once per training run and every evaluation
 * returns only C x D + C + 1 numbers per chunk (summed in Float64 here).
 */
import {
  type KernelArray,
  type KernelBackend,
  type ProbePrecision,
  type ProbeSession,
  type ProbeSessionProblem,
  registerKernels,
} from '@gla/core';
import { GraphBuilder } from '@gla/onnx-builder';
import type { ModelSession, Runtime, Tensor } from '@gla/runtime';

type FloatDType = 'float32' | 'float64';

const ONNX_DOUBLE = 11;
const ONNX_FLOAT = 1;

function dtypeOf(a: KernelArray): FloatDType {
  return a instanceof Float32Array ? 'float32' : 'float64';
}

function allocate(dtype: FloatDType, length: number): KernelArray {
  return dtype === 'float32' ? new Float32Array(length) : new Float64Array(length);
}

/**
 * The nodes both probe graphs share: with rows x (inputs 'W', 'b' and the row weights `w`),
 * Z = x W^T + b, P = Softmax(Z), 'lse' = max Z - log max P, 'R' = w P and 'G' = R^T x (C x D).
 * lse = max_c z_c - log max_c p_c (max p = 1 / sum exp(z - max z), in [1/C, 1]): no second exp pass.
 */
function addSoftmaxGradient(g: GraphBuilder, x: string, w: string): void {
  g.addNode('Gemm', [x, 'W', 'b'], ['Z'], { transB: 1 });
  g.addNode('Softmax', ['Z'], ['P'], { axis: 1 });
  g.addNode('ReduceMax', ['Z'], ['zmax'], { axes: [1], keepdims: 1 });
  g.addNode('ReduceMax', ['P'], ['pmax'], { axes: [1], keepdims: 1 });
  g.addNode('Log', ['pmax'], ['logpmax']);
  g.addNode('Sub', ['zmax', 'logpmax'], ['lse']);
  g.addNode('Mul', ['P', w], ['R']);
  g.addNode('Gemm', ['R', x], ['G'], { transA: 1 });
}

/**
 * The fused probe graph over one part of the training rows (X P x D stored as its dtype, an
 * initializer, as are the row weights w P x 1 in `dtype`). Each run evaluates the chunk of rows
 * [start, end) of the part, in `dtype`: with Xs = Slice(X) (cast when the dtypes differ; a per-run
 * copy of the chunk only), Z = Xs W^T + b, P = Softmax(Z), lse = max Z - log max P and R = w P:
 *   G = R^T Xs (C x D),   gb = sum_rows R (C),   loss = sum_rows w lse (scalar).
 * X itself is no Gemm operand (only its per-run slice), so MLAS keeps no prepacked copy of it.
 * Intermediates: about three chunk x C buffers.
 */
export function probePartGraph(X: KernelArray, P: number, D: number, C: number, rowWeights: KernelArray, dtype: FloatDType): Uint8Array {
  const stored = dtypeOf(X);
  const g = new GraphBuilder(`gla-probe-${dtype}`);
  g.addInput('W', dtype, [C, D]);
  g.addInput('b', dtype, [C]);
  g.addInput('start', 'int64', [1]);
  g.addInput('end', 'int64', [1]);
  g.addInitializer('X', stored, [P, D], X);
  g.addInitializer('w', dtype, [P, 1], rowWeights);
  g.addInitializer('axis0', 'int64', [1], BigInt64Array.of(0n));
  g.addNode('Slice', ['X', 'start', 'end', 'axis0'], ['Xs']);
  g.addNode('Slice', ['w', 'start', 'end', 'axis0'], ['ws']);
  let x = 'Xs';
  if (stored !== dtype) {
    g.addNode('Cast', ['Xs'], ['Xc'], { to: dtype === 'float64' ? ONNX_DOUBLE : ONNX_FLOAT });
    x = 'Xc';
  }
  addSoftmaxGradient(g, x, 'ws');
  g.addNode('ReduceSum', ['R', 'axis0'], ['gb'], { keepdims: 0 });
  g.addNode('Mul', ['ws', 'lse'], ['wl']);
  g.addNode('ReduceSum', ['wl'], ['loss'], { keepdims: 0 });
  g.addOutput('G', dtype, [C, D]);
  g.addOutput('gb', dtype, [C]);
  g.addOutput('loss', dtype, []);
  return g.toBytes();
}

/**
 * The fused probe graph over one chunk of training rows fed as graph inputs (zero-copy on
 * onnxruntime-node): X (rows x D, stored as `stored`, cast to `dtype` per run when the dtypes
 * differ: a copy of the chunk only) and the row weights w (rows x 1, `dtype`); with
 * Z = X W^T + b, P = Softmax(Z), lse = max Z - log max P and R = w P:
 *   G = R^T X (C x D),   gb = sum_rows R (C),   loss = sum_rows w lse (scalar).
 * No initializer holds X, so onnxruntime keeps no copy of it. Intermediates: about three rows x C buffers.
 */
export function probeChunkGraph(D: number, C: number, stored: FloatDType, dtype: FloatDType): Uint8Array {
  const g = new GraphBuilder(`gla-probe-chunk-${dtype}`);
  g.addInput('X', stored, ['rows', D]);
  g.addInput('w', dtype, ['rows', 1]);
  g.addInput('W', dtype, [C, D]);
  g.addInput('b', dtype, [C]);
  g.addInitializer('axis0', 'int64', [1], BigInt64Array.of(0n));
  let x = 'X';
  if (stored !== dtype) {
    g.addNode('Cast', ['X'], ['Xc'], { to: dtype === 'float64' ? ONNX_DOUBLE : ONNX_FLOAT });
    x = 'Xc';
  }
  addSoftmaxGradient(g, x, 'w');
  // The sums over rows in Float64 also in the Float32 graph: a Float32 ReduceSum over thousands of
  // rows of similar terms has a systematic rounding error (1e-6 on gb, 1e-5 relative on the loss at
  // W = 0 on 7,045 rows), far above the Float32 GEMM's (1e-9 on G), and it set the noise floor of the Float32 phase.
  let r = 'R';
  let wl = 'wl';
  g.addNode('Mul', ['w', 'lse'], ['wl']);
  if (dtype === 'float32') {
    g.addNode('Cast', ['R'], ['R64'], { to: ONNX_DOUBLE });
    g.addNode('Cast', ['wl'], ['wl64'], { to: ONNX_DOUBLE });
    r = 'R64';
    wl = 'wl64';
  }
  g.addNode('ReduceSum', [r, 'axis0'], ['gb'], { keepdims: 0 });
  g.addNode('ReduceSum', [wl], ['loss'], { keepdims: 0 });
  g.addOutput('G', dtype, [C, D]);
  g.addOutput('gb', 'float64', [C]);
  g.addOutput('loss', 'float64', []);
  return g.toBytes();
}

/**
 * Logits of a head: Z = X W^T + b with X (rows x D, dtype) a graph input and the head's W (C x D)
 * and b (C) initializers in the same dtype (so MLAS may prepack W once per session).
 */
export function headGraph(W: KernelArray, b: KernelArray, D: number, C: number): Uint8Array {
  const dtype = dtypeOf(W);
  const g = new GraphBuilder(`gla-head-${dtype}`);
  g.addInput('X', dtype, ['rows', D]);
  g.addInitializer('W', dtype, [C, D], W);
  g.addInitializer('b', dtype, [C], b);
  g.addNode('Gemm', ['X', 'W', 'b'], ['Z'], { transB: 1 });
  g.addOutput('Z', dtype, ['rows', C]);
  return g.toBytes();
}

/** How the training rows are split: `partRows` per session, `chunkRows` per run (both balanced). */
export interface ProbeLayout {
  partRows: number;
  chunkRows: number;
}

/**
 * The layout of a probe session over n rows of D features (`elementBytes` each) and C classes:
 * parts of at most `partBytes` of features (one session each; a session is built from one part,
 * so the transient copies while loading stay about that size), and chunks whose intermediates
 * (about 3 chunk x C numbers of `phaseBytes` each) over all parts stay within `chunkBytes` (at least 16 rows).
 */
export function probeLayout(
  n: number,
  D: number,
  C: number,
  elementBytes: number,
  partBytes: number,
  chunkBytes: number,
  phaseBytes = 8,
): ProbeLayout {
  const balanced = (total: number, most: number) => Math.ceil(total / Math.ceil(total / Math.max(1, Math.min(total, most))));
  const partRows = balanced(n, Math.floor(partBytes / (D * elementBytes)));
  const parts = Math.ceil(n / partRows);
  const chunkRows = balanced(partRows, Math.max(16, Math.floor(chunkBytes / parts / (3 * C * phaseBytes))));
  return { partRows, chunkRows };
}

/** The chunk `[t0, t0 + m)` of the training rows, gathered (a copy of that chunk only). */
function gatherRows(X: KernelArray, D: number, rowIndex: Int32Array | undefined, t0: number, m: number): KernelArray {
  if (!rowIndex) return X.subarray(t0 * D, (t0 + m) * D);
  const out = allocate(dtypeOf(X), m * D);
  for (let i = 0; i < m; i++) {
    const o = rowIndex[t0 + i]! * D;
    out.set(X.subarray(o, o + D), i * D);
  }
  return out;
}

/** sum += part (a function of its own: V8 does not optimise loops inside the async evaluations). */
function accumulate(sum: Float64Array, part: KernelArray): void {
  for (let j = 0; j < sum.length; j++) sum[j]! += part[j]!;
}

/** Options of {@link createOnnxKernels}. */
export interface OnnxKernelsOptions {
  /** Backend name reported in results (default 'onnxruntime'). */
  name?: string;
  /** Bytes of features per probe session (default 64 MiB; the transient copies while a session loads are a few times that). */
  partBytes?: number;
  /**
   * Bytes of per-run intermediates over all sessions (default: 16 MiB with features fed as inputs;
   * the training rows' feature bytes, >= 16 MiB, with features as initializers).
   */
  chunkBytes?: number;
  /**
   * How the probe sessions receive the training rows: `'input'` feeds each chunk as a graph input
   * (one session per precision; onnxruntime-node wraps the caller's memory, so onnxruntime holds no
   * copy of X), `'initializer'` copies them into the sessions once per training run (for runtimes that
   * copy every input, e.g. onnxruntime-web). Default `'input'` on onnxruntime-node, else `'initializer'`.
   */
  features?: 'input' | 'initializer';
}

/**
 * Probe sessions with the training rows fed as graph inputs, chunk by chunk (one session per
 * precision). The rows are the caller's memory (gathered once with `rowIndex`); the Float32 phase
 * over Float64 features reads a Float32 copy of them (0.5x the features, dropped with the phase).
 */
async function inputProbeSession(runtime: Runtime, problem: ProbeSessionProblem, options: OnnxKernelsOptions): Promise<ProbeSession> {
  const MiB = 2 ** 20;
  const { features, cols: D, classes: C, rowIndex, rowWeights } = problem;
  const n = rowWeights.length;
  const stored = dtypeOf(features);
  const rows = gatherRows(features, D, rowIndex, 0, n);
  // Intermediates of at most 16 MiB per run, whatever the number of rows, so the probe's memory
  // beyond the L-BFGS state does not grow with N. 64,000 x 512 x 1,000 (median-free single runs):
  // peak RSS growth 384 -> 230 MiB (inputs 125 MiB), 29.2 -> 28.0 s; 16,000 x 512 x 1,000:
  // 217 -> 204 MiB, 5.1 -> 4.9 s (chunks of ~800 rows keep the GEMMs efficient).
  const chunkBytes = options.chunkBytes ?? 16 * MiB;
  // Per chunk row: three C-vectors of intermediates (and a Float64 copy of R in the Float32
  // graph), plus the cast row when the dtypes differ.
  const chunkRows = (precision: ProbePrecision, from: FloatDType) => {
    const eb = precision === 'float32' ? 4 : 8;
    const perRow = 3 * C * eb + (precision === 'float32' ? 8 * C : 0) + (from === precision ? 0 : D * eb);
    const most = Math.max(16, Math.floor(chunkBytes / perRow));
    return Math.ceil(n / Math.ceil(n / Math.max(1, Math.min(n, most))));
  };
  type Loaded = {
    dtype: ProbePrecision;
    from: FloatDType;
    session: ModelSession;
    X: KernelArray;
    w: KernelArray;
    W: KernelArray;
    b: KernelArray;
  };
  let loaded: Loaded | undefined;
  const release = async () => {
    const l = loaded;
    loaded = undefined;
    if (l) await l.session.release();
  };
  const ensure = async (dtype: ProbePrecision): Promise<Loaded> => {
    if (loaded?.dtype === dtype) return loaded;
    await release();
    const X = dtype === 'float32' && stored === 'float64' ? Float32Array.from(rows) : rows;
    const from = dtypeOf(X);
    const w = allocate(dtype, n);
    w.set(rowWeights);
    const session = await runtime.load(probeChunkGraph(D, C, from, dtype));
    loaded = { dtype, from, session, X, w, W: allocate(dtype, C * D), b: allocate(dtype, C) };
    return loaded;
  };
  return {
    async evaluate(W, bias, precision, G, gb) {
      const l = await ensure(precision);
      const m = chunkRows(precision, l.from);
      l.W.set(W.subarray(0, C * D));
      l.b.set(bias.subarray(0, C));
      const Wt = { dtype: precision, dims: [C, D], data: l.W } as Tensor;
      const bt = { dtype: precision, dims: [C], data: l.b } as Tensor;
      G.fill(0);
      gb.fill(0);
      let loss = 0;
      for (let r0 = 0; r0 < n; r0 += m) {
        const r1 = Math.min(n, r0 + m);
        const out = await l.session.run({
          X: { dtype: l.from, dims: [r1 - r0, D], data: l.X.subarray(r0 * D, r1 * D) } as Tensor,
          w: { dtype: precision, dims: [r1 - r0, 1], data: l.w.subarray(r0, r1) } as Tensor,
          W: Wt,
          b: bt,
        });
        accumulate(G, out.G!.data as KernelArray);
        accumulate(gb, out.gb!.data as KernelArray);
        loss += Number((out.loss!.data as KernelArray)[0]);
      }
      return loss;
    },
    release,
  };
}

/** Probe sessions with the training rows as initializers (one session per part of `partBytes`). */
async function initializerProbeSession(runtime: Runtime, problem: ProbeSessionProblem, options: OnnxKernelsOptions): Promise<ProbeSession> {
  const MiB = 2 ** 20;
  const { features: X, cols: D, classes: C, rowIndex, rowWeights } = problem;
  const n = rowWeights.length;
  const bytes = n * D * X.BYTES_PER_ELEMENT;
  const partBytes = options.partBytes ?? 64 * MiB;
  const chunkBytes = options.chunkBytes ?? Math.max(16 * MiB, bytes);
  const layout = (precision: ProbePrecision) =>
    probeLayout(n, D, C, X.BYTES_PER_ELEMENT, partBytes, chunkBytes, precision === 'float32' ? 4 : 8);
  const { partRows } = layout('float64');
  type Part = { session: ModelSession; rows: number };
  let loaded: { dtype: ProbePrecision; parts: Part[] } | undefined;
  const release = async () => {
    if (loaded) await Promise.all(loaded.parts.map((s) => s.session.release()));
    loaded = undefined;
  };
  // One precision's sessions at a time (the other's are released first: one copy of X in ORT).
  const ensure = async (dtype: ProbePrecision) => {
    if (loaded?.dtype === dtype) return loaded.parts;
    await release();
    const parts: Part[] = [];
    try {
      for (let t0 = 0; t0 < n; t0 += partRows) {
        const m = Math.min(partRows, n - t0);
        const w = allocate(dtype, m);
        w.set(rowWeights.subarray(t0, t0 + m));
        const graph = probePartGraph(gatherRows(X, D, rowIndex, t0, m), m, D, C, w, dtype);
        parts.push({ session: await runtime.load(graph), rows: m });
      }
    } catch (error) {
      await Promise.all(parts.map((s) => s.session.release()));
      throw error;
    }
    loaded = { dtype, parts };
    return parts;
  };
  const feeds: Partial<Record<ProbePrecision, { W: KernelArray; b: KernelArray }>> = {};
  const start = BigInt64Array.of(0n);
  const end = BigInt64Array.of(0n);
  return {
    async evaluate(W, bias, precision, G, gb) {
      const parts = await ensure(precision);
      const { chunkRows } = layout(precision);
      const f = (feeds[precision] ??= { W: allocate(precision, C * D), b: allocate(precision, C) });
      f.W.set(W.subarray(0, C * D));
      f.b.set(bias.subarray(0, C));
      const inputs: Record<string, Tensor> = {
        W: { dtype: precision, dims: [C, D], data: f.W } as Tensor,
        b: { dtype: precision, dims: [C], data: f.b } as Tensor,
        start: { dtype: 'int64', dims: [1], data: start } as Tensor,
        end: { dtype: 'int64', dims: [1], data: end } as Tensor,
      };
      G.fill(0);
      gb.fill(0);
      let loss = 0;
      for (const { session, rows } of parts) {
        for (let r0 = 0; r0 < rows; r0 += chunkRows) {
          start[0] = BigInt(r0);
          end[0] = BigInt(Math.min(rows, r0 + chunkRows));
          const out = await session.run(inputs);
          const Gc = out.G!.data as KernelArray;
          const g = out.gb!.data as KernelArray;
          for (let j = 0; j < C * D; j++) G[j]! += Gc[j]!;
          for (let c = 0; c < C; c++) gb[c]! += g[c]!;
          loss += Number((out.loss!.data as KernelArray)[0]);
        }
      }
      return loss;
    },
    release,
  };
}

/**
 * A kernel backend over `runtime` with `probeSession` (fused probe evaluations in Float32 or
 * Float64) and `applyHeadGemm`. Register it with {@link registerOnnxKernels}.
 */
export function createOnnxKernels(runtime: Runtime, options: OnnxKernelsOptions = {}): KernelBackend {
  const MiB = 2 ** 20;
  const half = (bytes: number) => Math.max(8 * MiB, bytes / 2);
  return {
    name: options.name ?? 'onnxruntime',
    async probeSession(problem: ProbeSessionProblem): Promise<ProbeSession> {
      const mode = options.features ?? (runtime.name === 'onnxruntime-node' ? 'input' : 'initializer');
      return mode === 'input' ? inputProbeSession(runtime, problem, options) : initializerProbeSession(runtime, problem, options);
    },
    async applyHeadGemm(features, total, D, rowIndex, W, C, bias, out) {
      const dtype = dtypeOf(features);
      const n = rowIndex ? rowIndex.length : total;
      const w = allocate(dtype, C * D);
      w.set(W.subarray(0, C * D));
      const b = allocate(dtype, C);
      for (let c = 0; c < C; c++) b[c] = bias[c]!;
      const session = await runtime.load(headGraph(w, b, D, C));
      try {
        // Chunks of rows: a chunk's logits (and its gathered rows) within half the features' bytes.
        const rows = Math.max(1, Math.min(n, Math.floor(half(n * D * features.BYTES_PER_ELEMENT) / (C * 8 + D * 8))));
        for (let t0 = 0; t0 < n; t0 += rows) {
          const m = Math.min(rows, n - t0);
          const x = gatherRows(features, D, rowIndex, t0, m);
          const { Z } = await session.run({
            X: { dtype, dims: [m, D], data: x } as Tensor,
          });
          out.set(Z!.data as KernelArray, t0 * C);
        }
      } finally {
        await session.release();
      }
    },
  };
}

/** Priority of the ONNX backend (above wasm-simd's 10: it only implements the asynchronous kernels). */
export const ONNX_KERNELS_PRIORITY = 20;

/** Registers {@link createOnnxKernels}(runtime) with @gla/core; returns the backend. */
export function registerOnnxKernels(runtime: Runtime, options: OnnxKernelsOptions & { priority?: number } = {}): KernelBackend {
  const { priority, ...rest } = options;
  const backend = createOnnxKernels(runtime, rest);
  registerKernels(backend, { priority: priority ?? ONNX_KERNELS_PRIORITY });
  return backend;
}
