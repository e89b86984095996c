/**
 * @gla/datasets: loaders, .npy/.npz/safetensors I/O, few-shot and long-tail splits, feature cache.
 * Node only (fs, zlib, crypto). Images are decoded by the decoder you pass (`ImageDecoder` of
 * @gla/core, e.g. `decodeImage` from `@gla/encoders/node`); this package bundles none.
 *
 * The public API is this explicit list; everything else in `src/` is internal.
 */
export {
  type AtomicFileData,
  assertReplaceable,
  assertWritableFile,
  assertWritableFolder,
  pendingTemporaryCount,
  removePendingTemporaries,
  removeStaleTemporaries,
  syncFolder,
  TEMPORARY_NAME,
  temporaryPathFor,
  type WriteFileAtomicOptions,
  writeFileAtomic,
  writeFileSetAtomic,
  writeFolderSet,
} from './atomic-write';
export { MAX_IO_CHUNK, writeFully } from './byte-stream';
export {
  CIFAR_IMAGE_BYTES,
  CIFAR10_CLASSES,
  CIFAR100_CLASSES,
  CIFAR100_COARSE_CLASSES,
  type CifarBatch,
  type CifarVariant,
  encodeCifarBinary,
  fromChwPlanes,
  readCifarLabelNames,
  streamCifarBinary,
  toChwPlanes,
} from './cifar';
export {
  type ClassFrequencyRow,
  type ClassGroups,
  classCounts,
  classFrequencies,
  classFrequencyTable,
  headMediumTail,
} from './class-frequency';
export type { Dtype, NdArray, TypedArray } from './dtypes';
export { assertFiniteValues, integerLabels, realValues } from './dtypes';
export { DatasetError, type DatasetErrorCode, type ErrorOptionsWithDetails, isDatasetError } from './errors';
export {
  type CachedEncodeOptions,
  type CachedEncodeProgress,
  cachedEncode,
  type FeatureCache,
  openFeatureCache,
  sha256File,
} from './feature-cache';
export {
  createFeatureDirWriter,
  type FeatureBatch,
  type FeatureDir,
  type FeatureDirMeta,
  type FeatureDirWriter,
  readFeatureDir,
  streamFeatureDir,
  writeFeatureDir,
} from './feature-dir';
export {
  type FortuneCategory,
  type FortuneDatasetOptions,
  listFortuneCategories,
  openFortuneDataset,
  type ParseFortunesOptions,
  parseFortunes,
  readStrfileHeader,
  type StrfileHeader,
  stripOverstrike,
} from './fortunes';
export {
  encodeIdx,
  FASHION_MNIST_CLASSES,
  type IdxBatch,
  type IdxDatasetBatch,
  type IdxHeader,
  MNIST_CLASSES,
  readIdx,
  readIdxHeader,
  streamIdx,
  streamIdxDataset,
} from './idx';
export {
  type ImageBatch,
  type ImageFolderClass,
  type ImageFolderDataset,
  type ImageFolderItem,
  type ImageFolderOptions,
  openImageFolder,
  type SkippedImage,
} from './image-folder';
export { type JsonlOptions, openJsonlDataset } from './jsonl';
export { type LongTailSplitOptions, longTailCounts, longTailSplit } from './long-tail';
export type { Matrix } from './matrix';
export {
  createNpyWriter,
  decodeNpy,
  type EncodeNpyOptions,
  encodeNpy,
  type NdArrayInput,
  type NpyBatch,
  type NpyHeader,
  type NpyReader,
  type NpyRowWriter,
  openNpy,
  readNpy,
  streamNpyRows,
  writeNpy,
} from './npy';
export { type ArchiveLimits, decodeNpz, defaultExpansionLimit, encodeNpz, type NpzReader, openNpz, readNpz, writeNpz } from './npz';
export { createRandom, type Random } from './random';
export {
  decodeSafetensors,
  encodeSafetensors,
  openSafetensors,
  readSafetensors,
  type SafetensorsEntry,
  type SafetensorsReader,
  writeSafetensors,
} from './safetensors';
export { type NestedSplit, type NestedSplitOptions, nestedSplit } from './sampling';
export {
  balancedSample,
  type FewShotSplitOptions,
  fewShotSplit,
  hashLabels,
  indicesByClass,
  loadSplit,
  SPLIT_SCHEMA,
  SPLIT_VERSION,
  type Split,
  saveSplit,
  shuffledByClass,
  splitToJson,
  validateSplit,
} from './splits';
export { collectTexts, decodeText, type TextDataset, type TextEncoding, type TextItem } from './text';
export { openTextFolder, type TextFolderOptions } from './text-folder';
