import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  accuracy,
  calibrateTemperature,
  createRng,
  estimatePrior,
  kernelBackends,
  type Matrix,
  l2Normalize as normalizeRows,
  takeLabels,
  takeRows,
  trainLinearProbe,
  trainLinearProbeAsync,
} from '@gla/core';
import { estimatePriorReference } from '@gla/core/reference';
import { shuffledByClass } from '@gla/datasets';
import { registerOnnxKernels } from '@gla/kernels-onnx';
import { readProbe, wasmKernels } from '@gla/kernels-wasm';
import { createNodeRuntime } from '@gla/onnx-node';
import { flag, type OptionSpecs, type OptionValue, optionalString } from '../args';
import { writeAtomic } from '../atomic';
import { fortuneFeatures, loadOnnxEncoder, loadTfjsEncoder } from '../embed';
import { CliError } from '../errors';
import { FORTUNES_MAIN, loadFortuneTexts } from '../fortunes';
import { median } from '../linalg';
import { writeLabels, writeMatrix } from '../npyio';
import { benchRoot, defaultOutDir, userPath } from '../paths';
import { log } from '../progress';

type Options = Record<string, OptionValue>;

export const SPEED_OPTIONS: OptionSpecs = {
  quick: { type: 'flag', description: 'small sizes (5,000 x 100 logits, 200 texts) for a fast check' },
  out: { type: 'string', value: 'DIR', description: 'write speed.json and speed.md here (default results/ at the repo root)' },
  only: {
    type: 'string',
    value: 'prior,temperature,probe,probe-large,encode',
    description: 'run only these benchmarks',
    default: 'prior,temperature,probe,probe-large,encode',
  },
  reference: {
    type: 'flag',
    description: "run the authors' full-batch SGD reference for the prior (~15 min; --no-reference skips it)",
    default: true,
  },
  python: {
    type: 'string',
    value: 'PATH',
    description: 'python3 with numpy/scipy/scikit-learn (default: $GLA_PYTHON, /usr/bin/python3, python3)',
  },
};

export interface SpeedRow {
  benchmark: string;
  ours: string;
  baseline: string;
  oursSeconds: number;
  baselineSeconds: number | null;
  /** baseline time / our time (> 1: we are faster). */
  speedup: number | null;
  notes: string;
}

function run(cmd: string, args: string[], timeoutMs = 600_000): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: timeoutMs, maxBuffer: 16 << 20 }, (error, stdout, stderr) => {
      if (error) reject(Object.assign(error, { stderr }));
      else resolve({ stdout, stderr });
    });
  });
}

/** Finds a python3 that imports the given modules, or undefined. */
export async function findPython(modules: string[], preferred?: string): Promise<string | undefined> {
  const candidates = [preferred, process.env.GLA_PYTHON, '/usr/bin/python3', 'python3'].filter((c): c is string => Boolean(c));
  for (const c of candidates) {
    try {
      await run(c, ['-c', `import ${modules.join(', ')}`], 60_000);
      return c;
    } catch {
      // try the next one
    }
  }
  return undefined;
}

/** Synthetic zero-shot logits with a known label bias: N x C float32, labels uniform. */
export function syntheticLogits(N: number, C: number, seed: number): { logits: Matrix; labels: Int32Array } {
  const rng = createRng(seed);
  const bias = new Float64Array(C);
  for (let c = 0; c < C; c++) bias[c] = -1.2 * Math.log(1 + c) + 0.3 * rng.normal();
  const data = new Float32Array(N * C);
  const labels = new Int32Array(N);
  for (let i = 0; i < N; i++) {
    const y = rng.int(C);
    labels[i] = y;
    const o = i * C;
    for (let c = 0; c < C; c++) data[o + c] = 1.5 * rng.normal() + bias[c]!;
    data[o + y]! += 4;
  }
  return { logits: { data, rows: N, cols: C }, labels };
}

function fmtS(s: number | null): string {
  return s === null ? 'n/a' : s < 0.01 ? `${(s * 1000).toFixed(2)} ms` : `${s.toFixed(2)} s`;
}

