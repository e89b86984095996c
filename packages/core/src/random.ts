import { fail } from './errors';
import { checkLabels, checkPositiveInteger, type Labels } from './matrix';

/** A deterministic pseudo-random generator (mulberry32 state, 32-bit seed). */
export interface Rng {
  /** Uniform float in [0, 1) with 32 random bits. */
  next(): number;
  /** Uniform integer in [0, n). */
  int(n: number): number;
  /** Standard normal sample (Box-Muller). */
  normal(): number;
  /** Fisher-Yates shuffle of `array` in place; returns it. */
  shuffle<T extends { length: number; [i: number]: unknown }>(array: T): T;
}

/**
 * Creates a seeded PRNG (mulberry32). The same seed gives the same stream on every platform, so
 * folds, samplers and synthetic data are reproducible.
 * @param seed any finite number; it is reduced to 32 bits
 */
export function createRng(seed: number): Rng {
  if (typeof seed !== 'number' || !Number.isFinite(seed))
    fail('invalid-option', `createRng: seed must be a finite number, got ${String(seed)}`);
  let state = seed >>> 0;
  let spare = Number.NaN;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (n) => Math.floor(next() * n),
    normal: () => {
      if (!Number.isNaN(spare)) {
        const s = spare;
        spare = Number.NaN;
        return s;
      }
      let u = next();
      while (u === 0) u = next();
      const v = next();
      const r = Math.sqrt(-2 * Math.log(u));
      spare = r * Math.sin(2 * Math.PI * v);
      return r * Math.cos(2 * Math.PI * v);
    },
    shuffle: (array) => {
      for (let i = array.length - 1; i > 0; i--) {
        const j = Math.floor(next() * (i + 1));
        const tmp = array[i];
        array[i] = array[j];
        array[j] = tmp;
      }
      return array;
    },
  };
}

/**
 * Stratified k-fold assignment: within each class, examples are shuffled (seeded) and dealt to
 * folds round-robin, so every fold holds about 1/k of each class.
 * @returns Int32Array of fold indices in [0, folds), one per example
 */
export function stratifiedFolds(labels: Labels, classes: number, folds: number, seed: number): Int32Array {
  checkPositiveInteger(classes, 'classes');
  checkPositiveInteger(folds, 'folds');
  labels = checkLabels(labels, labels?.length ?? 0, classes);
  const rng = createRng(seed);
  const byClass: number[][] = Array.from({ length: classes }, () => []);
  for (let i = 0; i < labels.length; i++) byClass[labels[i]!]!.push(i);
  const out = new Int32Array(labels.length);
  let offset = 0;
  for (const members of byClass) {
    rng.shuffle(members);
    for (let r = 0; r < members.length; r++) out[members[r]!] = (offset + r) % folds;
    offset += members.length;
  }
  return out;
}
