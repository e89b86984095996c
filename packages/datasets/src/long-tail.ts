import { validateLabels } from './class-frequency';
import { DatasetError } from './errors';
import { createRandom } from './random';
import { finish, type Split, shuffledByClass, testSplit } from './splits';

/**
 * Per-class counts of an exponential long-tailed profile:
 * n_r = floor(maxPerClass · ρ^(−r/(C−1))) for rank r = 0…C−1, so the head class has
 * maxPerClass and the tail class maxPerClass/ρ (as in CIFAR-LT). ρ ≥ 1; ρ = 1 is balanced.
 */
export function longTailCounts(numClasses: number, maxPerClass: number, imbalanceRatio: number): number[] {
  if (!Number.isSafeInteger(numClasses) || numClasses < 1)
    throw new DatasetError('invalid-argument', `numClasses must be a positive integer, got ${numClasses}`);
  if (!Number.isSafeInteger(maxPerClass) || maxPerClass < 1)
    throw new DatasetError('invalid-argument', `maxPerClass must be a positive integer, got ${maxPerClass}`);
  if (!(imbalanceRatio >= 1) || !Number.isFinite(imbalanceRatio))
    throw new DatasetError('invalid-argument', `imbalanceRatio must be a finite number ≥ 1, got ${imbalanceRatio}`);
  if (numClasses === 1) return [maxPerClass];
  return Array.from({ length: numClasses }, (_, r) => {
    const n = Math.floor(maxPerClass * (1 / imbalanceRatio) ** (r / (numClasses - 1)) + 1e-9);
    return Math.max(1, n);
  });
}

export interface LongTailSplitOptions {
  labels: ArrayLike<number>;
  numClasses?: number;
  /** ρ = n_max / n_min, e.g. 10, 50, 100. */
  imbalanceRatio: number;
  seed: number | string;
  /** n_max. Default: the largest count every class can give (after the test split, if drawn from the pool). */
  maxPerClass?: number;
  /**
   * Which class gets which rank: 'index' (class 0 is the head, as in CIFAR-LT) or 'shuffled'
   * (a seeded permutation of the classes). Default 'index'.
   */
  classOrder?: 'index' | 'shuffled';
  /** Separate balanced test pool; default: test drawn from the rest of `labels`. */
  testLabels?: ArrayLike<number>;
  /** Balanced test examples per class. Default: as many as every class can give. */
  testPerClass?: number;
  /** Validation examples per class, drawn after the train items (balanced). Default 0. */
  valPerClass?: number;
}

/**
 * Long-tailed subsampling with a balanced test split: class of rank r keeps
 * n_r = floor(n_max · ρ^(−r/(C−1))) training items (a seeded draw); `params.counts` holds
 * the per-class counts in label order. When test comes from the same pool it is drawn
 * first, so train sizes do not eat into the balanced test.
 */
export function longTailSplit(options: LongTailSplitOptions): Split {
  const { labels, seed } = options;
  const numClasses = validateLabels(labels, options.numClasses);
  const valPerClass = options.valPerClass ?? 0;
  const perms = shuffledByClass(labels, numClasses, seed);
  let test: { indices: number[]; perClass: number };
  if (options.testLabels) {
    test = testSplit(options.testLabels, labels, numClasses, seed, options.testPerClass, new Set());
  } else {
    // Reserve the test items from the end of each class's permutation.
    const available = Math.min(...perms.map((p) => p.length));
    const perClass = options.testPerClass ?? Math.floor(available / 2);
    if (perClass < 1) throw new DatasetError('invalid-split', 'a balanced test split needs at least one item per class');
    const indices: number[] = [];
    perms.forEach((p, c) => {
      if (p.length < perClass)
        throw new DatasetError('invalid-split', `class ${c} has ${p.length} items, the balanced test needs ${perClass}`);
      for (const i of p.splice(p.length - perClass, perClass)) indices.push(i);
    });
    test = { indices, perClass };
  }
  const maxPerClass = options.maxPerClass ?? Math.min(...perms.map((p) => p.length)) - valPerClass;
  const byRank = longTailCounts(numClasses, maxPerClass, options.imbalanceRatio);
  const order = Array.from({ length: numClasses }, (_, c) => c);
  if (options.classOrder === 'shuffled') createRandom(seed, numClasses, 3).shuffle(order);
  const counts = new Array<number>(numClasses);
  order.forEach((c, r) => {
    counts[c] = byRank[r]!;
  });
  const train: number[] = [];
  const val: number[] = [];
  perms.forEach((p, c) => {
    const n = counts[c]!;
    if (p.length < n + valPerClass)
      throw new DatasetError('invalid-split', `class ${c} has ${p.length} items, the long tail needs ${n} + ${valPerClass} validation`);
    // element-wise: push(...slice) overflows the stack for classes of ~10^5 items
    for (let j = 0; j < n; j++) train.push(p[j]!);
    for (let j = n; j < n + valPerClass; j++) val.push(p[j]!);
  });
  return finish({
    kind: 'long-tail',
    seed,
    numClasses,
    labels,
    testLabels: options.testLabels,
    params: {
      imbalanceRatio: options.imbalanceRatio,
      maxPerClass,
      classOrder: options.classOrder ?? 'index',
      valPerClass,
      testPerClass: test.perClass,
      counts,
    },
    train,
    val,
    test: test.indices,
  });
}
