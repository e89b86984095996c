import { decodeModel } from '@gla/onnx-builder';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildClipFixtures,
  CLIP_FIXTURE_DIMS,
  type ClipFixtures,
  expectedImageEmbeds,
  expectedJointOutputs,
  expectedLastHiddenState,
  expectedTextEmbeds,
  samplePixelValues,
  sampleTokenIds,
} from '../fixtures/clip-fixtures';

const D = CLIP_FIXTURE_DIMS.embed;

function maxAbsDiff(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  expect(actual.length).toBe(expected.length);
  let m = 0;
  for (let i = 0; i < actual.length; i++) m = Math.max(m, Math.abs(actual[i]! - expected[i]!));
  return m;
}

let fixtures: ClipFixtures;
const sessions: ort.InferenceSession[] = [];
async function open(bytes: Uint8Array): Promise<ort.InferenceSession> {
  const s = await ort.InferenceSession.create(bytes);
  sessions.push(s);
  return s;
}

beforeAll(() => {
  fixtures = buildClipFixtures();
});
afterAll(async () => {
  for (const s of sessions) await s.release();
});

describe('CLIP fixture models: signatures', () => {
  it('declare the names, dtypes and dynamic axes of the real exports', () => {
    const sig = (bytes: Uint8Array) => {
      const m = decodeModel(bytes);
      return {
        inputs: m.graph.inputs.map((i) => [i.name, i.dtype, i.shape]),
        outputs: m.graph.outputs.map((o) => [o.name, o.dtype, o.shape]),
      };
    };
    expect(sig(fixtures.textModel)).toEqual({
      inputs: [
        ['input_ids', 'int64', ['batch_size', 'sequence_length']],
        ['attention_mask', 'int64', ['batch_size', 'sequence_length']],
      ],
      outputs: [
        ['text_embeds', 'float32', ['batch_size', D]],
        ['last_hidden_state', 'float32', ['batch_size', 'sequence_length', 16]],
      ],
    });
    expect(sig(fixtures.visionModel)).toEqual({
      inputs: [['pixel_values', 'float32', ['batch_size', 3, 224, 224]]],
      outputs: [['image_embeds', 'float32', ['batch_size', D]]],
    });
    expect(sig(fixtures.jointModel).inputs.map((i) => i[0])).toEqual(['input_ids', 'attention_mask', 'pixel_values']);
    expect(sig(fixtures.jointModel).outputs.map((o) => o[0])).toEqual([
      'logits_per_image',
      'logits_per_text',
      'text_embeds',
      'image_embeds',
    ]);
    expect(sig(fixtures.openaiVisual)).toEqual({
      inputs: [['input', 'float32', ['batch', 3, 224, 224]]],
      outputs: [['output', 'float32', ['batch', D]]],
    });
    expect(sig(fixtures.openaiTextual)).toEqual({
      inputs: [['input', 'int32', ['batch', 77]]],
      outputs: [['output', 'float32', ['batch', D]]],
    });
    expect(sig(fixtures.openaiTextualInt64).inputs).toEqual([['input', 'int64', ['batch', 77]]]);
  });

  it('are deterministic and small', () => {
    const again = buildClipFixtures();
    expect(again.textModel).toEqual(fixtures.textModel);
    expect(again.visionModel).toEqual(fixtures.visionModel);
    for (const bytes of [fixtures.textModel, fixtures.visionModel, fixtures.jointModel]) {
      expect(bytes.length).toBeLessThan(200_000);
    }
  });
});

