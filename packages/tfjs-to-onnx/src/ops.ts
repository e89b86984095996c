import { attr } from '@gla/onnx-builder';
import {
  broadcastShapes,
  type Dim,
  INT64_MAX,
  INT64_MIN,
  knownInts,
  type LoweringContext,
  requireInts,
  requireRank,
  staticSize,
  type Value,
} from './context';
import { ConversionError } from './errors';
import { attrs, type TfjsDtype, type TfNodeDef, tfDtypeName, tfjsDtypeOf } from './model-json';

/** What a lowering sees: the TF node, its (data) inputs, and how to publish its outputs. */
export interface LowerArgs {
  node: TfNodeDef;
  inputs: Value[];
  ctx: LoweringContext;
  /** The ONNX name a TF output should get: the TF tensor name ('node' or 'node:i'). */
  out(index?: number): string;
  /** Publish TF output `index` (default 0). */
  define(value: Omit<Value, 'hint'>, index?: number): void;
}

type Lowering = (args: LowerArgs) => void;

const ONNX_TYPE_CODE: Record<TfjsDtype | 'int64' | 'float64', number> = {
  float32: 1,
  int32: 6,
  bool: 9,
  int64: 7,
  float64: 11,
};

function input(a: LowerArgs, i: number): Value {
  const v = a.inputs[i];
  if (!v) {
    throw new ConversionError(
      'bad-model-json',
      `node '${a.node.name}' (${a.node.op}) needs at least ${i + 1} input(s), it has ${a.inputs.length}`,
      { node: a.node.name },
    );
  }
  return v;
}

function normalizeAxis(axis: number, rank: number): number {
  return axis < 0 ? axis + rank : axis;
}

// ---------------------------------------------------------------------------------------------
// elementwise

function unary(onnxOp: string, attributes: Record<string, unknown> = {}): Lowering {
  return (a) => {
    const x = input(a, 0);
    const name = a.ctx.op(onnxOp, [a.ctx.name(x)], attributes as never, a.out());
    a.define({ name, dtype: x.dtype, shape: x.shape });
  };
}

function binary(onnxOp: string, resultDtype?: TfjsDtype): Lowering {
  return (a) => {
    const x = input(a, 0);
    const y = input(a, 1);
    const name = a.ctx.op(onnxOp, [a.ctx.name(x), a.ctx.name(y)], {}, a.out());
    a.define({ name, dtype: resultDtype ?? x.dtype, shape: broadcastShapes(x.shape, y.shape) });
  };
}

const identity: Lowering = (a) => {
  const x = input(a, 0);
  a.define({ ...x });
};

const rsqrt: Lowering = (a) => {
  const x = input(a, 0);
  const s = a.ctx.op('Sqrt', [a.ctx.name(x)]);
  a.define({ name: a.ctx.op('Reciprocal', [s], {}, a.out()), dtype: x.dtype, shape: x.shape });
};

const square: Lowering = (a) => {
  const x = input(a, 0);
  const n = a.ctx.name(x);
  a.define({ name: a.ctx.op('Mul', [n, n], {}, a.out()), dtype: x.dtype, shape: x.shape });
};

const squaredDifference: Lowering = (a) => {
  const x = input(a, 0);
  const y = input(a, 1);
  const d = a.ctx.op('Sub', [a.ctx.name(x), a.ctx.name(y)]);
  a.define({ name: a.ctx.op('Mul', [d, d], {}, a.out()), dtype: x.dtype, shape: broadcastShapes(x.shape, y.shape) });
};

const notEqual: Lowering = (a) => {
  const x = input(a, 0);
  const y = input(a, 1);
  const e = a.ctx.op('Equal', [a.ctx.name(x), a.ctx.name(y)]);
  a.define({ name: a.ctx.op('Not', [e], {}, a.out()), dtype: 'bool', shape: broadcastShapes(x.shape, y.shape) });
};

/** TF.js `div`/`floorDiv`: integer division rounds toward -infinity; float division is plain. */
function floorDivision(floorFloats: boolean): Lowering {
  return (a) => {
    const x = input(a, 0);
    const y = input(a, 1);
    const shape = broadcastShapes(x.shape, y.shape);
    if (x.dtype === 'int32') {
      const fx = a.ctx.op('Cast', [a.ctx.name(x)], { to: ONNX_TYPE_CODE.float64 });
      const fy = a.ctx.op('Cast', [a.ctx.name(y)], { to: ONNX_TYPE_CODE.float64 });
      const q = a.ctx.op('Floor', [a.ctx.op('Div', [fx, fy])]);
      a.define({ name: a.ctx.op('Cast', [q], { to: ONNX_TYPE_CODE.int32 }, a.out()), dtype: 'int32', shape });
      return;
    }
    if (!floorFloats) {
      a.define({ name: a.ctx.op('Div', [a.ctx.name(x), a.ctx.name(y)], {}, a.out()), dtype: x.dtype, shape });
      return;
    }
    // TF.js returns int32 from floorDiv whatever the input dtype (TF would keep float)
    const q = a.ctx.op('Floor', [a.ctx.op('Div', [a.ctx.name(x), a.ctx.name(y)])]);
    a.define({ name: a.ctx.op('Cast', [q], { to: ONNX_TYPE_CODE.int32 }, a.out()), dtype: 'int32', shape });
  };
}

/** TF DivNoNan: x / y, and 0 where y == 0. */
const divNoNan: Lowering = (a) => {
  const x = input(a, 0);
  const y = input(a, 1);
  const zero = a.ctx.scalar(x.dtype, 0);
  const isZero = a.ctx.op('Equal', [a.ctx.name(y), zero]);
  const q = a.ctx.op('Div', [a.ctx.name(x), a.ctx.name(y)]);
  a.define({ name: a.ctx.op('Where', [isZero, zero, q], {}, a.out()), dtype: x.dtype, shape: broadcastShapes(x.shape, y.shape) });
};

/** TF FloorMod: result has the sign of the divisor. */
const floorMod: Lowering = (a) => {
  const x = input(a, 0);
  const y = input(a, 1);
  const shape = broadcastShapes(x.shape, y.shape);
  if (x.dtype === 'int32') {
    a.define({ name: a.ctx.op('Mod', [a.ctx.name(x), a.ctx.name(y)], { fmod: 0 }, a.out()), dtype: 'int32', shape });
    return;
  }
  const q = a.ctx.op('Floor', [a.ctx.op('Div', [a.ctx.name(x), a.ctx.name(y)])]);
  const p = a.ctx.op('Mul', [q, a.ctx.name(y)]);
  a.define({ name: a.ctx.op('Sub', [a.ctx.name(x), p], {}, a.out()), dtype: x.dtype, shape });
};

const addN: Lowering = (a) => {
  const first = input(a, 0);
  let shape = first.shape;
  for (const v of a.inputs.slice(1)) shape = broadcastShapes(shape, v.shape);
  const name = a.ctx.op(
    'Sum',
    a.inputs.map((v) => a.ctx.name(v)),
    {},
    a.out(),
  );
  a.define({ name, dtype: first.dtype, shape });
};

const biasAdd: Lowering = (a) => {
  const x = input(a, 0);
  const b = input(a, 1);
  const format = attrs.string(a.node, 'data_format', 'NHWC');
  let bias = a.ctx.name(b);
  if (format === 'NCHW' || format === 'NCDHW') {
    const rank = requireRank(a.node, x);
    const axes = Array.from({ length: rank - 2 }, (_, i) => i + 1);
    bias = a.ctx.op('Unsqueeze', [bias, a.ctx.small('int64', axes)]);
  }
  a.define({ name: a.ctx.op('Add', [a.ctx.name(x), bias], {}, a.out()), dtype: x.dtype, shape: x.shape });
};

