import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from './atomic-write';
import { validateLabels } from './class-frequency';
import { DatasetError, fsError } from './errors';
import { shuffledByClass } from './sampling';

/** Schema tag and version of split files. */
export const SPLIT_SCHEMA = 'gla.split';
export const SPLIT_VERSION = 1;

/**
 * A reproducible data split: indices into a labelled pool (and, optionally, a separate test
 * pool). Saved as JSON; `labelsHash` ties it to the labels it was drawn from.
 */
export interface Split {
  schema: typeof SPLIT_SCHEMA;
  version: typeof SPLIT_VERSION;
  kind: 'few-shot' | 'long-tail' | 'balanced';
  seed: number | string;
  numClasses: number;
  /** Number of items in the pool `train` and `val` index into. */
  poolSize: number;
  /** sha256 (hex) of the pool labels as little-endian int32. */
  labelsHash: string;
  /** Where `test` indices point: the same pool, or a separate test pool. */
  testFrom: 'pool' | 'test-pool';
  testPoolSize?: number;
  testLabelsHash?: string;
  /** Parameters that produced the split (shots, ratios, per-class counts...). */
  params: Record<string, number | string | boolean | number[] | null>;
  /** Sorted ascending, disjoint. */
  train: number[];
  val: number[];
  test: number[];
}

/** sha256 (hex) of labels as little-endian int32: identifies the labelled pool of a split. */
export function hashLabels(labels: ArrayLike<number>): string {
  const bytes = Buffer.alloc(4 * labels.length);
  for (let i = 0; i < labels.length; i++) bytes.writeInt32LE(labels[i]!, 4 * i);
  return createHash('sha256').update(bytes).digest('hex');
}

export { indicesByClass, shuffledByClass } from './sampling';

const ascending = (a: number, b: number) => a - b;

/**
 * A balanced sample: `perClass` indices of every class, drawn with a seed (default perClass:
 * the smallest class count). Throws 'invalid-split' when a class has fewer.
 */
export function balancedSample(
  labels: ArrayLike<number>,
  options: { numClasses?: number; perClass?: number; seed: number | string; exclude?: ReadonlySet<number>; stream?: number },
): number[] {
  const numClasses = validateLabels(labels, options.numClasses);
  const pools = shuffledByClass(labels, numClasses, options.seed, options.stream ?? 2).map((idx) =>
    options.exclude ? idx.filter((i) => !options.exclude!.has(i)) : idx,
  );
  const perClass = options.perClass ?? Math.min(...pools.map((p) => p.length));
  checkCount(perClass, 'perClass');
  const out: number[] = [];
  pools.forEach((pool, c) => {
    if (pool.length < perClass)
      throw new DatasetError('invalid-split', `class ${c} has ${pool.length} available items, a balanced split needs ${perClass}`);
    for (let j = 0; j < perClass; j++) out.push(pool[j]!); // not push(...slice): the stack overflows on large classes
  });
  if (perClass === 0)
    throw new DatasetError('invalid-split', 'a balanced split needs at least one item per class (some class has none left)');
  return out.sort(ascending);
}

function checkCount(n: number, name: string): void {
  if (!Number.isSafeInteger(n) || n < 0) throw new DatasetError('invalid-argument', `${name} must be a non-negative integer, got ${n}`);
}

export interface FewShotSplitOptions {
  /** Labels of the pool to draw train and val from (integers in [0, numClasses)). */
  labels: ArrayLike<number>;
  numClasses?: number;
  /** Training examples per class: the protocol uses 1, 2, 4, 8, 16. */
  shots: number;
  seed: number | string;
  /** Validation examples per class, disjoint from train. Default min(shots, 4) (CoOp protocol). */
  valPerClass?: number;
  /** A separate test pool (e.g. the official test set). Default: test drawn from the rest of `labels`. */
  testLabels?: ArrayLike<number>;
  /** Test examples per class (balanced). Default: as many as every class can give. */
  testPerClass?: number;
}

