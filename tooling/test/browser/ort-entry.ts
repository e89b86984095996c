// Runs onnxruntime-web (wasm) in the page on a model served by the harness.
import * as ort from 'onnxruntime-web';

export default async function run(args: { model: string }) {
  ort.env.wasm.wasmPaths = '/ort/';
  const isolated = (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true;
  ort.env.wasm.numThreads = isolated ? 2 : 1;
  const session = await ort.InferenceSession.create(args.model, { executionProviders: ['wasm'] });
  const x = new ort.Tensor('float32', new Float32Array([1, 2, 3, 4]), [1, 4]);
  const out = await session.run({ x });
  await session.release();
  return { y: out['y']!.data, dims: out['y']!.dims, threads: ort.env.wasm.numThreads };
}
