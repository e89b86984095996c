/** Gathers, scatters and sparse ops: Gather(V2)/GatherNd, ScatterNd, SparseToDense, Where (coordinates), OneHot. */
import { ONNX_DTYPE_CODES } from '@gla/onnx-builder';
import { type Dim, knownInts, requireInts, type Value } from '../context';
import { ConversionError } from '../errors';
import { attrs } from '../model-json';
import { selectV2 } from './elementwise';
import { input, type Lowering, normalizeAxis } from './lowering';

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
    name: a.ctx.op('Cast', [t], { to: ONNX_DTYPE_CODES.int32 }, a.out()),
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

/** Gather scatter lowerings by TF op type. */
export const GATHER_SCATTER: Readonly<Record<string, Lowering>> = {
  GatherV2: gatherV2,
  Gather: gatherV2,
  GatherNd: gatherNd,
  ScatterNd: scatterNd,
  SparseToDense: sparseToDense,
  Where: whereCoordinates,
  OneHot: oneHot,
};
