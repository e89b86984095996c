import { type RawImage, rawImageProblem } from '@gla/core';
import { EncoderError } from './errors';

export { type ImageDecoder, type RawImage, toRgb } from '@gla/core';

/** Image container formats recognised by {@link detectImageFormat}. */
export type ImageFormat = 'jpeg' | 'png' | 'gif' | 'webp' | 'bmp' | 'tiff' | 'avif';

/** Sniffs the format from the leading bytes; `undefined` when it is none of {@link ImageFormat}. */
export function detectImageFormat(bytes: Uint8Array): ImageFormat | undefined {
  const b = (i: number) => bytes[i] ?? -1;
  if (b(0) === 0xff && b(1) === 0xd8 && b(2) === 0xff) return 'jpeg';
  if (b(0) === 0x89 && b(1) === 0x50 && b(2) === 0x4e && b(3) === 0x47) return 'png';
  if (b(0) === 0x47 && b(1) === 0x49 && b(2) === 0x46) return 'gif';
  if (b(0) === 0x52 && b(1) === 0x49 && b(2) === 0x46 && b(3) === 0x46 && b(8) === 0x57 && b(9) === 0x45) return 'webp';
  if (b(0) === 0x42 && b(1) === 0x4d) return 'bmp';
  if ((b(0) === 0x49 && b(1) === 0x49 && b(2) === 0x2a) || (b(0) === 0x4d && b(1) === 0x4d && b(3) === 0x2a)) return 'tiff';
  if (b(4) === 0x66 && b(5) === 0x74 && b(6) === 0x79 && b(7) === 0x70) return 'avif';
  return undefined;
}

/** Short description of unrecognised bytes for error messages: length and the first bytes in hex. */
export function describeBytes(bytes: Uint8Array): string {
  const head = Array.from(bytes.subarray(0, 8), (x) => x.toString(16).padStart(2, '0')).join(' ');
  return `${bytes.length} bytes starting ${head || '(empty)'}`;
}

/**
 * Checks that a JPEG ends with its EOI marker and a PNG with its IEND chunk, so a truncated file
 * fails loudly instead of decoding to a partly grey image.
 * @throws EncoderError `invalid-image` naming the format and what is missing.
 */
export function checkImageComplete(bytes: Uint8Array, name = 'image'): ImageFormat {
  const format = detectImageFormat(bytes);
  if (format === undefined) {
    throw new EncoderError('invalid-image', `${name} is not a recognised image (${describeBytes(bytes)}); expected JPEG or PNG`);
  }
  const n = bytes.length;
  if (format === 'jpeg') {
    // EOI (FF D9), allowing trailing padding some encoders append.
    let ok = false;
    for (let i = n - 2; i >= Math.max(2, n - 1024); i--) {
      if (bytes[i] === 0xff && bytes[i + 1] === 0xd9) {
        ok = true;
        break;
      }
    }
    if (!ok) throw new EncoderError('invalid-image', `${name}: JPEG (${n} bytes) is truncated: no end-of-image marker FF D9`);
  } else if (format === 'png') {
    const tail = new TextDecoder('latin1').decode(bytes.subarray(Math.max(0, n - 12)));
    if (!tail.includes('IEND')) throw new EncoderError('invalid-image', `${name}: PNG (${n} bytes) is truncated: no IEND chunk`);
  }
  return format;
}

/** Validates a {@link RawImage} at the border. */
export function checkRawImage(image: RawImage, name = 'image'): void {
  const problem = rawImageProblem(image);
  if (problem !== undefined) throw new EncoderError('invalid-input', `${name}: ${problem}`);
}
