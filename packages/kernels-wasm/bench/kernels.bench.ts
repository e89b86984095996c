// Per-kernel timings of every registered backend on N x C Float32 logits, next to a memory-read
// probe measured in the same run: node --conditions=source --import tsx bench/kernels.bench.ts [N] [C] [reps]
import { calibrateTemperature, createRng, estimatePrior, getKernelBackend, type KernelBackend, kernelBackends } from '@gla/core';
import '../src/index';

const N = Number(process.argv[2] ?? 50_000);
const C = Number(process.argv[3] ?? 1_000);
const reps = Number(process.argv[4] ?? 3);
const rng = createRng(7);
const z = new Float32Array(N * C);
const y = new Int32Array(N);
for (let i = 0; i < N; i++) {
  y[i] = rng.int(C);
  for (let c = 0; c < C; c++) z[i * C + c] = 1.5 * rng.normal() - 1.2 * Math.log(1 + c);
  z[i * C + y[i]!]! += 4;
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const time = (f: () => void) => {
  const t: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    f();
    t.push(performance.now() - t0);
  }
  return median(t);
};
// Memory-read probe: sum of the N x C Float32 array (4 partial sums).
const read = time(() => {
  let a = 0;
  let b = 0;
  for (let i = 0; i < z.length; i += 2) {
    a += z[i]!;
    b += z[i + 1]!;
  }
  if (a + b === 0.5) console.log('');
});
console.log(`N = ${N}, C = ${C}: read probe (JS sum of ${(z.byteLength / 2 ** 20).toFixed(0)} MiB) ${read.toFixed(1)} ms`);
const w = Float64Array.from({ length: C }, (_, k) => Math.exp(-0.001 * k));
for (const { name } of kernelBackends()) {
  const b: KernelBackend = getKernelBackend(name);
  const E = (b.allocateCache?.('float32', N, C) ?? new Float32Array(N * C)) as Float32Array;
  const rowMax = new Float64Array(N);
  const rowSum = new Float64Array(N);
  const fill = time(() => b.expShiftFill!(z, N, C, 1, E, rowMax, rowSum, new Float64Array(C)));
  const pass = time(() => b.massPass!(E, N, C, w, rowSum, new Float64Array(C)));
  const passSq = time(() => b.massPass!(E, N, C, w, rowSum, new Float64Array(C), new Float64Array(C)));
  const cut = rowSum.map((s) => s * 2e-3);
  const index = new Int32Array(1 << 20);
  const offsets = new Int32Array(N + 1);
  const select = time(() => {
    let start = 0;
    while (start < N) start += b.selectAbove!(E, start, N, C, w, cut, index, offsets);
  });
  const nll = time(() => b.temperatureNll!(z, N, C, y, 0.8));
  const prior = time(() => estimatePrior({ data: z, rows: N, cols: C }, y, { tolerance: 1e-9, backend: name }));
  const r = estimatePrior({ data: z, rows: N, cols: C }, y, { tolerance: 1e-9, backend: name });
  const temp = time(() => calibrateTemperature({ data: z, rows: N, cols: C }, y, { backend: name }));
  console.log(
    `${name.padEnd(10)} fill ${fill.toFixed(0)} ms | mass pass ${pass.toFixed(1)} ms (+squares ${passSq.toFixed(1)}) | select ${select.toFixed(1)} ms | NLL pass ${nll.toFixed(0)} ms | estimatePrior ${prior.toFixed(0)} ms (${r.passes} passes, |g| ${r.gradientNorm.toExponential(2)}, obj ${r.objective.toPrecision(13)}) | calibrateTemperature ${temp.toFixed(0)} ms`,
  );
}
