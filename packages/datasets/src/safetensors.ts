import { writeFileAtomic } from './atomic-write';
import { openForReading, readExactlyAt } from './byte-stream';
import { DTYPE_SIZE, type Dtype, decodeElements, encodeElements, type NdArray, shapeSize } from './dtypes';
import { DatasetError, fsError } from './errors';
import type { NdArrayInput } from './npy';

/** Upper bound on the JSON header (the reference implementation uses 100 MB). */
const MAX_HEADER_BYTES = 100_000_000;

const ST_DTYPES: Record<string, Dtype> = {
  BOOL: 'bool',
  U8: 'uint8',
  I8: 'int8',
  I16: 'int16',
  U16: 'uint16',
  I32: 'int32',
  U32: 'uint32',
  I64: 'int64',
  U64: 'uint64',
  F16: 'float16',
  BF16: 'bfloat16',
  F32: 'float32',
  F64: 'float64',
};

/** One tensor as described in a safetensors header. */
export interface SafetensorsEntry {
  name: string;
  dtype: Dtype;
  shape: number[];
  /** Byte range in the data section (relative to its start). */
  begin: number;
  end: number;
}

/** An open safetensors file whose tensors are read one at a time. */
export interface SafetensorsReader {
  readonly path: string;
  readonly tensors: SafetensorsEntry[];
  /** The free-form `__metadata__` string map (empty if absent). */
  readonly metadata: Record<string, string>;
  read(name: string): Promise<NdArray>;
  close(): Promise<void>;
}

/** Validates a parsed safetensors header against the data section length. */
function parseHeader(json: unknown, dataLength: number, file: string): { tensors: SafetensorsEntry[]; metadata: Record<string, string> } {
  if (json === null || typeof json !== 'object' || Array.isArray(json))
    throw new DatasetError('header-mismatch', 'safetensors header is not a JSON object', { file });
  const tensors: SafetensorsEntry[] = [];
  let metadata: Record<string, string> = {};
  for (const [name, value] of Object.entries(json as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (value === null || typeof value !== 'object' || Array.isArray(value))
        throw new DatasetError('header-mismatch', '__metadata__ must be an object', { file });
      metadata = Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, String(v)]));
      continue;
    }
    const v = value as { dtype?: unknown; shape?: unknown; data_offsets?: unknown } | null;
    if (v === null || typeof v !== 'object')
      throw new DatasetError('header-mismatch', `tensor '${name}': entry is not an object`, { file });
    const dtype = typeof v.dtype === 'string' ? ST_DTYPES[v.dtype] : undefined;
    if (!dtype)
      throw new DatasetError('unsupported-dtype', `tensor '${name}': dtype ${JSON.stringify(v.dtype)} is not supported`, { file });
    if (!Array.isArray(v.shape)) throw new DatasetError('header-mismatch', `tensor '${name}': shape must be an array`, { file });
    const shape = v.shape as number[];
    const count = shapeSize(shape, file);
    const offsets = v.data_offsets;
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0)) {
      throw new DatasetError('header-mismatch', `tensor '${name}': data_offsets must be [begin, end]`, { file });
    }
    const [begin, end] = offsets as [number, number];
    if (end < begin) throw new DatasetError('header-mismatch', `tensor '${name}': data_offsets end < begin`, { file });
    if (end > dataLength)
      throw new DatasetError('truncated', `tensor '${name}': data ends at ${end}, data section has ${dataLength} bytes`, { file });
    if (end - begin !== count * DTYPE_SIZE[dtype]) {
      throw new DatasetError('header-mismatch', `tensor '${name}': ${end - begin} bytes for shape [${shape.join(', ')}] of ${dtype}`, {
        file,
      });
    }
    tensors.push({ name, dtype, shape: [...shape], begin, end });
  }
  // Tensors must not overlap (the format requires them to tile the data section).
  const sorted = [...tensors].sort((a, b) => a.begin - b.begin);
  for (let k = 1; k < sorted.length; k++) {
    if (sorted[k]!.begin < sorted[k - 1]!.end)
      throw new DatasetError('header-mismatch', `tensors '${sorted[k - 1]!.name}' and '${sorted[k]!.name}' overlap`, { file });
  }
  return { tensors, metadata };
}

function parsePrefix(prefix: Uint8Array, size: number, file: string): number {
  if (size < 8) throw new DatasetError('truncated', `safetensors file of ${size} bytes has no header length`, { file });
  const view = new DataView(prefix.buffer, prefix.byteOffset, 8);
  const high = view.getUint32(4, true);
  const n = high * 4294967296 + view.getUint32(0, true);
  if (high !== 0 || n > MAX_HEADER_BYTES)
    throw new DatasetError('header-mismatch', `safetensors header length ${n} is implausible`, { file });
  if (8 + n > size) throw new DatasetError('truncated', `safetensors header of ${n} bytes beyond file size ${size}`, { file });
  return n;
}

