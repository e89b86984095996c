import { type FileHandle, open } from 'node:fs/promises';
import { ChunkReader, fileChunks, isGzip, readExactlyAt } from './byte-stream';
import { assertStreamableItems, DTYPE_SIZE, type Dtype, decodeElements, type NdArray, shapeSize } from './dtypes';
import { DatasetError, fsError, throwIfAborted } from './errors';
import { type ArchiveLimits, checkExpansion, expansionLimit } from './npz';

/** IDX type codes: 0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32, 0x0D float32, 0x0E float64. */
const IDX_TYPES: Record<number, Dtype> = {
  8: 'uint8',
  9: 'int8',
  11: 'int16',
  12: 'int32',
  13: 'float32',
  14: 'float64',
};

/** What an IDX header says. */
export interface IdxHeader {
  dtype: Dtype;
  /** Dimensions, e.g. [60000, 28, 28] for MNIST images, [60000] for labels. */
  shape: number[];
  /** Header length in bytes (4 + 4 · rank). */
  headerLength: number;
  gzip: boolean;
}

/** A batch of consecutive first-axis items of an IDX file. */
export interface IdxBatch {
  /** Index of the first item. */
  start: number;
  /** Items, shape [count, ...shape.slice(1)], native byte order. */
  array: NdArray;
}

function parseMagic(head: Uint8Array, file: string): { dtype: Dtype; rank: number } {
  if (head.length < 4) throw new DatasetError('truncated', `IDX header needs 4 bytes, file has ${head.length}`, { file });
  if (head[0] !== 0 || head[1] !== 0) throw new DatasetError('bad-magic', 'not an IDX file (first two bytes must be 0)', { file });
  const dtype = IDX_TYPES[head[2]!];
  if (!dtype) throw new DatasetError('unsupported-dtype', `IDX type code 0x${head[2]!.toString(16)} is not defined`, { file });
  const rank = head[3]!;
  if (rank === 0) throw new DatasetError('header-mismatch', 'IDX rank is 0', { file });
  return { dtype, rank };
}

function parseDims(bytes: Uint8Array, rank: number): number[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const shape: number[] = [];
  for (let k = 0; k < rank; k++) shape.push(view.getUint32(4 * k, false));
  return shape;
}

/** An IDX file being read item by item (plain or gzip). */
interface IdxSource {
  header: IdxHeader;
  /** Reads `count` items' bytes. */
  read(count: number): Promise<Uint8Array>;
  /** Throws 'header-mismatch' if bytes remain after the declared items. */
  finish(): Promise<void>;
  close(): Promise<void>;
}

