import type { Tensor, TensorInfo } from '../types';

/** One run of a fixture model: the feeds and the independently computed outputs. */
export interface ConformanceSample {
  /** Short description, used in failure messages (e.g. `'batch 5'`). */
  readonly label: string;
  readonly feeds: Readonly<Record<string, Tensor>>;
  /**
   * Expected value of every output. Floating-point outputs are usually given as float64 tensors
   * (computed in Float64 by a plain-JS reference) and compared with a tolerance of 1e-5;
   * integer and bool outputs are compared exactly (int64 as bigint).
   */
  readonly expected: Readonly<Record<string, Tensor>>;
}

/** A model used by the suite: its bytes, its declared signature and samples with expected outputs. */
export interface ConformanceModel {
  readonly bytes: Uint8Array;
  /** The signature the runtime must report (dtypes and shapes, symbolic dims as their names). */
  readonly inputs: readonly TensorInfo[];
  readonly outputs: readonly TensorInfo[];
  readonly samples: readonly ConformanceSample[];
}

/**
 * Everything the conformance suite needs, carried in so that `@gla/runtime` has no dependency
 * on a model builder. `conformanceFixtures()` returns the suite's own (shipped with this package;
 * generated in the GLA repository from `buildConformanceFixtures()` of `@gla/fixtures/conformance` by `tooling/fixtures/conformance-write.ts`).
 */
export interface ConformanceFixtures {
  /**
   * float32 `x` [batch, 4] with a fixed last dim and two outputs (`y` [batch, 3], `rowSum` [batch]);
   * samples must include batch sizes 1 and 5.
   */
  readonly affine: ConformanceModel;
  /** int64, int32, bool and float64 inputs mapped to outputs of the same dtypes; exact round trip. */
  readonly dtypes: ConformanceModel;
  /**
   * A valid model that fails while running for `failingFeeds`, which pass signature validation
   * (two dynamic 1-D inputs added element-wise, fed incompatible lengths).
   */
  readonly runFailure: ConformanceModel & { readonly failingFeeds: Readonly<Record<string, Tensor>> };
  /**
   * Where the affine model can be loaded from by this runtime (file path, `file:` URL or http URL),
   * to test loading by location. Omitted: that case is skipped.
   */
  readonly affineLocation?: string | URL;
  /** A location that does not exist (path or URL), to test `'model-not-found'`. Omitted: skipped. */
  readonly missingLocation?: string | URL;
}
