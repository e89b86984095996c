/**
 * Largest absolute element-wise difference between two numeric tensors' data (bigints are
 * converted to numbers; booleans as 0/1). `Infinity` when the lengths differ or one side is NaN
 * where the other is not.
 */
export function maxAbsDifference(actual: ArrayLike<number> | ArrayLike<bigint>, expected: ArrayLike<number> | ArrayLike<bigint>): number {
  if (actual.length !== expected.length) return Number.POSITIVE_INFINITY;
  let max = 0;
  for (let i = 0; i < actual.length; i++) {
    const a = Number(actual[i]!);
    const e = Number(expected[i]!);
    if (Number.isNaN(a) || Number.isNaN(e)) {
      if (Number.isNaN(a) !== Number.isNaN(e)) return Number.POSITIVE_INFINITY;
      continue;
    }
    if (a === e) continue; // also equal infinities
    max = Math.max(max, Math.abs(a - e));
  }
  return max;
}
