/** Element types a runtime can exchange with a model. */
export type TensorDType = 'float32' | 'float64' | 'float16' | 'int8' | 'uint8' | 'int16' | 'int32' | 'int64' | 'bool' | 'string';

/** Typed-array storage for each dtype (float16 is carried as raw Uint16 bits). */
export interface TensorDataByDType {
  float32: Float32Array;
  float64: Float64Array;
  float16: Uint16Array;
  int8: Int8Array;
  uint8: Uint8Array;
  int16: Int16Array;
  int32: Int32Array;
  int64: BigInt64Array;
  bool: Uint8Array;
  string: string[];
}

/** A dense, row-major tensor. `data.length` equals the product of `dims`. */
export interface Tensor<D extends TensorDType = TensorDType> {
  readonly dtype: D;
  readonly dims: readonly number[];
  readonly data: TensorDataByDType[D];
}

/**
 * Declared input or output of a loaded model. A dimension is a number when fixed,
 * a string when symbolic (e.g. `"batch_size"`), or `null` when unknown.
 */
export interface TensorInfo {
  readonly name: string;
  readonly dtype: TensorDType;
  readonly shape: readonly (number | string | null)[];
}

/** Where a model comes from: its bytes, a file path (Node) or a URL (browser). */
export type ModelSource = Uint8Array | ArrayBuffer | string | URL;

/** Options every adapter understands; adapters may accept more. */
export interface LoadOptions {
  /** Intra-op threads; adapters choose a sensible default when omitted. */
  readonly threads?: number;
  /** Execution providers in order of preference, e.g. `['webgpu', 'wasm']`. */
  readonly executionProviders?: readonly string[];
}

/** A model loaded by a runtime, ready to run. */
export interface ModelSession {
  readonly inputs: readonly TensorInfo[];
  readonly outputs: readonly TensorInfo[];
  /** The execution provider actually in use (e.g. 'cpu', 'wasm', 'webgpu'). */
  readonly executionProvider: string;
  /**
   * Runs the model on named input tensors and returns the requested outputs
   * (all outputs when `outputNames` is omitted). Inputs are not mutated.
   */
  run(feeds: Readonly<Record<string, Tensor>>, outputNames?: readonly string[]): Promise<Record<string, Tensor>>;
  /** Frees native resources. Further calls to `run` throw `RuntimeError('released')`. */
  release(): Promise<void>;
}

/** What an adapter implements: one way of loading and running models. */
export interface Runtime {
  /** A short identifier, e.g. `'onnxruntime-node'`. */
  readonly name: string;
  load(source: ModelSource, options?: LoadOptions): Promise<ModelSession>;
}
