/**
 * Rewrites specific to Universal Sentence Encoder lite (its "Kona" transformer): they find their
 * anchors by the TF tensor names of that model (`KonaTransformer/...`, `MultiheadAttention/...`,
 * `TimingSignal/...`) and do nothing on a graph without them.
 */
import { ONNX_DTYPE_CODES } from '@gla/onnx-builder';
import type { IrInitializer, IrNode, LoweringContext } from '../context';
import type { TfNodeDef } from '../model-json';
import { indexGraph } from './graph-index';
import type { Rewrite } from './rewrite';

/**
 * Packed attention projections (Universal Sentence Encoder lite's "Kona" transformer): TF runs the
 * multi-head-attention projections — `qkv_transform_single` and `output_transform_single`, 1x1
 * Conv2D used as dense layers — on the whole padded `[batch, longest text]` grid. Only two sets of
 * positions can reach the output: the tokens (`Encode/Greater`: id > 0, the attention keys and
 * values; every other key gets a -1e9 bias, i.e. a softmax weight of exactly 0) and the pooled
 * positions (`p < MaskLength/Sum`, the final mean). So the projections are computed on the packed
 * rows of their union (plus position 0 of each row) only (Gather → MatMul + bias → Gather back
 * onto the grid); every other grid position reads the first packed row instead of its own
 * `x·W + b`, a finite value no output reads (finite × softmax weight 0). The qkv projection's Split is
 * folded into three per-part projections with pre-sliced weights. Each kept row is the same dot
 * products as before, so the outputs are unchanged (up to GEMM summation order).
 */