/** Median wall time (s) of `reps` calls, and the last result. */
function timed<T>(reps: number, f: () => T): { seconds: number; all: number[]; result: T } {
  const all: number[] = [];
  let result: T | undefined;
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    result = f();
    all.push((performance.now() - t0) / 1000);
  }
  return { seconds: median(all), all, result: result as T };
}

/**
 * Peak RSS growth (bytes) over the RSS before an asynchronous `f`, sampled every 2 ms while it runs
 * (the event loop is free while onnxruntime computes), and its wall time (s).
 */
async function sampledGrowth<T>(f: () => Promise<T>): Promise<{ bytes: number; seconds: number; result: T }> {
  const before = process.memoryUsage.rss();
  let peak = before;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, 2);
  const t0 = performance.now();
  try {
    const result = await f();
    const seconds = (performance.now() - t0) / 1000;
    peak = Math.max(peak, process.memoryUsage.rss());
    return { bytes: peak - before, seconds, result };
  } finally {
    clearInterval(timer);
  }
}

/** Peak-RSS growth (bytes) while `f` runs (lower bound of its extra memory: maxRSS only grows). */
function peakGrowth<T>(f: () => T): { bytes: number; result: T } {
  const before = process.resourceUsage().maxRSS * 1024;
  const result = f();
  return { bytes: process.resourceUsage().maxRSS * 1024 - before, result };
}

const MiB = (b: number) => `${(b / 2 ** 20).toFixed(0)} MiB`;
const rel = (a: number, b: number) => Math.abs(a - b) / Math.max(Math.abs(b), 1e-300);

