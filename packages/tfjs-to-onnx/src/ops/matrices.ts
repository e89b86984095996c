/** Matrix products: MatMul, BatchMatMul and TF.js `_FusedMatMul` (bias + activation). */
import { attr } from '@gla/onnx-builder';
import { broadcastShapes, type Dim, requireRank, type Value } from '../context';
import { ConversionError } from '../errors';
import { attrs, type TfjsDtype } from '../model-json';
import { input, type LowerArgs, type Lowering } from './lowering';

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

/** Matrices lowerings by TF op type. */
export const MATRICES: Readonly<Record<string, Lowering>> = {
  MatMul: matMul,
  BatchMatMul: batchMatMul,
  BatchMatMulV2: batchMatMul,
  BatchMatMulV3: batchMatMul,
  _FusedMatMul: fusedMatMul,
};
