/**
 * The file-system-free part of the API (`@gla/tfjs-to-onnx/browser`): convert model.json +
 * weight bytes held in memory. Safe to bundle for browsers.
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
export { CONVERTER_VERSION } from './version';
