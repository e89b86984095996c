import * as ort from 'onnxruntime-node';

/** A tensor given as plain numbers (bool as 0/1). */
export interface PlainTensor {
  dtype: 'float32' | 'int32' | 'bool';
  shape: number[];
  values: number[];
}

export const f32 = (shape: number[], values: number[]): PlainTensor => ({ dtype: 'float32', shape, values });
export const i32 = (shape: number[], values: number[]): PlainTensor => ({ dtype: 'int32', shape, values });
export const bool = (shape: number[], values: number[]): PlainTensor => ({ dtype: 'bool', shape, values });

const DT = { float32: 1, int32: 3, bool: 10 } as const;

/** Attribute helpers in the JSON form the TF.js converter writes. */
export const a = {
  T: (dtype: keyof typeof DT) => ({ type: DT[dtype] }),
  i: (v: number) => ({ i: String(v) }),
  f: (v: number) => ({ f: v }),
  b: (v: boolean) => ({ b: v }),
  s: (v: string) => ({ s: btoa(v) }),
  ints: (v: number[]) => ({ list: { i: v.map(String) } }),
  strings: (v: string[]) => ({ list: { s: v.map((x) => btoa(x)) } }),
};

export interface NodeSpec {
  name: string;
  op: string;
  input?: string[];
  attr?: Record<string, unknown>;
}

export interface GraphSpec {
  /** Placeholders with the values fed in the test. */
  inputs: Record<string, PlainTensor>;
  /** Const nodes (stored as weights). */
  consts?: Record<string, PlainTensor>;
  nodes: NodeSpec[];
}

function typed(t: PlainTensor): Float32Array | Int32Array | Uint8Array {
  if (t.dtype === 'float32') return Float32Array.from(t.values);
  if (t.dtype === 'int32') return Int32Array.from(t.values);
  return Uint8Array.from(t.values, (v) => (v ? 1 : 0));
}

/** model.json + weight bytes for a graph spec; `dynamic` declares every placeholder dim as -1. */
export function buildModel(spec: GraphSpec, dynamic: boolean) {
  const nodes: Record<string, unknown>[] = [];
  const weights: { name: string; shape: number[]; dtype: string }[] = [];
  const buffers: Uint8Array[] = [];
  for (const [name, t] of Object.entries(spec.inputs)) {
    nodes.push({
      name,
      op: 'Placeholder',
      attr: {
        dtype: a.T(t.dtype),
        shape: { shape: { dim: t.shape.map((d) => ({ size: String(dynamic ? -1 : d) })) } },
      },
    });
  }
  for (const [name, t] of Object.entries(spec.consts ?? {})) {
    nodes.push({ name, op: 'Const', attr: { dtype: a.T(t.dtype), value: {} } });
    weights.push({ name, shape: t.shape, dtype: t.dtype });
    const data = typed(t);
    buffers.push(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  }
  for (const n of spec.nodes) nodes.push({ name: n.name, op: n.op, input: n.input ?? [], attr: n.attr ?? {} });
  const total = buffers.reduce((s, b) => s + b.byteLength, 0);
  const weightData = new Uint8Array(total);
  let offset = 0;
  for (const b of buffers) {
    weightData.set(b, offset);
    offset += b.byteLength;
  }
  const modelJson = {
    format: 'graph-model',
    generatedBy: 'test',
    convertedBy: 'test',
    modelTopology: { node: nodes, library: {}, versions: {} },
    weightsManifest: [{ paths: ['group1-shard1of1.bin'], weights }],
  };
  return { modelJson, weightData, weights };
}

export interface RunResult {
  dtype: string;
  shape: number[];
  values: number[];
}

/** Run ONNX bytes on onnxruntime-node with the spec's inputs. */
export async function runOnnx(onnx: Uint8Array, inputs: Record<string, PlainTensor>, outputs: string[]): Promise<RunResult[]> {
  const session = await ort.InferenceSession.create(onnx, { intraOpNumThreads: 1, graphOptimizationLevel: 'all' });
  const feeds: Record<string, ort.Tensor> = {};
  for (const [name, t] of Object.entries(inputs)) {
    feeds[name] =
      t.dtype === 'bool'
        ? new ort.Tensor('bool', Uint8Array.from(t.values), t.shape)
        : new ort.Tensor(t.dtype, typed(t) as Float32Array, t.shape);
  }
  const result = await session.run(feeds);
  await session.release();
  return outputs.map((name) => {
    const r = result[name];
    if (!r) throw new Error(`ONNX output ${name} missing`);
    return { dtype: r.type, shape: [...r.dims].map(Number), values: Array.from(r.data as ArrayLike<number>, Number) };
  });
}

/** Largest |x - y| scaled by max(1, |y|) (relative for large magnitudes). */
export function maxScaledDifference(x: number[], y: number[]): number {
  let worst = 0;
  for (let i = 0; i < x.length; i++) {
    const xi = x[i]!;
    const yi = y[i]!;
    if (Number.isNaN(xi) && Number.isNaN(yi)) continue;
    if (xi === yi) continue;
    worst = Math.max(worst, Math.abs(xi - yi) / Math.max(1, Math.abs(yi)));
  }
  return worst;
}

/**
 * Agreement of two row-major embedding matrices over their first `rows` rows of `cols` values:
 * the largest absolute difference and the smallest per-row cosine similarity.
 */
export function rowAgreement(
  x: ArrayLike<number>,
  y: ArrayLike<number>,
  rows: number,
  cols: number,
): { maxAbs: number; minCosine: number } {
  let maxAbs = 0;
  let minCosine = 1;
  for (let r = 0; r < rows; r++) {
    let dot = 0;
    let nx = 0;
    let ny = 0;
    for (let k = r * cols; k < (r + 1) * cols; k++) {
      const a = x[k]!;
      const b = y[k]!;
      maxAbs = Math.max(maxAbs, Math.abs(a - b));
      dot += a * b;
      nx += a * a;
      ny += b * b;
    }
    minCosine = Math.min(minCosine, dot / Math.sqrt(nx * ny));
  }
  return { maxAbs, minCosine };
}
