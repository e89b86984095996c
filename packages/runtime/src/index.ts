export { describeError, normalizeDim, outputTensor } from './backend';
export { type ErrorOptionsWithDetails, isRuntimeError, RuntimeError, type RuntimeErrorCode } from './errors';
export { assertModelBytes } from './model-bytes';
export {
  allocateTensorData,
  cloneTensor,
  createTensor,
  dataMatchesDType,
  formatShape,
  isTensorDType,
  maxAbsDifference,
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
export { resolveOutputNames, validateFeeds } from './validate';