/**
 * The few-shot protocol: for each class, `shots` training and `valPerClass` validation
 * examples drawn with a seed, plus a balanced test split. Each class's draw is a prefix of
 * one seeded permutation, so for a fixed seed the k-shot train sets are nested
 * (1-shot ⊂ 2-shot ⊂ … ⊂ 16-shot). Deterministic on every platform.
 */
export function fewShotSplit(options: FewShotSplitOptions): Split {
  const { labels, shots, seed } = options;
  const numClasses = validateLabels(labels, options.numClasses);
  checkCount(shots, 'shots');
  if (shots < 1) throw new DatasetError('invalid-argument', 'shots must be at least 1');
  const valPerClass = options.valPerClass ?? Math.min(shots, 4);
  checkCount(valPerClass, 'valPerClass');
  const perms = shuffledByClass(labels, numClasses, seed);
  const train: number[] = [];
  const val: number[] = [];
  perms.forEach((perm, c) => {
    if (perm.length < shots + valPerClass) {
      throw new DatasetError(
        'invalid-split',
        `class ${c} has ${perm.length} items; ${shots} shots + ${valPerClass} validation need ${shots + valPerClass}`,
      );
    }
    for (let j = 0; j < shots; j++) train.push(perm[j]!);
    for (let j = shots; j < shots + valPerClass; j++) val.push(perm[j]!);
  });
  const used = new Set([...train, ...val]);
  const test = testSplit(options.testLabels, labels, numClasses, seed, options.testPerClass, used);
  return finish({
    kind: 'few-shot',
    seed,
    numClasses,
    labels,
    testLabels: options.testLabels,
    params: { shots, valPerClass, testPerClass: test.perClass },
    train,
    val,
    test: test.indices,
  });
}

/** Balanced test indices from a separate pool, or from the pool minus `used`. */
export function testSplit(
  testLabels: ArrayLike<number> | undefined,
  labels: ArrayLike<number>,
  numClasses: number,
  seed: number | string,
  perClass: number | undefined,
  used: ReadonlySet<number>,
): { indices: number[]; perClass: number } {
  if (testLabels) validateLabels(testLabels, numClasses, 'testLabels');
  const indices = balancedSample(testLabels ?? labels, { numClasses, seed, exclude: testLabels ? undefined : used, perClass, stream: 1 });
  return { indices, perClass: indices.length / numClasses };
}

/** @internal Assembles and sorts a split. */
export function finish(parts: {
  kind: Split['kind'];
  seed: number | string;
  numClasses: number;
  labels: ArrayLike<number>;
  testLabels: ArrayLike<number> | undefined;
  params: Split['params'];
  train: number[];
  val: number[];
  test: number[];
}): Split {
  const split: Split = {
    schema: SPLIT_SCHEMA,
    version: SPLIT_VERSION,
    kind: parts.kind,
    seed: parts.seed,
    numClasses: parts.numClasses,
    poolSize: parts.labels.length,
    labelsHash: hashLabels(parts.labels),
    testFrom: parts.testLabels ? 'test-pool' : 'pool',
    params: parts.params,
    train: parts.train.sort(ascending),
    val: parts.val.sort(ascending),
    test: parts.test.sort(ascending),
  };
  if (parts.testLabels) {
    split.testPoolSize = parts.testLabels.length;
    split.testLabelsHash = hashLabels(parts.testLabels);
  }
  return split;
}

function invalid(reason: string, file?: string): never {
  throw new DatasetError('invalid-split', reason, { file });
}

/**
 * Validates a parsed split (schema, version, kinds, integer indices in range, sorted,
 * no duplicates, train/val/test disjoint where they share a pool) and, if given, that it
 * was drawn from these labels (hash). Throws 'invalid-split' naming the problem.
 */
