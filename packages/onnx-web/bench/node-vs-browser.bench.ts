/**
 * Node vs browser inference time for the same fixture vision model (CLIP layout, batch 8):
 * onnxruntime-node (@gla/onnx-node) and onnxruntime-web in headless Chromium (@gla/onnx-web),
 * median of N timed runs each after warm-up, all measured in this run.
 *
 *   pnpm --filter @gla/onnx-web bench [-- --runs 20 --batch 8]
 */
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { buildClipVisionModel, samplePixelValues } from '@gla/fixtures/clip';
import { createNodeRuntime } from '@gla/onnx-node';
import { maxAbsDifference } from '@gla/runtime/conformance';
import { openBrowser } from '@gla/tooling/browser';

const { values } = parseArgs({
  options: { runs: { type: 'string', default: '15' }, batch: { type: 'string', default: '8' }, warmup: { type: 'string', default: '3' } },
  allowPositionals: true,
});
const runs = Number(values.runs);
const batch = Number(values.batch);
const warmup = Number(values.warmup);

const median = (xs: readonly number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

const model = buildClipVisionModel();
const pixels = samplePixelValues(batch, 9);
const feeds = { pixel_values: { dtype: 'float32' as const, dims: [batch, 3, 224, 224], data: pixels } };

interface Row {
  runtime: string;
  config: string;
  provider: string;
  medianMs: number;
  embeds: Float32Array;
}
const rows: Row[] = [];

for (const threads of [1, 2]) {
  const session = await createNodeRuntime({ threads }).load(model);
  for (let i = 0; i < warmup; i++) await session.run(feeds);
  const times: number[] = [];
  let embeds: Float32Array = new Float32Array(0);
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    const out = await session.run(feeds);
    times.push(performance.now() - start);
    embeds = out['image_embeds']!.data as Float32Array;
  }
  rows.push({
    runtime: 'onnxruntime-node',
    config: `${threads} thread${threads > 1 ? 's' : ''}`,
    provider: session.executionProvider,
    medianMs: median(times),
    embeds,
  });
  await session.release();
}

const browser = await openBrowser();
try {
  const files = {
    '/models/vision_model.onnx': model,
    '/inputs/pixels.bin': new Uint8Array(pixels.buffer, pixels.byteOffset, pixels.byteLength),
  };
  for (const threads of [1, 2]) {
    const result = (await browser.run({
      entry: fileURLToPath(new URL('./browser-bench-entry.ts', import.meta.url)),
      files,
      crossOriginIsolated: threads > 1,
      args: { batch, runs, warmup, options: { wasmPaths: '/ort/', threads, executionProviders: ['wasm'] } },
      timeoutMs: 300_000,
    })) as { times: number[]; embeds: number[]; provider: string; threads: number };
    rows.push({
      runtime: 'onnxruntime-web (Chromium)',
      config: `${result.threads} thread${result.threads > 1 ? 's' : ''}${threads > 1 ? ', isolated' : ''}`,
      provider: result.provider,
      medianMs: median(result.times),
      embeds: Float32Array.from(result.embeds),
    });
  }
} finally {
  await browser.close();
}

const baseline = rows[0]!;
console.log(
  `\nfixture vision model (Conv 3→8 /16, ReLU, GAP, Gemm → 32), batch ${batch}, median of ${runs} runs after ${warmup} warm-up\n`,
);
const header = ['runtime', 'config', 'provider', 'median ms', 'ratio vs node 1 thread', 'max-abs diff vs node'];
const table = rows.map((r) => [
  r.runtime,
  r.config,
  r.provider,
  r.medianMs.toFixed(2),
  `${(r.medianMs / baseline.medianMs).toFixed(2)}×`,
  maxAbsDifference(r.embeds, baseline.embeds).toExponential(2),
]);
const widths = header.map((h, i) => Math.max(h.length, ...table.map((row) => row[i]!.length)));
const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
console.log(line(header));
console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
for (const row of table) console.log(line(row));
