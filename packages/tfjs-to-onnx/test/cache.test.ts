import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeModel } from '@gla/onnx-builder';
import * as ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { CONVERTER_VERSION, convertGraphModel } from '../src/index';
import { convertGraphModelFromDir, ensureConvertedModel, resolveModelPackageDir, USE_LITE_PACKAGE } from '../src/node';

const useDir = resolveModelPackageDir(USE_LITE_PACKAGE, import.meta.url);
const scratch = mkdtempSync(join(tmpdir(), 'tfjs-to-onnx-cache-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

describe('determinism', () => {
  it('converting twice gives identical bytes (and a valid ONNX model, opset 17)', async () => {
    const first = await convertGraphModelFromDir(useDir);
    const modelJson = readFileSync(join(useDir, 'model.json'));
    const paths: string[] = JSON.parse(modelJson.toString()).weightsManifest[0].paths;
    const concatenated = Buffer.concat(paths.map((p) => readFileSync(join(useDir, p))));
    const second = convertGraphModel({ modelJson: new Uint8Array(modelJson), weightData: new Uint8Array(concatenated) });
    expect(sha256(second.onnx)).toBe(sha256(first.onnx));
    expect(second.report).toEqual(first.report);
    const decoded = decodeModel(first.onnx);
    expect(decoded.opsetImports).toEqual([{ domain: '', version: 17 }]);
    expect(decoded.graph.inputs.map((i) => i.name)).toEqual(['indices', 'values']);
    expect(decoded.graph.nodes.length).toBe(first.report.onnxNodeCount);
    expect(first.report.converterVersion).toBe(CONVERTER_VERSION);
  });
});

describe('ensureConvertedModel cache', () => {
  it('converts once, then serves the verified file; rebuilds a truncated or corrupted file bit for bit', async () => {
    const cacheDir = join(scratch, 'c1');
    const miss = await ensureConvertedModel({ packageName: USE_LITE_PACKAGE, resolveFrom: import.meta.url, cacheDir });
    expect(miss.fromCache).toBe(false);
    expect(miss.path.startsWith(join(cacheDir, 'tfjs-to-onnx'))).toBe(true);
    const bytes = new Uint8Array(readFileSync(miss.path));
    expect(sha256(bytes)).toBe(miss.sha256);
    const direct = await convertGraphModelFromDir(useDir);
    expect(sha256(direct.onnx)).toBe(miss.sha256);

    const hit = await ensureConvertedModel({ modelDir: useDir, cacheDir });
    expect(hit).toMatchObject({ fromCache: true, path: miss.path, sha256: miss.sha256 });
    expect(hit.report.outputs).toEqual(miss.report.outputs);
    expect(hit.report.rewrites).toEqual(miss.report.rewrites); // the sidecar keeps the report's current shape
    expect(hit.report.rewrites.map((r) => r.count)).toEqual([4, 4, 1, 4, 1]);

    writeFileSync(miss.path, bytes.subarray(0, bytes.length >> 1)); // truncated
    const rebuilt = await ensureConvertedModel({ modelDir: useDir, cacheDir });
    expect(rebuilt).toMatchObject({ fromCache: false, sha256: miss.sha256 });
    const flipped = new Uint8Array(readFileSync(miss.path));
    flipped[flipped.length - 10]! ^= 0xff; // corrupted, same length
    writeFileSync(miss.path, flipped);
    const rebuilt2 = await ensureConvertedModel({ modelDir: useDir, cacheDir });
    expect(rebuilt2).toMatchObject({ fromCache: false, sha256: miss.sha256 });
    expect(sha256(new Uint8Array(readFileSync(miss.path)))).toBe(miss.sha256);
    rmSync(`${miss.path}.json`);
    expect((await ensureConvertedModel({ modelDir: useDir, cacheDir })).fromCache).toBe(false);
  });

  it('keys the cache on the options, and concurrent calls share one conversion', async () => {
    const cacheDir = join(scratch, 'c2');
    const [x, y] = await Promise.all([
      ensureConvertedModel({ modelDir: useDir, cacheDir }),
      ensureConvertedModel({ modelDir: useDir, cacheDir }),
    ]);
    expect(x.path).toBe(y.path);
    const other = await ensureConvertedModel({ modelDir: useDir, cacheDir, convertOptions: { opsetVersion: 18 } });
    expect(other.key).not.toBe(x.key);
    expect(decodeModel(new Uint8Array(readFileSync(other.path))).opsetImports[0]!.version).toBe(18);
    // opset 18 (axes as inputs) computes the same embeddings
    const feeds = {
      indices: new ort.Tensor('int32', Int32Array.from([0, 0, 0, 1, 1, 0]), [3, 2]),
      values: new ort.Tensor('int32', Int32Array.from([2002, 102, 311]), [3]),
    };
    const name = x.report.outputs[0]!.name;
    const [r17, r18] = await Promise.all(
      [x.path, other.path].map(async (path) => (await (await ort.InferenceSession.create(path)).run(feeds))[name]!.data as Float32Array),
    );
    expect(Array.from(r18!)).toEqual(Array.from(r17!));
  });

  it('honours GLA_CACHE_DIR', async () => {
    const previous = process.env.GLA_CACHE_DIR;
    process.env.GLA_CACHE_DIR = join(scratch, 'env');
    try {
      const result = await ensureConvertedModel({ modelDir: useDir });
      expect(result.path.startsWith(join(scratch, 'env', 'tfjs-to-onnx'))).toBe(true);
    } finally {
      if (previous === undefined) delete process.env.GLA_CACHE_DIR;
      else process.env.GLA_CACHE_DIR = previous;
    }
  });
});
