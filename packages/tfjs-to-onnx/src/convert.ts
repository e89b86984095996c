import { GraphBuilder, OnnxFormatError } from '@gla/onnx-builder';
import { type Dim, type IrNode, LoweringContext, type Value } from './context';
import { ConversionError } from './errors';
import { foldConstants } from './fold';
import { attrs, type GraphModelJson, parseModelJson, type TfNodeDef, tfDtypeName, tfjsDtypeOf } from './model-json';
import { LOWERINGS, type LowerArgs } from './ops/index';
import { applyRewrites, type RewriteCount } from './rewrites/index';
import { CONVERTER_VERSION } from './version';
import { type ConstTensor, decodeWeights } from './weights';

/** Options of `convertGraphModel`. */
export interface ConvertOptions {
  /** ONNX opset to target; 17 (default) or newer. */
  opsetVersion?: number;
  /** TF tensor names to expose as outputs (default: the signature outputs, else TF.js's sink nodes). */
  outputs?: string[];
  /** ONNX graph name (default 'tfjs_graph'). */
  graphName?: string;
  /**
   * Speed rewrites that keep the outputs (default true; see `src/rewrites/`): e.g. USE lite's
   * attention projections run on the packed token rows instead of the padded grid, layer norms
   * become ONNX `LayerNormalization`. `report.rewrites` says what each one changed.
   */
  optimize?: boolean;
}

/** Inputs of `convertGraphModel`. */
export interface ConvertInput {
  /** model.json as text, bytes or a parsed object. */
  modelJson: string | Uint8Array | object;
  /** All shards concatenated in manifest order, or one buffer per shard path (manifest order). */
  weightData: Uint8Array | readonly Uint8Array[];
  options?: ConvertOptions;
}

/** A graph input or output of the converted model. Dims: number = fixed, string = symbolic. */
export interface TensorSignature {
  name: string;
  dtype: 'float32' | 'int32' | 'bool';
  shape: (number | string)[] | null;
}

/** What the conversion did. */
export interface ConversionReport {
  converterVersion: string;
  opsetVersion: number;
  /** TF op type → number of nodes of that type that the outputs depend on. */
  opCounts: Record<string, number>;
  /** ONNX op type → number of nodes emitted. */
  onnxOpCounts: Record<string, number>;
  inputs: TensorSignature[];
  outputs: TensorSignature[];
  tfNodeCount: number;
  onnxNodeCount: number;
  initializerCount: number;
  /** Total bytes of initializer data in the ONNX model. */
  initializerBytes: number;
  /** Nodes of model.json that the outputs do not depend on (skipped). */
  unusedNodeCount: number;
  /**
   * What the speed rewrites (option `optimize`) changed: every rewrite in the order it ran, with
   * the number of places it rewrote (all 0 with `optimize: false`). For USE lite:
   * `pack-attention-projections` 4, `sink-reshapes-below-bias` 4, `pool-before-last-projection` 1,
   * `fuse-layer-norms` 4, `tabulate-timing-signals` 1.
   */
  rewrites: RewriteCount[];
}

/** Result of a conversion: the serialised ONNX `ModelProto` and a report. */
export interface ConversionResult {
  onnx: Uint8Array;
  report: ConversionReport;
}

const DRIVER_OPS = new Set(['Const', 'Placeholder', 'NoOp']);

/** Split a TF input reference into node name and output index; control inputs ('^x') give index -1. */
function parseRef(ref: string): { node: string; index: number } {
  if (ref.startsWith('^')) return { node: ref.slice(1), index: -1 };
  const match = /^(.*):(\d+)$/.exec(ref);
  if (match) return { node: match[1]!, index: Number(match[2]) };
  return { node: ref, index: 0 };
}

function tensorKey(node: string, index: number): string {
  return index === 0 ? node : `${node}:${index}`;
}

