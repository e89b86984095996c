/** Everything in `./browser` (conversion from bytes in memory), plus the Node helpers that read files and cache. */
export * from './browser';
export {
  type ConvertedModel,
  convertGraphModelFromDir,
  defaultCacheDir,
  type EnsureConvertedModelOptions,
  ensureConvertedModel,
  resolveModelPackageDir,
  USE_LITE_PACKAGE,
} from './node';
