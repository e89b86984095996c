// The shared adapter shell (@gla/runtime/adapter) against a fake backend: the rules both adapters
// now get from one place (metadata, release during runs, error wrapping, provider fallback).
import { describe, expect, it } from 'vitest';
import {
  type BackendSession,
  createAdapterSession,
  createWithFallback,
  explainLoadFailure,
  outputTensor,
  resolveSignature,
} from '../src/adapter/index';
import { RuntimeError, type Tensor, type TensorInfo } from '../src/index';

async function rejection(promise: Promise<unknown>): Promise<RuntimeError> {
  try {
    await promise;
  } catch (e) {
    expect(e).toBeInstanceOf(RuntimeError);
    return e as RuntimeError;
  }
  throw new Error('expected a rejection');
}

const declaredSignature = {
  inputs: [{ name: 'x', dtype: 'float32', shape: ['batch', 4] }],
  outputs: [{ name: 'y', dtype: 'int64', shape: ['batch'] }],
};

describe('resolveSignature', () => {
  it('uses the backend metadata and never decodes the model when it has them', () => {
    let decoded = 0;
    const sig = resolveSignature({
      inputNames: ['x'],
      outputNames: ['y'],
      inputMetadata: [{ isTensor: true, type: 'float32', shape: ['batch', 4] }],
      outputMetadata: [{ isTensor: true, type: 'float32', shape: [-1, ''] }],
      where: 'm.onnx',
      declared: () => {
        decoded++;
        return declaredSignature;
      },
    });
    expect(decoded).toBe(0);
    expect(sig.inputs).toEqual([{ name: 'x', dtype: 'float32', shape: ['batch', 4] }]);
    expect(sig.outputs).toEqual([{ name: 'y', dtype: 'float32', shape: [null, null] }]);
  });

  it('missing metadata (onnxruntime < 1.21): reads the declarations, decoding once for inputs and outputs', () => {
    let decoded = 0;
    const sig = resolveSignature({
      inputNames: ['x'],
      outputNames: ['y'],
      where: 'm.onnx',
      declared: () => {
        decoded++;
        return declaredSignature;
      },
    });
    expect(decoded).toBe(1);
    expect(sig).toEqual(declaredSignature);
  });

  it('names non-tensors, undeclared values and unsupported dtypes', () => {
    const base = { inputNames: ['x'], outputNames: [], where: 'm.onnx', declared: () => ({ inputs: [], outputs: [] }) };
    const codeAndMessage = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return `${(e as RuntimeError).code}: ${(e as Error).message}`;
      }
      return 'ok';
    };
    expect(codeAndMessage(() => resolveSignature({ ...base, inputMetadata: [{ isTensor: false }] }))).toBe(
      "unsupported-dtype: m.onnx: input 'x' is not a tensor; only tensor inputs and outputs are supported",
    );
    expect(codeAndMessage(() => resolveSignature(base))).toBe(
      "unsupported-dtype: m.onnx: the runtime reports no metadata for input 'x' and the model does not declare it",
    );
    expect(codeAndMessage(() => resolveSignature({ ...base, inputMetadata: [{ isTensor: true, type: 'uint64', shape: [] }] }))).toMatch(
      /^unsupported-dtype: m\.onnx: input 'x' has dtype uint64/,
    );
  });
});

/** A backend whose runs finish when the test says so. */
function fakeBackend() {
  const log: string[] = [];
  const gates: (() => void)[] = [];
  const backend: BackendSession<Float32Array> = {
    async run(feeds, names) {
      log.push(`run ${names.join(',')}`);
      await new Promise<void>((resolve) => gates.push(resolve));
      const x = feeds['x']!;
      if (x.length === 0) throw new Error('kernel failed');
      return { y: { type: 'float32', dims: [x.length], data: x.map((v) => v * 2) } };
    },
    async release() {
      log.push('release');
    },
  };
  return {
    backend,
    log,
    open: () => {
      for (const g of gates.splice(0)) g();
    },
  };
}

const inputs: TensorInfo[] = [{ name: 'x', dtype: 'float32', shape: ['n'] }];
const outputs: TensorInfo[] = [{ name: 'y', dtype: 'float32', shape: ['n'] }];
const x = (n: number): Tensor => ({ dtype: 'float32', dims: [n], data: Float32Array.from({ length: n }, (_, i) => i) });

function session(backend: BackendSession<Float32Array>, schedule?: <R>(job: () => Promise<R>) => Promise<R>) {
  return createAdapterSession<Float32Array>({
    backend,
    backendName: 'fake',
    executionProvider: 'cpu',
    where: 'm.onnx',
    inputs,
    outputs,
    toBackend: (t) => t.data as Float32Array,
    fromBackend: (v, name) => {
      const t = v as { type: string; dims: number[]; data: Float32Array };
      return outputTensor(name, t.type, t.dims, t.data);
    },
    ...(schedule ? { schedule } : {}),
  });
}

