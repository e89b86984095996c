import { describe, expect, it } from 'vitest';
import { balancedSample, fewShotSplit, longTailSplit, nestedSplit } from '../src/index';

// Two classes of 400,000 and 300,000 items (interleaved): far above the ~10^5 arguments at which
// `push(...slice)` throws "Maximum call stack size exceeded".
const N = 700_000;
const labels = new Int32Array(N);
for (let i = 0; i < N; i++) labels[i] = i % 7 < 4 ? 0 : 1;

function expectClassCounts(indices: ArrayLike<number>, counts: number[]): void {
  const seen = [0, 0];
  for (let i = 0; i < indices.length; i++) seen[labels[indices[i]!]!]!++;
  expect(seen).toEqual(counts);
}

describe('splits of classes with 10^5+ items do not overflow the stack (issue 11: long-tailed protocol on large classes)', () => {
  it('longTailSplit: 250,000-item head class, 25,000-item tail, disjoint from test and val', () => {
    const s = longTailSplit({ labels, seed: 1, imbalanceRatio: 10, maxPerClass: 250_000, testPerClass: 1000, valPerClass: 100_000 });
    expectClassCounts(s.train, [250_000, 25_000]);
    expectClassCounts(s.val, [100_000, 100_000]);
    expectClassCounts(s.test, [1000, 1000]);
    expect(new Set([...s.train, ...s.val, ...s.test]).size).toBe(s.train.length + s.val.length + s.test.length);
  });

  it('fewShotSplit with 150,000 shots and 100,000 validation items per class', () => {
    const s = fewShotSplit({ labels, seed: 2, shots: 150_000, valPerClass: 100_000, testPerClass: 10 });
    expectClassCounts(s.train, [150_000, 150_000]);
    expectClassCounts(s.val, [100_000, 100_000]);
    expect(new Set([...s.train, ...s.val, ...s.test]).size).toBe(300_000 + 200_000 + 20);
  });

  it('balancedSample of 280,000 per class', () => {
    const out = balancedSample(labels, { seed: 3, perClass: 280_000 });
    expectClassCounts(out, [280_000, 280_000]);
    expect(new Set(out).size).toBe(560_000);
  });

  it('nestedSplit (the protocols) keeps every remaining item of a 400,000-item class in rest', () => {
    const s = nestedSplit({ labels, seed: 4, testPerClass: 25, valPerClass: 5 });
    expectClassCounts(s.rest, [400_000 - 30, 300_000 - 30]);
    expectClassCounts(s.train(100_000), [100_000, 100_000]);
  });
});
