import { ConversionError } from './errors';

/** Element types as TF.js computes them: float types run as float32, integer types as int32. */
export type TfjsDtype = 'float32' | 'int32' | 'bool';

/** One attribute value as the TF.js converter writes it (protobuf JSON of tensorflow.AttrValue). */
export interface TfAttrValue {
  i?: string | number;
  f?: number;
  b?: boolean;
  s?: string | number[];
  type?: string | number;
  shape?: { dim?: Array<{ size?: string | number }>; unknownRank?: boolean; unknown_rank?: boolean };
  list?: {
    i?: Array<string | number>;
    f?: number[];
    s?: Array<string | number[]>;
    b?: boolean[];
    type?: Array<string | number>;
  };
  tensor?: unknown;
  func?: unknown;
}

/** One node of `modelTopology.node`. */
export interface TfNodeDef {
  name: string;
  op: string;
  input?: string[];
  attr?: Record<string, TfAttrValue>;
  device?: string;
}

/** One tensor entry of a weights-manifest group. */
export interface WeightEntry {
  name: string;
  shape: number[];
  dtype: string;
  quantization?: { dtype: string; scale?: number; min?: number; original_dtype?: string };
  group?: string;
}

/** One group of `weightsManifest`: shard file names (relative to model.json) and the tensors they hold. */
export interface WeightsGroup {
  paths: string[];
  weights: WeightEntry[];
}

/** A signature entry `{ name: 'x:0', dtype, tensorShape }` as written by the TF.js converter. */
export interface SignatureTensor {
  name: string;
  dtype?: string;
  tensorShape?: TfAttrValue['shape'];
}

/** The parts of model.json this converter reads. */
export interface GraphModelJson {
  format?: string;
  generatedBy?: string;
  convertedBy?: string | null;
  modelTopology: { node: TfNodeDef[]; library?: { function?: unknown[] }; versions?: unknown };
  weightsManifest: WeightsGroup[];
  signature?: { inputs?: Record<string, SignatureTensor>; outputs?: Record<string, SignatureTensor> };
}

const TF_DTYPE_BY_NUMBER: Record<number, string> = {
  1: 'DT_FLOAT',
  2: 'DT_DOUBLE',
  3: 'DT_INT32',
  4: 'DT_UINT8',
  5: 'DT_INT16',
  6: 'DT_INT8',
  7: 'DT_STRING',
  8: 'DT_COMPLEX64',
  9: 'DT_INT64',
  10: 'DT_BOOL',
  14: 'DT_BFLOAT16',
  17: 'DT_UINT16',
  19: 'DT_HALF',
  22: 'DT_UINT32',
  23: 'DT_UINT64',
};

/**
 * Map a TensorFlow DataType (enum number or name) to the dtype TF.js computes with: TF.js runs
 * every float type as float32 and every integer type (int64 included) as int32. Returns
 * undefined for types TF.js has no numeric representation for (string, complex, ...).
 */
export function tfjsDtypeOf(type: string | number | undefined): TfjsDtype | undefined {
  if (type === undefined) return undefined;
  const name = typeof type === 'number' ? TF_DTYPE_BY_NUMBER[type] : type;
  switch (name) {
    case 'DT_FLOAT':
    case 'DT_DOUBLE':
    case 'DT_HALF':
    case 'DT_BFLOAT16':
      return 'float32';
    case 'DT_INT32':
    case 'DT_INT64':
    case 'DT_INT16':
    case 'DT_INT8':
    case 'DT_UINT8':
    case 'DT_UINT16':
    case 'DT_UINT32':
    case 'DT_UINT64':
      return 'int32';
    case 'DT_BOOL':
      return 'bool';
    default:
      return undefined;
  }
}

/** Human-readable name of a TensorFlow DataType, for messages. */
export function tfDtypeName(type: string | number | undefined): string {
  if (type === undefined) return 'undefined';
  return typeof type === 'number' ? (TF_DTYPE_BY_NUMBER[type] ?? `DataType(${type})`) : type;
}

