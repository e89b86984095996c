// Runs in headless Chromium (bundled by tooling/browser/harness.ts): Universal Sentence Encoder lite
// on @gla/onnx-web (wasm). Used by test/use-browser.test.ts and bench/use.bench.ts.
import { createWebRuntime } from '@gla/onnx-web';
import { UniversalSentenceEncoder } from '../src/use/index';

export interface BrowserEncodeArgs {
  /** URL path of the converted .onnx file. */
  readonly model: string;
  /** URL path of vocab.json. */
  readonly vocabulary: string;
  readonly texts: readonly string[];
  readonly batchSize: number;
  /** Benchmark: time this many batches of consecutive texts (input order) after the first encode. */
  readonly inputOrderBatches?: number;
  /** Benchmark: time this many passes of `encode(texts)` (length-sorted batches). */
  readonly sortedPasses?: number;
  /** wasm threads (used only when the page is cross-origin isolated). */
  readonly threads?: number;
}

export default async function run(args: BrowserEncodeArgs) {
  const response = await fetch(args.vocabulary);
  if (!response.ok) throw new Error(`cannot fetch ${args.vocabulary}: ${response.status}`);
  const vocabulary = await response.text();
  const runtime = createWebRuntime({
    wasmPaths: '/ort/',
    executionProviders: ['wasm'],
    ...(args.threads !== undefined ? { threads: args.threads } : {}),
  });
  const encoder = await UniversalSentenceEncoder.load(runtime, {
    model: new URL(args.model, globalThis.location.href),
    vocabulary,
  });
  try {
    const embeddings = await encoder.encode(args.texts, { batchSize: args.batchSize });
    const inputOrderMs: number[] = [];
    for (let b = 0; b < (args.inputOrderBatches ?? 0); b++) {
      const batch = args.texts.slice(b * args.batchSize, (b + 1) * args.batchSize);
      const t0 = performance.now();
      await encoder.encode(batch, { batchSize: args.batchSize, sortByLength: false });
      inputOrderMs.push(performance.now() - t0);
    }
    const sortedPassMs: number[] = [];
    for (let r = 0; r < (args.sortedPasses ?? 0); r++) {
      const t0 = performance.now();
      await encoder.encode(args.texts, { batchSize: args.batchSize });
      sortedPassMs.push(performance.now() - t0);
    }
    return {
      data: embeddings.data,
      rows: embeddings.rows,
      cols: embeddings.cols,
      executionProvider: encoder.session.executionProvider,
      inputOrderMs,
      sortedPassMs,
    };
  } finally {
    await encoder.release();
  }
}
