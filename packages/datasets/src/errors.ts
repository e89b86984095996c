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

/**
 * The one error type thrown by `@gla/datasets`. `code` is stable and meant for programs;
 * `message` names the file (when there is one) and the problem, and is meant for people.
 */
export class DatasetError extends Error {
  override readonly name = 'DatasetError';
  readonly code: DatasetErrorCode;
  /** The file or folder concerned, when there is one. */
  readonly file: string | undefined;

  constructor(code: DatasetErrorCode, message: string, options: { file?: string; cause?: unknown } = {}) {
    super(options.file !== undefined ? `${options.file}: ${message}` : message, { cause: options.cause });
    this.code = code;
    this.file = options.file;
  }
}

/** True if `error` is a {@link DatasetError}, optionally with the given code. */
export function isDatasetError(error: unknown, code?: DatasetErrorCode): error is DatasetError {
  return error instanceof DatasetError && (code === undefined || error.code === code);
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
