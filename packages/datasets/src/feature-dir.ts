import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from './atomic-write';
import { assertFiniteValues, integerLabels, type NdArray, type TypedArray } from './dtypes';
import { DatasetError, fsError, throwIfAborted } from './errors';
import type { Matrix } from './matrix';
import { createNpyWriter, openNpy, readNpy, writeNpy } from './npy';

/**
 * `meta.json` of a feature directory. Unknown fields are kept. Snake-case aliases
 * (`class_names`, `model_id`) are accepted on read, camelCase is written.
 */
export interface FeatureDirMeta {
  /** Format version; 1. */
  version?: number;
  /** Class names in label order; labels index into this list. */
  classNames: string[];
  /** Prompt templates used for `text_features.npy`, e.g. "a photo of a {}.". */
  templates?: string[];
  /** Identity of the model that produced the features (e.g. name + sha256 of its bytes). */
  modelId?: string;
  /** Zero-shot logit scale s (logits = s · cos), when given: a positive finite number. */
  logitScale?: number;
  [key: string]: unknown;
}

/** A feature data set held in memory. */
export interface FeatureDir {
  /** Image (or text) features, N × D, Float32. */
  features: Matrix;
  /** Labels in [0, C), length N. */
  labels: Int32Array;
  meta: FeatureDirMeta;
  /** Class text embeddings: shape [C, D] or [templates, C, D], Float32, C order. */
  textFeatures?: { data: Float32Array; shape: number[] };
}

const FILES = { features: 'features.npy', labels: 'labels.npy', meta: 'meta.json', text: 'text_features.npy' };

function parseMeta(value: unknown, file: string): FeatureDirMeta {
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new DatasetError('invalid-meta', 'must hold a JSON object', { file });
  const raw = { ...(value as Record<string, unknown>) };
  if (raw['classNames'] === undefined && raw['class_names'] !== undefined) {
    raw['classNames'] = raw['class_names'];
    delete raw['class_names'];
  }
  if (raw['modelId'] === undefined && raw['model_id'] !== undefined) {
    raw['modelId'] = raw['model_id'];
    delete raw['model_id'];
  }
  const names = raw['classNames'];
  if (!Array.isArray(names) || names.length === 0 || !names.every((n) => typeof n === 'string')) {
    throw new DatasetError('invalid-meta', 'classNames must be a non-empty array of strings', { file });
  }
  if (new Set(names).size !== names.length) throw new DatasetError('invalid-meta', 'classNames has duplicates', { file });
  if (raw['templates'] !== undefined && (!Array.isArray(raw['templates']) || !raw['templates'].every((t) => typeof t === 'string'))) {
    throw new DatasetError('invalid-meta', 'templates must be an array of strings', { file });
  }
  if (raw['modelId'] !== undefined && typeof raw['modelId'] !== 'string')
    throw new DatasetError('invalid-meta', 'modelId must be a string', { file });
  const scale = raw['logitScale'];
  if (scale !== undefined && !(typeof scale === 'number' && Number.isFinite(scale) && scale > 0))
    throw new DatasetError('invalid-meta', `logitScale must be a positive finite number, got ${JSON.stringify(scale)}`, {
      file,
    });
  if (raw['version'] !== undefined && raw['version'] !== 1)
    throw new DatasetError('invalid-meta', `version ${JSON.stringify(raw['version'])} is not supported`, { file });
  return raw as FeatureDirMeta;
}

async function readMeta(dir: string): Promise<FeatureDirMeta> {
  const file = join(dir, FILES.meta);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw fsError(error, file);
  }
  try {
    return parseMeta(JSON.parse(text), file);
  } catch (error) {
    if (error instanceof DatasetError) throw error;
    throw new DatasetError('invalid-meta', `not valid JSON: ${(error as Error).message}`, { file, cause: error });
  }
}

function toFloat32(array: NdArray, file: string): Float32Array {
  if (array.dtype === 'float32' || array.dtype === 'float16' || array.dtype === 'bfloat16') return array.data as Float32Array;
  if (array.dtype === 'float64') return Float32Array.from(array.data as Float64Array);
  throw new DatasetError('unsupported-dtype', `features must be floating point, got ${array.dtype}`, { file });
}

function toLabels(array: NdArray, numClasses: number, file: string): Int32Array {
  if (array.dtype.startsWith('float') || array.dtype === 'bfloat16') {
    throw new DatasetError('unsupported-dtype', `labels must be integers, got ${array.dtype}`, { file });
  }
  return integerLabels(array, { file, numClasses });
}

