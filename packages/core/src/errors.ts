/**
 * Stable machine-readable codes carried by {@link GlaError}. A code never changes meaning between
 * versions; messages may be reworded.
 */
export type GlaErrorCode =
  | 'shape-mismatch'
  | 'length-mismatch'
  | 'non-finite'
  | 'masked-row'
  | 'label-out-of-range'
  | 'label-not-integer'
  | 'empty-class'
  | 'invalid-temperature'
  | 'empty-input'
  | 'invalid-option'
  | 'invalid-dtype'
  | 'not-identifiable'
  | 'not-converged';

/** The third argument of every error constructor in GLA: an optional `cause` plus structured details. */
export interface ErrorOptionsWithDetails {
  cause?: unknown;
  [detail: string]: unknown;
}

/**
 * The one error type thrown by `@gla/core` for bad input. Switch on `code` (stable), show `message`
 * (names the offending argument, index or shape).
 */
export class GlaError extends Error {
  override readonly name = 'GlaError';
  readonly code: GlaErrorCode;
  /** Structured details (file, index, shape, ...) given at the throw site; never includes `cause`. */
  readonly details: Readonly<Record<string, unknown>>;
  constructor(code: GlaErrorCode, message: string, options: ErrorOptionsWithDetails = {}) {
    const { cause, ...details } = options;
    super(message, cause === undefined ? undefined : { cause });
    this.code = code;
    this.details = details;
  }
}

/** Marks every GlaError of every copy of `@gla/core` (ESM and CJS builds, two installed versions). */
const BRAND: unique symbol = Symbol.for('@gla/core:GlaError');
Object.defineProperty(GlaError.prototype, BRAND, { value: true });
// `instanceof GlaError` also holds for a GlaError of another copy of the package; subclasses keep
// the ordinary prototype-chain check.
Object.defineProperty(GlaError, Symbol.hasInstance, {
  value(this: unknown, value: unknown): boolean {
    return this === GlaError ? isGlaError(value) : Function.prototype[Symbol.hasInstance].call(this, value);
  },
});

/**
 * True if `error` is a {@link GlaError} (optionally with the given `code`), including one thrown by
 * another copy of this package, e.g. the CommonJS build next to the ES module build.
 */
export function isGlaError(error: unknown, code?: GlaErrorCode): error is GlaError {
  return (
    typeof error === 'object' &&
    error !== null &&
    (error as { [BRAND]?: unknown })[BRAND] === true &&
    (code === undefined || (error as GlaError).code === code)
  );
}

/** Throws a {@link GlaError} with `code`, `message` and optional cause/details. */
export function fail(code: GlaErrorCode, message: string, options?: ErrorOptionsWithDetails): never {
  throw new GlaError(code, message, options);
}
