// Runs in the page: the runtime conformance suite against createWebRuntime. With `hideMetadata`,
// ORT's input/output metadata are hidden first, as onnxruntime-web < 1.21 has none.
import { conformanceFixtures, runConformance } from '@gla/runtime/conformance';
import * as ort from 'onnxruntime-web';
import { createWebRuntime, type WebRuntimeOptions } from '../../src/index';

export default async function run(args: { options: WebRuntimeOptions; hideMetadata?: boolean }) {
  let metadataHidden = false;
  if (args.hideMetadata === true) {
    for (const key of ['inputMetadata', 'outputMetadata']) {
      Object.defineProperty((ort.InferenceSession as unknown as { prototype: object }).prototype, key, {
        configurable: true,
        get: () => undefined,
      });
    }
  }
  // the fixtures shipped with @gla/runtime, as a third-party adapter would run the suite
  const fixtures = {
    ...conformanceFixtures(),
    affineLocation: '/models/affine.onnx',
    missingLocation: '/models/no-such-model.onnx',
  };
  const runtime = createWebRuntime(args.options);
  const probe = await runtime.load(fixtures.affine.bytes);
  const executionProvider = probe.executionProvider;
  await probe.release();
  if (args.hideMetadata === true) {
    const raw = await ort.InferenceSession.create(fixtures.affine.bytes.slice());
    metadataHidden = raw.inputMetadata === undefined && raw.outputMetadata === undefined;
    await raw.release();
  }
  const results = await runConformance(runtime, fixtures);
  return {
    results,
    metadataHidden,
    executionProvider,
    threads: ort.env.wasm.numThreads,
    isolated: (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true,
    hasWebGpu: (globalThis as { navigator?: { gpu?: unknown } }).navigator?.gpu !== undefined,
  };
}
