/** Shape queries and layout ops: Shape/Size/Rank, Reshape, Squeeze/ExpandDims, Transpose, Concat/Pack/Unpack, Split, Slice/StridedSlice, Tile, Fill, Range, Pad. */
import { ONNX_DTYPE_CODES } from '@gla/onnx-builder';
import { type Dim, INT64_MAX, INT64_MIN, knownInts, requireInts, requireRank, staticSize, type Value } from '../context';
import { ConversionError } from '../errors';
import { attrs, tfjsDtypeOf } from '../model-json';
import { input, type LowerArgs, type Lowering, normalizeAxis } from './lowering';

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
    name: a.ctx.op('Cast', [s], { to: ONNX_DTYPE_CODES[outType] }, a.out()),
    dtype: outType,
    shape,
    ...(x.shape ? { partial: [...x.shape] } : {}),
  });
};

const sizeOp: Lowering = (a) => {
  const x = input(a, 0);
  const s = a.ctx.op('Size', [a.ctx.name(x)]);
  const n = staticSize(x.shape);
  a.define({ name: a.ctx.op('Cast', [s], { to: ONNX_DTYPE_CODES.int32 }, a.out()), dtype: 'int32', shape: [], partial: [n] });
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
  const asType = (v: Value) => (v.dtype === dtype ? a.ctx.name(v) : a.ctx.op('Cast', [a.ctx.name(v)], { to: ONNX_DTYPE_CODES[dtype] }));
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

/** Shapes lowerings by TF op type. */
export const SHAPES: Readonly<Record<string, Lowering>> = {
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
};
