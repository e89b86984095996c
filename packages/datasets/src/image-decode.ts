import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { DatasetError } from './errors';

/** A decoded image: 8-bit RGB, interleaved, rows top to bottom (HWC), `data.length = width · height · 3`. */
export interface DecodedImage {
  width: number;
  height: number;
  data: Uint8Array;
}

/** Turns file bytes into RGB pixels; throw to signal a corrupt image. */
export type ImageDecoder = (bytes: Uint8Array, path: string) => DecodedImage | Promise<DecodedImage>;

/** Image formats recognised from their first bytes. */
export function sniffImageFormat(bytes: Uint8Array): 'jpeg' | 'png' | undefined {
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg';
  if (bytes.length >= 8 && bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47) return 'png';
  return undefined;
}

/**
 * The default decoder: JPEG (baseline and progressive, via jpeg-js) and PNG (all colour
 * types and bit depths, via pngjs), detected from the bytes, not the file name. Alpha is
 * dropped (as Pillow's `convert('RGB')` does); grey is expanded to RGB; 16-bit PNG is
 * scaled to 8 bits. Throws DatasetError 'corrupt-image' on anything else.
 */
export function decodeImage(bytes: Uint8Array, path = '<memory>'): DecodedImage {
  const format = sniffImageFormat(bytes);
  try {
    if (format === 'jpeg') {
      const img = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: false, maxResolutionInMP: 200, maxMemoryUsageInMB: 1024 });
      if (img.data.length !== img.width * img.height * 3) throw new Error('decoder returned a wrong pixel count');
      return { width: img.width, height: img.height, data: img.data };
    }
    if (format === 'png') {
      const png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
      const n = png.width * png.height;
      const rgba = png.data;
      const rgb = new Uint8Array(3 * n);
      for (let p = 0; p < n; p++) {
        rgb[3 * p] = rgba[4 * p]!;
        rgb[3 * p + 1] = rgba[4 * p + 1]!;
        rgb[3 * p + 2] = rgba[4 * p + 2]!;
      }
      return { width: png.width, height: png.height, data: rgb };
    }
  } catch (error) {
    throw new DatasetError('corrupt-image', `cannot decode ${format?.toUpperCase()}: ${(error as Error).message}`, {
      file: path,
      cause: error,
    });
  }
  throw new DatasetError('corrupt-image', 'neither JPEG nor PNG (unknown magic bytes)', { file: path });
}
