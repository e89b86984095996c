import { EncoderError } from '../errors';
import { checkRawImage, type RawImage, toRgb } from '../image';

/** CLIP's per-channel normalisation mean (RGB, on [0, 1] values). */
export const CLIP_MEAN: readonly [number, number, number] = [0.48145466, 0.4578275, 0.40821073];
/** CLIP's per-channel normalisation standard deviation. */
export const CLIP_STD: readonly [number, number, number] = [0.26862954, 0.26130258, 0.27577711];

/** Options of {@link preprocessClipImage}. */
export interface ClipPreprocessOptions {
  /** Output side in pixels (default 224). */
  readonly size?: number;
  readonly mean?: readonly [number, number, number];
  readonly std?: readonly [number, number, number];
}

const PRECISION_BITS = 32 - 8 - 2;
const HALF = 1 << (PRECISION_BITS - 1);
const SCALE = 2 ** PRECISION_BITS; // weight quantisation

/** Pillow's bicubic kernel, a = -0.5, support 2. */
function bicubic(x: number): number {
  const a = -0.5;
  if (x < 0) x = -x;
  if (x < 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
  if (x < 2) return (((x - 5) * x + 8) * x - 4) * a;
  return 0;
}

interface Coefficients {
  /** Per output pixel: first input index and tap count. */
  readonly bounds: Int32Array;
  /** Per output pixel `ksize` fixed-point (22-bit) weights. */
  readonly weights: Int32Array;
  readonly ksize: number;
}

/** Pillow's `precompute_coeffs` + `normalize_coeffs_8bpc` for a full-range resize. */
function coefficients(inSize: number, outSize: number): Coefficients {
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1);
  const support = 2 * filterScale;
  const ksize = Math.ceil(support) * 2 + 1;
  const bounds = new Int32Array(outSize * 2);
  const weights = new Int32Array(outSize * ksize);
  const k = new Float64Array(ksize);
  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    const ss = 1 / filterScale;
    // C's (int) truncates toward zero.
    const xmin = Math.max(0, Math.trunc(center - support + 0.5));
    const xmax = Math.min(inSize, Math.trunc(center + support + 0.5)) - xmin;
    let ww = 0;
    for (let x = 0; x < xmax; x++) {
      const w = bicubic((x + xmin - center + 0.5) * ss);
      k[x] = w;
      ww += w;
    }
    for (let x = 0; x < xmax; x++) {
      const w = ww !== 0 ? k[x]! / ww : k[x]!;
      weights[xx * ksize + x] = w < 0 ? Math.trunc(-0.5 + w * SCALE) : Math.trunc(0.5 + w * SCALE);
    }
    bounds[xx * 2] = xmin;
    bounds[xx * 2 + 1] = xmax;
  }
  return { bounds, weights, ksize };
}

/** Fixed-point sum → uint8: arithmetic shift and clamp (Pillow's `clip8`). Sums fit in int32. */
function clip8(v: number): number {
  const s = v >> PRECISION_BITS;
  return Math.min(255, Math.max(0, s));
}

/**
 * Pillow 9.4's `Image.resize(size, Image.BICUBIC)` on an 8-bit RGB image, bit for bit: separable
 * convolution (horizontal pass first, into an 8-bit image covering only the rows the vertical
 * pass reads; then vertical), support scaled by the shrink factor (antialiasing), weights
 * normalised to sum 1 and quantised to 22-bit fixed point, rounding and clipping to uint8 after
 * each pass. A pass whose size does not change is skipped, as in Pillow.
 * @param rgb interleaved RGB, `width × height × 3`
 * @returns interleaved RGB, `outWidth × outHeight × 3`
 */
export function resizeBicubic(rgb: Uint8Array, width: number, height: number, outWidth: number, outHeight: number): Uint8Array {
  if (!Number.isInteger(outWidth) || !Number.isInteger(outHeight) || outWidth < 1 || outHeight < 1) {
    throw new EncoderError('invalid-input', `resizeBicubic: output size ${outWidth} x ${outHeight} must be positive integers`);
  }
  return resizeBicubicWindow(rgb, width, height, outWidth, outHeight, 0, 0, outWidth, outHeight);
}

/**
 * {@link resizeBicubic} followed by a crop `[left, left + cropWidth) × [top, top + cropHeight)`,
 * computing only the output pixels inside the crop (each output pixel is independent, so the
 * result is bit-identical to resizing everything and cropping).
 */
