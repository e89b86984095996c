// onnxruntime < 1.21 reports no input/output metadata. Both adapters then take the signature from
// the model's declarations (@gla/runtime/adapter's resolveSignature): the whole conformance suite
// must pass with ORT's metadata hidden, with the same signatures. (Before the shared shell,
// onnx-node refused every model here while onnx-web decoded it.) onnx-web runs the same in Chromium.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { registerConformanceSuite } from '@gla/fixtures/conformance-vitest';
import { conformanceFixtures } from '@gla/runtime/conformance';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNodeRuntime, loadOrt } from '../src/index';

const dir = mkdtempSync(join(tmpdir(), 'gla-onnx-node-meta-'));
const hidden: { restore?: () => void } = {};

beforeAll(async () => {
  const ort = await loadOrt();
  const proto = (ort.InferenceSession as unknown as { prototype: object }).prototype;
  const saved = ['inputMetadata', 'outputMetadata'].map((key) => [key, Object.getOwnPropertyDescriptor(proto, key)] as const);
  for (const [key, descriptor] of saved) {
    expect(descriptor?.get, `onnxruntime-common's InferenceSession has a ${key} getter`).toBeTypeOf('function');
    Object.defineProperty(proto, key, { configurable: true, get: () => undefined });
  }
  hidden.restore = () => {
    for (const [key, descriptor] of saved) Object.defineProperty(proto, key, descriptor!);
  };
});
afterAll(() => {
  hidden.restore?.();
  rmSync(dir, { recursive: true, force: true });
});

describe('onnxruntime without metadata', () => {
  it('is simulated: sessions report no metadata', async () => {
    const ort = await loadOrt();
    const session = await ort.InferenceSession.create(conformanceFixtures().affine.bytes);
    expect(session.inputMetadata).toBeUndefined();
    await session.release();
  });
});

registerConformanceSuite(
  'onnxruntime-node with its metadata hidden (as onnxruntime < 1.21)',
  () => createNodeRuntime(),
  () => {
    const fixtures = conformanceFixtures();
    const path = join(dir, 'affine.onnx');
    writeFileSync(path, fixtures.affine.bytes);
    return { ...fixtures, affineLocation: path, missingLocation: join(dir, 'missing', 'no-such-model.onnx') };
  },
);
