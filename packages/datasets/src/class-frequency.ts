import { type ClassGroups as CoreClassGroups, classGroups } from '@gla/core';
import { DatasetError } from './errors';

/** Checks labels are integers in [0, numClasses); returns numClasses (default max label + 1). */
export function validateLabels(labels: ArrayLike<number>, numClasses?: number, what = 'labels'): number {
  let max = -1;
  for (let i = 0; i < labels.length; i++) {
    const y = labels[i]!;
    if (!Number.isInteger(y) || y < 0 || (numClasses !== undefined && y >= numClasses)) {
      throw new DatasetError('label-out-of-range', `${what}[${i}] = ${y} is outside [0, ${numClasses ?? 'numClasses'})`);
    }
    if (y > max) max = y;
  }
  if (numClasses !== undefined && (!Number.isInteger(numClasses) || numClasses < 1)) {
    throw new DatasetError('invalid-argument', `numClasses must be a positive integer, got ${numClasses}`);
  }
  return numClasses ?? max + 1;
}

/** Per-class counts of integer labels in [0, numClasses): Int32Array of length numClasses. */
export function classCounts(labels: ArrayLike<number>, numClasses?: number): Int32Array {
  const c = validateLabels(labels, numClasses);
  const counts = new Int32Array(c);
  for (let i = 0; i < labels.length; i++) counts[labels[i]!]!++;
  return counts;
}

/** Per-class label frequencies (counts / N, summing to 1; zeros for N = 0), Float64Array. */
export function classFrequencies(labels: ArrayLike<number>, numClasses?: number): Float64Array {
  const counts = classCounts(labels, numClasses);
  const out = new Float64Array(counts.length);
  if (labels.length > 0) for (let c = 0; c < counts.length; c++) out[c] = counts[c]! / labels.length;
  return out;
}

/** Classes split into thirds by a per-class score (= @gla/core `ClassGroups`). */
export type ClassGroups = CoreClassGroups;

/**
 * Head / medium / tail groups by the project's one rule, @gla/core `classGroups`: classes ranked
 * by `scores` (descending, ties by index) and cut at ranks round(C/3) and round(2C/3) (C = 10
 * gives 3/4/3, C = 100 gives 33/34/33). Pass class counts for frequency groups, or q to group as
 * the GLA reference does. Throws DatasetError 'invalid-argument' for a NaN score.
 */
export function headMediumTail(scores: ArrayLike<number>): ClassGroups {
  const n = scores.length;
  for (let c = 0; c < n; c++) {
    if (Number.isNaN(scores[c]!)) throw new DatasetError('invalid-argument', `scores[${c}] is NaN`);
  }
  return classGroups(scores);
}

/** One row of a class-frequency table. */
export interface ClassFrequencyRow {
  label: number;
  name: string;
  count: number;
  /** count / N */
  frequency: number;
  /** rank by count, 0 = most frequent */
  rank: number;
  group: 'head' | 'medium' | 'tail';
}

/** A class-frequency table with head/medium/tail groups, rows in label order. */
export function classFrequencyTable(labels: ArrayLike<number>, numClasses?: number, classNames?: readonly string[]): ClassFrequencyRow[] {
  const counts = classCounts(labels, numClasses);
  const groups = headMediumTail(counts);
  const rank = new Array<number>(counts.length);
  groups.order.forEach((c, r) => {
    rank[c] = r;
  });
  const head = new Set(groups.head);
  const medium = new Set(groups.medium);
  return Array.from(counts, (count, label) => ({
    label,
    name: classNames?.[label] ?? String(label),
    count,
    frequency: labels.length > 0 ? count / labels.length : 0,
    rank: rank[label]!,
    group: head.has(label) ? 'head' : medium.has(label) ? 'medium' : 'tail',
  }));
}
