export { type OnnxDType, ONNX_DTYPE_CODES, ONNX_DTYPE_SIZES, type OnnxTensorData, dtypeFromCode } from './dtypes';
export { OnnxFormatError, type OnnxFormatErrorCode } from './errors';
export {
  attr,
  attributeOf,
  type AttributeInput,
  type AttributeValue,
  GraphBuilder,
  type ModelOptions,
  type OnnxNode,
  type OnnxTensor,
  type ValueInfo,
} from './model';
export {
  type DecodedModel,
  type DecodedNode,
  type DecodedTensor,
  type DecodedValueInfo,
  decodeModel,
  initializerTensor,
} from './decode';
