import { readFileSync } from 'node:fs';
import { cosineLogits, debias, softmax, zeroShotHead } from '@gla/core';
import { buildClipFixtures } from '@gla/fixtures/clip';
import { describe, expect, it } from 'vitest';
import {
  buildZeroShotHead,
  ClipModel,
  DEFAULT_TEMPLATE,
  EncoderError,
  expandPrompts,
  fillTemplate,
  IMAGENET_TEMPLATES,
  type RawImage,
  type TextEmbedder,
  ZeroShotHeadCache,
} from '../src/index';
import { readClipTokenizerFile, readImageFile } from '../src/node';
import { maxAbsDiff, sharedPath } from './clip-helpers';
import { createTestRuntime } from './clip-runtime';

const fixtures = buildClipFixtures();
const tokenizer = await readClipTokenizerFile(sharedPath('data/clip/bpe_simple_vocab_16e6.txt.gz'));
const runtime = await createTestRuntime();
const CIFAR10 = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];
const images: RawImage[] = await Promise.all(
  ['airplane/0000', 'cat/0001', 'ship/0002'].map((f) => readImageFile(sharedPath(`data/images/cifar10-sample/${f}.jpg`))),
);

describe('templates', () => {
  it('ships the 80 ImageNet templates of the CLIP notebook', () => {
    const file = JSON.parse(readFileSync(sharedPath('data/clip/imagenet_classnames_templates.json'), 'utf8')) as { templates: string[] };
    expect(IMAGENET_TEMPLATES).toEqual(file.templates);
    expect(IMAGENET_TEMPLATES).toHaveLength(80);
  });
  it('fills and expands template-major (the order core zeroShotHead expects)', () => {
    expect(fillTemplate(DEFAULT_TEMPLATE, 'cat')).toBe('a photo of a cat.');
    expect(expandPrompts(['a', 'b'], ['x {}', '{} y'])).toEqual(['x a', 'x b', 'a y', 'b y']);
  });
  it('typed errors: template without {}, empty labels', () => {
    expect(() => expandPrompts(['cat'], ['a photo of a cat'])).toThrowError(/template 0 \("a photo of a cat"\) has no "\{\}"/);
    expect(() => expandPrompts([], [DEFAULT_TEMPLATE])).toThrowError(EncoderError);
    try {
      expandPrompts([], [DEFAULT_TEMPLATE]);
    } catch (e) {
      expect((e as EncoderError).code).toBe('empty-labels');
    }
  });
});

