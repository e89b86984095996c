import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createFeatureDirWriter, readFeatureDir, streamFeatureDir, writeFeatureDir, writeFileAtomic, writeNpy } from '../src/index';
import { hasNumpy, makeTempDir, python } from './helpers';

const tmp = makeTempDir();
afterAll(tmp.cleanup);

const meta = { classNames: ['cat', 'dog', 'bird'], templates: ['a photo of a {}.', 'a drawing of a {}.'], modelId: 'clip-test:abc123' };
const features = { data: Float32Array.from({ length: 7 * 4 }, (_, i) => i / 10), rows: 7, cols: 4 };
const labels = [0, 1, 2, 0, 1, 2, 2];
const textFeatures = { data: Float32Array.from({ length: 2 * 3 * 4 }, (_, i) => -i), shape: [2, 3, 4] };

describe('feature directories', () => {
  it('round-trips features, labels, meta and text features', async () => {
    const dir = join(tmp.dir, 'rt');
    await writeFeatureDir(dir, { features, labels, meta, textFeatures });
    expect(readdirSync(dir).sort()).toEqual(['features.npy', 'labels.npy', 'meta.json', 'text_features.npy']);
    const back = await readFeatureDir(dir);
    expect(back.features).toEqual(features);
    expect(Array.from(back.labels)).toEqual(labels);
    expect(back.meta).toMatchObject({ version: 1, ...meta });
    expect(back.textFeatures).toEqual(textFeatures);
  });

  it('streams features in bounded batches and writes them row by row', async () => {
    const dir = join(tmp.dir, 'stream');
    const writer = await createFeatureDirWriter(dir, { meta, cols: 4 });
    await writer.append({ data: features.data.subarray(0, 12), rows: 3, cols: 4 }, labels.slice(0, 3));
    await writer.append({ data: features.data.subarray(12), rows: 4, cols: 4 }, labels.slice(3));
    expect(await writer.close()).toBe(7);
    const seen: number[] = [];
    const seenLabels: number[] = [];
    for await (const batch of streamFeatureDir(dir, { batchRows: 2 })) {
      expect(batch.features.rows).toBeLessThanOrEqual(2);
      seen.push(...batch.features.data);
      seenLabels.push(...batch.labels);
    }
    expect(seen).toEqual(Array.from(features.data));
    expect(seenLabels).toEqual(labels);
  });

  it.skipIf(!hasNumpy())('is the layout numpy users write and read', async () => {
    const mine = join(tmp.dir, 'for-numpy');
    await writeFeatureDir(mine, { features, labels, meta, textFeatures });
    const report = JSON.parse(
      python(
        `
d = sys.argv[1]
f = np.load(d + '/features.npy'); y = np.load(d + '/labels.npy'); t = np.load(d + '/text_features.npy')
m = json.load(open(d + '/meta.json'))
print(json.dumps({'f': [list(f.shape), str(f.dtype), float(f[6, 3])], 'y': [y.tolist(), str(y.dtype)], 't': list(t.shape), 'names': m['classNames']}))
`,
        [mine],
      ),
    );
    expect(report).toEqual({ f: [[7, 4], 'float32', expect.closeTo(2.7, 5)], y: [labels, 'int64'], t: [2, 3, 4], names: meta.classNames });
    const theirs = join(tmp.dir, 'from-numpy');
    python(
      `
import os
d = sys.argv[1]; os.makedirs(d)
np.save(d + '/features.npy', np.asfortranarray(np.arange(12, dtype='float64').reshape(4, 3)))
np.save(d + '/labels.npy', np.array([1, 0, 1, 1], dtype='>i8'))
np.save(d + '/text_features.npy', np.ones((2, 3), 'float16'))
json.dump({'class_names': ['a', 'b'], 'model_id': 'm'}, open(d + '/meta.json', 'w'))
`,
      [theirs],
    );
    const read = await readFeatureDir(theirs);
    expect(read.features).toEqual({ data: Float32Array.from({ length: 12 }, (_, i) => i), rows: 4, cols: 3 });
    expect(Array.from(read.labels)).toEqual([1, 0, 1, 1]);
    expect(read.meta).toMatchObject({ classNames: ['a', 'b'], modelId: 'm' });
    expect(read.textFeatures?.shape).toEqual([2, 3]);
  });

  it('names what is wrong', async () => {
    const dir = join(tmp.dir, 'bad');
    await writeFeatureDir(dir, { features, labels, meta });
    await writeNpy(join(dir, 'labels.npy'), { dtype: 'int32', shape: [7], data: [0, 1, 2, 0, 1, 2, 3] });
    await expect(readFeatureDir(dir)).rejects.toMatchObject({
      code: 'label-out-of-range',
      message: expect.stringContaining('labels[6] = 3'),
    });
    await writeNpy(join(dir, 'labels.npy'), { dtype: 'int32', shape: [6], data: [0, 1, 2, 0, 1, 2] });
    await expect(readFeatureDir(dir)).rejects.toMatchObject({ code: 'shape-mismatch' });
    await writeNpy(join(dir, 'labels.npy'), { dtype: 'int32', shape: [7], data: labels });
    await writeNpy(join(dir, 'text_features.npy'), { dtype: 'float32', shape: [4, 4], data: new Float32Array(16) });
    await expect(readFeatureDir(dir)).rejects.toMatchObject({ code: 'shape-mismatch', message: expect.stringContaining('text_features') });
    await writeFileAtomic(join(dir, 'meta.json'), '{"classNames": "cat"}');
    await expect(readFeatureDir(dir)).rejects.toMatchObject({ code: 'invalid-meta' });
    writeFileSync(join(dir, 'meta.json'), '{');
    await expect(readFeatureDir(dir)).rejects.toMatchObject({ code: 'invalid-meta' });
    await expect(readFeatureDir(join(tmp.dir, 'nothing'))).rejects.toMatchObject({ code: 'not-found' });
    await expect(writeFeatureDir(dir, { features, labels: [0, 1], meta })).rejects.toMatchObject({ code: 'shape-mismatch' });
  });

  it('feature directory errors name the file once (audit: paths printed twice)', async () => {
    const dir = join(tmp.dir, 'once');
    await writeFeatureDir(dir, { features, labels, meta });
    const metaFile = join(dir, 'meta.json');
    const cases: [string, string][] = [
      ['[1]', 'must hold a JSON object'],
      ['{"classNames": "cat"}', 'classNames must be'],
      ['{"classNames": ["a", "a"]}', 'classNames has duplicates'],
      ['{"classNames": ["a"], "logitScale": -1}', 'logitScale must be'],
      ['{', 'not valid JSON'],
    ];
    for (const [text, expected] of cases) {
      writeFileSync(metaFile, text);
      const error = (await readFeatureDir(dir).catch((e: unknown) => e)) as Error;
      expect(error.message).toContain(expected);
      expect(error.message.split('meta.json').length - 1).toBe(1);
    }
  });
});