describe('createAdapterSession', () => {
  it('release() lets runs in flight finish, frees the backend after them, and refuses later runs', async () => {
    const fake = fakeBackend();
    const s = session(fake.backend);
    const a = s.run({ x: x(3) });
    const b = s.run({ x: x(2) }, ['y']);
    let releaseDone = false;
    const released = s.release().then(() => {
      releaseDone = true;
    });
    expect((await rejection(s.run({ x: x(1) }))).code).toBe('released');
    await new Promise((r) => setTimeout(r, 10));
    expect(fake.log).toEqual(['run y', 'run y']); // not released under running models
    expect(releaseDone).toBe(false);
    fake.open();
    expect(Array.from((await a)['y']!.data as Float32Array)).toEqual([0, 2, 4]);
    expect(Array.from((await b)['y']!.data as Float32Array)).toEqual([0, 2]);
    await released;
    expect(fake.log).toEqual(['run y', 'run y', 'release']);
    await s.release(); // idempotent
    expect(fake.log.filter((l) => l === 'release')).toHaveLength(1);
  });

  it("a backend failure is 'run-failed' with the cause, also while releasing; bad feeds are rejected before the backend", async () => {
    const fake = fakeBackend();
    const s = session(fake.backend);
    const failing = rejection(s.run({ x: x(0) }));
    const released = s.release();
    fake.open();
    const e = await failing;
    expect(e.code).toBe('run-failed');
    expect(e.message).toBe('m.onnx: fake failed while running: kernel failed');
    expect((e.cause as Error).message).toBe('kernel failed');
    await released;
    const fresh = session(fakeBackend().backend);
    expect((await rejection(fresh.run({ x: { dtype: 'float64', dims: [1], data: new Float64Array(1) } }))).code).toBe('dtype-mismatch');
    expect((await rejection(fresh.run({ x: x(1) }, ['z']))).code).toBe('unknown-output');
  });

  it('runs every backend call through the schedule (onnx-web: one page-wide queue)', async () => {
    const fake = fakeBackend();
    const scheduled: number[] = [];
    const s = session(fake.backend, (job) => {
      scheduled.push(scheduled.length);
      return job();
    });
    const r = s.run({ x: x(1) });
    await new Promise((resolve) => setTimeout(resolve, 0));
    fake.open();
    await r;
    await s.release();
    expect(scheduled).toEqual([0, 1]);
  });
});

describe('createWithFallback + explainLoadFailure', () => {
  const decode = (bytes: Uint8Array) => {
    if (bytes[0] !== 0x08) throw Object.assign(new Error('field 0 is invalid'), { code: 'invalid' });
    return {};
  };
  const explain =
    (bytes: Uint8Array, extra: { isSetupFailure?: (e: unknown) => boolean } = {}) =>
    (failures: readonly { provider: string; error: unknown }[]) =>
      explainLoadFailure({
        where: 'm.onnx',
        backendName: 'fake',
        failures,
        fallbackProvider: 'cpu',
        modelBytes: () => bytes,
        decode,
        ...extra,
      });

  it('uses the first provider that works', async () => {
    const tried: string[] = [];
    const { session: s, provider } = await createWithFallback(
      ['cuda', 'cpu'],
      async (p) => {
        tried.push(p);
        if (p === 'cuda') throw new Error('no CUDA');
        return 'session';
      },
      explain(new Uint8Array([8])),
    );
    expect([s, provider, tried]).toEqual(['session', 'cpu', ['cuda', 'cpu']]);
  });

  it('says what failed: no fallback requested, not ONNX, set-up, or the model', async () => {
    const fail = async () => {
      throw new Error('cannot');
    };
    const noFallback = await rejection(createWithFallback(['cuda'], fail, explain(new Uint8Array([8]))));
    expect(noFallback.code).toBe('unsupported-provider');
    expect(noFallback.message).toMatch(/add 'cpu' as a fallback, e\.g\. \['cuda', 'cpu'\]/);
    const notOnnx = await rejection(createWithFallback(['cpu'], fail, explain(new Uint8Array([1, 2]))));
    expect(notOnnx.code).toBe('invalid-model');
    expect(notOnnx.message).toMatch(/m\.onnx: the bytes are not protocol buffers \(2 bytes\)/);
    const setup = await rejection(createWithFallback(['cpu'], fail, explain(new Uint8Array([8]), { isSetupFailure: () => true })));
    expect(setup.code).toBe('unsupported-provider');
    const model = await rejection(createWithFallback(['cpu'], fail, explain(new Uint8Array([8]))));
    expect(model.code).toBe('invalid-model');
    expect(model.message).toBe('m.onnx: fake cannot load the model: cpu: cannot');
    expect((model.cause as Error).message).toBe('cannot');
    expect((await rejection(createWithFallback([], fail, explain(new Uint8Array([8]))))).code).toBe('unsupported-provider');
  });
});
