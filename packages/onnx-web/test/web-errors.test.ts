import { fileURLToPath } from 'node:url';
import { buildConformanceFixtures } from '@gla/fixtures/conformance';
import { type BrowserSession, openBrowser } from '@gla/tooling/browser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const entry = fileURLToPath(new URL('./browser/errors-entry.ts', import.meta.url));
const files = { '/models/affine.onnx': buildConformanceFixtures().affine.bytes };
let browser: BrowserSession;
beforeAll(async () => {
  browser = await openBrowser();
});
afterAll(async () => {
  await browser?.close();
});

type Outcome = { code: string; message: string };

describe('createWebRuntime in headless Chromium', () => {
  it('names the URL and HTTP status, validates options, loads ArrayBuffers, threads = 1 without isolation', async () => {
    const r = (await browser.run({ entry, files, args: { wasmPaths: '/ort/' }, onLog: () => undefined })) as Record<string, Outcome> & {
      defaults: string[];
      threadsWhenNotIsolated: number;
    };
    expect(r['notFound']!.code).toBe('model-not-found');
    expect(r['notFound']!.message).toMatch(/http:\/\/127\.0\.0\.1:\d+\/models\/missing\.onnx: HTTP 404/);
    expect(r['serverError']!.code).toBe('model-not-found');
    expect(r['badProvider']!.code).toBe('unsupported-provider');
    expect(r['badThreads']!.code).toBe('RangeError');
    expect(r['load']!.code).toBe('ok');
    expect(r.threadsWhenNotIsolated).toBe(1);
    expect(r.defaults.at(-1)).toBe('wasm');
  });

  it("a wrong wasmPaths gives 'unsupported-provider' with a hint", async () => {
    const r = (await browser.run({ entry, files, args: { wasmPaths: '/not-ort/' }, onLog: () => undefined })) as Record<string, Outcome>;
    expect(r['load']!.code).toBe('unsupported-provider');
    expect(r['load']!.message).toMatch(/wasmPaths/);
  });
});
