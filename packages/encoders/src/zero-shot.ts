import { cosineLogits, debias, type Matrix, softmax, zeroShotHead } from '@gla/core';
import type { BatchOptions } from './batching';
import { EncoderError } from './errors';
import { checkClassNames, checkTemplates, DEFAULT_TEMPLATE, expandPrompts } from './templates';

/**
 * Anything that turns texts into embeddings (CLIP's text tower, a sentence encoder). `id` names
 * the model for caching: two embedders with the same id must give the same embeddings.
 */
export interface TextEmbedder {
  readonly id: string;
  /** Embeddings of `texts`, one row each (`texts.length × D`, row-major). */
  encodeTexts(texts: readonly string[], options?: BatchOptions): Promise<Matrix>;
}

/** A zero-shot classifier head: one unit-norm row per class (`C × D`). */
export interface ZeroShotHead {
  readonly labels: readonly string[];
  readonly templates: readonly string[];
  /** Class embeddings: per class, the renormalised mean of its normalised prompt embeddings. */
  readonly weights: Matrix;
}

/** Options of {@link buildZeroShotHead}. */
export interface ZeroShotHeadOptions extends BatchOptions {
  /** Prompt templates with `{}` (default `['a photo of a {}.']`). */
  readonly templates?: readonly string[];
  /** Cache to consult and fill (default: none). */
  readonly cache?: ZeroShotHeadCache;
}

/**
 * Least-recently-used cache of zero-shot heads keyed by model id + labels + templates, so a
 * 1000-class × 80-template head is encoded once and reused by every later call. Concurrent
 * requests for the same head share one build; a failed build is not cached.
 */
export class ZeroShotHeadCache {
  readonly #entries = new Map<string, Promise<ZeroShotHead>>();
  readonly maxEntries: number;
  /** Heads built (cache misses) since creation. */
  misses = 0;
  /** Heads served from the cache. */
  hits = 0;

  constructor(options: { maxEntries?: number } = {}) {
    const max = options.maxEntries ?? 16;
    if (!Number.isInteger(max) || max < 1) throw new EncoderError('invalid-input', `maxEntries must be a positive integer, got ${max}`);
    this.maxEntries = max;
  }

  /** Cache key of a head. */
  static key(modelId: string, labels: readonly string[], templates: readonly string[]): string {
    return JSON.stringify([modelId, labels, templates]);
  }

  get size(): number {
    return this.#entries.size;
  }

  clear(): void {
    this.#entries.clear();
  }