function parseJson(bytes: Uint8Array, file: string): unknown {
  if (bytes[0] !== 0x7b) throw new DatasetError('bad-magic', 'not a safetensors file (header does not start with "{")', { file });
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (error) {
    throw new DatasetError('header-mismatch', `safetensors header is not valid JSON: ${(error as Error).message}`, { file, cause: error });
  }
}

/** Opens a .safetensors file: header validated against the file size before any tensor is read. */
export async function openSafetensors(path: string): Promise<SafetensorsReader> {
  const { handle, size } = await openForReading(path);
  try {
    const n = parsePrefix(await readExactlyAt(handle, Math.min(8, size), 0, path), size, path);
    const { tensors, metadata } = parseHeader(parseJson(await readExactlyAt(handle, n, 8, path), path), size - 8 - n, path);
    const byName = new Map(tensors.map((t) => [t.name, t]));
    return {
      path,
      tensors,
      metadata,
      async read(name) {
        const t = byName.get(name);
        if (!t) throw new DatasetError('not-found', `no tensor '${name}'`, { file: path });
        const bytes = await readExactlyAt(handle, t.end - t.begin, 8 + n + t.begin, path);
        return { dtype: t.dtype, shape: [...t.shape], data: decodeElements(bytes, t.dtype, shapeSize(t.shape), true) };
      },
      close: () => handle.close(),
    };
  } catch (error) {
    await handle.close();
    throw fsError(error, path);
  }
}

/** Reads every tensor of a .safetensors file. */
export async function readSafetensors(path: string): Promise<{ tensors: Record<string, NdArray>; metadata: Record<string, string> }> {
  const reader = await openSafetensors(path);
  try {
    const tensors: Record<string, NdArray> = {};
    for (const t of reader.tensors) tensors[t.name] = await reader.read(t.name);
    return { tensors, metadata: reader.metadata };
  } finally {
    await reader.close();
  }
}

/** Decodes safetensors bytes held in memory. */
export function decodeSafetensors(
  bytes: Uint8Array,
  file = '<memory>',
): { tensors: Record<string, NdArray>; metadata: Record<string, string> } {
  const n = parsePrefix(bytes, bytes.length, file);
  const { tensors, metadata } = parseHeader(parseJson(bytes.subarray(8, 8 + n), file), bytes.length - 8 - n, file);
  const out: Record<string, NdArray> = {};
  for (const t of tensors) {
    out[t.name] = {
      dtype: t.dtype,
      shape: [...t.shape],
      data: decodeElements(bytes.subarray(8 + n + t.begin, 8 + n + t.end), t.dtype, shapeSize(t.shape), true),
    };
  }
  return { tensors: out, metadata };
}

/** Encodes tensors as safetensors bytes (little-endian, tensors in the given order, header padded to 8 bytes). */
export function encodeSafetensors(tensors: Record<string, NdArrayInput>, metadata?: Record<string, string>): Uint8Array {
  const header: Record<string, unknown> = {};
  if (metadata) header['__metadata__'] = metadata;
  const bodies: Uint8Array[] = [];
  let offset = 0;
  for (const [name, t] of Object.entries(tensors)) {
    const code = Object.keys(ST_DTYPES).find((k) => ST_DTYPES[k] === t.dtype);
    if (!code) throw new DatasetError('unsupported-dtype', `safetensors has no ${t.dtype} dtype`);
    const body = encodeElements(t.data, t.dtype, true);
    if (body.length !== shapeSize(t.shape) * DTYPE_SIZE[t.dtype])
      throw new DatasetError('shape-mismatch', `tensor '${name}': data does not match shape [${t.shape.join(', ')}]`);
    header[name] = { dtype: code, shape: [...t.shape], data_offsets: [offset, offset + body.length] };
    bodies.push(body);
    offset += body.length;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const jsonBytes = new Uint8Array(json.length + ((8 - (json.length % 8)) % 8)).fill(0x20);
  jsonBytes.set(json);
  const out = new Uint8Array(8 + jsonBytes.length + offset);
  new DataView(out.buffer).setUint32(0, jsonBytes.length, true);
  out.set(jsonBytes, 8);
  let p = 8 + jsonBytes.length;
  for (const b of bodies) {
    out.set(b, p);
    p += b.length;
  }
  return out;
}

/** Writes a .safetensors file atomically. */
export async function writeSafetensors(
  path: string,
  tensors: Record<string, NdArrayInput>,
  metadata?: Record<string, string>,
): Promise<void> {
  await writeFileAtomic(path, encodeSafetensors(tensors, metadata));
}
