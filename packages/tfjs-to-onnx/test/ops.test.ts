/**
 * Per-op equivalence: tiny hand-written TF.js graphs, converted to ONNX and run on
 * onnxruntime-node, against the TF.js CPU backend executing the same model.json.
 * Every graph runs twice: with static placeholder shapes (opset 17) and with all dims unknown
 * (-1, opset 18), so both the folded and the run-time shape paths, and both opsets, are exercised.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { loadGraphModel } from '@tensorflow/tfjs-converter';
import { beforeAll, describe, expect, it } from 'vitest';
import { convertGraphModel } from '../src/index';
import { a, bool, buildModel, f32, type GraphSpec, i32, maxScaledDifference, type PlainTensor, runOnnx } from './helpers';

interface Case {
  name: string;
  spec: GraphSpec;
  outputs: string[];
  tolerance?: number;
  /** Skip the all-dims-unknown variant (the op needs static sizes). */
  staticOnly?: boolean;
}

let seed = 12345;
function random(): number {
  seed = (seed * 1103515245 + 12345) % 2147483648;
  return seed / 2147483648;
}
const randn = (shape: number[], scale = 1) =>
  f32(
    shape,
    Array.from({ length: shape.reduce((p, q) => p * q, 1) }, () => (random() * 2 - 1) * scale),
  );
const randint = (shape: number[], lo: number, hi: number) =>
  i32(
    shape,
    Array.from({ length: shape.reduce((p, q) => p * q, 1) }, () => lo + Math.floor(random() * (hi - lo))),
  );
const positive = (shape: number[]) =>
  f32(
    shape,
    Array.from({ length: shape.reduce((p, q) => p * q, 1) }, () => 0.1 + random() * 3),
  );

const Tf = { T: a.T('float32') };
const Ti = { T: a.T('int32') };

function unaryCase(op: string, x: PlainTensor = randn([2, 3, 4], 3), attr: Record<string, unknown> = Tf): Case {
  return { name: op, spec: { inputs: { x }, nodes: [{ name: 'y', op, input: ['x'], attr }] }, outputs: ['y'] };
}

function binaryCase(op: string, x: PlainTensor, y: PlainTensor, label = op): Case {
  return {
    name: label,
    spec: { inputs: { x, y }, nodes: [{ name: 'z', op, input: ['x', 'y'], attr: { T: a.T(x.dtype) } }] },
    outputs: ['z'],
  };
}

function stridedSliceCase(
  label: string,
  x: PlainTensor,
  begin: number[],
  end: number[],
  strides: number[],
  masks: Partial<Record<'begin_mask' | 'end_mask' | 'ellipsis_mask' | 'new_axis_mask' | 'shrink_axis_mask', number>>,
): Case {
  const attr: Record<string, unknown> = { T: a.T(x.dtype), Index: a.T('int32') };
  for (const [k, v] of Object.entries(masks)) attr[k] = a.i(v);
  return {
    name: `StridedSlice ${label}`,
    spec: {
      inputs: { x },
      consts: { b: i32([begin.length], begin), e: i32([end.length], end), s: i32([strides.length], strides) },
      nodes: [{ name: 'y', op: 'StridedSlice', input: ['x', 'b', 'e', 's'], attr }],
    },
    outputs: ['y'],
  };
}

