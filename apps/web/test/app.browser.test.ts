/// <reference types="node" />
// The built app in headless Chromium (Debian's /usr/bin/chromium via playwright-core), served by
// a local static server with and without COOP/COEP: the sample flow by keyboard alone equals the
// same computation in Node; the feature-directory q.npy equals `gla prior --temperature nll`; bad
// files change nothing; no request leaves the page's origin; screenshots; axe-core.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { calibrateTemperature, estimatePrior, type Matrix } from '@gla/core';
import { decodeNpy, encodeNpy } from '@gla/datasets';
import { SENTENCE_TEMPLATES, UniversalSentenceEncoder } from '@gla/encoders';
import { createNodeRuntime } from '@gla/onnx-node';
import { prepareData } from '@gla/protocols';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '@gla/tooling/browser';
import axe from 'axe-core';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { PNG } from 'pngjs';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { priorCommand } from '../../../packages/cli/src/commands/npy-ops';
import { writeLabels, writeMatrix } from '../../../packages/cli/src/npyio';
import config from '../vite.config';
import { type StaticServer, serveDist } from './serve';

process.env['ORT_DISABLE_TELEMETRY'] = '1';

const appDir = fileURLToPath(new URL('..', import.meta.url));
const outDir = join(appDir, 'node_modules', '.cache', 'gla-web-test-dist');
const docsDir = join(appDir, 'docs');
const UPDATE_DOCS = process.env['GLA_UPDATE_SCREENSHOTS'] === '1';
const fortunes = existsSync('/usr/share/games/fortunes/computers');

interface Sample {
  available: boolean;
  classNames: string[];
  texts: string[];
  labels: number[];
}

let browser: Browser;
let sample: Sample;
let modelPath: string;
let vocabulary: string;
let nodeFeatures: Matrix;
let nodePrompts: Matrix;
let nodeEmbedMs = 0;
const shots: { name: string; bytes: number; nonWhite: number }[] = [];
const speed: Record<string, number> = {};

/** Fraction of pixels that are not (near-)white, and the number of distinct colours (coarse). */
function inkOf(png: Buffer): { nonWhite: number; colours: number } {
  const img = PNG.sync.read(png);
  let ink = 0;
  const colours = new Set<number>();
  for (let i = 0; i < img.data.length; i += 4) {
    const r = img.data[i]!;
    const g = img.data[i + 1]!;
    const b = img.data[i + 2]!;
    if (r < 235 || g < 235 || b < 235) ink++;
    colours.add(((r >> 4) << 8) | ((g >> 4) << 4) | (b >> 4));
  }
  return { nonWhite: ink / (img.width * img.height), colours: colours.size };
}

async function screenshot(page: Page, step: string, sectionId: string): Promise<void> {
  for (const [w, h] of [
    [1280, 800],
    [390, 844],
  ] as const) {
    await page.setViewportSize({ width: w, height: h });
    await page.evaluate((id) => document.getElementById(id)?.scrollIntoView({ block: 'start' }), sectionId);
    const png = await page.screenshot({ type: 'png' });
    const { nonWhite, colours } = inkOf(png);
    const name = `${step}-${w}x${h}.png`;
    shots.push({ name, bytes: png.length, nonWhite });
    expect(nonWhite, `${name} looks blank`).toBeGreaterThan(0.02);
    expect(colours, `${name} has too few colours`).toBeGreaterThan(8);
    if (UPDATE_DOCS) {
      mkdirSync(docsDir, { recursive: true });
      writeFileSync(join(docsDir, name), png);
    }
  }
  await page.setViewportSize({ width: 1280, height: 800 });
}

