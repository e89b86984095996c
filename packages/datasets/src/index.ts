/**
 * @gla/datasets: loaders, .npy/.npz/safetensors I/O, few-shot and long-tail splits, feature cache.
 * Node only (fs, zlib, crypto).
 */
export * from './atomic-write';
export * from './cifar';
export * from './class-frequency';
export * from './dtypes';
export { DatasetError, type DatasetErrorCode, isDatasetError } from './errors';
export * from './feature-cache';
export * from './feature-dir';
export * from './fortunes';
export * from './idx';
export * from './image-decode';
export * from './image-folder';
export * from './jsonl';
export * from './long-tail';
export type { Matrix } from './matrix';
export * from './npy';
export * from './npz';
export * from './random';
export * from './safetensors';
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
export * from './text';
export * from './text-folder';