async function openIdxSource(path: string, limits: ArchiveLimits = {}): Promise<IdxSource> {
  const limit = expansionLimit(limits);
  let handle: FileHandle;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    throw fsError(error, path);
  }
  let size: number;
  let head: Uint8Array;
  try {
    size = (await handle.stat()).size;
    head = new Uint8Array(Math.min(size, 4));
    await handle.read(head, 0, head.length, 0);
  } catch (error) {
    await handle.close();
    throw fsError(error, path);
  }
  if (isGzip(head)) {
    await handle.close();
    const reader = new ChunkReader(fileChunks(path, true), path);
    try {
      const { dtype, rank } = parseMagic(await reader.read(4).catch(() => new Uint8Array(0)), path);
      const shape = parseDims(await reader.read(4 * rank), rank);
      const total = shapeSize(shape, path) * DTYPE_SIZE[dtype];
      // Deflate cannot expand more than 1032:1, so a header claiming more is lying.
      if (total > size * 1032 + 1024) {
        throw new DatasetError(
          'header-mismatch',
          `IDX shape [${shape.join(', ')}] needs ${total} bytes, impossible from ${size} gzip bytes`,
          { file: path },
        );
      }
      checkExpansion(4 + 4 * rank + total, limit, path);
      const header: IdxHeader = { dtype, shape, headerLength: 4 + 4 * rank, gzip: true };
      const itemBytes = shapeSize(shape.slice(1)) * DTYPE_SIZE[dtype];
      return {
        header,
        read: (count) => reader.read(count * itemBytes),
        async finish() {
          if (!(await reader.atEnd()))
            throw new DatasetError('header-mismatch', 'IDX: data continues after the declared items', { file: path });
        },
        close: () => reader.close(),
      };
    } catch (error) {
      await reader.close();
      throw error;
    }
  }
  try {
    const { dtype, rank } = parseMagic(head, path);
    if (size < 4 + 4 * rank)
      throw new DatasetError('truncated', `IDX header of rank ${rank} needs ${4 + 4 * rank} bytes, file has ${size}`, { file: path });
    const dimBytes = new Uint8Array(4 * rank);
    await handle.read(dimBytes, 0, dimBytes.length, 4);
    const shape = parseDims(dimBytes, rank);
    const headerLength = 4 + 4 * rank;
    const total = shapeSize(shape, path) * DTYPE_SIZE[dtype];
    if (size - headerLength < total) {
      throw new DatasetError('truncated', `IDX shape [${shape.join(', ')}] needs ${total} data bytes, file has ${size - headerLength}`, {
        file: path,
      });
    }
    if (size - headerLength > total) {
      throw new DatasetError('header-mismatch', `IDX: ${size - headerLength - total} bytes after the declared items`, { file: path });
    }
    const itemBytes = shapeSize(shape.slice(1)) * DTYPE_SIZE[dtype];
    let position = headerLength;
    return {
      header: { dtype, shape, headerLength, gzip: false },
      async read(count) {
        const out = await readExactlyAt(handle, count * itemBytes, position, path);
        position += out.length;
        return out;
      },
      finish: async () => {},
      close: () => handle.close(),
    };
  } catch (error) {
    await handle.close();
    throw fsError(error, path);
  }
}

/** Reads an IDX header (gzip detected from the magic bytes, not the file name). */
export async function readIdxHeader(path: string, limits: ArchiveLimits = {}): Promise<IdxHeader> {
  const source = await openIdxSource(path, limits);
  await source.close();
  return source.header;
}

/**
 * Streams an IDX file (MNIST, Fashion-MNIST; gzipped or not) in batches of `batchSize` items
 * along the first axis. Memory stays O(batchSize · item size).
 */
export async function* streamIdx(
  path: string,
  options: { batchSize?: number; signal?: AbortSignal } & ArchiveLimits = {},
): AsyncGenerator<IdxBatch> {
  const batchSize = options.batchSize ?? 1024;
  if (!Number.isSafeInteger(batchSize) || batchSize < 1)
    throw new DatasetError('invalid-argument', `batchSize must be a positive integer, got ${batchSize}`);
  const source = await openIdxSource(path, options);
  try {
    const { dtype, shape } = source.header;
    assertStreamableItems(shape, path);
    const n = shape[0]!;
    const rest = shape.slice(1);
    const itemElements = shapeSize(rest);
    for (let start = 0; start < n; start += batchSize) {
      throwIfAborted(options.signal);
      const count = Math.min(batchSize, n - start);
      const bytes = await source.read(count);
      yield { start, array: { dtype, shape: [count, ...rest], data: decodeElements(bytes, dtype, count * itemElements, false, true) } };
    }
    await source.finish();
  } finally {
    await source.close();
  }
}

/**
 * Reads a whole IDX file (gzipped or not). For gzip, the header's declared size must fit in
 * `limits.maxExpandedBytes` (default {@link defaultExpansionLimit}), the data is inflated into
 * one buffer of exactly that size (peak memory: the array plus a 64 KiB chunk), and a stream
 * that continues after it is 'header-mismatch'.
 */
export async function readIdx(path: string, limits: ArchiveLimits = {}): Promise<NdArray> {
  const source = await openIdxSource(path, limits);
  const { dtype, shape } = source.header;
  const count = shapeSize(shape);
  try {
    const bytes = await source.read(shape[0]!);
    await source.finish();
    return { dtype, shape, data: decodeElements(bytes, dtype, count, false, true) };
  } finally {
    await source.close();
  }
}

