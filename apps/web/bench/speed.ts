/**
 * Browser vs Node speed of the app's two heavy steps on the sample (300 fortunes):
 * embedding the texts (USE lite: onnxruntime-web wasm in headless Chromium, with and without
 * threads, vs onnxruntime-node) and the prior solve (T by NLL + estimatePrior on all rows: the
 * app's Web Worker vs Node). Interleaved repetitions; medians. Run:
 *   pnpm --filter @gla/web bench [--reps=3]
 */
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { applyHead, calibrateTemperature, estimatePrior, l2Normalize, zeroShotHead } from '@gla/core';
import { SENTENCE_TEMPLATES, UniversalSentenceEncoder } from '@gla/encoders';
import { createNodeRuntime } from '@gla/onnx-node';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '@gla/tooling/browser';
import { chromium } from 'playwright-core';
import { build } from 'vite';
import '@gla/kernels-wasm'; // Node runs the solve on the wasm-simd kernels, as the CLI and the app's worker do
import { serveDist } from '../test/serve';
import config from '../vite.config';

process.env['ORT_DISABLE_TELEMETRY'] = '1';
const reps = Number(process.argv.find((a) => a.startsWith('--reps='))?.slice(7) ?? 3);
const appDir = fileURLToPath(new URL('..', import.meta.url));
const outDir = join(appDir, 'node_modules', '.cache', 'gla-web-bench-dist');
const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!;

await build({ ...config, root: appDir, configFile: false, logLevel: 'warn', build: { ...config.build, outDir, emptyOutDir: true } });
const sample = JSON.parse(readFileSync(join(outDir, 'sample', 'fortunes.json'), 'utf8')) as {
  texts: string[];
  labels: number[];
  classNames: string[];
};
const manifest = JSON.parse(readFileSync(join(outDir, 'models', 'manifest.json'), 'utf8')) as { model: string; vocabulary: string };
const vocabulary = readFileSync(join(outDir, manifest.vocabulary), 'utf8');
const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: [...CHROMIUM_ARGS] });

async function browserRun(isolated: boolean): Promise<{ textsPerSecond: number; solveMs: number }> {
  const server = await serveDist(outDir, { isolated });
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    page.setDefaultTimeout(300_000);
    await page.goto(`${server.origin}/`);
    await page.waitForFunction(() => document.body.dataset['model'] === 'ready', null, { timeout: 180_000 });
    await page.click('[data-testid=load-sample]');
    await page.waitForSelector('#step-classes:not([hidden])');
    await page.click('[data-testid=run-zero-shot]');
    await page.waitForSelector('#step-prior:not([hidden])', { timeout: 300_000 });
    await page.check('[data-testid=mode-all]');
    await page.click('[data-testid=estimate-prior]');
    await page.waitForSelector('[data-testid=accuracy-table]');
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid=download-results]')]);
    const results = JSON.parse(await readFile((await download.path())!, 'utf8'));
    return { textsPerSecond: results.timing.textsPerSecond, solveMs: results.timing.solveMs };
  } finally {
    await context.close();
    await server.close();
  }
}

async function nodeRun(): Promise<{ textsPerSecond: number; solveMs: number }> {
  const encoder = await UniversalSentenceEncoder.load(createNodeRuntime(), { model: join(outDir, manifest.model), vocabulary });
  const t0 = performance.now();
  const f = await encoder.encode(sample.texts, { batchSize: 32 });
  const ms = performance.now() - t0;
  const prompts = SENTENCE_TEMPLATES.flatMap((t) => sample.classNames.map((c) => t.split('{}').join(c)));
  const p = await encoder.encode(prompts, { batchSize: 64 });
  await encoder.release();
  const C = sample.classNames.length;
  const z = applyHead(
    zeroShotHead({ data: p.data, rows: p.rows, cols: p.cols }, { classes: C, scale: 100 }),
    l2Normalize({ data: f.data, rows: f.rows, cols: f.cols }),
  );
  const y = Int32Array.from(sample.labels);
  const t1 = performance.now();
  estimatePrior(z, y, { temperature: calibrateTemperature(z, y, { method: 'nll' }), tolerance: 1e-9, maxIterations: 500 });
  return { textsPerSecond: sample.texts.length / (ms / 1000), solveMs: performance.now() - t1 };
}

const rows: Record<string, { textsPerSecond: number[]; solveMs: number[] }> = {
  node: { textsPerSecond: [], solveMs: [] },
  'browser, wasm, threads (COOP/COEP)': { textsPerSecond: [], solveMs: [] },
  'browser, wasm, 1 thread (no COOP/COEP)': { textsPerSecond: [], solveMs: [] },
};
for (let r = 0; r < reps; r++) {
  for (const [name, run] of [
    ['node', nodeRun],
    ['browser, wasm, threads (COOP/COEP)', () => browserRun(true)],
    ['browser, wasm, 1 thread (no COOP/COEP)', () => browserRun(false)],
  ] as const) {
    const m = await run();
    rows[name]!.textsPerSecond.push(m.textsPerSecond);
    rows[name]!.solveMs.push(m.solveMs);
    process.stderr.write(`rep ${r + 1} ${name}: ${m.textsPerSecond.toFixed(1)} texts/s, solve ${m.solveMs.toFixed(1)} ms\n`);
  }
}
await browser.close();
const node = rows['node']!;
console.log(`| runtime | embed texts/s (median of ${reps}) | vs Node | prior solve ms (median) | vs Node |`);
console.log('|---|---:|---:|---:|---:|');
for (const [name, v] of Object.entries(rows))
  console.log(
    `| ${name} | ${median(v.textsPerSecond).toFixed(1)} | ${(median(v.textsPerSecond) / median(node.textsPerSecond)).toFixed(2)}x | ${median(v.solveMs).toFixed(1)} | ${(median(v.solveMs) / median(node.solveMs)).toFixed(2)}x |`,
  );
