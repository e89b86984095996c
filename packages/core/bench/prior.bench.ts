/**
 * Speed benchmark (not a test): `pnpm --filter @gla/core bench [--reps=3] [--reference-batch=N]
 * [--reference-steps=1000] [--skip-probe]`. The reference runs FULL-BATCH by default (its own
 * default, batchSize = N; ~15-20 min here); `--reference-batch=2048 --reference-steps=50` is a
 * quick smoke run.
 *
 * 1. N = 50,000 x C = 1,000 Float32 logits with a known bias log q* (groups of 10 confusable classes).
 * 2. estimatePrior (ours), median of `reps` runs.
 * 3. estimatePriorReference: the authors' Lagrangian SGD, 1000 full-batch steps (unless
 *    --reference-batch is given), lr = 1e-5 * shots / 50, with progress on stderr, on the same data in the same process; its objective and gradient are evaluated with the same exact
 *    Float64 code as ours.
 * 4. trainLinearProbe on N = 10,000 x D = 512, C = 100.
 */
import { cpus, loadavg } from 'node:os';
import { accuracy, createRng, estimatePrior, type Matrix, trainLinearProbe } from '../src/index';
import { estimatePriorReference } from '../src/reference';

const args = new Map(
  process.argv.slice(2).map((a) => {
    const [k, v] = a.replace(/^--/, '').split('=');
    return [k!, v ?? 'true'] as const;
  }),
);
const reps = Number(args.get('reps') ?? 3);
const referenceBatchArg = args.get('reference-batch');
const referenceSteps = Number(args.get('reference-steps') ?? 1000);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
/** Runs f; returns [result, wall seconds, CPU seconds of this process (user + system)]. */
const time = <T>(f: () => T): [T, number, number] => {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const r = f();
  const c = process.cpuUsage(c0);
  return [r, (performance.now() - t0) / 1000, (c.user + c.system) / 1e6];
};

function priorProblem(N: number, C: number, seed: number): { logits: Matrix; labels: Int32Array; logPrior: Float64Array } {
  const rng = createRng(seed);
  const raw = Float64Array.from({ length: C }, () => 0.7 * rng.normal());
  let m = -Infinity;
  for (const v of raw) m = Math.max(m, v);
  let s = 0;
  for (const v of raw) s += Math.exp(v - m);
  const logPrior = raw.map((v) => v - m - Math.log(s));
  const data = new Float32Array(N * C);
  const labels = new Int32Array(N);
  for (let i = 0; i < N; i++) {
    const y = i % C;
    labels[i] = y;
    const group = Math.floor(y / 10);
    const o = i * C;
    for (let k = 0; k < C; k++) data[o + k] = rng.normal() + logPrior[k]! + (k === y ? 4 : 0) + (Math.floor(k / 10) === group ? 4 : 0);
  }
  return { logits: { data, rows: N, cols: C }, labels, logPrior };
}

function probeProblem(N: number, D: number, C: number, seed: number): { features: Matrix; labels: Int32Array } {
  const rng = createRng(seed);
  const centers = Float64Array.from({ length: C * D }, () => rng.normal() / Math.sqrt(D));
  const data = new Float32Array(N * D);
  const labels = new Int32Array(N);
  for (let i = 0; i < N; i++) {
    labels[i] = i % C;
    for (let d = 0; d < D; d++) data[i * D + d] = centers[labels[i]! * D + d]! + (1.5 / Math.sqrt(D)) * rng.normal();
  }
  return { features: { data, rows: N, cols: D }, labels };
}

const fmt = (x: number, digits = 3) => (Math.abs(x) < 1e-3 && x !== 0 ? x.toExponential(2) : x.toFixed(digits));
const table = (rows: string[][]) => {
  const widths = rows[0]!.map((_, j) => Math.max(...rows.map((r) => r[j]!.length)));
  for (const r of rows) console.log(r.map((c, j) => c.padEnd(widths[j]!)).join('  '));
};

const N = 50_000;
const C = 1_000;
console.log(
  `# @gla/core benchmark (node ${process.version}, ${cpus().length} CPUs, load average ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}, reps = ${reps})`,
);
const [{ logits, labels, logPrior: truth }, buildSeconds] = time(() => priorProblem(N, C, 1));
console.log(`built ${N} x ${C} Float32 logits with a known bias in ${fmt(buildSeconds, 1)} s`);

const oursRuns = Array.from({ length: reps }, () => time(() => estimatePrior(logits, labels)));
const ours = oursRuns[0]![0];
const oursSeconds = median(oursRuns.map((r) => r[1]));
const oursCpu = median(oursRuns.map((r) => r[2]));

