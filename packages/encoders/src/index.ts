export { type BatchOptions, type BatchProgress, encodeInBatches } from './batching';
export * from './clip/index';
export { decodeImageInBrowser } from './decode-browser';
export { EncoderError, type EncoderErrorCode, type ErrorOptionsWithDetails, isEncoderError } from './errors';
export { checkImageComplete, detectImageFormat, type ImageDecoder, type ImageFormat, type RawImage, toRgb } from './image';
export {
  checkClassNames,
  checkTemplates,
  DEFAULT_TEMPLATE,
  expandPrompts,
  fillTemplate,
  IMAGENET_TEMPLATES,
  TASK_TEMPLATES,
} from './templates';
export * from './use/index';
export {
  buildZeroShotHead,
  classifyFeatures,
  type LabelScore,
  type TextEmbedder,
  type ZeroShotClassifyOptions,
  type ZeroShotHead,
  ZeroShotHeadCache,
  type ZeroShotHeadOptions,
  type ZeroShotResult,
} from './zero-shot';