async function readTextFeatures(dir: string, meta: FeatureDirMeta, cols: number): Promise<FeatureDir['textFeatures']> {
  const file = join(dir, FILES.text);
  const exists = await stat(file).then(
    () => true,
    () => false,
  );
  if (!exists) return undefined;
  const array = await readNpy(file);
  const c = meta.classNames.length;
  const { shape } = array;
  const ok =
    (shape.length === 2 && shape[0] === c && shape[1] === cols) ||
    (shape.length === 3 && shape[1] === c && shape[2] === cols && (meta.templates === undefined || shape[0] === meta.templates.length));
  if (!ok) {
    throw new DatasetError(
      'shape-mismatch',
      `text_features shape [${shape.join(', ')}] must be [C, D] = [${c}, ${cols}] or [templates, ${c}, ${cols}]`,
      { file },
    );
  }
  return { data: toFloat32(array, file), shape: [...shape] };
}

/**
 * Reads a feature directory: `features.npy` (N × D float), `labels.npy` (N integers),
 * `meta.json` ({@link FeatureDirMeta}) and optional `text_features.npy` ([C, D] or
 * [templates, C, D]). Any float dtype is converted to Float32, any integer labels to Int32.
 */
export async function readFeatureDir(dir: string): Promise<FeatureDir> {
  const meta = await readMeta(dir);
  const featureFile = join(dir, FILES.features);
  const labelFile = join(dir, FILES.labels);
  const features = await readNpy(featureFile);
  if (features.shape.length !== 2)
    throw new DatasetError('shape-mismatch', `features must be N × D, got shape [${features.shape.join(', ')}]`, { file: featureFile });
  const [rows, cols] = features.shape as [number, number];
  const labels = toLabels(await readNpy(labelFile), meta.classNames.length, labelFile);
  if (labels.length !== rows)
    throw new DatasetError('shape-mismatch', `labels has ${labels.length} entries, features has ${rows} rows`, { file: labelFile });
  const data = toFloat32(features, featureFile);
  assertFiniteValues(data, features.shape, { file: featureFile, what: 'features' });
  const out: FeatureDir = { features: { data, rows, cols }, labels, meta };
  const text = await readTextFeatures(dir, meta, cols);
  if (text) out.textFeatures = text;
  return out;
}

/** A batch of a streamed feature directory. */
export interface FeatureBatch {
  start: number;
  /** rows × D, Float32 */
  features: Matrix;
  labels: Int32Array;
}

/**
 * Streams a feature directory's features in batches of `batchRows` rows (labels, meta and
 * text features are small and read up front). Memory: O(batchRows · D) for the features.
 */
export async function* streamFeatureDir(
  dir: string,
  options: {
    batchRows?: number;
    signal?: AbortSignal;
    onOpen?: (info: Omit<FeatureDir, 'features'> & { rows: number; cols: number }) => void;
  } = {},
): AsyncGenerator<FeatureBatch> {
  const meta = await readMeta(dir);
  const featureFile = join(dir, FILES.features);
  const labelFile = join(dir, FILES.labels);
  const reader = await openNpy(featureFile);
  try {
    const { shape } = reader.header;
    if (shape.length !== 2)
      throw new DatasetError('shape-mismatch', `features must be N × D, got shape [${shape.join(', ')}]`, { file: featureFile });
    const [rows, cols] = shape as [number, number];
    const labels = toLabels(await readNpy(labelFile), meta.classNames.length, labelFile);
    if (labels.length !== rows)
      throw new DatasetError('shape-mismatch', `labels has ${labels.length} entries, features has ${rows} rows`, { file: labelFile });
    const textFeatures = await readTextFeatures(dir, meta, cols);
    options.onOpen?.({ meta, labels, rows, cols, ...(textFeatures ? { textFeatures } : {}) });
    for await (const batch of reader.batches(options.batchRows ?? 4096, options)) {
      throwIfAborted(options.signal);
      const n = batch.array.shape[0]!;
      const data = toFloat32(batch.array, featureFile);
      for (let k = 0; k < data.length; k++) {
        const v = data[k]!;
        if (v - v !== 0) {
          const row = batch.start + Math.floor(k / cols);
          throw new DatasetError('invalid-argument', `features[${row}, ${k % cols}] is ${v} (values must be finite)`, {
            file: featureFile,
          });
        }
      }
      yield {
        start: batch.start,
        features: { data, rows: n, cols },
        labels: labels.subarray(batch.start, batch.start + n),
      };
    }
  } finally {
    await reader.close();
  }
}

function checkMatrix(m: Matrix, what: string): void {
  if (!Number.isSafeInteger(m.rows) || !Number.isSafeInteger(m.cols) || m.rows < 0 || m.cols < 1 || m.data.length !== m.rows * m.cols) {
    throw new DatasetError('shape-mismatch', `${what}: ${m.data.length} values do not make a ${m.rows} × ${m.cols} matrix`);
  }
}

