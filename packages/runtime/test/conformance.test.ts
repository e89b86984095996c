import { describe, expect, it } from 'vitest';
import { conformanceCases, conformanceFixtures, runConformance } from '../src/conformance/index';
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
    const results = await runConformance(broken, conformanceFixtures());
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

  it('ships fixtures as fresh copies: a caller that modifies one cannot break the next', () => {
    const shipped = conformanceFixtures();
    const first = shipped.affine.bytes[0];
    shipped.affine.bytes[0] = (first ?? 0) ^ 0xff;
    expect(conformanceFixtures().affine.bytes[0]).toBe(first);
    expect(shipped.affine.inputs).toEqual([{ name: 'x', dtype: 'float32', shape: ['batch', 4] }]);
    expect(shipped.dtypes.samples.length).toBeGreaterThan(0);
    expect(shipped.runFailure.failingFeeds).toBeDefined();
  });
});
