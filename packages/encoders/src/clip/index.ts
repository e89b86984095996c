export { type ClipInputNames, type ClipLayout, type ClipOutputNames, KNOWN_CLIP_LAYOUTS } from './layouts';
export { type ClipClassifyOptions, ClipModel, type ClipModelOptions, type ClipModelSources, type ClipRunCounts } from './model';
export {
  CLIP_MEAN,
  CLIP_STD,
  type ClipPreprocessOptions,
  preprocessClipImage,
  preprocessClipImageInto,
  resizeBicubic,
  resizeBicubicWindow,
  shortSideResize,
} from './preprocess';
export { cleanClipText, htmlUnescape } from './text-cleaning';
export {
  bytesToUnicode,
  CLIP_CONTEXT_LENGTH,
  ClipTokenizer,
  type HuggingFaceVocabulary,
  type PadConvention,
  type TokenizedBatch,
  type TokenizeOptions,
} from './tokenizer';
