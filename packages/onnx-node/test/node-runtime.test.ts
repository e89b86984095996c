import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { buildClipFixtures, expectedImageEmbeds, expectedTextEmbeds, samplePixelValues, sampleTokenIds } from '@gla/fixtures/clip';
import { buildConformanceFixtures } from '@gla/fixtures/conformance';
import { type ModelSession, RuntimeError } from '@gla/runtime';
import { maxAbsDifference } from '@gla/runtime/conformance';
import { afterAll, describe, expect, it } from 'vitest';
import { createNodeRuntime } from '../src/index';

const dir = mkdtempSync(join(tmpdir(), 'gla-onnx-node-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const fixtures = buildConformanceFixtures();
const clip = buildClipFixtures();

async function rejection(promise: Promise<unknown>): Promise<RuntimeError> {
  try {
    await promise;
  } catch (e) {
    expect(e).toBeInstanceOf(RuntimeError);
    return e as RuntimeError;
  }
  throw new Error('expected a rejection');
}

describe('createNodeRuntime', () => {
  it('loads from a file: URL and a path, and names a missing path', async () => {
    const path = join(dir, 'affine.onnx');
    writeFileSync(path, fixtures.affine.bytes);
    const runtime = createNodeRuntime();
    expect(runtime.name).toBe('onnxruntime-node');
    const s = await runtime.load(pathToFileURL(path));
    expect(s.inputs).toEqual([{ name: 'x', dtype: 'float32', shape: ['batch', 4] }]);
    expect(s.executionProvider).toBe('cpu');
    await s.release();
    const missing = await rejection(runtime.load(join(dir, 'nope', 'vision_model.onnx')));
    expect(missing.code).toBe('model-not-found');
    expect(missing.message).toContain(join(dir, 'nope', 'vision_model.onnx'));
    expect((await rejection(runtime.load(dir))).code).toBe('model-not-found');
    expect((await rejection(runtime.load('https://example.com/model.onnx'))).code).toBe('model-not-found');
  });

  it("says why bytes are invalid, and maps a bad file to 'invalid-model'", async () => {
    const runtime = createNodeRuntime();
    const truncated = await rejection(runtime.load(fixtures.affine.bytes.subarray(0, 50)));
    expect(truncated.code).toBe('invalid-model');
    expect(truncated.message).toMatch(/truncated/);
    const notOnnx = join(dir, 'model.json');
    writeFileSync(notOnnx, '{"modelTopology": {}}');
    const e = await rejection(runtime.load(notOnnx));
    expect(e.code).toBe('invalid-model');
    expect(e.message).toContain(notOnnx);
  });

  it('execution providers: unknown and unavailable ones are refused clearly, a cpu fallback is used', async () => {
    const unknown = await rejection(createNodeRuntime({ executionProviders: ['tpu'] }).load(fixtures.affine.bytes));
    expect(unknown.code).toBe('unsupported-provider');
    expect(unknown.message).toMatch(/'tpu'.*supports cpu/);
    // CUDA libraries are not installed on this machine (the install script never runs).
    const cuda = await rejection(createNodeRuntime({ executionProviders: ['cuda'] }).load(fixtures.affine.bytes));
    expect(cuda.code).toBe('unsupported-provider');
    expect(cuda.message).toMatch(/cuda/);
    const s = await createNodeRuntime({ executionProviders: ['cuda', 'cpu'] }).load(fixtures.affine.bytes);
    expect(s.executionProvider).toBe('cpu');
    await s.release();
    const perLoad = await createNodeRuntime().load(fixtures.affine.bytes, { executionProviders: ['cpu'], threads: 1 });
    expect(perLoad.executionProvider).toBe('cpu');
    await perLoad.release();
  });

  it('validates thread counts', () => {
    expect(() => createNodeRuntime({ threads: 0 })).toThrow(RangeError);
    expect(() => createNodeRuntime({ interOpThreads: 1.5 })).toThrow(RangeError);
  });

  it('runs the CLIP fixtures to the independent reference (≤ 1e-5)', async () => {
    const runtime = createNodeRuntime({ threads: 2 });
    const sessions: ModelSession[] = [];
    const open = async (bytes: Uint8Array) => {
      const s = await runtime.load(bytes);
      sessions.push(s);
      return s;
    };
    const vision = await open(clip.visionModel);
    const pixels = samplePixelValues(2);
    const { image_embeds } = await vision.run({ pixel_values: { dtype: 'float32', dims: [2, 3, 224, 224], data: pixels } });
    expect(image_embeds!.dims).toEqual([2, 32]);
    expect(maxAbsDifference(image_embeds!.data as Float32Array, expectedImageEmbeds(pixels, 2))).toBeLessThanOrEqual(1e-5);
    const text = await open(clip.textModel);
    const { inputIds, attentionMask } = sampleTokenIds(3);
    const out = await text.run(
      {
        input_ids: { dtype: 'int64', dims: [3, 77], data: inputIds },
        attention_mask: { dtype: 'int64', dims: [3, 77], data: attentionMask },
      },
      ['text_embeds'],
    );
    expect(Object.keys(out)).toEqual(['text_embeds']);
    expect(
      maxAbsDifference(out['text_embeds']!.data as Float32Array, expectedTextEmbeds('hf', inputIds, attentionMask, 3)),
    ).toBeLessThanOrEqual(1e-5);
    const textual = await open(clip.openaiTextual);
    const bad = await rejection(textual.run({ input: { dtype: 'int64', dims: [3, 77], data: inputIds } }));
    expect(bad.code).toBe('dtype-mismatch');
    expect(bad.message).toMatch(/'input' expects int32 \[batch, 77\], got int64 \[3, 77\]/);
    for (const s of sessions) await s.release();
  });
});
