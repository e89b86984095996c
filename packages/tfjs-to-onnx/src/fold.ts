import type { Value } from './context';
import { attrs, type TfNodeDef, tfjsDtypeOf } from './model-json';
import { type ConstTensor, elementCount } from './weights';

/** Largest constant the folder will compute (elements); bigger results stay run-time ops. */
const MAX_FOLD_ELEMENTS = 1 << 16;

function int32(shape: number[], values: ArrayLike<number>): ConstTensor {
  return { dtype: 'int32', shape, data: Int32Array.from(values) };
}

const INT_BINARY: Record<string, (x: number, y: number) => number> = {
  Add: (x, y) => (x + y) | 0,
  AddV2: (x, y) => (x + y) | 0,
  Sub: (x, y) => (x - y) | 0,
  Mul: (x, y) => Math.imul(x, y),
  Maximum: (x, y) => Math.max(x, y),
  Minimum: (x, y) => Math.min(x, y),
  FloorDiv: (x, y) => Math.floor(x / y),
};

/**
 * Evaluate a node at conversion time when all its inputs are constants and the op is simple
 * shape arithmetic on int32 (the kind TF graphs are full of). Returns undefined otherwise.
 * Float math is never folded, so run-time numerics stay those of the runtime.
 */
export function foldConstants(node: TfNodeDef, inputs: Value[]): ConstTensor[] | undefined {
  if (inputs.length === 0 || !inputs.every((v) => v.constant)) return undefined;
  const c = inputs.map((v) => v.constant!);
  const first = c[0]!;
  switch (node.op) {
    case 'Identity':
    case 'Snapshot':
    case 'StopGradient':
      return [first];
    case 'Cast': {
      const to = tfjsDtypeOf(attrs.type(node, 'DstT'));
      if (to === first.dtype) return [first];
      if (to === 'int32' && first.dtype === 'bool') return [int32(first.shape, first.data)];
      return undefined;
    }
    case 'Reshape': {
      const target = Array.from(c[1]!.data);
      const total = elementCount(first.shape);
      const rest = elementCount(target.filter((d) => d !== -1));
      const shape = target.map((d) => (d === -1 ? (rest === 0 ? 0 : total / rest) : d));
      if (elementCount(shape) !== total) return undefined;
      return [{ ...first, shape }];
    }
    case 'ExpandDims': {
      const axis = c[1]!.data[0]!;
      const at = axis < 0 ? axis + first.shape.length + 1 : axis;
      return [{ ...first, shape: [...first.shape.slice(0, at), 1, ...first.shape.slice(at)] }];
    }
    case 'Squeeze': {
      const dims = (attrs.ints(node, 'squeeze_dims') ?? attrs.ints(node, 'axis') ?? []).map((d) => (d < 0 ? d + first.shape.length : d));
      const shape = first.shape.filter((d, i) => (dims.length === 0 ? d !== 1 : !dims.includes(i)));
      return [{ ...first, shape }];
    }
    case 'Shape':
      return [int32([first.shape.length], first.shape)];
    case 'Pack': {
      if (first.dtype !== 'int32' || !c.every((t) => t.shape.length === 0) || attrs.int(node, 'axis', 0) !== 0) return undefined;
      return [
        int32(
          [c.length],
          c.map((t) => t.data[0]!),
        ),
      ];
    }
    case 'ConcatV2': {
      const parts = c.slice(0, -1);
      if (!parts.every((t) => t.dtype === 'int32' && t.shape.length === 1)) return undefined;
      const values = parts.flatMap((t) => Array.from(t.data));
      return [int32([values.length], values)];
    }
    default:
      break;
  }
  const binary = INT_BINARY[node.op];
  if (binary && c.length === 2 && c.every((t) => t.dtype === 'int32')) {
    const [x, y] = c as [ConstTensor, ConstTensor];
    const xs = x.shape.length === 0;
    const ys = y.shape.length === 0;
    const same = x.shape.length === y.shape.length && x.shape.every((d, i) => d === y.shape[i]);
    if (!(xs || ys || same)) return undefined;
    const shape = xs ? y.shape : x.shape;
    const n = elementCount(shape);
    if (n > MAX_FOLD_ELEMENTS) return undefined;
    const out = new Int32Array(n);
    for (let i = 0; i < n; i++) out[i] = binary(x.data[xs ? 0 : i]!, y.data[ys ? 0 : i]!);
    return [{ dtype: 'int32', shape: [...shape], data: out }];
  }
  return undefined;
}
