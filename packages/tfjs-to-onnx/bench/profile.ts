/**
 * `pnpm --filter @gla/tfjs-to-onnx profile [-- batches=4 long|short|fortunes|bucketed]` (PROFILE_OPTIMIZE=0: without the rewrites): ORT per-node profile of the
 * converted USE lite at batch 64 on real fortunes (aggregated by op type and by node), and the
 * ORT-optimised model dumped to $PROFILE_DIR/optimized.onnx for inspecting fusions.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import '@gla/onnx-node/no-telemetry'; // before onnxruntime-node: ORT_DISABLE_TELEMETRY=1 unless set
import * as ort from 'onnxruntime-node';
import { convertGraphModelFromDir, resolveModelPackageDir, USE_LITE_PACKAGE } from '../src/node';
import { fortuneEntries, loadReference, ragged, realTexts } from './reference';

const batches = Number(process.argv[2] ?? 4);
const kind = process.argv[3] ?? 'long';
const outDir = process.env.PROFILE_DIR ?? '/tmp/tfjs-to-onnx-profile';
rmSync(outDir, { recursive: true, force: true });
mkdirSync(outDir, { recursive: true });
const { onnx, report } = await convertGraphModelFromDir(resolveModelPackageDir(USE_LITE_PACKAGE, import.meta.url), {
  optimize: process.env.PROFILE_OPTIMIZE !== '0',
});
console.log('ONNX op counts', report.onnxOpCounts, 'nodes', report.onnxNodeCount);
const reference = await loadReference();
let texts = realTexts(64 * batches);
if (kind === 'short')
  texts = realTexts(64 * batches * 2)
    .map((t) => (t.split(/(?<=[.!?])\s|\n/)[0] ?? t).trim())
    .filter((t) => t.length > 0 && t.length <= 200)
    .slice(0, 64 * batches);
if (kind === 'fortunes' || kind === 'bucketed') texts = fortuneEntries(64 * batches);
const ids = texts.map((t) => reference.model.tokenizer.encode(t || 'end'));
if (kind === 'bucketed') ids.sort((a, b) => a.length - b.length);
const feeds = [];
for (let b = 0; b < batches; b++) feeds.push(ragged(ids.slice(b * 64, (b + 1) * 64)));
const session = await ort.InferenceSession.create(onnx, {
  intraOpNumThreads: 2,
  interOpNumThreads: 1,
  graphOptimizationLevel: 'all',
  enableProfiling: true,
  profileFilePrefix: join(outDir, 'ort'),
  optimizedModelFilePath: join(outDir, 'optimized.onnx'),
});
for (let rep = 0; rep < 3; rep++) {
  for (const f of feeds) {
    const t0 = performance.now();
    await session.run({
      indices: new ort.Tensor('int32', f.indices, [f.values.length, 2]),
      values: new ort.Tensor('int32', f.values, [f.values.length]),
    });
    if (rep === 2) console.log(`batch tokens ${f.values.length} ms ${(performance.now() - t0).toFixed(1)}`);
  }
}
session.endProfiling();
await new Promise((r) => setTimeout(r, 500));
const file = readdirSync(outDir).find((f) => f.startsWith('ort') && f.endsWith('.json'))!;
const events = JSON.parse(readFileSync(join(outDir, file), 'utf8')) as Array<{
  cat: string;
  name: string;
  dur: number;
  args?: { op_name?: string; output_type_shape?: unknown };
}>;
const byOp = new Map<string, number>();
const byNode = new Map<string, { op: string; dur: number; shape: string }>();
let total = 0;
for (const e of events) {
  if (e.cat !== 'Node' || !e.name.endsWith('_kernel_time')) continue;
  const op = e.args?.op_name ?? '?';
  byOp.set(op, (byOp.get(op) ?? 0) + e.dur);
  const n = byNode.get(e.name) ?? { op, dur: 0, shape: JSON.stringify(e.args?.output_type_shape ?? '').slice(0, 80) };
  n.dur += e.dur;
  byNode.set(e.name, n);
  total += e.dur;
}
const runs = events.filter((e) => e.name === 'model_run').reduce((s, e) => s + e.dur, 0);
console.log(`total kernel time ${(total / 1000).toFixed(1)} ms; model_run total ${(runs / 1000).toFixed(1)} ms`);
console.table(
  [...byOp].sort((a, b) => b[1] - a[1]).map(([op, d]) => ({ op, ms: (d / 1000).toFixed(1), pct: ((100 * d) / total).toFixed(1) })),
);
console.table(
  [...byNode]
    .sort((a, b) => b[1].dur - a[1].dur)
    .slice(0, 40)
    .map(([n, v]) => ({
      node: n.replace('module_apply_default/Encoder_en/KonaTransformer/Encode/TransformerStack/', '').slice(-90),
      op: v.op,
      ms: (v.dur / 1000).toFixed(1),
      shape: v.shape,
    })),
);