async function priorBenchmark(
  quick: boolean,
  withReference: boolean,
  python: string | undefined,
  tmp: string,
  rowsOut: SpeedRow[],
): Promise<void> {
  const N = quick ? 5_000 : 50_000;
  const C = quick ? 100 : 1_000;
  const size = `${N.toLocaleString('en-US')} x ${C.toLocaleString('en-US')}`;
  log(`prior: generating ${size} synthetic logits`);
  const { logits, labels } = syntheticLogits(N, C, 7);
  const tolerance = 1e-9;
  // Memory first, in a process whose peak so far is below it: one extra N x C buffer (the exp cache).
  const mem = peakGrowth(() => timed(1, () => estimatePrior(logits, labels, { tolerance })));
  const cold = mem.result.seconds; // the first call also maps the cache's memory (page faults)
  const ours = timed(5, () => estimatePrior(logits, labels, { tolerance }));
  const est = ours.result;
  log(
    `prior: ours (${est.backend}) ${ours.all.map((t) => t.toFixed(2)).join(' / ')} s, ${est.passes} passes (${est.solver}), |g| ${est.gradientNorm.toExponential(2)}`,
  );
  const ts = timed(1, () => estimatePrior(logits, labels, { tolerance, backend: 'reference' }));
  log(`prior: ours (reference TypeScript kernels) ${ts.seconds.toFixed(2)} s, ${ts.result.passes} passes (${ts.result.solver})`);
  // Per-kernel times and the read probe on the same cache buffer.
  let perPass = '';
  if (wasmKernels) {
    const E = wasmKernels.allocateCache('float32', N, C) as Float32Array;
    const max = new Float64Array(N);
    const sums = new Float64Array(N);
    const fill = timed(3, () => wasmKernels!.expShiftFill!(logits.data, N, C, 1, E, max, sums, new Float64Array(C)));
    const w = new Float64Array(C).fill(1);
    const pass = timed(5, () => wasmKernels!.massPass!(E, N, C, w, sums, new Float64Array(C), new Float64Array(C)));
    const read = timed(5, () => readProbe(E));
    wasmKernels.releaseCache(E);
    const budget = fill.seconds + est.passes * read.seconds;
    perPass = `; wasm kernels: exp fill ${fmtS(fill.seconds)}, one mass pass ${fmtS(pass.seconds)} vs read probe ${fmtS(read.seconds)} (${((N * C * 4) / read.seconds / 1e9).toFixed(1)} GB/s); fill + ${est.passes} x read = ${fmtS(budget)}, ours = ${(ours.seconds / budget).toFixed(2)}x that`;
  }
  const common = `ours median of ${ours.all.length} (first call in the process ${fmtS(cold)}), ${est.passes} passes (${est.solver}, ${est.backend}), max-abs gradient ${est.gradientNorm.toExponential(2)}; TypeScript kernels ${fmtS(ts.seconds)} (${ts.result.passes} passes, ${ts.result.solver}); peak RSS growth ${MiB(mem.bytes)} vs one N x C Float32 buffer ${MiB(N * C * 4)}${perPass}`;
  if (python) {
    const zPath = join(tmp, 'Z.npy');
    const yPath = join(tmp, 'Y.npy');
    await writeMatrix(zPath, logits, 'float32');
    await writeLabels(yPath, labels);
    const { stdout } = await run(python, [join(benchRoot(), 'python', 'scipy_prior.py'), zPath, yPath, '1', '0', String(tolerance)]);
    const sp = JSON.parse(stdout.trim().split('\n').pop()!) as {
      seconds: number;
      objective: number;
      gradient_norm: number;
      iterations: number;
      evaluations: number;
    };
    log(`prior: scipy ${sp.seconds.toFixed(2)} s, ${sp.evaluations} evaluations, |g| ${sp.gradient_norm.toExponential(2)}`);
    rowsOut.push({
      benchmark: `prior estimation, ${size} logits, tolerance ${tolerance}`,
      ours: `estimatePrior (${est.backend})`,
      baseline: `SciPy L-BFGS-B (numpy, exp cached outside the timing; ${sp.evaluations} evaluations)`,
      oursSeconds: ours.seconds,
      baselineSeconds: sp.seconds,
      speedup: sp.seconds / ours.seconds,
      notes: `objective ours ${est.objective.toPrecision(13)} vs scipy ${sp.objective.toPrecision(13)} (relative ${rel(est.objective, sp.objective).toExponential(1)}); scipy max-abs gradient ${sp.gradient_norm.toExponential(2)}; SciPy / TypeScript kernels ${(sp.seconds / ts.seconds).toFixed(2)}x; ${common}`,
    });
  } else {
    rowsOut.push({
      benchmark: `prior estimation, ${size} logits`,
      ours: `estimatePrior (${est.backend})`,
      baseline: 'SciPy L-BFGS-B',
      oursSeconds: ours.seconds,
      baselineSeconds: null,
      speedup: null,
      notes: `skipped: no python3 with numpy + scipy found; ${common}`,
    });
  }
  if (!withReference) return;
  const t1 = performance.now();
  const ref = estimatePriorReference(logits, labels, { temperature: 1, steps: 1000 });
  const refSeconds = (performance.now() - t1) / 1000;
  log(`prior: reference SGD ${refSeconds.toFixed(2)}s, objective ${ref.objective}, sum q = ${ref.rawPriorSum.toFixed(4)}`);
  rowsOut.push({
    benchmark: `prior estimation, ${size} logits`,
    ours: `estimatePrior (${est.solver}, ${est.passes} passes, grad ${est.gradientNorm.toExponential(1)})`,
    baseline: 'reference: Lagrangian plain SGD, 1000 full-batch steps',
    oursSeconds: ours.seconds,
    baselineSeconds: refSeconds,
    speedup: refSeconds / ours.seconds,
    notes: `objective ours ${est.objective.toFixed(6)} vs reference ${ref.objective.toFixed(6)} nats; max-abs gradient ours ${est.gradientNorm.toExponential(1)} vs reference ${ref.gradientNorm.toExponential(1)}; reference sum q before normalising = ${ref.rawPriorSum.toFixed(3)}`,
  });
}

