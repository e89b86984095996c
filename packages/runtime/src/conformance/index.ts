/**
 * `@gla/runtime/conformance`: one definition of a correct runtime, for every adapter, runnable
 * in Node (e.g. one vitest `it` per case) and in a browser page (`runConformance`).
 */

export { conformanceFixtures } from './builtin';
export {
  CONFORMANCE_TOLERANCE,
  type ConformanceCase,
  type ConformanceContext,
  type ConformanceResult,
  conformanceCases,
  runConformance,
} from './cases';
export { maxAbsDifference } from './compare';
export type { ConformanceFixtures, ConformanceModel, ConformanceSample } from './fixtures';
export { packConformanceFixtures, unpackConformanceFixtures } from './pack';