const cast: Lowering = (a) => {
  const x = input(a, 0);
  const target = tfjsDtypeOf(attrs.type(a.node, 'DstT'));
  if (!target) {
    throw new ConversionError('dtype-unsupported', `node '${a.node.name}' (Cast) casts to ${tfDtypeName(attrs.type(a.node, 'DstT'))}`, {
      node: a.node.name,
    });
  }
  if (target === x.dtype) {
    a.define({ ...x });
    return;
  }
  a.define({
    name: a.ctx.op('Cast', [a.ctx.name(x)], { to: ONNX_TYPE_CODE[target] }, a.out()),
    dtype: target,
    shape: x.shape,
  });
};

function clipLowering(a: LowerArgs, x: Value, lo: number, hi: number): void {
  a.define({
    name: a.ctx.op('Clip', [a.ctx.name(x), a.ctx.scalar(x.dtype, lo), a.ctx.scalar(x.dtype, hi)], {}, a.out()),
    dtype: x.dtype,
    shape: x.shape,
  });
}

const relu6: Lowering = (a) => clipLowering(a, input(a, 0), 0, 6);

const clipByValue: Lowering = (a) => {
  const x = input(a, 0);
  const lo = a.ctx.op('Max', [a.ctx.name(x), a.ctx.name(input(a, 1))]);
  a.define({
    name: a.ctx.op('Min', [lo, a.ctx.name(input(a, 2))], {}, a.out()),
    dtype: x.dtype,
    shape: x.shape,
  });
};

const leakyRelu: Lowering = (a) => {
  const x = input(a, 0);
  const alpha = attrs.float(a.node, 'alpha', 0.2);
  a.define({
    name: a.ctx.op('LeakyRelu', [a.ctx.name(x)], { alpha: attr.float(alpha) }, a.out()),
    dtype: x.dtype,
    shape: x.shape,
  });
};

const selectV2: Lowering = (a) => {
  const c = input(a, 0);
  const x = input(a, 1);
  const y = input(a, 2);
  let cond = a.ctx.name(c);
  if (a.node.op === 'Select' && c.shape?.length === 1 && x.shape && x.shape.length > 1) {
    // TF Select (v1): a vector condition selects whole rows
    const axes = Array.from({ length: x.shape.length - 1 }, (_, i) => i + 1);
    cond = a.ctx.op('Unsqueeze', [cond, a.ctx.small('int64', axes)]);
  }
  a.define({
    name: a.ctx.op('Where', [cond, a.ctx.name(x), a.ctx.name(y)], {}, a.out()),
    dtype: x.dtype,
    shape: broadcastShapes(broadcastShapes(c.shape, x.shape), y.shape),
  });
};

// ---------------------------------------------------------------------------------------------
// matrices

/** Transpose of the last two axes; folded at conversion time for constants of rank 2. */
function transposeLastTwo(a: LowerArgs, v: Value): { name: string; shape: Dim[] | undefined } {
  const rank = requireRank(a.node, v);
  const perm = Array.from({ length: rank }, (_, i) => i);
  perm[rank - 1] = rank - 2;
  perm[rank - 2] = rank - 1;
  const shape = v.shape ? perm.map((p) => v.shape![p]!) : undefined;
  if (v.constant && rank === 2 && v.constant.dtype === 'float32') {
    const [rows, cols] = v.constant.shape as [number, number];
    const src = v.constant.data as Float32Array;
    const out = new Float32Array(src.length);
    for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = src[r * cols + c]!;
    const name = a.ctx.addInitializer(a.ctx.fresh('transposed'), 'float32', [cols, rows], out);
    return { name, shape };
  }
  return { name: a.ctx.op('Transpose', [a.ctx.name(v)], { perm }), shape };
}

function matMulShape(x: Dim[] | undefined, y: Dim[] | undefined): Dim[] | undefined {
  if (!x || !y || x.length < 2 || y.length < 2) return undefined;
  const batch = broadcastShapes(x.slice(0, -2), y.slice(0, -2))!;
  return [...batch, x[x.length - 2]!, y[y.length - 1]!];
}

function matMulCore(
  a: LowerArgs,
  transposeA: boolean,
  transposeB: boolean,
  output?: string,
): { name: string; shape: Dim[] | undefined; dtype: TfjsDtype } {
  const x = input(a, 0);
  const y = input(a, 1);
  const left = transposeA ? transposeLastTwo(a, x) : { name: a.ctx.name(x), shape: x.shape };
  const right = transposeB ? transposeLastTwo(a, y) : { name: a.ctx.name(y), shape: y.shape };
  const name = a.ctx.op('MatMul', [left.name, right.name], {}, output);
  return { name, shape: matMulShape(left.shape, right.shape), dtype: x.dtype };
}

const matMul: Lowering = (a) => {
  const result = matMulCore(a, attrs.bool(a.node, 'transpose_a', false), attrs.bool(a.node, 'transpose_b', false), a.out());
  a.define(result);
};

const batchMatMul: Lowering = (a) => {
  const result = matMulCore(a, attrs.bool(a.node, 'adj_x', false), attrs.bool(a.node, 'adj_y', false), a.out());
  a.define(result);
};

/** Apply a TF.js fused activation to `name`, writing the final value to `output`. */
function activation(a: LowerArgs, kind: string, name: string, dtype: TfjsDtype, output: string, extra?: string): string {
  switch (kind.toUpperCase()) {
    case 'RELU':
      return a.ctx.op('Relu', [name], {}, output);
    case 'RELU6':
      return a.ctx.op('Clip', [name, a.ctx.scalar(dtype, 0), a.ctx.scalar(dtype, 6)], {}, output);
    case 'ELU':
      return a.ctx.op('Elu', [name], { alpha: attr.float(1) }, output);
    case 'SIGMOID':
      return a.ctx.op('Sigmoid', [name], {}, output);
    case 'TANH':
      return a.ctx.op('Tanh', [name], {}, output);
    case 'LEAKYRELU':
      return a.ctx.op('LeakyRelu', [name], { alpha: attr.float(attrs.float(a.node, 'leakyrelu_alpha', 0.2)) }, output);
    case 'PRELU':
      if (!extra) break;
      return a.ctx.op('PRelu', [name, extra], {}, output);
    default:
      break;
  }
  throw new ConversionError(
    'unsupported-attribute',
    `node '${a.node.name}' (${a.node.op}) fuses activation '${kind}', which has no lowering`,
    { node: a.node.name },
  );
}

/** TF.js `_FusedMatMul`: MatMul, optional BiasAdd, optional activation. */
const fusedMatMul: Lowering = (a) => {
  const fused = attrs.strings(a.node, 'fused_ops') ?? [];
  const args = a.inputs.slice(2);
  const hasBias = fused[0] === 'BIASADD';
  const act = fused[hasBias ? 1 : 0];
  const base = matMulCore(
    a,
    attrs.bool(a.node, 'transpose_a', false),
    attrs.bool(a.node, 'transpose_b', false),
    fused.length === 0 ? a.out() : undefined,
  );
  let name = base.name;
  if (hasBias) {
    const bias = args[0];
    if (!bias) throw new ConversionError('bad-model-json', `node '${a.node.name}' fuses BiasAdd without a bias input`);
    name = a.ctx.op('Add', [name, a.ctx.name(bias)], {}, act ? undefined : a.out());
  }
  if (act) {
    const extra = args[hasBias ? 1 : 0];
    name = activation(a, act, name, base.dtype, a.out(), extra ? a.ctx.name(extra) : undefined);
  }
  a.define({ name, dtype: base.dtype, shape: base.shape });
};

// ---------------------------------------------------------------------------------------------
// convolution and pooling (NHWC → NCHW around the ONNX op)

