// The speed rewrites as a list: named, counted generically, and the structural ones fire on a
// model that is not USE lite (while the USE-lite ones leave it alone), without changing outputs.
import { describe, expect, it } from 'vitest';
import { convertGraphModel } from '../src/index';
import { REWRITES } from '../src/rewrites/index';
import { a, buildModel, f32, type GraphSpec, i32, maxScaledDifference, runOnnx } from './helpers';

const values = (n: number, f: (i: number) => number) => Array.from({ length: n }, (_, i) => f(i));
const T = { T: a.T('float32') };
const keep = { ...T, Tidx: a.T('int32'), keep_dims: a.b(true) };
const reshape = { ...T, Tshape: a.T('int32') };

/** x [2, 3, 8] → TF's op-by-op layer norm over the last axis → Tensordot with W [8, 4] → BiasAdd → Relu. */
const spec: GraphSpec = {
  inputs: {
    x: f32(
      [2, 3, 8],
      values(48, (i) => Math.sin(i * 0.7) * 3 + (i % 5)),
    ),
  },
  consts: {
    axis: i32([1], [-1]),
    eps: f32([], [1e-6]),
    gamma: f32(
      [8],
      values(8, (i) => 0.5 + i / 8),
    ),
    beta: f32(
      [8],
      values(8, (i) => i / 10 - 0.3),
    ),
    flat: i32([2], [-1, 8]),
    w: f32(
      [8, 4],
      values(32, (i) => Math.cos(i * 1.3)),
    ),
    grid: i32([3], [2, 3, 4]),
    b: f32([4], [0.1, -0.2, 0.3, -0.4]),
  },
  nodes: [
    { name: 'ln/mean', op: 'Mean', input: ['x', 'axis'], attr: keep },
    { name: 'ln/centred', op: 'Sub', input: ['x', 'ln/mean'], attr: T },
    { name: 'ln/square', op: 'Square', input: ['ln/centred'], attr: T },
    { name: 'ln/variance', op: 'Mean', input: ['ln/square', 'axis'], attr: keep },
    { name: 'ln/plus_eps', op: 'AddV2', input: ['ln/variance', 'eps'], attr: T },
    { name: 'ln/rsqrt', op: 'Rsqrt', input: ['ln/plus_eps'], attr: T },
    { name: 'ln/scale', op: 'Mul', input: ['ln/rsqrt', 'gamma'], attr: T },
    { name: 'ln/scaled', op: 'Mul', input: ['ln/centred', 'ln/scale'], attr: T },
    { name: 'ln/out', op: 'AddV2', input: ['ln/scaled', 'beta'], attr: T },
    { name: 'dense/flat', op: 'Reshape', input: ['ln/out', 'flat'], attr: reshape },
    { name: 'dense/matmul', op: 'MatMul', input: ['dense/flat', 'w'], attr: { ...T, transpose_a: a.b(false), transpose_b: a.b(false) } },
    { name: 'dense/grid', op: 'Reshape', input: ['dense/matmul', 'grid'], attr: reshape },
    { name: 'dense/bias', op: 'BiasAdd', input: ['dense/grid', 'b'], attr: T },
    { name: 'out', op: 'Relu', input: ['dense/bias'], attr: T },
  ],
};

describe('REWRITES', () => {
  it('are uniquely named (kebab-case) and described', () => {
    const names = REWRITES.map((r) => r.name);
    expect(new Set(names).size).toBe(names.length);
    for (const r of REWRITES) {
      expect(r.name).toMatch(/^[a-z]+(-[a-z0-9]+)*$/);
      expect(r.description.length).toBeGreaterThan(10);
    }
  });

  for (const opsetVersion of [17, 18]) {
    it(`fuse a layer norm and a bias chain in a model that is not USE lite, outputs unchanged (opset ${opsetVersion})`, async () => {
      const { modelJson, weightData } = buildModel(spec, false);
      const on = convertGraphModel({ modelJson, weightData, options: { opsetVersion } });
      const off = convertGraphModel({ modelJson, weightData, options: { opsetVersion, optimize: false } });
      expect(on.report.rewrites).toEqual([
        { name: 'pack-attention-projections', count: 0 },
        { name: 'sink-reshapes-below-bias', count: 1 },
        { name: 'pool-before-last-projection', count: 0 },
        { name: 'fuse-layer-norms', count: 1 },
        { name: 'tabulate-timing-signals', count: 0 },
      ]);
      expect(off.report.rewrites.every((r) => r.count === 0)).toBe(true);
      expect(on.report.onnxOpCounts.LayerNormalization).toBe(1);
      expect(on.report.onnxOpCounts.Sqrt).toBeUndefined();
      expect(off.report.onnxOpCounts.LayerNormalization).toBeUndefined();
      const [fast] = await runOnnx(on.onnx, spec.inputs, ['out']);
      const [plain] = await runOnnx(off.onnx, spec.inputs, ['out']);
      expect(fast!.shape).toEqual([2, 3, 4]);
      expect(plain!.shape).toEqual([2, 3, 4]);
      expect(plain!.values.some((v) => v > 0)).toBe(true);
      expect(maxScaledDifference(fast!.values, plain!.values)).toBeLessThanOrEqual(1e-5);
    });
  }
});
