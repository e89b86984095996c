/** Stable reasons a TF.js graph model could not be converted. */
export type ConversionErrorCode =
  | 'bad-model-json' // model.json is not JSON, or lacks modelTopology/node/weightsManifest structure
  | 'missing-weights' // a Const node has no weight entry, or a shard listed in the manifest is absent
  | 'truncated-weights' // the weight bytes end before the manifest says they should
  | 'dtype-unsupported' // a weight or tensor dtype the converter cannot represent (string, complex64, ...)
  | 'unsupported-op' // one or more op types have no ONNX lowering (all are named at once)
  | 'unsupported-attribute' // a supported op uses an attribute value the lowering does not handle
  | 'dynamic-attribute' // an input that ONNX needs as a constant (axis, perm, ...) is computed at run time
  | 'unknown-rank' // a lowering needs the rank of a tensor that shape inference could not determine
  | 'bad-input' // invalid arguments to a public function
  | 'package-not-found' // ensureConvertedModel could not resolve the model package
  | 'io'; // reading or writing files failed

/** Thrown by every public function of this package; `code` is stable, the message names the culprit. */
export class ConversionError extends Error {
  override readonly name = 'ConversionError';
  readonly code: ConversionErrorCode;
  /** Structured details, e.g. `{ unsupported: [{ op, node }] }` for 'unsupported-op'. */
  readonly details: Readonly<Record<string, unknown>>;
  constructor(code: ConversionErrorCode, message: string, details: Record<string, unknown> = {}) {
    super(message);
    this.code = code;
    this.details = details;
  }
}
