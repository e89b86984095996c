import { dtypeFromCode, ONNX_DTYPE_SIZES, type OnnxDType } from './dtypes';
import { OnnxFormatError } from './errors';
import type { AttributeValue, OnnxTensor } from './model';
import { fieldInt64s, fieldString, type ProtoField, readFields, toSigned64 } from './protobuf';

/** A graph value as declared in a model: dtype may be undefined for types this package does not name. */
export interface DecodedValueInfo {
  readonly name: string;
  readonly dtype: OnnxDType | undefined;
  /** number = fixed, string = symbolic, null = unknown. Undefined when the model gives no shape. */
  readonly shape: readonly (number | string | null)[] | undefined;
}

/** An initializer: its data is decoded for numeric dtypes stored as raw bytes or typed fields. */
export interface DecodedTensor {
  readonly name: string;
  readonly dtype: OnnxDType | undefined;
  readonly dims: readonly number[];
  /** Little-endian element bytes (empty for string tensors). */
  readonly rawData: Uint8Array;
  readonly strings?: readonly string[];
}

export interface DecodedNode {
  readonly opType: string;
  readonly name: string;
  readonly domain: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly attributes: Readonly<Record<string, AttributeValue>>;
}

/** The parts of a `ModelProto` that tools need to inspect. */
export interface DecodedModel {
  readonly irVersion: number;
  readonly producerName: string;
  readonly opsetImports: readonly { domain: string; version: number }[];
  readonly graph: {
    readonly name: string;
    readonly nodes: readonly DecodedNode[];
    readonly initializers: readonly DecodedTensor[];
    readonly inputs: readonly DecodedValueInfo[];
    readonly outputs: readonly DecodedValueInfo[];
  };
}

function expectWire(f: ProtoField, wireType: number, context: string): void {
  if (f.wireType !== wireType) {
    throw new OnnxFormatError(
      'not-onnx',
      `${context}: field ${f.field} has wire type ${f.wireType}, expected ${wireType}; this is not an ONNX model`,
    );
  }
}

function decodeShape(bytes: Uint8Array, context: string): (number | string | null)[] {
  const dims: (number | string | null)[] = [];
  for (const f of readFields(bytes, context)) {
    if (f.field !== 1) continue;
    expectWire(f, 2, context);
    let dim: number | string | null = null;
    for (const d of readFields(f.bytes!, context)) {
      if (d.field === 1 && d.wireType === 0) dim = Number(toSigned64(d.varint!));
      else if (d.field === 2 && d.wireType === 2) dim = fieldString(d);
    }
    dims.push(dim);
  }
  return dims;
}

function decodeValueInfo(bytes: Uint8Array, context: string): DecodedValueInfo {
  let name = '';
  let dtype: OnnxDType | undefined;
  let shape: (number | string | null)[] | undefined;
  for (const f of readFields(bytes, context)) {
    if (f.field === 1) {
      expectWire(f, 2, context);
      name = fieldString(f);
    } else if (f.field === 2) {
      expectWire(f, 2, context);
      for (const t of readFields(f.bytes!, context)) {
        if (t.field !== 1 || t.wireType !== 2) continue; // only tensor types
        for (const tt of readFields(t.bytes!, context)) {
          if (tt.field === 1 && tt.wireType === 0) dtype = dtypeFromCode(Number(tt.varint!));
          else if (tt.field === 2 && tt.wireType === 2) shape = decodeShape(tt.bytes!, `${context} shape`);
        }
      }
    }
  }
  return { name, dtype, shape };
}

