import { decodeModel } from '@gla/onnx-builder';
import type { LoadOptions, ModelSession, ModelSource, Runtime, Tensor } from '@gla/runtime';
import { RuntimeError } from '@gla/runtime';
import {
  createAdapterSession,
  createWithFallback,
  describeError,
  explainLoadFailure,
  outputTensor,
  resolveSignature,
} from '@gla/runtime/adapter';
import * as ort from 'onnxruntime-web';

/** Execution providers this adapter drives. */
export type WebExecutionProvider = 'webgpu' | 'wasm';

/** Options of `createWebRuntime`. ONNX Runtime Web's wasm settings are global: see `wasmPaths` and `threads`. */
export interface WebRuntimeOptions {
  /**
   * Where onnxruntime-web's `.wasm` (and `.mjs`) files are served: a URL prefix ending in `/`
   * (e.g. `'/ort/'` or `'https://cdn.example/onnxruntime-web@1.30.0/dist/'`; relative prefixes are
   * resolved against the page URL), or per-file URLs `{ wasm, mjs }`.
   *
   * Default: keep ONNX Runtime's own resolution, which looks next to the ORT module
   * (`new URL('ort-wasm-simd-threaded.jsep.wasm', import.meta.url)`): right for bundlers that copy
   * `new URL(…, import.meta.url)` assets (Vite, webpack 5, esbuild with a loader); otherwise copy
   * `node_modules/onnxruntime-web/dist/*.{wasm,mjs}` to your server and pass its prefix here.
   * The value must match the installed onnxruntime-web version. Applied once, before the first
   * model loads (ORT initialises WebAssembly once per page).
   */
  readonly wasmPaths?: string | Readonly<Record<string, string>>;
  /**
   * WebAssembly threads (≥ 1). Used only when `globalThis.crossOriginIsolated` is true (COOP/COEP
   * headers; SharedArrayBuffer); otherwise 1. Default when isolated: min(4, ⌈cores / 2⌉).
   * Applied once, before the first model loads.
   */
  readonly threads?: number;
  /**
   * Providers in order of preference. Default: `['webgpu', 'wasm']` when `navigator.gpu` exists,
   * else `['wasm']`. Each is tried in turn: when WebGPU cannot start (no adapter), `wasm` is used;
   * `ModelSession.executionProvider` says which one runs.
   */
  readonly executionProviders?: readonly WebExecutionProvider[];
  /** Used to download models given as URLs; default `globalThis.fetch`. */
  readonly fetch?: (input: string) => Promise<Response>;
}

interface BrowserGlobals {
  crossOriginIsolated?: boolean;
  navigator?: { gpu?: unknown; hardwareConcurrency?: number };
  location?: { href: string };
  document?: { baseURI?: string };
}
const globals = globalThis as unknown as BrowserGlobals;

/** Absolute form of a possibly relative URL (relative to the page). */
function absoluteUrl(url: string): string {
  const base = globals.document?.baseURI ?? globals.location?.href;
  try {
    return base === undefined ? url : new URL(url, base).href;
  } catch {
    return url;
  }
}

let environmentApplied: string | undefined;

/** Sets ORT's global wasm settings once (they cannot change after the first session). */
function applyEnvironment(options: WebRuntimeOptions): void {
  const key = JSON.stringify({ wasmPaths: options.wasmPaths ?? null, threads: options.threads ?? null });
  if (environmentApplied !== undefined) {
    if (environmentApplied !== key) {
      console.warn(
        `@gla/onnx-web: onnxruntime-web is already initialised with ${environmentApplied}; ignoring ${key} (wasmPaths and threads apply once per page)`,
      );
    }
    return;
  }
  environmentApplied = key;
  if (options.wasmPaths !== undefined) {
    ort.env.wasm.wasmPaths =
      typeof options.wasmPaths === 'string'
        ? absoluteUrl(options.wasmPaths)
        : Object.fromEntries(Object.entries(options.wasmPaths).map(([k, v]) => [k, absoluteUrl(v)]));
  }
  ort.env.wasm.numThreads = resolveThreads(options.threads);
}

/** The number of wasm threads used for `requested` in this context (1 unless cross-origin isolated). */
export function resolveThreads(requested: number | undefined): number {
  if (requested !== undefined && (!Number.isInteger(requested) || requested < 1)) {
    throw new RangeError(`threads must be a positive integer, got ${requested}`);
  }
  if (globals.crossOriginIsolated !== true) return 1;
  if (requested !== undefined) return requested;
  const cores = globals.navigator?.hardwareConcurrency ?? 2;
  return Math.min(4, Math.ceil(cores / 2));
}

/** The default provider order in this context. */
export function defaultExecutionProviders(): WebExecutionProvider[] {
  return globals.navigator?.gpu !== undefined ? ['webgpu', 'wasm'] : ['wasm'];
}

function toOrtTensor(tensor: Tensor): ort.Tensor {
  return new ort.Tensor(tensor.dtype as 'float32', tensor.data as Float32Array, [...tensor.dims]);
}

async function fromOrtTensor(value: unknown, name: string): Promise<Tensor> {
  const t = value as ort.Tensor;
  let data = (t.location === 'cpu' || t.location === undefined ? t.data : await t.getData(true)) as Tensor['data'];
  if (t.type === 'float16' && !(data instanceof Uint16Array)) {
    // Newer ORT builds return Float16Array where available; the contract carries raw bits.
    const view = data as unknown as ArrayBufferView;
    data = new Uint16Array(view.buffer.slice(view.byteOffset, view.byteOffset + view.byteLength));
  }
  return outputTensor(name, t.type, t.dims, data);
}

/**
 * Runs are serialised page-wide: ONNX Runtime Web executes one wasm instance, and overlapping
 * runs (with WebGPU/asyncify in particular) are not safe. Callers may still issue runs concurrently.
 */
