import { type ImageDecoder, type RawImage, toRgb } from '@gla/core';
import { describe, expect, it } from 'vitest';
import { decodeImage } from '../src/node';
import { decoderCaseNames, JPEG_GREY_LEVEL_TOLERANCE, runDecoderConformance } from './decoder-conformance';
import { loadDecoderGoldens } from './decoder-goldens';

const goldens = loadDecoderGoldens();

describe('decoder conformance: sharp (@gla/encoders/node decodeImage)', async () => {
  const results = await runDecoderConformance(decodeImage, goldens);
  it('runs every case on 3 golden JPEGs and 4 golden PNGs', () => {
    expect(results.map((r) => r.name)).toEqual(decoderCaseNames);
    expect([goldens.jpegs.length, goldens.pngs.length]).toEqual([3, 4]);
  });
  for (const r of results) {
    it(r.name, () => {
      console.log(`[decoder sharp] ${r.name}: ${r.detail}`);
      expect(r, r.detail).toMatchObject({ ok: true });
    });
  }
});

describe('the suite fails decoders that miss the bar', () => {
  const perturbed =
    (by: number): ImageDecoder =>
    async (bytes, name) => {
      const image = await decodeImage(bytes, name);
      const data = Uint8Array.from(toRgb(image));
      data[100] = Math.min(255, data[100]! + by);
      return { data, width: image.width, height: image.height, channels: 3 } satisfies RawImage;
    };
  it(`one channel of one pixel ${JPEG_GREY_LEVEL_TOLERANCE + 1} levels off fails the JPEG and PNG cases; ${JPEG_GREY_LEVEL_TOLERANCE} off passes the JPEG case`, async () => {
    const off = await runDecoderConformance(perturbed(JPEG_GREY_LEVEL_TOLERANCE + 1), goldens);
    expect(off.filter((r) => !r.ok).map((r) => r.name)).toEqual([decoderCaseNames[0], decoderCaseNames[1]]);
    expect(off[0]!.detail).toMatch(/max difference [3-5] grey levels/);
    const within = await runDecoderConformance(perturbed(JPEG_GREY_LEVEL_TOLERANCE), goldens);
    expect(within[0]!.ok).toBe(true);
  });
  it('a decoder that throws untyped errors fails the error cases', async () => {
    const untyped: ImageDecoder = async (bytes, name) => {
      try {
        return await decodeImage(bytes, name);
      } catch (error) {
        throw new Error(`failed: ${(error as Error).message}`);
      }
    };
    const results = await runDecoderConformance(untyped, goldens);
    expect(results.filter((r) => !r.ok).map((r) => r.name)).toEqual(decoderCaseNames.filter((n) => n.startsWith('rejects')));
    expect(results.find((r) => !r.ok)!.detail).toMatch(/expected an EncoderError/);
  });
});
