import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../src/cli';
import { loadFeatureDir } from '../src/dataset';
import { FORTUNES_DIR, FORTUNES_OTHER } from '../src/fortunes';

// Real data: Debian's fortunes and USE lite through ONNX Runtime (cached after the first run).
const haveFortunes = FORTUNES_OTHER.categories.every((c) => existsSync(join(FORTUNES_DIR, c)));

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gla-export-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe.skipIf(!haveFortunes)('gla export-features → gla run --features (real fortunes, USE lite)', () => {
  it('exports the feature directory and runs the protocol on it', { timeout: 240_000 }, async () => {
    const print = () => {};
    const features = join(dir, 'features');
    expect(await main(['export-features', '--dataset', FORTUNES_OTHER.name, '--out', features], print)).toBe(0);
    const ds = await loadFeatureDir(features);
    expect(ds.classNames).toEqual(FORTUNES_OTHER.categories);
    expect(ds.promptNames).toEqual(FORTUNES_OTHER.promptNames);
    expect(ds.features.cols).toBe(512);
    expect(ds.features.rows).toBe(ds.labels.length);
    expect(ds.features.rows).toBeGreaterThan(3000);
    expect(ds.textFeatures.templates).toBe(4);
    expect(ds.model).toMatch(/^use-lite-onnx:[0-9a-f]{64}$/);
    // USE embeddings are (nearly) unit vectors
    let norm = 0;
    for (let j = 0; j < 512; j++) norm += ds.features.data[j]! ** 2;
    expect(Math.sqrt(norm)).toBeCloseTo(1, 2);

    const out = join(dir, 'out');
    expect(await main(['run', '--features', features, '--out', out, '--seeds', '1', '--shots', '1,4', '--no-long-tail'], print)).toBe(0);
    const doc = JSON.parse(await readFile(join(out, 'results.json'), 'utf8'));
    expect(doc.dataset.examples).toBe(ds.features.rows);
    const acc = doc.dataset.fewShot.methods;
    // far above chance (1/12) for the probe-based methods
    expect(acc['linear-probe']['4'].mean).toBeGreaterThan(0.4);
    expect(acc.gla['4'].mean).toBeGreaterThan(0.4);
  });
});
