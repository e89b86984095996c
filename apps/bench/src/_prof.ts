import { createRng } from './core';
import { fitProbe } from './probe';
import { normalizeRows } from './dataset';
const rng = createRng(1);
for (const [N, D, C] of [[440, 512, 22], [7000, 512, 22]] as const) {
  const means = Float64Array.from({ length: C * D }, () => rng.normal());
  const data = new Float64Array(N * D);
  const y = new Int32Array(N);
  for (let i = 0; i < N; i++) { y[i] = rng.int(C); for (let j = 0; j < D; j++) data[i * D + j] = 0.1 * means[y[i]! * D + j]! + rng.normal(); }
  const x = normalizeRows({ data, rows: N, cols: D });
  for (const l2 of [1e-2, 1e-3, 1e-4]) {
    const t0 = performance.now();
    const h = fitProbe(x, y, C, l2);
    console.log(N, l2, ((performance.now() - t0) / 1000).toFixed(2), 's');
  }
}
