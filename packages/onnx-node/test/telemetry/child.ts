// Runs a model the way an application would, in its own process, for the telemetry test:
//   node --conditions=source --import tsx child.ts <mode> <model.onnx> <pixels.bin> <durationMs>
// mode 'adapter': through @gla/onnx-node only (as `gla run` does);
// mode 'ort-first': the application imports onnxruntime-node before @gla/onnx-node;
// mode 'no-telemetry-import': `import '@gla/onnx-node/no-telemetry'`, then onnxruntime-node directly.
// Prints one JSON line: { embeds: number[], runs: number }.
import { readFileSync } from 'node:fs';

const [mode, modelPath, pixelsPath, durationText] = process.argv.slice(2) as [string, string, string, string];
const pixels = new Float32Array(new Uint8Array(readFileSync(pixelsPath)).buffer);
const batch = pixels.length / (3 * 224 * 224);
const deadline = Date.now() + Number(durationText);
let embeds: Float32Array | undefined;
let runs = 0;

if (mode === 'no-telemetry-import') {
  await import('@gla/onnx-node/no-telemetry');
  const ort = await import('onnxruntime-node');
  const session = await ort.InferenceSession.create(modelPath);
  do {
    const out = await session.run({ pixel_values: new ort.Tensor('float32', pixels, [batch, 3, 224, 224]) });
    embeds = out['image_embeds']!.data as Float32Array;
    runs++;
    await new Promise((r) => setTimeout(r, 200));
  } while (Date.now() < deadline);
  await session.release();
} else {
  if (mode === 'ort-first') {
    const ort = await import('onnxruntime-node');
    if (typeof ort.InferenceSession !== 'function') throw new Error('onnxruntime-node did not load');
  }
  const { createNodeRuntime } = await import('@gla/onnx-node');
  const session = await createNodeRuntime({ threads: 1 }).load(modelPath);
  do {
    const out = await session.run({ pixel_values: { dtype: 'float32', dims: [batch, 3, 224, 224], data: pixels } });
    embeds = out['image_embeds']!.data as Float32Array;
    runs++;
    await new Promise((r) => setTimeout(r, 200));
  } while (Date.now() < deadline);
  await session.release();
}
process.stdout.write(`${JSON.stringify({ embeds: Array.from(embeds!), runs })}\n`);
