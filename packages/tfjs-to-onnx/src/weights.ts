import { ConversionError } from './errors';
import type { GraphModelJson, TfjsDtype, WeightEntry } from './model-json';

/** A decoded constant: TF.js dtype, shape and a typed array of exactly product(shape) elements. */
export interface ConstTensor {
  dtype: TfjsDtype;
  shape: number[];
  data: Float32Array | Int32Array | Uint8Array;
}

const STORED_BYTES: Record<string, number> = {
  float32: 4,
  int32: 4,
  bool: 1,
  uint8: 1,
  uint16: 2,
  float16: 2,
};

/** Number of elements of a fully known shape (1 for a scalar). */
export function elementCount(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

function storedByteLength(weight: WeightEntry): number {
  const stored = weight.quantization?.dtype ?? weight.dtype;
  const bytes = STORED_BYTES[stored];
  if (bytes === undefined) {
    throw new ConversionError(
      'dtype-unsupported',
      `weight '${weight.name}' has dtype '${stored}' (supported: float32, int32, bool, and uint8/uint16/float16 quantisation)`,
      { weight: weight.name, dtype: stored },
    );
  }
  return elementCount(weight.shape) * bytes;
}

/** float16 bits → float32 value. */
function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const mantissa = h & 0x3ff;
  if (exponent === 0) return sign * 2 ** -14 * (mantissa / 1024);
  if (exponent === 0x1f) return mantissa ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * 2 ** (exponent - 15) * (1 + mantissa / 1024);
}

function decodeOne(weight: WeightEntry, bytes: Uint8Array): ConstTensor {
  const count = elementCount(weight.shape);
  const shape = [...weight.shape];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const q = weight.quantization;
  if (q) {
    const target = (q.original_dtype ?? weight.dtype) as string;
    if (target !== 'float32' && target !== 'int32') {
      throw new ConversionError('dtype-unsupported', `weight '${weight.name}' dequantises to '${target}'`);
    }
    const raw = new Float64Array(count);
    if (q.dtype === 'float16') {
      for (let i = 0; i < count; i++) raw[i] = halfToFloat(view.getUint16(i * 2, true));
    } else if (q.dtype === 'uint8' || q.dtype === 'uint16') {
      const scale = q.scale ?? 1;
      const min = q.min ?? 0;
      for (let i = 0; i < count; i++) {
        const v = q.dtype === 'uint8' ? view.getUint8(i) : view.getUint16(i * 2, true);
        raw[i] = v * scale + min;
      }
    } else {
      throw new ConversionError('dtype-unsupported', `weight '${weight.name}' uses quantisation '${q.dtype}'`);
    }
    if (target === 'int32') {
      const out = new Int32Array(count);
      for (let i = 0; i < count; i++) out[i] = Math.round(raw[i]!);
      return { dtype: 'int32', shape, data: out };
    }
    return { dtype: 'float32', shape, data: Float32Array.from(raw) };
  }
  switch (weight.dtype) {
    case 'float32': {
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getFloat32(i * 4, true);
      return { dtype: 'float32', shape, data: out };
    }
    case 'int32': {
      const out = new Int32Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getInt32(i * 4, true);
      return { dtype: 'int32', shape, data: out };
    }
    case 'bool': {
      const out = new Uint8Array(count);
      for (let i = 0; i < count; i++) out[i] = bytes[i] ? 1 : 0;
      return { dtype: 'bool', shape, data: out };
    }
    default:
      throw new ConversionError('dtype-unsupported', `weight '${weight.name}' has dtype '${weight.dtype}'`);
  }
}

/**
 * Decode every weight of the manifest. `weightData` is either one buffer holding all shards of
 * all groups concatenated in manifest order, or one buffer per shard path (manifest order).
 * Throws 'missing-weights' when shards are absent and 'truncated-weights' (naming the shard)
 * when the bytes run out before the manifest's tensors are complete.
 */
export function decodeWeights(
  manifest: GraphModelJson['weightsManifest'],
  weightData: Uint8Array | readonly Uint8Array[],
): Map<string, ConstTensor> {
  const result = new Map<string, ConstTensor>();
  const paths = manifest.flatMap((group) => group.paths);
  let groupBuffers: Uint8Array[];
  if (Array.isArray(weightData)) {
    const shards = weightData as readonly Uint8Array[];
    if (shards.length !== paths.length) {
      throw new ConversionError(
        'missing-weights',
        `the manifest lists ${paths.length} shard(s) but ${shards.length} buffer(s) were given`,
        { expected: paths },
      );
    }
    groupBuffers = [];
    let cursor = 0;
    for (const group of manifest) {
      const parts = shards.slice(cursor, cursor + group.paths.length);
      const needed = group.weights.reduce((sum, w) => sum + storedByteLength(w), 0);
      const have = parts.reduce((sum, p) => sum + p.byteLength, 0);
      if (have < needed) {
        // the shard in which the data runs out: the first non-final shard shorter than the first, else the last
        const first = parts[0]?.byteLength ?? 0;
        let culprit = group.paths.length - 1;
        for (let i = 0; i < parts.length - 1; i++) {
          if (parts[i]!.byteLength !== first) {
            culprit = i;
            break;
          }
        }
        throw new ConversionError(
          'truncated-weights',
          `weight shard '${group.paths[culprit]}' is truncated: the group needs ${needed} bytes but its shards hold ${have}`,
          { shard: group.paths[culprit], needed, have },
        );
      }
      groupBuffers.push(concatBytes(parts));
      cursor += group.paths.length;
    }
  } else {
    const all = weightData as Uint8Array;
    groupBuffers = [];
    let offset = 0;
    for (const group of manifest) {
      const needed = group.weights.reduce((sum, w) => sum + storedByteLength(w), 0);
      if (offset + needed > all.byteLength) {
        throw new ConversionError(
          'truncated-weights',
          `weight data is truncated: group with shards [${group.paths.join(', ')}] needs bytes ${offset}..${offset + needed} but only ${all.byteLength} were given`,
          { shard: group.paths[group.paths.length - 1], needed: offset + needed, have: all.byteLength },
        );
      }
      groupBuffers.push(all.subarray(offset, offset + needed));
      offset += needed;
    }
  }
  manifest.forEach((group, g) => {
    const buffer = groupBuffers[g]!;
    let offset = 0;
    for (const weight of group.weights) {
      const size = storedByteLength(weight);
      result.set(weight.name, decodeOne(weight, buffer.subarray(offset, offset + size)));
      offset += size;
    }
  });
  return result;
}

function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  const total = parts.reduce((sum, p) => sum + p.byteLength, 0);
  const out = new Uint8Array(total);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.byteLength;
  }
  return out;
}
