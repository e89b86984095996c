/**
 * @gla/kernels-onnx: the linear probe's GEMMs on onnxruntime (MLAS) through a @gla/runtime adapter
 * (@gla/onnx-node or @gla/onnx-web). The feature matrix is a constant (initializer) of two small
 * graphs built with @gla/onnx-builder, so it is copied into the session once per training run, not
 * per evaluation. Products are Float32 (MLAS SGEMM); the probe's softmax, residuals and L-BFGS stay
 * in Float64 in @gla/core.
 */
import { type KernelArray, type KernelBackend, type ProbeGemmSession, registerKernels } from '@gla/core';
import { GraphBuilder } from '@gla/onnx-builder';
import type { Runtime } from '@gla/runtime';

/** The two graphs of a probe session: Z = X W^T (Gemm transB) and G = R^T X (Gemm transA). */
export function probeGraphs(X: Float32Array, N: number, D: number, C: number): { logits: Uint8Array; gradient: Uint8Array } {
  const a = new GraphBuilder('gla-probe-logits');
  a.addInput('W', 'float32', [C, D]);
  a.addInitializer('X', 'float32', [N, D], X);
  a.addNode('Gemm', ['X', 'W'], ['Z'], { transB: 1 });
  a.addOutput('Z', 'float32', [N, C]);
  const b = new GraphBuilder('gla-probe-gradient');
  b.addInput('R', 'float32', [N, C]);
  b.addInitializer('X', 'float32', [N, D], X);
  b.addNode('Gemm', ['R', 'X'], ['G'], { transA: 1 });
  b.addOutput('G', 'float32', [C, D]);
  return { logits: a.toBytes(), gradient: b.toBytes() };
}

/**
 * A kernel backend with `probeGemmSession` over `runtime` (sessions are created per training run,
 * for its classes C, on the first call). Register it with {@link registerOnnxKernels}.
 */
export function createOnnxKernels(runtime: Runtime, name = 'onnxruntime'): KernelBackend {
  return {
    name,
    async probeGemmSession(features: KernelArray, rows: number, cols: number): Promise<ProbeGemmSession> {
      const X = features instanceof Float32Array ? features : Float32Array.from(features);
      let classes = -1;
      let sessions: { logits: Awaited<ReturnType<Runtime['load']>>; gradient: Awaited<ReturnType<Runtime['load']>> } | undefined;
      const ensure = async (C: number) => {
        if (sessions && classes === C) return sessions;
        if (sessions) await Promise.all([sessions.logits.release(), sessions.gradient.release()]);
        const g = probeGraphs(X, rows, cols, C);
        sessions = { logits: await runtime.load(g.logits), gradient: await runtime.load(g.gradient) };
        classes = C;
        return sessions;
      };
      const W32 = new Float32Array(0);
      let w = W32;
      let r = W32;
      return {
        async logits(W, C, out) {
          const s = await ensure(C);
          if (w.length !== C * cols) w = new Float32Array(C * cols);
          w.set(W.subarray(0, C * cols));
          const { Z } = await s.logits.run({ W: { dtype: 'float32', dims: [C, cols], data: w } });
          out.set(Z!.data as Float32Array);
        },
        async gradient(R, C, out) {
          const s = await ensure(C);
          if (r.length !== rows * C) r = new Float32Array(rows * C);
          r.set(R.subarray(0, rows * C));
          const { G } = await s.gradient.run({ R: { dtype: 'float32', dims: [rows, C], data: r } });
          out.set(G!.data as Float32Array);
        },
        async release() {
          if (sessions) await Promise.all([sessions.logits.release(), sessions.gradient.release()]);
          sessions = undefined;
        },
      };
    },
  };
}

/** Priority of the ONNX backend (above wasm-simd's 10: it only implements probeGemmSession). */
export const ONNX_KERNELS_PRIORITY = 20;

/** Registers {@link createOnnxKernels}(runtime) with @gla/core; returns the backend. */
export function registerOnnxKernels(runtime: Runtime, options: { name?: string; priority?: number } = {}): KernelBackend {
  const backend = createOnnxKernels(runtime, options.name);
  registerKernels(backend, { priority: options.priority ?? ONNX_KERNELS_PRIORITY });
  return backend;
}
