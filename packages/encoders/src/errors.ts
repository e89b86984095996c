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

/** The error type thrown by `@gla/encoders` for bad input; switch on `code`, show `message`. */
export class EncoderError extends Error {
  override readonly name = 'EncoderError';
  readonly code: EncoderErrorCode;
  constructor(code: EncoderErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}
