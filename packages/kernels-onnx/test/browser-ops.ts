// Per-op timing of the probe chunk graph's heavy ops, shared by Node (onnx-node) and the Chromium
// page (browser-ops-entry.ts): each op alone in a graph over the same shapes, Float32 and Float64.
// A measurement (scripts/browser-ops-measure.mts), not a test.
import { createRng } from '@gla/core';
import { GraphBuilder } from '@gla/onnx-builder';
import type { Runtime, Tensor } from '@gla/runtime';
import { probePartGraph } from '../src/index';

/** Rows N, features D, classes C of the op graphs. */
export interface OpShape {
  readonly rows: number;
  readonly cols: number;
  readonly classes: number;
}

/** Median wall time (ms) of one op graph, and the GFLOP/s of its GEMM (0 for non-GEMM ops). */
export interface OpTime {
  readonly op: string;
  readonly dtype: 'float32' | 'float64';
  readonly ms: number;
  readonly gflops: number;
  /** Every run's time (ms), warm-up runs first. */
  readonly all: number[];
}

const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/**
 * Times (median of `repeats` after `warmup` runs) in `runtime`: Z = X W^T + b (Gemm transB),
 * G = R^T X (Gemm transA), Softmax(Z), and the whole fused probe graph, in Float32 and Float64.
 */
export async function timeOps(runtime: Runtime, shape: OpShape, warmup: number, repeats: number): Promise<OpTime[]> {
  const { rows: N, cols: D, classes: C } = shape;
  const rng = createRng(5);
  const x32 = Float32Array.from({ length: N * D }, () => rng.normal() / Math.sqrt(D));
  const w64 = Float64Array.from({ length: C * D }, () => 0.1 * rng.normal());
  const r64 = Float64Array.from({ length: N * C }, () => rng.next() / N);
  const out: OpTime[] = [];
  for (const dtype of ['float32', 'float64'] as const) {
    const make = (a: Float64Array | Float32Array) => (dtype === 'float32' ? Float32Array.from(a) : Float64Array.from(a));
    const X = make(x32);
    const W = make(w64);
    const R = make(r64);
    const b = make(new Float64Array(C));
    const t = (dims: number[], data: Float32Array | Float64Array): Tensor => ({ dtype, dims, data }) as Tensor;
    const cases: [string, (g: GraphBuilder) => void, Record<string, Tensor>, number][] = [
      [
        'Gemm Z = X W^T + b',
        (g) => {
          g.addInput('X', dtype, [N, D]);
          g.addInput('W', dtype, [C, D]);
          g.addInput('b', dtype, [C]);
          g.addNode('Gemm', ['X', 'W', 'b'], ['Y'], { transB: 1 });
        },
        { X: t([N, D], X), W: t([C, D], W), b: t([C], b) },
        2 * N * D * C,
      ],
      [
        'Gemm G = R^T X',
        (g) => {
          g.addInput('R', dtype, [N, C]);
          g.addInput('X', dtype, [N, D]);
          g.addNode('Gemm', ['R', 'X'], ['Y'], { transA: 1 });
        },
        { R: t([N, C], R), X: t([N, D], X) },
        2 * N * D * C,
      ],
      [
        'Softmax(Z)',
        (g) => {
          g.addInput('R', dtype, [N, C]);
          g.addNode('Softmax', ['R'], ['Y'], { axis: 1 });
        },
        { R: t([N, C], R) },
        0,
      ],
      [
        'ReduceMax(Z, axis 1)',
        (g) => {
          g.addInput('R', dtype, [N, C]);
          g.addNode('ReduceMax', ['R'], ['Y'], { axes: [1], keepdims: 1 });
        },
        { R: t([N, C], R) },
        0,
      ],
      [
        'Mul(P, w N x 1)',
        (g) => {
          g.addInput('R', dtype, [N, C]);
          g.addInput('w', dtype, [N, 1]);
          g.addNode('Mul', ['R', 'w'], ['Y']);
        },
        { R: t([N, C], R), w: t([N, 1], make(new Float64Array(N).fill(1 / N))) },
        0,
      ],
      [
        'ReduceSum(R, axis 0)',
        (g) => {
          g.addInput('R', dtype, [N, C]);
          g.addInitializer('ax', 'int64', [1], BigInt64Array.of(0n));
          g.addNode('ReduceSum', ['R', 'ax'], ['Y'], { keepdims: 0 });
        },
        { R: t([N, C], R) },
        0,
      ],
      [
        'Slice+Cast(X) f32',
        (g) => {
          g.addInitializer('X', 'float32', [N, D], x32);
          g.addInitializer('s', 'int64', [1], BigInt64Array.of(0n));
          g.addInitializer('e', 'int64', [1], BigInt64Array.of(BigInt(N)));
          g.addInitializer('ax', 'int64', [1], BigInt64Array.of(0n));
          g.addInput('b', dtype, [C]);
          g.addNode('Slice', ['X', 's', 'e', 'ax'], ['Xs']);
          if (dtype === 'float64') g.addNode('Cast', ['Xs'], ['Y0'], { to: 11 });
          g.addNode('Identity', [dtype === 'float64' ? 'Y0' : 'Xs'], ['Y']);
        },
        { b: t([C], b) },
        0,
      ],
    ];
    for (const [op, build, feeds, flops] of cases) {
      const g = new GraphBuilder(`op-${dtype}`);
      build(g);
      g.addOutput('Y', dtype);
      const session = await runtime.load(g.toBytes());
      const all: number[] = [];
      for (let r = 0; r < warmup + repeats; r++) {
        const start = performance.now();
        await session.run(feeds);
        all.push(performance.now() - start);
      }
      await session.release();
      const ms = median(all.slice(warmup));
      out.push({ op, dtype, ms, gflops: flops / (ms * 1e6), all });
    }
    // The whole fused probe graph over all N rows (one chunk), as kernels-onnx builds it.
    const w = dtype === 'float32' ? new Float32Array(N).fill(1 / N) : new Float64Array(N).fill(1 / N);
    const session = await runtime.load(probePartGraph(x32, N, D, C, w, dtype));
    const feeds: Record<string, Tensor> = {
      W: t([C, D], W),
      b: t([C], b),
      start: { dtype: 'int64', dims: [1], data: BigInt64Array.of(0n) },
      end: { dtype: 'int64', dims: [1], data: BigInt64Array.of(BigInt(N)) },
    };
    const all: number[] = [];
    for (let r = 0; r < warmup + repeats; r++) {
      const start = performance.now();
      await session.run(feeds);
      all.push(performance.now() - start);
    }
    await session.release();
    const ms = median(all.slice(warmup));
    out.push({ op: 'fused probe graph', dtype, ms, gflops: (4 * N * D * C) / (ms * 1e6), all });
  }
  return out;
}
