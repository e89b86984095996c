import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConversionError, convertGraphModel } from '../src/index';
import { convertGraphModelFromDir, ensureConvertedModel, resolveModelPackageDir, USE_LITE_PACKAGE } from '../src/node';
import { a, buildModel, f32, i32 } from './helpers';

function catchError(fn: () => unknown): ConversionError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ConversionError);
    return error as ConversionError;
  }
  throw new Error('expected a ConversionError');
}

async function catchAsync(fn: () => Promise<unknown>): Promise<ConversionError> {
  try {
    await fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ConversionError);
    return error as ConversionError;
  }
  throw new Error('expected a ConversionError');
}

const useDir = resolveModelPackageDir(USE_LITE_PACKAGE, import.meta.url);
const scratch = mkdtempSync(join(tmpdir(), 'tfjs-to-onnx-errors-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('typed conversion errors', () => {
  it('names every unsupported op type (and a node using it) at once', () => {
    const { modelJson, weightData } = buildModel(
      {
        inputs: { x: f32([2], [1, 2]) },
        nodes: [
          { name: 'a1', op: 'Lgamma', input: ['x'] },
          { name: 'a2', op: 'Lgamma', input: ['a1'] },
          { name: 'b', op: 'Cumprod', input: ['a2'] },
          { name: 'c', op: 'Relu', input: ['b'] },
          { name: 'd', op: 'Switch', input: ['c', 'c'] },
        ],
      },
      false,
    );
    const error = catchError(() => convertGraphModel({ modelJson, weightData }));
    expect(error.code).toBe('unsupported-op');
    expect(error.message).toContain("Lgamma (e.g. node 'a1', 2 nodes)");
    expect(error.message).toContain("Cumprod (e.g. node 'b')");
    expect(error.message).toContain("Switch (e.g. node 'd')");
    expect(error.details.unsupported).toEqual([
      { op: 'Cumprod', node: 'b', count: 1 },
      { op: 'Lgamma', node: 'a1', count: 2 },
      { op: 'Switch', node: 'd', count: 1 },
    ]);
  });

  it('rejects garbage model.json', () => {
    expect(catchError(() => convertGraphModel({ modelJson: '{"modelTopology": [1,', weightData: new Uint8Array() })).code).toBe(
      'bad-model-json',
    );
    expect(catchError(() => convertGraphModel({ modelJson: '"a string"', weightData: new Uint8Array() })).code).toBe('bad-model-json');
    const layers = catchError(() =>
      convertGraphModel({ modelJson: { modelTopology: { class_name: 'Sequential' } }, weightData: new Uint8Array() }),
    );
    expect(layers.code).toBe('bad-model-json');
    expect(layers.message).toContain('graph');
    const dangling = catchError(() =>
      convertGraphModel({
        modelJson: { modelTopology: { node: [{ name: 'y', op: 'Relu', input: ['nope'] }] }, weightsManifest: [] },
        weightData: new Uint8Array(),
      }),
    );
    expect(dangling.code).toBe('bad-model-json');
    expect(dangling.message).toContain("'nope'");
  });

  it('reports a truncated shard by name (per-shard buffers and a single buffer)', () => {
    const modelJson = readFileSync(join(useDir, 'model.json'), 'utf8');
    const paths: string[] = JSON.parse(modelJson).weightsManifest[0].paths;
    const shards = paths.map((p) => new Uint8Array(readFileSync(join(useDir, p))));
    const cut = [...shards.slice(0, -1), shards[shards.length - 1]!.subarray(0, 1000)];
    const error = catchError(() => convertGraphModel({ modelJson, weightData: cut }));
    expect(error.code).toBe('truncated-weights');
    expect(error.message).toContain(`'${paths[paths.length - 1]}'`);
    const middle = [...shards];
    middle[2] = shards[2]!.subarray(0, 4096);
    const error2 = catchError(() => convertGraphModel({ modelJson, weightData: middle }));
    expect(error2.code).toBe('truncated-weights');
    expect(error2.message).toContain(`'${paths[2]}'`);
    const missing = catchError(() => convertGraphModel({ modelJson, weightData: shards.slice(0, 3) }));
    expect(missing.code).toBe('missing-weights');
    const single = catchError(() => convertGraphModel({ modelJson, weightData: new Uint8Array(10) }));
    expect(single.code).toBe('truncated-weights');
  });

  it('reports a truncated or missing shard file in a model directory', async () => {
    const dir = join(scratch, 'model');
    const modelJson = readFileSync(join(useDir, 'model.json'), 'utf8');
    const paths: string[] = JSON.parse(modelJson).weightsManifest[0].paths;
    rmSync(dir, { recursive: true, force: true });
    (await import('node:fs')).mkdirSync(dir);
    writeFileSync(join(dir, 'model.json'), modelJson);
    for (const p of paths.slice(0, -1)) copyFileSync(join(useDir, p), join(dir, p));
    const missing = await catchAsync(() => convertGraphModelFromDir(dir));
    expect(missing.code).toBe('missing-weights');
    expect(missing.message).toContain(paths[paths.length - 1]!);
    writeFileSync(join(dir, paths[paths.length - 1]!), readFileSync(join(useDir, paths[paths.length - 1]!)).subarray(0, 100));
    const truncated = await catchAsync(() => ensureConvertedModel({ modelDir: dir, cacheDir: join(scratch, 'cache') }));
    expect(truncated.code).toBe('truncated-weights');
    expect(truncated.message).toContain(paths[paths.length - 1]!);
  });

  it('names Const nodes without weights, unsupported weight dtypes and dynamic attributes', () => {
    const base = buildModel(
      {
        inputs: { x: f32([2], [1, 2]) },
        consts: { w: f32([2], [3, 4]) },
        nodes: [{ name: 'y', op: 'Mul', input: ['x', 'w'], attr: { T: a.T('float32') } }],
      },
      false,
    );
    const noWeights = { ...base.modelJson, weightsManifest: [{ paths: ['x.bin'], weights: [] }] };
    const e1 = catchError(() => convertGraphModel({ modelJson: noWeights, weightData: new Uint8Array() }));
    expect(e1.code).toBe('missing-weights');
    expect(e1.message).toContain('w');
    const strings = { ...base.modelJson, weightsManifest: [{ paths: ['x.bin'], weights: [{ name: 'w', shape: [2], dtype: 'string' }] }] };
    expect(catchError(() => convertGraphModel({ modelJson: strings, weightData: new Uint8Array(8) })).code).toBe('dtype-unsupported');
    const dynamic = buildModel(
      {
        inputs: { x: f32([2, 3], [1, 2, 3, 4, 5, 6]), p: i32([2], [1, 0]) },
        nodes: [{ name: 'y', op: 'Transpose', input: ['x', 'p'], attr: { T: a.T('float32') } }],
      },
      false,
    );
    const e3 = catchError(() => convertGraphModel(dynamic));
    expect(e3.code).toBe('dynamic-attribute');
    expect(e3.message).toContain("'y'");
  });

  it('fails clearly when the model package is not installed', () => {
    const error = catchError(() => resolveModelPackageDir('@energetic-ai/no-such-model-package', scratch));
    expect(error.code).toBe('package-not-found');
    expect(error.message).toContain('@energetic-ai/no-such-model-package');
  });

  it('validates convert inputs', () => {
    expect(catchError(() => convertGraphModel({ modelJson: '{}', weightData: 'nope' as never })).code).toBe('bad-input');
    const { modelJson, weightData } = buildModel({ inputs: { x: f32([1], [1]) }, nodes: [{ name: 'y', op: 'Relu', input: ['x'] }] }, false);
    expect(catchError(() => convertGraphModel({ modelJson, weightData, options: { opsetVersion: 11 } })).code).toBe('bad-input');
  });
});
