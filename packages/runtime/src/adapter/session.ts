import { RuntimeError } from '../errors';
import { isTensorDType } from '../tensor';
import type { ModelSession, Tensor, TensorInfo } from '../types';
import { describeError, normalizeDim } from './backend';
import { resolveOutputNames, validateFeeds } from './validate';

/**
 * What a backend reports about one input or output (ONNX Runtime's `ValueMetadata` has this shape):
 * whether it is a tensor, its element type name (e.g. `'float32'`) and its dims (numbers, or
 * names for symbolic dims; negative or `''` for unknown ones).
 */
export interface BackendValueMetadata {
  readonly isTensor: boolean;
  readonly type?: string;
  readonly shape?: readonly (number | string)[];
}

/** An input or output as the model file declares it (e.g. from `decodeModel(bytes).graph` of `@gla/onnx-builder`). */
export interface DeclaredValue {
  readonly name: string;
  readonly dtype?: string;
  readonly shape?: readonly (number | string | null)[];
}

/** The declared inputs and outputs of a model. */
export interface DeclaredSignature {
  readonly inputs: readonly DeclaredValue[];
  readonly outputs: readonly DeclaredValue[];
}

/**
 * The signature of a loaded model, the same way for every adapter:
 * - from the backend's metadata when it has an entry for the value;
 * - when the backend reports no metadata (onnxruntime < 1.21 has no `inputMetadata`), from the
 *   model's own declarations: `declared()` is called at most once, and only then, so a model is
 *   never decoded when the backend describes it;
 * - a value that is not a tensor, has a dtype this interface does not exchange, or is neither
 *   reported nor declared → `RuntimeError('unsupported-dtype')` naming it and the model.
 */
export function resolveSignature(options: {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  readonly inputMetadata?: readonly (BackendValueMetadata | undefined)[] | undefined;
  readonly outputMetadata?: readonly (BackendValueMetadata | undefined)[] | undefined;
  /** Names the model in messages (its path, URL or `model bytes (N bytes)`). */
  readonly where: string;
  readonly declared: () => DeclaredSignature;
}): { inputs: TensorInfo[]; outputs: TensorInfo[] } {
  let declared: DeclaredSignature | undefined;
  const side = (kind: 'input' | 'output', names: readonly string[], metadata: readonly (BackendValueMetadata | undefined)[] | undefined) =>
    names.map((name, i): TensorInfo => {
      const meta = metadata?.[i];
      let type: string | undefined;
      let shape: (number | string | null)[];
      if (meta !== undefined) {
        if (!meta.isTensor) {
          throw new RuntimeError(
            'unsupported-dtype',
            `${options.where}: ${kind} '${name}' is not a tensor; only tensor inputs and outputs are supported`,
          );
        }
        type = meta.type;
        shape = (meta.shape ?? []).map(normalizeDim);
      } else {
        declared ??= options.declared();
        const value = (kind === 'input' ? declared.inputs : declared.outputs).find((v) => v.name === name);
        if (value === undefined) {
          throw new RuntimeError(
            'unsupported-dtype',
            `${options.where}: the runtime reports no metadata for ${kind} '${name}' and the model does not declare it`,
          );
        }
        type = value.dtype;
        shape = (value.shape ?? []).map((d) => (d === null ? null : normalizeDim(d)));
      }
      if (!isTensorDType(type)) {
        throw new RuntimeError(
          'unsupported-dtype',
          `${options.where}: ${kind} '${name}' has dtype ${type ?? 'unknown'}, which this runtime does not exchange`,
        );
      }
      return { name, dtype: type, shape };
    });
  return {
    inputs: side('input', options.inputNames, options.inputMetadata),
    outputs: side('output', options.outputNames, options.outputMetadata),
  };
}

/** A backend's loaded model as the shared session drives it (structural: wrap e.g. ORT's `InferenceSession`). */
export interface BackendSession<B> {
  /** Runs the model on converted feeds and returns the backend's values for `outputNames`. */
  run(feeds: Record<string, B>, outputNames: readonly string[]): Promise<Readonly<Record<string, unknown>>>;
  /** Frees the backend's resources; called once, after every run in flight has settled. */
  release(): Promise<void>;
}