describe('CLIP fixture models: ORT outputs equal the independent Float64 computation (≤ 1e-5)', () => {
  it.each([1, 3])('vision_model.onnx and visual.onnx, batch %i', async (batch) => {
    const pixels = samplePixelValues(batch, batch);
    const expected = expectedImageEmbeds(pixels, batch);
    const hf = await open(fixtures.visionModel);
    const out = await hf.run({ pixel_values: new ort.Tensor('float32', pixels, [batch, 3, 224, 224]) });
    expect(out.image_embeds!.dims).toEqual([batch, D]);
    expect(maxAbsDiff(out.image_embeds!.data as Float32Array, expected)).toBeLessThanOrEqual(1e-5);
    const openai = await open(fixtures.openaiVisual);
    const out2 = await openai.run({ input: new ort.Tensor('float32', pixels, [batch, 3, 224, 224]) });
    expect(maxAbsDiff(out2.output!.data as Float32Array, expected)).toBeLessThanOrEqual(1e-5);
    // Embeddings differ between images (the fixture is not degenerate).
    if (batch > 1) expect(maxAbsDiff(expected.subarray(0, D), expected.subarray(D, 2 * D))).toBeGreaterThan(1e-3);
  });

  it.each([
    [1, 77],
    [4, 77],
    [2, 9],
  ])('text_model.onnx, batch %i, sequence %i (ids up to 49407, padding masked)', async (batch, seq) => {
    const { inputIds, attentionMask } = sampleTokenIds(batch, seq);
    const session = await open(fixtures.textModel);
    const out = await session.run({
      input_ids: new ort.Tensor('int64', inputIds, [batch, seq]),
      attention_mask: new ort.Tensor('int64', attentionMask, [batch, seq]),
    });
    expect(out.text_embeds!.dims).toEqual([batch, D]);
    const expected = expectedTextEmbeds('hf', inputIds, attentionMask, batch);
    expect(maxAbsDiff(out.text_embeds!.data as Float32Array, expected)).toBeLessThanOrEqual(1e-5);
    expect(out.last_hidden_state!.dims).toEqual([batch, seq, 16]);
    expect(maxAbsDiff(out.last_hidden_state!.data as Float32Array, expectedLastHiddenState(inputIds))).toBeLessThanOrEqual(1e-5);
  });

  it('text_model.onnx: padding does not change the embedding; the mask does', async () => {
    const session = await open(fixtures.textModel);
    const ids = [49406n, 320n, 1929n, 49407n];
    const run = async (row: bigint[], mask: bigint[]) =>
      (
        await session.run({
          input_ids: new ort.Tensor('int64', BigInt64Array.from(row), [1, row.length]),
          attention_mask: new ort.Tensor('int64', BigInt64Array.from(mask), [1, row.length]),
        })
      ).text_embeds!.data as Float32Array;
    const short = await run(ids, [1n, 1n, 1n, 1n]);
    const padded = await run([...ids, 0n, 0n, 0n], [1n, 1n, 1n, 1n, 0n, 0n, 0n]);
    expect(maxAbsDiff(short, padded)).toBeLessThanOrEqual(1e-6);
    const unmasked = await run([...ids, 0n, 0n, 0n], [1n, 1n, 1n, 1n, 1n, 1n, 1n]);
    expect(maxAbsDiff(short, unmasked)).toBeGreaterThan(1e-3);
  });

  it.each(['int32', 'int64'] as const)('textual.onnx (%s ids) pools at argmax = end-of-text token', async (dtype) => {
    const batch = 3;
    const { inputIds, attentionMask } = sampleTokenIds(batch, 77, 5);
    const session = await open(dtype === 'int32' ? fixtures.openaiTextual : fixtures.openaiTextualInt64);
    const tensor =
      dtype === 'int32'
        ? new ort.Tensor('int32', Int32Array.from(inputIds, Number), [batch, 77])
        : new ort.Tensor('int64', inputIds, [batch, 77]);
    const out = await session.run({ input: tensor });
    const expected = expectedTextEmbeds('openai', inputIds, attentionMask, batch);
    expect(maxAbsDiff(out.output!.data as Float32Array, expected)).toBeLessThanOrEqual(1e-5);
    // argmax pooling differs from the HF masked mean
    expect(maxAbsDiff(expected, expectedTextEmbeds('hf', inputIds, attentionMask, batch))).toBeGreaterThan(1e-3);
  });

  it('model.onnx (joint): logits and normalised embeddings for 3 texts × 2 images', async () => {
    const { inputIds, attentionMask } = sampleTokenIds(3, 77, 2);
    const pixels = samplePixelValues(2, 7);
    const session = await open(fixtures.jointModel);
    const out = await session.run({
      input_ids: new ort.Tensor('int64', inputIds, [3, 77]),
      attention_mask: new ort.Tensor('int64', attentionMask, [3, 77]),
      pixel_values: new ort.Tensor('float32', pixels, [2, 3, 224, 224]),
    });
    const expected = expectedJointOutputs(inputIds, attentionMask, 3, pixels, 2);
    expect(out.logits_per_image!.dims).toEqual([2, 3]);
    expect(out.logits_per_text!.dims).toEqual([3, 2]);
    expect(maxAbsDiff(out.text_embeds!.data as Float32Array, expected.textEmbeds)).toBeLessThanOrEqual(1e-5);
    expect(maxAbsDiff(out.image_embeds!.data as Float32Array, expected.imageEmbeds)).toBeLessThanOrEqual(1e-5);
    // logits are 100 × cosine: compare relative to the scale
    expect(maxAbsDiff(out.logits_per_text!.data as Float32Array, expected.logitsPerText) / 100).toBeLessThanOrEqual(1e-5);
    expect(maxAbsDiff(out.logits_per_image!.data as Float32Array, expected.logitsPerImage) / 100).toBeLessThanOrEqual(1e-5);
  });
});
