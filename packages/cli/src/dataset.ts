import { join } from 'node:path';
import type { Matrix } from '@gla/core';
import { classCounts, readFeatureDir, writeFeatureDir } from '@gla/datasets';
import { CliError } from './errors';

/**
 * A labelled feature dataset: what every experiment runs on. Features are N x D (L2-normalised by
 * the protocol), text features give the zero-shot head.
 */
export interface FeatureDataset {
  name: string;
  /** Where it came from (folder or generator), for the report. */
  source: string;
  features: Matrix;
  labels: Int32Array;
  /** Class identifiers (e.g. fortunes file names). */
  classNames: string[];
  /** Prompt-friendly names used in the templates. */
  promptNames: string[];
  templates: string[];
  /** Templates x C x D (T = 1 allowed): the class prompt embeddings. */
  textFeatures: { data: Float32Array | Float64Array; templates: number; classes: number; dim: number };
  /** Feature model id. */
  model: string;
  /** Zero-shot logit scale s (logits = s * cos). */
  logitScale: number;
}

/** meta.json of a feature directory. Unknown keys are kept and ignored. */
export interface FeatureMeta {
  name?: string;
  classNames: string[];
  promptNames?: string[];
  templates?: string[];
  model?: string;
  logitScale?: number;
  [key: string]: unknown;
}

export const DEFAULT_LOGIT_SCALE = 100;

/**
 * Loads a feature directory (@gla/datasets format): features.npy (N x D), labels.npy (N),
 * meta.json (classNames, templates, modelId; bench adds promptNames and logitScale),
 * text_features.npy (C x D or templates x C x D; required here for the zero-shot head).
 */
export async function loadFeatureDir(dir: string): Promise<FeatureDataset> {
  let fd: Awaited<ReturnType<typeof readFeatureDir>>;
  try {
    fd = await readFeatureDir(dir);
  } catch (error) {
    const e = error as { code?: string; message: string; file?: string };
    const where = e.file && !e.message.includes(e.file) ? `${e.file}: ` : '';
    throw new CliError(e.code === 'not-found' || e.code === 'io' ? 'io' : 'data', `${where}${e.message}`);
  }
  const meta = fd.meta as FeatureMeta & { modelId?: string };
  const C = meta.classNames.length;
  if (C < 2) throw new CliError('data', `${join(dir, 'meta.json')}: needs at least 2 classes`);
  if (!fd.textFeatures)
    throw new CliError(
      'data',
      `${join(dir, 'text_features.npy')} is missing: the zero-shot head needs class text embeddings (C x D or templates x C x D)`,
    );
  const shape = fd.textFeatures.shape.length === 2 ? [1, ...fd.textFeatures.shape] : fd.textFeatures.shape;
  const templates = Array.isArray(meta.templates) ? meta.templates.map(String) : Array.from({ length: shape[0]! }, () => '{}');
  return {
    name: typeof meta.name === 'string' ? meta.name : (dir.split('/').filter(Boolean).pop() ?? 'features'),
    source: dir,
    features: fd.features,
    labels: fd.labels,
    classNames: meta.classNames,
    promptNames: Array.isArray(meta.promptNames) && meta.promptNames.length === C ? meta.promptNames.map(String) : meta.classNames,
    templates,
    textFeatures: { data: fd.textFeatures.data, templates: shape[0]!, classes: C, dim: fd.features.cols },
    model: typeof meta.modelId === 'string' ? meta.modelId : typeof meta.model === 'string' ? meta.model : 'unknown',
    logitScale: typeof meta.logitScale === 'number' && meta.logitScale > 0 ? meta.logitScale : DEFAULT_LOGIT_SCALE,
  };
}

/** Writes a dataset in the feature-directory format (each file atomic; meta.json last). */
export async function saveFeatureDir(dir: string, ds: FeatureDataset, extra: Record<string, unknown> = {}): Promise<void> {
  const t = ds.textFeatures;
  try {
    await writeFeatureDir(dir, {
      features: ds.features,
      labels: ds.labels,
      meta: {
        name: ds.name,
        classNames: ds.classNames,
        promptNames: ds.promptNames,
        templates: ds.templates,
        modelId: ds.model,
        logitScale: ds.logitScale,
        classCounts: Array.from(classCounts(ds.labels, ds.classNames.length)),
        ...extra,
      },
      textFeatures: { data: t.data, shape: [t.templates, t.classes, t.dim] },
    });
  } catch (error) {
    throw new CliError('io', `cannot write feature directory ${dir}: ${(error as Error).message}`);
  }
}
