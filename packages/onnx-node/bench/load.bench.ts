/**
 * What decoding every model on load cost (issue 13): the adapters used to decode the whole
 * protobuf with @gla/onnx-builder before ONNX Runtime parsed it again; now they decode only to
 * explain a failed load. Median over interleaved repetitions of `decodeModel(bytes)` and of
 * `createNodeRuntime().load(bytes)` (+ release) on one model file.
 *   node --conditions=source --import tsx bench/load.bench.ts <model.onnx> [reps = 7]
 */
import { readFileSync } from 'node:fs';
import { decodeModel } from '@gla/onnx-builder';
import { createNodeRuntime } from '../src/index';

const [path, repsText] = process.argv.slice(2);
if (path === undefined) throw new Error('usage: load.bench.ts <model.onnx> [reps]');
const reps = Number(repsText ?? 7);
const bytes = new Uint8Array(readFileSync(path));
const runtime = createNodeRuntime({ threads: 1 });
await (await runtime.load(bytes)).release(); // warm-up: ORT initialisation
const decode: number[] = [];
const load: number[] = [];
for (let i = 0; i < reps; i++) {
  let t = performance.now();
  decodeModel(bytes);
  decode.push(performance.now() - t);
  t = performance.now();
  const s = await runtime.load(bytes);
  load.push(performance.now() - t);
  await s.release();
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const d = median(decode);
const l = median(load);
console.log(`${path}: ${(bytes.length / 1e6).toFixed(1)} MB, ${reps} reps`);
console.log(`decodeModel (no longer on every load): median ${d.toFixed(1)} ms`);
console.log(
  `load now (ORT only): median ${l.toFixed(1)} ms; before ≈ ${(d + l).toFixed(1)} ms (load + decode): ${((d + l) / l).toFixed(2)}×`,
);
