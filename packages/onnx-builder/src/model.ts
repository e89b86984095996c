import { ONNX_DTYPE_CODES, ONNX_DTYPE_SIZES, type OnnxDType, type OnnxTensorData } from './dtypes';
import { OnnxFormatError } from './errors';
import { ProtoWriter } from './protobuf';

/** A constant tensor: an initializer, or the value of a TENSOR attribute. */
export interface OnnxTensor {
  readonly dtype: OnnxDType;
  readonly dims: readonly number[];
  readonly data: OnnxTensorData;
}

/** An attribute value; plain values are typed by `attributeOf`, `attr.*` makes the type explicit. */
export type AttributeValue =
  | { readonly kind: 'int'; readonly value: number | bigint }
  | { readonly kind: 'float'; readonly value: number }
  | { readonly kind: 'string'; readonly value: string }
  | { readonly kind: 'tensor'; readonly value: OnnxTensor }
  | { readonly kind: 'ints'; readonly value: readonly (number | bigint)[] }
  | { readonly kind: 'floats'; readonly value: readonly number[] }
  | { readonly kind: 'strings'; readonly value: readonly string[] };

/** What `addNode` accepts for an attribute. */
export type AttributeInput = AttributeValue | number | bigint | string | readonly number[] | OnnxTensor;

/** Explicit attribute constructors, for values whose type a plain number leaves ambiguous (1 vs 1.0). */
export const attr = {
  int: (value: number | bigint): AttributeValue => ({ kind: 'int', value }),
  float: (value: number): AttributeValue => ({ kind: 'float', value }),
  string: (value: string): AttributeValue => ({ kind: 'string', value }),
  tensor: (value: OnnxTensor): AttributeValue => ({ kind: 'tensor', value }),
  ints: (value: readonly (number | bigint)[]): AttributeValue => ({ kind: 'ints', value }),
  floats: (value: readonly number[]): AttributeValue => ({ kind: 'floats', value }),
  strings: (value: readonly string[]): AttributeValue => ({ kind: 'strings', value }),
};

function isAttributeValue(value: AttributeInput): value is AttributeValue {
  return typeof value === 'object' && value !== null && 'kind' in value && !Array.isArray(value);
}

/** Types a plain attribute: integer → INT, other number → FLOAT, integer array → INTS, else FLOATS. */
export function attributeOf(value: AttributeInput): AttributeValue {
  if (isAttributeValue(value)) return value;
  if (typeof value === 'bigint') return attr.int(value);
  if (typeof value === 'number') return Number.isInteger(value) ? attr.int(value) : attr.float(value);
  if (typeof value === 'string') return attr.string(value);
  if (Array.isArray(value)) {
    const numbers = value as readonly number[];
    return numbers.every((v) => Number.isInteger(v)) ? attr.ints(numbers) : attr.floats(numbers);
  }
  return attr.tensor(value as OnnxTensor);
}

/** A graph input or output: name, element type, and dims (number = fixed, string = symbolic). */
export interface ValueInfo {
  readonly name: string;
  readonly dtype: OnnxDType;
  readonly shape?: readonly (number | string)[];
}

/** A node of the graph. */
export interface OnnxNode {
  readonly opType: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly name: string;
  readonly domain: string;
  readonly attributes: Readonly<Record<string, AttributeValue>>;
}

/** Serialisation settings; defaults: opset 17, IR version 8, producer 'gla'. */
export interface ModelOptions {
  readonly opsetVersion?: number;
  readonly irVersion?: number;
  readonly producerName?: string;
  readonly producerVersion?: string;
  /** Extra operator sets, e.g. `{ 'com.microsoft': 1 }`. */
  readonly extraOpsets?: Readonly<Record<string, number>>;
  readonly docString?: string;
}

function tensorElementCount(dims: readonly number[]): number {
  let n = 1;
  for (const d of dims) n *= d;
  return n;
}

