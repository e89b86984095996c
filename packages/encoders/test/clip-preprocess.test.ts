import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CLIP_MEAN, CLIP_STD, preprocessClipImage, resizeBicubic, shortSideResize } from '../src/index';
import { readImageFile } from '../src/node';
import { maxAbsDiff, readNpy, sharedPath } from './clip-helpers';

const goldenDir = sharedPath('data/preprocess-golden');
const golden = JSON.parse(readFileSync(`${goldenDir}/golden.json`, 'utf8')) as {
  mean: number[];
  std: number[];
  cases: { input: string; golden?: string; decoded_rgb?: string; size?: [number, number] }[];
};

describe('CLIP preprocessing goldens (Pillow 9.4)', () => {
  it('mean/std constants match the golden description', () => {
    expect(maxAbsDiff(CLIP_MEAN, golden.mean)).toBeLessThan(1e-7);
    expect(maxAbsDiff(CLIP_STD, golden.std)).toBeLessThan(1e-7);
  });
  for (const c of golden.cases.filter((x) => x.golden)) {
    it(`${c.input} → 3×224×224 within 1e-5`, async () => {
      const image = await readImageFile(`${goldenDir}/${c.input}`);
      expect([image.width, image.height]).toEqual(c.size);
      const out = preprocessClipImage(image);
      const expected = readNpy(`${goldenDir}/${c.golden}`);
      expect(expected.shape).toEqual([3, 224, 224]);
      const diff = maxAbsDiff(out, expected.data);
      console.log(`[golden] ${c.input} max-abs ${diff.toExponential(2)}`);
      expect(diff).toBeLessThanOrEqual(1e-5);
    });
  }
  // JPEG decodes (±2 grey levels of libjpeg) and decoder errors: test/decoder-conformance.test.ts,
  // the one suite every decoder runs, in Node and in Chromium.
});

describe('resize and crop', () => {
  it('short-side resize floors the long side (torchvision)', () => {
    expect(shortSideResize(320, 200, 224)).toEqual({ width: 358, height: 224 });
    expect(shortSideResize(150, 400, 224)).toEqual({ width: 224, height: 597 });
  });
  it('a constant image stays constant; identity size is a copy', () => {
    const rgb = new Uint8Array(40 * 30 * 3).fill(77);
    expect(resizeBicubic(rgb, 40, 30, 13, 90).every((v) => v === 77)).toBe(true);
    const same = resizeBicubic(rgb, 40, 30, 40, 30);
    expect(same).not.toBe(rgb);
    expect(same).toEqual(rgb);
  });
  it('grey and RGBA inputs convert like Pillow (replicate / drop alpha)', () => {
    const grey = preprocessClipImage({ data: new Uint8Array(16).fill(200), width: 4, height: 4, channels: 1 }, { size: 8 });
    const rgba = preprocessClipImage(
      { data: new Uint8Array(64).map((_, i) => (i % 4 === 3 ? 0 : 200)), width: 4, height: 4, channels: 4 },
      { size: 8 },
    );
    expect(maxAbsDiff(grey, rgba)).toBe(0);
    expect(grey[0]).toBeCloseTo((200 / 255 - CLIP_MEAN[0]) / CLIP_STD[0], 5);
  });
});

describe('image errors', () => {
  it('bad raw images are rejected at the border', () => {
    expect(() => preprocessClipImage({ data: new Uint8Array(5), width: 2, height: 2, channels: 3 })).toThrowError(/expected 2 x 2 x 3/);
  });
  it('a missing file names the path', async () => {
    await expect(readImageFile('/nonexistent/x.jpg')).rejects.toThrowError(/\/nonexistent\/x.jpg/);
  });
});

describe('windowed resize', () => {
  it('equals resize-then-crop bit for bit (shrink, enlarge, one axis)', async () => {
    const { resizeBicubicWindow } = await import('../src/index');
    const w = 57;
    const h = 41;
    const rgb = new Uint8Array(w * h * 3).map((_, i) => (i * 7919) % 251);
    for (const [ow, oh, l, t, cw, ch] of [
      [30, 20, 3, 2, 20, 15],
      [120, 90, 10, 0, 100, 90],
      [57, 80, 5, 7, 40, 60],
      [90, 41, 0, 3, 90, 30],
    ] as const) {
      const full = resizeBicubic(rgb, w, h, ow, oh);
      const crop = new Uint8Array(cw * ch * 3);
      for (let y = 0; y < ch; y++) crop.set(full.subarray(((y + t) * ow + l) * 3, ((y + t) * ow + l + cw) * 3), y * cw * 3);
      expect(resizeBicubicWindow(rgb, w, h, ow, oh, l, t, cw, ch)).toEqual(crop);
    }
  });
});