function spatialAttributes(a: LowerArgs, kernel: number[] | undefined): Record<string, unknown> {
  const format = attrs.string(a.node, 'data_format', 'NHWC');
  const nhwc = format === 'NHWC';
  const pick = (list: number[] | undefined) => (list && list.length === 4 ? (nhwc ? [list[1]!, list[2]!] : [list[2]!, list[3]!]) : [1, 1]);
  const padding = attrs.string(a.node, 'padding', 'VALID');
  const result: Record<string, unknown> = { strides: pick(attrs.ints(a.node, 'strides')) };
  if (kernel) result.kernel_shape = kernel;
  if (padding === 'SAME') result.auto_pad = 'SAME_UPPER';
  else if (padding === 'VALID') result.auto_pad = 'VALID';
  else if (padding === 'EXPLICIT') {
    const p = attrs.ints(a.node, 'explicit_paddings') ?? [];
    const [t, b, l, r] = nhwc ? [p[2], p[3], p[4], p[5]] : [p[4], p[5], p[6], p[7]];
    result.pads = [t ?? 0, l ?? 0, b ?? 0, r ?? 0];
  } else {
    throw new ConversionError('unsupported-attribute', `node '${a.node.name}' has padding '${padding}'`);
  }
  return result;
}

function convOutputShape(
  x: Dim[] | undefined,
  outChannels: Dim,
  nhwc: boolean,
  attributes: Record<string, unknown>,
  kernel: number[],
  dilations: number[],
): Dim[] | undefined {
  if (x?.length !== 4) return undefined;
  const strides = attributes.strides as number[];
  const spatial = nhwc ? [x[1]!, x[2]!] : [x[2]!, x[3]!];
  const out = spatial.map((d, i) => {
    if (d === null) return null;
    const k = (kernel[i]! - 1) * dilations[i]! + 1;
    const s = strides[i]!;
    if (attributes.auto_pad === 'SAME_UPPER') return Math.ceil(d / s);
    if (attributes.auto_pad === 'VALID') return Math.floor((d - k) / s) + 1;
    const pads = attributes.pads as number[];
    return Math.floor((d + pads[i]! + pads[i + 2]! - k) / s) + 1;
  });
  return nhwc ? [x[0]!, out[0]!, out[1]!, outChannels] : [x[0]!, outChannels, out[0]!, out[1]!];
}

function convLowering(depthwise: boolean): Lowering {
  return (a) => {
    const x = input(a, 0);
    const w = input(a, 1);
    const nhwc = attrs.string(a.node, 'data_format', 'NHWC') === 'NHWC';
    const wShape = w.constant?.shape ?? (w.shape?.every((d) => d !== null) ? (w.shape as number[]) : undefined);
    if (wShape?.length !== 4) {
      throw new ConversionError('dynamic-attribute', `node '${a.node.name}' (${a.node.op}) needs a constant 4-D filter`, {
        node: a.node.name,
      });
    }
    const [kh, kw, cin, mult] = wShape as [number, number, number, number];
    const dil = attrs.ints(a.node, 'dilations');
    const dilations = dil && dil.length === 4 ? (nhwc ? [dil[1]!, dil[2]!] : [dil[2]!, dil[3]!]) : [1, 1];
    const attributes = spatialAttributes(a, [kh, kw]);
    const strides = attributes.strides as number[];
    const outChannels = depthwise ? cin * mult : mult;
    const shape = convOutputShape(x.shape, outChannels, nhwc, attributes, [kh, kw], dilations);
    // 1x1, stride 1, no padding effects, NHWC: a dense layer over the channel axis (exact same sums)
    if (!depthwise && nhwc && kh === 1 && kw === 1 && strides[0] === 1 && strides[1] === 1 && w.constant && attributes.pads === undefined) {
      const kernel = a.ctx.addInitializer(a.ctx.fresh('kernel'), 'float32', [cin, mult], w.constant.data);
      a.define({ name: a.ctx.op('MatMul', [a.ctx.name(x), kernel], {}, a.out()), dtype: x.dtype, shape });
      return;
    }
    // filter HWIO → OIHW (depthwise: HW C M → (C*M) 1 H W)
    let filter: string;
    if (w.constant) {
      const src = w.constant.data as Float32Array;
      const out = new Float32Array(src.length);
      if (depthwise) {
        for (let h = 0; h < kh; h++)
          for (let q = 0; q < kw; q++)
            for (let c = 0; c < cin; c++)
              for (let m = 0; m < mult; m++) out[((c * mult + m) * kh + h) * kw + q] = src[((h * kw + q) * cin + c) * mult + m]!;
        filter = a.ctx.addInitializer(a.ctx.fresh('filter'), 'float32', [cin * mult, 1, kh, kw], out);
      } else {
        for (let h = 0; h < kh; h++)
          for (let q = 0; q < kw; q++)
            for (let c = 0; c < cin; c++)
              for (let o = 0; o < mult; o++) out[((o * cin + c) * kh + h) * kw + q] = src[((h * kw + q) * cin + c) * mult + o]!;
        filter = a.ctx.addInitializer(a.ctx.fresh('filter'), 'float32', [mult, cin, kh, kw], out);
      }
    } else {
      const t = a.ctx.op('Transpose', [a.ctx.name(w)], { perm: [3, 2, 0, 1] });
      filter = depthwise ? a.ctx.op('Reshape', [t, a.ctx.small('int64', [cin * mult, 1, kh, kw])]) : t;
    }
    const convAttributes: Record<string, unknown> = { ...attributes, dilations };
    if (depthwise) convAttributes.group = cin;
    const xin = nhwc ? a.ctx.op('Transpose', [a.ctx.name(x)], { perm: [0, 3, 1, 2] }) : a.ctx.name(x);
    const conv = a.ctx.op('Conv', [xin, filter], convAttributes as never, nhwc ? undefined : a.out());
    const name = nhwc ? a.ctx.op('Transpose', [conv], { perm: [0, 2, 3, 1] }, a.out()) : conv;
    a.define({ name, dtype: x.dtype, shape });
  };
}

function poolLowering(onnxOp: 'MaxPool' | 'AveragePool'): Lowering {
  return (a) => {
    const x = input(a, 0);
    const nhwc = attrs.string(a.node, 'data_format', 'NHWC') === 'NHWC';
    const ksize = attrs.ints(a.node, 'ksize') ?? [1, 1, 1, 1];
    const kernel = nhwc ? [ksize[1]!, ksize[2]!] : [ksize[2]!, ksize[3]!];
    const attributes = spatialAttributes(a, kernel);
    const channels = x.shape ? x.shape[nhwc ? 3 : 1]! : null;
    const shape = convOutputShape(x.shape, channels, nhwc, attributes, kernel, [1, 1]);
    const xin = nhwc ? a.ctx.op('Transpose', [a.ctx.name(x)], { perm: [0, 3, 1, 2] }) : a.ctx.name(x);
    const pooled = a.ctx.op(onnxOp, [xin], attributes as never, nhwc ? undefined : a.out());
    const name = nhwc ? a.ctx.op('Transpose', [pooled], { perm: [0, 2, 3, 1] }, a.out()) : pooled;
    a.define({ name, dtype: x.dtype, shape });
  };
}

/** Inference-mode batch normalisation over the channel axis (NHWC). */
const fusedBatchNorm: Lowering = (a) => {
  const x = input(a, 0);
  if (attrs.string(a.node, 'data_format', 'NHWC') !== 'NHWC') {
    throw new ConversionError('unsupported-attribute', `node '${a.node.name}' (${a.node.op}) uses data_format NCHW`);
  }
  const epsilon = attrs.float(a.node, 'epsilon', 0.001);
  const [scale, offset, mean, variance] = [1, 2, 3, 4].map((i) => a.ctx.name(input(a, i))) as [string, string, string, string];
  const inv = a.ctx.op('Reciprocal', [a.ctx.op('Sqrt', [a.ctx.op('Add', [variance, a.ctx.scalar('float32', epsilon)])])]);
  const factor = a.ctx.op('Mul', [inv, scale]);
  const centred = a.ctx.op('Sub', [a.ctx.name(x), mean]);
  const scaled = a.ctx.op('Mul', [centred, factor]);
  a.define({ name: a.ctx.op('Add', [scaled, offset], {}, a.out()), dtype: x.dtype, shape: x.shape });
};

