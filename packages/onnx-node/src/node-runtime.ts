import { readFileSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
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
import type * as Ort from 'onnxruntime-node';
import { loadOrt, type OrtModule } from './telemetry';

/** Graph optimisation levels of ONNX Runtime. */
export type GraphOptimizationLevel = 'disabled' | 'basic' | 'extended' | 'all';

/** Options of `createNodeRuntime`; every field can be overridden per `load` call. */
export interface NodeRuntimeOptions {
  /** Intra-op threads (≥ 1); default: ONNX Runtime's choice (the number of physical cores). */
  readonly threads?: number;
  /** Inter-op threads (≥ 1), used by parallel execution; default: ONNX Runtime's choice. */
  readonly interOpThreads?: number;
  /**
   * Execution providers in order of preference, e.g. `['cuda', 'cpu']`; default `['cpu']`.
   * Each is tried in turn and the first that creates the session is used (see
   * `ModelSession.executionProvider`). Names the binding does not know, or a list where no
   * provider works (e.g. `['cuda']` without the CUDA libraries), throw `'unsupported-provider'`.
   */
  readonly executionProviders?: readonly ('cpu' | 'cuda' | (string & {}))[];
  /** Default `'all'`. */
  readonly graphOptimizationLevel?: GraphOptimizationLevel;
  /** ONNX Runtime's log level 0 (verbose) … 4 (fatal); default 4: failures surface as `RuntimeError` instead. */
  readonly logSeverityLevel?: 0 | 1 | 2 | 3 | 4;
}

/** Load options of this adapter: the common ones plus the Node-specific ones. */
export type NodeLoadOptions = LoadOptions & Omit<NodeRuntimeOptions, 'executionProviders'>;

function checkPositiveInteger(value: number | undefined, what: string): void {
  if (value !== undefined && (!Number.isInteger(value) || value < 1)) {
    throw new RangeError(`${what} must be a positive integer, got ${value}`);
  }
}

function toOrtTensor(ort: OrtModule, tensor: Tensor): Ort.Tensor {
  // ORT reads, never writes, input data; dims are copied because ORT wants a mutable array.
  return new ort.Tensor(tensor.dtype as 'float32', tensor.data as Float32Array, [...tensor.dims]);
}

function fromOrtTensor(value: unknown, name: string): Tensor {
  const t = value as Ort.Tensor;
  return outputTensor(name, t.type, t.dims, t.data);
}

/** A file path from a string path or a `file:` URL; other URLs are refused. */
function toFilePath(source: string | URL): string {
  const text = typeof source === 'string' ? source : source.href;
  if (/^file:/i.test(text)) return fileURLToPath(text);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) {
    throw new RuntimeError(
      'model-not-found',
      `${text}: onnxruntime-node loads files; fetch the URL yourself and pass the bytes (no network at run time)`,
    );
  }
  return text;
}

function toBytes(source: Uint8Array | ArrayBuffer): Uint8Array {
  return source instanceof Uint8Array ? source : new Uint8Array(source);
}

/**
 * A `Runtime` over onnxruntime-node (a peer dependency). Loads models from a file path
 * (string or `file:` URL), a `Uint8Array` or an `ArrayBuffer`.
 *
 * Errors: missing or unreadable file → `'model-not-found'` naming the path; bytes that are not a
 * valid ONNX model (not protobuf, truncated, no graph, or rejected by ONNX Runtime) →
 * `'invalid-model'`; no usable execution provider → `'unsupported-provider'`; input problems →
 * the codes of `validateFeeds`; failures while running → `'run-failed'` with the ORT error as `cause`.
 *
 * @example
 * const runtime = createNodeRuntime({ threads: 2 });
 * const session = await runtime.load('models/vision_model.onnx');
 * const { image_embeds } = await session.run({ pixel_values: { dtype: 'float32', dims: [1, 3, 224, 224], data } });
 */
