/** Stable codes of {@link ProtocolError}. */
export type ProtocolErrorCode = 'invalid-settings' | 'invalid-data' | 'interrupted';

/** The error type of @gla/protocols: switch on `code`, show `message`; `cause` keeps the library error behind it. */
export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';
  readonly code: ProtocolErrorCode;
  constructor(code: ProtocolErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
  }
}

/** True for a {@link ProtocolError} (also across bundle copies, by name and code). */
export function isProtocolError(error: unknown): error is ProtocolError {
  return error instanceof ProtocolError || (error instanceof Error && error.name === 'ProtocolError' && 'code' in error);
}
