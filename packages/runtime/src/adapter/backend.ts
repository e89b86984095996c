import { RuntimeError } from '../errors';
import { isTensorDType } from '../tensor';
import type { Tensor } from '../types';

/** Helpers that adapters share when they translate a backend's values into this package's types. */

/** The message of an error a backend threw, whatever it threw. */
export function describeError(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** A declared dimension as `TensorInfo` carries it: a number when fixed, a name when symbolic, null when unknown (negative or ''). */
export function normalizeDim(d: number | string): number | string | null {
  if (typeof d === 'number') return d >= 0 ? d : null;
  return d === '' ? null : d;
}

/**
 * Wraps a backend's output as a `Tensor`, refusing element types this interface does not exchange
 * with `RuntimeError('unsupported-dtype')` naming the output.
 */
export function outputTensor(name: string, type: string, dims: readonly number[], data: unknown): Tensor {
  if (!isTensorDType(type)) {
    throw new RuntimeError('unsupported-dtype', `output '${name}' has dtype ${type}, which this runtime does not exchange`);
  }
  return { dtype: type, dims: [...dims], data: data as Tensor['data'] };
}
