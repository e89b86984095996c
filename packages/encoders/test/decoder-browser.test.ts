import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runInBrowser } from '@gla/tooling/browser';
import { describe, expect, it } from 'vitest';
import { type DecoderCaseResult, decoderCaseNames } from './decoder-conformance';
import { decoderGoldenFiles } from './decoder-goldens';

const here = path.dirname(fileURLToPath(import.meta.url));

describe('decoder conformance: the platform decoder in Chromium (decodeImageInBrowser)', async () => {
  const { dir, jpegs, pngs } = decoderGoldenFiles();
  const files: Record<string, string> = {};
  const serve = (file: string) => {
    const url = `/golden/${path.basename(file)}`;
    files[url] = path.join(dir, file);
    return url;
  };
  const results = (await runInBrowser({
    entry: path.join(here, 'browser/decoder-page.ts'),
    files,
    timeoutMs: 90_000,
    args: {
      jpegs: jpegs.map((c) => ({ name: c.input, url: serve(c.input), npy: serve(c.decoded_rgb!) })),
      pngs: pngs.map((c) => ({ name: c.input, url: serve(c.input), npy: serve(c.golden!), width: c.size![0], height: c.size![1] })),
    },
  })) as DecoderCaseResult[];
  it('runs every case', () => {
    expect(results.map((r) => r.name)).toEqual(decoderCaseNames);
  });
  for (const r of results) {
    it(r.name, () => {
      console.log(`[decoder chromium] ${r.name}: ${r.detail}`);
      expect(r, r.detail).toMatchObject({ ok: true });
    });
  }
}, 120_000);
