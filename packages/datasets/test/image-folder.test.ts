import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { afterAll, describe, expect, it } from 'vitest';
import { type DecodedImage, decodeImage, openImageFolder, readNpy, type SkippedImage } from '../src/index';
import { CIFAR10_SAMPLE, hasPath, makeTempDir, SHARED } from './helpers';

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
    for await (const batch of ds.batches({ batchSize: 64 })) {
      batches++;
      expect(batch.images.length).toBe(batch.items.length);
      for (const img of batch.images) expect([img.width, img.height, img.data.length]).toEqual([32, 32, 3072]);
      n += batch.images.length;
    }
    expect([n, batches]).toEqual([200, 4]);
  });

  it('JPEG decodes agree with libjpeg (Pillow) goldens within a few levels', async () => {
    for (const [file, golden] of [
      ['airplane/0000.jpg', 'jpeg_decoded_airplane_0000.rgb.npy'],
      ['bird/0017.jpg', 'jpeg_decoded_bird_0017.rgb.npy'],
      ['frog/0003.jpg', 'jpeg_decoded_frog_0003.rgb.npy'],
    ] as const) {
      const { readFileSync } = await import('node:fs');
      const ours = decodeImage(readFileSync(join(CIFAR10_SAMPLE, file)));
      const ref = (await readNpy(join(SHARED, 'data/preprocess-golden', golden))).data as Uint8Array;
      let sum = 0;
      let max = 0;
      for (let i = 0; i < ref.length; i++) {
        const d = Math.abs(ours.data[i]! - ref[i]!);
        sum += d;
        max = Math.max(max, d);
      }
      // jpeg-js upsamples chroma without libjpeg's "fancy upsampling": ~1.2-1.6 levels mean difference
      expect(sum / ref.length).toBeLessThan(2);
      expect(max).toBeLessThanOrEqual(24);
    }
  });

  it('decodes the reference PNGs in ../shared at their stated sizes', async () => {
    const { readFileSync } = await import('node:fs');
    const golden = JSON.parse(readFileSync(join(SHARED, 'data/preprocess-golden/golden.json'), 'utf8')) as {
      cases: { input: string; size?: [number, number] }[];
    };
    const pngs = golden.cases.filter((c) => c.input.endsWith('.png'));
    expect(pngs.length).toBe(4);
    for (const c of pngs) {
      const img = decodeImage(readFileSync(join(SHARED, 'data/preprocess-golden', c.input)));
      expect([img.width, img.height]).toEqual(c.size);
      expect(img.data.length).toBe(img.width * img.height * 3);
    }
  });

  it('skips and reports corrupt images on request, throws corrupt-image by default', async () => {
    const root = join(tmp.dir, 'mixed');
    for (const cls of ['cat', 'dog']) mkdirSync(join(root, cls), { recursive: true });
    copyFileSync(join(CIFAR10_SAMPLE, 'cat/0000.jpg'), join(root, 'cat/a.jpg'));
    copyFileSync(join(CIFAR10_SAMPLE, 'dog/0000.jpg'), join(root, 'dog/a.jpg'));
    writeFileSync(join(root, 'dog/b.jpg'), Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 1, 2, 3]));
    writeFileSync(join(root, 'dog/c.png'), Buffer.from('not a png at all'));
    const png = new PNG({ width: 3, height: 2 });
    png.data.fill(200);
    writeFileSync(join(root, 'cat/p.png'), PNG.sync.write(png));
    const ds = await openImageFolder(root);
    const seen: SkippedImage[] = [];
    const images: DecodedImage[] = [];
    for await (const batch of ds.batches({ batchSize: 10, onCorrupt: 'skip', onSkip: (s) => seen.push(s) })) {
      images.push(...batch.images);
      expect(batch.skipped.map((s) => s.item.id)).toEqual(['dog/b.jpg', 'dog/c.png']);
    }
    expect(images.map((i) => `${i.width}x${i.height}`)).toEqual(['32x32', '3x2', '32x32']);
    expect(images[1]!.data[0]).toBe(200);
    expect(seen.map((s) => s.error.code)).toEqual(['corrupt-image', 'corrupt-image']);
    expect(seen[0]!.error.message).toContain('dog/b.jpg');
    const consume = async () => {
      for await (const _ of ds.batches()) void _;
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
