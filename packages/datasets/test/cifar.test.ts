import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeImage } from '@gla/encoders/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CIFAR10_CLASSES,
  CIFAR100_CLASSES,
  CIFAR100_COARSE_CLASSES,
  encodeCifarBinary,
  fromChwPlanes,
  streamCifarBinary,
  toChwPlanes,
} from '../src/index';
import { CIFAR10_SAMPLE, hasPath, makeTempDir } from './helpers';

const tmp = makeTempDir();
afterAll(tmp.cleanup);

describe.skipIf(!hasPath(CIFAR10_SAMPLE, 'the CIFAR-10 sample in ../shared'))('CIFAR binary batches built from the CIFAR-10 sample', () => {
  // Decode the 200 sample JPEGs (sharp, the decoder of @gla/encoders), write them in the exact
  // CIFAR-10 layout, read them back.
  const images: Uint8Array[] = [];
  const labels: number[] = [];
  const all = new Uint8Array(200 * 3072);
  beforeAll(async () => {
    for (const [label, cls] of CIFAR10_CLASSES.entries()) {
      for (const file of readdirSync(join(CIFAR10_SAMPLE, cls)).sort()) {
        images.push(toChwPlanes(await decodeImage(readFileSync(join(CIFAR10_SAMPLE, cls, file)), file)));
        labels.push(label);
      }
    }
    expect(images).toHaveLength(200);
    images.forEach((img, i) => {
      all.set(img, i * 3072);
    });
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
    const first = await decodeImage(readFileSync(join(CIFAR10_SAMPLE, 'airplane/0000.jpg')), 'airplane/0000.jpg');
    expect(fromChwPlanes(Uint8Array.from(gotImages[0]!), 32, 32)).toEqual({ ...first, data: new Uint8Array(first.data) });
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

describe('CIFAR planes from and to the one image type (RawImage)', () => {
  it('grey and RGBA images become RGB planes as Pillow convert("RGB") does; planes round-trip', () => {
    const grey = { data: Uint8Array.from([10, 20, 30, 40]), width: 2, height: 2, channels: 1 } as const;
    expect(Array.from(toChwPlanes(grey))).toEqual([10, 20, 30, 40, 10, 20, 30, 40, 10, 20, 30, 40]);
    const rgba = { data: Uint8Array.from([1, 2, 3, 0, 4, 5, 6, 255]), width: 2, height: 1, channels: 4 } as const;
    const planes = toChwPlanes(rgba);
    expect(Array.from(planes)).toEqual([1, 4, 2, 5, 3, 6]);
    expect(fromChwPlanes(planes, 2, 1)).toEqual({ data: Uint8Array.from([1, 2, 3, 4, 5, 6]), width: 2, height: 1, channels: 3 });
  });
  it('rejects malformed images and plane buffers, naming the sizes', () => {
    expect(() => toChwPlanes({ data: new Uint8Array(5), width: 2, height: 2, channels: 1 })).toThrowError(/5 bytes, expected 2 x 2 x 1/);
    expect(() => fromChwPlanes(new Uint8Array(3071), 32, 32)).toThrowError(/3071 bytes is not 3 x 32 x 32/);
  });
});
