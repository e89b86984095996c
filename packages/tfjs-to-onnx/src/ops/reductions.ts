/** Reductions over constant axes (Sum, Mean, Max, Min, Prod, All, Any), ArgMax/ArgMin, Softmax/LogSoftmax. */
import { ONNX_DTYPE_CODES } from '@gla/onnx-builder';
import { type Dim, requireInts } from '../context';
import { attrs } from '../model-json';
import { input, type Lowering, normalizeAxis } from './lowering';

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
    if (boolViaInt) source = a.ctx.op('Cast', [source], { to: ONNX_DTYPE_CODES.int32 });
    if (onnxOp === 'ReduceMean' && x.dtype !== 'float32') {
      // TF.js averages integers in float32 and returns float32 (TF would truncate to int)
      source = a.ctx.op('Cast', [source], { to: ONNX_DTYPE_CODES.float32 });
      dtype = 'float32';
    }
    const keep = keepDims ? 1 : 0;
    const axesAsInput = onnxOp === 'ReduceSum' || a.ctx.opsetVersion >= 18;
    const inputs = axesAsInput ? [source, a.ctx.small('int64', axes)] : [source];
    const attributes: Record<string, unknown> = { keepdims: keep };
    if (!axesAsInput) attributes.axes = axes;
    let name = a.ctx.op(onnxOp, inputs, attributes as never, boolViaInt ? undefined : a.out());
    if (boolViaInt) name = a.ctx.op('Cast', [name], { to: ONNX_DTYPE_CODES.bool }, a.out());
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
      name: a.ctx.op('Cast', [r], { to: ONNX_DTYPE_CODES.int32 }, a.out()),
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

/** Reductions lowerings by TF op type. */
export const REDUCTIONS: Readonly<Record<string, Lowering>> = {
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
};
