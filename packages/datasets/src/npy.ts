import { type FileHandle, mkdir, open, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { assertReplaceable, registerPendingTemporary, syncFolder, temporaryPathFor, writeFileAtomic } from './atomic-write';
import { openForReading, readExactlyAt, writeFully } from './byte-stream';
import {
  assertStreamableItems,
  DTYPE_SIZE,
  type Dtype,
  decodeElements,
  encodeElements,
  type NdArray,
  shapeSize,
  type TypedArray,
  valuesPerElement,
} from './dtypes';
import { DatasetError, fsError, throwIfAborted } from './errors';

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
/** numpy refuses headers longer than this by default; we use it as a sanity bound. */
const MAX_HEADER_LENGTH = 1 << 20;

/** What the header of a .npy file says. */
export interface NpyHeader {
  /** Format version [major, minor]: 1.0, 2.0 or 3.0. */
  version: [number, number];
  dtype: Dtype;
  /** Byte order of the stored data. */
  littleEndian: boolean;
  /** Stored in Fortran (column-major) order. Readers return C order regardless. */
  fortranOrder: boolean;
  shape: number[];
  /** Byte offset of the data in the file. */
  dataOffset: number;
  /** Byte length of the data: product(shape) · element size. */
  dataLength: number;
}

const DESCR: Record<string, Dtype> = {
  b1: 'bool',
  i1: 'int8',
  u1: 'uint8',
  i2: 'int16',
  u2: 'uint16',
  i4: 'int32',
  u4: 'uint32',
  i8: 'int64',
  u8: 'uint64',
  f2: 'float16',
  f4: 'float32',
  f8: 'float64',
  c8: 'complex64',
  c16: 'complex128',
};

function descrFor(dtype: Dtype, littleEndian: boolean): string {
  if (dtype === 'bfloat16') throw new DatasetError('unsupported-dtype', '.npy has no bfloat16 dtype; convert to float32 first');
  const code = Object.keys(DESCR).find((k) => DESCR[k] === dtype)!;
  return `${DTYPE_SIZE[dtype] === 1 ? '|' : littleEndian ? '<' : '>'}${code}`;
}

/** Parses the Python-literal header dict, e.g. `{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }`. */
function parsePythonLiteral(text: string, file?: string): unknown {
  let i = 0;
  const fail = (what: string): never => {
    throw new DatasetError('header-mismatch', `malformed .npy header (${what} at offset ${i}): ${JSON.stringify(text.slice(0, 200))}`, {
      file,
    });
  };
  const skip = () => {
    while (i < text.length && /\s/.test(text[i]!)) i++;
  };
  const value = (depth: number): unknown => {
    if (depth > 16) fail('nesting too deep');
    skip();
    const ch = text[i];
    if (ch === '{' || ch === '(' || ch === '[') {
      const close = ch === '{' ? '}' : ch === '(' ? ')' : ']';
      i++;
      const items: unknown[] = [];
      const dict: Record<string, unknown> = {};
      for (;;) {
        skip();
        if (text[i] === close) {
          i++;
          return ch === '{' ? dict : items;
        }
        const v = value(depth + 1);
        if (ch === '{') {
          skip();
          if (text[i] !== ':') fail("expected ':'");
          i++;
          if (typeof v !== 'string') fail('non-string key');
          dict[v as string] = value(depth + 1);
        } else items.push(v);
        skip();
        if (text[i] === ',') i++;
        else if (text[i] !== close) fail(`expected ',' or '${close}'`);
      }
    }
    if (ch === "'" || ch === '"') {
      const end = text.indexOf(ch, i + 1);
      if (end < 0) fail('unterminated string');
      const s = text.slice(i + 1, end);
      i = end + 1;
      return s;
    }
    const m = /^(True|False|None|-?\d+L?)/.exec(text.slice(i, i + 40));
    if (!m) return fail('unexpected token');
    i += m[0].length;
    if (m[0] === 'True') return true;
    if (m[0] === 'False') return false;
    if (m[0] === 'None') return null;
    return Number.parseInt(m[0], 10);
  };
  const result = value(0);
  skip();
  if (i !== text.length) fail('trailing characters');
  return result;
}

/**
 * Parses a .npy header from the first bytes of a file. `bytes` must hold at least the whole
 * header (10 bytes for the preamble, then the declared header length); throws 'truncated'
 * otherwise, 'bad-magic' if it is not a .npy file.
 */
export function parseNpyHeader(bytes: Uint8Array, file?: string): NpyHeader {
  if (bytes.length < 10) throw new DatasetError('truncated', `.npy preamble needs 10 bytes, have ${bytes.length}`, { file });
  for (let k = 0; k < MAGIC.length; k++) {
    if (bytes[k] !== MAGIC[k]) throw new DatasetError('bad-magic', 'not a .npy file (magic \\x93NUMPY missing)', { file });
  }
  const major = bytes[6]!;
  const minor = bytes[7]!;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let headerLength: number;
  let start: number;
  if (major === 1) {
    headerLength = view.getUint16(8, true);
    start = 10;
  } else if (major === 2 || major === 3) {
    if (bytes.length < 12) throw new DatasetError('truncated', `.npy v${major} preamble needs 12 bytes`, { file });
    headerLength = view.getUint32(8, true);
    start = 12;
  } else {
    throw new DatasetError('unsupported-format', `.npy format version ${major}.${minor} is not supported`, { file });
  }
  if (headerLength > MAX_HEADER_LENGTH)
    throw new DatasetError('header-mismatch', `.npy header length ${headerLength} is implausible`, { file });
  if (bytes.length < start + headerLength) {
    throw new DatasetError('truncated', `.npy header declares ${headerLength} bytes, file has ${bytes.length - start}`, { file });
  }
  const raw = bytes.subarray(start, start + headerLength);
  const text = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(raw).trim();
  const dict = parsePythonLiteral(text, file);
  if (dict === null || typeof dict !== 'object' || Array.isArray(dict)) {
    throw new DatasetError('header-mismatch', '.npy header is not a dict', { file });
  }
  const { descr, fortran_order: fortranOrder, shape } = dict as Record<string, unknown>;
  if (typeof descr !== 'string') {
    throw new DatasetError('unsupported-dtype', `.npy dtype ${JSON.stringify(descr)} (structured arrays) is not supported`, { file });
  }
  if (typeof fortranOrder !== 'boolean')
    throw new DatasetError('header-mismatch', `.npy header: fortran_order must be True/False`, { file });
  if (!Array.isArray(shape) || !shape.every((d) => typeof d === 'number')) {
    throw new DatasetError('header-mismatch', `.npy header: shape must be a tuple of integers`, { file });
  }
  const m = /^([<>|=]?)([a-zA-Z]\d+)$/.exec(descr);
  const dtype = m ? DESCR[m[2]!] : undefined;
  if (!m || !dtype) throw new DatasetError('unsupported-dtype', `.npy dtype '${descr}' is not supported`, { file });
  const order = m[1];
  if (order === '|' && DTYPE_SIZE[dtype] !== 1 && dtype !== 'bool') {
    throw new DatasetError('header-mismatch', `.npy dtype '${descr}' has no byte order`, { file });
  }
  const size = shapeSize(shape as number[], file);
  return {
    version: [major, minor],
    dtype,
    littleEndian: order !== '>',
    fortranOrder,
    shape: shape as number[],
    dataOffset: start + headerLength,
    dataLength: size * DTYPE_SIZE[dtype],
  };
}

/** Reorders Fortran-order (column-major) data of `shape` to C order. */
export function fortranToC<T extends TypedArray>(data: T, shape: readonly number[], perElement = 1): T {
  return reorder(data, shape, perElement, true);
}

/** Reorders C-order data of `shape` to Fortran order. */
export function cToFortran<T extends TypedArray>(data: T, shape: readonly number[], perElement = 1): T {
  return reorder(data, shape, perElement, false);
}

function reorder<T extends TypedArray>(data: T, shape: readonly number[], perElement: number, fromFortran: boolean): T {
  const rank = shape.length;
  if (rank < 2) return data;
  const out = new (data.constructor as { new (n: number): T })(data.length);
  const n = data.length / perElement;
  // Fortran strides (in elements) for each axis.
  const fStride: number[] = [];
  let s = 1;
  for (let a = 0; a < rank; a++) {
    fStride.push(s);
    s *= shape[a]!;
  }
  const index = new Array<number>(rank).fill(0);
  let f = 0;
  const src = data as unknown as ArrayLike<number> & { [i: number]: number };
  const dst = out as unknown as { [i: number]: number };
  for (let c = 0; c < n; c++) {
    for (let v = 0; v < perElement; v++) {
      if (fromFortran) dst[c * perElement + v] = src[f * perElement + v]!;
      else dst[f * perElement + v] = src[c * perElement + v]!;
    }
    for (let a = rank - 1; a >= 0; a--) {
      index[a]!++;
      f += fStride[a]!;
      if (index[a]! < shape[a]!) break;
      f -= index[a]! * fStride[a]!;
      index[a] = 0;
    }
  }
  return out;
}

/**
 * Decodes a whole .npy file held in memory. Data comes back in C order and native byte
 * order, whatever the file stored. Throws 'truncated' if the data is shorter than the header
 * declares (checked before allocating) and 'header-mismatch' if it is longer.
 */
export function decodeNpy(bytes: Uint8Array, file?: string): NdArray {
  const header = parseNpyHeader(bytes, file);
  const available = bytes.length - header.dataOffset;
  if (available < header.dataLength) {
    throw new DatasetError('truncated', `.npy data: header declares ${header.dataLength} bytes, file has ${available}`, { file });
  }
  if (available > header.dataLength) {
    throw new DatasetError('header-mismatch', `.npy data: ${available - header.dataLength} bytes after the declared array`, { file });
  }
  return decodeNpyData(header, bytes.subarray(header.dataOffset), file);
}

/**
 * Like {@link decodeNpy}, but takes ownership of `bytes`: when aligned, the array is decoded in
 * place (a view of the same memory) instead of copied. For readers that allocated `bytes`.
 */
export function decodeNpyOwned(bytes: Uint8Array, file?: string): NdArray {
  const header = parseNpyHeader(bytes, file);
  const available = bytes.length - header.dataOffset;
  if (available < header.dataLength) {
    throw new DatasetError('truncated', `.npy data: header declares ${header.dataLength} bytes, file has ${available}`, { file });
  }
  if (available > header.dataLength) {
    throw new DatasetError('header-mismatch', `.npy data: ${available - header.dataLength} bytes after the declared array`, { file });
  }
  return decodeNpyData(header, bytes.subarray(header.dataOffset), file, true);
}

function decodeNpyData(header: NpyHeader, data: Uint8Array, file?: string, owned = false): NdArray {
  const count = header.dataLength / DTYPE_SIZE[header.dtype];
  let values = decodeElements(data, header.dtype, count, header.littleEndian, owned);
  if (header.fortranOrder) values = fortranToC(values, header.shape, valuesPerElement(header.dtype));
  void file;
  return { dtype: header.dtype, shape: [...header.shape], data: values };
}

export interface EncodeNpyOptions {
  /** Store in Fortran (column-major) order. Default false. */
  fortranOrder?: boolean;
  /** Byte order of the stored data. Default 'little'. */
  byteOrder?: 'little' | 'big';
}

/** Array input for writers: `data` in C order, typed as for {@link NdArray} or any number array. */
export interface NdArrayInput {
  dtype: Dtype;
  shape: readonly number[];
  data: TypedArray | ArrayLike<number>;
}

function checkInput(array: NdArrayInput): number {
  if (array === null || typeof array !== 'object') throw new DatasetError('invalid-argument', 'expected an array { dtype, shape, data }');
  if (typeof array.dtype !== 'string' || !Object.hasOwn(DTYPE_SIZE, array.dtype)) {
    throw new DatasetError(
      'invalid-argument',
      `dtype ${array.dtype === undefined ? 'is missing' : JSON.stringify(array.dtype) + ' is not known'}: one of ${Object.keys(DTYPE_SIZE).join(', ')}`,
    );
  }
  if (!Array.isArray(array.shape)) throw new DatasetError('invalid-argument', 'shape must be an array of non-negative integers');
  if (array.data === null || typeof array.data !== 'object' || typeof array.data.length !== 'number') {
    throw new DatasetError('invalid-argument', 'data must be a typed array or an array of numbers');
  }
  const n = shapeSize(array.shape);
  const expected = n * valuesPerElement(array.dtype);
  if (array.data.length !== expected) {
    throw new DatasetError(
      'shape-mismatch',
      `data has ${array.data.length} values, shape [${array.shape.join(', ')}] of ${array.dtype} needs ${expected}`,
    );
  }
  return n;
}

function headerBytes(dtype: Dtype, shape: readonly number[], fortranOrder: boolean, littleEndian: boolean, minLength = 0): Uint8Array {
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let dict = `{'descr': '${descrFor(dtype, littleEndian)}', 'fortran_order': ${fortranOrder ? 'True' : 'False'}, 'shape': ${shapeText}, }`;
  let major = 1;
  let preamble = 10;
  // Total header (preamble + dict + padding + '\n') is a multiple of 64, as numpy writes it.
  let total = Math.ceil((preamble + dict.length + 1) / 64) * 64;
  if (total - preamble > 65535) {
    major = 2;
    preamble = 12;
    total = Math.ceil((preamble + dict.length + 1) / 64) * 64;
  }
  if (total < minLength) total = minLength;
  dict = dict + ' '.repeat(total - preamble - dict.length - 1) + '\n';
  const out = new Uint8Array(total);
  out.set(MAGIC, 0);
  out[6] = major;
  out[7] = 0;
  const view = new DataView(out.buffer);
  if (major === 1) view.setUint16(8, total - preamble, true);
  else view.setUint32(8, total - preamble, true);
  for (let k = 0; k < dict.length; k++) out[preamble + k] = dict.charCodeAt(k);
  return out;
}

/** Encodes an array as .npy bytes (format 1.0, or 2.0 for very long headers). */
export function encodeNpy(array: NdArrayInput, options: EncodeNpyOptions = {}): Uint8Array {
  checkInput(array);
  const fortranOrder = options.fortranOrder ?? false;
  const littleEndian = (options.byteOrder ?? 'little') === 'little';
  const header = headerBytes(array.dtype, array.shape, fortranOrder, littleEndian);
  let data = array.data;
  if (fortranOrder && array.shape.length > 1) {
    const typed = ArrayBuffer.isView(data) ? (data as TypedArray) : Float64Array.from(data as ArrayLike<number>);
    data = reorderForWrite(typed, array.shape, valuesPerElement(array.dtype));
  }
  const body = encodeElements(data, array.dtype, littleEndian);
  const out = new Uint8Array(header.length + body.length);
  out.set(header, 0);
  out.set(body, header.length);
  return out;
}

function reorderForWrite(data: TypedArray, shape: readonly number[], perElement: number): TypedArray {
  return cToFortran(data, shape, perElement);
}

/** Reads a whole .npy file (size checked against the header before allocating). */
export async function readNpy(path: string): Promise<NdArray> {
  const reader = await openNpy(path);
  try {
    return await reader.readAll();
  } finally {
    await reader.close();
  }
}

/** Writes a .npy file atomically (temporary file + rename). */
export async function writeNpy(path: string, array: NdArrayInput, options: EncodeNpyOptions = {}): Promise<void> {
  await writeFileAtomic(path, encodeNpy(array, options));
}

/** A batch of consecutive rows (first-axis slices) of a .npy array. */
export interface NpyBatch {
  /** Index of the first row of the batch. */
  start: number;
  /** The rows, shape [count, ...shape.slice(1)], C order. */
  array: NdArray;
}

/** An open .npy file, read by row ranges without loading it whole. */
export interface NpyReader {
  readonly path: string;
  readonly header: NpyHeader;
  /** Number of rows (first dimension; 1 for a 0-d array). */
  readonly rows: number;
  /** Reads rows [start, start + count) as an array of shape [count, ...rest]. */
  readRows(start: number, count: number): Promise<NdArray>;
  /** Reads the whole array. */
  readAll(): Promise<NdArray>;
  /** Iterates over the rows in batches of `batchRows`; memory stays O(batchRows · row size). */
  batches(batchRows: number, options?: { signal?: AbortSignal }): AsyncGenerator<NpyBatch>;
  close(): Promise<void>;
}

/**
 * Opens a .npy file for streaming reads. The header is checked against the file size before
 * anything is allocated: 'truncated' if the file is shorter than declared,
 * 'header-mismatch' if longer.
 */
export async function openNpy(path: string): Promise<NpyReader> {
  const { handle, size } = await openForReading(path);
  try {
    const preamble = await readExactlyAt(handle, Math.min(size, 12), 0, path);
    // Parse once for the header length, then read the exact header.
    let headerEnd = 10;
    if (preamble.length >= 10 && MAGIC.every((b, k) => preamble[k] === b)) {
      const view = new DataView(preamble.buffer);
      const major = preamble[6];
      if (major === 1) headerEnd = 10 + view.getUint16(8, true);
      else if ((major === 2 || major === 3) && preamble.length >= 12) headerEnd = 12 + view.getUint32(8, true);
    }
    if (headerEnd > MAX_HEADER_LENGTH + 12) headerEnd = MAX_HEADER_LENGTH + 13;
    const head = await readExactlyAt(handle, Math.min(size, headerEnd), 0, path);
    const header = parseNpyHeader(head, path);
    const available = size - header.dataOffset;
    if (available < header.dataLength) {
      throw new DatasetError('truncated', `.npy data: header declares ${header.dataLength} bytes, file has ${available}`, { file: path });
    }
    if (available > header.dataLength) {
      throw new DatasetError('header-mismatch', `.npy data: ${available - header.dataLength} bytes after the declared array`, {
        file: path,
      });
    }
    return makeReader(handle, path, header);
  } catch (error) {
    await handle.close();
    throw fsError(error, path);
  }
}

function makeReader(handle: FileHandle, path: string, header: NpyHeader): NpyReader {
  const { shape, dtype } = header;
  const rows = shape.length === 0 ? 1 : shape[0]!;
  const rest = shape.slice(1);
  const rowElements = shapeSize(rest);
  const itemSize = DTYPE_SIZE[dtype];
  const perElement = valuesPerElement(dtype);

  const readRows = async (start: number, count: number): Promise<NdArray> => {
    if (!Number.isSafeInteger(start) || !Number.isSafeInteger(count) || start < 0 || count < 0 || start + count > rows) {
      throw new DatasetError('invalid-argument', `rows [${start}, ${start + count}) out of range [0, ${rows})`, { file: path });
    }
    const outShape = shape.length === 0 ? [] : [count, ...rest];
    if (!header.fortranOrder || shape.length < 2) {
      const bytes = await readExactlyAt(handle, count * rowElements * itemSize, header.dataOffset + start * rowElements * itemSize, path);
      return { dtype, shape: outShape, data: decodeElements(bytes, dtype, count * rowElements, header.littleEndian, true) };
    }
    // Fortran order: rows [start, start+count) of every "column" (all trailing indices) are contiguous.
    const bytes = new Uint8Array(count * rowElements * itemSize);
    for (let j = 0; j < rowElements; j++) {
      const piece = await readExactlyAt(handle, count * itemSize, header.dataOffset + (j * rows + start) * itemSize, path);
      bytes.set(piece, j * count * itemSize);
    }
    const fortran = decodeElements(bytes, dtype, count * rowElements, header.littleEndian, true);
    return { dtype, shape: outShape, data: fortranToC(fortran, outShape, perElement) };
  };

  return {
    path,
    header,
    rows,
    readRows,
    readAll: async () => {
      const bytes = await readExactlyAt(handle, header.dataLength, header.dataOffset, path);
      return decodeNpyData(header, bytes, path, true);
    },
    async *batches(batchRows: number, options: { signal?: AbortSignal } = {}) {
      if (!Number.isSafeInteger(batchRows) || batchRows < 1) {
        throw new DatasetError('invalid-argument', `batchRows must be a positive integer, got ${batchRows}`);
      }
      assertStreamableItems(shape, path);
      for (let start = 0; start < rows; start += batchRows) {
        throwIfAborted(options.signal);
        yield { start, array: await readRows(start, Math.min(batchRows, rows - start)) };
      }
    },
    close: () => handle.close(),
  };
}

/**
 * Streams a .npy file in batches of rows (first-axis slices), reading `batchRows` rows at a
 * time, so memory stays bounded whatever the file size. Closes the file when done or when
 * the loop is left early.
 */
export async function* streamNpyRows(path: string, options: { batchRows?: number; signal?: AbortSignal } = {}): AsyncGenerator<NpyBatch> {
  const reader = await openNpy(path);
  try {
    yield* reader.batches(options.batchRows ?? 1024, options);
  } finally {
    await reader.close();
  }
}

/** Appends rows to a .npy file whose first dimension is only known at the end. */
export interface NpyRowWriter {
  /** Appends whole rows: `data.length` must be a multiple of the row size (C order). */
  append(data: TypedArray | ArrayLike<number>): Promise<void>;
  /** Rows written so far. */
  readonly rows: number;
  /** Writes the final header and renames the temporary file into place; returns the row count. */
  close(): Promise<number>;
  /** Deletes the temporary file. */
  abort(): Promise<void>;
}

/**
 * Creates a streaming .npy writer with shape [rows, ...rowShape]; `rows` grows with each
 * append. Writes to a temporary file and renames it at `close()`, so `path` never holds a
 * partial array.
 */
export async function createNpyWriter(
  path: string,
  options: { dtype: Dtype; rowShape: readonly number[]; byteOrder?: 'little' | 'big' },
): Promise<NpyRowWriter> {
  const { dtype, rowShape } = options;
  const littleEndian = (options.byteOrder ?? 'little') === 'little';
  const rowValues = shapeSize(rowShape) * valuesPerElement(dtype);
  // Reserve room for a 15-digit row count so the final header has the same length.
  const reserved = headerBytes(dtype, [999999999999999, ...rowShape], false, littleEndian).length;
  await assertReplaceable(path);
  await mkdir(dirname(path), { recursive: true });
  const tmp = temporaryPathFor(path);
  const unregister = registerPendingTemporary(tmp);
  const handle = await open(tmp, 'wx').catch((error) => {
    unregister();
    return Promise.reject(error);
  });
  let position = reserved;
  let rows = 0;
  let closed = false;
  try {
    await handle.write(headerBytes(dtype, [0, ...rowShape], false, littleEndian, reserved), 0, reserved, 0);
  } catch (error) {
    await handle.close();
    await rm(tmp, { force: true });
    unregister();
    throw fsError(error, path);
  }
  return {
    get rows() {
      return rows;
    },
    async append(data) {
      if (closed) throw new DatasetError('invalid-argument', 'writer is closed', { file: path });
      if (rowValues === 0 ? data.length !== 0 : data.length % rowValues !== 0) {
        throw new DatasetError('shape-mismatch', `append: ${data.length} values is not a whole number of rows of ${rowValues}`, {
          file: path,
        });
      }
      const bytes = encodeElements(data, dtype, littleEndian);
      await writeFully(handle, bytes, position);
      position += bytes.length;
      rows += rowValues === 0 ? 0 : data.length / rowValues;
    },
    async close() {
      if (closed) return rows;
      closed = true;
      try {
        await handle.write(headerBytes(dtype, [rows, ...rowShape], false, littleEndian, reserved), 0, reserved, 0);
        await handle.sync();
        await handle.close();
        await rename(tmp, path);
        unregister();
        await syncFolder(dirname(path));
      } catch (error) {
        await handle.close().catch(() => {});
        await rm(tmp, { force: true });
        unregister();
        throw fsError(error, path);
      }
      return rows;
    },
    async abort() {
      if (closed) return;
      closed = true;
      await handle.close().catch(() => {});
      await rm(tmp, { force: true });
      unregister();
    },
  };
}
