import type { AttributeInput, OnnxDType } from '@gla/onnx-builder';
import { ConversionError } from './errors';
import type { TfjsDtype, TfNodeDef } from './model-json';
import type { ConstTensor } from './weights';

/** A dimension: a number when known at conversion time, null when only known at run time. */
export type Dim = number | null;

/** A TF tensor as it exists in the ONNX graph under construction. */
export interface Value {
  /** ONNX value name; '' while a constant has not been materialised as an initializer. */
  name: string;
  /** Name to use for the initializer if this constant gets materialised. */
  hint: string;
  dtype: TfjsDtype;
  /** Static shape; undefined when even the rank is unknown. */
  shape: Dim[] | undefined;
  /** Full value, when known at conversion time. */
  constant?: ConstTensor;
  /** Known element values of a small integer vector or scalar (null = run-time), e.g. a shape. */
  partial?: Dim[];
}

/** An ONNX node collected during lowering. */
export interface IrNode {
  opType: string;
  inputs: string[];
  outputs: string[];
  attributes: Record<string, AttributeInput>;
  name: string;
}

/** An initializer collected during lowering. */
export interface IrInitializer {
  name: string;
  dtype: OnnxDType;
  dims: number[];
  data: Float32Array | Int32Array | Uint8Array | BigInt64Array | Float64Array;
}

export const INT64_MAX = 9223372036854775807n;
export const INT64_MIN = -9223372036854775808n;

/** Element count of a static shape, or null if any dim is unknown. */
export function staticSize(shape: Dim[] | undefined): number | null {
  if (!shape) return null;
  let n = 1;
  for (const d of shape) {
    if (d === null) return null;
    n *= d;
  }
  return n;
}

/** Numpy/TF broadcasting of two static shapes. */
export function broadcastShapes(a: Dim[] | undefined, b: Dim[] | undefined): Dim[] | undefined {
  if (!a || !b) return undefined;
  const rank = Math.max(a.length, b.length);
  const out: Dim[] = [];
  for (let i = 0; i < rank; i++) {
    const da = i < rank - a.length ? 1 : a[i - (rank - a.length)]!;
    const db = i < rank - b.length ? 1 : b[i - (rank - b.length)]!;
    if (da === 1) out.push(db);
    else if (db === 1) out.push(da);
    else if (da === null) out.push(db);
    else out.push(da);
  }
  return out;
}

/**
 * Collects ONNX nodes and initializers while the TF graph is lowered, with deterministic names:
 * a TF node's final ONNX value carries the TF tensor name, helpers are `<tf node>/_<op>_<k>`.
 */
export class LoweringContext {
  readonly nodes: IrNode[] = [];
  readonly initializers: IrInitializer[] = [];
  readonly values = new Map<string, Value>();
  private readonly used = new Set<string>();
  private readonly int64Cache = new Map<string, string>();
  private readonly smallConstCache = new Map<string, string>();
  private scope = '';
  private counter = 0;

  /** Target ONNX opset: from 18 on, ReduceMean/Max/Min/Prod take axes as an input. */
  constructor(readonly opsetVersion = 17) {}

  /** Reserve a name that must not be auto-generated (graph inputs, TF tensor names). */
  reserve(name: string): void {
    this.used.add(name);
  }

  beginNode(node: TfNodeDef): void {
    this.scope = node.name;
    this.counter = 0;
  }

  fresh(label: string): string {
    for (;;) {
      const candidate = `${this.scope}/_${label}_${this.counter++}`;
      if (!this.used.has(candidate)) {
        this.used.add(candidate);
        return candidate;
      }
    }
  }

  /** Add an ONNX node; `outputs` are names, or a count of fresh names to generate. */
  emit(opType: string, inputs: string[], attributes: Record<string, AttributeInput> = {}, outputs: string[] | number = 1): string[] {
    const names = typeof outputs === 'number' ? Array.from({ length: outputs }, () => this.fresh(opType)) : outputs;
    for (const n of names) this.used.add(n);
    this.nodes.push({ opType, inputs, outputs: names, attributes, name: `${names[0]}:${opType}` });
    return names;
  }