function tensorRawBytes(tensor: OnnxTensor, context: string): Uint8Array {
  const { dtype, dims, data } = tensor;
  for (const d of dims) {
    if (!Number.isInteger(d) || d < 0) {
      throw new OnnxFormatError('invalid-graph', `${context}: dims [${dims.join(', ')}] must be non-negative integers`);
    }
  }
  const count = tensorElementCount(dims);
  if (data.length !== count) {
    throw new OnnxFormatError('invalid-graph', `${context}: dims [${dims.join(', ')}] hold ${count} elements but data has ${data.length}`);
  }
  const size = ONNX_DTYPE_SIZES[dtype];
  const typed = data as Exclude<OnnxTensorData, readonly string[]>;
  if (typed.BYTES_PER_ELEMENT !== size) {
    throw new OnnxFormatError('invalid-graph', `${context}: dtype ${dtype} needs ${size}-byte elements, got a ${typed.constructor.name}`);
  }
  const bytes = new Uint8Array(typed.buffer, typed.byteOffset, typed.byteLength);
  // ONNX raw_data is little-endian, as are all platforms this runs on; copy to detach from the caller.
  return bytes.slice();
}

function writeTensor(w: ProtoWriter, tensor: OnnxTensor, name: string | undefined, context: string): void {
  for (const d of tensor.dims) w.varint(1, d);
  w.varint(2, ONNX_DTYPE_CODES[tensor.dtype]);
  if (name !== undefined) w.string(8, name);
  if (tensor.dtype === 'string') {
    const strings = tensor.data as readonly string[];
    if (strings.length !== tensorElementCount(tensor.dims)) {
      throw new OnnxFormatError('invalid-graph', `${context}: string tensor length does not match its dims`);
    }
    for (const s of strings) w.string(6, s);
  } else {
    w.bytes(9, tensorRawBytes(tensor, context));
  }
}

const ATTRIBUTE_TYPE = { float: 1, int: 2, string: 3, tensor: 4, floats: 6, ints: 7, strings: 8 } as const;

function writeAttribute(w: ProtoWriter, name: string, value: AttributeValue, context: string): void {
  w.string(1, name);
  switch (value.kind) {
    case 'float':
      w.float32(2, value.value);
      break;
    case 'int':
      w.varint(3, BigInt(value.value));
      break;
    case 'string':
      w.string(4, value.value);
      break;
    case 'tensor':
      w.message(5, (t) => writeTensor(t, value.value, undefined, `${context} attribute ${name}`));
      break;
    case 'floats':
      for (const f of value.value) w.float32(7, f);
      break;
    case 'ints':
      for (const i of value.value) w.varint(8, BigInt(i));
      break;
    case 'strings':
      for (const s of value.value) w.string(9, s);
      break;
  }
  w.varint(20, ATTRIBUTE_TYPE[value.kind]);
}

function writeValueInfo(w: ProtoWriter, info: ValueInfo): void {
  w.string(1, info.name);
  w.message(2, (type) =>
    type.message(1, (tensorType) => {
      tensorType.varint(1, ONNX_DTYPE_CODES[info.dtype]);
      if (info.shape !== undefined) {
        const shape = info.shape;
        tensorType.message(2, (s) => {
          for (const dim of shape) {
            s.message(1, (d) => {
              if (typeof dim === 'number') d.varint(1, dim);
              else d.string(2, dim);
            });
          }
        });
      }
    }),
  );
}

/**
 * Builds an ONNX graph node by node and serialises it to a `ModelProto`.
 * Names are kept as given; the output is deterministic for the same calls.
 *
 * @example
 * const g = new GraphBuilder('double');
 * g.addInput('x', 'float32', ['batch', 3]);
 * g.addInitializer('two', 'float32', [], new Float32Array([2]));
 * g.addNode('Mul', ['x', 'two'], ['y']);
 * g.addOutput('y', 'float32', ['batch', 3]);
 * const bytes = g.toBytes();
 */
export class GraphBuilder {
  readonly name: string;
  private readonly inputs: ValueInfo[] = [];
  private readonly outputs: ValueInfo[] = [];
  private readonly valueInfos: ValueInfo[] = [];
  private readonly initializers: { name: string; tensor: OnnxTensor }[] = [];
  private readonly nodes: OnnxNode[] = [];
  private readonly produced = new Set<string>();
  private nameCounter = 0;

  constructor(name = 'graph') {
    this.name = name;
  }

  private claim(name: string, what: string): void {
    if (name === '') throw new OnnxFormatError('invalid-graph', `${what} needs a non-empty name`);
    if (this.produced.has(name)) {
      throw new OnnxFormatError('invalid-graph', `${what} '${name}': a value of that name already exists`);
    }
    this.produced.add(name);
  }

  /** A fresh value name with the given prefix that no other value uses. */
  uniqueName(prefix: string): string {
    for (;;) {
      const candidate = `${prefix}_${this.nameCounter++}`;
      if (!this.produced.has(candidate)) return candidate;
    }
  }

