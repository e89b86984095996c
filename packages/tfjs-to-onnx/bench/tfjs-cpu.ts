/**
 * Child process of convert.bench.ts: times the original TF.js graph on the TF.js CPU backend
 * (@tensorflow/tfjs-core + backend-cpu + converter 4.22), isolated from the reference's own
 * bundled TF.js. argv[2]: JSON file of ragged batches; prints { seconds: number[] } as JSON.
 */
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { join } from 'node:path';
import { loadGraphModel } from '@tensorflow/tfjs-converter';
import { resolveModelPackageDir, USE_LITE_PACKAGE } from '../src/node';

const batches = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as Array<{ indices: number[]; values: number[] }>;
await tf.setBackend('cpu');
const dir = resolveModelPackageDir(USE_LITE_PACKAGE, import.meta.url);
const modelJson = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
const paths: string[] = modelJson.weightsManifest.flatMap((g: { paths: string[] }) => g.paths);
const weightData = Buffer.concat(paths.map((p) => readFileSync(join(dir, p))));
const model = await loadGraphModel(
  tf.io.fromMemory({
    modelTopology: modelJson.modelTopology,
    weightSpecs: modelJson.weightsManifest.flatMap((g: { weights: tf.io.WeightsManifestEntry[] }) => g.weights),
    weightData: weightData.buffer.slice(weightData.byteOffset, weightData.byteOffset + weightData.byteLength),
  }),
);
const run = async (b: { indices: number[]; values: number[] }) => {
  const out = (await model.executeAsync({
    indices: tf.tensor2d(b.indices, [b.values.length, 2], 'int32'),
    values: tf.tensor1d(b.values, 'int32'),
  })) as tf.Tensor;
  out.dataSync();
  out.dispose();
};
await run({ indices: [0, 0, 0, 1], values: [10, 20] }); // warm-up
const seconds: number[] = [];
for (const b of batches) {
  const t0 = performance.now();
  await run(b);
  seconds.push((performance.now() - t0) / 1000);
}
process.stdout.write(`${JSON.stringify({ seconds })}\n`);
