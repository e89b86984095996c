/**
 * Seeded, integer-only pseudo-random numbers (xoshiro128**, seeded through splitmix32),
 * bit-identical on every platform: only 32-bit integer operations and `Math.imul`.
 * Never uses Math.random.
 */
export interface Random {
  /** Next uniform 32-bit unsigned integer in [0, 2^32). */
  nextUint32(): number;
  /** Uniform float in [0, 1) with 32 bits of randomness (exact, platform independent). */
  nextFloat(): number;
  /** Uniform integer in [0, n), unbiased (rejection sampling); n in [1, 2^32]. */
  nextInt(n: number): number;
  /** Shuffles `array` in place (Fisher-Yates) and returns it. */
  shuffle<T>(array: T[]): T[];
  /** Shuffles a typed integer array in place and returns it. */
  shuffle(array: Int32Array | Uint32Array): Int32Array | Uint32Array;
}

/** 32-bit FNV-1a hash of a string's UTF-16 code units; used to turn string seeds into integers. */
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

/**
 * Creates a seeded generator. `seed` is an integer (only its low 32 bits and, for larger
 * safe integers, the high bits are mixed in) or a string; extra `streams` values derive
 * independent sub-streams, e.g. `createRandom(seed, classIndex)`.
 */
export function createRandom(seed: number | string, ...streams: number[]): Random {
  const init = { s: typeof seed === 'string' ? hashString32(seed) : seed >>> 0 };
  if (typeof seed === 'number') {
    if (!Number.isFinite(seed)) throw new RangeError(`seed must be finite, got ${seed}`);
    const high = Math.floor(Math.abs(seed) / 4294967296) >>> 0;
    if (high !== 0 || seed < 0) init.s = (init.s ^ Math.imul(high ^ (seed < 0 ? 0xdeadbeef : 0), 0x9e3779b1)) >>> 0;
  }
  for (const stream of streams) {
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
  const nextInt = (n: number): number => {
    if (!Number.isInteger(n) || n < 1 || n > 4294967296) throw new RangeError(`nextInt: n must be an integer in [1, 2^32], got ${n}`);
    if (n === 4294967296) return nextUint32();
    // Rejection sampling: accept x < limit, limit the largest multiple of n below 2^32.
    const limit = 4294967296 - (4294967296 % n);
    for (;;) {
      const x = nextUint32();
      if (x < limit) return x % n;
    }
  };
  const shuffle = <T>(array: T[] | Int32Array | Uint32Array) => {
    for (let i = array.length - 1; i > 0; i--) {
      const j = nextInt(i + 1);
      const tmp = array[i]!;
      array[i] = array[j]!;
      array[j] = tmp;
    }
    return array;
  };
  return {
    nextUint32,
    nextFloat: () => nextUint32() / 4294967296,
    nextInt,
    shuffle: shuffle as Random['shuffle'],
  };
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
