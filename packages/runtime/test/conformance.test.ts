import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { buildConformanceFixtures } from '../../../tooling/fixtures/conformance-fixtures';
import { fixtureDataModule } from '../../../tooling/fixtures/conformance-write';
import { PACKED_CONFORMANCE_FIXTURES } from '../src/conformance/fixture-data';
import { conformanceCases, conformanceFixtures, packConformanceFixtures, runConformance } from '../src/conformance/index';
import type { Runtime } from '../src/index';

describe('conformance suite', () => {
  it('has uniquely named cases covering the contract', () => {
    const names = conformanceCases.map((c) => c.name);
    expect(new Set(names).size).toBe(names.length);
    expect(names.length).toBeGreaterThanOrEqual(15);
  });

  it('reports every failure of a runtime that cannot load anything, with a message, and skips cases without fixtures', async () => {
    const broken: Runtime = {
      name: 'broken',
      load: async () => {
        throw new Error('nope');
      },
    };
    const results = await runConformance(broken, buildConformanceFixtures());
    expect(results).toHaveLength(conformanceCases.length);
    const skipped = results.filter((r) => r.skipped);
    expect(skipped.map((r) => r.name).sort()).toEqual(
      ["a missing location throws 'model-not-found' naming it", 'loads a model from its location (path or URL)'].sort(),
    );
    for (const r of results.filter((x) => !x.skipped)) {
      expect(r.ok).toBe(false);
      expect(r.error).toMatch(/nope|RuntimeError/);
    }
  });

  it('ships the fixtures of tooling/fixtures byte for byte (regenerate: node --conditions=source --import tsx tooling/fixtures/conformance-write.ts)', () => {
    const built = packConformanceFixtures(buildConformanceFixtures());
    const shipped = conformanceFixtures();
    expect(packConformanceFixtures(shipped)).toEqual(built);
    const dataFile = fileURLToPath(new URL('../src/conformance/fixture-data.ts', import.meta.url));
    expect(readFileSync(dataFile, 'utf8')).toBe(fixtureDataModule(built));
    expect(Buffer.from(PACKED_CONFORMANCE_FIXTURES, 'base64')).toEqual(Buffer.from(built));
    // fresh copies: a caller that modifies one cannot break the next
    shipped.affine.bytes[0] = 0;
    expect(conformanceFixtures().affine.bytes[0]).toBe(buildConformanceFixtures().affine.bytes[0]);
    expect(shipped.affine.inputs).toEqual([{ name: 'x', dtype: 'float32', shape: ['batch', 4] }]);
    expect(shipped.dtypes.samples.length).toBeGreaterThan(0);
    expect(shipped.runFailure.failingFeeds).toBeDefined();
  });
});
