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
export { RuntimeError, type RuntimeErrorCode } from './errors';
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
export { resolveOutputNames, validateFeeds } from './validate';
export { assertModelBytes } from './model-bytes';
export { describeError, normalizeDim, outputTensor } from './backend';
