import { buildClipFixtures, expectedImageEmbeds, expectedJointOutputs, expectedTextEmbeds } from '@gla/fixtures/clip';
import { RuntimeError } from '@gla/runtime';
import { describe, expect, it } from 'vitest';
import { ClipModel, ClipTokenizer, EncoderError, preprocessClipImage, type RawImage } from '../src/index';
import { readClipTokenizerFile, readImageFile } from '../src/node';
import { maxAbsDiff, sharedPath } from './clip-helpers';
import { createTestRuntime } from './clip-runtime';

const fixtures = buildClipFixtures();
const tokenizer = await readClipTokenizerFile(sharedPath('data/clip/bpe_simple_vocab_16e6.txt.gz'));
const runtime = await createTestRuntime();
const texts = ['a photo of a cat.', 'a photo of a dog.', 'itap of a tench.', 'the grand piano in a video game.', ''];
const imageFiles = ['airplane/0000', 'bird/0017', 'frog/0003'].map((f) => sharedPath(`data/images/cifar10-sample/${f}.jpg`));
const images: RawImage[] = await Promise.all(imageFiles.map((f) => readImageFile(f)));
const pixels = new Float32Array(images.length * 3 * 224 * 224);
for (const [i, im] of images.entries()) pixels.set(preprocessClipImage(im), i * 3 * 224 * 224);

function normalize(x: Float64Array, cols: number): Float64Array {
  const out = new Float64Array(x.length);
  for (let i = 0; i < x.length / cols; i++) {
    let s = 0;
    for (let j = 0; j < cols; j++) s += x[i * cols + j]! ** 2;
    for (let j = 0; j < cols; j++) out[i * cols + j] = x[i * cols + j]! / Math.sqrt(s);
  }
  return out;
}

function check(what: string, actual: ArrayLike<number>, expected: ArrayLike<number>): void {
  const diff = maxAbsDiff(actual, expected);
  console.log(`[fixture] ${what} max-abs ${diff.toExponential(2)}`);
  expect(diff).toBeLessThanOrEqual(1e-5);
}

function tokens(padding: 'zero' | 'end-token') {
  const t = tokenizer.tokenize(texts, { padding });
  return { ids: Array.from(t.ids), mask: Array.from(t.attentionMask) };
}

describe('ClipModel on every fixture layout (onnxruntime-node)', () => {
  const expectedImages = normalize(expectedImageEmbeds(pixels, images.length), 32);

  it('HF separate towers (text_model.onnx + vision_model.onnx), int64 ids, attention mask', async () => {
    const model = await ClipModel.load(runtime, { textModel: fixtures.textModel, visionModel: fixtures.visionModel }, { tokenizer });
    expect(model.layout).toBe('hf');
    const t = await model.encodeTexts(texts, { batchSize: 2 });
    const { ids, mask } = tokens('end-token');
    const expected = normalize(expectedTextEmbeds('hf', ids, mask, texts.length), 32);
    expect([t.rows, t.cols]).toEqual([5, 32]);
    check('hf text', t.data, expected);
    const v = await model.encodeImages(images, { batchSize: 2 });
    check('hf vision', v.data, expectedImages);
    expect(model.counts).toEqual({ textRuns: 3, textsEncoded: 5, imageRuns: 2, imagesEncoded: 3 });
    await model.release();
  });

  it('HF joint model.onnx (dummy inputs for the other modality)', async () => {
    const model = await ClipModel.load(runtime, { model: fixtures.jointModel }, { tokenizer });
    expect(model.layout).toBe('hf-joint');
    const t = await model.encodeTexts(texts);
    const v = await model.encodePixels(pixels, images.length);
    const { ids, mask } = tokens('end-token');
    const joint = expectedJointOutputs(ids, mask, texts.length, pixels, images.length);
    check('joint text', t.data, joint.textEmbeds);
    check('joint vision', v.data, joint.imageEmbeds);
    await model.release();
  });

  for (const [name, textual] of [
    ['int32', fixtures.openaiTextual],
    ['int64', fixtures.openaiTextualInt64],
  ] as const) {
    it(`OpenAI-style visual.onnx + textual.onnx (${name} ids as declared)`, async () => {
      const model = await ClipModel.load(runtime, { textModel: textual, visionModel: fixtures.openaiVisual }, { tokenizer });
      expect(model.layout).toBe('openai');
      const t = await model.encodeTexts(texts, { batchSize: 3 });
      const { ids } = tokens('zero');
      check(`openai text ${name}`, t.data, normalize(expectedTextEmbeds('openai', ids, undefined, texts.length), 32));
      const v = await model.encodeImages(images);
      check(`openai vision (${name} run)`, v.data, expectedImages);
      await model.release();
    });
  }

  it('single-tower loads: vision-only and text-only', async () => {
    const vision = await ClipModel.load(runtime, { model: fixtures.visionModel });
    expect(vision.hasVision && !vision.hasText).toBe(true);
    expect(maxAbsDiff((await vision.encodeImages(images)).data, expectedImages)).toBeLessThanOrEqual(1e-5);
    await expect(vision.encodeTexts(['x'])).rejects.toThrowError(/no text model/);
    const text = await ClipModel.load(runtime, { model: fixtures.openaiTextual }, { tokenizer });
    expect(text.hasText && !text.hasVision).toBe(true);
  });

  it('explicit names and layout override detection', async () => {
    const model = await ClipModel.load(
      runtime,
      { textModel: fixtures.openaiTextual, visionModel: fixtures.openaiVisual },
      {
        tokenizer,
        layout: 'openai',
        inputNames: { inputIds: 'input', pixelValues: 'input' },
        outputNames: { textEmbeds: 'output', imageEmbeds: 'output' },
      },
    );
    expect(model.layout).toBe('openai');
    expect((await model.encodeTexts(['a cat'])).cols).toBe(32);
    await expect(
      ClipModel.load(runtime, { textModel: fixtures.textModel }, { tokenizer, outputNames: { textEmbeds: 'nope' } }),
    ).rejects.toMatchObject({ code: 'unknown-layout', message: expect.stringMatching(/no output named 'nope'/) });
    // Forcing the OpenAI layout on an HF tower: its second input is reported.
    await expect(
      ClipModel.load(runtime, { textModel: fixtures.textModel }, { tokenizer, layout: 'openai', inputNames: { inputIds: 'input_ids' } }),
    ).rejects.toMatchObject({ code: 'unknown-layout', message: expect.stringMatching(/unexpected input\(s\) 'attention_mask'/) });
  });

  it('progress callback and abort within one batch', async () => {
    const model = await ClipModel.load(runtime, { textModel: fixtures.textModel, visionModel: fixtures.visionModel }, { tokenizer });
    const progress: number[] = [];
    await model.encodeImages(images, { batchSize: 1, onProgress: (p) => progress.push(p.done) });
    expect(progress).toEqual([1, 2, 3]);
    const controller = new AbortController();
    const before = model.counts.imageRuns;
    const run = model.encodeImages(images, {
      batchSize: 1,
      signal: controller.signal,
      onProgress: () => controller.abort(new Error('user cancelled')),
    });
    await expect(run).rejects.toSatisfy((e: unknown) => e instanceof RuntimeError && e.code === 'aborted');
    expect(model.counts.imageRuns - before).toBe(1);
  });
});

