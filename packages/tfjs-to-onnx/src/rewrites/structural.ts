/**
 * Rewrites that match graph structure only (no tensor names): valid for any lowered model.
 */
import { attr } from '@gla/onnx-builder';
import type { IrNode, LoweringContext } from '../context';
import { indexGraph } from './graph-index';
import type { Rewrite } from './rewrite';

/**
 * `MatMul(x, W) → Reshape → Add(bias) [→ Relu]` (TF's Tensordot + BiasAdd, e.g. USE's FFN) becomes
 * `MatMul → Add [→ Relu] → Reshape`, same values, so onnxruntime fuses the 2-D MatMul, bias and
 * ReLU into one Gemm instead of running two extra passes over the activations. Only when the
 * reshaped value keeps the bias axis last (static last dim = bias length) and the intermediate
 * values have no other reader.
 */
function sinkReshapesBelowBias(ctx: LoweringContext): number {
  const nodes = ctx.nodes;
  const { inits, producer, onlyReader: only, shapeOf } = indexGraph(ctx);
  const lastDim = (name: string) => shapeOf(name)?.at(-1);
  const rewrite = new Map<IrNode, IrNode[]>();
  const drop = new Set<IrNode>();
  let count = 0;
  for (const reshape of nodes) {
    if (reshape.opType !== 'Reshape') continue;
    const matmul = producer.get(reshape.inputs[0]!);
    const weight = matmul?.opType === 'MatMul' ? inits.get(matmul.inputs[1]!) : undefined;
    if (!matmul || !weight || weight.dims.length !== 2 || only(matmul.outputs[0]!) !== reshape) continue;
    const add = only(reshape.outputs[0]!);
    const bias = add?.opType === 'Add' && add.inputs[0] === reshape.outputs[0] ? inits.get(add.inputs[1]!) : undefined;
    const d = weight.dims[1]!;
    if (!add || !bias || bias.dims.length !== 1 || bias.dims[0] !== d || lastDim(reshape.outputs[0]!) !== d) continue;
    if (lastDim(matmul.inputs[0]!) === undefined) continue; // rank of x unknown: keep
    const relu = only(add.outputs[0]!);
    const withRelu = relu?.opType === 'Relu' ? relu : undefined;
    const last = withRelu ?? add;
    const biased = `${add.outputs[0]}/_presum`;
    const activated = withRelu ? `${withRelu.outputs[0]}/_prereshape` : biased;
    const replacement: IrNode[] = [
      { opType: 'Add', inputs: [matmul.outputs[0]!, add.inputs[1]!], outputs: [biased], attributes: {}, name: `${biased}:Add` },
      ...(withRelu ? [{ opType: 'Relu', inputs: [biased], outputs: [activated], attributes: {}, name: `${activated}:Relu` }] : []),
      { ...reshape, inputs: [activated, reshape.inputs[1]!], outputs: [last.outputs[0]!], name: `${last.outputs[0]}:Reshape` },
    ];
    rewrite.set(last, replacement);
    drop.add(reshape);
    if (withRelu) drop.add(add);
    count++;
  }
  const rebuilt: IrNode[] = [];
  for (const n of nodes) {
    const r = rewrite.get(n);
    if (r) rebuilt.push(...r);
    else if (!drop.has(n)) rebuilt.push(n);
  }
  nodes.length = 0;
  nodes.push(...rebuilt);
  return count;
}
/**
 * TF's layer norm as lowered op by op — `m = mean(x)`, `d = x − m`, `v = mean(d·d)`,
 * `y = d · (γ · 1/√(v + ε)) + β`, all over the last axis — becomes one ONNX
 * `LayerNormalization(x, γ, β; axis −1, epsilon ε)` (opset 17), which the runtime computes in a
 * single pass instead of nine passes over the activations. Only where γ and β are 1-D constants
 * and the intermediate values have no other reader. Returns the number of fused layer norms.
 */
