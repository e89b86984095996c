/** Stable reasons an ONNX model could not be built or read. */
export type OnnxFormatErrorCode =
  | 'truncated' // the bytes end inside a field
  | 'invalid' // the bytes are not a protocol-buffers message
  | 'not-onnx' // a valid message, but not an ONNX model
  | 'invalid-graph'; // a graph that refers to values nobody produces, duplicate names, bad shapes

/** Thrown by the builder and the reader; `code` is stable, the message names the problem. */
export class OnnxFormatError extends Error {
  override readonly name = 'OnnxFormatError';
  readonly code: OnnxFormatErrorCode;
  constructor(code: OnnxFormatErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}
