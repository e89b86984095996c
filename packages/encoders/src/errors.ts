/**
 * Stable machine-readable reasons an encoder operation failed. A code never changes meaning
 * between versions; messages may be reworded. Aborted encodes throw `RuntimeError('aborted')`
 * from `@gla/runtime` (the code every batched job in this package uses).
 */
export type EncoderErrorCode =
  | 'invalid-vocabulary' // tokenizer files unreadable or inconsistent
  | 'text-too-long' // more tokens than the context and truncation disabled
  | 'invalid-model' // model bytes are not ONNX, or are truncated
  | 'unknown-layout' // model inputs/outputs match no known export layout
  | 'invalid-image' // bytes are not a decodable image (unknown format or truncated)
  | 'unsupported-image' // a recognised format this decoder cannot handle
  | 'decoder-unavailable' // no image decoder on this platform (e.g. sharp missing in Node)
  | 'empty-labels' // zero-shot head asked for no classes
  | 'invalid-template' // a prompt template without `{}`
  | 'invalid-input' // any other malformed argument (shape, type, option)
  | 'shape-mismatch'; // model output has an unexpected shape

/** The third argument of every error constructor in GLA: an optional `cause` plus structured details. */
export interface ErrorOptionsWithDetails {
  cause?: unknown;
  [detail: string]: unknown;
}

/** The error type thrown by `@gla/encoders` for bad input; switch on `code`, show `message`. */
export class EncoderError extends Error {
  override readonly name = 'EncoderError';
  readonly code: EncoderErrorCode;
  /** Structured details (file, index, shape, ...) given at the throw site; never includes `cause`. */
  readonly details: Readonly<Record<string, unknown>>;
  constructor(code: EncoderErrorCode, message: string, options: ErrorOptionsWithDetails = {}) {
    const { cause, ...details } = options;
    super(message, cause === undefined ? undefined : { cause });
    this.code = code;
    this.details = details;
  }
}

/** Marks every EncoderError of every copy of `@gla/encoders` (ESM and CJS builds, two installed versions). */
const BRAND: unique symbol = Symbol.for('@gla/encoders:EncoderError');
Object.defineProperty(EncoderError.prototype, BRAND, { value: true });
// `instanceof EncoderError` also holds for a EncoderError of another copy of the package; subclasses keep
// the ordinary prototype-chain check.
Object.defineProperty(EncoderError, Symbol.hasInstance, {
  value(this: unknown, value: unknown): boolean {
    return this === EncoderError ? isEncoderError(value) : Function.prototype[Symbol.hasInstance].call(this, value);
  },
});

/**
 * True if `error` is a {@link EncoderError} (optionally with the given `code`), including one thrown by
 * another copy of this package, e.g. the CommonJS build next to the ES module build.
 */
export function isEncoderError(error: unknown, code?: EncoderErrorCode): error is EncoderError {
  return (
    typeof error === 'object' &&
    error !== null &&
    (error as { [BRAND]?: unknown })[BRAND] === true &&
    (code === undefined || (error as EncoderError).code === code)
  );
}
