import { fail } from './errors';
import { checkPositiveInteger } from './matrix';

/** The rows of one cross-validation fold: `train` = every other fold, `held` = this fold (ascending indices). */
export interface FoldRows {
  train: Int32Array;
  held: Int32Array;
}

/**
 * Splits a fold assignment (e.g. from {@link stratifiedFolds}) into per-fold index lists.
 * @param folds N fold indices in [0, foldCount)
 * @returns foldCount entries; entry f holds the rows of fold f (`held`) and of all others (`train`)
 */
export function foldRows(folds: ArrayLike<number>, foldCount: number): FoldRows[] {
  checkPositiveInteger(foldCount, 'foldCount');
  const held: number[][] = Array.from({ length: foldCount }, () => []);
  for (let i = 0; i < folds.length; i++) {
    const f = folds[i]!;
    if (!Number.isInteger(f) || f < 0 || f >= foldCount) fail('invalid-option', `foldRows: folds[${i}] = ${f} is not in [0, ${foldCount})`);
    held[f]!.push(i);
  }
  return held.map((rows, f) => {
    const train = new Int32Array(folds.length - rows.length);
    let t = 0;
    for (let i = 0; i < folds.length; i++) if (folds[i] !== f) train[t++] = i;
    return { train, held: Int32Array.from(rows) };
  });
}

/** Entries `indices` of `values` as an Int32Array (e.g. the labels of a subset of rows). */
export function takeLabels(values: ArrayLike<number>, indices: ArrayLike<number>): Int32Array {
  const out = new Int32Array(indices.length);
  for (let r = 0; r < indices.length; r++) {
    const i = indices[r]!;
    if (!(i >= 0 && i < values.length))
      fail('label-out-of-range', `takeLabels: index ${i} (position ${r}) is outside [0, ${values.length})`);
    out[r] = values[i]!;
  }
  return out;
}