function packAttentionProjections(ctx: LoweringContext, order: readonly TfNodeDef[]): number {
  const names = new Set(order.map((n) => n.name));
  const suffix = (s: string) => [...names].find((n) => n.endsWith(s));
  const maskName = suffix('KonaTransformer/Encode/Greater');
  const countName = suffix('KonaTransformer/Encode/TransformerStack/MaskLength/Sum');
  if (!maskName || !countName) return 0;

  const nodes = ctx.nodes;
  const { inits, producer, readers, onlyReader: only, int64s } = indexGraph(ctx);
  const maskNode = producer.get(maskName);
  const countNode = producer.get(countName);
  if (maskNode?.opType !== 'Greater' || countNode?.opType !== 'ReduceSum') return 0;
  // MaskLength/Sum must be the per-row token count: ReduceSum(Cast(mask), axis 1)
  const countCast = producer.get(countNode.inputs[0]!);
  if (countCast?.opType !== 'Cast' || countCast.inputs[0] !== maskName) return 0;
  if (!['1', '-1'].includes(int64s(countNode.inputs[1])?.join() ?? '')) return 0;

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
    const unsqueeze = producer.get(matmul.inputs[0]!);
    if (weight?.dtype !== 'float32' || weight.dims.length !== 2 || unsqueeze === undefined) continue;
    if (unsqueeze.opType !== 'Unsqueeze' || int64s(unsqueeze.inputs[1])?.join() !== '2' || readers(unsqueeze.outputs[0]!).length !== 1)
      continue;
    const add = only(matmul.outputs[0]!);
    const bias = add?.opType === 'Add' && add.inputs[0] === matmul.outputs[0] ? inits.get(add.inputs[1]!) : undefined;
    if (!add || !bias || bias.dtype !== 'float32' || bias.dims.length !== 1 || bias.dims[0] !== weight.dims[1]) continue;
    const squeeze = only(add.outputs[0]!);
    if (squeeze?.opType !== 'Squeeze' || int64s(squeeze.inputs[1])?.join() !== '2') continue;
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
  const count = ctx.op('ReduceSum', [ctx.op('Cast', [maskName], { to: ONNX_DTYPE_CODES.int64 }), ctx.small('int64', [1])], { keepdims: 1 });
  // position 0 of every row is kept too (a token unless the text is empty), so a non-empty grid
  // always has a packed row for the other positions to read
  const zero = ctx.small('int64', [0], []);
  const keep = ctx.op('Or', [ctx.op('Or', [maskName, ctx.op('Less', [positions, count])]), ctx.op('Equal', [positions, zero])]);
  const keepFlat = ctx.op('Reshape', [keep, ctx.small('int64', [-1])]);
  const select = ctx.op('Squeeze', [ctx.op('NonZero', [keepFlat]), ctx.small('int64', [0])]);
  const keepInt = ctx.op('Cast', [keepFlat], { to: ONNX_DTYPE_CODES.int64 });
  const rank = ctx.op('Sub', [ctx.op('CumSum', [keepInt, ctx.small('int64', [0], [])]), ctx.small('int64', [1], [])]);
  const gridToPacked = ctx.op('Reshape', [ctx.op('Where', [keepFlat, rank, zero]), gridShape]);
  const prelude = nodes.splice(start);
  const insertAt = nodes.indexOf(maskNode) + 1;

  const replaced = new Set<IrNode>();
  const inserted = new Map<IrNode, IrNode[]>(); // node to replace → new nodes emitted in its place
  for (const m of matches) {
    const at = nodes.length;
    ctx.beginNode({ name: m.matmul.outputs[0]!, op: 'NoOp' } as TfNodeDef);
    const [cin, cout] = m.weight.dims as [number, number];
    const flat = ctx.op('Reshape', [m.unsqueeze.inputs[0]!, ctx.small('int64', [-1, cin])]);
    const packed = ctx.op('Gather', [flat, select], { axis: 0 });
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
 * Mean pooling commutes with the last linear map. Universal Sentence Encoder lite ends with
 * `Sum_p mask_p · (ScatterNd(FFN(x))_p + h_p)`: the last FFN's output projection
 * `u_t = r_t·W2 + b2` (r_t = ReLU(conv1), one row per token t) is scattered back onto the
 * `[batch, length]` grid, added to the residual h, masked (`p < token count`) and summed over
 * positions. By linearity
 *
 *   Sum_p mask_p · Scatter(u)_p = (Sum_t m_t · r_t)·W2 + (Sum_t m_t)·b2,   m_t = mask at token t,
 *
 * so the 1536 → 512 projection runs once per text on the pooled r instead of once per token:
 * the token rows are weighted by their mask value and summed per text (a [batch, tokens]
 * membership matrix times the rows: batch/1536 of the projection's cost), then projected. The result is the same sum in another order (float rounding only). The
 * rewrite replaces the final `ReduceSum` and points the one other reader of the grid value (a
 * `Shape`) at the residual, which has the same shape; the per-token projection and scatter then
 * have no reader and are dropped. Returns the number of rewrites (0 or 1).
 */
function poolBeforeLastProjection(ctx: LoweringContext): number {
  const nodes = ctx.nodes;
  const { inits, producer, readers, int64s, shapeOf } = indexGraph(ctx);
  const rankAndLast = (name: string) => {
    const shape = shapeOf(name);
    return shape ? { rank: shape.length, last: shape.at(-1) } : undefined;
  };

  for (const sum of nodes) {
    if (sum.opType !== 'ReduceSum' || !/KonaTransformer\/Sum$/.test(sum.outputs[0]!)) continue;
    if (int64s(sum.inputs[1])?.join() !== '1' || sum.attributes.keepdims !== 0) continue;
    const mul = producer.get(sum.inputs[0]!);
    if (mul?.opType !== 'Mul' || readers(mul.outputs[0]!).length !== 1) continue;
    const [grid, mask] = mul.inputs as [string, string];
    const add = producer.get(grid);
    if (add?.opType !== 'Add') continue;
    const others = readers(grid).filter((n) => n !== mul);
    if (others.some((n) => n.opType !== 'Shape')) continue;
    const scatterIndex = add.inputs.findIndex((i) => producer.get(i)?.opType === 'ScatterND');
    if (scatterIndex < 0) continue;
    const scatter = producer.get(add.inputs[scatterIndex]!)!;
    const residual = add.inputs[1 - scatterIndex]!;
    if (scatter.attributes.reduction !== 'add' || readers(scatter.outputs[0]!).length !== 1) continue;
    const zeros = producer.get(scatter.inputs[0]!);
    const zero = zeros?.opType === 'Expand' ? inits.get(zeros.inputs[0]!) : undefined;
    if (zero?.dtype !== 'float32' || zero.data.length !== 1 || zero.data[0] !== 0) continue;
    const [, indices, updates] = scatter.inputs as [string, string, string];
    // updates = Squeeze(Reshape(Add(MatMul(r, W2), b2))) with the same [tokens, d] rows as the Add
    const squeeze = producer.get(updates);
    const reshape = squeeze?.opType === 'Squeeze' ? producer.get(squeeze.inputs[0]!) : undefined;
    const biasAdd = reshape?.opType === 'Reshape' ? producer.get(reshape.inputs[0]!) : undefined;
    const matmul = biasAdd?.opType === 'Add' ? producer.get(biasAdd.inputs[0]!) : undefined;
    const weight = matmul?.opType === 'MatMul' ? inits.get(matmul.inputs[1]!) : undefined;
    const bias = biasAdd ? inits.get(biasAdd.inputs[1]!) : undefined;
    if (!matmul || !weight || !bias || weight.dtype !== 'float32' || bias.dtype !== 'float32') continue;
    if (weight.dims.length !== 2 || bias.dims.length !== 1 || bias.dims[0] !== weight.dims[1]) continue;
    const [hidden, d] = weight.dims as [number, number];
    const rows = matmul.inputs[0]!;
    const shapes = [rankAndLast(rows), rankAndLast(matmul.outputs[0]!), rankAndLast(updates), rankAndLast(indices)];
    if (shapes[0]?.rank !== 2 || shapes[0].last !== hidden || shapes[1]?.rank !== 2 || shapes[1].last !== d) continue;
    if (shapes[2]?.rank !== 2 || shapes[2].last !== d || shapes[3]?.rank !== 2 || shapes[3].last !== 2) continue;
    // the mask multiplies as [batch, length, 1]
    const maskShape = rankAndLast(mask);
    if (maskShape?.rank !== 3 || maskShape.last !== 1) continue;

    const at = nodes.length;
    ctx.beginNode({ name: sum.outputs[0]!, op: 'NoOp' } as TfNodeDef);
    // M [batch, tokens]: M[b, t] = m_t if token t belongs to text b, else 0; then M·r sums each
    // text's weighted rows. (A ScatterND with reduction 'add' would sum them too, but onnxruntime
    // runs its updates in parallel and duplicate targets race: results vary from run to run.)
    const weightOfToken = ctx.op('GatherND', [mask, indices]); // [tokens, 1]
    const textOfToken = ctx.op('Slice', [indices, ctx.small('int64', [0]), ctx.small('int64', [1]), ctx.small('int64', [1])]); // [tokens, 1]
    const batch = ctx.op('Squeeze', [
      ctx.op('Slice', [ctx.op('Shape', [residual]), ctx.small('int64', [0]), ctx.small('int64', [1])]),
      ctx.small('int64', [0]),
    ]);
    const texts = ctx.op('Unsqueeze', [
      ctx.op('Range', [ctx.small('int64', [0], []), batch, ctx.small('int64', [1], [])]),
      ctx.small('int64', [1]),
    ]); // [batch, 1]
    const belongs = ctx.op('Cast', [ctx.op('Equal', [texts, ctx.op('Transpose', [textOfToken], { perm: [1, 0] })])], {
      to: ONNX_DTYPE_CODES.float32,
    }); // [batch, tokens]
    const membership = ctx.op('Mul', [belongs, ctx.op('Transpose', [weightOfToken], { perm: [1, 0] })]);
    const pooled = ctx.op('MatMul', [membership, rows]); // [batch, hidden]
    const counted = ctx.op('ReduceSum', [membership, ctx.small('int64', [1])], { keepdims: 1 }); // [batch, 1]
    const projected = ctx.op('Add', [ctx.op('MatMul', [pooled, weight.name]), ctx.op('Mul', [counted, bias.name])]);
    const residualSum = ctx.op('ReduceSum', [ctx.op('Mul', [residual, mask]), sum.inputs[1]!], { keepdims: 0 });
    ctx.op('Add', [residualSum, projected], {}, sum.outputs[0]!);
    const replacement = nodes.splice(at);
    for (const shape of others) shape.inputs[0] = residual;
    const index = nodes.indexOf(sum);
    nodes.splice(index, 1, ...replacement);
    // the masked grid sum is gone: drop its Mul and the grid Add (no readers left), so later
    // rewrites do not see them
    for (const dead of [mul, add]) nodes.splice(nodes.indexOf(dead), 1);
    return 1;
  }
  return 0;
}
/**
 * Universal Sentence Encoder lite's sinusoidal timing signal, `concat(sin(p·ω), cos(p·ω))` for
 * every token position p, is a function of p alone, and positions are bounded by the model's
 * `ClipToMaxLength` constant. So it is tabulated at conversion time — one row per possible
 * position, the float32 product rounded as the graph rounds it — and looked up with a Gather
 * instead of evaluating sin and cos for every token of every batch. (A position outside the
 * table cannot occur; if it did, the Gather would fail loudly rather than return a wrong row.)
 * Returns the number of tabulated signals.
 */
function tabulateTimingSignals(ctx: LoweringContext): number {
  const nodes = ctx.nodes;
  const { inits, producer, int64s } = indexGraph(ctx);
  const clip = nodes.find((n) => n.opType === 'Less' && /KonaTransformer\/ClipToMaxLength\/Less$/.test(n.outputs[0]!));
  const bound = clip ? inits.get(clip.inputs[1]!) : undefined;
  const maxLength = bound?.data.length === 1 ? Number(bound.data[0]) : Number.NaN;
  if (!Number.isSafeInteger(maxLength) || maxLength < 1 || maxLength > 65_536) return 0;

  let count = 0;
  for (let i = 0; i < nodes.length; i++) {
    const concat = nodes[i]!;
    if (concat.opType !== 'Concat' || concat.inputs.length !== 2 || !/TimingSignal\/concat$/.test(concat.outputs[0]!)) continue;
    if (concat.attributes.axis !== 1 && concat.attributes.axis !== -1) continue;
    const sin = producer.get(concat.inputs[0]!);
    const cos = producer.get(concat.inputs[1]!);
    if (sin?.opType !== 'Sin' || cos?.opType !== 'Cos' || sin.inputs[0] !== cos.inputs[0]) continue;
    const mul = producer.get(sin.inputs[0]!);
    const frequencies = mul?.opType === 'Mul' ? inits.get(mul.inputs[1]!) : undefined;
    const unsqueeze = mul ? producer.get(mul.inputs[0]!) : undefined;
    const cast = unsqueeze?.opType === 'Unsqueeze' ? producer.get(unsqueeze.inputs[0]!) : undefined;
    if (frequencies?.dtype !== 'float32' || frequencies.dims.length !== 2 || frequencies.dims[0] !== 1) continue;
    if (cast?.opType !== 'Cast' || cast.attributes.to !== ONNX_DTYPE_CODES.float32 || int64s(unsqueeze!.inputs[1])?.join() !== '1')
      continue;
    const omega = frequencies.data as Float32Array;
    const n = omega.length;
    const table = new Float32Array(maxLength * 2 * n);
    for (let p = 0; p < maxLength; p++) {
      for (let j = 0; j < n; j++) {
        const angle = Math.fround(p * omega[j]!);
        table[p * 2 * n + j] = Math.sin(angle);
        table[p * 2 * n + n + j] = Math.cos(angle);
      }
    }
    const name = ctx.addInitializer(`${concat.outputs[0]}/_table`, 'float32', [maxLength, 2 * n], table);
    nodes[i] = {
      opType: 'Gather',
      inputs: [name, cast.inputs[0]!],
      outputs: [concat.outputs[0]!],
      attributes: { axis: 0 },
      name: `${concat.outputs[0]}:Gather`,
    };
    count++;
  }
  return count;
}

/** USE lite's attention projections run on the packed token rows instead of the padded grid (see `packAttentionProjections`). */
export const PACK_ATTENTION_PROJECTIONS: Rewrite = {
  name: 'pack-attention-projections',
  description: "USE lite's attention projections moved from the padded grid to the packed token rows",
  apply: (ctx, tfNodes) => packAttentionProjections(ctx, tfNodes),
};

/** USE lite's last FFN projection applied after the mean pooling it feeds (see `poolBeforeLastProjection`). */
export const POOL_BEFORE_LAST_PROJECTION: Rewrite = {
  name: 'pool-before-last-projection',
  description: "USE lite's final projection moved after the mean pooling it feeds",
  apply: (ctx) => poolBeforeLastProjection(ctx),
};

/** USE lite's sinusoidal timing signal replaced by a lookup table over the clipped positions (see `tabulateTimingSignals`). */
export const TABULATE_TIMING_SIGNALS: Rewrite = {
  name: 'tabulate-timing-signals',
  description: "USE lite's sinusoidal timing signal replaced by a lookup table over the clipped positions",
  apply: (ctx) => tabulateTimingSignals(ctx),
};
