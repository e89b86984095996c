// Peak RSS growth of trainLinearProbeAsync on onnxruntime-node (and optionally scikit-learn's
// lbfgs LogisticRegression on the same rows) for an N x 512 x C synthetic problem, sampled every
// 2 ms, against the inputs' bytes. A measurement, not a test:
//   node --conditions=source --import tsx scripts/probe-memory.mts [N=16000] [C=1000] [--sklearn]
import { execFileSync } from 'node:child_process';
import { createRng, trainLinearProbeAsync } from '@gla/core';
import { createNodeRuntime } from '@gla/onnx-node';
import { registerOnnxKernels } from '../src/index';

process.env.ORT_DISABLE_TELEMETRY = '1';
const args = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const N = Number(args[0] ?? 16000);
const C = Number(args[1] ?? 1000);
const D = 512;
const MiB = (b: number) => (b / 2 ** 20).toFixed(1);
const rng = createRng(1);
const means = Float64Array.from({ length: C * D }, () => rng.normal());
const data = new Float32Array(N * D);
const y = new Int32Array(N);
for (let i = 0; i < N; i++) {
  y[i] = i % C;
  for (let d = 0; d < D; d++) data[i * D + d] = (0.5 * means[(i % C) * D + d]! + rng.normal()) / Math.sqrt(D);
}
registerOnnxKernels(createNodeRuntime({ threads: 2 }));
await trainLinearProbeAsync({ data: new Float32Array([1, 0, 0, 1]), rows: 2, cols: 2 }, Int32Array.of(0, 1), { l2: 1e-2 });
const before = process.memoryUsage.rss();
let peak = before;
const timer = setInterval(() => {
  peak = Math.max(peak, process.memoryUsage.rss());
}, 2);
const t0 = performance.now();
// scikit-learn's stopping rule (tol 1e-4 on the sum objective, SciPy's ftol), l2 = 1 / N (C = 1).
const probe = await trainLinearProbeAsync({ data, rows: N, cols: D }, y, {
  l2: 1 / N,
  tolerance: 1e-4 / N,
  relativeDecrease: 1e7 * 2 ** -52,
  maxIterations: 1000,
  classes: C,
});
clearInterval(timer);
peak = Math.max(peak, process.memoryUsage.rss());
const inputs = data.byteLength + y.byteLength;
console.log(
  `ours ${N} x ${D} x ${C}: ${((performance.now() - t0) / 1000).toFixed(2)} s, ${probe.iterations} iterations (${probe.backend}); peak RSS growth ${MiB(peak - before)} MiB = ${((peak - before) / inputs).toFixed(2)}x the inputs (${MiB(inputs)} MiB); L-BFGS pairs alone: ${MiB(2 * 10 * (C * D + C) * 4)} MiB (Float32)`,
);
if (process.argv.includes('--sklearn')) {
  const py = `
import resource, time, numpy as np
from sklearn.linear_model import LogisticRegression
N, D, C = ${N}, ${D}, ${C}
# the same kind of problem (NumPy's generator: not the same numbers)
rng = np.random.default_rng(1)
means = rng.standard_normal((C, D)); y = np.arange(N) % C
X = ((0.5 * means[y] + rng.standard_normal((N, D))) / np.sqrt(D)).astype(np.float32)
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
t = time.time(); m = LogisticRegression(C=1.0, tol=1e-4, max_iter=1000).fit(X, y)
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(f"scikit-learn {N} x {D} x {C}: {time.time() - t:.2f} s, {m.n_iter_[0]} iterations; peak RSS growth {(after - before) / 2**20:.1f} MiB = {(after - before) / (X.nbytes + y.nbytes):.2f}x the inputs")
`;
  process.stdout.write(execFileSync('/usr/bin/python3', ['-c', py], { encoding: 'utf8' }));
}
