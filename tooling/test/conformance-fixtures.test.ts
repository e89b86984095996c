import type { Tensor } from '@gla/runtime';
import { maxAbsDifference, packConformanceFixtures, unpackConformanceFixtures } from '@gla/runtime/conformance';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { buildConformanceFixtures } from '../fixtures/conformance-fixtures';

const toOrt = (t: Tensor) => new ort.Tensor(t.dtype as 'float32', t.data as Float32Array, t.dims as number[]);

describe('conformance fixtures', () => {
  const fixtures = buildConformanceFixtures();

  it('expected outputs (independent computation) match onnxruntime-node', async () => {
    for (const model of [fixtures.affine, fixtures.dtypes, fixtures.runFailure]) {
      const session = await ort.InferenceSession.create(model.bytes);
      expect(session.inputNames).toEqual(model.inputs.map((i) => i.name));
      expect(session.outputNames).toEqual(model.outputs.map((o) => o.name));
      for (const sample of model.samples) {
        const feeds = Object.fromEntries(Object.entries(sample.feeds).map(([k, t]) => [k, toOrt(t)]));
        const out = await session.run(feeds);
        for (const [name, expected] of Object.entries(sample.expected)) {
          const got = out[name]!;
          expect(got.dims).toEqual(expected.dims);
          if (expected.dtype === 'int64') expect(Array.from(got.data as BigInt64Array)).toEqual(Array.from(expected.data as BigInt64Array));
          else if (expected.dtype === 'float64' && got.type === 'float64')
            expect(Array.from(got.data as Float64Array)).toEqual(Array.from(expected.data as Float64Array));
          else expect(maxAbsDifference(got.data as Float32Array, expected.data as Float64Array)).toBeLessThanOrEqual(1e-5);
        }
      }
      await session.release();
    }
  });

  it('the run-failure model fails in onnxruntime for its failing feeds', async () => {
    const session = await ort.InferenceSession.create(fixtures.runFailure.bytes);
    const feeds = Object.fromEntries(Object.entries(fixtures.runFailure.failingFeeds).map(([k, t]) => [k, toOrt(t)]));
    await expect(session.run(feeds)).rejects.toThrow();
    await session.release();
  });

  it('pack/unpack round-trips every typed array', () => {
    const packed = packConformanceFixtures({ ...fixtures, affineLocation: '/x/affine.onnx' });
    const back = unpackConformanceFixtures(packed.slice().buffer);
    expect(back.affineLocation).toBe('/x/affine.onnx');
    expect(back.affine.bytes).toEqual(fixtures.affine.bytes);
    expect(back.dtypes.samples[0]!.feeds['ids']!.data).toEqual(fixtures.dtypes.samples[0]!.feeds['ids']!.data);
    expect(back.dtypes.samples[1]!.expected['valuesOut']!.data).toBeInstanceOf(Float64Array);
    expect(back.runFailure.failingFeeds['b']!.data).toEqual(new Float32Array([1, 2]));
    expect(() => unpackConformanceFixtures(new Uint8Array(16))).toThrow(/magic/);
  });
});
