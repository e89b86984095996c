/**
 * `@gla/tfjs-to-onnx`: convert a TF.js graph model (model.json + weight bytes held in memory) to
 * ONNX. Universal: no Node built-ins, safe to bundle for browsers. The Node helpers that read
 * model directories and cache converted files are in `@gla/tfjs-to-onnx/node`.
 */

export {
  type ConversionReport,
  type ConversionResult,
  type ConvertInput,
  type ConvertOptions,
  convertGraphModel,
  findUnsupportedOps,
  SUPPORTED_OPS,
  type TensorSignature,
} from './convert';
export { ConversionError, type ConversionErrorCode, type ErrorOptionsWithDetails, isConversionError } from './errors';
export type { GraphModelJson, TfNodeDef, WeightEntry, WeightsGroup } from './model-json';
export type { RewriteCount } from './rewrites/index';
export { CONVERTER_VERSION } from './version';
