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

/**
 * The one error type thrown by `@gla/core` for bad input. Switch on `code` (stable), show `message`
 * (names the offending argument, index or shape).
 */
export class GlaError extends Error {
  readonly code: GlaErrorCode;
  constructor(code: GlaErrorCode, message: string) {
    super(message);
    this.name = 'GlaError';
    this.code = code;
  }
}

/** Throws a {@link GlaError} with `code` and `message`. */
export function fail(code: GlaErrorCode, message: string): never {
  throw new GlaError(code, message);
}
