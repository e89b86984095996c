/**
 * Version of the conversion rules. Part of the cache key of `ensureConvertedModel`: bump it
 * whenever a lowering changes the bytes it produces.
 */
export const CONVERTER_VERSION = '0.4.0';
