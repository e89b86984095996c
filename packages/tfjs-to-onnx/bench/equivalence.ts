/**
 * ONNX (onnxruntime-node) vs the TF.js reference on N real texts (default 500):
 * `pnpm --filter @gla/tfjs-to-onnx equivalence [-- N]`. Exits 1 if max-abs > 1e-4 or cosine < 0.99999.
 */
import '@gla/onnx-node/no-telemetry'; // before onnxruntime-node: ORT_DISABLE_TELEMETRY=1 unless set
import * as ort from 'onnxruntime-node';
import { ensureConvertedModel } from '../src/node';
import { rowAgreement } from '../test/helpers';
import { loadReference, ragged, realTexts } from './reference';

const count = Number(process.argv[2] ?? 500);
const batchSize = 32;
const converted = await ensureConvertedModel({ resolveFrom: import.meta.url });
const output = converted.report.outputs[0]!.name;
const session = await ort.InferenceSession.create(converted.path, { intraOpNumThreads: 2 });
const reference = await loadReference();
const texts = realTexts(count);
// keep every batch's last text non-empty: the graph sizes its batch from the largest row index
let maxAbs = 0;
let minCosine = 1;
let rows = 0;
for (let start = 0; start < texts.length; start += batchSize) {
  const batch = texts.slice(start, start + batchSize);
  const { indices, values } = ragged(batch.map((t) => reference.model.tokenizer.encode(t)));
  const want = await reference.embed(indices, values);
  const out = await session.run({
    indices: new ort.Tensor('int32', indices, [values.length, 2]),
    values: new ort.Tensor('int32', values, [values.length]),
  });
  const got = out[output]!;
  if (JSON.stringify([...got.dims]) !== JSON.stringify(want.shape)) throw new Error(`shape ${got.dims} vs ${want.shape}`);
  const agreement = rowAgreement(got.data as Float32Array, want.data, want.shape[0]!, 512);
  maxAbs = Math.max(maxAbs, agreement.maxAbs);
  minCosine = Math.min(minCosine, agreement.minCosine);
  rows += want.shape[0]!;
}
console.log(
  `texts ${rows}  max-abs ${maxAbs.toExponential(3)}  min-cosine ${minCosine.toFixed(10)}  (reference: TF.js ${reference.backend})`,
);
if (maxAbs > 1e-4 || minCosine < 0.99999) process.exit(1);
