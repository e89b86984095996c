import { mean, type PairedDifference, pairedDifference, sampleStd } from '@gla/core';
import { GLA_METHODS } from './settings';

/** Accuracy (fraction in [0, 1]) of one method over seeds. */
export interface Stat {
  mean: number;
  /** Sample standard deviation over seeds (n - 1). */
  std: number;
  values: number[];
  /** The seed of each value (cells that failed are absent). */
  seeds: number[];
}

/** Builds a {@link Stat} from per-seed values. */
export function stat(values: number[], seeds: number[]): Stat {
  return { mean: mean(values), std: sampleStd(values), values, seeds };
}

/** A GLA row against the best baseline of the same table column, paired over seeds. */
export interface BaselineComparison extends PairedDifference {
  method: string;
  /** The baseline with the highest mean in this column (chosen after the fact, for the report only). */
  baseline: string;
}

/**
 * Paired difference `method - best baseline` over seeds for every GLA row (gla, gla-weighted,
 * gla-gated) of one column: the best baseline is the non-GLA row with the highest mean, the
 * difference has a 95 % Student-t interval and a win count. Reporting only; nothing is chosen
 * with it. Rows without values are skipped.
 */
export function compareWithBestBaseline(column: Record<string, Stat | undefined>): BaselineComparison[] {
  const baselines = Object.entries(column).filter(([m, s]) => !GLA_METHODS.includes(m) && s && s.values.length > 0) as [string, Stat][];
  if (baselines.length === 0) return [];
  const [baseline, best] = baselines.reduce((a, b) => (b[1].mean > a[1].mean + 1e-15 ? b : a));
  const out: BaselineComparison[] = [];
  for (const method of GLA_METHODS) {
    const s = column[method];
    if (!s || s.values.length === 0 || s.values.length !== best.values.length) continue;
    out.push({ method, baseline, ...pairedDifference(s.values, best.values) });
  }
  return out;
}
