import { EncoderError } from './errors';

/**
 * Decoded pixels, row-major and channel-interleaved (`data[(y * width + x) * channels + c]`),
 * 8 bits per channel. Channels: 1 grey, 2 grey+alpha, 3 RGB, 4 RGBA (alpha is dropped, never
 * composited, as Pillow's `convert('RGB')`).
 */
export interface RawImage {
  readonly data: Uint8Array | Uint8ClampedArray;
  readonly width: number;
  readonly height: number;
  readonly channels: 1 | 2 | 3 | 4;
}

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
  if (image === null || typeof image !== 'object' || !(image.data instanceof Uint8Array || image.data instanceof Uint8ClampedArray)) {
    throw new EncoderError('invalid-input', `${name}: expected { data: Uint8Array, width, height, channels }`);
  }
  const { width, height, channels, data } = image;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new EncoderError('invalid-input', `${name}: size ${width} x ${height} must be positive integers`);
  }
  if (![1, 2, 3, 4].includes(channels)) throw new EncoderError('invalid-input', `${name}: channels is ${channels}, expected 1-4`);
  if (data.length !== width * height * channels) {
    throw new EncoderError('invalid-input', `${name}: data has ${data.length} bytes, expected ${width} x ${height} x ${channels}`);
  }
}

/** Interleaved 8-bit RGB copy of an image (grey replicated, alpha dropped as Pillow's convert('RGB')). */
export function toRgb(image: RawImage): Uint8Array {
  const { data, width, height, channels } = image;
  if (channels === 3) return data instanceof Uint8Array ? data : new Uint8Array(data.buffer, data.byteOffset, data.length);
  const n = width * height;
  const out = new Uint8Array(n * 3);
  for (let i = 0; i < n; i++) {
    const s = i * channels;
    if (channels <= 2) {
      const g = data[s]!;
      out[i * 3] = g;
      out[i * 3 + 1] = g;
      out[i * 3 + 2] = g;
    } else {
      out[i * 3] = data[s]!;
      out[i * 3 + 1] = data[s + 1]!;
      out[i * 3 + 2] = data[s + 2]!;
    }
  }
  return out;
}
