import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BrowserSession, openBrowser, runInBrowser } from '../browser/harness';
import { buildConformanceFixtures } from '../fixtures/conformance-fixtures';

const entry = (name: string) => fileURLToPath(new URL(`./browser/${name}`, import.meta.url));

describe('browser harness', () => {
  let browser: BrowserSession;
  const logs: string[] = [];
  beforeAll(async () => {
    browser = await openBrowser();
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('returns the page result with typed arrays as arrays and serves files', async () => {
    const result = await browser.run({
      entry: entry('echo-entry.ts'),
      args: { file: '/data/bytes.bin' },
      files: { '/data/bytes.bin': new Uint8Array([1, 2, 250]) },
      onLog: (type, text) => logs.push(`${type}: ${text}`),
    });
    expect(result).toEqual({
      floats: [0.5, -1.25],
      ints: [1, (2n ** 60n).toString()],
      served: [1, 2, 250],
      missingStatus: 404,
      isolated: false,
    });
  });

  it('rethrows the page error with its message', async () => {
    await expect(browser.run({ entry: entry('echo-entry.ts'), args: { fail: 'bad index 7' } })).rejects.toThrow('RangeError: bad index 7');
  });

  it('runs onnxruntime-web from /ort/ and agrees with onnxruntime-node; COOP/COEP give isolation and threads', async () => {
    const fixtures = buildConformanceFixtures();
    const files = { '/models/affine.onnx': fixtures.affine.bytes };
    const web = (await browser.run({
      entry: entry('ort-entry.ts'),
      args: { model: '/models/affine.onnx' },
      files,
      crossOriginIsolated: true,
    })) as { y: number[]; dims: number[]; threads: number };
    const session = await ort.InferenceSession.create(fixtures.affine.bytes);
    const node = await session.run({ x: new ort.Tensor('float32', new Float32Array([1, 2, 3, 4]), [1, 4]) });
    await session.release();
    expect(web.dims).toEqual([1, 3]);
    const nodeY = Array.from(node['y']!.data as Float32Array);
    for (const [i, v] of web.y.entries()) expect(Math.abs(v - nodeY[i]!)).toBeLessThanOrEqual(1e-6);
    expect(web.threads).toBe(2);
    const isolated = (await browser.run({ entry: entry('echo-entry.ts'), args: {}, crossOriginIsolated: true })) as {
      isolated: boolean;
    };
    expect(isolated.isolated).toBe(true);
  });

  it('runInBrowser launches and closes its own browser', async () => {
    const result = (await runInBrowser({ entry: entry('echo-entry.ts'), args: {} })) as { floats: number[] };
    expect(result.floats).toEqual([0.5, -1.25]);
  });
});
