import { PACKED_CONFORMANCE_FIXTURES } from './fixture-data';
import type { ConformanceFixtures } from './fixtures';
import { unpackConformanceFixtures } from './pack';

/**
 * The suite's own fixtures, shipped with this package so that any adapter, in any repository, can
 * run the suite: the `affine`, `dtypes` and `runFailure` models (ONNX bytes, opset 17) with their
 * declared signatures and samples whose expected outputs were computed independently of any
 * runtime (plain Float64 / BigInt loops). Fresh copies on every call. Add `affineLocation` and
 * `missingLocation` (where your runtime can load `affine.bytes` from, and a location that does not
 * exist) to run the two loading-by-location cases too.
 *
 * @example
 * const fixtures = conformanceFixtures();
 * const results = await runConformance(createMyRuntime(), fixtures);
 */
export function conformanceFixtures(): ConformanceFixtures {
  const text = atob(PACKED_CONFORMANCE_FIXTURES);
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return unpackConformanceFixtures(bytes);
}
