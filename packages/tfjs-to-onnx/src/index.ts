export { type ConversionErrorCode, ConversionError } from './errors';
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
export type { GraphModelJson, TfNodeDef, WeightEntry, WeightsGroup } from './model-json';
export { CONVERTER_VERSION } from './version';
export {
  type ConvertedModel,
  convertGraphModelFromDir,
  defaultCacheDir,
  type EnsureConvertedModelOptions,
  ensureConvertedModel,
  resolveModelPackageDir,
  USE_LITE_PACKAGE,
} from './node';
