/**
 * Minimal protocol-buffers wire format: enough to write and read ONNX models.
 * Wire types: 0 varint, 1 fixed64, 2 length-delimited, 5 fixed32.
 */
import { OnnxFormatError } from './errors';

const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder('utf-8', { fatal: false });

/** Accumulates an encoded message as a list of byte chunks. */
export class ProtoWriter {
  private readonly chunks: Uint8Array[] = [];
  private pending: number[] = [];
  private byteLength = 0;

  private flushPending(): void {
    if (this.pending.length > 0) {
      this.chunks.push(Uint8Array.from(this.pending));
      this.pending = [];
    }
  }

  private byte(value: number): void {
    this.pending.push(value);
    this.byteLength += 1;
  }

  private rawVarint(value: bigint): void {
    // Negative int64 values are written as their 64-bit two's complement (10 bytes).
    let v = value < 0n ? value + (1n << 64n) : value;
    while (v >= 0x80n) {
      this.byte(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    this.byte(Number(v));
  }

  private smallVarint(value: number): void {
    let v = value >>> 0;
    if (value >= 2 ** 32 || value < 0 || !Number.isInteger(value)) {
      this.rawVarint(BigInt(value));
      return;
    }
    while (v >= 0x80) {
      this.byte((v & 0x7f) | 0x80);
      v >>>= 7;
    }
    this.byte(v);
  }

  private key(field: number, wireType: number): void {
    this.smallVarint(field * 8 + wireType);
  }

  /** Writes a varint field (int32, int64, enum, bool). */
  varint(field: number, value: number | bigint): this {
    this.key(field, 0);
    if (typeof value === 'bigint') this.rawVarint(value);
    else this.smallVarint(value);
    return this;
  }

  /** Writes a 32-bit float field. */
  float32(field: number, value: number): this {
    this.key(field, 5);
    const bytes = new Uint8Array(4);
    new DataView(bytes.buffer).setFloat32(0, value, true);
    for (const b of bytes) this.byte(b);
    return this;
  }

  /** Writes a length-delimited field holding raw bytes. */
  bytes(field: number, value: Uint8Array): this {
    this.key(field, 2);
    this.smallVarint(value.length);
    this.flushPending();
    if (value.length > 0) this.chunks.push(value);
    this.byteLength += value.length;
    return this;
  }

  /** Writes a UTF-8 string field. */
  string(field: number, value: string): this {
    return this.bytes(field, textEncoder.encode(value));
  }

  /** Writes an embedded message field. */
  message(field: number, write: (writer: ProtoWriter) => void): this {
    const inner = new ProtoWriter();
    write(inner);
    return this.bytes(field, inner.finish());
  }

  /** The encoded bytes. */
  finish(): Uint8Array {
    this.flushPending();
    if (this.chunks.length === 1) return this.chunks[0]!;
    const out = new Uint8Array(this.byteLength);
    let offset = 0;
    for (const chunk of this.chunks) {
      out.set(chunk, offset);
      offset += chunk.length;
    }
    return out;
  }
}

/** One decoded field: varints as bigint, fixed32/64 as raw bytes, length-delimited as a view. */
export interface ProtoField {
  readonly field: number;
  readonly wireType: number;
  readonly varint?: bigint;
  readonly bytes?: Uint8Array;
}

/**
 * Splits a message into its fields without interpreting them. Throws
 * `OnnxFormatError('truncated' | 'invalid')` on malformed input.
 */
export function readFields(buffer: Uint8Array, context: string): ProtoField[] {
  const fields: ProtoField[] = [];
  let pos = 0;
  const readVarint = (): bigint => {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      if (pos >= buffer.length) {
        throw new OnnxFormatError('truncated', `${context}: varint runs past the end of the data`);
      }
      const b = buffer[pos++]!;
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result;
      shift += 7n;
      if (shift > 63n) throw new OnnxFormatError('invalid', `${context}: varint longer than 10 bytes`);
    }
  };
  while (pos < buffer.length) {
    const key = readVarint();
    const field = Number(key >> 3n);
    const wireType = Number(key & 7n);
    if (field === 0) throw new OnnxFormatError('invalid', `${context}: field number 0 at byte ${pos}`);
    switch (wireType) {
      case 0:
        fields.push({ field, wireType, varint: readVarint() });
        break;
      case 1:
      case 5: {
        const size = wireType === 1 ? 8 : 4;
        if (pos + size > buffer.length) {
          throw new OnnxFormatError('truncated', `${context}: fixed-width field ${field} runs past the end`);
        }
        fields.push({ field, wireType, bytes: buffer.subarray(pos, pos + size) });
        pos += size;
        break;
      }
      case 2: {
        const length = readVarint();
        if (length > BigInt(buffer.length - pos)) {
          throw new OnnxFormatError(
            'truncated',
            `${context}: field ${field} declares ${length} bytes but only ${buffer.length - pos} remain`,
          );
        }
        const n = Number(length);
        fields.push({ field, wireType, bytes: buffer.subarray(pos, pos + n) });
        pos += n;
        break;
      }
      default:
        throw new OnnxFormatError('invalid', `${context}: unsupported wire type ${wireType} for field ${field}`);
    }
  }
  return fields;
}

/** Decodes a UTF-8 string field. */
export function fieldString(field: ProtoField): string {
  return textDecoder.decode(field.bytes ?? new Uint8Array(0));
}

/** Reads a repeated int64 field that may be packed (wire type 2) or not (wire type 0). */
export function fieldInt64s(field: ProtoField, context: string): bigint[] {
  if (field.wireType === 0) return [field.varint!];
  const out: bigint[] = [];
  for (const inner of readPackedVarints(field.bytes!, context)) out.push(inner);
  return out;
}

function readPackedVarints(bytes: Uint8Array, context: string): bigint[] {
  const out: bigint[] = [];
  let pos = 0;
  while (pos < bytes.length) {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      if (pos >= bytes.length) throw new OnnxFormatError('truncated', `${context}: packed varint truncated`);
      const b = bytes[pos++]!;
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) break;
      shift += 7n;
    }
    out.push(result);
  }
  return out;
}

/** Interprets a bigint varint as a signed 64-bit integer. */
export function toSigned64(value: bigint): bigint {
  return value >= 1n << 63n ? value - (1n << 64n) : value;
}
