export {
  type DecodedModel,
  type DecodedNode,
  type DecodedTensor,
  type DecodedValueInfo,
  decodeModel,
  initializerTensor,
} from './decode';
export { dtypeFromCode, ONNX_DTYPE_CODES, ONNX_DTYPE_SIZES, type OnnxDType, type OnnxTensorData } from './dtypes';
export { type ErrorOptionsWithDetails, isOnnxFormatError, OnnxFormatError, type OnnxFormatErrorCode } from './errors';
export {
  type AttributeInput,
  type AttributeValue,
  attr,
  attributeOf,
  GraphBuilder,
  type ModelOptions,
  type OnnxNode,
  type OnnxTensor,
  type ValueInfo,
} from './model';