let queue: Promise<unknown> = Promise.resolve();
function serialised<T>(job: () => Promise<T>): Promise<T> {
  const next = queue.then(job, job);
  queue = next.catch(() => undefined);
  return next;
}

async function fetchModel(url: string, fetcher: (input: string) => Promise<Response>): Promise<Uint8Array> {
  const absolute = absoluteUrl(url);
  let response: Response;
  try {
    response = await fetcher(absolute);
  } catch (e) {
    throw new RuntimeError('model-not-found', `cannot fetch model ${absolute}: ${describeError(e)}`, { cause: e });
  }
  if (!response.ok) {
    throw new RuntimeError(
      'model-not-found',
      `cannot fetch model ${absolute}: HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ''}`,
    );
  }
  return new Uint8Array(await response.arrayBuffer());
}

/**
 * A `Runtime` over onnxruntime-web (a peer dependency; its browser ESM build). Loads models from a
 * URL (string or `URL`, fetched; relative URLs resolve against the page), a `Uint8Array` or an
 * `ArrayBuffer`.
 *
 * Errors: HTTP errors and unreachable URLs → `'model-not-found'` naming the URL (and status);
 * invalid bytes → `'invalid-model'`; no provider could start → `'unsupported-provider'`; input
 * problems → the codes of `validateFeeds`; failures while running → `'run-failed'` (ORT's error as `cause`).
 *
 * @example
 * const runtime = createWebRuntime({ wasmPaths: '/ort/' });
 * const session = await runtime.load('/models/vision_model.onnx');
 * const { image_embeds } = await session.run({ pixel_values: { dtype: 'float32', dims: [1, 3, 224, 224], data } });
 */
export function createWebRuntime(options: WebRuntimeOptions = {}): Runtime {
  resolveThreads(options.threads); // validate early
  for (const p of options.executionProviders ?? []) {
    if (p !== 'webgpu' && p !== 'wasm') {
      throw new RuntimeError(
        'unsupported-provider',
        `execution provider '${String(p)}' is not supported by @gla/onnx-web; use 'webgpu' or 'wasm'`,
      );
    }
  }
  return {
    name: 'onnxruntime-web',
    async load(source: ModelSource, loadOptions: LoadOptions = {}): Promise<ModelSession> {
      let bytes: Uint8Array;
      let where: string;
      if (typeof source === 'string' || source instanceof URL) {
        const url = typeof source === 'string' ? source : source.href;
        const fetcher = options.fetch ?? ((input: string) => globalThis.fetch(input));
        bytes = await fetchModel(url, fetcher);
        where = absoluteUrl(url);
      } else if (source instanceof Uint8Array || source instanceof ArrayBuffer) {
        bytes = source instanceof Uint8Array ? source : new Uint8Array(source);
        where = `model bytes (${bytes.length} bytes)`;
      } else {
        throw new RuntimeError('model-not-found', `cannot load a model from ${String(source)}: pass a URL, a Uint8Array or an ArrayBuffer`);
      }
      if (bytes.length === 0) throw new RuntimeError('invalid-model', `${where}: the model is empty (0 bytes)`);
      if (loadOptions.threads !== undefined) resolveThreads(loadOptions.threads);
      applyEnvironment({ ...options, ...(loadOptions.threads !== undefined ? { threads: loadOptions.threads } : {}) });
      const providers = (loadOptions.executionProviders ?? options.executionProviders ?? defaultExecutionProviders()) as readonly string[];
      if (providers.length === 0) throw new RuntimeError('unsupported-provider', 'executionProviders is empty');
      for (const p of providers) {
        if (p !== 'webgpu' && p !== 'wasm') {
          throw new RuntimeError(
            'unsupported-provider',
            `execution provider '${p}' is not supported by @gla/onnx-web; use 'webgpu' or 'wasm'`,
          );
        }
      }
      const { session, provider } = await createWithFallback(
        providers,
        // ORT may keep a reference to the buffer: hand it a copy so callers can reuse theirs.
        (p) =>
          serialised(() =>
            ort.InferenceSession.create(bytes.slice(), { executionProviders: [p], graphOptimizationLevel: 'all', logSeverityLevel: 4 }),
          ),
        (failures) =>
          explainLoadFailure({
            where,
            backendName: 'onnxruntime-web',
            failures,
            fallbackProvider: 'wasm',
            modelBytes: () => bytes,
            decode: decodeModel,
            // A wasm failure to fetch/compile the runtime itself is a set-up problem, not the model's.
            isSetupFailure: (e) => /\.wasm|\.mjs|fetch|WebAssembly|no available backend|import/i.test(describeError(e)),
            setupHint: `check that wasmPaths points at onnxruntime-web ${ort.env.versions.web ?? ''} dist files`,
          }),
      );
      try {
        const signature = resolveSignature({
          inputNames: session.inputNames,
          outputNames: session.outputNames,
          inputMetadata: session.inputMetadata as readonly ort.InferenceSession.ValueMetadata[] | undefined,
          outputMetadata: session.outputMetadata as readonly ort.InferenceSession.ValueMetadata[] | undefined,
          where,
          declared: () => decodeModel(bytes).graph,
        });
        return createAdapterSession<ort.Tensor>({
          backend: {
            run: (feeds, fetches) => session.run(feeds, [...fetches]),
            release: () => session.release(),
          },
          backendName: `onnxruntime-web (${provider})`,
          executionProvider: provider,
          where,
          ...signature,
          toBackend: toOrtTensor,
          fromBackend: fromOrtTensor,
          schedule: serialised,
        });
      } catch (e) {
        await serialised(() => session.release());
        throw e;
      }
    },
  };
}
