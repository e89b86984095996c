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

/** The one error class every runtime adapter throws; `code` is stable, the message names the problem. */
export class RuntimeError extends Error {
  override readonly name = 'RuntimeError';
  readonly code: RuntimeErrorCode;
  constructor(code: RuntimeErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}