// ---------------------------------------------------------------------------------------------
// reductions

function reduceShape(shape: Dim[] | undefined, axes: number[], keepDims: boolean): Dim[] | undefined {
  if (!shape) return undefined;
  const set = new Set(axes.map((ax) => normalizeAxis(ax, shape.length)));
  const out: Dim[] = [];
  shape.forEach((d, i) => {
    if (set.has(i)) {
      if (keepDims) out.push(1);
    } else out.push(d);
  });
  return out;
}

function reduction(onnxOp: string, boolViaInt = false): Lowering {
  return (a) => {
    const x = input(a, 0);
    const axesValue = input(a, 1);
    const keepDims = attrs.bool(a.node, 'keep_dims', false);
    const axes = requireInts(a.node, axesValue, 'the reduction axes');
    if (axes.length === 0) {
      a.define({ ...x });
      return;
    }
    const shape = reduceShape(x.shape, axes, keepDims);
    let source = a.ctx.name(x);
    let dtype = x.dtype;
    if (boolViaInt) source = a.ctx.op('Cast', [source], { to: ONNX_TYPE_CODE.int32 });
    if (onnxOp === 'ReduceMean' && x.dtype !== 'float32') {
      // TF.js averages integers in float32 and returns float32 (TF would truncate to int)
      source = a.ctx.op('Cast', [source], { to: ONNX_TYPE_CODE.float32 });
      dtype = 'float32';
    }
    const keep = keepDims ? 1 : 0;
    const axesAsInput = onnxOp === 'ReduceSum' || a.ctx.opsetVersion >= 18;
    const inputs = axesAsInput ? [source, a.ctx.small('int64', axes)] : [source];
    const attributes: Record<string, unknown> = { keepdims: keep };
    if (!axesAsInput) attributes.axes = axes;
    let name = a.ctx.op(onnxOp, inputs, attributes as never, boolViaInt ? undefined : a.out());
    if (boolViaInt) name = a.ctx.op('Cast', [name], { to: ONNX_TYPE_CODE.bool }, a.out());
    const partial =
      onnxOp === 'ReduceProd' && !keepDims && x.partial && x.shape?.length === 1
        ? [x.partial.every((d) => d !== null) ? (x.partial as number[]).reduce((p, q) => p * q, 1) : null]
        : undefined;
    a.define({ name, dtype, shape, ...(partial ? { partial } : {}) });
  };
}

function argReduction(onnxOp: 'ArgMax' | 'ArgMin'): Lowering {
  return (a) => {
    const x = input(a, 0);
    const [axis] = requireInts(a.node, input(a, 1), 'the axis');
    const r = a.ctx.op(onnxOp, [a.ctx.name(x)], { axis: axis!, keepdims: 0 });
    a.define({
      name: a.ctx.op('Cast', [r], { to: ONNX_TYPE_CODE.int32 }, a.out()),
      dtype: 'int32',
      shape: reduceShape(x.shape, [axis!], false),
    });
  };
}

const softmax =
  (onnxOp: 'Softmax' | 'LogSoftmax'): Lowering =>
  (a) => {
    const x = input(a, 0);
    a.define({ name: a.ctx.op(onnxOp, [a.ctx.name(x)], { axis: -1 }, a.out()), dtype: x.dtype, shape: x.shape });
  };

// ---------------------------------------------------------------------------------------------
// shapes

const shapeOp: Lowering = (a) => {
  const x = input(a, 0);
  const shape: Dim[] | undefined = x.shape ? [x.shape.length] : undefined;
  const outType = tfjsDtypeOf(attrs.type(a.node, 'out_type')) ?? 'int32';
  if (x.shape?.every((d) => d !== null)) {
    const dims = x.shape as number[];
    a.define({
      name: '',
      dtype: outType,
      shape,
      constant: { dtype: 'int32', shape: [dims.length], data: Int32Array.from(dims) },
      partial: dims,
    });
    return;
  }
  const s = a.ctx.op('Shape', [a.ctx.name(x)]);
  a.define({
    name: a.ctx.op('Cast', [s], { to: ONNX_TYPE_CODE[outType] }, a.out()),
    dtype: outType,
    shape,
    ...(x.shape ? { partial: [...x.shape] } : {}),
  });
};

const sizeOp: Lowering = (a) => {
  const x = input(a, 0);
  const s = a.ctx.op('Size', [a.ctx.name(x)]);
  const n = staticSize(x.shape);
  a.define({ name: a.ctx.op('Cast', [s], { to: ONNX_TYPE_CODE.int32 }, a.out()), dtype: 'int32', shape: [], partial: [n] });
};

const rankOp: Lowering = (a) => {
  const x = input(a, 0);
  const rank = requireRank(a.node, x);
  a.define({ name: '', dtype: 'int32', shape: [], constant: { dtype: 'int32', shape: [], data: Int32Array.of(rank) }, partial: [rank] });
};

const reshape: Lowering = (a) => {
  const x = input(a, 0);
  const s = input(a, 1);
  let shape: Dim[] | undefined;
  const known = s.partial ?? (s.constant ? Array.from(s.constant.data) : undefined);
  if (known) {
    shape = known.map((d) => (d === -1 ? null : d));
    const total = staticSize(x.shape);
    const holes = known.filter((d) => d === -1).length;
    if (holes === 1 && total !== null && known.every((d) => d !== null)) {
      const rest = (known as number[]).filter((d) => d !== -1).reduce((p, q) => p * q, 1);
      shape = known.map((d) => (d === -1 ? (rest === 0 ? null : total / rest) : d));
    }
  } else if (s.shape?.length === 1 && typeof s.shape[0] === 'number') {
    shape = Array.from({ length: s.shape[0] }, () => null);
  }
  const name = a.ctx.op('Reshape', [a.ctx.name(x), a.ctx.int64(s)], { allowzero: 1 }, a.out());
  a.define({ name, dtype: x.dtype, shape });
};

const squeeze: Lowering = (a) => {
  const x = input(a, 0);
  const dims = attrs.ints(a.node, 'squeeze_dims') ?? attrs.ints(a.node, 'axis') ?? [];
  if (dims.length === 0) {
    let shape: Dim[] | undefined;
    if (x.shape?.every((d) => d !== null)) shape = x.shape.filter((d) => d !== 1);
    a.define({ name: a.ctx.op('Squeeze', [a.ctx.name(x)], {}, a.out()), dtype: x.dtype, shape });
    return;
  }
  const shape = x.shape ? x.shape.filter((_, i) => !dims.map((d) => normalizeAxis(d, x.shape!.length)).includes(i)) : undefined;
  a.define({
    name: a.ctx.op('Squeeze', [a.ctx.name(x), a.ctx.small('int64', dims)], {}, a.out()),
    dtype: x.dtype,
    shape,
  });
};

const expandDims: Lowering = (a) => {
  const x = input(a, 0);
  const [axis] = requireInts(a.node, input(a, 1), 'the axis');
  let shape: Dim[] | undefined;
  if (x.shape) {
    const at = axis! < 0 ? axis! + x.shape.length + 1 : axis!;
    shape = [...x.shape.slice(0, at), 1, ...x.shape.slice(at)];
  }
  const partial = x.partial && x.shape?.length === 0 ? [...x.partial] : undefined;
  a.define({
    name: a.ctx.op('Unsqueeze', [a.ctx.name(x), a.ctx.small('int64', [axis!])], {}, a.out()),
    dtype: x.dtype,
    shape,
    ...(partial ? { partial } : {}),
  });
};