/**
 * Writes a feature directory (each file atomically; `meta.json` last, so a directory with a
 * meta.json is complete). Features are stored float32, labels int64 (numpy's default int).
 */
export async function writeFeatureDir(
  dir: string,
  data: {
    features: Matrix;
    labels: ArrayLike<number>;
    meta: FeatureDirMeta;
    textFeatures?: { data: TypedArray | ArrayLike<number>; shape: number[] };
  },
): Promise<void> {
  const meta = parseMeta({ version: 1, ...data.meta }, join(dir, FILES.meta));
  checkMatrix(data.features, 'features');
  if (data.labels.length !== data.features.rows)
    throw new DatasetError('shape-mismatch', `${data.labels.length} labels for ${data.features.rows} feature rows`);
  const labels = toLabels(
    { dtype: 'int32', shape: [data.labels.length], data: Int32Array.from(data.labels) },
    meta.classNames.length,
    join(dir, FILES.labels),
  );
  await writeNpy(join(dir, FILES.features), {
    dtype: 'float32',
    shape: [data.features.rows, data.features.cols],
    data: Float32Array.from(data.features.data),
  });
  await writeNpy(join(dir, FILES.labels), { dtype: 'int64', shape: [labels.length], data: BigInt64Array.from(labels, (y) => BigInt(y)) });
  if (data.textFeatures) {
    const { shape } = data.textFeatures;
    const c = meta.classNames.length;
    const ok =
      (shape.length === 2 && shape[0] === c && shape[1] === data.features.cols) ||
      (shape.length === 3 && shape[1] === c && shape[2] === data.features.cols);
    if (!ok)
      throw new DatasetError(
        'shape-mismatch',
        `text_features shape [${shape.join(', ')}] must be [${c}, ${data.features.cols}] or [T, ${c}, ${data.features.cols}]`,
      );
    await writeNpy(join(dir, FILES.text), {
      dtype: 'float32',
      shape,
      data: Float32Array.from(data.textFeatures.data as ArrayLike<number>),
    });
  }
  await writeFileAtomic(join(dir, FILES.meta), `${JSON.stringify(meta, null, 2)}\n`);
}

/** Streams rows into a feature directory (for exports larger than memory). */
export interface FeatureDirWriter {
  /** Appends rows × D features and their labels. */
  append(features: Matrix, labels: ArrayLike<number>): Promise<void>;
  /** Finishes the files (meta.json last) and returns the row count. */
  close(): Promise<number>;
  abort(): Promise<void>;
}

/** Creates a streaming feature directory writer for D-dimensional features. */
export async function createFeatureDirWriter(
  dir: string,
  options: { meta: FeatureDirMeta; cols: number; textFeatures?: { data: TypedArray | ArrayLike<number>; shape: number[] } },
): Promise<FeatureDirWriter> {
  const meta = parseMeta({ version: 1, ...options.meta }, join(dir, FILES.meta));
  const numClasses = meta.classNames.length;
  const features = await createNpyWriter(join(dir, FILES.features), { dtype: 'float32', rowShape: [options.cols] });
  const labels = await createNpyWriter(join(dir, FILES.labels), { dtype: 'int64', rowShape: [] });
  return {
    async append(batch, batchLabels) {
      checkMatrix(batch, 'features');
      if (batch.cols !== options.cols)
        throw new DatasetError('shape-mismatch', `features have ${batch.cols} columns, the writer was created for ${options.cols}`);
      if (batchLabels.length !== batch.rows)
        throw new DatasetError('shape-mismatch', `${batchLabels.length} labels for ${batch.rows} rows`);
      const ys = new BigInt64Array(batchLabels.length);
      for (let i = 0; i < ys.length; i++) {
        const y = batchLabels[i]!;
        if (!Number.isInteger(y) || y < 0 || y >= numClasses)
          throw new DatasetError('label-out-of-range', `label ${y} is outside [0, ${numClasses})`, { file: dir });
        ys[i] = BigInt(y);
      }
      await features.append(batch.data);
      await labels.append(ys);
    },
    async close() {
      const rows = await features.close();
      await labels.close();
      if (options.textFeatures) {
        await writeNpy(join(dir, FILES.text), {
          dtype: 'float32',
          shape: options.textFeatures.shape,
          data: Float32Array.from(options.textFeatures.data as ArrayLike<number>),
        });
      }
      await writeFileAtomic(join(dir, FILES.meta), `${JSON.stringify(meta, null, 2)}\n`);
      return rows;
    },
    async abort() {
      await features.abort();
      await labels.abort();
    },
  };
}
