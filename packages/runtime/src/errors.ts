/** Stable machine-readable reasons a runtime operation failed. */
export type RuntimeErrorCode =
  | 'invalid-model' // bytes are not an ONNX model, or are truncated
  | 'model-not-found' // path or URL could not be read
  | 'unknown-input' // a feed names an input the model does not have
  | 'missing-input' // a required input was not fed
  | 'unknown-output'
  | 'dtype-mismatch'
  | 'shape-mismatch'
  | 'unsupported-dtype'
  | 'unsupported-provider'
  | 'released' // the session was released
  | 'run-failed' // the backend failed while running
  | 'aborted';

/** The third argument of every error constructor in GLA: an optional `cause` plus structured details. */
export interface ErrorOptionsWithDetails {
  cause?: unknown;
  [detail: string]: unknown;
}

/** The one error class every runtime adapter throws; `code` is stable, the message names the problem. */
export class RuntimeError extends Error {
  override readonly name = 'RuntimeError';
  readonly code: RuntimeErrorCode;
  /** Structured details (file, index, shape, ...) given at the throw site; never includes `cause`. */
  readonly details: Readonly<Record<string, unknown>>;
  constructor(code: RuntimeErrorCode, message: string, options: ErrorOptionsWithDetails = {}) {
    const { cause, ...details } = options;
    super(message, cause === undefined ? undefined : { cause });
    this.code = code;
    this.details = details;
  }
}

/** Marks every RuntimeError of every copy of `@gla/runtime` (ESM and CJS builds, two installed versions). */
const BRAND: unique symbol = Symbol.for('@gla/runtime:RuntimeError');
Object.defineProperty(RuntimeError.prototype, BRAND, { value: true });
// `instanceof RuntimeError` also holds for a RuntimeError of another copy of the package; subclasses keep
// the ordinary prototype-chain check.
Object.defineProperty(RuntimeError, Symbol.hasInstance, {
  value(this: unknown, value: unknown): boolean {
    return this === RuntimeError ? isRuntimeError(value) : Function.prototype[Symbol.hasInstance].call(this, value);
  },
});

/**
 * True if `error` is a {@link RuntimeError} (optionally with the given `code`), including one thrown by
 * another copy of this package, e.g. the CommonJS build next to the ES module build.
 */
export function isRuntimeError(error: unknown, code?: RuntimeErrorCode): error is RuntimeError {
  return (
    typeof error === 'object' &&
    error !== null &&
    (error as { [BRAND]?: unknown })[BRAND] === true &&
    (code === undefined || (error as RuntimeError).code === code)
  );
}
