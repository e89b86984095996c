import { describe, expect, it } from 'vitest';
import { buildConformanceFixtures } from '../../../tooling/fixtures/conformance-fixtures';
import { conformanceCases, runConformance } from '../src/conformance/index';
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
});
