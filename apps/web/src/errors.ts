/** Stable codes of the app's own errors (shown on the page with the message). */
export type AppErrorCode =
  | 'no-text-column'
  | 'empty-file'
  | 'bad-json'
  | 'bad-feature-dir'
  | 'missing-file'
  | 'label-not-in-classes'
  | 'shape-mismatch'
  | 'bad-option'
  | 'bad-results'
  | 'model-unavailable';

/** An error the page shows as a message; nothing already computed is changed when it is thrown. */
export class AppError extends Error {
  override readonly name = 'AppError';
  readonly code: AppErrorCode;
  constructor(code: AppErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}

/** The text shown for any error (library errors carry their own `code`). */
export function describeError(error: unknown): string {
  if (error instanceof AppError) return error.message;
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return typeof code === 'string' && !error.message.includes(`[${code}]`) ? `${error.message} [${code}]` : error.message;
  }
  return String(error);
}