const transpose: Lowering = (a) => {
  const x = input(a, 0);
  const perm = requireInts(a.node, input(a, 1), 'the permutation');
  const shape = x.shape ? perm.map((p) => x.shape![p] ?? null) : undefined;
  a.define({ name: a.ctx.op('Transpose', [a.ctx.name(x)], { perm }, a.out()), dtype: x.dtype, shape });
};

function concatValues(a: LowerArgs, values: Value[], axis: number): void {
  const first = values[0]!;
  let shape: Dim[] | undefined;
  if (values.every((v) => v.shape)) {
    const rank = first.shape!.length;
    const ax = normalizeAxis(axis, rank);
    shape = first.shape!.map((_, i) => {
      if (i === ax) {
        return values.reduce<Dim>((sum, v) => (sum === null || v.shape![i] === null ? null : sum + (v.shape![i] as number)), 0);
      }
      return values.map((v) => v.shape![i] ?? null).find((d) => d !== null) ?? null;
    });
  }
  let partial: Dim[] | undefined;
  if (first.shape?.length === 1 && values.every((v) => v.partial || v.constant)) {
    partial = values.flatMap((v) => v.partial ?? Array.from(v.constant!.data));
  }
  const name =
    values.length === 1
      ? a.ctx.op('Identity', [a.ctx.name(first)], {}, a.out())
      : a.ctx.op(
          'Concat',
          values.map((v) => a.ctx.name(v)),
          { axis },
          a.out(),
        );
  a.define({ name, dtype: first.dtype, shape, ...(partial ? { partial } : {}) });
}

const concatV2: Lowering = (a) => {
  const axisValue = a.inputs[a.inputs.length - 1]!;
  const [axis] = requireInts(a.node, axisValue, 'the axis');
  concatValues(a, a.inputs.slice(0, -1), axis!);
};

/** TF Concat (v1): the axis comes first. */
const concatV1: Lowering = (a) => {
  const [axis] = requireInts(a.node, input(a, 0), 'the axis');
  concatValues(a, a.inputs.slice(1), axis!);
};

const pack: Lowering = (a) => {
  const axis = attrs.int(a.node, 'axis', 0);
  const first = input(a, 0);
  const axesName = a.ctx.small('int64', [axis]);
  const parts = a.inputs.map((v) => a.ctx.op('Unsqueeze', [a.ctx.name(v), axesName]));
  let shape: Dim[] | undefined;
  if (first.shape) {
    const at = axis < 0 ? axis + first.shape.length + 1 : axis;
    shape = [...first.shape.slice(0, at), a.inputs.length, ...first.shape.slice(at)];
  }
  let partial: Dim[] | undefined;
  if (first.shape?.length === 0) {
    partial = a.inputs.map((v) => v.partial?.[0] ?? (v.constant ? (v.constant.data[0] as number) : null));
  }
  const name = parts.length === 1 ? a.ctx.op('Identity', parts, {}, a.out()) : a.ctx.op('Concat', parts, { axis }, a.out());
  a.define({ name, dtype: first.dtype, shape, ...(partial ? { partial } : {}) });
};

const unpack: Lowering = (a) => {
  const x = input(a, 0);
  const rank = requireRank(a.node, x);
  const axis = normalizeAxis(attrs.int(a.node, 'axis', 0), rank);
  const count = attrs.int(a.node, 'num', 0) || (x.shape![axis] ?? 0);
  if (!count) throw new ConversionError('unknown-rank', `node '${a.node.name}' (Unpack): the number of outputs is unknown`);
  const pieces = a.ctx.emit('Split', [a.ctx.name(x), a.ctx.small('int64', Array(count).fill(1))], { axis }, count);
  const shape = x.shape!.filter((_, i) => i !== axis);
  pieces.forEach((p, i) => {
    a.define({ name: a.ctx.op('Squeeze', [p, a.ctx.small('int64', [axis])], {}, a.out(i)), dtype: x.dtype, shape }, i);
  });
};

function splitInto(a: LowerArgs, x: Value, sizes: number[], axis: number): void {
  const rank = x.shape?.length;
  const ax = rank === undefined ? axis : normalizeAxis(axis, rank);
  const holes = sizes.filter((s) => s === -1).length;
  if (holes > 1) throw new ConversionError('unsupported-attribute', `node '${a.node.name}' (SplitV) has more than one -1 size`);
  const dim = x.shape?.[ax] ?? null;
  const known = sizes.filter((s) => s !== -1).reduce((p, q) => p + q, 0);
  const resolved = sizes.map((s) => (s === -1 ? (dim === null ? null : dim - known) : s));
  const shapeOf = (size: Dim): Dim[] | undefined => (x.shape ? x.shape.map((d, i) => (i === ax ? size : d)) : undefined);
  if (holes === 0) {
    const names = sizes.map((_, i) => a.out(i));
    a.ctx.emit('Split', [a.ctx.name(x), a.ctx.small('int64', sizes)], { axis }, names);
    names.forEach((name, i) => {
      a.define({ name, dtype: x.dtype, shape: shapeOf(resolved[i]!) }, i);
    });
    return;
  }
  // a -1 size: slice each piece with offsets counted from the start before it and from the end after it
  const hole = sizes.indexOf(-1);
  let start = 0;
  sizes.forEach((size, i) => {
    let begin: bigint;
    let end: bigint;
    if (i < hole) {
      begin = BigInt(start);
      end = BigInt(start + size);
      start += size;
    } else if (i === hole) {
      begin = BigInt(start);
      const after = sizes.slice(i + 1).reduce((p, q) => p + q, 0);
      end = after === 0 ? INT64_MAX : BigInt(-after);
    } else {
      const from = sizes.slice(i).reduce((p, q) => p + q, 0);
      begin = BigInt(-from);
      const after = from - size;
      end = after === 0 ? INT64_MAX : BigInt(-after);
    }
    const name = a.ctx.op(
      'Slice',
      [a.ctx.name(x), a.ctx.small('int64', [begin]), a.ctx.small('int64', [end]), a.ctx.small('int64', [axis])],
      {},
      a.out(i),
    );
    a.define({ name, dtype: x.dtype, shape: shapeOf(resolved[i]!) }, i);
  });
}

const splitV: Lowering = (a) => {
  const x = input(a, 0);
  const sizes = requireInts(a.node, input(a, 1), 'the split sizes');
  const [axis] = requireInts(a.node, input(a, 2), 'the axis');
  splitInto(a, x, sizes, axis!);
};

const split: Lowering = (a) => {
  const [axis] = requireInts(a.node, input(a, 0), 'the axis');
  const x = input(a, 1);
  const count = attrs.int(a.node, 'num_split', 1);
  const rank = requireRank(a.node, x);
  const dim = x.shape![normalizeAxis(axis!, rank)];
  const names = Array.from({ length: count }, (_, i) => a.out(i));
  const attributes: Record<string, unknown> = { axis: axis! };
  if (dim !== null && dim !== undefined) {
    a.ctx.emit('Split', [a.ctx.name(x), a.ctx.small('int64', Array(count).fill(dim / count))], attributes as never, names);
  } else {
    if (a.ctx.opsetVersion >= 18) attributes.num_outputs = count;
    a.ctx.emit('Split', [a.ctx.name(x)], attributes as never, names); // equal parts
  }
  const shape = x.shape!.map((d, i) => (i === normalizeAxis(axis!, rank) ? (d === null ? null : d / count) : d));
  names.forEach((name, i) => {
    a.define({ name, dtype: x.dtype, shape }, i);
  });
};