function decodeTensor(bytes: Uint8Array, context: string): DecodedTensor {
  const dims: number[] = [];
  let dtypeCode = 0;
  let name = '';
  let raw: Uint8Array | undefined;
  const strings: string[] = [];
  const floats: number[] = [];
  const int32s: bigint[] = [];
  const int64s: bigint[] = [];
  const doubles: number[] = [];
  for (const f of readFields(bytes, context)) {
    switch (f.field) {
      case 1:
        for (const d of fieldInt64s(f, context)) dims.push(Number(toSigned64(d)));
        break;
      case 2:
        dtypeCode = Number(f.varint ?? 0n);
        break;
      case 4:
        if (f.wireType === 5) floats.push(new DataView(f.bytes!.buffer, f.bytes!.byteOffset, 4).getFloat32(0, true));
        else {
          const view = new DataView(f.bytes!.buffer, f.bytes!.byteOffset, f.bytes!.byteLength);
          for (let i = 0; i + 4 <= f.bytes!.byteLength; i += 4) floats.push(view.getFloat32(i, true));
        }
        break;
      case 5:
        int32s.push(...fieldInt64s(f, context).map(toSigned64));
        break;
      case 6:
        strings.push(fieldString(f));
        break;
      case 7:
        int64s.push(...fieldInt64s(f, context).map(toSigned64));
        break;
      case 8:
        name = fieldString(f);
        break;
      case 9:
        raw = f.bytes!;
        break;
      case 10:
        if (f.wireType === 1) doubles.push(new DataView(f.bytes!.buffer, f.bytes!.byteOffset, 8).getFloat64(0, true));
        else {
          const view = new DataView(f.bytes!.buffer, f.bytes!.byteOffset, f.bytes!.byteLength);
          for (let i = 0; i + 8 <= f.bytes!.byteLength; i += 8) doubles.push(view.getFloat64(i, true));
        }
        break;
      default:
        break;
    }
  }
  const dtype = dtypeFromCode(dtypeCode);
  if (raw === undefined && dtype !== undefined && dtype !== 'string') {
    // Typed fields: re-encode to little-endian bytes so callers see one representation.
    const size = ONNX_DTYPE_SIZES[dtype];
    const count =
      dtype === 'float32' ? floats.length : dtype === 'float64' ? doubles.length : dtype === 'int64' ? int64s.length : int32s.length;
    raw = new Uint8Array(count * size);
    const view = new DataView(raw.buffer);
    for (let i = 0; i < count; i++) {
      if (dtype === 'float32') view.setFloat32(i * 4, floats[i]!, true);
      else if (dtype === 'float64') view.setFloat64(i * 8, doubles[i]!, true);
      else if (dtype === 'int64') view.setBigInt64(i * 8, int64s[i]!, true);
      else if (size === 4) view.setInt32(i * 4, Number(int32s[i]!), true);
      else if (size === 2) view.setUint16(i * 2, Number(int32s[i]!) & 0xffff, true);
      else view.setUint8(i, Number(int32s[i]!) & 0xff);
    }
  }
  return { name, dtype, dims, rawData: raw ?? new Uint8Array(0), ...(dtype === 'string' ? { strings } : {}) };
}

function tensorFromDecoded(t: DecodedTensor, context: string): OnnxTensor {
  if (t.dtype === undefined) throw new OnnxFormatError('not-onnx', `${context}: unknown tensor data type`);
  if (t.dtype === 'string') return { dtype: 'string', dims: t.dims, data: t.strings ?? [] };
  const copy = t.rawData.slice();
  const b = copy.buffer;
  const data =
    t.dtype === 'float32'
      ? new Float32Array(b)
      : t.dtype === 'float64'
        ? new Float64Array(b)
        : t.dtype === 'int64'
          ? new BigInt64Array(b)
          : t.dtype === 'uint64'
            ? new BigUint64Array(b)
            : t.dtype === 'int32'
              ? new Int32Array(b)
              : t.dtype === 'uint32'
                ? new Uint32Array(b)
                : t.dtype === 'int16'
                  ? new Int16Array(b)
                  : t.dtype === 'uint16' || t.dtype === 'float16'
                    ? new Uint16Array(b)
                    : t.dtype === 'int8'
                      ? new Int8Array(b)
                      : new Uint8Array(b);
  return { dtype: t.dtype, dims: t.dims, data };
}

function decodeAttribute(bytes: Uint8Array, context: string): [string, AttributeValue] {
  let name = '';
  let type = 0;
  let f32: number | undefined;
  let i64: bigint | undefined;
  let s: string | undefined;
  let tensor: DecodedTensor | undefined;
  const floats: number[] = [];
  const ints: bigint[] = [];
  const strings: string[] = [];
  for (const f of readFields(bytes, context)) {
    switch (f.field) {
      case 1:
        name = fieldString(f);
        break;
      case 2:
        f32 = new DataView(f.bytes!.buffer, f.bytes!.byteOffset, 4).getFloat32(0, true);
        break;
      case 3:
        i64 = toSigned64(f.varint!);
        break;
      case 4:
        s = fieldString(f);
        break;
      case 5:
        tensor = decodeTensor(f.bytes!, `${context} tensor`);
        break;
      case 7:
        if (f.wireType === 5) floats.push(new DataView(f.bytes!.buffer, f.bytes!.byteOffset, 4).getFloat32(0, true));
        else {
          const view = new DataView(f.bytes!.buffer, f.bytes!.byteOffset, f.bytes!.byteLength);
          for (let i = 0; i + 4 <= f.bytes!.byteLength; i += 4) floats.push(view.getFloat32(i, true));
        }
        break;
      case 8:
        ints.push(...fieldInt64s(f, context).map(toSigned64));
        break;
      case 9:
        strings.push(fieldString(f));
        break;
      case 20:
        type = Number(f.varint ?? 0n);
        break;
      default:
        break;
    }
  }
  const ctx = `${context} attribute ${name}`;
  switch (type) {
    case 1:
      return [name, { kind: 'float', value: f32 ?? 0 }];
    case 2:
      return [name, { kind: 'int', value: i64 === undefined ? 0 : Number(i64) }];
    case 3:
      return [name, { kind: 'string', value: s ?? '' }];
    case 4:
      if (!tensor) throw new OnnxFormatError('not-onnx', `${ctx}: TENSOR attribute without a tensor`);
      return [name, { kind: 'tensor', value: tensorFromDecoded(tensor, ctx) }];
    case 6:
      return [name, { kind: 'floats', value: floats }];
    case 7:
      return [name, { kind: 'ints', value: ints.map(Number) }];
    case 8:
      return [name, { kind: 'strings', value: strings }];
    default:
      // Graph-valued and other attributes are kept opaque as a string marker.
      return [name, { kind: 'string', value: `<attribute type ${type}>` }];
  }
}

