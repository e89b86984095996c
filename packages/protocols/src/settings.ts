import type { TemperatureMethod } from '@gla/core';

/**
 * Methods of the few-shot and many-shot protocols, in table order. `gla` is the paper's method
 * exactly; `gla-weighted` and `gla-gated` are our extensions; `*-weighted` / `*-gated` / `-tuned`
 * baselines get the same tuning as the GLA extensions (equal terms).
 */
export const FEW_SHOT_METHODS = [
  'zero-shot',
  'zero-shot-debiased',
  'zero-shot-em',
  'zero-shot-em-calibrated',
  'zero-shot-debiased-eigen',
  'zero-shot-debiased-matching',
  'linear-probe',
  'output-ensemble',
  'output-ensemble-weighted',
  'output-ensemble-gated',
  'wise-ft',
  'wise-ft-tuned',
  'gla',
  'gla-weighted',
  'gla-gated',
] as const;
export type FewShotMethod = (typeof FEW_SHOT_METHODS)[number];

/** Methods of the many-shot protocol (the few-shot set without eigen/matching, plus logit adjustment). */
export const MANY_SHOT_METHODS = [
  'zero-shot',
  'zero-shot-debiased',
  'zero-shot-em',
  'zero-shot-em-calibrated',
  'linear-probe',
  'linear-probe+logit-adjustment',
  'output-ensemble',
  'output-ensemble-weighted',
  'output-ensemble-gated',
  'wise-ft',
  'wise-ft-tuned',
  'gla',
  'gla-weighted',
  'gla-gated',
] as const;
export type ManyShotMethod = (typeof MANY_SHOT_METHODS)[number];

/** Methods of the long-tailed protocol. */
export const LONG_TAIL_METHODS = [...MANY_SHOT_METHODS] as const;
export type LongTailMethod = ManyShotMethod;

/** Rows that are GLA (the paper's formula) or our extensions of it; every other row is a baseline. */
export const GLA_METHODS: readonly string[] = ['gla', 'gla-weighted', 'gla-gated'];

export interface ProtocolSettings {
  shots: number[];
  seeds: number[];
  /** Balanced test split: this many examples per class (25). */
  testPerClass: number;
  /** Few-shot validation examples per class, added to the k-shot train set for q, T and CV. */
  valPerClass: number;
  /** Folds of the cross-fitting of the linear probe on train + val. */
  folds: number;
  /** Candidate L2 strengths of the linear probe (core's trainLinearProbe units). */
  l2Grid: number[];
  /** WiSE-FT mixing coefficients of `wise-ft-tuned`. */
  alphaGrid: number[];
  /** alpha of the plain `wise-ft` row (0.5, WiSE-FT's default mixing). */
  wiseAlpha: number;
  /** Candidate lambdas of the prior regulariser (selectRegularization: held-out cross-entropy). */
  regularizationCandidates: number[];
  /** Temperature rule of both models (T_z, T_f): 'match-confidence' (the reference's) or 'nll'. */
  temperatureMethod: TemperatureMethod;
  longTail: boolean;
  /** Long-tailed protocol: balanced validation examples per class (for T and q). */
  longTailValPerClass: number;
  /** Candidate l2 of the long-tailed and many-shot probes (chosen on the validation split). */
  longTailL2Grid: number[];
  /** Number of seeds of the long-tailed and many-shot protocols (the first ones of `seeds`). */
  longTailSeeds: number;
  /** Many-shot protocol: validation examples per class (q, temperatures, l2). */
  manyShotValPerClass: number;
}

/**
 * Defaults. Temperature rule 'nll': on the few-shot labelled sets (2..20 examples per class) the
 * confidence-matching search of the reference has no unique solution whenever train + val
 * accuracy is 100 % or the gap crosses zero in several places, and it ignores the confidence of
 * wrong predictions; NLL temperature scaling is the proper scoring rule with a unique optimum when
 * one exists. `--temperature match-confidence` runs the reference's rule.
 */
export const DEFAULT_SETTINGS: ProtocolSettings = {
  shots: [1, 2, 4, 8, 16],
  seeds: [1, 2, 3, 4, 5],
  testPerClass: 25,
  valPerClass: 4,
  folds: 5,
  l2Grid: [1e-4, 1e-3, 1e-2, 1e-1],
  alphaGrid: [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1],
  wiseAlpha: 0.5,
  regularizationCandidates: [0, 1e-3, 1e-2, 1e-1, 1],
  temperatureMethod: 'nll',
  longTail: true,
  longTailValPerClass: 5,
  longTailL2Grid: [1e-4, 1e-5],
  longTailSeeds: 3,
  manyShotValPerClass: 10,
};