const shots = N / C;
// Full batch (the function's own default) unless --reference-batch is given.
const referenceBatch = Math.min(N, referenceBatchArg === undefined ? N : Number(referenceBatchArg));
console.log(`running the reference: ${referenceSteps} steps, batch ${referenceBatch}${referenceBatch === N ? ' (full batch)' : ''} ...`);
const referenceStart = performance.now();
let nextReport = 0;
const onStep = (step: number, steps: number) => {
  const elapsed = (performance.now() - referenceStart) / 1000;
  if (elapsed < nextReport && step < steps) return;
  nextReport = elapsed + 15;
  const eta = (elapsed / step) * (steps - step);
  process.stderr.write(`  reference step ${step} / ${steps}: ${fmt(elapsed, 1)} s elapsed, ~${fmt(eta, 0)} s left\n`);
};
const [reference, referenceSeconds, referenceCpu] = time(() =>
  estimatePriorReference(logits, labels, {
    steps: referenceSteps,
    ...(referenceBatchArg === undefined ? {} : { batchSize: referenceBatch }),
    shots,
    onStep,
  }),
);
const fullBatchSeconds = (referenceSeconds * N) / referenceBatch;

const maxError = (lq: Float64Array) => {
  let mean = 0;
  for (let k = 0; k < C; k++) mean += (lq[k]! - truth[k]!) / C;
  let m = 0;
  for (let k = 0; k < C; k++) m = Math.max(m, Math.abs(lq[k]! - truth[k]! - mean));
  return m;
};

console.log('\n## Prior estimation, N = 50,000 x C = 1,000 (Float32 logits)');
table([
  ['solver', 'wall (s)', 'CPU (s)', 'objective (nats)', 'max |grad|', 'passes', 'max |log q - log q*|', 'sum q (raw)'],
  [
    `estimatePrior (${ours.solver}), median of ${reps}`,
    fmt(oursSeconds),
    fmt(oursCpu),
    ours.objective.toFixed(12),
    ours.gradientNorm.toExponential(2),
    String(ours.passes),
    fmt(maxError(ours.logPrior), 4),
    '1',
  ],
  [
    `reference SGD (${referenceSteps} steps, batch ${referenceBatch}${referenceBatch === N ? ' = N' : ''}, lr ${(1e-5 * shots) / 50})`,
    fmt(referenceSeconds),
    fmt(referenceCpu),
    reference.objective.toFixed(12),
    reference.gradientNorm.toExponential(2),
    fmt(reference.passes, 1),
    fmt(maxError(reference.logPrior), 4),
    reference.rawPriorSum.toFixed(4),
  ],
]);
console.log('\n## Reference / ours');
table([
  ['', 'ours', 'reference', 'reference / ours'],
  ['wall (s)', fmt(oursSeconds), fmt(referenceSeconds), `${fmt(referenceSeconds / oursSeconds, 1)}x`],
  ['CPU (s)', fmt(oursCpu), fmt(referenceCpu), `${fmt(referenceCpu / oursCpu, 1)}x`],
  [
    'objective (nats)',
    ours.objective.toFixed(12),
    reference.objective.toFixed(12),
    `gap ${(reference.objective - ours.objective).toExponential(3)}`,
  ],
  [
    'max |grad|',
    ours.gradientNorm.toExponential(2),
    reference.gradientNorm.toExponential(2),
    `${(reference.gradientNorm / ours.gradientNorm).toExponential(1)}x`,
  ],
]);
if (referenceBatch < N)
  console.log(
    `(mini-batch ${referenceBatch}: full-batch steps would take ~${fmt(fullBatchSeconds, 0)} s wall, ~${fmt(fullBatchSeconds / oursSeconds, 0)}x ours, extrapolated)`,
  );
console.log(`our runs, wall / CPU (s): ${oursRuns.map((r) => `${fmt(r[1])} / ${fmt(r[2])}`).join(', ')}`);

if (!args.has('skip-probe')) {
  const { features, labels: y } = probeProblem(10_000, 512, 100, 2);
  const [probe, probeSeconds, probeCpu] = time(() => trainLinearProbe(features, y, { l2: 1e-3 }));
  console.log('\n## Linear probe, N = 10,000 x D = 512, C = 100 (L-BFGS, l2 = 1e-3, tolerance 1e-6)');
  table([
    ['wall (s)', 'CPU (s)', 'iterations', 'objective', 'max |grad|', 'converged', 'train accuracy', 's / iteration'],
    [
      fmt(probeSeconds),
      fmt(probeCpu),
      String(probe.iterations),
      probe.objective.toFixed(8),
      probe.gradientNorm.toExponential(2),
      String(probe.converged),
      fmt(accuracy(probe.logits(features), y)),
      fmt(probeSeconds / Math.max(1, probe.iterations)),
    ],
  ]);
}
