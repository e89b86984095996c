import type { ConformanceFixtures } from './fixtures';

const TYPED_ARRAYS = {
  Uint8Array,
  Int8Array,
  Uint16Array,
  Int16Array,
  Int32Array,
  Uint32Array,
  Float32Array,
  Float64Array,
  BigInt64Array,
} as const;
type TypedArrayName = keyof typeof TYPED_ARRAYS;

const MAGIC = 0x58464c47; // 'GLFX'

/**
 * Serialises fixtures (typed arrays included) into one byte array, to hand them to another realm
 * (a browser page, a worker) where `unpackConformanceFixtures` restores them. URLs become strings.
 * Layout: magic u32, JSON length u32, JSON (UTF-8), then the arrays' bytes, 8-byte aligned.
 */
export function packConformanceFixtures(fixtures: ConformanceFixtures): Uint8Array {
  const blobs: Uint8Array[] = [];
  let offset = 0;
  const json = JSON.stringify(fixtures, function (this: unknown, _key, value: unknown) {
    if (ArrayBuffer.isView(value)) {
      const type = value.constructor.name as TypedArrayName;
      if (!(type in TYPED_ARRAYS)) throw new TypeError(`cannot pack a ${type}`);
      const bytes = new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
      const entry = { $typed: type, offset, length: value.byteLength };
      blobs.push(bytes);
      offset += Math.ceil(value.byteLength / 8) * 8;
      return entry;
    }
    return value;
  });
  const header = new TextEncoder().encode(json);
  const start = Math.ceil((8 + header.length) / 8) * 8;
  const out = new Uint8Array(start + offset);
  const view = new DataView(out.buffer);
  view.setUint32(0, MAGIC, true);
  view.setUint32(4, header.length, true);
  out.set(header, 8);
  let at = start;
  for (const b of blobs) {
    out.set(b, at);
    at += Math.ceil(b.byteLength / 8) * 8;
  }
  return out;
}

/** Restores fixtures packed by `packConformanceFixtures` (typed arrays are fresh copies). */
export function unpackConformanceFixtures(packed: Uint8Array | ArrayBuffer): ConformanceFixtures {
  const bytes = packed instanceof Uint8Array ? packed : new Uint8Array(packed);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 8 || view.getUint32(0, true) !== MAGIC) {
    throw new TypeError('not packed conformance fixtures (bad magic number)');
  }
  const length = view.getUint32(4, true);
  const json = new TextDecoder().decode(bytes.subarray(8, 8 + length));
  const start = Math.ceil((8 + length) / 8) * 8;
  return JSON.parse(json, (_key, value: unknown) => {
    if (value !== null && typeof value === 'object' && '$typed' in value) {
      const entry = value as { $typed: TypedArrayName; offset: number; length: number };
      const ctor = TYPED_ARRAYS[entry.$typed];
      const copy = bytes.slice(start + entry.offset, start + entry.offset + entry.length);
      return new ctor(copy.buffer);
    }
    return value;
  }) as ConformanceFixtures;
}
