// Runs in headless Chromium: which float64 ONNX ops of the probe graphs onnxruntime-web's wasm EP
// runs, then trainLinearProbeAsync on @gla/kernels-onnx over @gla/onnx-web (timed, repeated).
import { type LinearProbe, trainLinearProbe, trainLinearProbeAsync } from '@gla/core';
import { GraphBuilder } from '@gla/onnx-builder';
import { createWebRuntime, resolveThreads } from '@gla/onnx-web';
import type { Runtime, Tensor } from '@gla/runtime';
import { type PhaseTime, PROBE_OPTIONS, type ProbeShape, probeProblem, timedProbeRuns } from './browser-problem';

/** One op of the probe / head graphs, alone in a float64 graph: ok, or the error ORT gave. */
export interface OpSupport {
  readonly op: string;
  readonly ok: boolean;
  readonly error?: string;
}

type Build = (g: GraphBuilder) => void;

/** Single-node float64 graphs over inputs A (2 x 3) and B (2 x 3): every op the probe chunk graph and the head graph use. */
const OP_GRAPHS: readonly [string, Build][] = [
  [
    'Gemm(transB, bias)',
    (g) => {
      g.addInput('bias', 'float64', [2]);
      g.addNode('Gemm', ['A', 'B', 'bias'], ['Y'], { transB: 1 });
    },
  ],
  ['Gemm(transA)', (g) => g.addNode('Gemm', ['A', 'B'], ['Y'], { transA: 1 })],
  ['ReduceMax(axes attr)', (g) => g.addNode('ReduceMax', ['A'], ['Y'], { axes: [1], keepdims: 1 })],
  [
    'ReduceSum(axes input)',
    (g) => {
      g.addInitializer('ax', 'int64', [1], BigInt64Array.of(1n));
      g.addNode('ReduceSum', ['A', 'ax'], ['Y'], { keepdims: 1 });
    },
  ],
  ['ReduceSum(all)', (g) => g.addNode('ReduceSum', ['A'], ['Y'], { keepdims: 0 })],
  ['Sub', (g) => g.addNode('Sub', ['A', 'B'], ['Y'])],
  ['Add', (g) => g.addNode('Add', ['A', 'B'], ['Y'])],
  ['Mul', (g) => g.addNode('Mul', ['A', 'B'], ['Y'])],
  ['Div', (g) => g.addNode('Div', ['A', 'B'], ['Y'])],
  ['Exp', (g) => g.addNode('Exp', ['A'], ['Y'])],
  ['Log', (g) => g.addNode('Log', ['B'], ['Y'])],
  [
    'Cast(float32 -> float64)',
    (g) => {
      g.addInput('F', 'float32', [2, 3]);
      g.addNode('Add', ['F', 'F'], ['F2']);
      g.addNode('Cast', ['F2'], ['C64'], { to: 11 });
      g.addNode('Add', ['C64', 'A'], ['Y']);
    },
  ],
];

async function opSupport(runtime: Runtime): Promise<OpSupport[]> {
  const A: Tensor = { dtype: 'float64', dims: [2, 3], data: Float64Array.of(1, 2, 3, 4, 5, 6) };
  const B: Tensor = { dtype: 'float64', dims: [2, 3], data: Float64Array.of(0.5, 1, 1.5, 2, 2.5, 3) };
  const extra: Record<string, Tensor> = {
    bias: { dtype: 'float64', dims: [2], data: Float64Array.of(1, -1) },
    F: { dtype: 'float32', dims: [2, 3], data: Float32Array.of(1, 1, 1, 1, 1, 1) },
  };
  const out: OpSupport[] = [];
  for (const [op, build] of OP_GRAPHS) {
    const g = new GraphBuilder(`f64-${op}`);
    g.addInput('A', 'float64', [2, 3]);
    g.addInput('B', 'float64', [2, 3]);
    build(g);
    g.addOutput('Y', 'float64');
    try {
      const session = await runtime.load(g.toBytes());
      try {
        const feeds: Record<string, Tensor> = { A, B };
        for (const { name } of session.inputs) if (extra[name]) feeds[name] = extra[name]!;
        const y = (await session.run(feeds)).Y!;
        if (!(y.data instanceof Float64Array)) throw new Error(`output is ${y.dtype}, not float64`);
        out.push({ op, ok: true });
      } finally {
        await session.release();
      }
    } catch (error) {
      out.push({ op, ok: false, error: (error as Error).message });
    }
  }
  return out;
}

