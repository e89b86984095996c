// Runs in the page: times the fixture vision model with createWebRuntime.
import { createWebRuntime, type WebRuntimeOptions } from '../src/index';

export default async function run(args: { batch: number; runs: number; warmup: number; options: WebRuntimeOptions }) {
  const runtime = createWebRuntime(args.options);
  const session = await runtime.load('/models/vision_model.onnx');
  const data = new Float32Array(await (await fetch('/inputs/pixels.bin')).arrayBuffer());
  const feeds = { pixel_values: { dtype: 'float32' as const, dims: [args.batch, 3, 224, 224], data } };
  for (let i = 0; i < args.warmup; i++) await session.run(feeds);
  const times: number[] = [];
  let embeds: Float32Array | undefined;
  for (let i = 0; i < args.runs; i++) {
    const start = performance.now();
    const out = await session.run(feeds);
    times.push(performance.now() - start);
    embeds = out['image_embeds']!.data as Float32Array;
  }
  const provider = session.executionProvider;
  await session.release();
  const ort = await import('onnxruntime-web');
  return { times, embeds, provider, threads: ort.env.wasm.numThreads };
}
