import { RuntimeError } from '../errors';
import { cloneTensor, formatShape } from '../tensor';
import type { ModelSession, Runtime, Tensor, TensorInfo } from '../types';
import { maxAbsDifference } from './compare';
import type { ConformanceFixtures, ConformanceModel, ConformanceSample } from './fixtures';

/** What each case receives. */
export interface ConformanceContext {
  readonly runtime: Runtime;
  readonly fixtures: ConformanceFixtures;
}

/** One check of the contract. `run` resolves when the runtime conforms and throws a descriptive Error otherwise. */
export interface ConformanceCase {
  readonly name: string;
  /** Whether the case applies to these fixtures (e.g. loading by location needs `affineLocation`); default yes. */
  readonly appliesTo?: (fixtures: ConformanceFixtures) => boolean;
  run(ctx: ConformanceContext): Promise<void>;
}

/** Absolute tolerance for floating-point outputs. */
export const CONFORMANCE_TOLERANCE = 1e-5;

class ConformanceFailure extends Error {
  override readonly name = 'ConformanceFailure';
}

function fail(message: string): never {
  throw new ConformanceFailure(message);
}

function check(condition: boolean, message: () => string): asserts condition {
  if (!condition) fail(message());
}

const json = (value: unknown) => JSON.stringify(value);

function isFloat(dtype: string): boolean {
  return dtype === 'float32' || dtype === 'float64' || dtype === 'float16';
}

/** Compares one output with its expected tensor; `declared` is the output's declared dtype. */
function compareOutput(name: string, actual: Tensor | undefined, expected: Tensor, declared: string, context: string): void {
  check(actual !== undefined, () => `${context}: output '${name}' is missing from the result`);
  check(actual.dtype === declared, () => `${context}: output '${name}' has dtype ${actual.dtype}, the model declares ${declared}`);
  check(
    json(actual.dims) === json(expected.dims),
    () => `${context}: output '${name}' has dims ${formatShape(actual.dims)}, expected ${formatShape(expected.dims)}`,
  );
  check(
    actual.data.length === expected.data.length,
    () => `${context}: output '${name}' has ${actual.data.length} values, expected ${expected.data.length}`,
  );
  if (actual.dtype === 'int64') {
    const a = actual.data as BigInt64Array;
    const e = expected.data as ArrayLike<bigint | number>;
    check(a instanceof BigInt64Array, () => `${context}: int64 output '${name}' is not a BigInt64Array`);
    for (let i = 0; i < a.length; i++) {
      check(BigInt(e[i]!) === a[i], () => `${context}: output '${name}'[${i}] is ${a[i]}, expected ${e[i]}`);
    }
    return;
  }
  const tolerance = isFloat(actual.dtype) ? CONFORMANCE_TOLERANCE : 0;
  const diff = maxAbsDifference(actual.data as ArrayLike<number>, expected.data as ArrayLike<number>);
  check(
    diff <= tolerance,
    () =>
      `${context}: output '${name}' differs from the reference by ${diff} (tolerance ${tolerance}); got [${Array.from(
        actual.data as ArrayLike<number>,
      )
        .slice(0, 6)
        .join(', ')}…], expected [${Array.from(expected.data as ArrayLike<number>)
        .slice(0, 6)
        .join(', ')}…]`,
  );
}

async function runSample(session: ModelSession, model: ConformanceModel, sample: ConformanceSample, context: string) {
  const out = await session.run(sample.feeds);
  const declared = new Map(model.outputs.map((o) => [o.name, o.dtype]));
  for (const [name, expected] of Object.entries(sample.expected)) {
    compareOutput(name, out[name], expected, declared.get(name) ?? expected.dtype, `${context} (${sample.label})`);
  }
  return out;
}

