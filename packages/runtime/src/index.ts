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