/** TF Slice(x, begin, size): size -1 means "to the end". */
const slice: Lowering = (a) => {
  const x = input(a, 0);
  const beginValue = input(a, 1);
  const sizeValue = input(a, 2);
  const begin = knownInts(beginValue);
  const size = knownInts(sizeValue);
  if (begin && size) {
    const ends = begin.map((b, i) => (size[i] === -1 ? INT64_MAX : BigInt(b + size[i]!)));
    const shape = x.shape
      ? x.shape.map((d, i) => (i < size.length ? (size[i] === -1 ? (d === null ? null : d - begin[i]!) : size[i]!) : d))
      : undefined;
    let partial: Dim[] | undefined;
    if (x.partial && x.shape?.length === 1) partial = x.partial.slice(begin[0], size[0] === -1 ? undefined : begin[0]! + size[0]!);
    const name = a.ctx.op('Slice', [a.ctx.name(x), a.ctx.small('int64', begin), a.ctx.small('int64', ends)], {}, a.out());
    a.define({ name, dtype: x.dtype, shape, ...(partial ? { partial } : {}) });
    return;
  }
  const b64 = a.ctx.int64(beginValue);
  const s64 = a.ctx.int64(sizeValue);
  const isAll = a.ctx.op('Equal', [s64, a.ctx.small('int64', [-1], [])]);
  const sum = a.ctx.op('Add', [b64, s64]);
  const ends = a.ctx.op('Where', [isAll, a.ctx.small('int64', [INT64_MAX], []), sum]);
  const shape = x.shape?.map(() => null);
  a.define({ name: a.ctx.op('Slice', [a.ctx.name(x), b64, ends], {}, a.out()), dtype: x.dtype, shape });
};

/**
 * TF StridedSlice with all five masks, lowered to Slice → Squeeze (shrink axes) → Unsqueeze
 * (new axes). Begin/end/strides must be constants. Entries after an ellipsis address axes
 * from the end (negative axes), so the input rank is only needed for the output-shape estimate.
 */
const stridedSlice: Lowering = (a) => {
  const x = input(a, 0);
  const begin = requireInts(a.node, input(a, 1), 'begin');
  const end = requireInts(a.node, input(a, 2), 'end');
  const strides = requireInts(a.node, input(a, 3), 'strides');
  const beginMask = attrs.int(a.node, 'begin_mask', 0);
  const endMask = attrs.int(a.node, 'end_mask', 0);
  const ellipsisMask = attrs.int(a.node, 'ellipsis_mask', 0);
  const newAxisMask = attrs.int(a.node, 'new_axis_mask', 0);
  const shrinkMask = attrs.int(a.node, 'shrink_axis_mask', 0);
  const n = begin.length;
  const bit = (mask: number, i: number) => (mask & (1 << i)) !== 0;
  let ellipsisAt = -1;
  for (let i = 0; i < n; i++) {
    if (bit(ellipsisMask, i)) {
      if (ellipsisAt >= 0) throw new ConversionError('unsupported-attribute', `node '${a.node.name}': more than one ellipsis`);
      ellipsisAt = i;
    }
  }
  // count input-consuming and output-producing entries after the ellipsis
  const consumesInput = (i: number) => !bit(newAxisMask, i) && i !== ellipsisAt;
  const producesOutput = (i: number) => bit(newAxisMask, i) || (!bit(shrinkMask, i) && i !== ellipsisAt);
  let inputAfter = 0;
  let outputAfter = 0;
  if (ellipsisAt >= 0) {
    for (let i = ellipsisAt + 1; i < n; i++) {
      if (consumesInput(i)) inputAfter++;
      if (producesOutput(i)) outputAfter++;
    }
  }
  const sliceAxes: number[] = [];
  const starts: bigint[] = [];
  const ends: bigint[] = [];
  const steps: bigint[] = [];
  const squeezeAxes: number[] = [];
  const newAxes: number[] = [];
  let inAxis = 0;
  let outAxis = 0;
  let inAfter = -inputAfter;
  let outAfter = -outputAfter;
  // per-axis info for the output-shape estimate: [input axis, start, end, step, shrink]
  const plan: Array<{ axis: number; b: number | null; e: number | null; s: number; shrink: boolean }> = [];
  for (let i = 0; i < n; i++) {
    if (i === ellipsisAt) continue;
    const afterEllipsis = ellipsisAt >= 0 && i > ellipsisAt;
    if (bit(newAxisMask, i)) {
      newAxes.push(afterEllipsis ? outAfter++ : outAxis++);
      continue;
    }
    const axis = afterEllipsis ? inAfter++ : inAxis++;
    const stride = strides[i]!;
    if (stride === 0) throw new ConversionError('unsupported-attribute', `node '${a.node.name}': stride 0`);
    if (bit(shrinkMask, i)) {
      const index = bit(beginMask, i) ? (stride > 0 ? 0 : -1) : begin[i]!;
      sliceAxes.push(axis);
      starts.push(BigInt(index));
      ends.push(index === -1 ? INT64_MAX : BigInt(index + 1));
      steps.push(1n);
      squeezeAxes.push(axis);
      plan.push({ axis, b: index, e: index === -1 ? null : index + 1, s: 1, shrink: true });
      continue;
    }
    if (!afterEllipsis) outAxis++;
    else outAfter++;
    const b = bit(beginMask, i) ? null : begin[i]!;
    const e = bit(endMask, i) ? null : end[i]!;
    plan.push({ axis, b, e, s: stride, shrink: false });
    if (b === null && e === null && stride === 1) continue; // full axis
    sliceAxes.push(axis);
    starts.push(b === null ? (stride > 0 ? 0n : INT64_MAX) : BigInt(b));
    ends.push(e === null ? (stride > 0 ? INT64_MAX : INT64_MIN) : BigInt(e));
    steps.push(BigInt(stride));
  }
  // output-shape estimate
  let shape: Dim[] | undefined;
  let partial: Dim[] | undefined;
  if (x.shape) {
    const rank = x.shape.length;
    const dims: Array<Dim | 'drop'> = [...x.shape];
    for (const p of plan) {
      const ax = normalizeAxis(p.axis, rank);
      const d = x.shape[ax] ?? null;
      if (p.shrink) {
        dims[ax] = 'drop';
        continue;
      }
      dims[ax] = d === null ? null : sliceLength(d, p.b, p.e, p.s);
    }
    const kept = dims.filter((d): d is Dim => d !== 'drop');
    const outRank = kept.length + newAxes.length;
    const sortedNew = newAxes.map((ax) => normalizeAxis(ax, outRank)).sort((p, q) => p - q);
    for (const ax of sortedNew) kept.splice(ax, 0, 1);
    shape = kept;
    if (x.partial && rank === 1 && newAxes.length === 0 && plan.length === 1) {
      const p = plan[0]!;
      const len = x.partial.length;
      if (p.shrink) {
        partial = [x.partial[normalizeAxis(p.b!, len)] ?? null];
      } else {
        partial = [];
        const [from, to] = sliceBounds(len, p.b, p.e, p.s);
        for (let k = from; p.s > 0 ? k < to : k > to; k += p.s) partial.push(x.partial[k] ?? null);
      }
    }
  }
  let name = a.ctx.name(x);
  const last = (k: 'slice' | 'squeeze' | 'unsqueeze') =>
    (k === 'unsqueeze' && newAxes.length > 0) ||
    (k === 'squeeze' && newAxes.length === 0 && squeezeAxes.length > 0) ||
    (k === 'slice' && newAxes.length === 0 && squeezeAxes.length === 0)
      ? a.out()
      : undefined;
  if (sliceAxes.length > 0) {
    name = a.ctx.op(
      'Slice',
      [name, a.ctx.small('int64', starts), a.ctx.small('int64', ends), a.ctx.small('int64', sliceAxes), a.ctx.small('int64', steps)],
      {},
      last('slice'),
    );
  } else if (squeezeAxes.length === 0 && newAxes.length === 0) {
    name = a.ctx.op('Identity', [name], {}, a.out());
  }
  if (squeezeAxes.length > 0) name = a.ctx.op('Squeeze', [name, a.ctx.small('int64', squeezeAxes)], {}, last('squeeze'));
  if (newAxes.length > 0) name = a.ctx.op('Unsqueeze', [name, a.ctx.small('int64', newAxes)], {}, last('unsqueeze'));
  a.define({ name, dtype: x.dtype, shape, ...(partial ? { partial } : {}) });
};

