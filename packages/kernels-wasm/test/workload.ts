import { createRng, estimatePrior, trainLinearProbe } from '@gla/core';

/** The same prior and probe problems in Node and in the browser (seeded), timed (median of 3). */
export function runWorkload() {
  const rng = createRng(11);
  const N = 20_000;
  const C = 1_000;
  const z = new Float32Array(N * C);
  const y = new Int32Array(N);
  for (let i = 0; i < N; i++) {
    y[i] = rng.int(C);
    for (let c = 0; c < C; c++) z[i * C + c] = 1.5 * rng.normal() - 1.2 * Math.log(1 + c);
    z[i * C + y[i]!]! += 4;
  }
  const Np = 3_000;
  const D = 512;
  const Cp = 50;
  const means = Float64Array.from({ length: Cp * D }, () => rng.normal());
  const x = new Float32Array(Np * D);
  const yp = new Int32Array(Np);
  for (let i = 0; i < Np; i++) {
    yp[i] = i % Cp;
    for (let d = 0; d < D; d++) x[i * D + d] = (0.08 * means[yp[i]! * D + d]! + rng.normal()) / Math.sqrt(D);
  }
  const median = (t: number[]) => [...t].sort((a, b) => a - b)[1]!;
  const priorTimes: number[] = [];
  const probeTimes: number[] = [];
  let prior: ReturnType<typeof estimatePrior> | undefined;
  let probe: ReturnType<typeof trainLinearProbe> | undefined;
  for (let r = 0; r < 3; r++) {
    const t0 = performance.now();
    prior = estimatePrior({ data: z, rows: N, cols: C }, y, { cachePrecision: 'float32' });
    priorTimes.push(performance.now() - t0);
    const t1 = performance.now();
    probe = trainLinearProbe({ data: x, rows: Np, cols: D }, yp, { l2: 1e-3, maxIterations: 40 });
    probeTimes.push(performance.now() - t1);
  }
  return {
    priorMs: median(priorTimes),
    probeMs: median(probeTimes),
    prior: { backend: prior!.backend, objective: prior!.objective, passes: prior!.passes, gradientNorm: prior!.gradientNorm },
    probe: { backend: probe!.backend, objective: probe!.objective, iterations: probe!.iterations },
  };
}
