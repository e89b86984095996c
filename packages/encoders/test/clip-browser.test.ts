import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { debias } from '@gla/core';
import { buildClipFixtures } from '@gla/fixtures/clip';
import { type BrowserSession, openBrowser } from '@gla/tooling/browser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClipModel, IMAGENET_TEMPLATES, type RawImage } from '../src/index';
import { readClipTokenizerFile, readImageFile } from '../src/node';
import { maxAbsDiff, readNpy, sharedPath } from './clip-helpers';
import { createTestRuntime } from './clip-runtime';

const here = path.dirname(fileURLToPath(import.meta.url));
const CIFAR10 = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];
const imageNames = CIFAR10.map((c, i) => `${c}/${String(i).padStart(4, '0')}.jpg`);
const pngCases = ['case0_32x32', 'case1_32x32', 'case2_320x200', 'case3_150x400'];
const prior = CIFAR10.map((_, c) => (c + 1) / 55);
const templates = IMAGENET_TEMPLATES.slice(0, 8);

interface PageResult {
  decoded: { width: number; height: number; channels: 1 | 2 | 3 | 4; data: number[] }[];
  logits: number[];
  debiasedLogits: number[];
  predictions: { label: string; score: number }[][];
  secondLogits: number[];
  progress: number[];
  textRunsAfterFirst: number;
  textRunsAfterSecond: number;
  pngPixels: number[][];
  errors: Record<string, { name: string; code: string; message: string } | null | number>;
}

let browser: BrowserSession;
let page: PageResult;

beforeAll(async () => {
  const fixtures = buildClipFixtures();
  const files: Record<string, string | Uint8Array> = {
    '/clip/bpe_simple_vocab_16e6.txt.gz': sharedPath('data/clip/bpe_simple_vocab_16e6.txt.gz'),
    '/models/text_model.onnx': fixtures.textModel,
    '/models/vision_model.onnx': fixtures.visionModel,
  };
  for (const name of imageNames) files[`/images/${name}`] = sharedPath(`data/images/cifar10-sample/${name}`);
  for (const c of pngCases) files[`/png/${c}.png`] = sharedPath(`data/preprocess-golden/${c}.png`);
  browser = await openBrowser();
  page = (await browser.run({
    entry: path.join(here, 'browser/clip-page.ts'),
    files,
    timeoutMs: 90_000,
    args: {
      images: imageNames.map((n) => `/images/${n}`),
      pngs: pngCases.map((c) => `/png/${c}.png`),
      labels: CIFAR10,
      logPrior: prior.map(Math.log),
      templates,
    },
  })) as PageResult;
}, 120_000);

afterAll(async () => {
  await browser?.close();
});

describe('end-to-end in Chromium: @gla/onnx-web + @gla/encoders + @gla/core', () => {
  it('zero-shot logits and debiased logits equal Node on the same decoded pixels (≤ 1e-4)', async () => {
    const runtime = await createTestRuntime();
    const tokenizer = await readClipTokenizerFile(sharedPath('data/clip/bpe_simple_vocab_16e6.txt.gz'));
    const fixtures = buildClipFixtures();
    const model = await ClipModel.load(runtime, { textModel: fixtures.textModel, visionModel: fixtures.visionModel }, { tokenizer });
    const samePixels: RawImage[] = page.decoded.map((d) => ({ ...d, data: Uint8Array.from(d.data) }));
    const node = await model.classify(samePixels, CIFAR10, { templates, logPrior: prior.map(Math.log) });
    expect(page.logits).toHaveLength(100);
    const logitDiff = maxAbsDiff(page.logits, node.logits.data);
    const debiasedDiff = maxAbsDiff(page.debiasedLogits, node.debiasedLogits!.data);
    console.log(`[browser] logits max-abs vs Node ${logitDiff.toExponential(2)}, debiased ${debiasedDiff.toExponential(2)}`);
    expect(logitDiff).toBeLessThanOrEqual(1e-4);
    expect(debiasedDiff).toBeLessThanOrEqual(1e-4);
    expect(maxAbsDiff(page.debiasedLogits, debias(node.logits, prior.map(Math.log), {}).data)).toBeLessThanOrEqual(1e-4);
    for (let i = 0; i < 10; i++) expect(page.predictions[i]![0]!.label).toBe(node.predictions[i]![0]!.label);
    await model.release();
  });

  it("the platform's JPEG decodes vs libjpeg (sharp): reported, within ±2 grey levels", async () => {
    let worst = 0;
    for (const [i, name] of imageNames.entries()) {
      const ref = await readImageFile(sharedPath(`data/images/cifar10-sample/${name}`));
      const d = page.decoded[i]!;
      expect([d.width, d.height, d.channels]).toEqual([32, 32, 4]);
      const rgb = d.data.filter((_, k) => k % 4 !== 3);
      worst = Math.max(worst, maxAbsDiff(rgb, ref.data));
    }
    console.log(`[browser] Chromium JPEG decode max-abs vs libjpeg-turbo (sharp): ${worst} grey levels`);
    expect(worst).toBeLessThanOrEqual(2);
  });

  it('PNG goldens through the browser decoder + preprocessing (≤ 1e-5)', () => {
    for (const [i, c] of pngCases.entries()) {
      const golden = readNpy(sharedPath(`data/preprocess-golden/${c}.clip224.npy`));
      const diff = maxAbsDiff(page.pngPixels[i]!, golden.data);
      console.log(`[browser] ${c}.png max-abs ${diff.toExponential(2)}`);
      expect(diff).toBeLessThanOrEqual(1e-5);
    }
  });

  it('head caching, progress, abort and typed errors in the browser', () => {
    expect(page.progress).toEqual([4, 8, 10]);
    expect(page.textRunsAfterFirst).toBe(20); // 8 templates × 10 classes in batches of 4
    expect(page.textRunsAfterSecond).toBe(page.textRunsAfterFirst);
    expect(page.secondLogits).toEqual(page.logits.slice(0, 20));
    const e = page.errors;
    expect(e['notImage']).toMatchObject({ name: 'EncoderError', code: 'invalid-image' });
    expect((e['notImage'] as { message: string }).message).toMatch(/23 bytes starting 64 65 66/);
    expect(e['truncatedJpeg']).toMatchObject({ code: 'invalid-image', message: expect.stringMatching(/JPEG .* truncated/) });
    expect(e['emptyLabels']).toMatchObject({ code: 'empty-labels' });
    expect(e['badTemplate']).toMatchObject({ code: 'invalid-template' });
    expect(e['notOnnx']).toMatchObject({ code: 'invalid-model' });
    expect(e['aborted']).toMatchObject({ name: 'RuntimeError', code: 'aborted' });
    expect(e['imageRunsDuringAbort']).toBe(1);
  });
});

// Keep a reference to the goldens' JSON so a renamed file fails loudly.
readFileSync(sharedPath('data/preprocess-golden/golden.json'));