/** Encodes an array as IDX bytes (big-endian; dtype uint8, int8, int16, int32, float32 or float64). */
export function encodeIdx(array: { dtype: Dtype; shape: readonly number[]; data: ArrayLike<number> }): Uint8Array {
  const code = Number(Object.keys(IDX_TYPES).find((k) => IDX_TYPES[Number(k)] === array.dtype));
  if (!code) throw new DatasetError('unsupported-dtype', `IDX has no ${array.dtype} type`);
  const size = DTYPE_SIZE[array.dtype];
  const n = shapeSize(array.shape);
  if (array.data.length !== n) throw new DatasetError('shape-mismatch', `data has ${array.data.length} values, shape needs ${n}`);
  const out = new Uint8Array(4 + 4 * array.shape.length + n * size);
  const view = new DataView(out.buffer);
  out[2] = code;
  out[3] = array.shape.length;
  array.shape.forEach((d, k) => {
    view.setUint32(4 + 4 * k, d, false);
  });
  const base = 4 + 4 * array.shape.length;
  for (let i = 0; i < n; i++) {
    const v = Number(array.data[i]);
    const o = base + i * size;
    switch (array.dtype) {
      case 'uint8':
        view.setUint8(o, v);
        break;
      case 'int8':
        view.setInt8(o, v);
        break;
      case 'int16':
        view.setInt16(o, v, false);
        break;
      case 'int32':
        view.setInt32(o, v, false);
        break;
      case 'float32':
        view.setFloat32(o, v, false);
        break;
      default:
        view.setFloat64(o, v, false);
    }
  }
  return out;
}

/** Class names of MNIST (digits). */
export const MNIST_CLASSES: readonly string[] = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];
/** Class names of Fashion-MNIST, label order. */
export const FASHION_MNIST_CLASSES: readonly string[] = [
  'T-shirt/top',
  'Trouser',
  'Pullover',
  'Dress',
  'Coat',
  'Sandal',
  'Shirt',
  'Sneaker',
  'Bag',
  'Ankle boot',
];

/** A batch of an image + label IDX pair. */
export interface IdxDatasetBatch {
  start: number;
  /** Images, uint8, shape [count, height, width]. */
  images: NdArray;
  /** Labels in [0, numClasses). */
  labels: Int32Array;
}

/**
 * Streams an images/labels IDX pair (e.g. Fashion-MNIST `train-images-idx3-ubyte.gz` and
 * `train-labels-idx1-ubyte.gz`) in aligned batches. Checks the item counts agree
 * ('header-mismatch') and labels lie in [0, numClasses) ('label-out-of-range').
 */
export async function* streamIdxDataset(options: {
  images: string;
  labels: string;
  batchSize?: number;
  numClasses?: number;
  signal?: AbortSignal;
}): AsyncGenerator<IdxDatasetBatch> {
  const numClasses = options.numClasses ?? 10;
  const [imageHeader, labelHeader] = [await readIdxHeader(options.images), await readIdxHeader(options.labels)];
  if (imageHeader.shape[0] !== labelHeader.shape[0] || labelHeader.shape.length !== 1) {
    throw new DatasetError(
      'header-mismatch',
      `images [${imageHeader.shape.join(', ')}] and labels [${labelHeader.shape.join(', ')}] do not pair up`,
      { file: options.labels },
    );
  }
  const imageStream = streamIdx(options.images, options);
  const labelStream = streamIdx(options.labels, options);
  try {
    for (;;) {
      const [img, lab] = await Promise.all([imageStream.next(), labelStream.next()]);
      if (img.done || lab.done) break;
      const raw = lab.value.array.data as ArrayLike<number>;
      const labels = new Int32Array(raw.length);
      for (let i = 0; i < raw.length; i++) {
        const y = Number(raw[i]);
        if (!Number.isInteger(y) || y < 0 || y >= numClasses) {
          throw new DatasetError('label-out-of-range', `label ${y} of item ${lab.value.start + i} is outside [0, ${numClasses})`, {
            file: options.labels,
          });
        }
        labels[i] = y;
      }
      yield { start: img.value.start, images: img.value.array, labels };
    }
  } finally {
    await imageStream.return(undefined);
    await labelStream.return(undefined);
  }
}