/** Awaits `action` and checks it throws a RuntimeError with `code` whose message mentions every `mentions`. */
async function expectRuntimeError(
  action: () => Promise<unknown>,
  code: RuntimeError['code'],
  mentions: readonly string[],
  what: string,
): Promise<RuntimeError> {
  let error: unknown;
  try {
    await action();
  } catch (e) {
    error = e;
  }
  check(error !== undefined, () => `${what}: expected RuntimeError('${code}'), but it succeeded`);
  const e = error as Partial<RuntimeError>;
  check(
    e instanceof RuntimeError || (e?.name === 'RuntimeError' && typeof e.code === 'string'),
    () => `${what}: expected RuntimeError('${code}'), got ${String((e as Error)?.name)}: ${String((e as Error)?.message)}`,
  );
  check(e.code === code, () => `${what}: expected code '${code}', got '${e.code}' (${e.message})`);
  for (const m of mentions) {
    check(String(e.message).includes(m), () => `${what}: the message should mention '${m}': ${e.message}`);
  }
  return e as RuntimeError;
}

async function withSession<T>(ctx: ConformanceContext, model: ConformanceModel, body: (session: ModelSession) => Promise<T>): Promise<T> {
  const session = await ctx.runtime.load(model.bytes);
  try {
    return await body(session);
  } finally {
    await session.release();
  }
}

function sameSignature(actual: readonly TensorInfo[], expected: readonly TensorInfo[], what: string): void {
  const simplify = (list: readonly TensorInfo[]) => list.map((t) => ({ name: t.name, dtype: t.dtype, shape: [...t.shape] }));
  check(
    json(simplify(actual)) === json(simplify(expected)),
    () => `${what}: got ${json(simplify(actual))}, expected ${json(simplify(expected))}`,
  );
}

function firstInput(model: ConformanceModel): { info: TensorInfo; tensor: Tensor } {
  const info = model.inputs[0]!;
  const tensor = model.samples[0]!.feeds[info.name]!;
  return { info, tensor };
}

function bytesEqual(a: Tensor, b: Tensor): boolean {
  if (a.dtype !== b.dtype || json(a.dims) !== json(b.dims) || a.data.length !== b.data.length) return false;
  for (let i = 0; i < a.data.length; i++) {
    const x = a.data[i];
    const y = b.data[i];
    if (x !== y && !(Number.isNaN(x) && Number.isNaN(y))) return false;
  }
  return true;
}

