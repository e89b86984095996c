import { RuntimeError } from '../errors';
import { dataMatchesDType, formatShape, isTensorDType } from '../tensor';
import type { Tensor, TensorInfo } from '../types';

/**
 * Checks named feeds against a model's declared inputs, as every adapter must before running:
 * - a feed naming no input → `'unknown-input'` (lists the inputs the model has);
 * - a declared input without a feed → `'missing-input'`;
 * - a tensor whose dtype differs from the declared one, or whose data is not the dtype's typed
 *   array → `'dtype-mismatch'`;
 * - a rank different from the declared rank, a fixed dim that differs, `data.length` ≠ product of
 *   dims, or one symbolic dim (e.g. `batch_size`) given two different sizes → `'shape-mismatch'`,
 *   naming the input, the expected and the received shape.
 * Inputs declared without a shape accept any shape. Throws on the first problem found.
 */
export function validateFeeds(feeds: Readonly<Record<string, Tensor>>, inputs: readonly TensorInfo[]): void {
  if (feeds === null || typeof feeds !== 'object') {
    throw new RuntimeError('missing-input', `feeds must be an object of named tensors, got ${String(feeds)}`);
  }
  const byName = new Map(inputs.map((i) => [i.name, i]));
  const names = inputs.map((i) => `'${i.name}'`).join(', ');
  for (const name of Object.keys(feeds)) {
    if (!byName.has(name)) {
      throw new RuntimeError('unknown-input', `unknown input '${name}': the model's inputs are ${names || '(none)'}`);
    }
  }
  const symbolSizes = new Map<string, { size: number; input: string }>();
  for (const info of inputs) {
    const tensor = feeds[info.name];
    if (tensor === undefined) {
      throw new RuntimeError(
        'missing-input',
        `missing input '${info.name}' (${info.dtype} ${formatShape(info.shape)}): the model's inputs are ${names}`,
      );
    }
    validateTensor(tensor, info, symbolSizes);
  }
}

function validateTensor(tensor: Tensor, info: TensorInfo, symbolSizes: Map<string, { size: number; input: string }>): void {
  if (tensor === null || typeof tensor !== 'object' || !Array.isArray(tensor.dims)) {
    throw new RuntimeError('dtype-mismatch', `input '${info.name}': expected a tensor { dtype, dims, data }, got ${String(tensor)}`);
  }
  if (!isTensorDType(tensor.dtype)) {
    throw new RuntimeError('unsupported-dtype', `input '${info.name}': unknown dtype '${String(tensor.dtype)}'`);
  }
  if (tensor.dtype !== info.dtype) {
    throw new RuntimeError(
      'dtype-mismatch',
      `input '${info.name}' expects ${info.dtype} ${formatShape(info.shape)}, got ${tensor.dtype} ${formatShape(tensor.dims)}`,
    );
  }
  if (!dataMatchesDType(tensor.dtype, tensor.data)) {
    throw new RuntimeError(
      'dtype-mismatch',
      `input '${info.name}': dtype ${tensor.dtype} does not match its data (${(tensor.data as object)?.constructor?.name ?? typeof tensor.data})`,
    );
  }
  let size = 1;
  for (const d of tensor.dims) {
    if (!Number.isInteger(d) || d < 0) {
      throw new RuntimeError('shape-mismatch', `input '${info.name}': dims ${formatShape(tensor.dims)} must be non-negative integers`);
    }
    size *= d;
  }
  if (size !== tensor.data.length) {
    throw new RuntimeError(
      'shape-mismatch',
      `input '${info.name}': shape ${formatShape(tensor.dims)} holds ${size} elements but data has ${tensor.data.length}`,
    );
  }
  const declared = info.shape;
  if (declared.length !== tensor.dims.length) {
    throw new RuntimeError(
      'shape-mismatch',
      `input '${info.name}' expects rank ${declared.length} ${formatShape(declared)}, got rank ${tensor.dims.length} ${formatShape(tensor.dims)}`,
    );
  }
  declared.forEach((dim, axis) => {
    const got = tensor.dims[axis]!;
    if (typeof dim === 'number' && dim >= 0 && dim !== got) {
      throw new RuntimeError(
        'shape-mismatch',
        `input '${info.name}' expects ${formatShape(declared)}, got ${formatShape(tensor.dims)} (axis ${axis} must be ${dim})`,
      );
    }
    if (typeof dim === 'string' && dim !== '') {
      const seen = symbolSizes.get(dim);
      if (seen === undefined) symbolSizes.set(dim, { size: got, input: info.name });
      else if (seen.size !== got) {
        throw new RuntimeError(
          'shape-mismatch',
          `input '${info.name}' expects ${formatShape(declared)}, got ${formatShape(tensor.dims)}: ${dim} is ${got} here but ${seen.size} in input '${seen.input}'`,
        );
      }
    }
  });
}

/**
 * Checks requested output names against the declared outputs (`'unknown-output'` naming the
 * available ones) and returns them, or all outputs when `outputNames` is omitted. Duplicates are dropped.
 */
export function resolveOutputNames(outputNames: readonly string[] | undefined, outputs: readonly TensorInfo[]): string[] {
  const all = outputs.map((o) => o.name);
  if (outputNames === undefined) return all;
  if (!Array.isArray(outputNames)) {
    throw new RuntimeError('unknown-output', `outputNames must be an array of names, got ${String(outputNames)}`);
  }
  for (const name of outputNames) {
    if (!all.includes(name)) {
      throw new RuntimeError('unknown-output', `unknown output '${name}': the model's outputs are ${all.map((n) => `'${n}'`).join(', ')}`);
    }
  }
  return [...new Set(outputNames)];
}
