import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeIdx, FASHION_MNIST_CLASSES, readIdx, readIdxHeader, streamIdx, streamIdxDataset } from '../src/index';
import { FASHION_MNIST_DIR, hasPath, makeTempDir } from './helpers';

const tmp = makeTempDir();
afterAll(tmp.cleanup);

const haveFashion = hasPath(join(FASHION_MNIST_DIR, 't10k-images-idx3-ubyte.gz'), 'Debian package dataset-fashion-mnist');

describe.skipIf(!haveFashion)('Fashion-MNIST from Debian (/usr/share/datasets/fashion-mnist)', () => {
  const images = join(FASHION_MNIST_DIR, 't10k-images-idx3-ubyte.gz');
  const labels = join(FASHION_MNIST_DIR, 't10k-labels-idx1-ubyte.gz');

  it('reads the headers of the gzipped files', async () => {
    expect(await readIdxHeader(images)).toMatchObject({ dtype: 'uint8', shape: [10000, 28, 28], gzip: true });
    expect(await readIdxHeader(labels)).toMatchObject({ dtype: 'uint8', shape: [10000], gzip: true });
    expect(await readIdxHeader(join(FASHION_MNIST_DIR, 'train-images-idx3-ubyte.gz'))).toMatchObject({ shape: [60000, 28, 28] });
  });

  it('streams the test set in batches: 10 balanced classes of 1000, same bytes as a plain gunzip', async () => {
    const counts = new Array(10).fill(0);
    const hash = createHash('sha256');
    let n = 0;
    for await (const batch of streamIdxDataset({ images, labels, batchSize: 1024 })) {
      expect(batch.start).toBe(n);
      expect(batch.images.shape.slice(1)).toEqual([28, 28]);
      expect(batch.images.shape[0]).toBe(batch.labels.length);
      for (const y of batch.labels) counts[y]++;
      hash.update(batch.images.data as Uint8Array);
      n += batch.labels.length;
    }
    expect(n).toBe(10000);
    expect(counts).toEqual(new Array(10).fill(1000));
    const raw = gunzipSync(readFileSync(images));
    expect(hash.digest('hex')).toBe(createHash('sha256').update(raw.subarray(16)).digest('hex'));
    expect(FASHION_MNIST_CLASSES).toHaveLength(10);
  });

  it('readIdx of the gzipped labels equals the plain file; first labels are 9, 2, 1, 1, 6', async () => {
    const a = await readIdx(labels);
    const plain = join(tmp.dir, 'labels.idx');
    writeFileSync(plain, gunzipSync(readFileSync(labels)));
    const b = await readIdx(plain);
    expect(Array.from(a.data as Uint8Array)).toEqual(Array.from(b.data as Uint8Array));
    expect(Array.from((a.data as Uint8Array).subarray(0, 5))).toEqual([9, 2, 1, 1, 6]);
  });
});

describe('IDX reader on generated files', () => {
  it('round-trips every IDX dtype, plain and gzipped, streamed and whole', async () => {
    for (const dtype of ['uint8', 'int8', 'int16', 'int32', 'float32', 'float64'] as const) {
      const data = Array.from({ length: 5 * 3 * 2 }, (_, i) => (dtype === 'uint8' ? i : dtype.startsWith('float') ? i / 4 - 3 : i - 10));
      const bytes = encodeIdx({ dtype, shape: [5, 3, 2], data });
      for (const gz of [false, true]) {
        const file = join(tmp.dir, `${dtype}-${gz}.idx`);
        writeFileSync(file, gz ? gzipSync(bytes) : bytes);
        const whole = await readIdx(file);
        expect(whole.shape).toEqual([5, 3, 2]);
        expect(Array.from(whole.data as ArrayLike<number>)).toEqual(data);
        const streamed: number[] = [];
        for await (const b of streamIdx(file, { batchSize: 2 })) streamed.push(...Array.from(b.array.data as ArrayLike<number>));
        expect(streamed).toEqual(data);
      }
    }
  });

  it('reports truncated, padded, foreign and mismatched files with typed errors', async () => {
    const bytes = encodeIdx({ dtype: 'uint8', shape: [4, 2], data: [1, 2, 3, 4, 5, 6, 7, 8] });
    const cut = join(tmp.dir, 'cut.idx');
    writeFileSync(cut, bytes.subarray(0, bytes.length - 1));
    await expect(readIdx(cut)).rejects.toMatchObject({ code: 'truncated' });
    writeFileSync(cut, gzipSync(bytes.subarray(0, bytes.length - 1)));
    await expect(readIdx(cut)).rejects.toMatchObject({ code: 'truncated' });
    const gzCut = gzipSync(bytes);
    writeFileSync(cut, gzCut.subarray(0, gzCut.length - 6));
    await expect(readIdx(cut)).rejects.toMatchObject({ code: 'truncated' });
    writeFileSync(cut, Buffer.concat([bytes, Buffer.from([0])]));
    await expect(readIdx(cut)).rejects.toMatchObject({ code: 'header-mismatch' });
    writeFileSync(cut, Buffer.from('P6 not an idx file'));
    await expect(readIdx(cut)).rejects.toMatchObject({ code: 'bad-magic' });
    const badType = Uint8Array.from(bytes);
    badType[2] = 0x0a;
    writeFileSync(cut, badType);
    await expect(readIdx(cut)).rejects.toMatchObject({ code: 'unsupported-dtype' });
    const labels = join(tmp.dir, 'labels.idx');
    writeFileSync(labels, encodeIdx({ dtype: 'uint8', shape: [3], data: [0, 1, 2] }));
    const images = join(tmp.dir, 'images.idx');
    writeFileSync(images, bytes);
    const consume = async (it: AsyncIterable<unknown>) => {
      for await (const _ of it);
    };
    await expect(consume(streamIdxDataset({ images, labels }))).rejects.toMatchObject({ code: 'header-mismatch' });
    writeFileSync(labels, encodeIdx({ dtype: 'uint8', shape: [4], data: [0, 1, 12, 2] }));
    await expect(consume(streamIdxDataset({ images, labels }))).rejects.toMatchObject({ code: 'label-out-of-range' });
    await expect(readIdx(join(tmp.dir, 'missing.idx'))).rejects.toMatchObject({ code: 'not-found' });
  });
});
