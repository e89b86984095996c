import { EncoderError } from './errors';
import { checkImageComplete, describeBytes, type RawImage } from './image';

/**
 * Decodes image bytes with the platform's decoder (browsers, workers): `createImageBitmap` with
 * `colorSpaceConversion: 'none'` and `premultiplyAlpha: 'none'`, drawn on an `OffscreenCanvas`
 * and read back with `getImageData`. Returns RGBA. Platform JPEG decoders may differ from
 * libjpeg by a grey level on some pixels.
 * @throws EncoderError `invalid-image` (not an image / truncated, naming the bytes),
 *   `decoder-unavailable` outside a browser-like environment.
 */
export async function decodeImageInBrowser(bytes: Uint8Array | ArrayBuffer | Blob, name = 'image'): Promise<RawImage> {
  if (typeof createImageBitmap === 'undefined' || typeof OffscreenCanvas === 'undefined') {
    throw new EncoderError(
      'decoder-unavailable',
      'decodeImageInBrowser needs createImageBitmap and OffscreenCanvas; in Node use decodeImage from @gla/encoders/node',
    );
  }
  const data =
    bytes instanceof Blob ? new Uint8Array(await bytes.arrayBuffer()) : bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  const format = checkImageComplete(data, name);
  let bitmap: ImageBitmap;
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
