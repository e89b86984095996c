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
 * `X` in the graph's arithmetic: the stored rows themselves, or `Cast(Add(X, zero))` with `zero` a
 * scalar graph input (so no optimiser folds the cast into a second, converted copy of X).
 */
function featuresIn(g: GraphBuilder, stored: FloatDType, dtype: FloatDType): string {
  if (stored === dtype) return 'X';
  g.addInput('zero', stored, []);
  g.addNode('Add', ['X', 'zero'], ['Xz']);
  g.addNode('Cast', ['Xz'], ['Xc'], {
    to: dtype === 'float64' ? ONNX_DOUBLE : ONNX_FLOAT,
  });
  return 'Xc';
}

/**
 * The fused probe graph of one chunk of n rows (X n x D stored as `stored`, computed in `dtype`):
 * inputs W (C x D), b (C) [and `zero` when the dtypes differ]; with Z = X W^T + b, the row
 * log-sum-exp lse = max + log sum exp(Z - max), P = softmax(Z) and the row weights w (n x 1, an initializer):
 *   GT = X^T (w P)  (D x C),   gb = sum_rows w P  (C),   loss = sum_rows w lse  (scalar).
 * X is only ever the A operand of a Gemm (no prepacked copy of it).
 */
export function probeChunkGraph(X: KernelArray, n: number, D: number, C: number, rowWeights: KernelArray, dtype: FloatDType): Uint8Array {
  const stored = dtypeOf(X);
  const g = new GraphBuilder(`gla-probe-${dtype}`);
  g.addInput('W', dtype, [C, D]);
  g.addInput('b', dtype, [C]);
  g.addInitializer('X', stored, [n, D], X);
  g.addInitializer('w', dtype, [n, 1], rowWeights);
  g.addInitializer('axis0', 'int64', [1], BigInt64Array.of(0n));
  g.addInitializer('axis1', 'int64', [1], BigInt64Array.of(1n));
  const x = featuresIn(g, stored, dtype);
  g.addNode('Gemm', [x, 'W', 'b'], ['Z'], { transB: 1 });
  g.addNode('ReduceMax', ['Z'], ['m'], { axes: [1], keepdims: 1 });
  g.addNode('Sub', ['Z', 'm'], ['Zs']);
  g.addNode('Exp', ['Zs'], ['E']);
  g.addNode('ReduceSum', ['E', 'axis1'], ['s'], { keepdims: 1 });
  g.addNode('Log', ['s'], ['logs']);
  g.addNode('Add', ['m', 'logs'], ['lse']);
  g.addNode('Div', ['w', 's'], ['ws']);
  g.addNode('Mul', ['E', 'ws'], ['R']);
  g.addNode('Gemm', [x, 'R'], ['GT'], { transA: 1 });
  g.addNode('ReduceSum', ['R', 'axis0'], ['gb'], { keepdims: 0 });
  g.addNode('Mul', ['w', 'lse'], ['wl']);
  g.addNode('ReduceSum', ['wl'], ['loss'], { keepdims: 0 });
  g.addOutput('GT', dtype, [D, C]);
  g.addOutput('gb', dtype, [C]);
  g.addOutput('loss', dtype, []);
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

/**
 * Rows per chunk: the chunk's n x C intermediates (logits, exp, residuals; about 4 n C numbers)
 * stay within `budgetBytes`, at least 64 rows; then balanced over the chunk count.
 */
export function probeChunkRows(n: number, D: number, C: number, budgetBytes: number): number {
  const perRow = 4 * C * 8 + D * 8;
  const rows = Math.max(64, Math.floor(budgetBytes / perRow));
  const chunks = Math.ceil(n / Math.min(n, rows));
  return Math.ceil(n / chunks);
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

/** Options of {@link createOnnxKernels}. */
export interface OnnxKernelsOptions {
  /** Backend name reported in results (default 'onnxruntime'). */
  name?: string;
  /**
   * Bytes of per-chunk intermediates (default: a quarter of the training rows' feature bytes,
   * within [4 MiB, 256 MiB]); the feature copy inside onnxruntime is 1x the training rows.
   */
  chunkBytes?: number;
}

/**
 * A kernel backend over `runtime` with `probeSession` (fused probe evaluations in Float32 or
 * Float64) and `applyHeadGemm`. Register it with {@link registerOnnxKernels}.
 */
export function createOnnxKernels(runtime: Runtime, options: OnnxKernelsOptions = {}): KernelBackend {
  const chunkBudget = (n: number, D: number, elementBytes: number) =>
    options.chunkBytes ?? Math.min(256 * 2 ** 20, Math.max(4 * 2 ** 20, (n * D * elementBytes) / 4));
  return {
    name: options.name ?? 'onnxruntime',
    async probeSession(problem: ProbeSessionProblem): Promise<ProbeSession> {
      const { features: X, cols: D, classes: C, rowIndex, rowWeights } = problem;
      const n = rowWeights.length;
      const rows = probeChunkRows(n, D, C, chunkBudget(n, D, X.BYTES_PER_ELEMENT));
      let loaded:
        | {
            dtype: ProbePrecision;
            sessions: { session: ModelSession; rows: number }[];
          }
        | undefined;
      const release = async () => {
        if (loaded) await Promise.all(loaded.sessions.map((s) => s.session.release()));
        loaded = undefined;
      };
      // One precision's sessions at a time (the other's are released first: one copy of X in ORT).
      const ensure = async (dtype: ProbePrecision) => {
        if (loaded?.dtype === dtype) return loaded.sessions;
        await release();
        const sessions: { session: ModelSession; rows: number }[] = [];
        try {
          for (let t0 = 0; t0 < n; t0 += rows) {
            const m = Math.min(rows, n - t0);
            const w = allocate(dtype, m);
            w.set(rowWeights.subarray(t0, t0 + m));
            const bytes = probeChunkGraph(gatherRows(X, D, rowIndex, t0, m), m, D, C, w, dtype);
            sessions.push({ session: await runtime.load(bytes), rows: m });
          }
        } catch (error) {
          await Promise.all(sessions.map((s) => s.session.release()));
          throw error;
        }
        loaded = { dtype, sessions };
        return sessions;
      };
      const feeds: Partial<Record<ProbePrecision, { W: KernelArray; b: KernelArray }>> = {};
      const zero: Tensor = {
        dtype: dtypeOf(X),
        dims: [],
        data: allocate(dtypeOf(X), 1),
      } as Tensor;
      return {
        async evaluate(W, bias, precision, G, gb) {
          const sessions = await ensure(precision);
          const f = (feeds[precision] ??= {
            W: allocate(precision, C * D),
            b: allocate(precision, C),
          });
          f.W.set(W.subarray(0, C * D));
          f.b.set(bias.subarray(0, C));
          const inputs: Record<string, Tensor> = {
            W: { dtype: precision, dims: [C, D], data: f.W } as Tensor,
            b: { dtype: precision, dims: [C], data: f.b } as Tensor,
          };
          if (precision !== dtypeOf(X)) inputs.zero = zero;
          G.fill(0);
          gb.fill(0);
          let loss = 0;
          for (const { session } of sessions) {
            const out = await session.run(inputs);
            const GT = out.GT!.data as KernelArray;
            const g = out.gb!.data as KernelArray;
            for (let d = 0; d < D; d++) {
              const o = d * C;
              for (let c = 0; c < C; c++) G[c * D + d]! += GT[o + c]!;
            }
            for (let c = 0; c < C; c++) gb[c]! += g[c]!;
            loss += Number((out.loss!.data as KernelArray)[0]);
          }
          return loss;
        },
        release,
      };
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
        // Chunks of rows: the Float32 output of a chunk is at most ~a quarter of the budget.
        const rows = Math.max(1, Math.min(n, Math.floor(chunkBudget(n, D, features.BYTES_PER_ELEMENT) / (C * 8))));
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