function fuseLayerNorms(ctx: LoweringContext): number {
  if (ctx.opsetVersion < 17) return 0;
  const nodes = ctx.nodes;
  const { inits, producer, readers, int64s } = indexGraph(ctx);
  const made = (name: string | undefined, op: string) => {
    const n = name === undefined ? undefined : producer.get(name);
    return n?.opType === op ? n : undefined;
  };
  const vector = (name: string | undefined) => {
    const i = name === undefined ? undefined : inits.get(name);
    return i && i.dtype === 'float32' && i.dims.length === 1 ? i : undefined;
  };
  /** A ReduceMean over the last axis only, keeping it (axes as attribute before opset 18, as input from 18). */
  const lastAxisMean = (n: IrNode | undefined) => {
    if (n === undefined || n.attributes.keepdims !== 1) return false;
    const axes = int64s(n.inputs[1]) ?? n.attributes.axes;
    return Array.isArray(axes) && axes.length === 1 && axes[0] === -1;
  };
  /** The operand of a commutative binary node that is not `other`. */
  const otherInput = (n: IrNode, other: string) => (n.inputs[0] === other ? n.inputs[1] : n.inputs[1] === other ? n.inputs[0] : undefined);

  const rewrite = new Map<IrNode, IrNode>();
  for (const add1 of nodes) {
    if (add1.opType !== 'Add') continue;
    for (const side of [0, 1]) {
      const beta = vector(add1.inputs[1 - side]);
      const mul1 = made(add1.inputs[side], 'Mul');
      if (!beta || !mul1) continue;
      const mul = made(mul1.inputs[0], 'Mul') ?? made(mul1.inputs[1], 'Mul');
      const sub = mul ? made(otherInput(mul1, mul.outputs[0]!), 'Sub') : undefined;
      if (!mul || !sub) continue;
      const gammaName = mul.inputs.find((i) => vector(i));
      const gamma = vector(gammaName);
      const reciprocal = gammaName ? made(otherInput(mul, gammaName), 'Reciprocal') : undefined;
      const sqrt = made(reciprocal?.inputs[0], 'Sqrt');
      const addEps = made(sqrt?.inputs[0], 'Add');
      const varMean = addEps ? made(addEps.inputs[0], 'ReduceMean') : undefined;
      const eps = addEps ? inits.get(addEps.inputs[1]!) : undefined;
      const square = made(varMean?.inputs[0], 'Mul');
      const [x, meanName] = sub.inputs as [string, string];
      const mean = made(meanName, 'ReduceMean');
      if (
        !gamma ||
        !reciprocal ||
        !sqrt ||
        !addEps ||
        !varMean ||
        !eps ||
        eps.dtype !== 'float32' ||
        eps.data.length !== 1 ||
        !square ||
        !mean
      )
        continue;
      if (square.inputs[0] !== sub.outputs[0] || square.inputs[1] !== sub.outputs[0] || mean.inputs[0] !== x) continue;
      if (!lastAxisMean(mean) || !lastAxisMean(varMean) || gamma.dims[0] !== beta.dims[0]) continue;
      const privateValues: [IrNode, number][] = [
        [mean, 1],
        [sub, 3],
        [square, 1],
        [varMean, 1],
        [addEps, 1],
        [sqrt, 1],
        [reciprocal, 1],
        [mul, 1],
        [mul1, 1],
      ];
      if (privateValues.some(([n, count]) => readers(n.outputs[0]!).length !== count)) continue;
      rewrite.set(add1, {
        opType: 'LayerNormalization',
        inputs: [x, gamma.name, beta.name],
        outputs: [add1.outputs[0]!],
        attributes: { axis: -1, epsilon: attr.float(Number(eps.data[0])) },
        name: `${add1.outputs[0]}:LayerNormalization`,
      });
      break;
    }
  }
  for (let i = 0; i < nodes.length; i++) {
    const r = rewrite.get(nodes[i]!);
    if (r) nodes[i] = r;
  }
  return rewrite.size;
}

/** `MatMul → Reshape → Add(bias) [→ Relu]` reordered to `MatMul → Add [→ Relu] → Reshape` (see `sinkReshapesBelowBias`). */
export const SINK_RESHAPES_BELOW_BIAS: Rewrite = {
  name: 'sink-reshapes-below-bias',
  description: 'MatMul → Reshape → bias [→ Relu] chains reordered so the runtime fuses them into one Gemm',
  apply: (ctx) => sinkReshapesBelowBias(ctx),
};

/** Op-by-op layer norms replaced by ONNX `LayerNormalization` (opset ≥ 17; see `fuseLayerNorms`). */
export const FUSE_LAYER_NORMS: Rewrite = {
  name: 'fuse-layer-norms',
  description: 'op-by-op layer norms replaced by one ONNX LayerNormalization (opset >= 17)',
  apply: (ctx) => fuseLayerNorms(ctx),
};
