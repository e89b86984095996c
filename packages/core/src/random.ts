import { fail } from './errors';
import { checkLabels, checkPositiveInteger, type Labels } from './matrix';

/**
 * The project's one seeded pseudo-random generator: xoshiro128** (state seeded through splitmix32),
 * integer-only (32-bit operations and `Math.imul`), so the same seed and streams give the same
 * numbers on every platform. Never uses Math.random.
 */
export interface Rng {
  /** Uniform float in [0, 1) with 32 random bits (= nextFloat). */
  next(): number;
  /** Uniform integer in [0, n), unbiased (= nextInt). */
  int(n: number): number;
  /** Standard normal sample (Box-Muller on two `next()` draws; the second value is cached). */
  normal(): number;
  /** Fisher-Yates shuffle of `array` in place (unbiased `nextInt`); returns it. */
  shuffle<T extends { length: number; [i: number]: unknown }>(array: T): T;
  /** Next uniform 32-bit unsigned integer in [0, 2^32). */
  nextUint32(): number;
  /** Uniform float in [0, 1) with 32 bits of randomness. */
  nextFloat(): number;
  /** Uniform integer in [0, n), unbiased (rejection sampling); n an integer in [1, 2^32]. */
  nextInt(n: number): number;
}

/** 32-bit FNV-1a hash of a string's UTF-16 code units; turns string seeds into integers. */
export function hashString32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

function splitmix32(state: { s: number }): number {
  state.s = (state.s + 0x9e3779b9) | 0;
  let z = state.s;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/**
 * Creates a seeded PRNG (xoshiro128**). `seed` is a finite number (its low 32 bits, with the high
 * bits and the sign of larger or negative integers mixed in) or a string; extra `streams` derive
 * independent sub-streams, e.g. `createRng(seed, classIndex)` gives each class its own stream so a
 * class's draws do not depend on the other classes. Used by every sampler, fold assignment and
 * synthetic generator in the project (@gla/datasets re-exports it as `createRandom`).
 */
export function createRng(seed: number | string, ...streams: number[]): Rng {
  if (typeof seed === 'number') {
    if (!Number.isFinite(seed)) fail('invalid-option', `createRng: seed must be a finite number or a string, got ${String(seed)}`);
  } else if (typeof seed !== 'string') fail('invalid-option', `createRng: seed must be a finite number or a string, got ${String(seed)}`);
  const init = { s: typeof seed === 'string' ? hashString32(seed) : seed >>> 0 };
  if (typeof seed === 'number') {
    const high = Math.floor(Math.abs(seed) / 4294967296) >>> 0;
    if (high !== 0 || seed < 0) init.s = (init.s ^ Math.imul(high ^ (seed < 0 ? 0xdeadbeef : 0), 0x9e3779b1)) >>> 0;
  }
  for (const stream of streams) {
    if (!Number.isFinite(stream)) fail('invalid-option', `createRng: stream must be a finite number, got ${String(stream)}`);
    splitmix32(init);
    init.s = (init.s ^ Math.imul((stream >>> 0) + 0x632be5ab, 0x85ebca6b)) | 0;
  }
  let a = splitmix32(init);
  let b = splitmix32(init);
  let c = splitmix32(init);
  let d = splitmix32(init);
  if ((a | b | c | d) === 0) a = 1;
  const nextUint32 = (): number => {
    const result = Math.imul(rotl(Math.imul(b, 5), 7), 9) >>> 0;
    const t = b << 9;
    c ^= a;
    d ^= b;
    b ^= c;
    a ^= d;
    c ^= t;
    d = rotl(d, 11);
    return result;
  };
  const nextFloat = () => nextUint32() / 4294967296;
  const nextInt = (n: number): number => {
    if (!Number.isInteger(n) || n < 1 || n > 4294967296) fail('invalid-option', `nextInt: n must be an integer in [1, 2^32], got ${n}`);
    if (n === 4294967296) return nextUint32();
    // Rejection sampling: accept x < limit, the largest multiple of n below 2^32.
    const limit = 4294967296 - (4294967296 % n);
    for (;;) {
      const x = nextUint32();
      if (x < limit) return x % n;
    }
  };
  let spare = Number.NaN;
  return {
    next: nextFloat,
    int: nextInt,
    nextUint32,
    nextFloat,
    nextInt,
    normal: () => {
      if (!Number.isNaN(spare)) {
        const s = spare;
        spare = Number.NaN;
        return s;
      }
      let u = nextFloat();
      while (u === 0) u = nextFloat();
      const v = nextFloat();
      const r = Math.sqrt(-2 * Math.log(u));
      spare = r * Math.sin(2 * Math.PI * v);
      return r * Math.cos(2 * Math.PI * v);
    },
    shuffle: (array) => {
      for (let i = array.length - 1; i > 0; i--) {
        const j = nextInt(i + 1);
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
export function stratifiedFolds(labels: Labels, classes: number, folds: number, seed: number | string): Int32Array {
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