export function createNodeRuntime(options: NodeRuntimeOptions = {}): Runtime & {
  load(source: ModelSource, options?: NodeLoadOptions): Promise<ModelSession>;
} {
  checkPositiveInteger(options.threads, 'threads');
  checkPositiveInteger(options.interOpThreads, 'interOpThreads');
  return {
    name: 'onnxruntime-node',
    async load(source: ModelSource, loadOptions: NodeLoadOptions = {}): Promise<ModelSession> {
      const merged = { ...options, ...loadOptions };
      checkPositiveInteger(merged.threads, 'threads');
      checkPositiveInteger(merged.interOpThreads, 'interOpThreads');
      const providers = [...(loadOptions.executionProviders ?? options.executionProviders ?? ['cpu'])];
      if (providers.length === 0) throw new RuntimeError('unsupported-provider', 'executionProviders is empty');
      let ort: OrtModule;
      try {
        ort = await loadOrt();
      } catch (e) {
        throw new RuntimeError(
          'unsupported-provider',
          `onnxruntime-node could not be loaded (${describeError(e)}); install it next to @gla/onnx-node (it is a peer dependency)`,
          { cause: e },
        );
      }
      const supported = ort.listSupportedBackends().map((b) => b.name);
      for (const p of providers) {
        if (!supported.includes(p)) {
          throw new RuntimeError(
            'unsupported-provider',
            `execution provider '${p}' is not known to onnxruntime-node ${ort.env.versions.node ?? ''}; it supports ${supported.join(', ')}`,
          );
        }
      }

      let model: string | Uint8Array;
      let where: string;
      if (typeof source === 'string' || source instanceof URL) {
        model = toFilePath(source);
        where = model;
        let info: Awaited<ReturnType<typeof stat>>;
        try {
          info = await stat(model);
        } catch (e) {
          throw new RuntimeError('model-not-found', `model file not found: ${model} (${describeError(e)})`, { cause: e });
        }
        if (!info.isFile()) throw new RuntimeError('model-not-found', `model path is not a file: ${model}`);
      } else if (source instanceof Uint8Array || source instanceof ArrayBuffer) {
        model = toBytes(source);
        where = `model bytes (${model.length} bytes)`;
        if (model.length === 0) throw new RuntimeError('invalid-model', 'model bytes: the model is empty (0 bytes)');
      } else {
        throw new RuntimeError(
          'model-not-found',
          `cannot load a model from ${String(source)}: pass a path, a file: URL, a Uint8Array or an ArrayBuffer`,
        );
      }

      const sessionOptions = (provider: string): Ort.InferenceSession.SessionOptions => ({
        executionProviders: [provider],
        graphOptimizationLevel: merged.graphOptimizationLevel ?? 'all',
        logSeverityLevel: merged.logSeverityLevel ?? 4,
        ...(merged.threads !== undefined ? { intraOpNumThreads: merged.threads } : {}),
        ...(merged.interOpThreads !== undefined ? { interOpNumThreads: merged.interOpThreads } : {}),
      });
      const bytesOfModel = () => (typeof model === 'string' ? readFile(model) : model);
      const { session, provider } = await createWithFallback(
        providers,
        (p) =>
          typeof model === 'string'
            ? ort.InferenceSession.create(model, sessionOptions(p))
            : ort.InferenceSession.create(model, sessionOptions(p)),
        (failures) =>
          explainLoadFailure({
            where,
            backendName: 'onnxruntime-node',
            failures,
            fallbackProvider: 'cpu',
            modelBytes: bytesOfModel,
            decode: decodeModel,
          }),
      );
      try {
        const signature = resolveSignature({
          inputNames: session.inputNames,
          outputNames: session.outputNames,
          inputMetadata: session.inputMetadata as readonly Ort.InferenceSession.ValueMetadata[] | undefined,
          outputMetadata: session.outputMetadata as readonly Ort.InferenceSession.ValueMetadata[] | undefined,
          where,
          declared: () => decodeModel(typeof model === 'string' ? readFileSync(model) : model).graph,
        });
        return createAdapterSession<Ort.Tensor>({
          backend: {
            run: (feeds, fetches) => session.run(feeds, [...fetches]),
            release: () => session.release(),
          },
          backendName: 'onnxruntime-node',
          executionProvider: provider,
          where,
          ...signature,
          toBackend: (tensor) => toOrtTensor(ort, tensor),
          fromBackend: fromOrtTensor,
        });
      } catch (e) {
        await session.release();
        throw e;
      }
    },
  };
}
