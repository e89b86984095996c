/**
 * Browser-safe samplers (no Node built-ins): per-class seeded permutations and the nested splits
 * of the evaluation protocols. Exported from the package root and from `@gla/datasets/sampling`
 * (the entry a browser bundle or @gla/protocols imports). Every draw uses the project's one PRNG,
 * @gla/core `createRng`, with one stream per (seed, class, stream), so a class's draw never
 * depends on the other classes.
 */
import { createRng } from '@gla/core';
import { validateLabels } from './class-frequency';
import { DatasetError } from './errors';

/** Indices of each class, ascending. */
export function indicesByClass(labels: ArrayLike<number>, numClasses: number): number[][] {
  const out: number[][] = Array.from({ length: numClasses }, () => []);
  for (let i = 0; i < labels.length; i++) out[labels[i]!]!.push(i);
  return out;
}

/**
 * A seeded permutation of each class's indices. Class c uses its own stream
 * (seed, c, stream), so a class's order does not depend on the other classes.
 */
export function shuffledByClass(labels: ArrayLike<number>, numClasses: number, seed: number | string, stream = 0): number[][] {
  return indicesByClass(labels, numClasses).map((idx, c) => createRng(seed, c, stream).shuffle(idx));
}

/** A split whose k-shot training sets are nested prefixes of one permutation per class. */
export interface NestedSplit {
  /** Balanced test indices (testPerClass of every class), ascending. */
  test: Int32Array;
  /** Validation indices (valPerClass of every class), ascending. */
  val: Int32Array;
  /** The first `k` training examples of every class (class-major order): train(1) ⊂ train(2) ⊂ ... */
  train(k: number): Int32Array;
  /** Every remaining example (the full training split), class-major order. */
  rest: Int32Array;
}

/** Options of {@link nestedSplit}. */
export interface NestedSplitOptions {
  labels: ArrayLike<number>;
  numClasses?: number;
  seed: number | string;
  /** Test examples per class (the first ones of each class's permutation). */
  testPerClass: number;
  /** Validation examples per class (the next ones). */
  valPerClass: number;
  /** Each class must have at least testPerClass + valPerClass + minTrainPerClass examples (default 1). */
  minTrainPerClass?: number;
  /** Stream of the permutation (default 4: distinct from fewShotSplit's 0..2). */
  stream?: number;
}

/**
 * The protocols' split: each class's examples are permuted with (seed, class, stream); the first
 * `testPerClass` are test, the next `valPerClass` validation and all others the training pool,
 * from which `train(k)` takes the first k per class (nested in k) and `rest` is everything (the
 * full or long-tailed training split). The test split therefore does not depend on k.
 * Throws DatasetError 'invalid-split' naming the class that is too small.
 */
export function nestedSplit(options: NestedSplitOptions): NestedSplit {
  const numClasses = validateLabels(options.labels, options.numClasses);
  const { testPerClass, valPerClass } = options;
  const minTrain = options.minTrainPerClass ?? 1;
  for (const [name, v] of [
    ['testPerClass', testPerClass],
    ['valPerClass', valPerClass],
    ['minTrainPerClass', minTrain],
  ] as const)
    if (!Number.isSafeInteger(v) || v < 0) throw new DatasetError('invalid-argument', `${name} must be a non-negative integer, got ${v}`);
  const perms = shuffledByClass(options.labels, numClasses, options.seed, options.stream ?? 4);
  const need = testPerClass + valPerClass + minTrain;
  perms.forEach((m, c) => {
    if (m.length < need)
      throw new DatasetError(
        'invalid-split',
        `class ${c} has ${m.length} examples; the split needs ${need} (${testPerClass} test + ${valPerClass} val + ${minTrain} train)`,
      );
  });
  const start = testPerClass + valPerClass;
  const sorted = (xs: number[]) => Int32Array.from(xs).sort();
  const test = sorted(perms.flatMap((m) => m.slice(0, testPerClass)));
  const val = sorted(perms.flatMap((m) => m.slice(testPerClass, start)));
  const rest = Int32Array.from(perms.flatMap((m) => m.slice(start)));
  return {
    test,
    val,
    rest,
    train: (k) => {
      if (!Number.isSafeInteger(k) || k < 1) throw new DatasetError('invalid-argument', `train(k): k must be a positive integer, got ${k}`);
      perms.forEach((m, c) => {
        if (m.length - start < k)
          throw new DatasetError('invalid-split', `class ${c} has ${m.length - start} training examples; k = ${k} shots need ${k}`);
      });
      return Int32Array.from(perms.flatMap((m) => m.slice(start, start + k)));
    },
  };
}
