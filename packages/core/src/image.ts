/**
 * The one image type shared by every package: what a decoder returns (@gla/encoders: sharp in
 * Node, the platform decoder in browsers), what an image folder yields (@gla/datasets) and what
 * CLIP preprocessing reads. Decoded pixels, row-major and channel-interleaved
 * (`data[(y * width + x) * channels + c]`), 8 bits per channel. Channels: 1 grey, 2 grey+alpha,
 * 3 RGB, 4 RGBA (alpha is dropped, never composited, as Pillow's `convert('RGB')`).
 */
export interface RawImage {
  readonly data: Uint8Array | Uint8ClampedArray;
  readonly width: number;
  readonly height: number;
  readonly channels: 1 | 2 | 3 | 4;
}

/**
 * Turns encoded image bytes (JPEG, PNG, …) into a {@link RawImage}; `name` (a path or URL) is
 * for error messages. Throws (or rejects) on bytes that are not a decodable image.
 */
export type ImageDecoder = (bytes: Uint8Array, name: string) => RawImage | Promise<RawImage>;

/**
 * What is wrong with a value that should be a {@link RawImage} (a sentence naming the size or
 * byte count), or `undefined` when it is well formed. Packages wrap the sentence in their own
 * typed error at their border.
 */
export function rawImageProblem(image: unknown): string | undefined {
  if (image === null || typeof image !== 'object') return 'expected { data: Uint8Array, width, height, channels }';
  const { data, width, height, channels } = image as Partial<RawImage>;
  if (!(data instanceof Uint8Array || data instanceof Uint8ClampedArray)) return 'expected { data: Uint8Array, width, height, channels }';
  if (!Number.isInteger(width) || !Number.isInteger(height) || width! < 1 || height! < 1) {
    return `size ${width} x ${height} must be positive integers`;
  }
  if (channels !== 1 && channels !== 2 && channels !== 3 && channels !== 4) return `channels is ${channels}, expected 1-4`;
  if (data.length !== width! * height! * channels) return `data has ${data.length} bytes, expected ${width} x ${height} x ${channels}`;
  return undefined;
}

/**
 * Interleaved 8-bit RGB (`width · height · 3` bytes) of a well-formed image: grey replicated, alpha
 * dropped (Pillow's `convert('RGB')`). A 3-channel `Uint8Array` is returned as is, not copied.
 */
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