function decodeNode(bytes: Uint8Array, context: string): DecodedNode {
  const inputs: string[] = [];
  const outputs: string[] = [];
  const attributes: Record<string, AttributeValue> = {};
  let name = '';
  let opType = '';
  let domain = '';
  for (const f of readFields(bytes, context)) {
    if (f.field === 1) inputs.push(fieldString(f));
    else if (f.field === 2) outputs.push(fieldString(f));
    else if (f.field === 3) name = fieldString(f);
    else if (f.field === 4) opType = fieldString(f);
    else if (f.field === 5) {
      expectWire(f, 2, context);
      const [key, value] = decodeAttribute(f.bytes!, `${context} (${opType || 'node'})`);
      attributes[key] = value;
    } else if (f.field === 7) domain = fieldString(f);
  }
  return { opType, name, domain, inputs, outputs, attributes };
}

/**
 * Reads an ONNX `ModelProto`. Throws `OnnxFormatError` with code 'truncated' when the bytes end
 * inside a field, 'invalid' when they are not protocol buffers, 'not-onnx' when they are but do not
 * hold an ONNX model (no graph, wrong field types).
 */
export function decodeModel(bytes: Uint8Array): DecodedModel {
  if (bytes.length === 0) throw new OnnxFormatError('not-onnx', 'empty input: 0 bytes is not an ONNX model');
  let irVersion = -1;
  let producerName = '';
  let graphBytes: Uint8Array | undefined;
  const opsetImports: { domain: string; version: number }[] = [];
  for (const f of readFields(bytes, 'model')) {
    switch (f.field) {
      case 1:
        expectWire(f, 0, 'model ir_version');
        irVersion = Number(f.varint!);
        break;
      case 2:
        expectWire(f, 2, 'model producer_name');
        producerName = fieldString(f);
        break;
      case 7:
        expectWire(f, 2, 'model graph');
        graphBytes = f.bytes!;
        break;
      case 8: {
        expectWire(f, 2, 'model opset_import');
        let domain = '';
        let version = 0;
        for (const o of readFields(f.bytes!, 'opset_import')) {
          if (o.field === 1) domain = fieldString(o);
          else if (o.field === 2) version = Number(o.varint ?? 0n);
        }
        opsetImports.push({ domain, version });
        break;
      }
      default:
        break;
    }
  }
  if (graphBytes === undefined || irVersion < 1) {
    throw new OnnxFormatError(
      'not-onnx',
      `not an ONNX model: ${graphBytes === undefined ? 'no graph' : 'no IR version'} in ${bytes.length} bytes`,
    );
  }
  const nodes: DecodedNode[] = [];
  const initializers: DecodedTensor[] = [];
  const inputs: DecodedValueInfo[] = [];
  const outputs: DecodedValueInfo[] = [];
  let name = '';
  for (const f of readFields(graphBytes, 'graph')) {
    if (f.field === 1) {
      expectWire(f, 2, 'graph node');
      nodes.push(decodeNode(f.bytes!, `node #${nodes.length}`));
    } else if (f.field === 2) name = fieldString(f);
    else if (f.field === 5) {
      expectWire(f, 2, 'graph initializer');
      initializers.push(decodeTensor(f.bytes!, `initializer #${initializers.length}`));
    } else if (f.field === 11) {
      expectWire(f, 2, 'graph input');
      inputs.push(decodeValueInfo(f.bytes!, 'graph input'));
    } else if (f.field === 12) {
      expectWire(f, 2, 'graph output');
      outputs.push(decodeValueInfo(f.bytes!, 'graph output'));
    }
  }
  // ONNX lists initializers among inputs in old IR versions: report only the real inputs.
  const initializerNames = new Set(initializers.map((t) => t.name));
  return {
    irVersion,
    producerName,
    opsetImports,
    graph: { name, nodes, initializers, inputs: inputs.filter((i) => !initializerNames.has(i.name)), outputs },
  };
}

/** The decoded initializer as a typed tensor (float16 as Uint16 bits). */
export function initializerTensor(tensor: DecodedTensor): OnnxTensor {
  return tensorFromDecoded(tensor, `initializer '${tensor.name}'`);
}
