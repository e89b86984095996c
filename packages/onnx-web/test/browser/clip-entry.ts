// Runs in the page: CLIP fixture embeddings with createWebRuntime, models loaded by URL.
import { createWebRuntime } from '../../src/index';

async function bytes(url: string): Promise<ArrayBuffer> {
  return (await fetch(url)).arrayBuffer();
}

export default async function run(args: { batch: number; textBatch: number; seq: number }) {
  const runtime = createWebRuntime({ wasmPaths: '/ort/', executionProviders: ['wasm'] });
  const vision = await runtime.load('/models/vision_model.onnx');
  const text = await runtime.load(new URL('/models/text_model.onnx', location.href));
  const pixels = new Float32Array(await bytes('/inputs/pixels.bin'));
  const ids = new BigInt64Array(await bytes('/inputs/input_ids.bin'));
  const mask = new BigInt64Array(await bytes('/inputs/attention_mask.bin'));
  const image = await vision.run({ pixel_values: { dtype: 'float32', dims: [args.batch, 3, 224, 224], data: pixels } });
  const textOut = await text.run({
    input_ids: { dtype: 'int64', dims: [args.textBatch, args.seq], data: ids },
    attention_mask: { dtype: 'int64', dims: [args.textBatch, args.seq], data: mask },
  });
  await vision.release();
  await text.release();
  return {
    imageEmbeds: image['image_embeds']!.data,
    textEmbeds: textOut['text_embeds']!.data,
    lastHidden: textOut['last_hidden_state']!.data,
  };
}
