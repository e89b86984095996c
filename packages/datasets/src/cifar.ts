import { type FileHandle, open, readFile } from 'node:fs/promises';
import { type RawImage, rawImageProblem, toRgb } from '@gla/core';
import { DatasetError, fsError, throwIfAborted } from './errors';

/** Which CIFAR binary layout: CIFAR-10 records are 1 label byte + 3072 pixels; CIFAR-100 records are coarse + fine label bytes + 3072 pixels. */
export type CifarVariant = 'cifar10' | 'cifar100';

/** Pixels per CIFAR image: 3 channels × 32 × 32, channel-major (all red, then green, then blue), rows top to bottom. */
export const CIFAR_IMAGE_BYTES = 3072;

/** Bytes per record of a CIFAR binary batch file. */
function cifarRecordBytes(variant: CifarVariant): number {
  return variant === 'cifar10' ? 1 + CIFAR_IMAGE_BYTES : 2 + CIFAR_IMAGE_BYTES;
}

/** A batch of CIFAR records. */
export interface CifarBatch {
  /** The file the records come from. */
  file: string;
  /** Index of the first record of the batch within all files read so far. */
  start: number;
  /** Number of images. */
  count: number;
  /** Pixels, uint8, shape [count, 3, 32, 32] (CHW, as stored). */
  images: Uint8Array;
  /** Labels (CIFAR-10 label, or CIFAR-100 fine label), in [0, 10) or [0, 100). */
  labels: Int32Array;
  /** CIFAR-100 coarse labels in [0, 20); absent for CIFAR-10. */
  coarseLabels?: Int32Array;
}

/**
 * Streams CIFAR-10/100 binary batch files (`data_batch_1.bin` … `test_batch.bin`,
 * `train.bin`/`test.bin`) in batches of `batchSize` records. Files are read in the order
 * given. Throws 'truncated' if a file's size is not a whole number of records,
 * 'label-out-of-range' for a label outside the variant's classes.
 */
export async function* streamCifarBinary(
  files: string | readonly string[],
  options: { variant?: CifarVariant; batchSize?: number; signal?: AbortSignal } = {},
): AsyncGenerator<CifarBatch> {
  const variant = options.variant ?? 'cifar10';
  const batchSize = options.batchSize ?? 1000;
  if (!Number.isSafeInteger(batchSize) || batchSize < 1)
    throw new DatasetError('invalid-argument', `batchSize must be a positive integer, got ${batchSize}`);
  const record = cifarRecordBytes(variant);
  const fineClasses = variant === 'cifar10' ? 10 : 100;
  let start = 0;
  for (const file of typeof files === 'string' ? [files] : files) {
    let handle: FileHandle;
    try {
      handle = await open(file, 'r');
    } catch (error) {
      throw fsError(error, file);
    }
    try {
      const size = (await handle.stat()).size;
      if (size % record !== 0) {
        throw new DatasetError(
          'truncated',
          `${size} bytes is not a whole number of ${record}-byte ${variant} records (${Math.floor(size / record)} whole, ${size % record} left over)`,
          { file },
        );
      }
      const n = size / record;
      for (let first = 0; first < n; first += batchSize) {
        throwIfAborted(options.signal);
        const count = Math.min(batchSize, n - first);
        const bytes = new Uint8Array(count * record);
        let done = 0;
        while (done < bytes.length) {
          const { bytesRead } = await handle.read(bytes, done, bytes.length - done, first * record + done);
          if (bytesRead === 0) throw new DatasetError('truncated', 'file shrank while reading', { file });
          done += bytesRead;
        }
        const images = new Uint8Array(count * CIFAR_IMAGE_BYTES);
        const labels = new Int32Array(count);
        const coarseLabels = variant === 'cifar100' ? new Int32Array(count) : undefined;
        const offset = record - CIFAR_IMAGE_BYTES;
        for (let i = 0; i < count; i++) {
          const r = i * record;
          const fine = bytes[r + offset - 1]!;
          if (fine >= fineClasses)
            throw new DatasetError('label-out-of-range', `record ${first + i}: label ${fine} is outside [0, ${fineClasses})`, { file });
          labels[i] = fine;
          if (coarseLabels) {
            const coarse = bytes[r]!;
            if (coarse >= 20)
              throw new DatasetError('label-out-of-range', `record ${first + i}: coarse label ${coarse} is outside [0, 20)`, { file });
            coarseLabels[i] = coarse;
          }
          images.set(bytes.subarray(r + offset, r + record), i * CIFAR_IMAGE_BYTES);
        }
        const batch: CifarBatch = { file, start, count, images, labels };
        if (coarseLabels) batch.coarseLabels = coarseLabels;
        yield batch;
        start += count;
      }
    } finally {
      await handle.close();
    }
  }
}

/**
 * Encodes images and labels in the CIFAR binary layout. `images` is uint8 [n, 3, 32, 32]
 * (CHW); for CIFAR-100 `coarseLabels` is required.
 */
