// Runs in headless Chromium: test/browser-ops.ts on @gla/onnx-web (wasm EP), and which ORT wasm
// files the page fetched (SIMD / threaded build).
import { createWebRuntime, resolveThreads } from '@gla/onnx-web';
import { type OpShape, timeOps } from './browser-ops';

export interface BrowserOpsArgs {
  readonly shape: OpShape;
  readonly threads: number;
  readonly warmup: number;
  readonly repeats: number;
  /** onnxruntime-web's wasmPaths (default '/ort/': ORT picks its file). */
  readonly wasmPaths?: string | Record<string, string>;
}

export default async function run(args: BrowserOpsArgs) {
  const runtime = createWebRuntime({ wasmPaths: args.wasmPaths ?? '/ort/', threads: args.threads, executionProviders: ['wasm'] });
  const ops = await timeOps(runtime, args.shape, args.warmup, args.repeats);
  return {
    ops,
    threads: resolveThreads(args.threads),
    isolated: (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true,
    wasmFiles: performance
      .getEntriesByType('resource')
      .map((e) => e.name)
      .filter((n) => /\.wasm$|\.mjs$/.test(n))
      .map((n) => n.slice(n.lastIndexOf('/') + 1)),
  };
}