/** A fresh context whose every request outside `origin` is aborted and recorded. */
async function openPage(server: StaticServer): Promise<{ context: BrowserContext; page: Page; foreign: string[]; errors: string[] }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, acceptDownloads: true });
  const foreign: string[] = [];
  const errors: string[] = [];
  await context.route('**/*', (route) => {
    const url = route.request().url();
    if (url.startsWith('blob:') || url.startsWith('data:') || new URL(url).origin === server.origin) return route.continue();
    foreign.push(url);
    return route.abort('blockedbyclient');
  });
  const page = await context.newPage();
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${server.origin}/`);
  return { context, page, foreign, errors };
}

async function tabTo(page: Page, selector: string, max = 80): Promise<void> {
  for (let k = 0; k < max; k++) {
    if (await page.evaluate((s) => document.activeElement === document.querySelector(s), selector)) return;
    await page.keyboard.press('Tab');
  }
  throw new Error(`Tab never reached ${selector}`);
}

async function downloadBy(page: Page, action: () => Promise<void>): Promise<Buffer> {
  const [download] = await Promise.all([page.waitForEvent('download'), action()]);
  return readFile((await download.path())!);
}

async function messageText(page: Page): Promise<string> {
  await page.waitForSelector('[data-testid=message]:not([hidden])', { timeout: 10_000 });
  return (await page.textContent('[data-testid=message]')) ?? '';
}

function nodeLogits(features: Matrix, prompts: Matrix, classes: number, templates: number): Matrix {
  // the CLI's recipe (@gla/protocols prepareData, what `gla run` uses), independent of the app's
  return prepareData({
    features,
    labels: new Int32Array(features.rows),
    classNames: Array.from({ length: classes }, (_, c) => String(c)),
    textFeatures: { data: prompts.data as Float32Array, templates, classes, dim: prompts.cols },
    logitScale: 100,
  }).z;
}

describe.skipIf(!existsSync(CHROMIUM_PATH) || !fortunes)('the web app in Chromium', () => {
  beforeAll(async () => {
    const t0 = performance.now();
    await build({ ...config, root: appDir, configFile: false, logLevel: 'warn', build: { ...config.build, outDir, emptyOutDir: true } });
    speed['buildMs'] = performance.now() - t0;
    sample = JSON.parse(readFileSync(join(outDir, 'sample', 'fortunes.json'), 'utf8')) as Sample;
    const manifest = JSON.parse(readFileSync(join(outDir, 'models', 'manifest.json'), 'utf8')) as { model: string; vocabulary: string };
    modelPath = join(outDir, manifest.model);
    vocabulary = readFileSync(join(outDir, manifest.vocabulary), 'utf8');
    const encoder = await UniversalSentenceEncoder.load(createNodeRuntime(), { model: modelPath, vocabulary });
    const t1 = performance.now();
    const f = await encoder.encode(sample.texts, { batchSize: 32 });
    nodeEmbedMs = performance.now() - t1;
    nodeFeatures = { data: f.data, rows: f.rows, cols: f.cols };
    const prompts = SENTENCE_TEMPLATES.flatMap((t) => sample.classNames.map((c) => t.split('{}').join(c)));
    const p = await encoder.encode(prompts, { batchSize: 64 });
    nodePrompts = { data: p.data, rows: p.rows, cols: p.cols };
    await encoder.release();
    browser = await chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: [...CHROMIUM_ARGS] });
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    if (shots.length)
      process.stdout.write(
        `[web] screenshots: ${shots.map((s) => `${s.name} ${(s.bytes / 1024).toFixed(0)} kB ink ${(s.nonWhite * 100).toFixed(0)}%`).join('; ')}\n`,
      );
    process.stdout.write(`[web] speed: ${JSON.stringify(speed)}\n`);
  });

  it('sample flow by keyboard alone (COOP/COEP, wasm threads) equals Node; screenshots; axe; no foreign request', async () => {
    expect(sample.available).toBe(true);
    const server = await serveDist(outDir, { isolated: true });
    const { context, page, foreign, errors } = await openPage(server);
    try {
      expect(await page.evaluate(() => globalThis.crossOriginIsolated)).toBe(true);
      await page.waitForFunction(() => document.body.dataset['model'] !== undefined, null, { timeout: 120_000 });
      expect(await page.evaluate(() => document.body.dataset['model'])).toBe('ready');
      expect(await page.textContent('[data-testid=model-status]')).toMatch(/on (wasm \(2 threads|webgpu)/);
      await screenshot(page, '0-start', 'step-data');
      // axe on the first screen
      await page.addScriptTag({ content: axe.source });
      const axeStart = await page.evaluate(async () => (await (globalThis as unknown as { axe: typeof axe }).axe.run(document)).violations);
      // keyboard only from here on
      await page.focus('body');
      await tabTo(page, '[data-testid=load-sample]');
      await page.keyboard.press('Enter');
      await page.waitForSelector('#step-classes:not([hidden])');
      await screenshot(page, '1-data', 'step-classes');
      await tabTo(page, '[data-testid=run-zero-shot]');
      const tz = performance.now();
      await page.keyboard.press('Enter');
      await page.waitForSelector('#step-prior:not([hidden])', { timeout: 180_000 });
      speed['browserZeroShotMs'] = performance.now() - tz;
      await screenshot(page, '2-bias', 'step-bias');
      await tabTo(page, '#mode-k');
      await page.keyboard.press('ArrowDown'); // radio group: k per class → all labelled rows
      expect(await page.isChecked('[data-testid=mode-all]')).toBe(true);
      await tabTo(page, '[data-testid=estimate-prior]');
      await page.keyboard.press('Enter');
      await page.waitForSelector('[data-testid=accuracy-table]', { timeout: 60_000 });
      await screenshot(page, '3-results', 'step-results');
      await tabTo(page, '[data-testid=download-results]');
      const results = JSON.parse((await downloadBy(page, () => page.keyboard.press('Enter'))).toString('utf8'));
      const qBytes = await downloadBy(page, () => page.click('[data-testid=download-prior]'));
      // Node: the same texts, the same model on onnxruntime-node, the CLI's logits, core's solver
      const C = sample.classNames.length;
      const z = nodeLogits(nodeFeatures, nodePrompts, C, SENTENCE_TEMPLATES.length);
      const y = Int32Array.from(sample.labels);
      const T = calibrateTemperature(z, y, { method: 'nll' });
      const q = estimatePrior(z, y, { temperature: T, tolerance: 1e-9, maxIterations: 500 });
      const q2 = decodeNpy(new Uint8Array(qBytes), 'q.npy');
      expect(q2.shape).toEqual([C]);
      for (let c = 0; c < C; c++) {
        expect(Math.abs(results.prior.prior[c] - q.prior[c]!)).toBeLessThan(1e-6);
        expect(Math.abs((q2.data[c] as number) - q.prior[c]!)).toBeLessThan(1e-6);
      }
      expect(Math.abs(results.prior.temperature - T)).toBeLessThan(1e-6 * T);
      expect(results.timing.kernels).toBe('wasm-simd'); // the worker's solve ran on @gla/kernels-wasm
      const argmax = (m: Matrix, i: number) => {
        let b = 0;
        for (let j = 1; j < m.cols; j++) if (m.data[i * m.cols + j]! > m.data[i * m.cols + b]!) b = j;
        return b;
      };
      const before = Array.from({ length: z.rows }, (_, i) => argmax(z, i));
      const debiased = { data: Float64Array.from(z.data, (v, k) => v / T - q.logPrior[k % C]!), rows: z.rows, cols: C };
      const after = Array.from({ length: z.rows }, (_, i) => argmax(debiased, i));
      expect(results.evaluation.predictionsBefore).toEqual(before);
      expect(results.evaluation.predictionsAfter).toEqual(after);
      const acc = (p: number[]) => p.filter((v, i) => v === y[i]).length / y.length;
      const table = (await page.textContent('[data-testid=accuracy-table]')) ?? '';
      expect(table).toContain(`${(acc(before) * 100).toFixed(1)}%`);
      expect(table).toContain(`${(acc(after) * 100).toFixed(1)}%`);
      // axe on the full flow (plots, tables, downloads)
      const axeEnd = await page.evaluate(async () => (await (globalThis as unknown as { axe: typeof axe }).axe.run(document)).violations);
      const serious = [...axeStart, ...axeEnd].filter((v) => v.impact === 'serious' || v.impact === 'critical');
      expect(serious.map((v) => `${v.id}: ${v.help} (${v.nodes.length})`)).toEqual([]);
      // the prior solve in Node on the same logits, for the README
      const solves: number[] = [];
      for (let r = 0; r < 7; r++) {
        const t = performance.now();
        estimatePrior(z, y, { temperature: calibrateTemperature(z, y, { method: 'nll' }), tolerance: 1e-9, maxIterations: 500 });
        solves.push(performance.now() - t);
      }
      speed['nodeSolveMsMedian'] = solves.sort((a, b) => a - b)[3]!;
      speed['browserSolveMs'] = results.timing.solveMs;
      speed['browserTextsPerSecond'] = results.timing.textsPerSecond;
      speed['nodeTextsPerSecond'] = sample.texts.length / (nodeEmbedMs / 1000);
      // second visit: the model comes from the origin's Cache Storage, not the network
      const modelRequests = server.requests.filter((r) => r.endsWith('.onnx')).length;
      await page.reload();
      await page.waitForFunction(() => document.body.dataset['model'] !== undefined, null, { timeout: 120_000 });
      expect(await page.textContent('[data-testid=model-status]')).toContain('from the browser cache');
      expect(server.requests.filter((r) => r.endsWith('.onnx')).length).toBe(modelRequests);
      expect(errors).toEqual([]);
      expect(foreign).toEqual([]);
      expect(server.requests).toContain('/ort/ort-wasm-simd-threaded.jsep.wasm');
    } finally {
      await context.close();
      await server.close();
    }
  }, 300_000);

  it('feature directory: q.npy equals `gla prior --temperature nll` (1e-6); bad files show a message and change nothing', async () => {
    const C = sample.classNames.length;
    const T = SENTENCE_TEMPLATES.length;
    const D = nodeFeatures.cols;
    const meta = { name: 'fortunes-use', classNames: sample.classNames, templates: [...SENTENCE_TEMPLATES], modelId: 'use-lite' };
    const file = (name: string, buffer: Uint8Array | string) => ({
      name,
      mimeType: 'application/octet-stream',
      buffer: Buffer.from(buffer),
    });
    const good = {
      features: encodeNpy({ dtype: 'float32', shape: [nodeFeatures.rows, D], data: nodeFeatures.data }),
      labels: encodeNpy({ dtype: 'int64', shape: [sample.labels.length], data: sample.labels }),
      meta: JSON.stringify(meta),
      text: encodeNpy({ dtype: 'float32', shape: [T, C, D], data: nodePrompts.data }),
    };
    const dirFiles = (o: Partial<typeof good> = {}) => {
      const f = { ...good, ...o };
      return [file('features.npy', f.features), file('labels.npy', f.labels), file('meta.json', f.meta), file('text_features.npy', f.text)];
    };
    // the CLI on the same logits
    const tmp = await mkdtemp(join(tmpdir(), 'gla-web-'));
    const z = nodeLogits(nodeFeatures, nodePrompts, C, T);
    await writeMatrix(join(tmp, 'Z.npy'), z, 'float64');
    await writeLabels(join(tmp, 'Y.npy'), sample.labels);
    await priorCommand(
      { logits: join(tmp, 'Z.npy'), labels: join(tmp, 'Y.npy'), out: join(tmp, 'Q.npy'), temperature: 'nll' },
      () => undefined,
    );
    const cliQ = decodeNpy(new Uint8Array(await readFile(join(tmp, 'Q.npy'))), 'Q.npy').data as Float64Array;
    const cliSidecar = JSON.parse(await readFile(join(tmp, 'Q.npy.json'), 'utf8')) as { temperature: number };
    await rm(tmp, { recursive: true, force: true });

    const server = await serveDist(outDir, { isolated: true });
    const { context, page, foreign, errors } = await openPage(server);
    try {
      await page.setInputFiles('[data-testid=feature-files]', dirFiles());
      await page.waitForSelector('#step-classes:not([hidden])');
      expect(await page.textContent('[data-testid=data-summary]')).toContain(`${nodeFeatures.rows} x ${D} features, ${C} classes`);
      await page.click('[data-testid=run-zero-shot]');
      await page.waitForSelector('#step-prior:not([hidden])');
      await page.check('[data-testid=mode-all]');
      await page.check('#t-nll');
      await page.click('[data-testid=estimate-prior]');
      await page.waitForSelector('[data-testid=accuracy-table]');
      const q = decodeNpy(new Uint8Array(await downloadBy(page, () => page.click('[data-testid=download-prior]'))), 'q.npy');
      expect(q.dtype).toBe('float64');
      expect(q.shape).toEqual([C]);
      for (let c = 0; c < C; c++) expect(Math.abs((q.data[c] as number) - cliQ[c]!)).toBeLessThan(1e-6);
      const sidecar = JSON.parse((await downloadBy(page, () => page.click('[data-testid=download-prior-json]'))).toString('utf8'));
      expect(Math.abs(sidecar.temperature - cliSidecar.temperature)).toBeLessThan(1e-6 * cliSidecar.temperature);
      const logits = decodeNpy(new Uint8Array(await downloadBy(page, () => page.click('[data-testid=download-logits]'))), 'debiased.npy');
      expect(logits.shape).toEqual([nodeFeatures.rows, C]);

      // bad files: a clear message, and nothing already computed changes
      const snapshot = async () => ({
        table: await page.textContent('[data-testid=accuracy-table]'),
        summary: await page.textContent('[data-testid=data-summary]'),
        prior: await page.textContent('[data-testid=prior-summary]'),
        classes: await page.inputValue('[data-testid=class-names]'),
        resultsVisible: await page.isVisible('#step-results'),
      });
      const before = await snapshot();
      const cases: [string, () => Promise<void>, RegExp][] = [
        [
          'CSV without a text column',
          () => page.setInputFiles('[data-testid=text-file]', [file('notes.csv', 'title,label\nhello,love\n')]),
          /notes\.csv has no text column/,
        ],
        [
          'truncated .npy',
          () =>
            page.setInputFiles('[data-testid=feature-files]', dirFiles({ features: good.features.slice(0, good.features.length - 100) })),
          /features\.npy.*(truncated|bytes)/i,
        ],
        [
          'labels outside the class list',
          () =>
            page.setInputFiles(
              '[data-testid=feature-files]',
              dirFiles({
                labels: encodeNpy({ dtype: 'int64', shape: [sample.labels.length], data: sample.labels.map((l, i) => (i === 7 ? 9 : l)) }),
              }),
            ),
          /labels\.npy\[7\] = 9 is outside \[0, 6\)/,
        ],
        [
          '2-class meta with 3-class labels',
          () =>
            page.setInputFiles('[data-testid=feature-files]', [
              file('features.npy', encodeNpy({ dtype: 'float32', shape: [3, D], data: nodeFeatures.data.slice(0, 3 * D) })),
              file('labels.npy', encodeNpy({ dtype: 'int64', shape: [3], data: [0, 1, 2] })),
              file('meta.json', JSON.stringify({ classNames: ['a', 'b'] })),
              file('text_features.npy', encodeNpy({ dtype: 'float32', shape: [2, D], data: nodePrompts.data.slice(0, 2 * D) })),
            ]),
          /labels\.npy\[2\] = 2 is outside \[0, 2\): meta\.json lists 2 classes/,
        ],
      ];
      for (const [what, act, expected] of cases) {
        await act();
        expect(await messageText(page), what).toMatch(expected);
        expect(await snapshot(), what).toEqual(before);
        if (what === 'truncated .npy') await screenshot(page, '4-bad-file', 'step-results');
        await page.click('#message-close');
      }
      // the viewer: a results.json written by `gla run` (test/fixtures, from this sample's features)
      await page.setInputFiles('[data-testid=results-file]', join(appDir, 'test', 'fixtures', 'gla-run-results.json'));
      await page.waitForSelector('[data-testid=viewer-few-shot]');
      const viewer = (await page.textContent('[data-testid=viewer-few-shot]')) ?? '';
      expect(viewer).toContain('k=8');
      expect(viewer).toContain('zero-shot');
      expect(await page.locator('#viewer-output svg').count()).toBe(4);
      await screenshot(page, '5-viewer', 'viewer');
      const viewerHtml = await page.innerHTML('#viewer-output');
      await page.setInputFiles('[data-testid=results-file]', [file('other.json', JSON.stringify({ schema: 'something-else' }))]);
      expect(await messageText(page)).toMatch(/other\.json: schema is "something-else", expected one of "gla-bench\/results@2"/);
      expect(await page.innerHTML('#viewer-output')).toBe(viewerHtml);
      expect(await snapshot()).toEqual(before);
      const q2 = decodeNpy(new Uint8Array(await downloadBy(page, () => page.click('[data-testid=download-prior]'))), 'q.npy');
      expect(Array.from(q2.data as Float64Array)).toEqual(Array.from(q.data as Float64Array));
      expect(errors).toEqual([]);
      expect(foreign).toEqual([]);
    } finally {
      await context.close();
      await server.close();
    }
  }, 120_000);

  it('without COOP/COEP (single-threaded wasm) the texts flow works and equals Node; a label outside the class list is refused', async () => {
    const pick = sample.labels.flatMap((_, i) => (i % 50 < 4 ? [i] : []));
    const csv = `text,label\n${pick.map((i) => `"${sample.texts[i]!.replace(/"/g, '""')}",${sample.classNames[sample.labels[i]!]}`).join('\n')}\n`;
    const server = await serveDist(outDir, { isolated: false });
    const { context, page, foreign, errors } = await openPage(server);
    try {
      expect(await page.evaluate(() => globalThis.crossOriginIsolated)).toBe(false);
      await page.waitForFunction(() => document.body.dataset['model'] !== undefined, null, { timeout: 120_000 });
      expect(await page.textContent('[data-testid=model-status]')).toMatch(/1 thread/);
      await page.setInputFiles('[data-testid=text-file]', [{ name: 'mine.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) }]);
      await page.waitForSelector('#step-classes:not([hidden])');
      const classes = await page.inputValue('[data-testid=class-names]');
      expect(classes.split('\n')).toEqual(sample.classNames);
      await page.fill('[data-testid=class-names]', sample.classNames.filter((c) => c !== 'science').join('\n'));
      await page.click('[data-testid=run-zero-shot]');
      expect(await messageText(page)).toMatch(/mine\.csv, row \d+: label "science" is not in the class list/);
      expect(await page.isVisible('#step-bias')).toBe(false);
      await page.click('#message-close');
      await page.fill('[data-testid=class-names]', classes);
      const t0 = performance.now();
      await page.click('[data-testid=run-zero-shot]');
      await page.waitForSelector('#step-prior:not([hidden])', { timeout: 120_000 });
      speed['browserSingleThreadZeroShotMs'] = performance.now() - t0;
      await page.fill('[data-testid=shots]', '2');
      await page.click('[data-testid=estimate-prior]');
      await page.waitForSelector('[data-testid=accuracy-table]');
      const results = JSON.parse((await downloadBy(page, () => page.click('[data-testid=download-results]'))).toString('utf8'));
      speed['browserSingleThreadTextsPerSecond'] = results.timing.textsPerSecond;
      expect(results.timing.crossOriginIsolated).toBe(false);
      const sub = {
        data: Float32Array.from(pick.flatMap((i) => Array.from(nodeFeatures.data.subarray(i * 512, (i + 1) * 512)))),
        rows: pick.length,
        cols: 512,
      };
      const z = nodeLogits(sub, nodePrompts, sample.classNames.length, SENTENCE_TEMPLATES.length);
      const rows: number[] = results.evaluation.rows;
      const expected = rows.map((r) => {
        let b = 0;
        for (let j = 1; j < z.cols; j++) if (z.data[r * z.cols + j]! > z.data[r * z.cols + b]!) b = j;
        return b;
      });
      expect(results.evaluation.predictionsBefore).toEqual(expected);
      expect(rows.length).toBe(pick.length - 2 * sample.classNames.length);
      // no labels: predicted share, then label-free prior matching to the uniform marginal
      const unlabelled = `text\n${pick.map((i) => `"${sample.texts[i]!.replace(/"/g, '""')}"`).join('\n')}\n`;
      await page.setInputFiles('[data-testid=text-file]', [{ name: 'plain.csv', mimeType: 'text/csv', buffer: Buffer.from(unlabelled) }]);
      await page.waitForSelector('#step-bias', { state: 'hidden' });
      await page.fill('[data-testid=class-names]', classes);
      await page.click('[data-testid=run-zero-shot]');
      await page.waitForSelector('#step-prior:not([hidden])', { timeout: 120_000 });
      expect(await page.textContent('[data-testid=bias-summary]')).toMatch(/^No labels: the model puts/);
      expect(await page.isChecked('[data-testid=mode-label-free]')).toBe(true);
      expect(await page.isDisabled('[data-testid=mode-all]')).toBe(true);
      await page.click('[data-testid=estimate-prior]');
      await page.waitForSelector('[data-testid=accuracy-table]');
      const free = JSON.parse((await downloadBy(page, () => page.click('[data-testid=download-results]'))).toString('utf8'));
      expect(free.prior.mode).toBe('label-free');
      expect(free.prior.temperature).toBe(1);
      // prior matching: the debiased predicted mass is uniform (checked on the mean softmax in Node)
      const zr = nodeLogits(sub, nodePrompts, sample.classNames.length, SENTENCE_TEMPLATES.length);
      const ref = estimatePrior(zr, undefined, {
        temperature: 1,
        targetMarginal: new Float64Array(6).fill(1 / 6),
        tolerance: 1e-9,
        maxIterations: 500,
      });
      for (let c = 0; c < 6; c++) expect(Math.abs(free.prior.prior[c] - ref.prior[c]!)).toBeLessThan(1e-6);
      expect(await page.textContent('[data-testid=accuracy-table]')).toContain('predicted share');
      expect(errors).toEqual([]);
      expect(foreign).toEqual([]);
    } finally {
      await context.close();
      await server.close();
    }
  }, 180_000);
});
