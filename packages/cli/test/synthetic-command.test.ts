import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { accuracy, applyHead, zeroShotHead } from '@gla/core';
import { describe, expect, it } from 'vitest';
import { loadFeatureDir } from '../src/dataset';
import { syntheticCommand, syntheticDataset } from '../src/synthetic';

describe('gla synthetic', () => {
  it('writes a loadable, deterministic feature directory with the requested shape', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gla-synthetic-'));
    try {
      const lines: string[] = [];
      const opts = { classes: 40, dim: 24, 'per-class': 7, seed: 5, templates: 2 };
      await syntheticCommand({ ...opts, out: join(dir, 'a') }, (l) => lines.push(l));
      await syntheticCommand({ ...opts, out: join(dir, 'b') }, () => {});
      expect(lines[0]).toMatch(/280 examples x 24 dims, 40 classes/);
      const a = await loadFeatureDir(join(dir, 'a'));
      expect(a.features.rows).toBe(280);
      expect(a.features.cols).toBe(24);
      expect(a.classNames.length).toBe(40);
      expect(a.textFeatures.templates).toBe(2);
      for (let c = 0; c < 40; c++) expect(a.labels.filter((y) => y === c).length).toBe(7);
      expect(await readFile(join(dir, 'a', 'features.npy'))).toEqual(await readFile(join(dir, 'b', 'features.npy')));
      await expect(syntheticCommand({ classes: 3 }, () => {})).rejects.toThrow(/--out/);
      await expect(syntheticCommand({ out: join(dir, 'c'), 'min-per-class': 9, 'max-per-class': 3 }, () => {})).rejects.toThrow(/exceeds/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('noise is a norm: 512-d data with the CLI defaults (noise 4, text noise 1) is far from chance, unlike per-coordinate noise 0.3', () => {
    const zeroShotAccuracy = (noise: number, textNoise: number) => {
      const ds = syntheticDataset({ classes: 200, dim: 512, minPerClass: 10, maxPerClass: 10, seed: 7, templates: 1, noise, textNoise });
      const head = zeroShotHead({ data: ds.textFeatures.data, rows: 200, cols: 512 }, { classes: 200, scale: 20 });
      return accuracy(applyHead({ weights: head.weights, bias: new Float64Array(200) }, ds.features), ds.labels);
    };
    const defaults = zeroShotAccuracy(4, 1);
    expect(defaults).toBeGreaterThan(0.5);
    expect(defaults).toBeLessThan(0.99);
    // The old rule, per coordinate 0.3 and 0.25 at every D, is noise 0.3 sqrt(512) = 6.8: near chance (0.5 %).
    expect(zeroShotAccuracy(0.3 * Math.sqrt(512), 0.25 * Math.sqrt(512))).toBeLessThan(0.1);
    // At D = 16 the defaults are per coordinate 0.3 and 0.25 (the bytes of the tests' fixtures).
    const a = syntheticDataset({ classes: 6, dim: 16, seed: 42 });
    const b = syntheticDataset({ classes: 6, dim: 16, seed: 42, noise: 1.2, textNoise: 1 });
    expect(a.features.data).toEqual(b.features.data);
    expect(a.textFeatures.data).toEqual(b.textFeatures.data);
  });
});
