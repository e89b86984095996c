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
import { buildClipFixtures } from '@gla/fixtures/clip';
import { SHARED_DIR } from '@gla/tooling/shared-data';
import { ClipModel, IMAGENET_TEMPLATES, preprocessClipImage, type RawImage, resizeBicubic, shortSideResize } from '../src/index';
import { readClipTokenizerFile } from '../src/node';
import { createTestRuntime } from '../test/clip-runtime';

const shared = SHARED_DIR;

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
const rows: string[][] = [['input', 'images', 'preprocess img/s', 'baseline img/s', 'model-only img/s', 'e2e img/s', 'preprocess share']];
const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[xs.length >> 1]!;
for (const [w, h, n] of [
  [32, 32, 256],
  [500, 375, 48],
] as const) {
  const images = Array.from({ length: n }, (_, i) => syntheticImage(w, h, i + 1));
  const per = 3 * 224 * 224;
  const pixels = new Float32Array(n * per);
  await model.encodeImages(images.slice(0, 16), { batchSize: 16 }); // warm-up
  const pre: number[] = [];
  const base: number[] = [];
  const run: number[] = [];
  const e2e: number[] = [];
  for (let round = 0; round < 5; round++) {
    pre.push(
      time(() => {
        for (const [i, im] of images.entries()) pixels.set(preprocessClipImage(im), i * per);
      })[1],
    );
    // Baseline: the plain full-size Pillow resize alone (no crop window, no normalisation).
    const t = shortSideResize(w, h, 224);
    base.push(
      time(() => {
        for (const im of images) resizeBicubic(im.data as Uint8Array, w, h, t.width, t.height);
      })[1],
    );
    run.push((await timeAsync(() => model.encodePixels(pixels, n, { batchSize: 16 })))[1]);
    e2e.push((await timeAsync(() => model.encodeImages(images, { batchSize: 16 })))[1]);
  }
  const [p, b, m, e] = [median(pre), median(base), median(run), median(e2e)];
  const rate = (ms: number) => (n / (ms / 1000)).toFixed(0);
  rows.push([
    `${w}×${h}`,
    String(n),
    rate(p),
    `${rate(b)} (×${(b / p).toFixed(2)})`,
    rate(m),
    rate(e),
    `${((100 * p) / (p + m)).toFixed(0)} %`,
  ]);
}
for (const r of rows) console.log(r.map((c, i) => c.padEnd(i === 0 ? 10 : 19)).join(''));
console.log(
  '(medians of 5 rounds; baseline = full-size resize only, (×) = preprocess speed relative to it; share = preprocess / (preprocess + model-only); e2e = encodeImages = both + L2 normalisation.\n The fixture vision model is a single 16×16 conv: a real ViT-B/32 costs ~100× more, so the share there is far smaller.)',
);

console.log('\n== 2. zero-shot head caching ==');
const classes = Number(process.env['GLA_BENCH_CLASSES'] ?? 100);
const names = (
  JSON.parse(readFileSync(path.join(shared, 'data/clip/imagenet_classnames_templates.json'), 'utf8')) as { classnames: string[] }
).classnames.slice(0, classes);
const sample = [syntheticImage(500, 375, 99), syntheticImage(32, 32, 98)];
const results: string[][] = [['call', 'text-model runs', 'texts encoded', 'time ms']];
for (const call of ['first (builds head)', 'second (same labels)', 'third (same labels)']) {
  const before = { ...model.counts };
  const [, ms] = await timeAsync(() => model.classify(sample, names, { templates: IMAGENET_TEMPLATES, batchSize: 256 }));
  results.push([
    call,
    String(model.counts.textRuns - before.textRuns),
    String(model.counts.textsEncoded - before.textsEncoded),
    ms.toFixed(1),
  ]);
}
console.log(`${classes} classes × ${IMAGENET_TEMPLATES.length} templates = ${classes * IMAGENET_TEMPLATES.length} prompts`);
for (const r of results) console.log(r.map((c, i) => c.padEnd(i === 0 ? 24 : 18)).join(''));
const first = Number(results[1]![3]);
const second = Number(results[2]![3]);
console.log(
  `second / first time ratio: ${(second / first).toFixed(4)}; cache hits ${model.headCache.hits}, misses ${model.headCache.misses}`,
);
await model.release();