const cases: Case[] = [
  // ---- elementwise unary
  ...['Abs', 'Neg', 'Sin', 'Cos', 'Tanh', 'Sigmoid', 'Relu', 'Relu6', 'Elu', 'Floor', 'Ceil', 'Square', 'Sign', 'Softplus', 'Round'].map(
    (op) => unaryCase(op),
  ),
  ...['Exp'].map((op) => unaryCase(op, randn([3, 5], 2))),
  ...['Log', 'Sqrt', 'Rsqrt', 'Reciprocal'].map((op) => unaryCase(op, positive([4, 3]))),
  unaryCase('LeakyRelu', randn([2, 5]), { T: a.T('float32'), alpha: a.f(0.3) }),
  unaryCase('Identity', randint([3, 2], -5, 5), Ti),
  unaryCase('LogicalNot', bool([2, 3], [1, 0, 0, 1, 1, 0]), {}),
  {
    name: 'Cast float→int32 / bool→float / int→bool',
    spec: {
      inputs: { x: f32([5], [-2.7, -0.5, 0, 0.5, 3.9]), m: bool([3], [1, 0, 1]), k: i32([3], [0, 2, -1]) },
      nodes: [
        { name: 'y', op: 'Cast', input: ['x'], attr: { SrcT: a.T('float32'), DstT: a.T('int32') } },
        { name: 'z', op: 'Cast', input: ['m'], attr: { SrcT: a.T('bool'), DstT: a.T('float32') } },
        { name: 'w', op: 'Cast', input: ['k'], attr: { SrcT: a.T('int32'), DstT: a.T('bool') } },
      ],
    },
    outputs: ['y', 'z', 'w'],
  },
  // ---- elementwise binary with broadcasting
  binaryCase('Add', randn([2, 3, 4]), randn([4])),
  binaryCase('AddV2', randn([2, 1, 4]), randn([3, 1])),
  binaryCase('Sub', randn([3, 1]), randn([1, 5])),
  binaryCase('Mul', randn([2, 3]), randn([])),
  binaryCase('RealDiv', randn([2, 3]), positive([2, 3])),
  binaryCase('DivNoNan', randn([2, 3]), f32([3], [2, 0, -0.5])),
  ...['Tan', 'Asin', 'Acos', 'Atan', 'Sinh', 'Cosh', 'Selu', 'Erf'].map((op) => unaryCase(op, randn([2, 3], 0.9))),
  binaryCase('Maximum', randn([4, 3]), randn([3])),
  binaryCase('Minimum', randint([4, 3], -9, 9), randint([3], -9, 9), 'Minimum int32'),
  binaryCase('Maximum', randint([4, 3], -9, 9), randint([1], -9, 9), 'Maximum int32'),
  binaryCase('Pow', positive([2, 3]), randn([3])),
  binaryCase('SquaredDifference', randn([2, 3]), randn([3])),
  binaryCase('FloorDiv', i32([6], [7, -7, 7, -7, 0, 9]), i32([6], [2, 2, -2, -2, 3, 3]), 'FloorDiv int32'),
  binaryCase('FloorDiv', randn([6], 5), positive([6]), 'FloorDiv float'),
  binaryCase('FloorMod', i32([6], [7, -7, 7, -7, 0, 9]), i32([6], [3, 3, -3, -3, 3, 3]), 'FloorMod int32'),
  binaryCase('FloorMod', randn([6], 5), f32([6], [1.5, -1.5, 2, -2, 0.7, 3]), 'FloorMod float'),
  binaryCase('Less', randn([3, 4]), randn([4])),
  binaryCase('LessEqual', randint([3, 4], 0, 3), randint([4], 0, 3)),
  binaryCase('Greater', randint([3, 4], 0, 3), randint([], 0, 3)),
  binaryCase('GreaterEqual', randn([2, 2]), randn([2, 2])),
  binaryCase('Equal', randint([3, 4], 0, 3), randint([4], 0, 3)),
  binaryCase('NotEqual', randint([3, 4], 0, 3), randint([4], 0, 3)),
  binaryCase('LogicalAnd', bool([4], [1, 1, 0, 0]), bool([4], [1, 0, 1, 0])),
  binaryCase('LogicalOr', bool([4], [1, 1, 0, 0]), bool([4], [1, 0, 1, 0])),
  binaryCase('BiasAdd', randn([2, 3, 4]), randn([4])),
  {
    name: 'AddN',
    spec: {
      inputs: { x: randn([2, 3]), y: randn([2, 3]), z: randn([2, 3]) },
      nodes: [{ name: 'w', op: 'AddN', input: ['x', 'y', 'z'], attr: { T: a.T('float32'), N: a.i(3) } }],
    },
    outputs: ['w'],
  },
  {
    name: 'SelectV2',
    spec: {
      inputs: { c: bool([2, 3], [1, 0, 1, 0, 0, 1]), x: randn([2, 3]), y: randn([3]) },
      nodes: [{ name: 'w', op: 'SelectV2', input: ['c', 'x', 'y'], attr: Tf }],
    },
    outputs: ['w'],
  },
  // ---- matrices
  ...[
    [false, false],
    [true, false],
    [false, true],
    [true, true],
  ].map(
    ([ta, tb]): Case => ({
      name: `MatMul transpose_a=${ta} transpose_b=${tb}`,
      spec: {
        inputs: { x: randn(ta ? [4, 3] : [3, 4]) },
        consts: { w: randn(tb ? [5, 4] : [4, 5]) },
        nodes: [{ name: 'y', op: 'MatMul', input: ['x', 'w'], attr: { T: a.T('float32'), transpose_a: a.b(ta!), transpose_b: a.b(tb!) } }],
      },
      outputs: ['y'],
    }),
  ),
  {
    name: 'BatchMatMul adj_y (attention scores) + BatchMatMulV2 broadcast',
    spec: {
      inputs: { q: randn([2, 4, 3, 8]), k: randn([2, 4, 5, 8]), v: randn([5, 6]) },
      nodes: [
        { name: 's', op: 'BatchMatMul', input: ['q', 'k'], attr: { T: a.T('float32'), adj_x: a.b(false), adj_y: a.b(true) } },
        { name: 'o', op: 'BatchMatMulV2', input: ['s', 'v'], attr: { T: a.T('float32'), adj_x: a.b(false), adj_y: a.b(false) } },
        { name: 't', op: 'BatchMatMul', input: ['s', 's'], attr: { T: a.T('float32'), adj_x: a.b(true), adj_y: a.b(false) } },
      ],
    },
    outputs: ['o', 't'],
  },
  {
    name: '_FusedMatMul BiasAdd+Relu',
    spec: {
      inputs: { x: randn([3, 4]) },
      consts: { w: randn([4, 6]), bias: randn([6]) },
      nodes: [
        {
          name: 'y',
          op: '_FusedMatMul',
          input: ['x', 'w', 'bias'],
          attr: {
            T: a.T('float32'),
            num_args: a.i(1),
            fused_ops: a.strings(['BiasAdd', 'Relu']),
            transpose_a: a.b(false),
            transpose_b: a.b(false),
          },
        },
      ],
    },
    outputs: ['y'],
  },
  {
    name: 'Conv2D 1x1 as dense (USE style)',
    spec: {
      inputs: { x: randn([2, 5, 1, 8]) },
      consts: { w: randn([1, 1, 8, 6]) },
      nodes: [
        {
          name: 'y',
          op: 'Conv2D',
          input: ['x', 'w'],
          attr: {
            T: a.T('float32'),
            strides: a.ints([1, 1, 1, 1]),
            dilations: a.ints([1, 1, 1, 1]),
            padding: a.s('VALID'),
            data_format: a.s('NHWC'),
          },
        },
      ],
    },
    outputs: ['y'],
  },
  ...(
    [
      ['SAME', 1],
      ['SAME', 2],
      ['VALID', 2],
    ] as const
  ).map(
    ([padding, stride]): Case => ({
      name: `Conv2D 3x3 ${padding} stride ${stride}`,
      spec: {
        inputs: { x: randn([1, 7, 6, 3]) },
        consts: { w: randn([3, 3, 3, 4]) },
        nodes: [
          {
            name: 'y',
            op: 'Conv2D',
            input: ['x', 'w'],
            attr: {
              T: a.T('float32'),
              strides: a.ints([1, stride, stride, 1]),
              dilations: a.ints([1, 1, 1, 1]),
              padding: a.s(padding),
              data_format: a.s('NHWC'),
            },
          },
        ],
      },
      outputs: ['y'],
    }),
  ),
  {
    name: 'DepthwiseConv2dNative, MaxPool, AvgPool',
    spec: {
      inputs: { x: randn([1, 6, 6, 2]) },
      consts: { w: randn([3, 3, 2, 2]) },
      nodes: [
        {
          name: 'd',
          op: 'DepthwiseConv2dNative',
          input: ['x', 'w'],
          attr: {
            T: a.T('float32'),
            strides: a.ints([1, 1, 1, 1]),
            dilations: a.ints([1, 1, 1, 1]),
            padding: a.s('SAME'),
            data_format: a.s('NHWC'),
          },
        },
        {
          name: 'm',
          op: 'MaxPool',
          input: ['d'],
          attr: {
            T: a.T('float32'),
            ksize: a.ints([1, 2, 2, 1]),
            strides: a.ints([1, 2, 2, 1]),
            padding: a.s('VALID'),
            data_format: a.s('NHWC'),
          },
        },
        {
          name: 'p',
          op: 'AvgPool',
          input: ['d'],
          attr: {
            T: a.T('float32'),
            ksize: a.ints([1, 3, 3, 1]),
            strides: a.ints([1, 2, 2, 1]),
            padding: a.s('SAME'),
            data_format: a.s('NHWC'),
          },
        },
      ],
    },
    outputs: ['m', 'p'],
  },
  {
    name: 'FusedBatchNormV3 (inference)',
    spec: {
      inputs: { x: randn([2, 3, 4]) },
      consts: { scale: randn([4]), offset: randn([4]), mean: randn([4]), variance: positive([4]) },
      nodes: [
        {
          name: 'y',
          op: 'FusedBatchNormV3',
          input: ['x', 'scale', 'offset', 'mean', 'variance'],
          attr: { T: a.T('float32'), epsilon: a.f(0.001), data_format: a.s('NHWC'), is_training: a.b(false) },
        },
      ],
    },
    outputs: ['y'],
  },
  // ---- reductions and softmax
  ...(['Sum', 'Mean', 'Max', 'Min', 'Prod'] as const).flatMap((op): Case[] => [
    {
      name: `${op} axes [1,-1] keep_dims`,
      spec: {
        inputs: { x: randn([2, 3, 4]) },
        consts: { axes: i32([2], [1, -1]) },
        nodes: [{ name: 'y', op, input: ['x', 'axes'], attr: { T: a.T('float32'), Tidx: a.T('int32'), keep_dims: a.b(true) } }],
      },
      outputs: ['y'],
    },
    {
      name: `${op} int32 scalar axis 0`,
      spec: {
        inputs: { x: randint([3, 4], -4, 5) },
        consts: { axis: i32([], [0]) },
        nodes: [{ name: 'y', op, input: ['x', 'axis'], attr: { T: a.T('int32'), Tidx: a.T('int32'), keep_dims: a.b(false) } }],
      },
      outputs: ['y'],
    },
  ]),
  {
    name: 'All / Any / ArgMax / ArgMin',
    spec: {
      inputs: { m: bool([2, 3], [1, 1, 0, 1, 1, 1]), x: randn([3, 5]) },
      consts: { axis: i32([1], [1]), ax: i32([], [1]) },
      nodes: [
        { name: 'all', op: 'All', input: ['m', 'axis'], attr: { keep_dims: a.b(false) } },
        { name: 'any', op: 'Any', input: ['m', 'axis'], attr: { keep_dims: a.b(true) } },
        { name: 'amax', op: 'ArgMax', input: ['x', 'ax'], attr: { T: a.T('float32'), output_type: a.T('int32') } },
        { name: 'amin', op: 'ArgMin', input: ['x', 'ax'], attr: { T: a.T('float32'), output_type: a.T('int32') } },
      ],
    },
    outputs: ['all', 'any', 'amax', 'amin'],
  },
  unaryCase('Softmax', randn([2, 3, 5], 4)),
  unaryCase('LogSoftmax', randn([2, 5], 4)),
  {
    name: 'layer norm pieces (Mean, Sub, Square, Rsqrt, Mul, Add)',
    spec: {
      inputs: { x: randn([2, 3, 8], 2) },
      consts: { ax: i32([1], [-1]), eps: f32([], [1e-6]), g: randn([8]), b: randn([8]) },
      nodes: [
        { name: 'mu', op: 'Mean', input: ['x', 'ax'], attr: { keep_dims: a.b(true), Tidx: a.T('int32') } },
        { name: 'd', op: 'Sub', input: ['x', 'mu'], attr: Tf },
        { name: 'sq', op: 'Square', input: ['d'], attr: Tf },
        { name: 'var', op: 'Mean', input: ['sq', 'ax'], attr: { keep_dims: a.b(true), Tidx: a.T('int32') } },
        { name: 've', op: 'Add', input: ['var', 'eps'], attr: Tf },
        { name: 'r', op: 'Rsqrt', input: ['ve'], attr: Tf },
        { name: 'gr', op: 'Mul', input: ['g', 'r'], attr: Tf },
        { name: 'n', op: 'Mul', input: ['gr', 'd'], attr: Tf },
        { name: 'y', op: 'Add', input: ['n', 'b'], attr: Tf },
      ],
    },
    outputs: ['y'],
  },
  // ---- shapes
  {
    name: 'Shape, Size, Rank, Reshape (-1), Squeeze, ExpandDims (-1), Transpose',
    spec: {
      inputs: { x: randn([2, 1, 3, 4]) },
      consts: { shp: i32([2], [-1, 4]), ax: i32([], [-1]), perm: i32([4], [3, 0, 2, 1]) },
      nodes: [
        { name: 'shape', op: 'Shape', input: ['x'], attr: { T: a.T('float32'), out_type: a.T('int32') } },
        { name: 'size', op: 'Size', input: ['x'], attr: { T: a.T('float32'), out_type: a.T('int32') } },
        { name: 'rank', op: 'Rank', input: ['x'], attr: Tf },
        { name: 'r', op: 'Reshape', input: ['x', 'shp'], attr: { T: a.T('float32'), Tshape: a.T('int32') } },
        { name: 'sq', op: 'Squeeze', input: ['x'], attr: { T: a.T('float32'), squeeze_dims: a.ints([1]) } },
        { name: 'ex', op: 'ExpandDims', input: ['sq', 'ax'], attr: { T: a.T('float32'), Tdim: a.T('int32') } },
        { name: 'tr', op: 'Transpose', input: ['x', 'perm'], attr: { T: a.T('float32'), Tperm: a.T('int32') } },
      ],
    },
    outputs: ['shape', 'size', 'rank', 'r', 'sq', 'ex', 'tr'],
  },
  {
    name: 'Reshape with a shape computed at run time (Pack of StridedSlice of Shape)',
    spec: {
      inputs: { x: randn([2, 3, 8]) },
      consts: { b0: i32([1], [0]), b1: i32([1], [1]), b2: i32([1], [2]), s1: i32([1], [1]), h: i32([], [2]), d: i32([], [4]) },
      nodes: [
        { name: 'shape', op: 'Shape', input: ['x'], attr: { T: a.T('float32'), out_type: a.T('int32') } },
        {
          name: 'n',
          op: 'StridedSlice',
          input: ['shape', 'b0', 'b1', 's1'],
          attr: { T: a.T('int32'), Index: a.T('int32'), shrink_axis_mask: a.i(1) },
        },
        {
          name: 'l',
          op: 'StridedSlice',
          input: ['shape', 'b1', 'b2', 's1'],
          attr: { T: a.T('int32'), Index: a.T('int32'), shrink_axis_mask: a.i(1) },
        },
        { name: 'target', op: 'Pack', input: ['n', 'l', 'h', 'd'], attr: { T: a.T('int32'), N: a.i(4), axis: a.i(0) } },
        { name: 'y', op: 'Reshape', input: ['x', 'target'], attr: { T: a.T('float32'), Tshape: a.T('int32') } },
      ],
    },
    outputs: ['y', 'target'],
  },
  {
    name: 'ConcatV2 (negative axis), Pack (axis 1), Unpack',
    spec: {
      inputs: { x: randn([2, 3]), y: randn([2, 4]), z: randn([2, 3]) },
      consts: { ax: i32([], [-1]) },
      nodes: [
        { name: 'c', op: 'ConcatV2', input: ['x', 'y', 'ax'], attr: { T: a.T('float32'), N: a.i(2), Tidx: a.T('int32') } },
        { name: 'p', op: 'Pack', input: ['x', 'z'], attr: { T: a.T('float32'), N: a.i(2), axis: a.i(1) } },
        { name: 'u', op: 'Unpack', input: ['x'], attr: { T: a.T('float32'), num: a.i(2), axis: a.i(0) } },
      ],
    },
    outputs: ['c', 'p', 'u', 'u:1'],
  },
  {
    name: 'SplitV (with -1) and Split',
    spec: {
      inputs: { x: randn([2, 10]) },
      consts: { sizes: i32([3], [3, -1, 2]), ax: i32([], [1]), ax0: i32([], [1]) },
      nodes: [
        { name: 's', op: 'SplitV', input: ['x', 'sizes', 'ax'], attr: { T: a.T('float32'), Tlen: a.T('int32'), num_split: a.i(3) } },
        { name: 'h', op: 'Split', input: ['ax0', 'x'], attr: { T: a.T('float32'), num_split: a.i(2) } },
      ],
    },
    outputs: ['s', 's:1', 's:2', 'h', 'h:1'],
  },
  {
    name: 'SplitV equal sizes (USE q/k/v)',
    spec: {
      inputs: { x: randn([2, 3, 12]) },
      consts: { sizes: i32([3], [4, 4, 4]), ax: i32([], [2]) },
      nodes: [{ name: 's', op: 'SplitV', input: ['x', 'sizes', 'ax'], attr: { T: a.T('float32'), Tlen: a.T('int32'), num_split: a.i(3) } }],
    },
    outputs: ['s', 's:1', 's:2'],
  },
  {
    name: 'Slice (size -1) on data and on a shape vector',
    spec: {
      inputs: { x: randn([3, 5, 4]) },
      consts: { b: i32([3], [1, 2, 0]), s: i32([3], [2, -1, 3]), b1: i32([1], [1]), s1: i32([1], [-1]) },
      nodes: [
        { name: 'y', op: 'Slice', input: ['x', 'b', 's'], attr: { T: a.T('float32'), Index: a.T('int32') } },
        { name: 'shape', op: 'Shape', input: ['x'], attr: { T: a.T('float32'), out_type: a.T('int32') } },
        { name: 'tail', op: 'Slice', input: ['shape', 'b1', 's1'], attr: { T: a.T('int32'), Index: a.T('int32') } },
      ],
    },
    outputs: ['y', 'tail'],
  },
  stridedSliceCase('plain', randn([5, 6]), [1, 0], [4, 6], [1, 2], {}),
  stridedSliceCase('begin/end masks', randn([5, 6]), [3, 2], [0, 5], [1, 1], { begin_mask: 2, end_mask: 1 }),
  stridedSliceCase('negative stride', randn([5, 6]), [-1, 4], [0, 0], [-1, -2], { end_mask: 1 }),
  stridedSliceCase('negative stride masked', randn([5, 6]), [0, 0], [0, 0], [-1, -1], { begin_mask: 3, end_mask: 3 }),
  stridedSliceCase('shrink', randn([4, 5, 3]), [1, 0, 2], [2, 0, 3], [1, 1, 1], { shrink_axis_mask: 5, begin_mask: 2, end_mask: 2 }),
  stridedSliceCase('shrink -1', randn([4, 5]), [0, -1], [0, 0], [1, 1], { begin_mask: 1, end_mask: 1, shrink_axis_mask: 2 }),
  stridedSliceCase('new axis', randn([4, 5]), [0, 0, 1], [0, 0, 3], [1, 1, 1], { new_axis_mask: 1, begin_mask: 2, end_mask: 2 }),
  stridedSliceCase('ellipsis', randn([2, 3, 4, 5]), [0, 1], [0, 4], [1, 2], { ellipsis_mask: 1 }),
  stridedSliceCase('ellipsis + shrink + new axis', randn([2, 3, 4, 5]), [1, 0, 0, 2], [2, 0, 0, 3], [1, 1, 1, 1], {
    shrink_axis_mask: 9,
    ellipsis_mask: 2,
    new_axis_mask: 4,
  }),
  stridedSliceCase('USE indices[:, 1]', randint([6, 2], 0, 9), [0, 1], [0, 2], [1, 1], { begin_mask: 1, end_mask: 1, shrink_axis_mask: 2 }),
  {
    name: 'Tile, Fill, Range, Pad, PadV2, ZerosLike, OnesLike',
    spec: {
      inputs: { x: randn([2, 3]), n: i32([], [5]) },
      consts: {
        reps: i32([2], [2, 3]),
        dims: i32([2], [2, 3]),
        v: f32([], [1.5]),
        start: i32([], [1]),
        delta: i32([], [2]),
        pads: i32([2, 2], [1, 0, 2, 1]),
        cv: f32([], [-3]),
      },
      nodes: [
        { name: 't', op: 'Tile', input: ['x', 'reps'], attr: { T: a.T('float32'), Tmultiples: a.T('int32') } },
        { name: 'f', op: 'Fill', input: ['dims', 'v'], attr: { T: a.T('float32'), index_type: a.T('int32') } },
        { name: 'r', op: 'Range', input: ['start', 'n', 'delta'], attr: { Tidx: a.T('int32') } },
        { name: 'p', op: 'Pad', input: ['x', 'pads'], attr: { T: a.T('float32'), Tpaddings: a.T('int32') } },
        { name: 'p2', op: 'PadV2', input: ['x', 'pads', 'cv'], attr: { T: a.T('float32'), Tpaddings: a.T('int32') } },
        { name: 'z', op: 'ZerosLike', input: ['x'], attr: Tf },
        { name: 'o', op: 'OnesLike', input: ['x'], attr: Tf },
      ],
    },
    outputs: ['t', 'f', 'r', 'p', 'p2', 'z', 'o'],
  },
  // ---- gather / scatter / sparse
  {
    name: 'GatherV2 (axis 0 embedding lookup, axis 1, int params)',
    spec: {
      inputs: { ids: i32([2, 3], [0, 4, 2, 1, 1, 3]), x: randn([3, 4]) },
      consts: { table: randn([5, 6]), ax0: i32([], [0]), ax1: i32([], [1]), cols: i32([2], [3, 0]) },
      nodes: [
        {
          name: 'e',
          op: 'GatherV2',
          input: ['table', 'ids', 'ax0'],
          attr: { Tparams: a.T('float32'), Tindices: a.T('int32'), Taxis: a.T('int32'), batch_dims: a.i(0) },
        },
        {
          name: 'g',
          op: 'GatherV2',
          input: ['x', 'cols', 'ax1'],
          attr: { Tparams: a.T('float32'), Tindices: a.T('int32'), Taxis: a.T('int32') },
        },
      ],
    },
    outputs: ['e', 'g'],
  },
  {
    name: 'GatherNd (full and partial index depth)',
    spec: {
      inputs: { x: randn([3, 4, 2]), full: i32([4, 3], [0, 1, 1, 2, 3, 0, 1, 0, 1, 0, 0, 0]), part: i32([2, 2], [2, 3, 0, 1]) },
      nodes: [
        { name: 'a', op: 'GatherNd', input: ['x', 'full'], attr: { Tparams: a.T('float32'), Tindices: a.T('int32') } },
        { name: 'b', op: 'GatherNd', input: ['x', 'part'], attr: { Tparams: a.T('float32'), Tindices: a.T('int32') } },
      ],
    },
    outputs: ['a', 'b'],
  },
  {
    name: 'ScatterNd (duplicate indices add up)',
    spec: {
      inputs: { idx: i32([4, 2], [0, 1, 2, 0, 0, 1, 1, 1]), upd: randn([4, 3]) },
      consts: { shape: i32([3], [3, 2, 3]) },
      nodes: [{ name: 's', op: 'ScatterNd', input: ['idx', 'upd', 'shape'], attr: { T: a.T('float32'), Tindices: a.T('int32') } }],
    },
    outputs: ['s'],
  },
  {
    name: 'SparseToDense (2-D indices, default -1; 1-D indices, scalar value)',
    spec: {
      inputs: { idx: i32([4, 2], [0, 0, 0, 1, 1, 0, 2, 2]), vals: i32([4], [11, 12, 13, 14]), idx1: i32([2], [1, 3]) },
      consts: { shape: i32([2], [3, 4]), def: i32([], [-1]), shape1: i32([1], [5]), one: i32([], [1]), zero: i32([], [0]) },
      nodes: [
        {
          name: 'd',
          op: 'SparseToDense',
          input: ['idx', 'shape', 'vals', 'def'],
          attr: { T: a.T('int32'), Tindices: a.T('int32'), validate_indices: a.b(true) },
        },
        { name: 'v', op: 'SparseToDense', input: ['idx1', 'shape1', 'one', 'zero'], attr: { T: a.T('int32'), Tindices: a.T('int32') } },
      ],
    },
    outputs: ['d', 'v'],
  },
  {
    name: 'Where (coordinates of true elements)',
    spec: {
      inputs: { x: randint([3, 4], 0, 3) },
      consts: { one: i32([], [1]) },
      nodes: [
        { name: 'm', op: 'Greater', input: ['x', 'one'], attr: Ti },
        { name: 'w', op: 'Where', input: ['m'], attr: { T: a.T('bool') } },
      ],
    },
    outputs: ['w'],
  },
  {
    name: 'OneHot',
    spec: {
      inputs: { ids: i32([4], [0, 2, 1, 3]) },
      consts: { depth: i32([], [4]), on: f32([], [5]), off: f32([], [-1]) },
      nodes: [
        { name: 'o', op: 'OneHot', input: ['ids', 'depth', 'on', 'off'], attr: { T: a.T('float32'), TI: a.T('int32'), axis: a.i(-1) } },
      ],
    },
    outputs: ['o'],
  },
  {
    name: 'USE front end: ClipToMaxLength, SparseToDense, mask, ScatterNd/GatherNd round trip, timing signal',
    spec: {
      inputs: { indices: i32([7, 2], [0, 0, 0, 1, 0, 2, 1, 0, 2, 0, 2, 1, 2, 2]), values: i32([7], [5, 9, 3, 7, 1, 4, 8]) },
      consts: {
        one: i32([1], [1]),
        start: i32([2], [0, 1]),
        end: i32([2], [0, 2]),
        stride: i32([2], [1, 1]),
        maxlen: i32([], [2]),
        flat: i32([1], [-1]),
        zero: i32([], [0]),
        ones: i32([2], [1, 1]),
        def: i32([], [-1]),
        table: randn([10, 4]),
        freq: randn([1, 2]),
        ax1: i32([], [1]),
        ax0: i32([], [0]),
        minusone: i32([], [-1]),
        b1: i32([1], [1]),
        e0: i32([1], [0]),
      },
      nodes: [
        {
          name: 'pos',
          op: 'StridedSlice',
          input: ['indices', 'start', 'end', 'stride'],
          attr: { T: a.T('int32'), Index: a.T('int32'), begin_mask: a.i(1), end_mask: a.i(1), shrink_axis_mask: a.i(2) },
        },
        { name: 'keep', op: 'Less', input: ['pos', 'maxlen'], attr: Ti },
        { name: 'where', op: 'Where', input: ['keep'], attr: { T: a.T('bool') } },
        { name: 'rows', op: 'Reshape', input: ['where', 'flat'], attr: { T: a.T('int32'), Tshape: a.T('int32') } },
        {
          name: 'ci',
          op: 'GatherV2',
          input: ['indices', 'rows', 'zero'],
          attr: { Tparams: a.T('int32'), Tindices: a.T('int32'), Taxis: a.T('int32') },
        },
        {
          name: 'cv',
          op: 'GatherV2',
          input: ['values', 'rows', 'zero'],
          attr: { Tparams: a.T('int32'), Tindices: a.T('int32'), Taxis: a.T('int32') },
        },
        { name: 'max', op: 'Max', input: ['ci', 'zero'], attr: { T: a.T('int32'), Tidx: a.T('int32'), keep_dims: a.b(false) } },
        { name: 'dims', op: 'Add', input: ['max', 'ones'], attr: Ti },
        {
          name: 'dense',
          op: 'SparseToDense',
          input: ['ci', 'dims', 'cv', 'def'],
          attr: { T: a.T('int32'), Tindices: a.T('int32'), validate_indices: a.b(true) },
        },
        { name: 'mask', op: 'Greater', input: ['dense', 'def'], attr: Ti },
        { name: 'coords', op: 'Where', input: ['mask'], attr: { T: a.T('bool') } },
        { name: 'coords32', op: 'Cast', input: ['coords'], attr: { SrcT: { type: 9 }, DstT: a.T('int32') } },
        {
          name: 'emb',
          op: 'GatherV2',
          input: ['table', 'cv', 'zero'],
          attr: { Tparams: a.T('float32'), Tindices: a.T('int32'), Taxis: a.T('int32') },
        },
        { name: 'mshape', op: 'Shape', input: ['mask'], attr: { T: a.T('bool'), out_type: a.T('int32') } },
        { name: 'eshape', op: 'Shape', input: ['emb'], attr: { T: a.T('float32'), out_type: a.T('int32') } },
        {
          name: 'tail',
          op: 'StridedSlice',
          input: ['eshape', 'b1', 'e0', 'b1'],
          attr: { T: a.T('int32'), Index: a.T('int32'), end_mask: a.i(1) },
        },
        { name: 'sshape', op: 'ConcatV2', input: ['mshape', 'tail', 'zero'], attr: { T: a.T('int32'), N: a.i(2), Tidx: a.T('int32') } },
        { name: 'scattered', op: 'ScatterNd', input: ['coords32', 'emb', 'sshape'], attr: { T: a.T('float32'), Tindices: a.T('int32') } },
        { name: 'gathered', op: 'GatherNd', input: ['scattered', 'coords32'], attr: { Tparams: a.T('float32'), Tindices: a.T('int32') } },
        {
          name: 'p',
          op: 'StridedSlice',
          input: ['coords32', 'start', 'end', 'stride'],
          attr: { T: a.T('int32'), Index: a.T('int32'), begin_mask: a.i(1), end_mask: a.i(1), shrink_axis_mask: a.i(2) },
        },
        { name: 'pf', op: 'Cast', input: ['p'], attr: { SrcT: a.T('int32'), DstT: a.T('float32') } },
        { name: 'pe', op: 'ExpandDims', input: ['pf', 'ax1'], attr: { T: a.T('float32'), Tdim: a.T('int32') } },
        { name: 'angle', op: 'Mul', input: ['pe', 'freq'], attr: Tf },
        { name: 'sin', op: 'Sin', input: ['angle'], attr: Tf },
        { name: 'cos', op: 'Cos', input: ['angle'], attr: Tf },
        { name: 'timing', op: 'ConcatV2', input: ['sin', 'cos', 'ax1'], attr: { T: a.T('float32'), N: a.i(2), Tidx: a.T('int32') } },
        { name: 'out', op: 'Add', input: ['gathered', 'timing'], attr: Tf },
        { name: 'len', op: 'Cast', input: ['mask'], attr: { SrcT: a.T('bool'), DstT: a.T('int32') } },
        { name: 'lens', op: 'Sum', input: ['len', 'ax1'], attr: { T: a.T('int32'), Tidx: a.T('int32'), keep_dims: a.b(false) } },
      ],
    },
    outputs: ['dense', 'mask', 'out', 'lens', 'scattered'],
  },
];