/** The op types (with one node each) that have no lowering, among `nodes`. */
export function findUnsupportedOps(nodes: readonly TfNodeDef[]): Array<{ op: string; node: string; count: number }> {
  const found = new Map<string, { op: string; node: string; count: number }>();
  for (const node of nodes) {
    if (DRIVER_OPS.has(node.op) || LOWERINGS[node.op]) continue;
    const entry = found.get(node.op);
    if (entry) entry.count++;
    else found.set(node.op, { op: node.op, node: node.name, count: 1 });
  }
  return [...found.values()].sort((a, b) => (a.op < b.op ? -1 : a.op > b.op ? 1 : 0));
}

/** The op types this converter lowers (besides Const, Placeholder and NoOp). */
export const SUPPORTED_OPS: readonly string[] = Object.keys(LOWERINGS).sort();

/**
 * Convert a TF.js graph model (model.json + weight shards) to an ONNX model, with TF.js numeric
 * semantics: float tensors are float32, integer tensors int32 (TF int64 included), as in TF.js.
 * Pure: no I/O, works in browsers. Deterministic: the same inputs give the same bytes.
 *
 * @throws ConversionError 'bad-model-json' | 'missing-weights' | 'truncated-weights' |
 *   'dtype-unsupported' | 'unsupported-op' (lists every unsupported op type) | ...
 */
