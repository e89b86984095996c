import { describe, expect, it } from 'vitest';
import { type ConformanceFixtures, type ConformanceModel, conformanceCases, runConformance } from '../src/conformance/index';
import type { Runtime, Tensor } from '../src/index';

// Model bytes are never read here (the runtime under test loads nothing), so the fixtures carry
// only signatures and feeds: @gla/fixtures (the ONNX builder) depends on @gla/runtime, not the reverse.
const floats = (batch: number): Tensor => ({ dtype: 'float32', dims: [batch, 4], data: new Float32Array(batch * 4) });
const inertModel = (batches: number[]): ConformanceModel => ({
  bytes: new Uint8Array(0),
  inputs: [{ name: 'x', dtype: 'float32', shape: ['batch', 4] }],
  outputs: [{ name: 'y', dtype: 'float32', shape: ['batch', 3] }],
  samples: batches.map((b) => ({ label: `batch ${b}`, feeds: { x: floats(b) }, expected: { y: floats(b) } })),
});
const inertFixtures = (): ConformanceFixtures => ({
  affine: inertModel([1, 5, 2]),
  dtypes: {
    bytes: new Uint8Array(0),
    inputs: (['int64', 'int32', 'bool', 'float64'] as const).map((dtype) => ({ name: dtype, dtype, shape: [2] })),
    outputs: [],
    samples: [],
  },
  runFailure: { ...inertModel([1]), failingFeeds: { x: floats(3) } },
});

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
    const results = await runConformance(broken, inertFixtures());
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
