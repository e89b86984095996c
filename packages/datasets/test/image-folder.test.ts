import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RawImage } from '@gla/core';
import { preprocessClipImage } from '@gla/encoders';
import { decodeImage } from '@gla/encoders/node';
import { afterAll, describe, expect, it } from 'vitest';
import { openImageFolder, readNpy, type SkippedImage } from '../src/index';
import { CIFAR10_SAMPLE, hasPath, makeTempDir, SHARED } from './helpers';

const GOLDEN = join(SHARED, 'data/preprocess-golden');
const maxAbsDifference = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  expect(a.length).toBe(b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return max;
};

const tmp = makeTempDir();
afterAll(tmp.cleanup);

describe.skipIf(!hasPath(CIFAR10_SAMPLE, 'the CIFAR-10 sample in ../shared'))('image folder: the CIFAR-10 sample', () => {
  it('finds 10 classes of 20 JPEGs, sorted, with prompt-friendly names', async () => {
    const ds = await openImageFolder(CIFAR10_SAMPLE, { classNames: { automobile: 'car', airplane: 'aeroplane' } });
    expect(ds.classes.map((c) => c.folder)).toEqual([
      'airplane',
      'automobile',
      'bird',
      'cat',
      'deer',
      'dog',
      'frog',
      'horse',
      'ship',
      'truck',
    ]);
    expect(ds.classNames.slice(0, 3)).toEqual(['aeroplane', 'car', 'bird']);
    expect(ds.items).toHaveLength(200);
    expect(ds.items[20]).toMatchObject({ id: 'automobile/0000.jpg', label: 1 });
  });

  it('decodes in batches of 32x32 RGB, streaming', async () => {
    const ds = await openImageFolder(CIFAR10_SAMPLE);
    let n = 0;
    let batches = 0;
    for await (const batch of ds.batches({ batchSize: 64, decode: decodeImage })) {
      batches++;
      expect(batch.images.length).toBe(batch.items.length);
      for (const img of batch.images) expect([img.width, img.height, img.data.length]).toEqual([32, 32, 3072]);
      n += batch.images.length;
    }
    expect([n, batches]).toEqual([200, 4]);
  });

  it('JPEGs of the folder decode within ±2 grey levels of libjpeg (Pillow) goldens', async () => {
    const ds = await openImageFolder(CIFAR10_SAMPLE);
    const goldens: Record<string, string> = {
      'airplane/0000.jpg': 'jpeg_decoded_airplane_0000.rgb.npy',
      'bird/0017.jpg': 'jpeg_decoded_bird_0017.rgb.npy',
      'frog/0003.jpg': 'jpeg_decoded_frog_0003.rgb.npy',
    };
    let checked = 0;
    for await (const batch of ds.batches({ decode: decodeImage, batchSize: 100 })) {
      for (const [i, item] of batch.items.entries()) {
        const golden = goldens[item.id];
        if (golden === undefined) continue;
        const image = batch.images[i]!;
        expect(image.channels).toBe(3);
        expect(maxAbsDifference(image.data, (await readNpy(join(GOLDEN, golden))).data as Uint8Array)).toBeLessThanOrEqual(2);
        checked++;
      }
    }
    expect(checked).toBe(3);
  });

  it('CLIP preprocessing of images loaded from an image folder equals the Pillow golden tensors (≤ 1e-5)', async () => {
    const golden = JSON.parse(readFileSync(join(GOLDEN, 'golden.json'), 'utf8')) as {
      cases: { input: string; golden?: string; size?: [number, number] }[];
    };
    const cases = golden.cases.filter((c) => c.golden !== undefined);
    expect(cases).toHaveLength(4);
    const root = join(tmp.dir, 'golden-folder');
    for (const [k, c] of cases.entries()) {
      mkdirSync(join(root, `class${k % 2}`), { recursive: true });
      copyFileSync(join(GOLDEN, c.input), join(root, `class${k % 2}`, c.input));
    }
    const ds = await openImageFolder(root);
    expect(ds.items).toHaveLength(4);
    let checked = 0;
    for await (const batch of ds.batches({ decode: decodeImage, batchSize: 3 })) {
      for (const [i, item] of batch.items.entries()) {
        const c = cases.find((x) => item.id.endsWith(`/${x.input}`))!;
        const image = batch.images[i]!;
        expect([image.width, image.height]).toEqual(c.size);
        const expected = await readNpy(join(GOLDEN, c.golden!));
        expect(expected.shape).toEqual([3, 224, 224]);
        expect(maxAbsDifference(preprocessClipImage(image), expected.data as Float32Array)).toBeLessThanOrEqual(1e-5);
        checked++;
      }
    }
    expect(checked).toBe(4);
  });

  it('needs an explicit decoder, and rejects a decoder that returns a malformed image', async () => {
    const ds = await openImageFolder(CIFAR10_SAMPLE);
    const first = async (options: Parameters<typeof ds.batches>[0]) => {
      for await (const batch of ds.batches(options)) return batch;
    };
    await expect(first(undefined as never)).rejects.toMatchObject({ code: 'invalid-argument', message: /@gla\/encoders\/node/ });
    const lying = (): RawImage => ({ data: new Uint8Array(10), width: 32, height: 32, channels: 3 });
    await expect(first({ decode: lying })).rejects.toMatchObject({
      code: 'corrupt-image',
      message: expect.stringContaining('10 bytes, expected 32 x 32 x 3'),
      file: join(CIFAR10_SAMPLE, 'airplane/0000.jpg'),
    });
  });

  it('skips and reports corrupt images on request, throws corrupt-image by default', async () => {
    const root = join(tmp.dir, 'mixed');
    for (const cls of ['cat', 'dog']) mkdirSync(join(root, cls), { recursive: true });
    copyFileSync(join(CIFAR10_SAMPLE, 'cat/0000.jpg'), join(root, 'cat/a.jpg'));
    copyFileSync(join(CIFAR10_SAMPLE, 'dog/0000.jpg'), join(root, 'dog/a.jpg'));
    writeFileSync(join(root, 'dog/b.jpg'), Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 1, 2, 3]));
    writeFileSync(join(root, 'dog/c.png'), Buffer.from('not a png at all'));
    copyFileSync(join(GOLDEN, 'case2_320x200.png'), join(root, 'cat/p.png'));
    const ds = await openImageFolder(root);
    const seen: SkippedImage[] = [];
    const images: RawImage[] = [];
    for await (const batch of ds.batches({ decode: decodeImage, batchSize: 10, onCorrupt: 'skip', onSkip: (s) => seen.push(s) })) {
      images.push(...batch.images);
      expect(batch.skipped.map((s) => s.item.id)).toEqual(['dog/b.jpg', 'dog/c.png']);
    }
    expect(images.map((i) => `${i.width}x${i.height}`)).toEqual(['32x32', '320x200', '32x32']);
    expect(seen.map((s) => s.error.code)).toEqual(['corrupt-image', 'corrupt-image']);
    expect(seen[0]!.error.message).toContain('dog/b.jpg');
    const consume = async () => {
      for await (const _ of ds.batches({ decode: decodeImage })) void _;
    };
    await expect(consume()).rejects.toMatchObject({ code: 'corrupt-image', file: join(root, 'dog/b.jpg') });
  });

  it('names missing and empty class folders', async () => {
    const root = join(tmp.dir, 'layout');
    mkdirSync(join(root, 'empty'), { recursive: true });
    mkdirSync(join(root, 'full'), { recursive: true });
    copyFileSync(join(CIFAR10_SAMPLE, 'cat/0000.jpg'), join(root, 'full/x.jpg'));
    await expect(openImageFolder(root)).rejects.toMatchObject({ code: 'empty-class-folder', file: join(root, 'empty') });
    await expect(openImageFolder(root, { classes: ['full', 'zebra'] })).rejects.toMatchObject({ code: 'missing-class-folder' });
    await expect(openImageFolder(join(root, 'full'))).rejects.toMatchObject({ code: 'missing-class-folder' });
    await expect(openImageFolder(join(root, 'nowhere'))).rejects.toMatchObject({ code: 'not-found' });
    const custom = await openImageFolder(root, { classes: ['full'] });
    expect(custom.items).toHaveLength(1);
  });
});