export function convertGraphModel(input: ConvertInput): ConversionResult {
  if (!input || typeof input !== 'object') throw new ConversionError('bad-input', 'convertGraphModel expects { modelJson, weightData }');
  const options = input.options ?? {};
  const opsetVersion = options.opsetVersion ?? 17;
  if (!Number.isInteger(opsetVersion) || opsetVersion < 17) {
    throw new ConversionError('bad-input', `opsetVersion must be an integer >= 17, got ${opsetVersion}`);
  }
  const weightData = input.weightData;
  if (!(weightData instanceof Uint8Array) && !(Array.isArray(weightData) && weightData.every((w) => w instanceof Uint8Array))) {
    throw new ConversionError('bad-input', 'weightData must be a Uint8Array or an array of Uint8Array (one per shard)');
  }
  const model = parseModelJson(input.modelJson);
  const nodes = new Map<string, TfNodeDef>();
  for (const node of model.modelTopology.node) {
    if (nodes.has(node.name)) throw new ConversionError('bad-model-json', `duplicate node name '${node.name}'`);
    nodes.set(node.name, node);
  }
  for (const node of model.modelTopology.node) {
    for (const ref of node.input ?? []) {
      if (!nodes.has(parseRef(ref).node)) {
        throw new ConversionError('bad-model-json', `node '${node.name}' reads '${ref}', which no node produces`, { node: node.name });
      }
    }
  }

  const outputRefs = resolveOutputs(model, options);
  const order = topologicalOrder(
    nodes,
    outputRefs.map((r) => parseRef(r).node),
  );

  const unsupported = findUnsupportedOps(order);
  if (unsupported.length > 0) {
    const list = unsupported.map((u) => `${u.op} (e.g. node '${u.node}'${u.count > 1 ? `, ${u.count} nodes` : ''})`).join(', ');
    throw new ConversionError('unsupported-op', `unsupported TF op type(s): ${list}`, { unsupported });
  }

  const weights = decodeWeights(model.weightsManifest, weightData);
  const missing = order.filter((n) => n.op === 'Const' && !weights.has(n.name)).map((n) => n.name);
  if (missing.length > 0) {
    throw new ConversionError(
      'missing-weights',
      `no weight data for Const node(s): ${missing.slice(0, 10).join(', ')}${missing.length > 10 ? ` and ${missing.length - 10} more` : ''}`,
      { nodes: missing },
    );
  }

  const ctx = new LoweringContext(opsetVersion);
  const inputs: TensorSignature[] = [];
  for (const node of order) ctx.reserve(node.name);

  for (const node of order) {
    ctx.beginNode(node);
    if (node.op === 'NoOp') continue;
    if (node.op === 'Const') {
      ctx.values.set(node.name, constantValue(node.name, weights.get(node.name)!));
      continue;
    }
    if (node.op === 'Placeholder') {
      inputs.push(addPlaceholder(ctx, node));
      continue;
    }
    const dataInputs: Value[] = [];
    for (const ref of node.input ?? []) {
      const { node: source, index } = parseRef(ref);
      if (index < 0) continue;
      const value = ctx.values.get(tensorKey(source, index));
      if (!value) {
        throw new ConversionError('bad-model-json', `node '${node.name}' reads '${ref}', which '${source}' does not produce`, {
          node: node.name,
        });
      }
      dataInputs.push(value);
    }
    const folded = foldConstants(node, dataInputs);
    if (folded) {
      folded.forEach((c, i) => {
        const hint = tensorKey(node.name, i);
        ctx.values.set(hint, constantValue(hint, c));
      });
      continue;
    }
    const args: LowerArgs = {
      node,
      inputs: dataInputs,
      ctx,
      out: (index = 0) => tensorKey(node.name, index),
      define: (value, index = 0) => {
        const key = tensorKey(node.name, index);
        ctx.values.set(key, { ...value, hint: key });
      },
    };
    LOWERINGS[node.op]!(args);
  }

  const rewrites = applyRewrites(ctx, order, options.optimize !== false);

  // graph outputs carry the TF tensor names
  const outputs: TensorSignature[] = [];
  const outputNames: string[] = [];
  for (const ref of outputRefs) {
    const { node, index } = parseRef(ref);
    const key = tensorKey(node, index);
    const value = ctx.values.get(key);
    if (!value) throw new ConversionError('bad-input', `output '${ref}' is not produced by the graph`);
    const name = ctx.name(value);
    if (name !== key) ctx.op('Identity', [name], {}, key);
    outputNames.push(key);
    outputs.push({ name: key, dtype: value.dtype, shape: symbolicShape(key, value.shape) });
  }

  // keep only what the outputs need
  const live = liveNodes(ctx.nodes, outputNames);
  const needed = new Set<string>(outputNames);
  for (const n of live) for (const i of n.inputs) needed.add(i);

  const graph = new GraphBuilder(options.graphName ?? 'tfjs_graph');
  for (const i of inputs) graph.addInput(i.name, i.dtype, i.shape ?? undefined);
  let initializerBytes = 0;
  let initializerCount = 0;
  for (const init of ctx.initializers) {
    if (!needed.has(init.name)) continue;
    graph.addInitializer(init.name, init.dtype, init.dims, init.data);
    initializerBytes += init.data.byteLength;
    initializerCount++;
  }
  const onnxOpCounts: Record<string, number> = {};
  try {
    for (const n of live) {
      graph.addNode(n.opType, n.inputs, n.outputs, n.attributes, { name: n.name });
      onnxOpCounts[n.opType] = (onnxOpCounts[n.opType] ?? 0) + 1;
    }
    for (const o of outputs) graph.addOutput(o.name, o.dtype, o.shape ?? undefined);
  } catch (error) {
    if (error instanceof OnnxFormatError) throw new Error(`internal: the lowered graph is invalid: ${error.message}`);
    throw error;
  }
  const onnx = graph.toBytes({ opsetVersion, irVersion: 8, producerName: '@gla/tfjs-to-onnx', producerVersion: CONVERTER_VERSION });

  const opCounts: Record<string, number> = {};
  for (const n of [...order].sort((a, b) => (a.op < b.op ? -1 : a.op > b.op ? 1 : 0))) opCounts[n.op] = (opCounts[n.op] ?? 0) + 1;
  return {
    onnx,
    report: {
      converterVersion: CONVERTER_VERSION,
      opsetVersion,
      opCounts,
      onnxOpCounts: Object.fromEntries(Object.entries(onnxOpCounts).sort(([a], [b]) => (a < b ? -1 : 1))),
      inputs,
      outputs,
      tfNodeCount: order.length,
      onnxNodeCount: live.length,
      initializerCount,
      initializerBytes,
      unusedNodeCount: nodes.size - order.length,
      rewrites,
    },
  };
}