/** FNV-1a over the bytes of the features: the page and Node must train on identical data. */
function checksum(data: Float32Array): number {
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  let h = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ bytes[i]!, 0x01000193) >>> 0;
  return h;
}

export interface BrowserProbeArgs {
  readonly shape: ProbeShape;
  /** Untimed trainLinearProbeAsync runs first (the first one also starts onnxruntime-web's wasm). */
  readonly warmup: number;
  /** Timed trainLinearProbeAsync runs (the result of the last one is returned). */
  readonly repeats: number;
  /** Also time the synchronous probe on @gla/kernels-wasm's wasm-simd backend (this many runs). */
  readonly wasmSyncRepeats?: number;
  /** Requested wasm threads (used only when the page is cross-origin isolated). */
  readonly threads: number;
  /** Also run the float64 op-support probe. */
  readonly probeOps: boolean;
  /** onnxruntime-web's wasmPaths (default '/ort/', where ORT picks the build of its bundle). */
  readonly wasmPaths?: string | Readonly<Record<string, string>>;
}

/** What browser-probe-entry.ts returns, after the harness's JSON conversion. */
export interface BrowserProbeResult {
  ops: OpSupport[];
  times: number[];
  warmupTimes: number[];
  phases: Record<'float32' | 'float64', PhaseTime>;
  loads: PhaseTime;
  wasmSync?: { times: number[]; objective: number; backend: string };
  /** The same runs through trainLinearProbeAsync on wasm-simd's fused probeSession. */
  wasmFused?: { times: number[]; objective: number; backend: string };
  checksum: number;
  backend: string;
  objective: number;
  gradientNorm: number;
  iterations: number;
  converged: boolean;
  W: number[];
  b: number[];
  threads: number;
  isolated: boolean;
  /** The onnxruntime-web .wasm / .mjs files the page fetched. */
  ortFiles: string[];
}

export default async function run(args: BrowserProbeArgs) {
  const runtime = createWebRuntime({ wasmPaths: args.wasmPaths ?? '/ort/', threads: args.threads, executionProviders: ['wasm'] });
  const ops = args.probeOps ? await opSupport(runtime) : [];
  const { times, warmupTimes, phases, loads, probe } = await timedProbeRuns(runtime, args.shape, args.warmup, args.repeats);
  const { features, labels } = probeProblem(args.shape);
  const wasmSync: { times: number[]; objective: number; backend: string }[] = [];
  if ((args.wasmSyncRepeats ?? 0) > 0) {
    const { wasmKernels, wasmUnavailableReason } = await import('@gla/kernels-wasm');
    if (!wasmKernels) throw new Error(`wasm-simd unavailable: ${wasmUnavailableReason()}`);
    const ts: number[] = [];
    let sync: LinearProbe | undefined;
    for (let r = 0; r < args.wasmSyncRepeats!; r++) {
      const start = performance.now();
      sync = trainLinearProbe(features, labels, { ...PROBE_OPTIONS, backend: 'wasm-simd' });
      ts.push(performance.now() - start);
    }
    wasmSync.push({ times: ts, objective: sync!.objective, backend: sync!.backend });
    const tf: number[] = [];
    let fused: LinearProbe | undefined;
    for (let r = 0; r < args.wasmSyncRepeats!; r++) {
      const start = performance.now();
      fused = await trainLinearProbeAsync(features, labels, { ...PROBE_OPTIONS, backend: 'wasm-simd' });
      tf.push(performance.now() - start);
    }
    wasmSync.push({ times: tf, objective: fused!.objective, backend: fused!.backend });
  }
  return {
    ops,
    times,
    warmupTimes,
    phases,
    loads,
    wasmSync: wasmSync[0],
    wasmFused: wasmSync[1],
    checksum: checksum(features.data),
    backend: probe.backend,
    objective: probe.objective,
    gradientNorm: probe.gradientNorm,
    iterations: probe.iterations,
    converged: probe.converged,
    W: probe.head.weights.data,
    b: probe.head.bias,
    threads: resolveThreads(args.threads),
    isolated: (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true,
    userAgent: navigator.userAgent,
    ortFiles: performance
      .getEntriesByType('resource')
      .map((e) => e.name.slice(e.name.lastIndexOf('/') + 1))
      .filter((n) => /^ort-wasm.*\.(wasm|mjs)$/.test(n)),
  };
}
