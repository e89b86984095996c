import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadFeatureDir } from '../src/dataset';
import { syntheticCommand } from '../src/synthetic';

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
});
