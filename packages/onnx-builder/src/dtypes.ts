/** Element types the builder can write, by name. */
export type OnnxDType =
  | 'float32'
  | 'uint8'
  | 'int8'
  | 'uint16'
  | 'int16'
  | 'int32'
  | 'int64'
  | 'string'
  | 'bool'
  | 'float16'
  | 'float64'
  | 'uint32'
  | 'uint64';

/** ONNX `TensorProto.DataType` codes. */
export const ONNX_DTYPE_CODES: Readonly<Record<OnnxDType, number>> = {
  float32: 1,
  uint8: 2,
  int8: 3,
  uint16: 4,
  int16: 5,
  int32: 6,
  int64: 7,
  string: 8,
  bool: 9,
  float16: 10,
  float64: 11,
  uint32: 12,
  uint64: 13,
};

const NAMES_BY_CODE = new Map<number, OnnxDType>(Object.entries(ONNX_DTYPE_CODES).map(([name, code]) => [code, name as OnnxDType]));

/** The dtype name for an ONNX code, or undefined for types this package does not handle. */
export function dtypeFromCode(code: number): OnnxDType | undefined {
  return NAMES_BY_CODE.get(code);
}

/** Bytes per element (strings have no fixed size: 0). */
export const ONNX_DTYPE_SIZES: Readonly<Record<OnnxDType, number>> = {
  float32: 4,
  uint8: 1,
  int8: 1,
  uint16: 2,
  int16: 2,
  int32: 4,
  int64: 8,
  string: 0,
  bool: 1,
  float16: 2,
  float64: 8,
  uint32: 4,
  uint64: 8,
};

/** Typed arrays accepted as tensor data (float16 as raw Uint16 bits; bool as Uint8 0/1). */
export type OnnxTensorData =
  | Float32Array
  | Float64Array
  | Int8Array
  | Uint8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | BigInt64Array
  | BigUint64Array
  | readonly string[];