export function encodeCifarBinary(
  images: Uint8Array,
  labels: ArrayLike<number>,
  options: { variant?: CifarVariant; coarseLabels?: ArrayLike<number> } = {},
): Uint8Array {
  const variant = options.variant ?? 'cifar10';
  const n = labels.length;
  if (images.length !== n * CIFAR_IMAGE_BYTES)
    throw new DatasetError('shape-mismatch', `images has ${images.length} bytes, ${n} records need ${n * CIFAR_IMAGE_BYTES}`);
  if (variant === 'cifar100' && options.coarseLabels?.length !== n)
    throw new DatasetError('shape-mismatch', 'CIFAR-100 needs one coarse label per image');
  const record = cifarRecordBytes(variant);
  const out = new Uint8Array(n * record);
  for (let i = 0; i < n; i++) {
    const r = i * record;
    if (variant === 'cifar100') {
      out[r] = options.coarseLabels![i]!;
      out[r + 1] = labels[i]!;
    } else out[r] = labels[i]!;
    out.set(images.subarray(i * CIFAR_IMAGE_BYTES, (i + 1) * CIFAR_IMAGE_BYTES), r + record - CIFAR_IMAGE_BYTES);
  }
  return out;
}

/**
 * One decoded image (any {@link RawImage}: grey replicated, alpha dropped as Pillow's
 * `convert('RGB')`) as CIFAR's channel-major planes: uint8 [3, height, width], all red, then
 * green, then blue. Throws 'invalid-argument' for a malformed image.
 */
export function toChwPlanes(image: RawImage): Uint8Array {
  const problem = rawImageProblem(image);
  if (problem !== undefined) throw new DatasetError('invalid-argument', `toChwPlanes: ${problem}`);
  const rgb = toRgb(image);
  const plane = image.width * image.height;
  const out = new Uint8Array(3 * plane);
  for (let p = 0; p < plane; p++) {
    out[p] = rgb[3 * p]!;
    out[plane + p] = rgb[3 * p + 1]!;
    out[2 * plane + p] = rgb[3 * p + 2]!;
  }
  return out;
}

/**
 * One CIFAR image (uint8 [3, height, width] planes, e.g. `batch.images.subarray(i * 3072, (i + 1) * 3072)`)
 * as an interleaved RGB {@link RawImage}, ready for CLIP preprocessing. Throws 'shape-mismatch'
 * when `chw` does not hold 3 · width · height bytes.
 */
export function fromChwPlanes(chw: Uint8Array, width: number, height: number): RawImage {
  const plane = width * height;
  if (!Number.isSafeInteger(plane) || width < 1 || height < 1 || chw.length !== 3 * plane) {
    throw new DatasetError('shape-mismatch', `fromChwPlanes: ${chw.length} bytes is not 3 x ${height} x ${width}`);
  }
  const out = new Uint8Array(3 * plane);
  for (let p = 0; p < plane; p++) {
    out[3 * p] = chw[p]!;
    out[3 * p + 1] = chw[plane + p]!;
    out[3 * p + 2] = chw[2 * plane + p]!;
  }
  return { data: out, width, height, channels: 3 };
}

/** Reads a label-name file (`batches.meta.txt`, `fine_label_names.txt`): one name per line, blank lines dropped. */
export async function readCifarLabelNames(path: string): Promise<string[]> {
  try {
    return (await readFile(path, 'utf8'))
      .split(/\r?\n/)
      .map((s) => s.trim())
      .filter((s) => s.length > 0);
  } catch (error) {
    throw fsError(error, path);
  }
}

/** CIFAR-10 class names in label order. */
export const CIFAR10_CLASSES: readonly string[] = [
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
];

/** CIFAR-100 fine class names in label order. */
export const CIFAR100_CLASSES: readonly string[] = (
  'apple aquarium_fish baby bear beaver bed bee beetle bicycle bottle bowl boy bridge bus butterfly camel can castle ' +
  'caterpillar cattle chair chimpanzee clock cloud cockroach couch crab crocodile cup dinosaur dolphin elephant flatfish ' +
  'forest fox girl hamster house kangaroo keyboard lamp lawn_mower leopard lion lizard lobster man maple_tree motorcycle ' +
  'mountain mouse mushroom oak_tree orange orchid otter palm_tree pear pickup_truck pine_tree plain plate poppy porcupine ' +
  'possum rabbit raccoon ray road rocket rose sea seal shark shrew skunk skyscraper snail snake spider squirrel streetcar ' +
  'sunflower sweet_pepper table tank telephone television tiger tractor train trout tulip turtle wardrobe whale willow_tree ' +
  'wolf woman worm'
).split(' ');

/** CIFAR-100 coarse (superclass) names in label order. */
export const CIFAR100_COARSE_CLASSES: readonly string[] = (
  'aquatic_mammals fish flowers food_containers fruit_and_vegetables household_electrical_devices household_furniture ' +
  'insects large_carnivores large_man-made_outdoor_things large_natural_outdoor_scenes large_omnivores_and_herbivores ' +
  'medium_mammals non-insect_invertebrates people reptiles small_mammals trees vehicles_1 vehicles_2'
).split(' ');
