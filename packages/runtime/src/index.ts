/**
 * `@gla/runtime`: the interface every GLA model adapter implements, its error, and tensor helpers
 * for callers. Adapter authors: `@gla/runtime/adapter`; the conformance suite and its fixtures:
 * `@gla/runtime/conformance`.
 */
export { type ErrorOptionsWithDetails, isRuntimeError, RuntimeError, type RuntimeErrorCode } from './errors';
export {
  allocateTensorData,
  cloneTensor,
  createTensor,
  dataMatchesDType,
  formatShape,
  isTensorDType,
  TENSOR_DTYPES,
  tensorSize,
} from './tensor';
export type {
  LoadOptions,
  ModelSession,
  ModelSource,
  Runtime,
  Tensor,
  TensorDataByDType,
  TensorDType,
  TensorInfo,
} from './types';
