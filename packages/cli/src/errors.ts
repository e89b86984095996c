/** Stable codes for command-line failures; the exit status is 2 for usage errors, 1 otherwise. */
export type CliErrorCode = 'usage' | 'unknown-command' | 'unknown-option' | 'missing-option' | 'bad-value' | 'io' | 'data' | 'interrupted';

/** An error the CLI reports as one line (`gla: message`) without a stack trace. */
export class CliError extends Error {
  override readonly name = 'CliError';
  readonly code: CliErrorCode;
  /** Structured details (file, option, ...) given at the throw site; never includes `cause`. */
  readonly details: Readonly<Record<string, unknown>>;
  constructor(code: CliErrorCode, message: string, options: { cause?: unknown; [detail: string]: unknown } = {}) {
    const { cause, ...details } = options;
    super(message, cause === undefined ? undefined : { cause });
    this.code = code;
    this.details = details;
  }
  get exitCode(): number {
    if (this.code === 'interrupted') return 130;
    return this.code === 'usage' ||
      this.code === 'unknown-command' ||
      this.code === 'unknown-option' ||
      this.code === 'missing-option' ||
      this.code === 'bad-value'
      ? 2
      : 1;
  }
}
