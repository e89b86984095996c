import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { accuracy, createRng, estimatePrior, type Matrix, l2Normalize as normalizeRows } from '@gla/core';
import { estimatePriorReference } from '@gla/core/reference';
import { shuffledByClass } from '@gla/datasets';
import { flag, type OptionSpecs, type OptionValue, optionalString } from '../args';
import { writeAtomic } from '../atomic';
import { fortuneFeatures, loadOnnxEncoder, loadTfjsEncoder } from '../embed';
import { CliError } from '../errors';
import { FORTUNES_MAIN, loadFortuneTexts } from '../fortunes';
import { linearLogits, median, pick, rows } from '../linalg';
import { writeLabels, writeMatrix } from '../npyio';
import { benchRoot, defaultOutDir, userPath } from '../paths';
import { fitProbe, probeObjective } from '../probe';
import { log } from '../progress';

type Options = Record<string, OptionValue>;

export const SPEED_OPTIONS: OptionSpecs = {
  quick: { type: 'flag', description: 'small sizes (5,000 x 100 logits, 200 texts) for a fast check' },
  out: { type: 'string', value: 'DIR', description: 'write speed.json and speed.md here (default results/ at the repo root)' },
  only: { type: 'string', value: 'prior,probe,encode', description: 'run only these benchmarks', default: 'prior,probe,encode' },
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

async function priorBenchmark(quick: boolean, python: string | undefined, tmp: string, rowsOut: SpeedRow[]): Promise<void> {
  const N = quick ? 5_000 : 50_000;
  const C = quick ? 100 : 1_000;
  log(`prior: generating ${N} x ${C} synthetic logits`);
  const { logits, labels } = syntheticLogits(N, C, 7);
  const t0 = performance.now();
  const ours = estimatePrior(logits, labels, { temperature: 1, tolerance: 1e-8 });
  const oursSeconds = (performance.now() - t0) / 1000;
  const oursObjective = ours.objective;
  log(`prior: ours ${oursSeconds.toFixed(2)}s, objective ${oursObjective}, ${ours.iterations} iterations (${ours.solver})`);
  const t1 = performance.now();
  const ref = estimatePriorReference(logits, labels, { temperature: 1, steps: 1000 });
  const refSeconds = (performance.now() - t1) / 1000;
  const refObjective = ref.objective;
  const refSum = ref.rawPriorSum;
  log(`prior: reference SGD ${refSeconds.toFixed(2)}s, objective ${refObjective}, sum q = ${refSum.toFixed(4)}`);
  rowsOut.push({
    benchmark: `prior estimation, ${N.toLocaleString('en-US')} x ${C.toLocaleString('en-US')} logits`,
    ours: `estimatePrior (${ours.solver}, ${ours.iterations} it., grad ${ours.gradientNorm.toExponential(1)})`,
    baseline: 'reference: Lagrangian plain SGD, 1000 steps',
    oursSeconds,
    baselineSeconds: refSeconds,
    speedup: refSeconds / oursSeconds,
    notes: `objective ours ${oursObjective.toFixed(6)} vs reference ${refObjective.toFixed(6)} nats; max-abs gradient ours ${ours.gradientNorm.toExponential(1)} vs reference ${ref.gradientNorm.toExponential(1)}; reference sum q before normalising = ${refSum.toFixed(3)}`,
  });
  if (!python) {
    rowsOut.push({
      benchmark: 'prior estimation vs SciPy',
      ours: 'estimatePrior',
      baseline: 'scipy L-BFGS-B',
      oursSeconds,
      baselineSeconds: null,
      speedup: null,
      notes: 'skipped: no python3 with numpy + scipy found',
    });
    return;
  }
  const zPath = join(tmp, 'Z.npy');
  const yPath = join(tmp, 'Y.npy');
  await writeMatrix(zPath, logits, 'float32');
  await writeLabels(yPath, labels);
  const { stdout } = await run(python, [join(benchRoot(), 'python', 'scipy_prior.py'), zPath, yPath, '1', '0', '1e-8']);
  const sp = JSON.parse(stdout.trim().split('\n').pop()!) as {
    seconds: number;
    objective: number;
    gradient_norm: number;
    iterations: number;
    converged: boolean;
  };
  rowsOut.push({
    benchmark: `prior estimation, ${N.toLocaleString('en-US')} x ${C.toLocaleString('en-US')} logits`,
    ours: 'estimatePrior',
    baseline: `SciPy L-BFGS-B (numpy, exp cached; ${sp.iterations} it.)`,
    oursSeconds,
    baselineSeconds: sp.seconds,
    speedup: sp.seconds / oursSeconds,
    notes: `objective ours ${oursObjective.toFixed(8)} vs scipy ${sp.objective.toFixed(8)}; max-abs gradient ours ${ours.gradientNorm.toExponential(1)} vs scipy ${sp.gradient_norm.toExponential(1)}`,
  });
}

async function probeBenchmark(quick: boolean, python: string | undefined, tmp: string, rowsOut: SpeedRow[]): Promise<void> {
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
    const rng = createRng(3);
    C = 22;
    const N = 8000;
    const D = 512;
    const means = Float64Array.from({ length: C * D }, () => rng.normal());
    const data = new Float64Array(N * D);
    y = new Int32Array(N);
    for (let i = 0; i < N; i++) {
      y[i] = rng.int(C);
      for (let j = 0; j < D; j++) data[i * D + j] = 0.15 * means[y[i]! * D + j]! + rng.normal();
    }
    x = normalizeRows({ data, rows: N, cols: D });
    source = 'synthetic Gaussian features';
  }
  const byClass = shuffledByClass(y, C, 1);
  const test = Int32Array.from(byClass.flatMap((m) => m.slice(0, 25)));
  // --quick: at most 60 training examples per class (all classes present)
  const train = Int32Array.from(byClass.flatMap((m) => (quick ? m.slice(25, 85) : m.slice(25))));
  const xTrain = rows(x, train);
  const yTrain = pick(y, train);
  const xTest = rows(x, test);
  const yTest = pick(y, test);
  const l2 = 1e-3;
  const t0 = performance.now();
  const head = fitProbe(xTrain, yTrain, C, l2, undefined, { tolerance: 1e-6, maxIterations: 1000 });
  const oursSeconds = (performance.now() - t0) / 1000;
  const oursAcc = accuracy(linearLogits(xTest, head.weights, head.bias), yTest);
  const oursObjective = probeObjective(xTrain, yTrain, head, l2);
  if (!python) {
    rowsOut.push({
      benchmark: 'linear probe',
      ours: 'trainLinearProbe',
      baseline: 'scikit-learn',
      oursSeconds,
      baselineSeconds: null,
      speedup: null,
      notes: 'skipped: no python3 with scikit-learn found',
    });
    return;
  }
  const paths = ['Xtr', 'ytr', 'Xte', 'yte', 'logits'].map((n) => join(tmp, `${n}.npy`));
  await writeMatrix(paths[0]!, xTrain, 'float64');
  await writeLabels(paths[1]!, yTrain);
  await writeMatrix(paths[2]!, xTest, 'float64');
  await writeLabels(paths[3]!, yTest);
  // core: mean CE + l2/2 ||W||^2 (bias not penalised); sklearn: 1/2 ||W||^2 + C sum CE  =>  C = 1 / (l2 N)
  const Cskl = 1 / (l2 * train.length);
  const { stdout } = await run(python, [
    join(benchRoot(), 'python', 'sklearn_probe.py'),
    ...paths.slice(0, 4),
    String(Cskl),
    '1e-6',
    '1000',
    paths[4]!,
  ]);
  const sk = JSON.parse(stdout.trim().split('\n').pop()!) as { seconds: number; accuracy: number; iterations: number; objective: number };
  rowsOut.push({
    benchmark: `linear probe, ${train.length} x ${x.cols} ${source}, ${C} classes, l2 = ${l2}`,
    ours: 'trainLinearProbe',
    baseline: `scikit-learn LogisticRegression(lbfgs, C = 1/(l2 N) = ${Cskl.toPrecision(4)}; ${sk.iterations} it.)`,
    oursSeconds,
    baselineSeconds: sk.seconds,
    speedup: sk.seconds / oursSeconds,
    notes: `test accuracy ours ${(oursAcc * 100).toFixed(2)}% vs sklearn ${(sk.accuracy * 100).toFixed(2)}% (diff ${((oursAcc - sk.accuracy) * 100).toFixed(2)} pp); objective ours ${oursObjective.toFixed(6)} vs sklearn ${sk.objective.toFixed(6)}`,
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
  const only = new Set((optionalString(options, 'only') ?? 'prior,probe,encode').split(',').map((s) => s.trim()));
  for (const o of only)
    if (!['prior', 'probe', 'encode'].includes(o))
      throw new CliError('bad-value', `--only: unknown benchmark '${o}' (prior, probe, encode)`);
  const outDir = userPath(optionalString(options, 'out') ?? defaultOutDir());
  const needs = [...(only.has('prior') ? ['numpy', 'scipy'] : []), ...(only.has('probe') ? ['numpy', 'sklearn'] : [])];
  const python = needs.length ? await findPython([...new Set(needs)], optionalString(options, 'python')) : undefined;
  if (needs.length && !python) log('speed: no python3 with numpy/scipy/scikit-learn found; the Python baselines are skipped');
  const tmp = await mkdtemp(join(tmpdir(), 'gla-speed-'));
  const rowsOut: SpeedRow[] = [];
  try {
    if (only.has('prior')) await priorBenchmark(quick, python, tmp, rowsOut);
    if (signal?.aborted) throw new CliError('interrupted', 'interrupted');
    if (only.has('probe')) await probeBenchmark(quick, python, tmp, rowsOut);
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