/** What an adapter supplies to `createAdapterSession`. */
export interface AdapterSessionOptions<B> {
  readonly backend: BackendSession<B>;
  /** The backend in messages, e.g. `'onnxruntime-node'` or `'onnxruntime-web (wasm)'`. */
  readonly backendName: string;
  readonly executionProvider: string;
  /** Names the model in messages (its path, URL or `model bytes (N bytes)`). */
  readonly where: string;
  readonly inputs: readonly TensorInfo[];
  readonly outputs: readonly TensorInfo[];
  /** Converts a validated input tensor to the backend's type; must not modify or keep a writable alias of `tensor.data` that the backend writes. */
  toBackend(tensor: Tensor, name: string): B;
  /** Converts one of the backend's output values (e.g. with `outputTensor`). */
  fromBackend(value: unknown, name: string): Tensor | Promise<Tensor>;
  /**
   * Runs every backend call (`run`, `release`); default: directly. An adapter whose backend must
   * not overlap calls passes its queue here (onnx-web serialises calls page-wide).
   */
  readonly schedule?: <R>(job: () => Promise<R>) => Promise<R>;
}

const direct = <R>(job: () => Promise<R>): Promise<R> => job();

/**
 * The one `ModelSession` shell every adapter shares: released check → `validateFeeds` →
 * `resolveOutputNames` → convert inputs → backend run → wrap errors → convert outputs.
 *
 * Release semantics (the same for every adapter): `release()` marks the session released at
 * once, so any later `run` rejects with `RuntimeError('released')`; runs called before it
 * complete normally (with their outputs), and the backend is freed only after they settle, never
 * under a running model. `release()` resolves after that and is idempotent. A backend failure
 * while running → `RuntimeError('run-failed')` naming the model, with the backend's error as `cause`;
 * a missing output in the backend's result → `'run-failed'` naming it.
 */
export function createAdapterSession<B>(options: AdapterSessionOptions<B>): ModelSession {
  const schedule = options.schedule ?? direct;
  const { where, backendName } = options;
  let backend: BackendSession<B> | undefined = options.backend;
  let released: Promise<void> | undefined;
  const inFlight = new Set<Promise<unknown>>();

  async function execute(active: BackendSession<B>, feeds: Readonly<Record<string, Tensor>>, fetches: string[]) {
    const converted: Record<string, B> = {};
    for (const [name, tensor] of Object.entries(feeds)) converted[name] = options.toBackend(tensor, name);
    let results: Readonly<Record<string, unknown>>;
    try {
      results = await schedule(() => active.run(converted, fetches));
    } catch (e) {
      throw new RuntimeError('run-failed', `${where}: ${backendName} failed while running: ${describeError(e)}`, { cause: e });
    }
    const out: Record<string, Tensor> = {};
    for (const name of fetches) {
      const value = results[name];
      if (value === undefined) throw new RuntimeError('run-failed', `${where}: ${backendName} returned no '${name}'`);
      out[name] = await options.fromBackend(value, name);
    }
    return out;
  }

  return {
    inputs: options.inputs,
    outputs: options.outputs,
    executionProvider: options.executionProvider,
    run(feeds, outputNames) {
      const active = backend;
      if (active === undefined) return Promise.reject(new RuntimeError('released', `the session of ${where} was released`));
      let job: Promise<Record<string, Tensor>>;
      try {
        validateFeeds(feeds, options.inputs);
        job = execute(active, feeds, resolveOutputNames(outputNames, options.outputs));
      } catch (e) {
        return Promise.reject(e);
      }
      inFlight.add(job);
      const settle = () => inFlight.delete(job);
      job.then(settle, settle);
      return job;
    },
    release() {
      released ??= (async () => {
        const active = backend;
        backend = undefined;
        await Promise.allSettled([...inFlight]);
        if (active !== undefined) await schedule(() => active.release());
      })();
      return released;
    },
  };
}
