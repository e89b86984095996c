import type { IrInitializer, IrNode, LoweringContext } from './context';
import type { TfNodeDef } from './model-json';

/**
 * Graph rewrites on the lowered ONNX graph that make it cheaper to run without changing what the
 * outputs compute.
 *
 * `packAttentionProjections` (Universal Sentence Encoder lite's "Kona" transformer): TF runs the
 * multi-head-attention projections — `qkv_transform_single` and `output_transform_single`, 1x1
 * Conv2D used as dense layers — on the whole padded `[batch, longest text]` grid. Only two sets of
 * positions can reach the output: the tokens (`Encode/Greater`: id > 0, the attention keys and
 * values; every other key gets a -1e9 bias, i.e. a softmax weight of exactly 0) and the pooled
 * positions (`p < MaskLength/Sum`, the final mean). So the projections are computed on the packed
 * rows of their union only (Gather → MatMul + bias → Gather back onto the grid); every other grid
 * row gets `0·W + b` instead of `x·W + b`, which no output reads (finite × softmax weight 0). The qkv projection's Split is
 * folded into three per-part projections with pre-sliced weights. Each kept row is the same dot
 * products as before, so the outputs are unchanged (up to GEMM summation order).
 */
export function packAttentionProjections(ctx: LoweringContext, order: readonly TfNodeDef[]): number {
  const names = new Set(order.map((n) => n.name));
  const suffix = (s: string) => [...names].find((n) => n.endsWith(s));
  const maskName = suffix('KonaTransformer/Encode/Greater');
  const countName = suffix('KonaTransformer/Encode/TransformerStack/MaskLength/Sum');
  if (!maskName || !countName) return 0;

  const nodes = ctx.nodes;
  const producer = new Map<string, number>();
  const consumers = new Map<string, number[]>();
  nodes.forEach((n, i) => {
    for (const o of n.outputs) producer.set(o, i);
    for (const input of n.inputs) {
      const list = consumers.get(input) ?? [];
      list.push(i);
      consumers.set(input, list);
    }
  });
  const inits = new Map<string, IrInitializer>(ctx.initializers.map((i) => [i.name, i]));
  const axesOf = (n: IrNode): number[] | undefined => {
    const a = n.inputs[1] ? inits.get(n.inputs[1]) : undefined;
    return a && a.dtype === 'int64' ? Array.from(a.data as BigInt64Array, Number) : undefined;
  };
  const maskNode = producer.get(maskName);
  const countNode = producer.get(countName);
  if (maskNode === undefined || countNode === undefined) return 0;
  if (nodes[maskNode]!.opType !== 'Greater' || nodes[countNode]!.opType !== 'ReduceSum') return 0;
  // MaskLength/Sum must be the per-row token count: ReduceSum(Cast(mask), axis 1)
  const countCast = producer.get(nodes[countNode]!.inputs[0]!);
  if (countCast === undefined || nodes[countCast]!.opType !== 'Cast' || nodes[countCast]!.inputs[0] !== maskName) return 0;
  if (!['1', '-1'].includes(axesOf(nodes[countNode]!)?.join() ?? '')) return 0;
  const only = (name: string): IrNode | undefined => {
    const c = consumers.get(name);
    return c?.length === 1 ? nodes[c[0]!] : undefined;
  };

  // find the Conv2D-as-dense projections of the MHA blocks: Unsqueeze(x,[2]) → MatMul(W) → Add(b) → Squeeze([2])
  interface Match {
    unsqueeze: IrNode;
    matmul: IrNode;
    add: IrNode;
    squeeze: IrNode;
    split?: IrNode;
    sizes: number[];
    weight: IrInitializer;
    bias: IrInitializer;
  }
  const matches: Match[] = [];
  for (const matmul of nodes) {
    if (matmul.opType !== 'MatMul' || !/\/MultiheadAttention\/(qkv|output)_transform_single\/Conv2D$/.test(matmul.outputs[0]!)) continue;
    const weight = inits.get(matmul.inputs[1]!);
    const up = producer.get(matmul.inputs[0]!);
    if (weight?.dtype !== 'float32' || weight.dims.length !== 2 || up === undefined) continue;
    const unsqueeze = nodes[up]!;
    if (unsqueeze.opType !== 'Unsqueeze' || axesOf(unsqueeze)?.join() !== '2' || consumers.get(unsqueeze.outputs[0]!)?.length !== 1) continue;
    const add = only(matmul.outputs[0]!);
    const bias = add?.opType === 'Add' && add.inputs[0] === matmul.outputs[0] ? inits.get(add.inputs[1]!) : undefined;
    if (!add || !bias || bias.dtype !== 'float32' || bias.dims.length !== 1 || bias.dims[0] !== weight.dims[1]) continue;
    const squeeze = only(add.outputs[0]!);
    if (squeeze?.opType !== 'Squeeze' || axesOf(squeeze)?.join() !== '2') continue;
    const [cin, cout] = weight.dims as [number, number];
    let split: IrNode | undefined = only(squeeze.outputs[0]!);
    let sizes = [cout];
    const axis = split?.attributes.axis;
    const sizeInit = split?.inputs[1] ? inits.get(split.inputs[1]) : undefined;
    if (split?.opType === 'Split' && (axis === 2 || axis === -1) && sizeInit?.dtype === 'int64') {
      sizes = Array.from(sizeInit.data as BigInt64Array, Number);
      if (sizes.reduce((p, q) => p + q, 0) !== cout || sizes.length !== split.outputs.length) split = undefined;
    } else split = undefined;
    if (!split) sizes = [cout];
    if (cin <= 0) continue;
    matches.push({ unsqueeze, matmul, add, squeeze, split, sizes, weight, bias });
  }
  if (matches.length === 0) return 0;

  // positions that can reach an output: tokens ∪ pooled positions, packed row-major. `select`
  // [N] = their flat grid positions; `gridToPacked` [B, L] = packed row of each grid position, N
  // (an extra row) for the others.
  const start = nodes.length;
  ctx.beginNode({ name: `${maskName}/_packed_rows`, op: 'NoOp' } as TfNodeDef);
  const gridShape = ctx.op('Shape', [maskName]); // [B, L] int64
  const length = ctx.op('Gather', [gridShape, ctx.small('int64', [1], [])], { axis: 0 });
  const positions = ctx.op('Range', [ctx.small('int64', [0], []), length, ctx.small('int64', [1], [])]);
  // = MaskLength/Sum (emitted late in the graph), recomputed from the mask: tokens per row, [B, 1]
  const count = ctx.op('ReduceSum', [ctx.op('Cast', [maskName], { to: 7 }), ctx.small('int64', [1])], { keepdims: 1 });
  const keep = ctx.op('Or', [maskName, ctx.op('Less', [positions, count])]);
  const keepFlat = ctx.op('Reshape', [keep, ctx.small('int64', [-1])]);
  const select = ctx.op('Squeeze', [ctx.op('NonZero', [keepFlat]), ctx.small('int64', [0])]);
  const keepInt = ctx.op('Cast', [keepFlat], { to: 7 });
  const rank = ctx.op('Sub', [ctx.op('CumSum', [keepInt, ctx.small('int64', [0], [])]), ctx.small('int64', [1], [])]);
  const packedCount = ctx.op('ReduceSum', [keepInt, ctx.small('int64', [0])], { keepdims: 0 });
  const gridToPacked = ctx.op('Reshape', [ctx.op('Where', [keepFlat, rank, packedCount]), gridShape]);
  const prelude = nodes.splice(start);
  const insertAt = maskNode + 1;

  const replaced = new Set<IrNode>();
  const inserted = new Map<IrNode, IrNode[]>(); // node to replace → new nodes emitted in its place
  for (const m of matches) {
    const at = nodes.length;
    ctx.beginNode({ name: m.matmul.outputs[0]!, op: 'NoOp' } as TfNodeDef);
    const [cin, cout] = m.weight.dims as [number, number];
    const flat = ctx.op('Reshape', [m.unsqueeze.inputs[0]!, ctx.small('int64', [-1, cin])]);
    // packed rows + one zero row (what the other grid positions read: finite, never used)
    const packed = ctx.op('Pad', [ctx.op('Gather', [flat, select], { axis: 0 }), ctx.small('int64', [0, 0, 1, 0])]);
    const w = m.weight.data as Float32Array;
    const b = m.bias.data as Float32Array;
    let offset = 0;
    m.sizes.forEach((size, part) => {
      let wPart: string;
      let bPart: string;
      if (m.sizes.length === 1) {
        wPart = m.weight.name;
        bPart = m.bias.name;
      } else {
        const slice = new Float32Array(cin * size);
        for (let r = 0; r < cin; r++) slice.set(w.subarray(r * cout + offset, r * cout + offset + size), r * size);
        wPart = ctx.addInitializer(ctx.fresh(`kernel_part${part}`), 'float32', [cin, size], slice);
        bPart = ctx.addInitializer(ctx.fresh(`bias_part${part}`), 'float32', [size], b.slice(offset, offset + size));
      }
      const y = ctx.op('Add', [ctx.op('MatMul', [packed, wPart]), bPart]);
      const target = m.split ? m.split.outputs[part]! : m.squeeze.outputs[0]!;
      ctx.op('Gather', [y, gridToPacked], { axis: 0 }, target);
      offset += size;
    });
    const anchor = m.split ?? m.squeeze;
    inserted.set(anchor, nodes.splice(at));
    for (const n of [m.unsqueeze, m.matmul, m.add, m.squeeze, ...(m.split ? [m.split] : [])]) if (n !== anchor) replaced.add(n);
    replaced.add(anchor);
  }

  const rebuilt: IrNode[] = [];
  nodes.forEach((n, i) => {
    if (i === insertAt) rebuilt.push(...prelude);
    const replacement = inserted.get(n);
    if (replacement) rebuilt.push(...replacement);
    else if (!replaced.has(n)) rebuilt.push(n);
  });
  if (insertAt >= nodes.length) rebuilt.push(...prelude);
  nodes.length = 0;
  nodes.push(...rebuilt);
  return matches.length;
}

