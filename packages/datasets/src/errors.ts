/** Stable machine-readable codes of {@link DatasetError}. */
export type DatasetErrorCode =
  | 'bad-magic'
  | 'truncated'
  | 'header-mismatch'
  | 'unsupported-dtype'
  | 'unsupported-format'
  | 'missing-class-folder'
  | 'empty-class-folder'
  | 'corrupt-image'
  | 'label-out-of-range'
  | 'invalid-split'
  | 'invalid-argument'
  | 'invalid-meta'
  | 'shape-mismatch'
  | 'checksum-mismatch'
  | 'not-found'
  | 'aborted'
  | 'io';

/** The third argument of every error constructor in GLA: an optional `cause` plus structured details. */
export interface ErrorOptionsWithDetails {
  cause?: unknown;
  [detail: string]: unknown;
}

/**
 * The one error type thrown by `@gla/datasets`. `code` is stable and meant for programs;
 * `message` names the file (when there is one) and the problem, and is meant for people.
 */
export class DatasetError extends Error {
  override readonly name = 'DatasetError';
  readonly code: DatasetErrorCode;
  /** The file or folder concerned, when there is one (also in `details.file`). */
  readonly file: string | undefined;
  /** Structured details (file, index, shape, ...) given at the throw site; never includes `cause`. */
  readonly details: Readonly<Record<string, unknown>>;
  constructor(code: DatasetErrorCode, message: string, options: ErrorOptionsWithDetails = {}) {
    const { cause, ...details } = options;
    super(typeof options.file === 'string' ? `${options.file}: ${message}` : message, cause === undefined ? undefined : { cause });
    this.code = code;
    this.details = details;
    this.file = typeof details.file === 'string' ? details.file : undefined;
  }
}

/** Marks every DatasetError of every copy of `@gla/datasets` (ESM and CJS builds, two installed versions). */
const BRAND: unique symbol = Symbol.for('@gla/datasets:DatasetError');
Object.defineProperty(DatasetError.prototype, BRAND, { value: true });
// `instanceof DatasetError` also holds for a DatasetError of another copy of the package; subclasses keep
// the ordinary prototype-chain check.
Object.defineProperty(DatasetError, Symbol.hasInstance, {
  value(this: unknown, value: unknown): boolean {
    return this === DatasetError ? isDatasetError(value) : Function.prototype[Symbol.hasInstance].call(this, value);
  },
});

/**
 * True if `error` is a {@link DatasetError} (optionally with the given `code`), including one thrown by
 * another copy of this package, e.g. the CommonJS build next to the ES module build.
 */
export function isDatasetError(error: unknown, code?: DatasetErrorCode): error is DatasetError {
  return (
    typeof error === 'object' &&
    error !== null &&
    (error as { [BRAND]?: unknown })[BRAND] === true &&
    (code === undefined || (error as DatasetError).code === code)
  );
}

/** Maps a Node fs error to a DatasetError ('not-found' for ENOENT, else 'io'). */
export function fsError(error: unknown, file: string): DatasetError {
  if (error instanceof DatasetError) return error;
  const code = (error as { code?: string } | null)?.code;
  if (code === 'ENOENT') return new DatasetError('not-found', 'no such file or folder', { file, cause: error });
  const message = error instanceof Error ? error.message : String(error);
  return new DatasetError('io', message, { file, cause: error });
}

/** Throws 'aborted' if the signal is aborted. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new DatasetError('aborted', 'operation aborted', { cause: signal.reason });
}
