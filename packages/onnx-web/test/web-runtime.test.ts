import { fileURLToPath } from 'node:url';
import { buildClipFixtures, expectedImageEmbeds, expectedTextEmbeds, samplePixelValues, sampleTokenIds } from '@gla/fixtures/clip';
import { createNodeRuntime } from '@gla/onnx-node';
import { type ConformanceResult, conformanceCases, conformanceFixtures, maxAbsDifference } from '@gla/runtime/conformance';
import { type BrowserSession, openBrowser } from '@gla/tooling/browser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const entry = (name: string) => fileURLToPath(new URL(`./browser/${name}`, import.meta.url));
const bytesOf = (a: ArrayBufferView) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

interface ConformanceRun {
  results: ConformanceResult[];
  executionProvider: string;
  threads: number;
  isolated: boolean;
  hasWebGpu: boolean;
  metadataHidden: boolean;
}

let browser: BrowserSession;
const fixtures = conformanceFixtures();
const conformanceFiles = { '/models/affine.onnx': fixtures.affine.bytes };
const runs: Record<string, ConformanceRun> = {};
/** Every URL the conformance pages requested: nothing may leave the local test server (no telemetry, no CDN). */
const requested: string[] = [];
const onRequest = (url: string) => requested.push(url);

beforeAll(async () => {
  browser = await openBrowser();
  // Two pages: default options without isolation (1 thread), and wasm with 2 threads under COOP/COEP.
  runs['default'] = (await browser.run({
    entry: entry('conformance-entry.ts'),
    files: conformanceFiles,
    args: { options: { wasmPaths: '/ort/' } },
    timeoutMs: 90_000,
    onRequest,
  })) as ConformanceRun;
  runs['isolated'] = (await browser.run({
    entry: entry('conformance-entry.ts'),
    files: conformanceFiles,
    args: { options: { wasmPaths: '/ort/', threads: 2, executionProviders: ['wasm'] } },
    crossOriginIsolated: true,
    timeoutMs: 90_000,
    onRequest,
  })) as ConformanceRun;
  // onnxruntime-web < 1.21 reports no metadata: the signature then comes from the model's declarations.
  runs['no-metadata'] = (await browser.run({
    entry: entry('conformance-entry.ts'),
    files: conformanceFiles,
    args: { options: { wasmPaths: '/ort/', executionProviders: ['wasm'] }, hideMetadata: true },
    timeoutMs: 90_000,
    onRequest,
  })) as ConformanceRun;
}, 270_000);

afterAll(async () => {
  await browser?.close();
});

const MODES = {
  default: 'default providers, not isolated',
  isolated: 'wasm, 2 threads, cross-origin isolated',
  'no-metadata': "wasm, ORT's metadata hidden (as onnxruntime-web < 1.21)",
} as const;

for (const mode of ['default', 'isolated', 'no-metadata'] as const) {
  describe(`conformance in headless Chromium: onnxruntime-web (${MODES[mode]})`, () => {
    it('ran every case, with the expected provider and threads', () => {
      const run = runs[mode]!;
      expect(run.results.map((r) => r.name)).toEqual(conformanceCases.map((c) => c.name));
      expect(run.results.filter((r) => r.skipped)).toEqual([]);
      expect(run.metadataHidden).toBe(mode === 'no-metadata');
      if (mode === 'isolated') {
        expect(run.isolated).toBe(true);
        expect(run.threads).toBe(2);
        expect(run.executionProvider).toBe('wasm');
      } else {
        expect(run.isolated).toBe(false);
        expect(run.threads).toBe(1);
        // Headless Chromium with --disable-gpu: WebGPU, if exposed, has no adapter, so wasm is used.
        expect(run.executionProvider).toBe('wasm');
      }
    });
    for (const c of conformanceCases) {
      it(c.name, () => {
        const result = runs[mode]!.results.find((r) => r.name === c.name);
        expect(result, 'case did not run').toBeDefined();
        if (!result!.ok) throw new Error(result!.error);
      });
    }
  });
}

describe('no network beyond the page: onnxruntime-web sends nothing elsewhere', () => {
  it('every request of both conformance pages went to the local test server', () => {
    expect(requested.length).toBeGreaterThan(5);
    // blob: and data: URLs are made in the page (ORT's worker scripts); every other one must be the test server's
    const local = (url: string) => {
      const u = new URL(url.startsWith('blob:') ? url.slice('blob:'.length) : url);
      return u.protocol === 'data:' || (u.protocol === 'http:' && u.hostname === '127.0.0.1');
    };
    expect(requested.filter((url) => !local(url))).toEqual([]);
    // the runtime's own files were among them, served from wasmPaths
    expect(requested.some((url) => /\/ort\/ort-wasm-simd-threaded.*\.wasm$/.test(url))).toBe(true);
  });
});

describe('same embeddings in Node (onnx-node) and the browser (onnx-web)', () => {
  it('CLIP fixture vision and text models agree within 1e-5, and with the reference', async () => {
    const clip = buildClipFixtures();
    const batch = 2;
    const pixels = samplePixelValues(batch, 3);
    const { inputIds, attentionMask } = sampleTokenIds(3, 77, 4);
    const web = (await browser.run({
      entry: entry('clip-entry.ts'),
      files: {
        '/models/vision_model.onnx': clip.visionModel,
        '/models/text_model.onnx': clip.textModel,
        '/inputs/pixels.bin': bytesOf(pixels),
        '/inputs/input_ids.bin': bytesOf(inputIds),
        '/inputs/attention_mask.bin': bytesOf(attentionMask),
      },
      args: { batch, textBatch: 3, seq: 77 },
    })) as { imageEmbeds: number[]; textEmbeds: number[]; lastHidden: number[] };

    const node = createNodeRuntime();
    const vision = await node.load(clip.visionModel);
    const text = await node.load(clip.textModel);
    const image = await vision.run({ pixel_values: { dtype: 'float32', dims: [batch, 3, 224, 224], data: pixels } });
    const textOut = await text.run({
      input_ids: { dtype: 'int64', dims: [3, 77], data: inputIds },
      attention_mask: { dtype: 'int64', dims: [3, 77], data: attentionMask },
    });
    await vision.release();
    await text.release();

    const imageDiff = maxAbsDifference(web.imageEmbeds, image['image_embeds']!.data as Float32Array);
    const textDiff = maxAbsDifference(web.textEmbeds, textOut['text_embeds']!.data as Float32Array);
    console.log(`node vs browser max-abs difference: image_embeds ${imageDiff.toExponential(2)}, text_embeds ${textDiff.toExponential(2)}`);
    expect(web.imageEmbeds).toHaveLength(batch * 32);
    expect(imageDiff).toBeLessThanOrEqual(1e-5);
    expect(textDiff).toBeLessThanOrEqual(1e-5);
    expect(maxAbsDifference(web.lastHidden, textOut['last_hidden_state']!.data as Float32Array)).toBeLessThanOrEqual(1e-5);
    expect(maxAbsDifference(web.imageEmbeds, expectedImageEmbeds(pixels, batch))).toBeLessThanOrEqual(1e-5);
    expect(maxAbsDifference(web.textEmbeds, expectedTextEmbeds('hf', inputIds, attentionMask, 3))).toBeLessThanOrEqual(1e-5);
  });
});
