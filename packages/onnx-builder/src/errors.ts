/** Stable reasons an ONNX model could not be built or read. */
export type OnnxFormatErrorCode =
  | 'truncated' // the bytes end inside a field
  | 'invalid' // the bytes are not a protocol-buffers message
  | 'not-onnx' // a valid message, but not an ONNX model
  | 'invalid-graph'; // a graph that refers to values nobody produces, duplicate names, bad shapes

/** The third argument of every error constructor in GLA: an optional `cause` plus structured details. */
export interface ErrorOptionsWithDetails {
  cause?: unknown;
  [detail: string]: unknown;
}

/** Thrown by the builder and the reader; `code` is stable, the message names the problem. */
export class OnnxFormatError extends Error {
  override readonly name = 'OnnxFormatError';
  readonly code: OnnxFormatErrorCode;
  /** Structured details (file, index, shape, ...) given at the throw site; never includes `cause`. */
  readonly details: Readonly<Record<string, unknown>>;
  constructor(code: OnnxFormatErrorCode, message: string, options: ErrorOptionsWithDetails = {}) {
    const { cause, ...details } = options;
    super(message, cause === undefined ? undefined : { cause });
    this.code = code;
    this.details = details;
  }
}

/** Marks every OnnxFormatError of every copy of `@gla/onnx-builder` (ESM and CJS builds, two installed versions). */
const BRAND: unique symbol = Symbol.for('@gla/onnx-builder:OnnxFormatError');
Object.defineProperty(OnnxFormatError.prototype, BRAND, { value: true });
// `instanceof OnnxFormatError` also holds for a OnnxFormatError of another copy of the package; subclasses keep
// the ordinary prototype-chain check.
Object.defineProperty(OnnxFormatError, Symbol.hasInstance, {
  value(this: unknown, value: unknown): boolean {
    return this === OnnxFormatError ? isOnnxFormatError(value) : Function.prototype[Symbol.hasInstance].call(this, value);
  },
});

/**
 * True if `error` is a {@link OnnxFormatError} (optionally with the given `code`), including one thrown by
 * another copy of this package, e.g. the CommonJS build next to the ES module build.
 */
export function isOnnxFormatError(error: unknown, code?: OnnxFormatErrorCode): error is OnnxFormatError {
  return (
    typeof error === 'object' &&
    error !== null &&
    (error as { [BRAND]?: unknown })[BRAND] === true &&
    (code === undefined || (error as OnnxFormatError).code === code)
  );
}