describe('zero-shot classification', () => {
  it('head = core zeroShotHead of the template embeddings; logits = 100·cos; predictions sorted', async () => {
    const model = await ClipModel.load(runtime, { textModel: fixtures.textModel, visionModel: fixtures.visionModel }, { tokenizer });
    const templates = IMAGENET_TEMPLATES.slice(0, 3);
    const result = await model.classify(images, CIFAR10, { templates });
    // Same computation by hand with core.
    const prompts = expandPrompts(CIFAR10, templates);
    const embeds = await model.encodeTexts(prompts);
    const head = zeroShotHead(embeds, { classes: CIFAR10.length });
    const features = await model.encodeImages(images);
    const logits = cosineLogits(features, head.weights, 100);
    expect([result.logits.rows, result.logits.cols]).toEqual([3, 10]);
    expect(maxAbsDiff(result.logits.data, logits.data)).toBeLessThan(1e-5);
    const probabilities = softmax(logits);
    for (let i = 0; i < 3; i++) {
      const row = result.predictions[i]!;
      expect(row).toHaveLength(10);
      for (let k = 1; k < row.length; k++) expect(row[k - 1]!.score).toBeGreaterThanOrEqual(row[k]!.score);
      for (const { label, score } of row) expect(score).toBeCloseTo(probabilities.data[i * 10 + CIFAR10.indexOf(label)]!, 6);
      expect(row.reduce((s, p) => s + p.score, 0)).toBeCloseTo(1, 6);
    }
    const top2 = await model.classify(images, CIFAR10, { templates, topk: 2 });
    expect(top2.predictions[0]).toHaveLength(2);
  });

  it('logPrior debiases (core debias) and predictions follow the debiased logits', async () => {
    const model = await ClipModel.load(runtime, { textModel: fixtures.textModel, visionModel: fixtures.visionModel }, { tokenizer });
    const prior = CIFAR10.map((_, c) => (c + 1) / 55);
    const logPrior = prior.map(Math.log);
    const result = await model.classify(images, CIFAR10, { logPrior });
    const expected = debias(result.logits, logPrior, {});
    expect(result.debiasedLogits).toBeDefined();
    expect(maxAbsDiff(result.debiasedLogits!.data, expected.data)).toBeLessThan(1e-9);
    const p = softmax(expected);
    const best = result.predictions[0]![0]!;
    expect(best.score).toBeCloseTo(Math.max(...Array.from(p.data.subarray(0, 10))), 9);
    await expect(model.classify(images, CIFAR10, { logPrior: [0, 0] })).rejects.toMatchObject({ code: 'shape-mismatch' });
    await expect(model.classify(images, [])).rejects.toMatchObject({ code: 'empty-labels' });
    await expect(model.classify(images, CIFAR10, { templates: ['no placeholder'] })).rejects.toMatchObject({ code: 'invalid-template' });
  });

  it('the head is cached: a second classification with the same labels runs the text model 0 times', async () => {
    const model = await ClipModel.load(runtime, { textModel: fixtures.textModel, visionModel: fixtures.visionModel }, { tokenizer });
    const labels = CIFAR10;
    const first = await model.classify(images, labels, { templates: IMAGENET_TEMPLATES, batchSize: 200 });
    expect(model.counts.textsEncoded).toBe(800);
    expect(model.counts.textRuns).toBe(4);
    const runs = model.counts.textRuns;
    const second = await model.classify(images.slice(0, 1), [...labels], { templates: [...IMAGENET_TEMPLATES] });
    expect(model.counts.textRuns).toBe(runs);
    expect(maxAbsDiff(second.logits.data, first.logits.data.subarray(0, 10))).toBe(0);
    // Different templates or labels → a new head.
    await model.classify(images, labels, { templates: [DEFAULT_TEMPLATE] });
    expect(model.counts.textRuns).toBe(runs + 1);
    expect(model.headCache.hits).toBe(1);
    expect(model.headCache.misses).toBe(2);
  });

  it('cache is keyed by model identity; concurrent requests share one build; failures are not cached', async () => {
    let calls = 0;
    let fail = true;
    const embedder = (id: string): TextEmbedder => ({
      id,
      async encodeTexts(texts) {
        calls++;
        if (fail) throw new Error('boom');
        const data = new Float32Array(texts.length * 2);
        texts.forEach((t, i) => {
          data[i * 2] = t.length;
          data[i * 2 + 1] = 1;
        });
        return { data, rows: texts.length, cols: 2 };
      },
    });
    const cache = new ZeroShotHeadCache({ maxEntries: 2 });
    await expect(buildZeroShotHead(embedder('m1'), ['a'], { cache })).rejects.toThrowError('boom');
    expect(cache.size).toBe(0);
    fail = false;
    calls = 0;
    const [h1, h2] = await Promise.all([
      buildZeroShotHead(embedder('m1'), ['a', 'bb'], { cache }),
      buildZeroShotHead(embedder('m1'), ['a', 'bb'], { cache }),
    ]);
    expect(h1).toBe(h2);
    expect(calls).toBe(1);
    await buildZeroShotHead(embedder('m2'), ['a', 'bb'], { cache });
    expect(calls).toBe(2);
    await buildZeroShotHead(embedder('m3'), ['a', 'bb'], { cache });
    expect(cache.size).toBe(2); // LRU bound
  });

  it('an aborted head build stops within one batch', async () => {
    const model = await ClipModel.load(runtime, { textModel: fixtures.textModel, visionModel: fixtures.visionModel }, { tokenizer });
    const controller = new AbortController();
    await expect(
      model.zeroShotHead(CIFAR10, {
        templates: IMAGENET_TEMPLATES,
        batchSize: 100,
        signal: controller.signal,
        onProgress: () => controller.abort(),
      }),
    ).rejects.toMatchObject({ code: 'aborted' });
    expect(model.counts.textRuns).toBe(1);
    expect(model.headCache.size).toBe(0);
  });
});
