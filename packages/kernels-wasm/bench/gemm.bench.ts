// wasm-simd vs reference Float64 GEMM (the probe's 7,045 x 512 x 22 shape): node --conditions=source --import tsx bench/gemm.bench.ts
import { getKernelBackend } from '@gla/core';
import '../src/index';

const [m, n, k] = [7045, 22, 512];
const A = Float64Array.from({ length: m * k }, (_, i) => Math.sin(i));
const B = Float64Array.from({ length: n * k }, (_, i) => Math.cos(i));
const out = new Float64Array(m * n);
for (const name of ['reference', 'wasm-simd']) {
  const b = getKernelBackend(name);
  for (let r = 0; r < 3; r++) {
    const t0 = performance.now();
    for (let j = 0; j < 5; j++) b.gemmABt!(A, m, B, n, k, out);
    const t = (performance.now() - t0) / 5;
    console.log(name, t.toFixed(1), 'ms', ((2 * m * n * k) / t / 1e6).toFixed(2), 'GFLOP/s');
  }
}