/** The suite: the one definition of a correct runtime. */
export const conformanceCases: readonly ConformanceCase[] = [
  {
    name: 'loads a model from a Uint8Array',
    async run(ctx) {
      await withSession(ctx, ctx.fixtures.affine, async (s) => {
        check(
          s.inputs.length === ctx.fixtures.affine.inputs.length,
          () => `expected ${ctx.fixtures.affine.inputs.length} inputs, got ${s.inputs.length}`,
        );
        await runSample(s, ctx.fixtures.affine, ctx.fixtures.affine.samples[0]!, 'after loading from a Uint8Array');
      });
    },
  },
  {
    name: 'loads a model from an ArrayBuffer and from a Uint8Array view with an offset',
    async run(ctx) {
      const bytes = ctx.fixtures.affine.bytes;
      const buffer = bytes.slice().buffer;
      const s1 = await ctx.runtime.load(buffer);
      await runSample(s1, ctx.fixtures.affine, ctx.fixtures.affine.samples[0]!, 'after loading from an ArrayBuffer');
      await s1.release();
      const padded = new Uint8Array(bytes.length + 24);
      padded.fill(0xff);
      padded.set(bytes, 16);
      const s2 = await ctx.runtime.load(padded.subarray(16, 16 + bytes.length));
      await runSample(s2, ctx.fixtures.affine, ctx.fixtures.affine.samples[0]!, 'after loading from an offset view');
      await s2.release();
    },
  },
  {
    name: 'loads a model from its location (path or URL)',
    appliesTo: (f) => f.affineLocation !== undefined,
    async run(ctx) {
      const s = await ctx.runtime.load(ctx.fixtures.affineLocation!);
      try {
        sameSignature(s.inputs, ctx.fixtures.affine.inputs, 'inputs of the model loaded by location');
        await runSample(s, ctx.fixtures.affine, ctx.fixtures.affine.samples[0]!, 'after loading by location');
      } finally {
        await s.release();
      }
    },
  },
  {
    name: "a missing location throws 'model-not-found' naming it",
    appliesTo: (f) => f.missingLocation !== undefined,
    async run(ctx) {
      const where = ctx.fixtures.missingLocation!;
      const text = typeof where === 'string' ? where : where.href;
      const shown = text.split('/').pop()!;
      await expectRuntimeError(() => ctx.runtime.load(where), 'model-not-found', [shown], 'loading a missing model');
    },
  },
  {
    name: 'lists inputs and outputs with dtypes and symbolic shapes',
    async run(ctx) {
      for (const key of ['affine', 'dtypes', 'runFailure'] as const) {
        const model = ctx.fixtures[key];
        await withSession(ctx, model, async (s) => {
          sameSignature(s.inputs, model.inputs, `${key} inputs`);
          sameSignature(s.outputs, model.outputs, `${key} outputs`);
          check(
            typeof s.executionProvider === 'string' && s.executionProvider.length > 0,
            () => `executionProvider must be a non-empty string, got ${json(s.executionProvider)}`,
          );
        });
      }
      check(typeof ctx.runtime.name === 'string' && ctx.runtime.name.length > 0, () => 'runtime.name must be a non-empty string');
    },
  },
  {
    name: 'runs with dynamic batch sizes (1 and 5) and matches the reference within 1e-5',
    async run(ctx) {
      const model = ctx.fixtures.affine;
      const batches = model.samples.map((s) => s.feeds[model.inputs[0]!.name]!.dims[0]);
      check(batches.includes(1) && batches.includes(5), () => `the affine fixture must carry batch 1 and 5 samples, has ${json(batches)}`);
      await withSession(ctx, model, async (s) => {
        for (const sample of model.samples) await runSample(s, model, sample, 'affine');
        // and again in reverse order: shapes must not stick from an earlier run
        for (const sample of [...model.samples].reverse()) await runSample(s, model, sample, 'affine (reversed order)');
      });
    },
  },
  {
    name: 'returns only the requested outputs',
    async run(ctx) {
      const model = ctx.fixtures.affine;
      const sample = model.samples[model.samples.length - 1]!;
      await withSession(ctx, model, async (s) => {
        for (const output of model.outputs) {
          const out = await s.run(sample.feeds, [output.name]);
          check(json(Object.keys(out)) === json([output.name]), () => `requested ['${output.name}'], got ${json(Object.keys(out))}`);
          compareOutput(output.name, out[output.name], sample.expected[output.name]!, output.dtype, 'subset of outputs');
        }
        const all = await s.run(sample.feeds);
        check(
          json(Object.keys(all).sort()) === json(model.outputs.map((o) => o.name).sort()),
          () => `without outputNames every output is returned; got ${json(Object.keys(all))}`,
        );
        await expectRuntimeError(
          () => s.run(sample.feeds, ['no_such_output']),
          'unknown-output',
          ['no_such_output'],
          'requesting an unknown output',
        );
      });
    },
  },
  {
    name: 'does not mutate inputs, and results survive later runs',
    async run(ctx) {
      for (const model of [ctx.fixtures.affine, ctx.fixtures.dtypes]) {
        await withSession(ctx, model, async (s) => {
          const sample = model.samples[model.samples.length - 1]!;
          const before = Object.fromEntries(Object.entries(sample.feeds).map(([k, t]) => [k, cloneTensor(t)]));
          const first = await s.run(sample.feeds);
          const firstCopy = Object.fromEntries(Object.entries(first).map(([k, t]) => [k, cloneTensor(t)]));
          for (const [name, tensor] of Object.entries(sample.feeds)) {
            check(bytesEqual(tensor, before[name]!), () => `input '${name}' was modified by run()`);
          }
          await s.run(model.samples[0]!.feeds);
          for (const [name, tensor] of Object.entries(first)) {
            check(bytesEqual(tensor, firstCopy[name]!), () => `output '${name}' of an earlier run changed after a later run`);
          }
        });
      }
    },
  },
  {
    name: 'round-trips int64 (beyond 2^53), int32, bool and float64 exactly',
    async run(ctx) {
      const model = ctx.fixtures.dtypes;
      const dtypes = new Set(model.inputs.map((i) => i.dtype));
      for (const d of ['int64', 'int32', 'bool', 'float64'] as const) {
        check(dtypes.has(d), () => `the dtypes fixture must have a ${d} input`);
      }
      await withSession(ctx, model, async (s) => {
        for (const sample of model.samples) {
          const out = await runSample(s, model, sample, 'dtypes');
          for (const o of model.outputs) {
            if (o.dtype === 'float64') {
              const got = out[o.name]!.data as Float64Array;
              const want = sample.expected[o.name]!.data as Float64Array;
              for (let i = 0; i < want.length; i++) {
                check(Object.is(got[i], want[i]), () => `float64 output '${o.name}'[${i}] is ${got[i]}, expected exactly ${want[i]}`);
              }
            }
          }
        }
      });
    },
  },
  {
    name: "bytes that are not ONNX throw 'invalid-model'",
    async run(ctx) {
      const text = new TextEncoder().encode('{"format": "graph-model", "modelTopology": {}}');
      await expectRuntimeError(() => ctx.runtime.load(text), 'invalid-model', [], 'loading JSON bytes');
      await expectRuntimeError(() => ctx.runtime.load(new Uint8Array(0)), 'invalid-model', [], 'loading 0 bytes');
      const noise = new Uint8Array(256);
      for (let i = 0; i < noise.length; i++) noise[i] = (i * 97 + 13) & 0xff;
      await expectRuntimeError(() => ctx.runtime.load(noise), 'invalid-model', [], 'loading noise');
    },
  },
  {
    name: "truncated model bytes throw 'invalid-model'",
    async run(ctx) {
      const bytes = ctx.fixtures.affine.bytes;
      for (const cut of [bytes.length - 7, Math.floor(bytes.length / 2)]) {
        await expectRuntimeError(
          () => ctx.runtime.load(bytes.subarray(0, cut)),
          'invalid-model',
          [],
          `loading ${cut} of ${bytes.length} bytes`,
        );
      }
    },
  },
  {
    name: "an unknown input throws 'unknown-input' naming it",
    async run(ctx) {
      const model = ctx.fixtures.affine;
      await withSession(ctx, model, async (s) => {
        const feeds = { ...model.samples[0]!.feeds, not_an_input: firstInput(model).tensor };
        await expectRuntimeError(() => s.run(feeds), 'unknown-input', ['not_an_input'], 'feeding an unknown input');
      });
    },
  },
  {
    name: "a missing input throws 'missing-input' naming it",
    async run(ctx) {
      const model = ctx.fixtures.dtypes;
      await withSession(ctx, model, async (s) => {
        const missing = model.inputs[model.inputs.length - 1]!.name;
        const feeds = { ...model.samples[0]!.feeds };
        delete feeds[missing];
        await expectRuntimeError(() => s.run(feeds), 'missing-input', [missing], 'omitting an input');
        await expectRuntimeError(() => s.run({}), 'missing-input', [], 'feeding nothing');
      });
    },
  },
  {
    name: "a dtype mismatch throws 'dtype-mismatch' naming the input and both dtypes",
    async run(ctx) {
      const model = ctx.fixtures.affine;
      await withSession(ctx, model, async (s) => {
        const { info, tensor } = firstInput(model);
        const wrong: Tensor = { dtype: 'float64', dims: tensor.dims, data: Float64Array.from(tensor.data as Float32Array) };
        await expectRuntimeError(
          () => s.run({ ...model.samples[0]!.feeds, [info.name]: wrong }),
          'dtype-mismatch',
          [info.name, 'float64', info.dtype],
          'feeding float64 for float32',
        );
        const lying: Tensor = { dtype: info.dtype, dims: tensor.dims, data: Float64Array.from(tensor.data as Float32Array) } as Tensor;
        await expectRuntimeError(
          () => s.run({ ...model.samples[0]!.feeds, [info.name]: lying }),
          'dtype-mismatch',
          [info.name],
          'feeding a Float64Array labelled float32',
        );
      });
    },
  },
  {
    name: "a wrong rank, fixed dim or data length throws 'shape-mismatch' naming the input and both shapes",
    async run(ctx) {
      const model = ctx.fixtures.affine;
      await withSession(ctx, model, async (s) => {
        const { info, tensor } = firstInput(model);
        const feeds = model.samples[0]!.feeds;
        const rank3: Tensor = { ...tensor, dims: [1, ...tensor.dims] };
        await expectRuntimeError(
          () => s.run({ ...feeds, [info.name]: rank3 }),
          'shape-mismatch',
          [info.name, formatShape(info.shape), formatShape(rank3.dims)],
          'feeding rank 3 for rank 2',
        );
        const fixedAxis = info.shape.findIndex((d) => typeof d === 'number');
        check(fixedAxis >= 0, () => `affine input '${info.name}' should have a fixed dim`);
        const dims = [...tensor.dims];
        const batch = dims[0]!;
        dims[fixedAxis] = (info.shape[fixedAxis] as number) + 1;
        const wide: Tensor = { dtype: 'float32', dims, data: new Float32Array(dims.reduce((a, b) => a * b, 1)) };
        await expectRuntimeError(
          () => s.run({ ...feeds, [info.name]: wide }),
          'shape-mismatch',
          [info.name, formatShape(info.shape), formatShape(dims)],
          `feeding ${formatShape(dims)}`,
        );
        const short: Tensor = { ...tensor, data: (tensor.data as Float32Array).subarray(1) };
        await expectRuntimeError(() => s.run({ ...feeds, [info.name]: short }), 'shape-mismatch', [info.name], 'feeding too little data');
        check(batch >= 1, () => 'batch must be at least 1');
      });
    },
  },
  {
    name: "a backend failure while running throws 'run-failed' and the session stays usable",
    async run(ctx) {
      const model = ctx.fixtures.runFailure;
      await withSession(ctx, model, async (s) => {
        const error = await expectRuntimeError(() => s.run(model.failingFeeds), 'run-failed', [], 'running with incompatible shapes');
        check(error.cause !== undefined, () => "a 'run-failed' error should carry the backend's error as `cause`");
        for (const sample of model.samples) await runSample(s, model, sample, 'after a failed run');
      });
    },
  },
  {
    name: "run after release throws 'released'; release is idempotent",
    async run(ctx) {
      const model = ctx.fixtures.affine;
      const s = await ctx.runtime.load(model.bytes);
      await runSample(s, model, model.samples[0]!, 'before release');
      await s.release();
      await expectRuntimeError(() => s.run(model.samples[0]!.feeds), 'released', [], 'running a released session');
      await s.release();
    },
  },
  {
    name: "release() during runs lets them finish with correct outputs, then runs throw 'released'",
    async run(ctx) {
      const model = ctx.fixtures.affine;
      const s = await ctx.runtime.load(model.bytes);
      const order: string[] = [];
      const samples = [...model.samples, ...model.samples];
      const pending = samples.map((sample, i) =>
        runSample(s, model, sample, `run #${i}, called before release()`).then(
          () => order.push(`run #${i}`),
          (e: unknown) => {
            order.push(`run #${i}`);
            const code = (e as Partial<RuntimeError>)?.code;
            fail(
              `a run called before release() must complete with its outputs, got ${code !== undefined ? `RuntimeError('${code}')` : 'an error'}: ${(e as Error)?.message}`,
            );
          },
        ),
      );
      const released = s.release().then(() => order.push('release'));
      const late = await Promise.allSettled([s.run(model.samples[0]!.feeds)]);
      await Promise.all(pending);
      await released;
      check(
        order[order.length - 1] === 'release',
        () => `release() must resolve after the runs in flight settled; order was ${order.join(', ')}`,
      );
      check(late[0]!.status === 'rejected', () => 'a run called after release() must reject');
      const lateError = (late[0] as PromiseRejectedResult).reason as Partial<RuntimeError>;
      check(
        lateError?.code === 'released',
        () => `a run called after release() must throw 'released', got '${lateError?.code}': ${lateError?.message}`,
      );
      await expectRuntimeError(() => s.run(model.samples[0]!.feeds), 'released', [], 'running after release() resolved');
      await s.release();
    },
  },
  {
    name: "a failing run during release() still throws 'run-failed' (not 'released'), and release() completes",
    async run(ctx) {
      const model = ctx.fixtures.runFailure;
      const s = await ctx.runtime.load(model.bytes);
      const failing = s.run(model.failingFeeds).then(
        () => undefined,
        (e: unknown) => e,
      );
      const released = s.release();
      const error = (await failing) as Partial<RuntimeError> | undefined;
      check(error !== undefined, () => 'the failing run succeeded');
      check(
        error.code === 'run-failed',
        () => `a backend failure of a run called before release() is 'run-failed', got '${error.code}': ${error.message}`,
      );
      await released;
      await expectRuntimeError(() => s.run(model.samples[0]!.feeds), 'released', [], 'running after release()');
    },
  },
  {
    name: 'concurrent runs on one session give correct results',
    async run(ctx) {
      const model = ctx.fixtures.affine;
      await withSession(ctx, model, async (s) => {
        const jobs: Promise<unknown>[] = [];
        for (let i = 0; i < 12; i++) {
          const sample = model.samples[i % model.samples.length]!;
          jobs.push(runSample(s, model, sample, `concurrent run #${i}`));
        }
        await Promise.all(jobs);
      });
      // and concurrent sessions of different models
      await Promise.all([
        withSession(ctx, ctx.fixtures.affine, (s) => runSample(s, ctx.fixtures.affine, ctx.fixtures.affine.samples[0]!, 'parallel affine')),
        withSession(ctx, ctx.fixtures.dtypes, (s) => runSample(s, ctx.fixtures.dtypes, ctx.fixtures.dtypes.samples[0]!, 'parallel dtypes')),
      ]);
    },
  },
];

