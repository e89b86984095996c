/**
 * @gla/core: Generalized Logit Adjustment on typed arrays (no run-time dependencies, no Node APIs).
 * Matrices are row-major `{ data, rows, cols }`; logits are N x C; every entry point validates its
 * input and throws {@link GlaError} with a stable `code`.
 */

export {
  type CrossFitOptions,
  type CrossFittedProbe,
  classScaledTolerance,
  crossFitLinearProbe,
  crossFitLinearProbeAsync,
  crossFittedDebiasedLogits,
  selectWiseAlpha,
  selectWiseAlphaFromLogits,
} from './cross-fit';
export { debias, type GlaLogitsInput, glaLogits, logitAdjust, outputEnsemble } from './debias';
export {
  calibrateTemperatureWithOffset,
  combineLogits,
  ENSEMBLE_SIGNIFICANCE_Z,
  type EnsembleWeightChoice,
  type EnsembleWeightSelection,
  type EnsembleWeights,
  fitEnsembleWeights,
  selectEnsembleWeights,
} from './ensemble-weights';
export { type ErrorOptionsWithDetails, GlaError, type GlaErrorCode, isGlaError } from './errors';
export { type FoldRows, foldRows, takeLabels } from './folds';
export { applyHead, applyHeadAsync, cosineLogits, interpolateHeads, type LinearHead, l2Normalize, zeroShotHead } from './heads';
export { type ImageDecoder, type RawImage, rawImageProblem, toRgb } from './image';
export { type KernelConformanceCase, kernelConformanceCases } from './kernel-conformance';
export {
  type BackendChoice,
  type EnsembleNll,
  type EnsembleNllOptions,
  getKernelBackend,
  KERNEL_NAMES,
  type KernelArray,
  type KernelBackend,
  type KernelName,
  kernelBackends,
  type ProbePrecision,
  type ProbeSession,
  type ProbeSessionProblem,
  registerKernels,
  resolveKernel,
  unregisterKernels,
} from './kernels';
export { referenceKernels } from './kernels-reference';
export { type Evaluation, type LbfgsHistory, type LbfgsOptions, type LbfgsResult, lbfgs, minimizeLbfgs } from './lbfgs';
export {
  type CenteredProbeOptions,
  type LinearProbe,
  type LinearProbeOptions,
  PROBE_FLOAT32_TOLERANCE,
  type SelectL2Options,
  selectL2,
  trainCenteredLinearProbe,
  trainCenteredLinearProbeAsync,
  trainLinearProbe,
  trainLinearProbeAsync,
} from './linear-probe';
export { type Labels, type Matrix, type MatrixData, matrix } from './matrix';
export {
  accuracy,
  argmaxRows,
  balancedAccuracy,
  type ClassGroups,
  classGroups,
  confusionMatrix,
  expectedCalibrationError,
  type GroupAccuracy,
  groupAccuracy,
  negativeLogLikelihood,
  perClassAccuracy,
  type ReliabilityBin,
  reliabilityBins,
} from './metrics';
export {
  type EstimatePriorChunkedOptions,
  type EstimatePriorOptions,
  estimatePrior,
  estimatePriorChunked,
  estimatePriorChunkedAsync,
  type PriorEstimate,
  type PriorSource,
  type RegularizationSelection,
  type SelectRegularizationOptions,
  selectRegularization,
  takeRows,
} from './prior';
export { type EstimatePriorEigenOptions, estimatePriorEigen } from './prior-eigen';
export { type EMAcceleration, type EstimatePriorEMOptions, estimatePriorEM } from './prior-em';
export {
  emptyPriorStatistics,
  mergePriorStatistics,
  type PriorChunk,
  type PriorSolverName,
  type PriorStatistics,
  type PriorStatisticsLevel,
  priorStatistics,
} from './prior-solver';
export { createRng, hashString32, type Rng, stratifiedFolds } from './random';
export { logSoftmax, logSumExp, type SoftmaxOptions, softmax } from './softmax';
export {
  mean,
  type PairedDifference,
  pairedDifference,
  pairedZStatistic,
  rowNegativeLogLikelihood,
  sampleStd,
  studentTCdf,
  studentTQuantile,
} from './statistics';
export { type CalibrateTemperatureOptions, calibrateTemperature, type TemperatureMethod } from './temperature';
