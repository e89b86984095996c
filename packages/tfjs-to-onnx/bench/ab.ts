/**
 * `pnpm --filter @gla/tfjs-to-onnx bench:ab [-- batches=3 reps=3]` (AB_SORT=1: length-bucketed): the converted USE lite with
 * and without the speed rewrites (`optimize: false`) on the same real fortunes batches — max-abs between them and vs the
 * TF.js reference, and median ms per batch, runs interleaved.
 */
import '@gla/onnx-node/no-telemetry'; // before onnxruntime-node: ORT_DISABLE_TELEMETRY=1 unless set
import * as ort from 'onnxruntime-node';
import { convertGraphModelFromDir, resolveModelPackageDir, USE_LITE_PACKAGE } from '../src/node';
import { fortuneEntries, loadReference, ragged } from './reference';

const batches = Number(process.argv[2] ?? 3);
const reps = Number(process.argv[3] ?? 3);
const dir = resolveModelPackageDir(USE_LITE_PACKAGE, import.meta.url);
const off = await convertGraphModelFromDir(dir, { optimize: false });
const on = await convertGraphModelFromDir(dir);
console.log(
  'nodes off/on',
  off.report.onnxNodeCount,
  on.report.onnxNodeCount,
  'rewrites',
  on.report.rewrites.map((r) => `${r.name} ${r.count}`).join(', '),
);
const reference = await loadReference();
const ids = fortuneEntries(64 * batches).map((t) => reference.model.tokenizer.encode(t));
if (process.env.AB_SORT) ids.sort((a, b) => a.length - b.length);
const feeds = [];
for (let b = 0; b < batches; b++) feeds.push(ragged(ids.slice(b * 64, (b + 1) * 64)));
const opts = { intraOpNumThreads: 2, interOpNumThreads: 1, graphOptimizationLevel: 'all' as const };
const sOff = await ort.InferenceSession.create(off.onnx, opts);
const sOn = await ort.InferenceSession.create(on.onnx, opts);
const out = on.report.outputs[0]!.name;
const run = async (s: ort.InferenceSession, f: { indices: Int32Array; values: Int32Array }) =>
  (
    await s.run({
      indices: new ort.Tensor('int32', f.indices, [f.values.length, 2]),
      values: new ort.Tensor('int32', f.values, [f.values.length]),
    })
  )[out]!.data as Float32Array;
let maxAbs = 0;
let maxRef = 0;
for (const f of feeds) {
  const a = await run(sOff, f);
  const b = await run(sOn, f);
  const r = (await reference.embed(f.indices, f.values)).data;
  for (let i = 0; i < a.length; i++) {
    maxAbs = Math.max(maxAbs, Math.abs(a[i]! - b[i]!));
    maxRef = Math.max(maxRef, Math.abs(r[i]! - b[i]!));
  }
}
console.log(`max-abs on vs off ${maxAbs.toExponential(2)}; on vs TF.js reference ${maxRef.toExponential(2)}`);
const tOff: number[] = [];
const tOn: number[] = [];
for (let r = 0; r < reps; r++) {
  for (const f of feeds) {
    let t = performance.now();
    await run(sOff, f);
    tOff.push(performance.now() - t);
    t = performance.now();
    await run(sOn, f);
    tOn.push(performance.now() - t);
  }
}
const med = (xs: number[]) => [...xs].sort((p, q) => p - q)[Math.floor(xs.length / 2)]!;
console.log(
  `median ms/batch off ${med(tOff).toFixed(1)} on ${med(tOn).toFixed(1)}  speed-up ${(med(tOff) / med(tOn)).toFixed(2)}x; sum ratio ${(tOff.reduce((p, q) => p + q) / tOn.reduce((p, q) => p + q)).toFixed(2)}x`,
);