/** The outcome of one case. */
export interface ConformanceResult {
  readonly name: string;
  readonly ok: boolean;
  /** True when the case does not apply to the given fixtures (then `ok` is true). */
  readonly skipped?: boolean;
  /** The failure message when `ok` is false. */
  readonly error?: string;
  readonly durationMs: number;
}

/**
 * Runs every case (sequentially) against `runtime` and reports each outcome; never throws for a
 * failing case. Usable anywhere: Node, a browser page, a worker.
 */
export async function runConformance(
  runtime: Runtime,
  fixtures: ConformanceFixtures,
  options: { only?: (name: string) => boolean } = {},
): Promise<ConformanceResult[]> {
  const results: ConformanceResult[] = [];
  const now = () => (typeof performance !== 'undefined' ? performance.now() : Date.now());
  for (const c of conformanceCases) {
    if (options.only && !options.only(c.name)) continue;
    const start = now();
    if (c.appliesTo && !c.appliesTo(fixtures)) {
      results.push({ name: c.name, ok: true, skipped: true, durationMs: 0 });
      continue;
    }
    try {
      await c.run({ runtime, fixtures });
      results.push({ name: c.name, ok: true, durationMs: now() - start });
    } catch (e) {
      const message = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
      results.push({ name: c.name, ok: false, error: message, durationMs: now() - start });
    }
  }
  return results;
}
