/** Stable reasons a TF.js graph model could not be converted. */
export type ConversionErrorCode =
  | 'bad-model-json' // model.json is not JSON, or lacks modelTopology/node/weightsManifest structure
  | 'missing-weights' // a Const node has no weight entry, or a shard listed in the manifest is absent
  | 'truncated-weights' // the weight bytes end before the manifest says they should
  | 'dtype-unsupported' // a weight or tensor dtype the converter cannot represent (string, complex64, ...)
  | 'unsupported-op' // one or more op types have no ONNX lowering (all are named at once)
  | 'unsupported-attribute' // a supported op uses an attribute value the lowering does not handle
  | 'dynamic-attribute' // an input that ONNX needs as a constant (axis, perm, ...) is computed at run time
  | 'unknown-rank' // a lowering needs the rank of a tensor that shape inference could not determine
  | 'bad-input' // invalid arguments to a public function
  | 'package-not-found' // ensureConvertedModel could not resolve the model package
  | 'io'; // reading or writing files failed

/** The third argument of every error constructor in GLA: an optional `cause` plus structured details. */
export interface ErrorOptionsWithDetails {
  cause?: unknown;
  [detail: string]: unknown;
}

/**
 * Thrown by every public function of this package; `code` is stable, the message names the culprit.
 * `details` holds structured data, e.g. `{ unsupported: [{ op, node }] }` for 'unsupported-op'.
 */
export class ConversionError extends Error {
  override readonly name = 'ConversionError';
  readonly code: ConversionErrorCode;
  /** Structured details (file, index, shape, ...) given at the throw site; never includes `cause`. */
  readonly details: Readonly<Record<string, unknown>>;
  constructor(code: ConversionErrorCode, message: string, options: ErrorOptionsWithDetails = {}) {
    const { cause, ...details } = options;
    super(message, cause === undefined ? undefined : { cause });
    this.code = code;
    this.details = details;
  }
}

/** Marks every ConversionError of every copy of `@gla/tfjs-to-onnx` (ESM and CJS builds, two installed versions). */
const BRAND: unique symbol = Symbol.for('@gla/tfjs-to-onnx:ConversionError');
Object.defineProperty(ConversionError.prototype, BRAND, { value: true });
// `instanceof ConversionError` also holds for a ConversionError of another copy of the package; subclasses keep
// the ordinary prototype-chain check.
Object.defineProperty(ConversionError, Symbol.hasInstance, {
  value(this: unknown, value: unknown): boolean {
    return this === ConversionError ? isConversionError(value) : Function.prototype[Symbol.hasInstance].call(this, value);
  },
});

/**
 * True if `error` is a {@link ConversionError} (optionally with the given `code`), including one thrown by
 * another copy of this package, e.g. the CommonJS build next to the ES module build.
 */
export function isConversionError(error: unknown, code?: ConversionErrorCode): error is ConversionError {
  return (
    typeof error === 'object' &&
    error !== null &&
    (error as { [BRAND]?: unknown })[BRAND] === true &&
    (code === undefined || (error as ConversionError).code === code)
  );
}
