// Runs in the page: the runtime conformance suite against createWebRuntime.
import { conformanceFixtures, runConformance } from '@gla/runtime/conformance';
import { createWebRuntime, type WebRuntimeOptions } from '../../src/index';

export default async function run(args: { options: WebRuntimeOptions }) {
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
  const results = await runConformance(runtime, fixtures);
  const ort = await import('onnxruntime-web');
  return {
    results,
    executionProvider,
    threads: ort.env.wasm.numThreads,
    isolated: (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true,
    hasWebGpu: (globalThis as { navigator?: { gpu?: unknown } }).navigator?.gpu !== undefined,
  };
}
