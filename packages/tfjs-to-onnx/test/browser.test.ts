// The universal root converts in a real browser (Chromium): same ONNX bytes and report as in Node.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CHROMIUM_PATH, runInBrowser } from '@gla/tooling/browser';
import { describe, expect, it } from 'vitest';
import { convertGraphModelFromDir, resolveModelPackageDir, USE_LITE_PACKAGE } from '../src/node';

const entry = fileURLToPath(new URL('./browser-entry.ts', import.meta.url));

describe.skipIf(!existsSync(CHROMIUM_PATH))('@gla/tfjs-to-onnx in Chromium (universal root)', () => {
  it('converts USE lite from fetched model.json + shards to the same bytes and report as Node', async () => {
    const dir = resolveModelPackageDir(USE_LITE_PACKAGE, import.meta.url);
    const paths: string[] = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')).weightsManifest.flatMap(
      (group: { paths: string[] }) => group.paths,
    );
    const files: Record<string, string> = { '/model/model.json': join(dir, 'model.json') };
    for (const path of paths) files[`/model/${path}`] = join(dir, path);
    const web = (await runInBrowser({
      entry,
      files,
      args: { modelJson: '/model/model.json', shards: paths.map((p) => `/model/${p}`) },
      timeoutMs: 120_000,
    })) as { sha256: string; bytes: number; report: unknown };
    const node = await convertGraphModelFromDir(dir);
    expect(web.bytes).toBe(node.onnx.byteLength);
    expect(web.sha256).toBe(createHash('sha256').update(node.onnx).digest('hex'));
    expect(web.report).toEqual(node.report);
  }, 180_000);
});