export function validateSplit(
  value: unknown,
  options: { labels?: ArrayLike<number>; testLabels?: ArrayLike<number>; file?: string } = {},
): Split {
  const f = options.file;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) invalid('not a JSON object', f);
  const s = value as Partial<Split>;
  if (s.schema !== SPLIT_SCHEMA) invalid(`schema is ${JSON.stringify(s.schema)}, expected '${SPLIT_SCHEMA}'`, f);
  if (s.version !== SPLIT_VERSION) invalid(`version ${JSON.stringify(s.version)} is not supported (this reader knows ${SPLIT_VERSION})`, f);
  if (s.kind !== 'few-shot' && s.kind !== 'long-tail' && s.kind !== 'balanced') invalid(`unknown kind ${JSON.stringify(s.kind)}`, f);
  if (typeof s.seed !== 'number' && typeof s.seed !== 'string') invalid('seed must be a number or a string', f);
  if (!Number.isSafeInteger(s.numClasses) || s.numClasses! < 1) invalid('numClasses must be a positive integer', f);
  if (!Number.isSafeInteger(s.poolSize) || s.poolSize! < 0) invalid('poolSize must be a non-negative integer', f);
  if (typeof s.labelsHash !== 'string' || !/^[0-9a-f]{64}$/.test(s.labelsHash)) invalid('labelsHash must be a sha256 hex string', f);
  if (s.testFrom !== 'pool' && s.testFrom !== 'test-pool') invalid(`testFrom must be 'pool' or 'test-pool'`, f);
  if (s.testFrom === 'test-pool' && (!Number.isSafeInteger(s.testPoolSize) || typeof s.testLabelsHash !== 'string'))
    invalid('a test-pool split needs testPoolSize and testLabelsHash', f);
  if (s.params === null || typeof s.params !== 'object' || Array.isArray(s.params)) invalid('params must be an object', f);
  const check = (name: 'train' | 'val' | 'test', size: number) => {
    const list = s[name];
    if (!Array.isArray(list)) invalid(`${name} must be an array of indices`, f);
    for (let i = 0; i < list.length; i++) {
      const v = list[i] as number;
      if (!Number.isSafeInteger(v) || v < 0 || v >= size)
        invalid(`${name}[${i}] = ${JSON.stringify(v)} is not an index in [0, ${size})`, f);
      if (i > 0 && v <= list[i - 1]!) invalid(`${name} is not strictly ascending at position ${i} (duplicate or unsorted index ${v})`, f);
    }
    return new Set(list);
  };
  const train = check('train', s.poolSize!);
  const val = check('val', s.poolSize!);
  const test = check('test', s.testFrom === 'pool' ? s.poolSize! : s.testPoolSize!);
  for (const i of val) if (train.has(i)) invalid(`index ${i} is in both train and val`, f);
  if (s.testFrom === 'pool') for (const i of test) if (train.has(i) || val.has(i)) invalid(`index ${i} is in test and in train/val`, f);
  if (options.labels) {
    if (options.labels.length !== s.poolSize)
      invalid(`split is for a pool of ${s.poolSize} items, labels have ${options.labels.length}`, f);
    if (hashLabels(options.labels) !== s.labelsHash)
      invalid('labels differ from the ones the split was drawn from (labelsHash mismatch)', f);
  }
  if (options.testLabels && s.testFrom === 'test-pool' && hashLabels(options.testLabels) !== s.testLabelsHash) {
    invalid('test labels differ from the ones the split was drawn from (testLabelsHash mismatch)', f);
  }
  return s as Split;
}

/** Serialises a split as stable, human-diffable JSON. */
export function splitToJson(split: Split): string {
  const { train, val, test, ...rest } = split;
  const head = JSON.stringify(rest, null, 2).slice(0, -2);
  return `${head},\n  "train": ${JSON.stringify(train)},\n  "val": ${JSON.stringify(val)},\n  "test": ${JSON.stringify(test)}\n}\n`;
}

/** Writes a split as JSON, atomically. */
export async function saveSplit(path: string, split: Split): Promise<void> {
  validateSplit(split, { file: path });
  await writeFileAtomic(path, splitToJson(split));
}

/** Reads and validates a split file; pass the labels to check the split belongs to them. */
export async function loadSplit(
  path: string,
  options: { labels?: ArrayLike<number>; testLabels?: ArrayLike<number> } = {},
): Promise<Split> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw fsError(error, path);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new DatasetError('invalid-split', `not valid JSON: ${(error as Error).message}`, { file: path, cause: error });
  }
  return validateSplit(value, { ...options, file: path });
}
