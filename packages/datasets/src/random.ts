/**
 * The seeded generator of @gla/datasets is the project's one PRNG, @gla/core's `createRng`
 * (xoshiro128** seeded through splitmix32): re-exported here under the names this package has
 * always used, so saved splits and their golden tests are unchanged.
 */
import { createRng, type Rng } from '@gla/core';

/** The generator type (= @gla/core `Rng`). */
export type Random = Rng;

/** Creates a seeded generator (= @gla/core `createRng`); extra `streams` derive independent sub-streams. */
export const createRandom: (seed: number | string, ...streams: number[]) => Random = createRng;