async function temperatureBenchmark(quick: boolean, python: string | undefined, tmp: string, rowsOut: SpeedRow[]): Promise<void> {
  const N = quick ? 5_000 : 50_000;
  const C = quick ? 100 : 1_000;
  const size = `${N.toLocaleString('en-US')} x ${C.toLocaleString('en-US')}`;
  const { logits, labels } = syntheticLogits(N, C, 9);
  const ours = timed(3, () => calibrateTemperature(logits, labels, { method: 'nll' }));
  const ts = timed(1, () => calibrateTemperature(logits, labels, { method: 'nll', backend: 'reference' }));
  log(`temperature: ours ${ours.seconds.toFixed(2)} s (T = ${ours.result}), TypeScript kernels ${ts.seconds.toFixed(2)} s`);
  const backend = kernelBackends().find((b) => b.kernels.includes('temperatureNll'))!.name;
  const notes = `ours T = ${ours.result.toPrecision(12)} (${backend}); TypeScript kernels ${fmtS(ts.seconds)}, T = ${ts.result.toPrecision(12)}`;
  if (!python) {
    rowsOut.push({
      benchmark: `temperature (NLL), ${size}`,
      ours: 'calibrateTemperature',
      baseline: 'SciPy',
      oursSeconds: ours.seconds,
      baselineSeconds: null,
      speedup: null,
      notes: `skipped: no python3; ${notes}`,
    });
    return;
  }
  const zPath = join(tmp, 'Zt.npy');
  const yPath = join(tmp, 'Yt.npy');
  await writeMatrix(zPath, logits, 'float32');
  await writeLabels(yPath, labels);
  const { stdout } = await run(python, [join(benchRoot(), 'python', 'scipy_temperature.py'), zPath, yPath]);
  const sp = JSON.parse(stdout.trim().split('\n').pop()!) as { seconds: number; temperature: number; evaluations: number };
  rowsOut.push({
    benchmark: `temperature scaling (NLL), ${size} logits`,
    ours: `calibrateTemperature('nll', ${backend})`,
    baseline: `SciPy minimize_scalar (Brent, xtol 1e-10; ${sp.evaluations} NLL evaluations)`,
    oursSeconds: ours.seconds,
    baselineSeconds: sp.seconds,
    speedup: sp.seconds / ours.seconds,
    notes: `${notes}; scipy T = ${sp.temperature.toPrecision(12)} (relative difference ${rel(ours.result, sp.temperature).toExponential(1)}); SciPy / TypeScript kernels ${(sp.seconds / ts.seconds).toFixed(2)}x`,
  });
}

interface ProbeData {
  xTrain: Matrix;
  yTrain: Int32Array;
  xTest: Matrix;
  yTest: Int32Array;
  C: number;
  source: string;
}

async function fortunesProbeData(quick: boolean): Promise<ProbeData> {
  let x: Matrix;
  let y: Int32Array;
  let C: number;
  let source: string;
  try {
    const encoder = await loadOnnxEncoder();
    try {
      const { dataset } = await fortuneFeatures(FORTUNES_MAIN, encoder);
      x = normalizeRows(dataset.features);
      y = dataset.labels;
      C = dataset.classNames.length;
      source = 'fortunes USE-lite features';
    } finally {
      await encoder.release();
    }
  } catch (error) {
    log(`probe: fortunes features unavailable (${(error as Error).message}); using synthetic features`);
    const g = gaussianProbeData(8000, 512, 22, 3, 0.15);
    x = g.x;
    y = g.y;
    C = 22;
    source = 'synthetic Gaussian features';
  }
  const byClass = shuffledByClass(y, C, 1);
  const test = Int32Array.from(byClass.flatMap((m) => m.slice(0, 25)));
  // --quick: at most 60 training examples per class (all classes present)
  const train = Int32Array.from(byClass.flatMap((m) => (quick ? m.slice(25, 85) : m.slice(25))));
  return { xTrain: takeRows(x, train), yTrain: takeLabels(y, train), xTest: takeRows(x, test), yTest: takeLabels(y, test), C, source };
}

/** Gaussian class clusters in D dimensions (spread * class mean + N(0, I)), rows scaled to Euclidean norm `norm` (Float32). */
function gaussianProbeData(N: number, D: number, C: number, seed: number, spread: number, norm = 1): { x: Matrix; y: Int32Array } {
  const rng = createRng(seed);
  const means = Float64Array.from({ length: C * D }, () => rng.normal());
  const data = new Float32Array(N * D);
  const y = new Int32Array(N);
  for (let i = 0; i < N; i++) {
    y[i] = i % C;
    let n2 = 0;
    for (let j = 0; j < D; j++) {
      const v = spread * means[y[i]! * D + j]! + rng.normal();
      data[i * D + j] = v;
      n2 += v * v;
    }
    const inv = norm / Math.sqrt(n2);
    for (let j = 0; j < D; j++) data[i * D + j]! *= inv;
  }
  return { x: { data, rows: N, cols: D }, y };
}