export function resizeBicubicWindow(
  rgb: Uint8Array,
  width: number,
  height: number,
  outWidth: number,
  outHeight: number,
  left: number,
  top: number,
  cropWidth: number,
  cropHeight: number,
): Uint8Array {
  if (rgb.length !== width * height * 3) {
    throw new EncoderError('invalid-input', `resizeBicubic: ${rgb.length} bytes for ${width} x ${height} RGB`);
  }
  if (left < 0 || top < 0 || left + cropWidth > outWidth || top + cropHeight > outHeight) {
    throw new EncoderError(
      'invalid-input',
      `resizeBicubic: crop ${cropWidth} x ${cropHeight} at (${left}, ${top}) exceeds ${outWidth} x ${outHeight}`,
    );
  }
  const needHorizontal = outWidth !== width;
  const needVertical = outHeight !== height;
  const vertical = needVertical ? coefficients(height, outHeight) : undefined;
  // Source rows the vertical pass reads (or the cropped rows when there is no vertical pass).
  const firstRow = vertical ? vertical.bounds[top * 2]! : top;
  const lastRow = vertical
    ? vertical.bounds[(top + cropHeight - 1) * 2]! + vertical.bounds[(top + cropHeight - 1) * 2 + 1]!
    : top + cropHeight;
  let src = rgb;
  let srcStride = width * 3;
  let srcCol = left; // column of src that is output column 0
  let rowOffset = 0; // source row of src's row 0
  if (needHorizontal) {
    const rows = lastRow - firstRow;
    const { bounds, weights, ksize } = coefficients(width, outWidth);
    const tmp = new Uint8Array(cropWidth * rows * 3);
    for (let y = 0; y < rows; y++) {
      const inRow = (y + firstRow) * width * 3;
      const outRow = y * cropWidth * 3;
      for (let c = 0; c < cropWidth; c++) {
        const xx = c + left;
        const xmin = bounds[xx * 2]!;
        const xmax = bounds[xx * 2 + 1]!;
        const ko = xx * ksize;
        let s0 = HALF;
        let s1 = HALF;
        let s2 = HALF;
        let p = inRow + xmin * 3;
        for (let x = 0; x < xmax; x++, p += 3) {
          const w = weights[ko + x]!;
          s0 = (s0 + rgb[p]! * w) | 0;
          s1 = (s1 + rgb[p + 1]! * w) | 0;
          s2 = (s2 + rgb[p + 2]! * w) | 0;
        }
        const o = outRow + c * 3;
        tmp[o] = clip8(s0);
        tmp[o + 1] = clip8(s1);
        tmp[o + 2] = clip8(s2);
      }
    }
    src = tmp;
    srcStride = cropWidth * 3;
    srcCol = 0;
    rowOffset = firstRow;
  }
  const rowBytes = cropWidth * 3;
  const out = new Uint8Array(rowBytes * cropHeight);
  if (!vertical) {
    for (let y = 0; y < cropHeight; y++) {
      const from = (top + y - rowOffset) * srcStride + srcCol * 3;
      out.set(src.subarray(from, from + rowBytes), y * rowBytes);
    }
    return out;
  }
  const { bounds, weights, ksize } = vertical;
  // Row-wise accumulation (cache-friendly); the same integer sums as Pillow's per-pixel loop.
  const acc = new Int32Array(rowBytes);
  for (let r = 0; r < cropHeight; r++) {
    const yy = r + top;
    const ymin = bounds[yy * 2]! - rowOffset;
    const ymax = bounds[yy * 2 + 1]!;
    const ko = yy * ksize;
    acc.fill(HALF);
    for (let y = 0; y < ymax; y++) {
      const w = weights[ko + y]!;
      const row = (ymin + y) * srcStride + srcCol * 3;
      for (let i = 0; i < rowBytes; i++) acc[i] = (acc[i]! + src[row + i]! * w) | 0;
    }
    const outRow = r * rowBytes;
    for (let i = 0; i < rowBytes; i++) out[outRow + i] = clip8(acc[i]!);
  }
  return out;
}

/** Python's `round` (half to even), as torchvision's CenterCrop uses. */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * Output size of torchvision's `Resize(size)` with an int: the short side becomes `size`, the long
 * side `floor(size * long / short)`.
 */
export function shortSideResize(width: number, height: number, size: number): { width: number; height: number } {
  if (width <= height) return { width: size, height: Math.floor((size * height) / width) };
  return { width: Math.floor((size * width) / height), height: size };
}

/**
 * CLIP's image preprocessing (OpenAI `clip.load`'s transform, Pillow 9.4 + torchvision): convert
 * to RGB, resize the short side to `size` with Pillow-exact bicubic, center crop `size × size`
 * (offsets `round((w - size) / 2)`, half to even), scale to [0, 1], normalise with mean/std.
 * @returns CHW float32 of `3 × size × size`
 */
export function preprocessClipImage(image: RawImage, options: ClipPreprocessOptions = {}): Float32Array {
  const size = options.size ?? 224;
  const out = new Float32Array(3 * size * size);
  preprocessClipImageInto(image, out, 0, options);
  return out;
}

/** {@link preprocessClipImage} writing into `out` at `offset` (for batches). */
export function preprocessClipImageInto(image: RawImage, out: Float32Array, offset: number, options: ClipPreprocessOptions = {}): void {
  checkRawImage(image);
  const size = options.size ?? 224;
  if (!Number.isInteger(size) || size < 1) throw new EncoderError('invalid-input', `size must be a positive integer, got ${size}`);
  const mean = options.mean ?? CLIP_MEAN;
  const std = options.std ?? CLIP_STD;
  const rgb = toRgb(image);
  const target = shortSideResize(image.width, image.height, size);
  if (target.width < size || target.height < size) {
    throw new EncoderError(
      'invalid-input',
      `image ${image.width} x ${image.height} resizes to ${target.width} x ${target.height}, smaller than the ${size} crop`,
    );
  }
  const top = roundHalfEven((target.height - size) / 2);
  const left = roundHalfEven((target.width - size) / 2);
  const cropped = resizeBicubicWindow(rgb, image.width, image.height, target.width, target.height, left, top, size, size);
  const plane = size * size;
  // float32 arithmetic like torch: (x / 255 - mean) / std.
  const f = Math.fround;
  const lut = [new Float32Array(256), new Float32Array(256), new Float32Array(256)];
  for (let c = 0; c < 3; c++) {
    const m = f(mean[c]!);
    const s = f(std[c]!);
    for (let v = 0; v < 256; v++) lut[c]![v] = f(f(f(v / 255) - m) / s);
  }
  const [l0, l1, l2] = lut as [Float32Array, Float32Array, Float32Array];
  for (let y = 0; y < size; y++) {
    let p = y * size * 3;
    const o = offset + y * size;
    for (let x = 0; x < size; x++, p += 3) {
      out[o + x] = l0[cropped[p]!]!;
      out[o + plane + x] = l1[cropped[p + 1]!]!;
      out[o + 2 * plane + x] = l2[cropped[p + 2]!]!;
    }
  }
}