/** Parse and structurally validate model.json (string, bytes or already-parsed object). */
export function parseModelJson(input: string | Uint8Array | object): GraphModelJson {
  let value: unknown = input;
  if (typeof input === 'string' || input instanceof Uint8Array) {
    const text = typeof input === 'string' ? input : new TextDecoder().decode(input);
    try {
      value = JSON.parse(text);
    } catch (error) {
      throw new ConversionError('bad-model-json', `model.json is not valid JSON: ${(error as Error).message}`);
    }
  }
  if (value === null || typeof value !== 'object') {
    throw new ConversionError('bad-model-json', 'model.json must hold a JSON object');
  }
  const json = value as Partial<GraphModelJson>;
  const topology = json.modelTopology as GraphModelJson['modelTopology'] | undefined;
  if (!topology || typeof topology !== 'object' || !Array.isArray(topology.node)) {
    throw new ConversionError(
      'bad-model-json',
      'model.json has no modelTopology.node array (is this a TF.js *graph* model? layers models are not supported)',
    );
  }
  topology.node.forEach((node, index) => {
    if (!node || typeof node.name !== 'string' || typeof node.op !== 'string') {
      throw new ConversionError('bad-model-json', `modelTopology.node[${index}] lacks a string name or op`);
    }
    if (node.input !== undefined && !Array.isArray(node.input)) {
      throw new ConversionError('bad-model-json', `node '${node.name}' has a non-array input field`);
    }
  });
  const manifest = json.weightsManifest ?? [];
  if (!Array.isArray(manifest)) {
    throw new ConversionError('bad-model-json', 'model.json weightsManifest must be an array');
  }
  manifest.forEach((group, g) => {
    if (!group || !Array.isArray(group.paths) || !Array.isArray(group.weights)) {
      throw new ConversionError('bad-model-json', `weightsManifest[${g}] lacks paths[] or weights[]`);
    }
    for (const weight of group.weights) {
      if (
        !weight ||
        typeof weight.name !== 'string' ||
        !Array.isArray(weight.shape) ||
        weight.shape.some((d) => !Number.isInteger(d) || d < 0) ||
        typeof weight.dtype !== 'string'
      ) {
        throw new ConversionError(
          'bad-model-json',
          `weightsManifest[${g}] has a malformed weight entry ${JSON.stringify(weight)?.slice(0, 200)}`,
        );
      }
    }
  });
  return { ...(json as GraphModelJson), weightsManifest: manifest };
}

/** Accessors for node attributes that accept both encodings the TF.js converter has used. */
export const attrs = {
  int(node: TfNodeDef, name: string, fallback?: number): number {
    const value = node.attr?.[name];
    if (value?.i !== undefined) return Number(value.i);
    if (fallback !== undefined) return fallback;
    throw new ConversionError('bad-model-json', `node '${node.name}' (${node.op}) lacks integer attribute '${name}'`);
  },
  float(node: TfNodeDef, name: string, fallback: number): number {
    const value = node.attr?.[name];
    return value?.f !== undefined ? Number(value.f) : fallback;
  },
  bool(node: TfNodeDef, name: string, fallback: boolean): boolean {
    const value = node.attr?.[name];
    return value?.b !== undefined ? Boolean(value.b) : fallback;
  },
  /** String attribute, upper-cased (TF.js compares these case-insensitively). */
  string(node: TfNodeDef, name: string, fallback: string): string {
    const value = node.attr?.[name];
    return (value?.s !== undefined ? decodeAttrString(value.s) : fallback).toUpperCase();
  },
  ints(node: TfNodeDef, name: string): number[] | undefined {
    const list = node.attr?.[name]?.list;
    if (!list) return undefined;
    return (list.i ?? []).map(Number);
  },
  strings(node: TfNodeDef, name: string): string[] | undefined {
    const list = node.attr?.[name]?.list;
    if (!list) return undefined;
    return (list.s ?? []).map((v) => decodeAttrString(v).toUpperCase());
  },
  type(node: TfNodeDef, name: string): string | number | undefined {
    return node.attr?.[name]?.type;
  },
};

/** Attribute strings are byte arrays or base64 text (protobuf JSON of `bytes`), decoded as TF.js does. */
function decodeAttrString(value: string | number[]): string {
  if (Array.isArray(value)) return String.fromCharCode(...value);
  try {
    return atob(value);
  } catch {
    return value;
  }
}
