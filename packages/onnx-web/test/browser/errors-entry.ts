// Runs in the page: adapter-specific behaviour beyond the conformance suite.
import { createWebRuntime, defaultExecutionProviders, resolveThreads } from '../../src/index';

async function codeOf(action: () => Promise<unknown> | unknown): Promise<{ code: string; message: string }> {
  try {
    await action();
    return { code: 'ok', message: '' };
  } catch (e) {
    const err = e as { code?: string; name?: string; message?: string };
    return { code: err.code ?? err.name ?? 'unknown', message: String(err.message) };
  }
}

export default async function run(args: { wasmPaths: string }) {
  const runtime = createWebRuntime({ wasmPaths: args.wasmPaths, executionProviders: ['wasm'] });
  const notFound = await codeOf(() => runtime.load('/models/missing.onnx'));
  const serverError = await codeOf(() => runtime.load('/models/teapot.onnx'));
  const badProvider = await codeOf(() => createWebRuntime({ executionProviders: ['cuda' as 'wasm'] }));
  const badThreads = await codeOf(() => createWebRuntime({ threads: 0 }));
  const bytes = new Uint8Array(await (await fetch('/models/affine.onnx')).arrayBuffer());
  const load = await codeOf(async () => {
    const s = await runtime.load(bytes.buffer);
    await s.release();
  });
  return {
    notFound,
    serverError,
    badProvider,
    badThreads,
    load,
    defaults: defaultExecutionProviders(),
    threadsWhenNotIsolated: resolveThreads(8),
  };
}
