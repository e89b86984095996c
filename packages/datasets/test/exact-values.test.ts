import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  encodeNpy,
  integerLabels,
  type NdArray,
  readFeatureDir,
  realValues,
  streamFeatureDir,
  writeFeatureDir,
  writeNpy,
} from '../src/index';
import { makeTempDir } from './helpers';

const tmp = makeTempDir();
afterAll(tmp.cleanup);

const array = (dtype: NdArray['dtype'], data: NdArray['data'], shape = [data.length]): NdArray => ({ dtype, shape, data });

describe('readers reject what they cannot represent exactly', () => {
  it('labels outside int32 (int64/uint64 >= 2^31, negatives): label-out-of-range naming the index', () => {
    const cases: [NdArray, string][] = [
      [array('int64', BigInt64Array.from([0n, 4294967297n])), 'labels[1] = 4294967297'],
      [array('uint64', BigUint64Array.from([1n, 0n, 2n ** 31n])), 'labels[2] = 2147483648'],
      [array('int64', BigInt64Array.from([-1n])), 'labels[0] = -1'],
      [array('int32', Int32Array.from([0, -3])), 'labels[1] = -3'],
      [array('float64', Float64Array.from([0, 1.5])), 'labels[1] = 1.5'],
      [array('float32', Float32Array.from([Number.NaN])), 'labels[0] = NaN'],
    ];
    for (const [a, message] of cases) {
      expect(() => integerLabels(a, { file: 'y.npy' })).toThrow(expect.objectContaining({ code: 'label-out-of-range', file: 'y.npy' }));
      expect(() => integerLabels(a, { file: 'y.npy' })).toThrow(message);
    }
    expect(Array.from(integerLabels(array('uint64', BigUint64Array.from([2147483647n]))))).toEqual([2147483647]);
    expect(() => integerLabels(array('int64', BigInt64Array.from([3n])), { numClasses: 3 })).toThrow('(3 classes)');
    expect(() => integerLabels(array('complex64', new Float32Array(4), [2]))).toThrow(
      expect.objectContaining({ code: 'unsupported-dtype' }),
    );
  });

  it('complex .npy where reals are required: unsupported-dtype; int64 beyond 2^53 has no exact float64', () => {
    expect(() => realValues(array('complex128', new Float64Array(6), [3]), { file: 'q.npy', what: 'prior' })).toThrow(
      expect.objectContaining({ code: 'unsupported-dtype', message: expect.stringContaining('prior must be real, got complex128') }),
    );
    expect(() => realValues(array('int64', BigInt64Array.from([1n, 2n ** 53n + 1n]), [1, 2]))).toThrow('array[0, 1] = 9007199254740993');
    expect(Array.from(realValues(array('uint64', BigUint64Array.from([7n]))))).toEqual([7]);
  });

  it('feature directories: NaN features name [row, column]; logitScale <= 0 is invalid-meta', async () => {
    const dir = join(tmp.dir, 'fd');
    const features = { data: Float32Array.from({ length: 12 }, (_, i) => i), rows: 4, cols: 3 };
    await writeFeatureDir(dir, { features, labels: [0, 1, 0, 1], meta: { classNames: ['a', 'b'] } });
    const bad = Float32Array.from(features.data);
    bad[2 * 3 + 1] = Number.NaN;
    await writeNpy(join(dir, 'features.npy'), { dtype: 'float32', shape: [4, 3], data: bad });
    await expect(readFeatureDir(dir)).rejects.toMatchObject({
      code: 'invalid-argument',
      message: expect.stringContaining('features[2, 1] is NaN'),
    });
    const stream = streamFeatureDir(dir, { batchRows: 1 });
    await expect(
      (async () => {
        for await (const _ of stream);
      })(),
    ).rejects.toMatchObject({ message: expect.stringContaining('features[2, 1] is NaN') });
    for (const logitScale of [0, -1, 'big', null]) {
      writeFileSync(join(dir, 'meta.json'), JSON.stringify({ classNames: ['a', 'b'], logitScale }));
      await expect(readFeatureDir(dir)).rejects.toMatchObject({ code: 'invalid-meta', message: expect.stringContaining('logitScale') });
    }
    writeFileSync(join(dir, 'labels.npy'), encodeNpy({ dtype: 'uint64', shape: [4], data: BigUint64Array.from([0n, 1n, 2n ** 32n, 0n]) }));
    writeFileSync(join(dir, 'meta.json'), JSON.stringify({ classNames: ['a', 'b'] }));
    await expect(readFeatureDir(dir)).rejects.toMatchObject({
      code: 'label-out-of-range',
      message: expect.stringContaining('labels[2] = 4294967296'),
    });
  });
});

describe('writers never replace a device node', () => {
  it('writeNpy / createNpyWriter onto a character device: invalid-argument, the node stays', async () => {
    const { spawnSync } = await import('node:child_process');
    const { statSync } = await import('node:fs');
    const { createNpyWriter } = await import('../src/index');
    const device = join(tmp.dir, 'null-device');
    if (spawnSync('mknod', [device, 'c', '1', '3']).status !== 0) return; // not root: nothing to replace
    await expect(writeNpy(device, { dtype: 'float32', shape: [1], data: [1] })).rejects.toMatchObject({
      code: 'invalid-argument',
      message: expect.stringContaining('character device'),
    });
    await expect(createNpyWriter(device, { dtype: 'float32', rowShape: [2] })).rejects.toMatchObject({ code: 'invalid-argument' });
    expect(statSync(device).isCharacterDevice()).toBe(true);
  });
});
