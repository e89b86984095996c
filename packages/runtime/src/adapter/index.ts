/**
 * `@gla/runtime/adapter`: what adapter authors share, so that every adapter behaves the same.
 * Structurally typed: nothing here imports a backend (ONNX Runtime or other).
 *
 * - `createAdapterSession`: the `ModelSession` shell (released check, feed validation, output
 *   names, conversion, backend run, error wrapping, release after in-flight runs);
 * - `resolveSignature`: inputs/outputs from backend metadata (the model's declarations only when
 *   the backend reports none);
 * - `createWithFallback` + `explainLoadFailure`: the execution-provider loop and the error when no
 *   provider could load the model (the model is decoded only then, to say why);
 * - the helpers they use: `validateFeeds`, `resolveOutputNames`, `outputTensor`, `normalizeDim`,
 *   `describeError`, `assertModelBytes`.
 */
export { describeError, normalizeDim, outputTensor } from './backend';
export { assertModelBytes } from './model-bytes';
export { createWithFallback, explainLoadFailure, type LoadFailure, type ProviderFailure } from './providers';
export {
  type AdapterSessionOptions,
  type BackendSession,
  type BackendValueMetadata,
  createAdapterSession,
  type DeclaredSignature,
  type DeclaredValue,
  resolveSignature,
} from './session';
export { resolveOutputNames, validateFeeds } from './validate';