  /** The cached head for `key`, or the result of `build` (stored on success). */
  async getOrBuild(key: string, build: () => Promise<ZeroShotHead>): Promise<ZeroShotHead> {
    const cached = this.#entries.get(key);
    if (cached) {
      this.hits++;
      this.#entries.delete(key);
      this.#entries.set(key, cached);
      return cached;
    }
    this.misses++;
    const pending = build();
    this.#entries.set(key, pending);
    while (this.#entries.size > this.maxEntries) this.#entries.delete(this.#entries.keys().next().value!);
    try {
      return await pending;
    } catch (error) {
      if (this.#entries.get(key) === pending) this.#entries.delete(key);
      throw error;
    }
  }
}

/**
 * Builds the zero-shot head of `labels` with prompt ensembling: encodes every
 * template × label prompt (in batches, with progress and abort), then `@gla/core`'s
 * `zeroShotHead` averages each class's normalised prompt embeddings and renormalises.
 * @throws EncoderError `empty-labels`, `invalid-template`
 */
export async function buildZeroShotHead(
  embedder: TextEmbedder,
  labels: readonly string[],
  options: ZeroShotHeadOptions = {},
): Promise<ZeroShotHead> {
  const templates = options.templates ?? [DEFAULT_TEMPLATE];
  checkClassNames(labels);
  checkTemplates(templates);
  const labelsCopy = Object.freeze([...labels]);
  const templatesCopy = Object.freeze([...templates]);
  const build = async (): Promise<ZeroShotHead> => {
    const prompts = expandPrompts(labelsCopy, templatesCopy);
    const batch: BatchOptions = {
      ...(options.batchSize !== undefined ? { batchSize: options.batchSize } : {}),
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    };
    const embeddings = await embedder.encodeTexts(prompts, batch);
    // Unit rows (scale 1): the logit scale is applied by classifyFeatures.
    const { weights } = zeroShotHead(embeddings, { classes: labelsCopy.length, scale: 1 });
    return Object.freeze({ labels: labelsCopy, templates: templatesCopy, weights });
  };
  if (!options.cache) return build();
  return options.cache.getOrBuild(ZeroShotHeadCache.key(embedder.id, labelsCopy, templatesCopy), build);
}

/** One prediction, compatible with transformers.js's zero-shot pipelines. */
export interface LabelScore {
  readonly label: string;
  readonly score: number;
}

/** Options of {@link classifyFeatures}. */
export interface ZeroShotClassifyOptions {
  /** Multiplier of the cosine similarities (CLIP's learned logit scale, default 100). */
  readonly logitScale?: number;
  /**
   * Log of the estimated label prior `q` (length C), subtracted from the logits before the
   * softmax (GLA's debiased zero-shot). `debiasedLogits` is returned alongside the raw logits.
   */
  readonly logPrior?: ArrayLike<number>;
  /** Temperature passed to `@gla/core`'s `debias` (default 1). */
  readonly temperature?: number;
  /** Keep only the best `topk` predictions per example (default: all classes). */
  readonly topk?: number;
}

/** Zero-shot output: predictions per example plus the logit matrices for `@gla/core`. */
export interface ZeroShotResult {
  /** Per example, every class (or the top k) with its softmax probability, best first. */
  readonly predictions: LabelScore[][];
  /** `N × C` raw logits: `logitScale · cos(feature, class)`. */
  readonly logits: Matrix;
  /** `N × C` debiased logits (present when `logPrior` was given); predictions use them. */
  readonly debiasedLogits?: Matrix;
  readonly labels: readonly string[];
}

/**
 * Classifies unit-norm features (`N × D`) with a head: logits `scale · cos`, optional
 * debiasing by `logPrior`, softmax, predictions sorted by score descending.
 */
export function classifyFeatures(features: Matrix, head: ZeroShotHead, options: ZeroShotClassifyOptions = {}): ZeroShotResult {
  const scale = options.logitScale ?? 100;
  if (typeof scale !== 'number' || !Number.isFinite(scale) || scale <= 0) {
    throw new EncoderError('invalid-input', `logitScale must be a finite number > 0, got ${String(scale)}`);
  }
  if (features.cols !== head.weights.cols) {
    throw new EncoderError(
      'shape-mismatch',
      `features have ${features.cols} columns but the head's class embeddings have ${head.weights.cols}`,
    );
  }
  const logits = cosineLogits(features, head.weights, scale);
  let debiasedLogits: Matrix | undefined;
  if (options.logPrior !== undefined) {
    if (options.logPrior.length !== head.labels.length) {
      throw new EncoderError(
        'shape-mismatch',
        `logPrior has length ${options.logPrior.length}, expected one entry per class (${head.labels.length})`,
      );
    }
    debiasedLogits = debias(logits, options.logPrior, options.temperature !== undefined ? { temperature: options.temperature } : {});
  }
  const probabilities = softmax(debiasedLogits ?? logits);
  const C = head.labels.length;
  const topk = Math.min(options.topk ?? C, C);
  const predictions: LabelScore[][] = [];
  for (let i = 0; i < probabilities.rows; i++) {
    const row: LabelScore[] = [];
    for (let c = 0; c < C; c++) row.push({ label: head.labels[c]!, score: probabilities.data[i * C + c]! });
    row.sort((a, b) => b.score - a.score);
    predictions.push(row.slice(0, topk));
  }
  return { predictions, logits, labels: head.labels, ...(debiasedLogits ? { debiasedLogits } : {}) };
}