/**
 * `MatMul(x, W) → Reshape → Add(bias) [→ Relu]` (TF's Tensordot + BiasAdd, e.g. USE's FFN) becomes
 * `MatMul → Add [→ Relu] → Reshape`, same values, so onnxruntime fuses the 2-D MatMul, bias and
 * ReLU into one Gemm instead of running two extra passes over the activations. Only when the
 * reshaped value keeps the bias axis last (static last dim = bias length) and the intermediate
 * values have no other reader.
 */
export function sinkReshapesBelowBias(ctx: LoweringContext): number {
  const nodes = ctx.nodes;
  const inits = new Map<string, IrInitializer>(ctx.initializers.map((i) => [i.name, i]));
  const lastDim = new Map<string, number | null | undefined>();
  for (const v of ctx.values.values()) if (v.name) lastDim.set(v.name, v.shape?.[v.shape.length - 1]);
  const producer = new Map<string, IrNode>();
  const consumers = new Map<string, IrNode[]>();
  for (const n of nodes) {
    for (const o of n.outputs) producer.set(o, n);
    for (const i of n.inputs) consumers.set(i, [...(consumers.get(i) ?? []), n]);
  }
  const only = (name: string) => {
    const c = consumers.get(name);
    return c?.length === 1 ? c[0] : undefined;
  };
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
    if (!add || !bias || bias.dims.length !== 1 || bias.dims[0] !== d || lastDim.get(reshape.outputs[0]!) !== d) continue;
    if (lastDim.get(matmul.inputs[0]!) === undefined) continue; // rank of x unknown: keep
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