function largeProbeData(quick: boolean): ProbeData {
  const C = quick ? 100 : 1_000;
  const perClass = 16;
  const D = 512;
  // Learnable: class means with signal (spread 0.3: ~96 % test accuracy at 16 per class) and rows of
  // norm 10, so that at l2 = 1e-3 the optimum is far from W = 0 and both solvers need tens of
  // iterations (spread 0.1 on unit rows, the former problem, stopped after 1 iteration at ~log C).
  const all = gaussianProbeData(C * (perClass + 5), D, C, 5, 0.3, 10);
  const trainIdx: number[] = [];
  const testIdx: number[] = [];
  for (let i = 0; i < all.x.rows; i++) (i < C * perClass ? trainIdx : testIdx).push(i);
  return {
    xTrain: takeRows(all.x, trainIdx),
    yTrain: takeLabels(all.y, trainIdx),
    xTest: takeRows(all.x, testIdx),
    yTest: takeLabels(all.y, testIdx),
    C,
    source: 'synthetic Gaussian classes (spread 0.3, rows of norm 10, 16 per class)',
  };
}

async function probeBenchmark(
  data: ProbeData,
  python: string | undefined,
  tmp: string,
  rowsOut: SpeedRow[],
  compareReference: boolean,
): Promise<void> {
  const { xTrain, yTrain, xTest, yTest, C, source } = data;
  const N = xTrain.rows;
  const D = xTrain.cols;
  const l2 = 1e-3;
  const tol = 1e-6;
  // The same stopping rule for both solvers, scikit-learn's (decided before measuring ours under it):
  // its lbfgs LogisticRegression (< 1.4) minimises N x our objective (sum of cross-entropies +
  // 1/(2C) ||W||^2) with SciPy L-BFGS-B at gtol = tol on that sum's max-abs gradient, i.e. tol / N
  // on ours, and SciPy's default ftol = factr 1e7 x eps = 2.2e-9 on the relative decrease per step
  // (scale-free while both objectives are >= 1, as here). With tol = 1e-6 alone on our gradient
  // we solved far beyond it (scikit-learn stops by ftol at a max-abs gradient of 1.3e-5 on fortunes).
  const SCIPY_FTOL = 1e7 * 2 ** -52;
  const options = { l2, tolerance: tol / N, relativeDecrease: SCIPY_FTOL, maxIterations: 1000, classes: C };
  const rule = `stopping rule of both: scikit-learn's (max-abs gradient <= ${tol} on the sum objective = ${(tol / N).toExponential(2)} on the mean, or relative decrease <= ${SCIPY_FTOL.toExponential(2)} per step)`;
  log(`probe: ${N} x ${D}, ${C} classes (${source}); ${rule}`);
  const t0 = performance.now();
  const mem = peakGrowth(() => trainLinearProbe(xTrain, yTrain, options));
  const probe = mem.result;
  const oursSeconds = (performance.now() - t0) / 1000;
  const inputBytes = xTrain.data.byteLength + yTrain.byteLength;
  const flops = 4 * N * D * C * probe.iterations;
  const oursAcc = accuracy(probe.logits(xTest), yTest);
  log(
    `probe: ours (${probe.backend}) ${oursSeconds.toFixed(2)} s, ${probe.iterations} iterations, ${(flops / oursSeconds / 1e9).toFixed(2)} GFLOP/s, objective ${probe.objective}`,
  );
  // onnxruntime (fused chunk graphs: Float32 phase, then Float64 phase), X inside the sessions.
  // ORT is loaded by a tiny warm-up run first, so the sampled RSS growth is the probe's.
  process.env.ORT_DISABLE_TELEMETRY = '1';
  registerOnnxKernels(createNodeRuntime({ threads: 2 }));
  await trainLinearProbeAsync({ data: new Float32Array([1, 0, 0, 1]), rows: 2, cols: 2 }, Int32Array.of(0, 1), { l2: 1e-2 });
  const ortMem = await sampledGrowth(() => trainLinearProbeAsync(xTrain, yTrain, options));
  const ort = ortMem.result;
  const ortSeconds = ortMem.seconds;
  const ortAcc = accuracy(ort.logits(xTest), yTest);
  const ortFlops = 4 * N * D * C * ort.evaluations;
  const phaseNote = (ort.phases ?? [])
    .map(
      (ph) =>
        `${ph.precision} ${ph.iterations} it. / ${ph.evaluations} ev. in ${fmtS(ph.seconds)} (${((4 * N * D * C * ph.evaluations) / ph.seconds / 1e9).toFixed(1)} GFLOP/s)`,
    )
    .join(', ');
  log(
    `probe: ours async (${ort.backend}) ${ortSeconds.toFixed(2)} s, ${ort.iterations} iterations, ${(ortFlops / ortSeconds / 1e9).toFixed(1)} GFLOP/s, objective ${ort.objective}; ${phaseNote}; peak RSS growth ${MiB(ortMem.bytes)}`,
  );
  let tsNote = '';
  if (compareReference) {
    const t1 = performance.now();
    const ts = trainLinearProbe(xTrain, yTrain, { ...options, backend: 'reference' });
    const tsSeconds = (performance.now() - t1) / 1000;
    tsNote = `; TypeScript kernels ${fmtS(tsSeconds)} (${((4 * N * D * C * ts.iterations) / tsSeconds / 1e9).toFixed(2)} GFLOP/s, objective ${ts.objective.toPrecision(10)})`;
  }
  const oursNote = `ours ${probe.iterations} L-BFGS iterations, >= ${(flops / oursSeconds / 1e9).toFixed(2)} GFLOP/s (2 GEMMs of 2NDC flops per iteration), ${probe.backend}; peak RSS growth ${MiB(mem.bytes)} vs inputs ${MiB(inputBytes)}${tsNote}`;
  if (!python) {
    rowsOut.push({
      benchmark: `linear probe, ${N} x ${D} ${source}, ${C} classes`,
      ours: 'trainLinearProbe',
      baseline: 'scikit-learn',
      oursSeconds,
      baselineSeconds: null,
      speedup: null,
      notes: `skipped: no python3 with scikit-learn; ${oursNote}`,
    });
    return;
  }
  const paths = ['Xtr', 'ytr', 'Xte', 'yte', 'logits'].map((n) => join(tmp, `${n}.npy`));
  await writeMatrix(paths[0]!, xTrain, 'float64');
  await writeLabels(paths[1]!, yTrain);
  await writeMatrix(paths[2]!, xTest, 'float64');
  await writeLabels(paths[3]!, yTest);
  // core: mean CE + l2/2 ||W||^2 (bias not penalised); sklearn: 1/2 ||W||^2 + C sum CE  =>  C = 1 / (l2 N)
  const Cskl = 1 / (l2 * N);
  const { stdout } = await run(
    python,
    [join(benchRoot(), 'python', 'sklearn_probe.py'), ...paths.slice(0, 4), String(Cskl), '1e-6', '1000', paths[4]!],
    3_600_000,
  );
  const sk = JSON.parse(stdout.trim().split('\n').pop()!) as { seconds: number; accuracy: number; iterations: number; objective: number };
  const version = (await run(python, ['-c', 'import sklearn; print(sklearn.__version__)'])).stdout.trim();
  const [major, minor] = version.split('.').map(Number);
  if (major! > 1 || (major === 1 && minor! >= 4))
    log(
      `probe: scikit-learn ${version}: the stopping rule above was derived from scikit-learn < 1.4 (sum objective, SciPy's default ftol); check it against this version`,
    );
  const oursObjective = probe.objective; // mean CE + l2/2 ||W||^2, the objective sklearn_probe.py reports
  rowsOut.push({
    benchmark: `linear probe, ${N} x ${D} ${source}, ${C} classes, l2 = ${l2}`,
    ours: `trainLinearProbeAsync (${ort.backend})`,
    baseline: `scikit-learn LogisticRegression(lbfgs; ${sk.iterations} it.)`,
    oursSeconds: ortSeconds,
    baselineSeconds: sk.seconds,
    speedup: sk.seconds / ortSeconds,
    notes: `test accuracy ours ${(ortAcc * 100).toFixed(2)}% vs sklearn ${(sk.accuracy * 100).toFixed(2)}% (diff ${((ortAcc - sk.accuracy) * 100).toFixed(2)} pp); objective ours ${ort.objective.toPrecision(10)} vs sklearn ${sk.objective.toPrecision(10)} (relative ${rel(ort.objective, sk.objective).toExponential(1)}); ours ${ort.iterations} iterations, ${ort.evaluations} evaluations, ${(ortFlops / ortSeconds / 1e9).toFixed(1)} GFLOP/s (4NDC per evaluation): ${phaseNote}; max-abs gradient ${ort.gradientNorm.toExponential(2)} (Float64); sampled peak RSS growth ${MiB(ortMem.bytes)} vs inputs ${MiB(inputBytes)}; ${rule} (scikit-learn ${version})`,
  });
  rowsOut.push({
    benchmark: `linear probe, ${N} x ${D} ${source}, ${C} classes, l2 = ${l2}`,
    ours: `trainLinearProbe (${probe.backend})`,
    baseline: `scikit-learn LogisticRegression(lbfgs, C = 1/(l2 N) = ${Cskl.toPrecision(4)}; ${sk.iterations} it.)`,
    oursSeconds,
    baselineSeconds: sk.seconds,
    speedup: sk.seconds / oursSeconds,
    notes: `test accuracy ours ${(oursAcc * 100).toFixed(2)}% vs sklearn ${(sk.accuracy * 100).toFixed(2)}% (diff ${((oursAcc - sk.accuracy) * 100).toFixed(2)} pp); objective ours ${oursObjective.toPrecision(10)} vs sklearn ${sk.objective.toPrecision(10)} (relative ${rel(oursObjective, sk.objective).toExponential(1)}); sklearn >= ${((4 * N * D * C * sk.iterations) / sk.seconds / 1e9).toFixed(2)} GFLOP/s; ${oursNote}`,
  });
}