/** Python-style slice bounds for a dimension of length `d` (null = masked). */
function sliceBounds(d: number, b: number | null, e: number | null, s: number): [number, number] {
  const clamp = (v: number, lo: number, hi: number) => Math.min(Math.max(v, lo), hi);
  if (s > 0) {
    const from = b === null ? 0 : clamp(b < 0 ? b + d : b, 0, d);
    const to = e === null ? d : clamp(e < 0 ? e + d : e, 0, d);
    return [from, to];
  }
  const from = b === null ? d - 1 : clamp(b < 0 ? b + d : b, -1, d - 1);
  const to = e === null ? -1 : clamp(e < 0 ? e + d : e, -1, d - 1);
  return [from, to];
}

function sliceLength(d: number, b: number | null, e: number | null, s: number): number {
  const [from, to] = sliceBounds(d, b, e, s);
  return s > 0 ? Math.max(0, Math.ceil((to - from) / s)) : Math.max(0, Math.ceil((from - to) / -s));
}

const tile: Lowering = (a) => {
  const x = input(a, 0);
  const reps = input(a, 1);
  const known = knownInts(reps);
  const shape = x.shape ? x.shape.map((d, i) => (d === null || !known ? null : d * known[i]!)) : undefined;
  a.define({ name: a.ctx.op('Tile', [a.ctx.name(x), a.ctx.int64(reps)], {}, a.out()), dtype: x.dtype, shape });
};

const fill: Lowering = (a) => {
  const dims = input(a, 0);
  const value = input(a, 1);
  const known = dims.partial ?? (dims.constant ? Array.from(dims.constant.data) : undefined);
  const shape = known ?? (dims.shape?.[0] !== null && dims.shape?.[0] !== undefined ? Array(dims.shape[0]).fill(null) : undefined);
  a.define({ name: a.ctx.op('Expand', [a.ctx.name(value), a.ctx.int64(dims)], {}, a.out()), dtype: value.dtype, shape });
};

function likeLowering(fillValue: number): Lowering {
  return (a) => {
    const x = input(a, 0);
    const s = a.ctx.op('Shape', [a.ctx.name(x)]);
    a.define({ name: a.ctx.op('Expand', [a.ctx.scalar(x.dtype, fillValue), s], {}, a.out()), dtype: x.dtype, shape: x.shape });
  };
}

const range: Lowering = (a) => {
  const start = input(a, 0);
  const limit = input(a, 1);
  const delta = input(a, 2);
  const dtype = tfjsDtypeOf(attrs.type(a.node, 'Tidx')) ?? start.dtype;
  const asType = (v: Value) => (v.dtype === dtype ? a.ctx.name(v) : a.ctx.op('Cast', [a.ctx.name(v)], { to: ONNX_TYPE_CODE[dtype] }));
  const name = a.ctx.op('Range', [asType(start), asType(limit), asType(delta)], {}, a.out());
  a.define({ name, dtype, shape: [null] });
};

const pad: Lowering = (a) => {
  const x = input(a, 0);
  const paddings = input(a, 1);
  const known = knownInts(paddings);
  let pads: string;
  let shape: Dim[] | undefined;
  if (known) {
    const rank = known.length / 2;
    const flat = [...Array.from({ length: rank }, (_, i) => known[2 * i]!), ...Array.from({ length: rank }, (_, i) => known[2 * i + 1]!)];
    pads = a.ctx.small('int64', flat);
    shape = x.shape?.map((d, i) => (d === null ? null : d + known[2 * i]! + known[2 * i + 1]!));
  } else {
    const t = a.ctx.op('Transpose', [a.ctx.int64(paddings)], { perm: [1, 0] });
    pads = a.ctx.op('Reshape', [t, a.ctx.small('int64', [-1])]);
    shape = x.shape?.map(() => null);
  }
  const inputs = [a.ctx.name(x), pads];
  if (a.node.op === 'PadV2' && a.inputs[2]) inputs.push(a.ctx.name(a.inputs[2]));
  else if (a.node.op === 'MirrorPad') {
    const mode = attrs.string(a.node, 'mode', 'REFLECT');
    if (mode !== 'REFLECT') throw new ConversionError('unsupported-attribute', `node '${a.node.name}' (MirrorPad) mode ${mode}`);
    a.define({ name: a.ctx.op('Pad', inputs, { mode: 'reflect' }, a.out()), dtype: x.dtype, shape });
    return;
  }
  a.define({ name: a.ctx.op('Pad', inputs, {}, a.out()), dtype: x.dtype, shape });
};

// ---------------------------------------------------------------------------------------------
// gather / scatter / sparse

const gatherV2: Lowering = (a) => {
  const params = input(a, 0);
  const indices = input(a, 1);
  const axis = a.node.op === 'Gather' ? 0 : requireInts(a.node, input(a, 2), 'the axis')[0]!;
  const batchDims = attrs.int(a.node, 'batch_dims', 0);
  if (batchDims !== 0) {
    throw new ConversionError('unsupported-attribute', `node '${a.node.name}' (${a.node.op}) uses batch_dims=${batchDims}`, {
      node: a.node.name,
    });
  }
  let shape: Dim[] | undefined;
  if (params.shape && indices.shape) {
    const ax = normalizeAxis(axis, params.shape.length);
    shape = [...params.shape.slice(0, ax), ...indices.shape, ...params.shape.slice(ax + 1)];
  }
  let partial: Dim[] | undefined;
  const idx = knownInts(indices);
  if (params.partial && params.shape?.length === 1 && idx && indices.shape && indices.shape.length <= 1) {
    partial = idx.map((i) => params.partial![i < 0 ? i + params.partial!.length : i] ?? null);
  }
  const name = a.ctx.op('Gather', [a.ctx.name(params), a.ctx.name(indices)], { axis }, a.out());
  a.define({ name, dtype: params.dtype, shape, ...(partial ? { partial } : {}) });
};

const gatherNd: Lowering = (a) => {
  const params = input(a, 0);
  const indices = input(a, 1);
  let shape: Dim[] | undefined;
  const depth = indices.shape?.[indices.shape.length - 1];
  if (params.shape && indices.shape && depth !== null && depth !== undefined) {
    shape = [...indices.shape.slice(0, -1), ...params.shape.slice(depth)];
  }
  const name = a.ctx.op('GatherND', [a.ctx.name(params), a.ctx.int64(indices)], {}, a.out());
  a.define({ name, dtype: params.dtype, shape });
};

/** TF ScatterNd: zeros of `shape`, updates at `indices` summed (duplicates add up). */
const scatterNd: Lowering = (a) => {
  const indices = input(a, 0);
  const updates = input(a, 1);
  const shapeValue = input(a, 2);
  const base = a.ctx.op('Expand', [a.ctx.scalar(updates.dtype, 0), a.ctx.int64(shapeValue)]);
  const name = a.ctx.op('ScatterND', [base, a.ctx.int64(indices), a.ctx.name(updates)], { reduction: 'add' }, a.out());
  a.define({ name, dtype: updates.dtype, shape: shapeFromVector(shapeValue) });
};

function shapeFromVector(v: Value): Dim[] | undefined {
  const known = v.partial ?? (v.constant ? Array.from(v.constant.data) : undefined);
  if (known) return known;
  const len = v.shape?.[0];
  return len === null || len === undefined ? undefined : Array(len).fill(null);
}