  /** emit() for a single-output node. */
  op(opType: string, inputs: string[], attributes: Record<string, AttributeInput> = {}, output?: string): string {
    return this.emit(opType, inputs, attributes, output === undefined ? 1 : [output])[0]!;
  }

  addInitializer(name: string, dtype: OnnxDType, dims: number[], data: IrInitializer['data']): string {
    this.used.add(name);
    this.initializers.push({ name, dtype, dims, data });
    return name;
  }

  /** A small constant shared across the graph (deduplicated by content). */
  small(dtype: 'int64' | 'int32' | 'float32' | 'bool', values: readonly (number | bigint)[], dims?: number[]): string {
    const shape = dims ?? [values.length];
    const key = `${dtype}|${shape.join(',')}|${values.join(',')}`;
    const cached = this.smallConstCache.get(key);
    if (cached) return cached;
    const name = `__const/${dtype}_${this.smallConstCache.size}`;
    let data: IrInitializer['data'];
    if (dtype === 'int64') data = BigInt64Array.from(values, (v) => BigInt(v));
    else if (dtype === 'int32') data = Int32Array.from(values, Number);
    else if (dtype === 'bool') data = Uint8Array.from(values, (v) => (v ? 1 : 0));
    else data = Float32Array.from(values, Number);
    this.addInitializer(name, dtype, shape, data);
    this.smallConstCache.set(key, name);
    return name;
  }

  /** Scalar constant of a TF.js dtype. */
  scalar(dtype: TfjsDtype, value: number): string {
    return this.small(dtype, [value], []);
  }

  /** ONNX name of a value, materialising a folded constant as an initializer on first use. */
  name(value: Value): string {
    if (value.name !== '') return value.name;
    const c = value.constant;
    if (!c) throw new Error(`internal: value '${value.hint}' has neither a name nor a constant`);
    let name = value.hint;
    while (this.used.has(name)) name = `${name}_`;
    this.addInitializer(name, c.dtype, [...c.shape], c.data);
    value.name = name;
    return name;
  }

  /** The value as int64 (ONNX index/shape inputs), via a folded initializer or a cached Cast. */
  int64(value: Value): string {
    const known = knownInts(value);
    if (known) {
      const shape = value.constant?.shape ?? value.shape;
      return this.small(
        'int64',
        known,
        (shape ?? [known.length]).map((d) => d ?? 0),
      );
    }
    const source = this.name(value);
    const cached = this.int64Cache.get(source);
    if (cached) return cached;
    const cast = this.op('Cast', [source], { to: 7 });
    this.int64Cache.set(source, cast);
    return cast;
  }
}

/** All element values of an integer value, when known at conversion time. */
export function knownInts(value: Value): number[] | undefined {
  if (value.constant && value.constant.dtype !== 'float32') return Array.from(value.constant.data);
  if (value.partial?.every((d) => d !== null)) return value.partial as number[];
  return undefined;
}

/** Throw 'dynamic-attribute' for a value ONNX needs at conversion time. */
export function requireInts(node: TfNodeDef, value: Value, what: string): number[] {
  const known = knownInts(value);
  if (!known) {
    throw new ConversionError(
      'dynamic-attribute',
      `node '${node.name}' (${node.op}): ${what} must be a constant, but it is computed at run time`,
      { node: node.name, op: node.op },
    );
  }
  return known;
}

export function requireRank(node: TfNodeDef, value: Value, what = 'input'): number {
  if (!value.shape) {
    throw new ConversionError('unknown-rank', `node '${node.name}' (${node.op}): the rank of its ${what} could not be inferred`, {
      node: node.name,
      op: node.op,
    });
  }
  return value.shape.length;
}