async function encodeBenchmark(quick: boolean, rowsOut: SpeedRow[]): Promise<void> {
  const { texts } = await loadFortuneTexts(FORTUNES_MAIN);
  const rng = createRng(11);
  const order = rng.shuffle(Array.from(texts.keys()));
  const sample = order.slice(0, quick ? 200 : 1000).map((i) => texts[i]!);
  const onnx = await loadOnnxEncoder();
  const tfjs = await loadTfjsEncoder();
  try {
    await onnx.encode(sample.slice(0, 8));
    await tfjs.encode(sample.slice(0, 8));
    // interleaved rounds, medians: each round times TF.js once and ours three times (ours takes
    // ~1/20 of the time, so single passes of it are the noisiest numbers on a shared machine)
    const rounds = quick ? 1 : 3;
    const ours: number[] = [];
    const base: number[] = [];
    let a: Matrix | undefined;
    let b: Matrix | undefined;
    for (let round = 0; round < rounds; round++) {
      for (let rep = 0; rep < 3; rep++) {
        const t0 = performance.now();
        a = await onnx.encode(sample);
        ours.push((performance.now() - t0) / 1000);
      }
      const t1 = performance.now();
      b = await tfjs.encode(sample);
      base.push((performance.now() - t1) / 1000);
      log(
        `text encoding round ${round + 1}/${rounds}: ours ${ours
          .slice(-3)
          .map((t) => t.toFixed(2))
          .join(' / ')} s, TF.js ${base[base.length - 1]!.toFixed(1)} s`,
      );
    }
    if (!a || !b) throw new Error('no encoding rounds ran');
    const oursSeconds = median(ours);
    const baseSeconds = median(base);
    let minCos = 1;
    let sumCos = 0;
    for (let i = 0; i < a.rows; i++) {
      let dot = 0;
      let na = 0;
      let nb = 0;
      for (let j = 0; j < a.cols; j++) {
        const u = a.data[i * a.cols + j]!;
        const v = b.data[i * b.cols + j]!;
        dot += u * v;
        na += u * u;
        nb += v * v;
      }
      const cos = dot / Math.sqrt(na * nb);
      minCos = Math.min(minCos, cos);
      sumCos += cos;
    }
    rowsOut.push({
      benchmark: `text encoding, ${sample.length} fortunes (batch 64)`,
      ours: `onnxruntime-node: ${(sample.length / oursSeconds).toFixed(0)} texts/s`,
      baseline: `TF.js reference (@energetic-ai/embeddings): ${(sample.length / baseSeconds).toFixed(0)} texts/s`,
      oursSeconds,
      baselineSeconds: baseSeconds,
      speedup: baseSeconds / oursSeconds,
      notes: `medians of ${ours.length} (ours) and ${base.length} (TF.js) interleaved passes, ours ${fmtS(Math.min(...ours))}–${fmtS(Math.max(...ours))}; embeddings agree: mean cosine ${(sumCos / a.rows).toFixed(6)}, min ${minCos.toFixed(6)}`,
    });
  } finally {
    await onnx.release();
    await tfjs.release();
  }
}

