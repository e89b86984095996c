/**
 * Version of the conversion rules. Part of the cache key of `ensureConvertedModel`: bump it
 * whenever a lowering changes the bytes it produces.
 */
export const CONVERTER_VERSION = '0.4.0';

/**
 * Version of the `ConversionReport` shape (2: per-rewrite counts in `rewrites`). Part of the cache
 * key too, so a cached sidecar never serves a report of an older shape when only the report
 * changed and the ONNX bytes (and `CONVERTER_VERSION`) did not.
 */
export const REPORT_FORMAT = 2;