  /** Declares a graph input. */
  addInput(name: string, dtype: OnnxDType, shape?: readonly (number | string)[]): string {
    this.claim(name, 'input');
    this.inputs.push({ name, dtype, ...(shape ? { shape: [...shape] } : {}) });
    return name;
  }

  /** Declares a graph output; the value must be produced by the time `toBytes` is called. */
  addOutput(name: string, dtype: OnnxDType, shape?: readonly (number | string)[]): string {
    this.outputs.push({ name, dtype, ...(shape ? { shape: [...shape] } : {}) });
    return name;
  }

  /** Declares the type of an intermediate value (optional; helps shape inference). */
  addValueInfo(name: string, dtype: OnnxDType, shape?: readonly (number | string)[]): void {
    this.valueInfos.push({ name, dtype, ...(shape ? { shape: [...shape] } : {}) });
  }

  /** Adds a constant tensor (a weight) and returns its name. Data is copied at serialisation. */
  addInitializer(name: string, dtype: OnnxDType, dims: readonly number[], data: OnnxTensorData): string {
    this.claim(name, 'initializer');
    const tensor: OnnxTensor = { dtype, dims: [...dims], data };
    if (dtype !== 'string') tensorRawBytes(tensor, `initializer '${name}'`); // validate now
    this.initializers.push({ name, tensor });
    return name;
  }

  /**
   * Adds a node. `inputs` may contain '' for an omitted optional input.
   * Returns the node's output names.
   */
  addNode(
    opType: string,
    inputs: readonly string[],
    outputs: readonly string[],
    attributes: Readonly<Record<string, AttributeInput>> = {},
    options: { name?: string; domain?: string } = {},
  ): string[] {
    for (const input of inputs) {
      if (input !== '' && !this.produced.has(input)) {
        throw new OnnxFormatError('invalid-graph', `node ${opType} reads '${input}', which no input, initializer or earlier node produces`);
      }
    }
    for (const output of outputs) this.claim(output, `output of ${opType}`);
    const typed: Record<string, AttributeValue> = {};
    for (const [key, value] of Object.entries(attributes)) typed[key] = attributeOf(value);
    this.nodes.push({
      opType,
      inputs: [...inputs],
      outputs: [...outputs],
      name: options.name ?? `${opType}_${this.nodes.length}`,
      domain: options.domain ?? '',
      attributes: typed,
    });
    return [...outputs];
  }

  /** Whether a value of this name exists (input, initializer or node output). */
  has(name: string): boolean {
    return this.produced.has(name);
  }

  /** Serialises the model (`ModelProto`) to bytes. */
  toBytes(options: ModelOptions = {}): Uint8Array {
    for (const output of this.outputs) {
      if (!this.produced.has(output.name)) {
        throw new OnnxFormatError('invalid-graph', `graph output '${output.name}' is never produced`);
      }
    }
    const w = new ProtoWriter();
    w.varint(1, options.irVersion ?? 8);
    w.string(2, options.producerName ?? 'gla');
    if (options.producerVersion !== undefined) w.string(3, options.producerVersion);
    if (options.docString !== undefined) w.string(6, options.docString);
    w.message(7, (g) => {
      for (const node of this.nodes) {
        g.message(1, (n) => {
          for (const input of node.inputs) n.string(1, input);
          for (const output of node.outputs) n.string(2, output);
          n.string(3, node.name);
          n.string(4, node.opType);
          for (const [key, value] of Object.entries(node.attributes)) {
            n.message(5, (a) => writeAttribute(a, key, value, `node ${node.name}`));
          }
          if (node.domain !== '') n.string(7, node.domain);
        });
      }
      g.string(2, this.name);
      for (const { name, tensor } of this.initializers) {
        g.message(5, (t) => writeTensor(t, tensor, name, `initializer '${name}'`));
      }
      for (const input of this.inputs) g.message(11, (v) => writeValueInfo(v, input));
      for (const output of this.outputs) g.message(12, (v) => writeValueInfo(v, output));
      for (const info of this.valueInfos) g.message(13, (v) => writeValueInfo(v, info));
    });
    w.message(8, (o) => o.varint(2, options.opsetVersion ?? 17));
    for (const [domain, version] of Object.entries(options.extraOpsets ?? {})) {
      w.message(8, (o) => {
        o.string(1, domain);
        o.varint(2, version);
      });
    }
    return w.finish();
  }
}
