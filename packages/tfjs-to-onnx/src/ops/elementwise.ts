/** Element-wise ops: unary maths and activations, binary arithmetic and comparisons (TF broadcasting), casts, select. */
import { attr, ONNX_DTYPE_CODES } from '@gla/onnx-builder';
import { broadcastShapes, requireRank, type Value } from '../context';
import { ConversionError } from '../errors';
import { attrs, type TfjsDtype, tfDtypeName, tfjsDtypeOf } from '../model-json';
import { input, type LowerArgs, type Lowering } from './lowering';

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
      const fx = a.ctx.op('Cast', [a.ctx.name(x)], { to: ONNX_DTYPE_CODES.float64 });
      const fy = a.ctx.op('Cast', [a.ctx.name(y)], { to: ONNX_DTYPE_CODES.float64 });
      const q = a.ctx.op('Floor', [a.ctx.op('Div', [fx, fy])]);
      a.define({ name: a.ctx.op('Cast', [q], { to: ONNX_DTYPE_CODES.int32 }, a.out()), dtype: 'int32', shape });
      return;
    }
    if (!floorFloats) {
      a.define({ name: a.ctx.op('Div', [a.ctx.name(x), a.ctx.name(y)], {}, a.out()), dtype: x.dtype, shape });
      return;
    }
    // TF.js returns int32 from floorDiv whatever the input dtype (TF would keep float)
    const q = a.ctx.op('Floor', [a.ctx.op('Div', [a.ctx.name(x), a.ctx.name(y)])]);
    a.define({ name: a.ctx.op('Cast', [q], { to: ONNX_DTYPE_CODES.int32 }, a.out()), dtype: 'int32', shape });
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
    name: a.ctx.op('Cast', [a.ctx.name(x)], { to: ONNX_DTYPE_CODES[target] }, a.out()),
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

export const selectV2: Lowering = (a) => {
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

/** Elementwise lowerings by TF op type. */
export const ELEMENTWISE: Readonly<Record<string, Lowering>> = {
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
};
