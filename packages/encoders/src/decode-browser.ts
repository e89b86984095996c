import { EncoderError } from './errors';
import { checkImageComplete, describeBytes, type RawImage } from './image';

// The few platform APIs used, typed structurally so that this module also typechecks in
// packages compiled without the DOM library (Node-only consumers of @gla/encoders).
interface PlatformBitmap {
  readonly width: number;
  readonly height: number;
  close(): void;
}
interface PlatformContext2d {
  drawImage(image: PlatformBitmap, x: number, y: number): void;
  getImageData(x: number, y: number, width: number, height: number): { readonly data: Uint8ClampedArray };
}
interface PlatformImageApi {
  readonly createImageBitmap?: (blob: Blob, options: { colorSpaceConversion: 'none'; premultiplyAlpha: 'none' }) => Promise<PlatformBitmap>;
  readonly OffscreenCanvas?: new (
    width: number,
    height: number,
  ) => { getContext(type: '2d', options: { willReadFrequently: boolean }): PlatformContext2d | null };
}

/**
 * Decodes image bytes with the platform's decoder (browsers, workers): `createImageBitmap` with
 * `colorSpaceConversion: 'none'` and `premultiplyAlpha: 'none'`, drawn on an `OffscreenCanvas`
 * and read back with `getImageData`. Returns RGBA. Platform JPEG decoders may differ from
 * libjpeg by a grey level on some pixels.
 * @throws EncoderError `invalid-image` (not an image / truncated, naming the bytes),
 *   `decoder-unavailable` outside a browser-like environment.
 */
export async function decodeImageInBrowser(bytes: Uint8Array | ArrayBuffer | Blob, name = 'image'): Promise<RawImage> {
  const { createImageBitmap, OffscreenCanvas } = globalThis as unknown as PlatformImageApi;
  if (createImageBitmap === undefined || OffscreenCanvas === undefined) {
    throw new EncoderError(
      'decoder-unavailable',
      'decodeImageInBrowser needs createImageBitmap and OffscreenCanvas; in Node use decodeImage from @gla/encoders/node',
    );
  }
  const data =
    bytes instanceof Blob ? new Uint8Array(await bytes.arrayBuffer()) : bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  const format = checkImageComplete(data, name);
  let bitmap: PlatformBitmap;
  try {
    bitmap = await createImageBitmap(new Blob([data as Uint8Array<ArrayBuffer>]), {
      colorSpaceConversion: 'none',
      premultiplyAlpha: 'none',
    });
  } catch (error) {
    throw new EncoderError(
      'invalid-image',
      `${name}: ${format.toUpperCase()} (${describeBytes(data)}) could not be decoded: ${(error as Error).message}`,
      {
        cause: error,
      },
    );
  }
  const { width, height } = bitmap;
  const canvas = new OffscreenCanvas(width, height);
  const context = canvas.getContext('2d', { willReadFrequently: true });
  if (!context) throw new EncoderError('decoder-unavailable', 'OffscreenCanvas 2d context unavailable');
  context.drawImage(bitmap, 0, 0);
  bitmap.close();
  const pixels = context.getImageData(0, 0, width, height).data;
  return { data: pixels, width, height, channels: 4 };
}
