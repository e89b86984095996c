import { describe, expect, it } from 'vitest';
import { encodeNpy, isDatasetError, writeNpy } from '../src/index';

describe('npy writers validate their input', () => {
  it('a missing or unknown dtype is a DatasetError naming the known dtypes', async () => {
    const noDtype = { shape: [2], data: new Float64Array(2) } as never;
    expect(() => encodeNpy(noDtype)).toThrow(/dtype is missing: one of .*float64/);
    await expect(writeNpy('/nonexistent-dir/never-written.npy', noDtype)).rejects.toSatisfy((e: unknown) =>
      isDatasetError(e, 'invalid-argument'),
    );
    expect(() => encodeNpy({ dtype: 'float99', shape: [2], data: [1, 2] } as never)).toThrow(/dtype "float99" is not known/);
  });

  it('bad shape, data or array are DatasetErrors too', () => {
    for (const bad of [null, { dtype: 'float64', shape: 'x', data: [1] }, { dtype: 'float64', shape: [2] }]) {
      let caught: unknown;
      try {
        encodeNpy(bad as never);
      } catch (e) {
        caught = e;
      }
      expect(isDatasetError(caught, 'invalid-argument')).toBe(true);
    }
  });

  it('valid input still encodes', () => {
    expect(encodeNpy({ dtype: 'float64', shape: [2], data: [1, 2] }).length).toBe(128 + 16);
  });
});
