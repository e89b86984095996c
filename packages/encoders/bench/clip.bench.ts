/**
 * CLIP benchmarks, side by side in one run:
 *   pnpm --filter @gla/encoders bench:clip        (GLA_BENCH_CLASSES=1000 for the full ImageNet head)
 * 1. Preprocessing throughput (decoded pixels → 3×224×224 float32) for 32×32 and 500×375 inputs,
 *    and its share of end-to-end time (preprocess + fixture vision model) per image.
 * 2. Zero-shot head caching: a first and a second classification with the same labels and the
 *    80 ImageNet templates; prints text-model runs and times (the second must run the text model 0 times).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildClipFixtures } from '../../../tooling/fixtures/clip-fixtures';
import { ClipModel, IMAGENET_TEMPLATES, preprocessClipImage, type RawImage } from '../src/index';
import { readClipTokenizerFile } from '../src/node';
import { createTestRuntime } from '../test/clip-runtime';

const here = path.dirname(fileURLToPath(import.meta.url));
const shared = path.resolve(here, '../../../../shared');

function syntheticImage(width: number, height: number, seed: number): RawImage {
  const data = new Uint8Array(width * height * 3);
  let s = seed >>> 0;
  for (let i = 0; i < data.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    data[i] = (s >>> 24) ^ ((i / 3) & 0x3f);
  }
  return { data, width, height, channels: 3 };
}

function time<T>(fn: () => T): [T, number] {
  const t0 = performance.now();
  const r = fn();
  return [r, performance.now() - t0];
}
async function timeAsync<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t0 = performance.now();
  const r = await fn();
  return [r, performance.now() - t0];
}

const fixtures = buildClipFixtures();
const runtime = await createTestRuntime();
const tokenizer = await readClipTokenizerFile(path.join(shared, 'data/clip/bpe_simple_vocab_16e6.txt.gz'));
const model = await ClipModel.load(runtime, { textModel: fixtures.textModel, visionModel: fixtures.visionModel }, { tokenizer });
console.log(`runtime: ${runtime.name}; node ${process.version}`);

console.log('\n== 1. preprocessing throughput (pixels → 3×224×224 float32, Pillow-exact bicubic) ==');
const rows: string[][] = [['input', 'images', 'preprocess img/s', 'e2e img/s (batch 16)', 'preprocess share']];
for (const [w, h, n] of [
  [32, 32, 512],
  [500, 375, 64],
] as const) {
  const images = Array.from({ length: n }, (_, i) => syntheticImage(w, h, i + 1));
  for (let i = 0; i < 4; i++) preprocessClipImage(images[i]!); // warm-up
  const [, pre] = time(() => {
    for (const im of images) preprocessClipImage(im);
  });
  await model.encodeImages(images.slice(0, 16), { batchSize: 16 }); // warm-up
  const [, e2e] = await timeAsync(() => model.encodeImages(images, { batchSize: 16 }));
  rows.push([`${w}×${h}`, String(n), (n / (pre / 1000)).toFixed(0), (n / (e2e / 1000)).toFixed(0), `${((100 * pre) / e2e).toFixed(0)} %`]);
}
for (const r of rows) console.log(r.map((c, i) => c.padEnd(i === 0 ? 10 : 22)).join(''));
console.log('(e2e = preprocess + fixture vision model run + L2 normalisation; the fixture model is tiny, so preprocessing dominates more than with a real ViT)');

console.log('\n== 2. zero-shot head caching ==');
const classes = Number(process.env['GLA_BENCH_CLASSES'] ?? 100);
const names = (JSON.parse(readFileSync(path.join(shared, 'data/clip/imagenet_classnames_templates.json'), 'utf8')) as { classnames: string[] }).classnames.slice(0, classes);
const sample = [syntheticImage(500, 375, 99), syntheticImage(32, 32, 98)];
const results: string[][] = [['call', 'text-model runs', 'texts encoded', 'time ms']];
for (const call of ['first (builds head)', 'second (same labels)', 'third (same labels)']) {
  const before = { ...model.counts };
  const [, ms] = await timeAsync(() => model.classify(sample, names, { templates: IMAGENET_TEMPLATES, batchSize: 256 }));
  results.push([call, String(model.counts.textRuns - before.textRuns), String(model.counts.textsEncoded - before.textsEncoded), ms.toFixed(1)]);
}
console.log(`${classes} classes × ${IMAGENET_TEMPLATES.length} templates = ${classes * IMAGENET_TEMPLATES.length} prompts`);
for (const r of results) console.log(r.map((c, i) => c.padEnd(i === 0 ? 24 : 18)).join(''));
const first = Number(results[1]![3]);
const second = Number(results[2]![3]);
console.log(`second / first time ratio: ${(second / first).toFixed(4)}; cache hits ${model.headCache.hits}, misses ${model.headCache.misses}`);
await model.release();
