/**
 * @gla/kernels-wasm: WebAssembly SIMD kernels for @gla/core (exp-shift fill, fused softmax-mass
 * passes, sparse-Hessian selection, row log-sum-exp, temperature-NLL and two-term ensemble-NLL
 * passes, Float64 GEMM, and fused linear-probe evaluations whose second half of the rows runs in a
 * worker: Web Worker or worker_threads).
 * Importing the package registers the backend as 'wasm-simd' (priority 10, above the reference
 * TypeScript kernels) where WebAssembly SIMD128 is available; nothing happens elsewhere.
 */
import { registerKernels } from '@gla/core';
import { createWasmKernels } from './backend';

export { createWasmKernels, readProbe, wasmUnavailableReason } from './backend';
export { probeWorkerSessions } from './probe-worker';
export { setWasmThreads } from './threads';

/** Priority with which the backend registers (the reference backend has 0). */
export const WASM_KERNELS_PRIORITY = 10;

/** The registered backend, or undefined where WebAssembly SIMD is unavailable. */
export const wasmKernels = createWasmKernels();
if (wasmKernels) registerKernels(wasmKernels, { priority: WASM_KERNELS_PRIORITY });