/**
 * TF SparseToDense(indices, output_shape, values, default): a tensor of `default` with
 * `values` written at `indices` (scalar, [n] or [n, rank]; values scalar or [n]).
 */
const sparseToDense: Lowering = (a) => {
  const indices = input(a, 0);
  const outputShape = input(a, 1);
  const values = input(a, 2);
  const fallback = input(a, 3);
  const shape64 = a.ctx.int64(outputShape);
  const base = a.ctx.op('Expand', [a.ctx.name(fallback), shape64]);
  // indices → [n, rank] whatever their form
  let idx = a.ctx.int64(indices);
  if (indices.shape?.length !== 2) {
    const rankVec = a.ctx.op('Shape', [shape64]);
    idx = a.ctx.op('Reshape', [idx, a.ctx.op('Concat', [a.ctx.small('int64', [-1]), rankVec], { axis: 0 })]);
  }
  let vals = a.ctx.name(values);
  if (values.shape?.length !== 1) {
    const count = a.ctx.op('Slice', [a.ctx.op('Shape', [idx]), a.ctx.small('int64', [0]), a.ctx.small('int64', [1])]);
    vals = a.ctx.op('Expand', [vals, count]);
  }
  const name = a.ctx.op('ScatterND', [base, idx, vals], {}, a.out());
  a.define({ name, dtype: values.dtype, shape: shapeFromVector(outputShape) });
};

/** TF Where with one input: coordinates of true elements, [n, rank] (int64 in TF, int32 in TF.js). */
const whereCoordinates: Lowering = (a) => {
  const cond = input(a, 0);
  if (a.inputs.length === 3) {
    selectV2(a);
    return;
  }
  const nz = a.ctx.op('NonZero', [a.ctx.name(cond)]);
  const t = a.ctx.op('Transpose', [nz], { perm: [1, 0] });
  a.define({
    name: a.ctx.op('Cast', [t], { to: ONNX_TYPE_CODE.int32 }, a.out()),
    dtype: 'int32',
    shape: [null, cond.shape ? cond.shape.length : null],
  });
};

const oneHot: Lowering = (a) => {
  const indices = input(a, 0);
  const depth = input(a, 1);
  const on = input(a, 2);
  const off = input(a, 3);
  const axis = attrs.int(a.node, 'axis', -1);
  const pair = a.ctx.op(
    'Concat',
    [a.ctx.op('Reshape', [a.ctx.name(off), a.ctx.small('int64', [1])]), a.ctx.op('Reshape', [a.ctx.name(on), a.ctx.small('int64', [1])])],
    { axis: 0 },
  );
  const d = knownInts(depth);
  let shape: Dim[] | undefined;
  if (indices.shape) {
    const at = axis < 0 ? indices.shape.length + 1 + axis : axis;
    shape = [...indices.shape.slice(0, at), d ? d[0]! : null, ...indices.shape.slice(at)];
  }
  a.define({ name: a.ctx.op('OneHot', [a.ctx.name(indices), a.ctx.name(depth), pair], { axis }, a.out()), dtype: on.dtype, shape });
};

// ---------------------------------------------------------------------------------------------

/** Every TF op type the converter lowers (Const, Placeholder, NoOp are handled by the driver). */
export const LOWERINGS: Readonly<Record<string, Lowering>> = {
  Identity: identity,
  Snapshot: identity,
  StopGradient: identity,
  PreventGradient: identity,
  PlaceholderWithDefault: identity,
  Abs: unary('Abs'),
  Neg: unary('Neg'),
  Exp: unary('Exp'),
  Log: unary('Log'),
  Sqrt: unary('Sqrt'),
  Rsqrt: rsqrt,
  Square: square,
  Reciprocal: unary('Reciprocal'),
  Inv: unary('Reciprocal'),
  Sin: unary('Sin'),
  Cos: unary('Cos'),
  Tan: unary('Tan'),
  Asin: unary('Asin'),
  Acos: unary('Acos'),
  Atan: unary('Atan'),
  Sinh: unary('Sinh'),
  Cosh: unary('Cosh'),
  Tanh: unary('Tanh'),
  Sigmoid: unary('Sigmoid'),
  Relu: unary('Relu'),
  Relu6: relu6,
  Elu: unary('Elu', { alpha: attr.float(1) }),
  Selu: unary('Selu'),
  Softplus: unary('Softplus'),
  LeakyRelu: leakyRelu,
  Floor: unary('Floor'),
  Ceil: unary('Ceil'),
  Round: unary('Round'),
  Sign: unary('Sign'),
  Erf: unary('Erf'),
  IsNan: (a) => {
    const x = input(a, 0);
    a.define({ name: a.ctx.op('IsNaN', [a.ctx.name(x)], {}, a.out()), dtype: 'bool', shape: x.shape });
  },
  LogicalNot: unary('Not'),
  Cast: cast,
  Add: binary('Add'),
  AddV2: binary('Add'),
  AddN: addN,
  BiasAdd: biasAdd,
  Sub: binary('Sub'),
  Mul: binary('Mul'),
  RealDiv: binary('Div'),
  Div: floorDivision(false),
  DivNoNan: divNoNan,
  FloorDiv: floorDivision(true),
  FloorMod: floorMod,
  Pow: binary('Pow'),
  Maximum: binary('Max'),
  Minimum: binary('Min'),
  SquaredDifference: squaredDifference,
  Less: binary('Less', 'bool'),
  LessEqual: binary('LessOrEqual', 'bool'),
  Greater: binary('Greater', 'bool'),
  GreaterEqual: binary('GreaterOrEqual', 'bool'),
  Equal: binary('Equal', 'bool'),
  NotEqual: notEqual,
  LogicalAnd: binary('And', 'bool'),
  LogicalOr: binary('Or', 'bool'),
  Select: selectV2,
  SelectV2: selectV2,
  ClipByValue: clipByValue,
  MatMul: matMul,
  BatchMatMul: batchMatMul,
  BatchMatMulV2: batchMatMul,
  BatchMatMulV3: batchMatMul,
  _FusedMatMul: fusedMatMul,
  Conv2D: convLowering(false),
  DepthwiseConv2dNative: convLowering(true),
  MaxPool: poolLowering('MaxPool'),
  AvgPool: poolLowering('AveragePool'),
  FusedBatchNorm: fusedBatchNorm,
  FusedBatchNormV2: fusedBatchNorm,
  FusedBatchNormV3: fusedBatchNorm,
  Softmax: softmax('Softmax'),
  LogSoftmax: softmax('LogSoftmax'),
  Sum: reduction('ReduceSum'),
  Mean: reduction('ReduceMean'),
  Max: reduction('ReduceMax'),
  Min: reduction('ReduceMin'),
  Prod: reduction('ReduceProd'),
  All: reduction('ReduceMin', true),
  Any: reduction('ReduceMax', true),
  ArgMax: argReduction('ArgMax'),
  ArgMin: argReduction('ArgMin'),
  Shape: shapeOp,
  Size: sizeOp,
  Rank: rankOp,
  Reshape: reshape,
  Squeeze: squeeze,
  ExpandDims: expandDims,
  Transpose: transpose,
  ConcatV2: concatV2,
  Concat: concatV1,
  Pack: pack,
  Unpack: unpack,
  Split: split,
  SplitV: splitV,
  Slice: slice,
  StridedSlice: stridedSlice,
  Tile: tile,
  Fill: fill,
  ZerosLike: likeLowering(0),
  OnesLike: likeLowering(1),
  Range: range,
  Pad: pad,
  PadV2: pad,
  MirrorPad: pad,
  GatherV2: gatherV2,
  Gather: gatherV2,
  GatherNd: gatherNd,
  ScatterNd: scatterNd,
  SparseToDense: sparseToDense,
  Where: whereCoordinates,
  OneHot: oneHot,
};
