import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  CIFAR10_CLASSES,
  CIFAR100_CLASSES,
  CIFAR100_COARSE_CLASSES,
  chwToHwc,
  decodeImage,
  encodeCifarBinary,
  hwcToChw,
  streamCifarBinary,
} from '../src/index';
import { CIFAR10_SAMPLE, hasPath, makeTempDir } from './helpers';

const tmp = makeTempDir();
afterAll(tmp.cleanup);

describe.skipIf(!hasPath(CIFAR10_SAMPLE, 'the CIFAR-10 sample in ../shared'))('CIFAR binary batches built from the CIFAR-10 sample', () => {
  // Decode the 200 sample JPEGs, write them in the exact CIFAR-10 layout, read them back.
  const images: Uint8Array[] = [];
  const labels: number[] = [];
  for (const [label, cls] of CIFAR10_CLASSES.entries()) {
    for (const file of readdirSync(join(CIFAR10_SAMPLE, cls)).sort()) {
      const img = decodeImage(readFileSync(join(CIFAR10_SAMPLE, cls, file)));
      images.push(hwcToChw(img.data, img.width, img.height));
      labels.push(label);
    }
  }
  const all = new Uint8Array(images.length * 3072);
  images.forEach((img, i) => {
    all.set(img, i * 3072);
  });

  it('writes records of 1 label byte + 1024 R + 1024 G + 1024 B', () => {
    const bytes = encodeCifarBinary(all, labels);
    expect(bytes.length).toBe(200 * 3073);
    expect(bytes[3073 * 25]).toBe(1); // 26th image is an automobile
    expect(Array.from(bytes.subarray(1, 4))).toEqual(Array.from(images[0]!.subarray(0, 3)));
  });

  it('streams CIFAR-10 batches across two files, pixels and labels intact', async () => {
    const bytes = encodeCifarBinary(all, labels);
    const a = join(tmp.dir, 'data_batch_1.bin');
    const b = join(tmp.dir, 'data_batch_2.bin');
    writeFileSync(a, bytes.subarray(0, 120 * 3073));
    writeFileSync(b, bytes.subarray(120 * 3073));
    const gotLabels: number[] = [];
    const gotImages: number[][] = [];
    let expectedStart = 0;
    for await (const batch of streamCifarBinary([a, b], { batchSize: 50 })) {
      expect(batch.start).toBe(expectedStart);
      expectedStart += batch.count;
      gotLabels.push(...batch.labels);
      for (let i = 0; i < batch.count; i++) gotImages.push(Array.from(batch.images.subarray(i * 3072, (i + 1) * 3072)));
    }
    expect(gotLabels).toEqual(labels);
    expect(gotImages.length).toBe(200);
    expect(gotImages[137]).toEqual(Array.from(images[137]!));
    expect(chwToHwc(Uint8Array.from(gotImages[0]!), 32, 32)).toEqual(
      decodeImage(readFileSync(join(CIFAR10_SAMPLE, 'airplane/0000.jpg'))).data,
    );
  });

  it('streams CIFAR-100 records with coarse and fine labels', async () => {
    const fine = labels.map((y, i) => (y * 10 + i) % 100);
    const coarse = fine.map((y) => y % 20);
    const file = join(tmp.dir, 'train.bin');
    writeFileSync(file, encodeCifarBinary(all, fine, { variant: 'cifar100', coarseLabels: coarse }));
    const f: number[] = [];
    const c: number[] = [];
    for await (const batch of streamCifarBinary(file, { variant: 'cifar100', batchSize: 64 })) {
      f.push(...batch.labels);
      c.push(...batch.coarseLabels!);
    }
    expect(f).toEqual(fine);
    expect(c).toEqual(coarse);
    expect(CIFAR100_CLASSES).toHaveLength(100);
    expect(CIFAR100_COARSE_CLASSES).toHaveLength(20);
  });

  it('rejects partial records and labels out of range', async () => {
    const bytes = encodeCifarBinary(all.subarray(0, 3 * 3072), [0, 1, 2]);
    const file = join(tmp.dir, 'bad.bin');
    writeFileSync(file, bytes.subarray(0, bytes.length - 10));
    const consume = async (it: AsyncIterable<unknown>) => {
      for await (const _ of it);
    };
    await expect(consume(streamCifarBinary(file))).rejects.toMatchObject({ code: 'truncated' });
    const wrong = Uint8Array.from(bytes);
    wrong[3073] = 10;
    writeFileSync(file, wrong);
    await expect(consume(streamCifarBinary(file))).rejects.toMatchObject({
      code: 'label-out-of-range',
      message: expect.stringContaining('record 1'),
    });
  });
});
