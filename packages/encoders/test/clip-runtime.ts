import type { Runtime } from '@gla/runtime';

/** The Node runtime the CLIP tests use. */
export async function createTestRuntime(): Promise<Runtime> {
  const { createNodeRuntime } = (await import('@gla/onnx-node')) as { createNodeRuntime?: () => Runtime };
  if (createNodeRuntime) return createNodeRuntime();
  return createOrtFallback();
}

/** Stop-gap adapter straight over onnxruntime-node while @gla/onnx-node is being written. */
async function createOrtFallback(): Promise<Runtime> {
  const ort = await import('onnxruntime-node');
  const { RuntimeError } = await import('@gla/runtime');
  return {
    name: 'ort-test-fallback',
    async load(source) {
      let session: import('onnxruntime-node').InferenceSession;
      try {
        session =
          typeof source === 'string' || source instanceof URL
            ? await ort.InferenceSession.create(String(source))
            : await ort.InferenceSession.create(source instanceof Uint8Array ? source : new Uint8Array(source));
      } catch (e) {
        throw new RuntimeError('invalid-model', (e as Error).message);
      }
      const meta = (list: readonly string[], m: readonly unknown[]) =>
        list.map((name, i) => {
          const x = m[i] as { type?: string; shape?: (number | string)[] } | undefined;
          return { name, dtype: (x?.type ?? 'float32') as 'float32', shape: x?.shape ?? [] };
        });
      return {
        inputs: meta(session.inputNames, session.inputMetadata as unknown as unknown[]),
        outputs: meta(session.outputNames, session.outputMetadata as unknown as unknown[]),
        executionProvider: 'cpu',
        async run(feeds, names) {
          const f: Record<string, import('onnxruntime-node').Tensor> = {};
          for (const [k, t] of Object.entries(feeds)) f[k] = new ort.Tensor(t.dtype as 'float32', t.data as Float32Array, t.dims);
          const out = names ? await session.run(f, [...names]) : await session.run(f);
          const r: Record<string, { dtype: 'float32'; dims: number[]; data: Float32Array }> = {};
          for (const [k, t] of Object.entries(out)) r[k] = { dtype: t.type as 'float32', dims: [...t.dims], data: t.data as Float32Array };
          return r;
        },
        async release() {
          await session.release();
        },
      };
    },
  };
}
