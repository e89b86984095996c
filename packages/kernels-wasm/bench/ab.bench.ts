// Interleaved A/B of each kernel, wasm-simd vs reference, minimum of R rounds (robust to load on a
// shared machine): node --conditions=source --import tsx bench/ab.bench.ts [N] [C] [rounds]
import { createRng, getKernelBackend } from '@gla/core';
import { readProbe } from '../src/index';

const N = Number(process.argv[2] ?? 10_000);
const C = Number(process.argv[3] ?? 1_000);
const rounds = Number(process.argv[4] ?? 7);
const rng = createRng(1);
const z = Float32Array.from({ length: N * C }, () => 2 * rng.normal());
const y = Int32Array.from({ length: N }, () => rng.int(C));
const w = Float64Array.from({ length: C }, (_, k) => Math.exp(-0.001 * k));
const names = ['wasm-simd', 'reference'];
const caches = names.map((n) => (getKernelBackend(n).allocateCache?.('float32', N, C) ?? new Float32Array(N * C)) as Float32Array);
const best: Record<string, number> = {};
const note = (k: string, t: number) => {
  best[k] = Math.min(best[k] ?? Number.POSITIVE_INFINITY, t);
};
const A = Float64Array.from({ length: 2048 * 512 }, () => rng.normal());
const B = Float64Array.from({ length: 100 * 512 }, () => rng.normal());
const out = new Float64Array(2048 * 100);
for (let r = 0; r < rounds; r++) {
  names.forEach((name, i) => {
    const b = getKernelBackend(name);
    const E = caches[i]!;
    const max = new Float64Array(N);
    const sum = new Float64Array(N);
    let t = performance.now();
    b.expShiftFill!(z, N, C, 1, E, max, sum, new Float64Array(C));
    note(`${name} fill`, performance.now() - t);
    t = performance.now();
    b.massPass!(E, N, C, w, sum, new Float64Array(C));
    note(`${name} mass`, performance.now() - t);
    t = performance.now();
    b.temperatureNll!(z, N, C, y, 0.7);
    note(`${name} nll`, performance.now() - t);
    t = performance.now();
    b.gemmABt!(A, 2048, B, 100, 512, out);
    note(`${name} gemm`, performance.now() - t);
  });
  const t = performance.now();
  readProbe(caches[0]!);
  note('read probe (wasm, in place)', performance.now() - t);
}
for (const k of ['fill', 'mass', 'nll', 'gemm'])
  console.log(
    `${k.padEnd(5)} wasm ${best[`wasm-simd ${k}`]!.toFixed(1)} ms, reference ${best[`reference ${k}`]!.toFixed(1)} ms: ${(best[`reference ${k}`]! / best[`wasm-simd ${k}`]!).toFixed(2)}x`,
  );
console.log(
  `read probe ${best['read probe (wasm, in place)']!.toFixed(1)} ms for ${((N * C * 4) / 2 ** 20).toFixed(0)} MiB; gemm wasm ${((2 * 2048 * 100 * 512) / best['wasm-simd gemm']! / 1e6).toFixed(2)} GFLOP/s`,
);