export function speedTable(rows: SpeedRow[]): string {
  const lines = [
    '| benchmark | ours | baseline | ours time | baseline time | speed-up (baseline/ours) | notes |',
    '|---|---|---|---:|---:|---:|---|',
  ];
  for (const r of rows)
    lines.push(
      `| ${r.benchmark} | ${r.ours} | ${r.baseline} | ${fmtS(r.oursSeconds)} | ${fmtS(r.baselineSeconds)} | ${r.speedup === null ? 'n/a' : `${r.speedup.toFixed(2)}x`} | ${r.notes} |`,
    );
  return lines.join('\n');
}

export async function speedCommand(options: Options, print: (line: string) => void, signal?: AbortSignal): Promise<SpeedRow[]> {
  const quick = flag(options, 'quick');
  const all = ['prior', 'temperature', 'probe', 'probe-large', 'encode'];
  const only = new Set((optionalString(options, 'only') ?? all.join(',')).split(',').map((s) => s.trim()));
  for (const o of only) if (!all.includes(o)) throw new CliError('bad-value', `--only: unknown benchmark '${o}' (${all.join(', ')})`);
  const withReference = options.reference !== false;
  const outDir = userPath(optionalString(options, 'out') ?? defaultOutDir());
  const needs = [
    ...(only.has('prior') || only.has('temperature') ? ['numpy', 'scipy'] : []),
    ...(only.has('probe') || only.has('probe-large') ? ['numpy', 'sklearn'] : []),
  ];
  const python = needs.length ? await findPython([...new Set(needs)], optionalString(options, 'python')) : undefined;
  if (needs.length && !python) log('speed: no python3 with numpy/scipy/scikit-learn found; the Python baselines are skipped');
  const tmp = await mkdtemp(join(tmpdir(), 'gla-speed-'));
  const rowsOut: SpeedRow[] = [];
  try {
    log(
      `speed: kernel backends ${kernelBackends()
        .map((b) => `${b.name} (priority ${b.priority}: ${b.kernels.join(', ')})`)
        .join('; ')}`,
    );
    if (only.has('prior')) await priorBenchmark(quick, withReference, python, tmp, rowsOut);
    if (signal?.aborted) throw new CliError('interrupted', 'interrupted');
    if (only.has('temperature')) await temperatureBenchmark(quick, python, tmp, rowsOut);
    if (signal?.aborted) throw new CliError('interrupted', 'interrupted');
    if (only.has('probe')) await probeBenchmark(await fortunesProbeData(quick), python, tmp, rowsOut, true);
    if (signal?.aborted) throw new CliError('interrupted', 'interrupted');
    if (only.has('probe-large')) await probeBenchmark(largeProbeData(quick), python, tmp, rowsOut, quick);
    if (signal?.aborted) throw new CliError('interrupted', 'interrupted');
    if (only.has('encode')) await encodeBenchmark(quick, rowsOut);
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
  const table = speedTable(rowsOut);
  const doc = {
    schema: 'gla-bench/speed@1',
    createdAt: new Date().toISOString(),
    quick,
    cpus: (await import('node:os')).cpus().length,
    backends: kernelBackends(),
    python: python ?? null,
    rows: rowsOut,
  };
  await writeAtomic(join(outDir, 'speed.json'), `${JSON.stringify(doc, null, 2)}\n`);
  await writeAtomic(
    join(outDir, 'speed.md'),
    `# gla speed\n\n${new Date().toISOString()}, ${doc.cpus} CPUs, node ${process.version}${quick ? ', --quick' : ''}\n\n${table}\n`,
  );
  print(table);
  print(`wrote ${join(outDir, 'speed.json')} and speed.md`);
  return rowsOut;
}