describe('ClipModel errors', () => {
  it('not ONNX / truncated model → invalid-model naming which model', async () => {
    await expect(
      ClipModel.load(runtime, { textModel: new TextEncoder().encode('not a model at all') }, { tokenizer }),
    ).rejects.toMatchObject({
      code: 'invalid-model',
      message: expect.stringMatching(/^text model \(18 bytes\)/),
    });
    await expect(ClipModel.load(runtime, { visionModel: fixtures.visionModel.subarray(0, 3000) })).rejects.toMatchObject({
      code: 'invalid-model',
    });
    await expect(ClipModel.load(runtime, { model: '/nonexistent/model.onnx' })).rejects.toMatchObject({
      code: 'invalid-model',
      message: expect.stringMatching(/\/nonexistent\/model.onnx/),
    });
  });
  it('inputs matching no layout → unknown-layout listing inputs and known layouts', async () => {
    const { GraphBuilder } = await import('@gla/onnx-builder');
    const g = new GraphBuilder('odd');
    g.addInput('foo', 'float32', ['n', 4]);
    g.addInput('bar', 'float32', ['n', 4]);
    g.addNode('Add', ['foo', 'bar'], ['baz']);
    g.addOutput('baz', 'float32', ['n', 4]);
    const odd = g.toBytes({ opsetVersion: 17 });
    const error = await ClipModel.load(runtime, { model: odd }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EncoderError);
    expect((error as EncoderError).code).toBe('unknown-layout');
    expect((error as EncoderError).message).toMatch(/foo float32\[n, 4\]; bar float32/);
    expect((error as EncoderError).message).toMatch(/'hf'.*'hf-joint'.*'openai'/);
  });
  it('text encoding without a tokenizer, bad inputs', async () => {
    const model = await ClipModel.load(runtime, { textModel: fixtures.textModel });
    await expect(model.encodeTexts(['a'])).rejects.toThrowError(/tokenizer/);
    await expect(ClipModel.load(runtime, {})).rejects.toMatchObject({ code: 'invalid-input' });
    const vision = await ClipModel.load(runtime, { visionModel: fixtures.visionModel });
    await expect(vision.encodePixels(new Float32Array(10), 1)).rejects.toMatchObject({ code: 'invalid-input' });
    expect(ClipTokenizer).toBeDefined();
  });
});