describe('per-op equivalence with TF.js (CPU backend)', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
    await tf.ready();
  });

  for (const dynamic of [false, true]) {
    for (const c of cases) {
      if (dynamic && c.staticOnly) continue;
      it(`${c.name}${dynamic ? ' [dynamic shapes, opset 18]' : ' [opset 17]'}`, async () => {
        const { modelJson, weightData, weights } = buildModel(c.spec, dynamic);
        const { onnx, report } = convertGraphModel({
          modelJson,
          weightData,
          options: { outputs: c.outputs, opsetVersion: dynamic ? 18 : 17 },
        });
        expect(report.outputs.map((o) => o.name)).toEqual(c.outputs);
        const model = await loadGraphModel(
          tf.io.fromMemory({
            modelTopology: modelJson.modelTopology,
            weightSpecs: weights as tf.io.WeightsManifestEntry[],
            weightData: weightData.buffer.slice(weightData.byteOffset, weightData.byteOffset + weightData.byteLength),
          }),
        );
        const feeds: Record<string, tf.Tensor> = {};
        for (const [name, t] of Object.entries(c.spec.inputs)) feeds[name] = tf.tensor(t.values, t.shape, t.dtype);
        const raw = await model.executeAsync(feeds, c.outputs);
        const expected = Array.isArray(raw) ? raw : [raw];
        const actual = await runOnnx(onnx, c.spec.inputs, c.outputs);
        expected.forEach((e, i) => {
          const got = actual[i]!;
          expect(got.shape, `shape of ${c.outputs[i]}`).toEqual(e.shape);
          const want = Array.from(e.dataSync() as ArrayLike<number>, Number);
          expect(maxScaledDifference(got.values, want), `values of ${c.outputs[i]}`).toBeLessThanOrEqual(c.tolerance ?? 1e-6);
          const wantType = e.dtype === 'bool' ? 'bool' : e.dtype;
          expect(got.dtype, `dtype of ${c.outputs[i]}`).toBe(wantType);
        });
        for (const t of [...expected, ...Object.values(feeds)]) t.dispose();
        model.dispose();
      });
    }
  }
});
