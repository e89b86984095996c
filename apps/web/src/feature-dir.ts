/**
 * A feature directory picked in the browser (features.npy, labels.npy, meta.json,
 * text_features.npy), decoded with @gla/datasets' byte-level `.npy` reader and validated as
 * `readFeatureDir` + the CLI's `loadFeatureDir` do (which need a file system).
 */
import type { Matrix } from '@gla/core';
import { decodeNpy } from '@gla/datasets';
import { AppError } from './errors';

export interface FeatureDirData {
  name: string;
  features: Matrix;
  labels: Int32Array;
  classNames: string[];
  promptNames: string[];
  templates: string[];
  /** Templates x C x D, template-major rows (row t*C + c), as @gla/core's zeroShotHead expects. */
  textFeatures: Matrix;
  logitScale: number;
  model: string;
}

export const DEFAULT_LOGIT_SCALE = 100;

function npy(files: Map<string, Uint8Array>, name: string) {
  const bytes = files.get(name);
  if (!bytes)
    throw new AppError(
      'missing-file',
      `The feature directory has no ${name} (pick features.npy, labels.npy, meta.json and text_features.npy together).`,
    );
  try {
    return decodeNpy(bytes, name);
  } catch (error) {
    const e = error as Error & { code?: string };
    throw new AppError('bad-feature-dir', `${e.message.startsWith(name) ? '' : `${name}: `}${e.message}${e.code ? ` [${e.code}]` : ''}`);
  }
}

function floats(array: ReturnType<typeof decodeNpy>, name: string): Float32Array {
  if (array.dtype === 'float32' || array.dtype === 'float16' || array.dtype === 'bfloat16') return array.data as Float32Array;
  if (array.dtype === 'float64') return Float32Array.from(array.data as Float64Array);
  throw new AppError('bad-feature-dir', `${name}: must hold floating-point numbers, got ${array.dtype}.`);
}

/** Decodes and validates the four files (by base name); throws AppError naming the file and the problem. */
export function readFeatureFiles(files: Map<string, Uint8Array>, name = 'features'): FeatureDirData {
  const metaBytes = files.get('meta.json');
  if (!metaBytes) throw new AppError('missing-file', 'The feature directory has no meta.json (it names the classes).');
  let meta: Record<string, unknown>;
  try {
    meta = JSON.parse(new TextDecoder().decode(metaBytes)) as Record<string, unknown>;
  } catch (error) {
    throw new AppError('bad-json', `meta.json is not valid JSON: ${(error as Error).message}.`);
  }
  if (meta === null || typeof meta !== 'object' || Array.isArray(meta))
    throw new AppError('bad-feature-dir', 'meta.json must hold a JSON object.');
  const classNames = (meta['classNames'] ?? meta['class_names']) as unknown;
  if (!Array.isArray(classNames) || classNames.length < 2 || !classNames.every((c) => typeof c === 'string'))
    throw new AppError('bad-feature-dir', 'meta.json: classNames must be an array of at least 2 strings.');
  if (new Set(classNames).size !== classNames.length) throw new AppError('bad-feature-dir', 'meta.json: classNames has duplicates.');
  const C = classNames.length;
  const f = npy(files, 'features.npy');
  if (f.shape.length !== 2) throw new AppError('bad-feature-dir', `features.npy must be N x D, got shape [${f.shape.join(', ')}].`);
  const [N, D] = f.shape as [number, number];
  const l = npy(files, 'labels.npy');
  if (l.shape.length !== 1) throw new AppError('bad-feature-dir', `labels.npy must be 1-D, got shape [${l.shape.join(', ')}].`);
  if (/^(float|complex|bfloat)/.test(l.dtype)) throw new AppError('bad-feature-dir', `labels.npy must hold integers, got ${l.dtype}.`);
  if (l.shape[0] !== N) throw new AppError('bad-feature-dir', `labels.npy has ${l.shape[0]} labels but features.npy has ${N} rows.`);
  const labels = new Int32Array(N);
  const raw = l.data as ArrayLike<number | bigint>;
  for (let i = 0; i < N; i++) {
    const y = Number(raw[i]);
    if (!Number.isInteger(y) || y < 0 || y >= C)
      throw new AppError(
        'label-not-in-classes',
        `labels.npy[${i}] = ${y} is outside [0, ${C}): meta.json lists ${C} classes (${classNames.join(', ')}).`,
      );
    labels[i] = y;
  }
  const t = npy(files, 'text_features.npy');
  const templatesMeta = Array.isArray(meta['templates']) ? (meta['templates'] as unknown[]).map(String) : undefined;
  const ok =
    (t.shape.length === 2 && t.shape[0] === C && t.shape[1] === D) ||
    (t.shape.length === 3 && t.shape[1] === C && t.shape[2] === D && (templatesMeta === undefined || t.shape[0] === templatesMeta.length));
  if (!ok)
    throw new AppError(
      'bad-feature-dir',
      `text_features.npy has shape [${t.shape.join(', ')}]; expected [C, D] = [${C}, ${D}] or [templates, ${C}, ${D}]${templatesMeta ? ` with ${templatesMeta.length} templates (meta.json)` : ''}.`,
    );
  const T = t.shape.length === 2 ? 1 : t.shape[0]!;
  const promptNames =
    Array.isArray(meta['promptNames']) && (meta['promptNames'] as unknown[]).length === C
      ? (meta['promptNames'] as unknown[]).map(String)
      : classNames;
  const scale = meta['logitScale'];
  return {
    name: typeof meta['name'] === 'string' ? meta['name'] : name,
    features: { data: floats(f, 'features.npy'), rows: N, cols: D },
    labels,
    classNames: classNames as string[],
    promptNames: promptNames as string[],
    templates: templatesMeta ?? Array.from({ length: T }, () => '{}'),
    textFeatures: { data: floats(t, 'text_features.npy'), rows: T * C, cols: D },
    logitScale: typeof scale === 'number' && scale > 0 ? scale : DEFAULT_LOGIT_SCALE,
    model: typeof meta['modelId'] === 'string' ? meta['modelId'] : typeof meta['model'] === 'string' ? meta['model'] : 'unknown',
  };
}