/** A constant known at conversion time (materialised as an initializer only if read); small int vectors also carry `partial`, for shape arithmetic. */
function constantValue(hint: string, c: ConstTensor): Value {
  return {
    name: '',
    hint,
    dtype: c.dtype,
    shape: [...c.shape],
    constant: c,
    ...(c.dtype === 'int32' && c.shape.length <= 1 && c.data.length <= 64 ? { partial: Array.from(c.data) } : {}),
  };
}

function symbolicShape(name: string, shape: Dim[] | undefined): (number | string)[] | null {
  if (!shape) return null;
  return shape.map((d, i) => (d === null ? `${name}_dim${i}` : d));
}

function addPlaceholder(ctx: LoweringContext, node: TfNodeDef): TensorSignature {
  const type = attrs.type(node, 'dtype');
  const dtype = tfjsDtypeOf(type);
  if (!dtype) {
    throw new ConversionError('dtype-unsupported', `input '${node.name}' has dtype ${tfDtypeName(type)}`, { node: node.name });
  }
  const shapeAttr = node.attr?.shape?.shape;
  let shape: Dim[] | undefined;
  if (shapeAttr && !(shapeAttr.unknownRank || shapeAttr.unknown_rank)) {
    shape = (shapeAttr.dim ?? []).map((d) => {
      const size = Number(d.size ?? -1);
      return size < 0 ? null : size;
    });
  }
  ctx.values.set(node.name, { name: node.name, hint: node.name, dtype, shape });
  return { name: node.name, dtype, shape: symbolicShape(node.name, shape) };
}

function resolveOutputs(model: GraphModelJson, options: ConvertOptions): string[] {
  if (options.outputs && options.outputs.length > 0) return [...options.outputs];
  const signatureOutputs = model.signature?.outputs;
  if (signatureOutputs && Object.keys(signatureOutputs).length > 0) {
    return Object.keys(signatureOutputs).map((key) => signatureOutputs[key]!.name ?? key);
  }
  const consumed = new Set<string>();
  for (const node of model.modelTopology.node) for (const ref of node.input ?? []) consumed.add(parseRef(ref).node);
  const sinks = model.modelTopology.node.filter((n) => !consumed.has(n.name) && n.op !== 'NoOp').map((n) => n.name);
  if (sinks.length === 0) throw new ConversionError('bad-model-json', 'the graph has no output node');
  return sinks;
}

/** Nodes the outputs depend on (data and control edges), inputs before consumers, stable order. */
function topologicalOrder(nodes: Map<string, TfNodeDef>, roots: string[]): TfNodeDef[] {
  const state = new Map<string, 1 | 2>();
  const order: TfNodeDef[] = [];
  for (const root of roots) {
    if (!nodes.has(root)) throw new ConversionError('bad-input', `output node '${root}' does not exist`);
    const stack: Array<{ name: string; next: number }> = [{ name: root, next: 0 }];
    if (state.has(root)) continue;
    state.set(root, 1);
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      const node = nodes.get(top.name)!;
      const refs = node.input ?? [];
      if (top.next < refs.length) {
        const dep = parseRef(refs[top.next++]!).node;
        const s = state.get(dep);
        if (s === 1)
          throw new ConversionError('bad-model-json', `the graph has a cycle through node '${dep}' (control flow is not supported)`);
        if (s === undefined) {
          state.set(dep, 1);
          stack.push({ name: dep, next: 0 });
        }
        continue;
      }
      state.set(top.name, 2);
      order.push(node);
      stack.pop();
    }
  }
  return order;
}

function liveNodes(nodes: IrNode[], outputs: string[]): IrNode[] {
  const needed = new Set(outputs);
  const keep: boolean[] = new Array(nodes.length).fill(false);
  for (let i = nodes.length - 1; i >= 0; i--) {
    const n = nodes[i]!;
    if (n.outputs.some((o) => needed.has(o))) {
      keep[i] = true;
      for (const input of n.inputs) needed.add(input);
    }
  }
  return nodes.filter((_, i) => keep[i]);
}
