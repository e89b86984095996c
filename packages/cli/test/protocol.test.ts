import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../src/cli';
import { loadFeatureDir, saveFeatureDir } from '../src/dataset';
import { DEFAULT_SETTINGS, FEW_SHOT_METHODS, fewShotSplit, LONG_TAIL_METHODS } from '../src/protocol';
import { syntheticDataset } from '../src/synthetic';
import { checkWellFormed } from './xml';

let dir: string;
const ds = syntheticDataset({ classes: 6, dim: 16, seed: 42 });
const args = (out: string) => [
  'run',
  '--features',
  join(dir, 'features'),
  '--out',
  out,
  '--seeds',
  '2',
  '--shots',
  '1,2,4',
  '--val-per-class',
  '4',
];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gla-protocol-'));
  await saveFeatureDir(join(dir, 'features'), ds);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function stripVolatile(doc: Record<string, unknown>): Record<string, unknown> {
  const { createdAt: _c, timing: _t, command: _cmd, ...rest } = doc;
  const dataset = { ...(rest.dataset as Record<string, unknown>) };
  const fewShot = { ...(dataset.fewShot as Record<string, unknown>) };
  fewShot.details = (fewShot.details as { seconds: number }[]).map(({ seconds: _s, ...d }) => d);
  dataset.fewShot = fewShot;
  if (dataset.longTail) {
    const lt = { ...(dataset.longTail as Record<string, unknown>) };
    lt.details = (lt.details as { seconds: number }[]).map(({ seconds: _s, ...d }) => d);
    dataset.longTail = lt;
  }
  return { ...rest, dataset };
}

describe('feature directories', () => {
  it('round-trips the synthetic data set', async () => {
    const back = await loadFeatureDir(join(dir, 'features'));
    expect(back.classNames).toEqual(ds.classNames);
    expect(back.promptNames).toEqual(ds.promptNames);
    expect(back.logitScale).toBe(ds.logitScale);
    expect(Array.from(back.labels)).toEqual(Array.from(ds.labels));
    expect(back.features.rows).toBe(ds.features.rows);
    expect(back.textFeatures.templates).toBe(2);
    expect(back.features.data[17]).toBeCloseTo(ds.features.data[17]!, 6);
  });

  it('splits are disjoint, balanced and nested in k', () => {
    const split = fewShotSplit(ds.labels, 6, 3, { testPerClass: 25, valPerClass: 4, shots: [1, 2, 4] });
    const t1 = split.train(1);
    const t4 = split.train(4);
    expect(split.test.length).toBe(150);
    expect(split.val.length).toBe(24);
    expect(t4.length).toBe(24);
    const all = new Set([...split.test, ...split.val, ...t4]);
    expect(all.size).toBe(150 + 24 + 24);
    for (const i of t1) expect(Array.from(t4)).toContain(i);
  });
});

describe('gla run --features (protocol on a synthetic feature directory)', () => {
  it('is deterministic: the same seeds give identical numbers, and writes a full report', async () => {
    const print = () => {};
    expect(await main(args(join(dir, 'out1')), print)).toBe(0);
    expect(await main(args(join(dir, 'out2')), print)).toBe(0);
    const a = JSON.parse(await readFile(join(dir, 'out1', 'results.json'), 'utf8'));
    const b = JSON.parse(await readFile(join(dir, 'out2', 'results.json'), 'utf8'));
    expect(stripVolatile(b)).toEqual(stripVolatile(a));

    expect(a.schema).toBe('gla-bench/results@1');
    expect(a.settings.shots).toEqual([1, 2, 4]);
    expect(a.settings.seeds).toEqual([1, 2]);
    for (const m of FEW_SHOT_METHODS) {
      for (const k of ['1', '2', '4']) {
        const s = a.dataset.fewShot.methods[m][k];
        expect(s.values).toHaveLength(2);
        expect(s.mean).toBeGreaterThanOrEqual(0);
        expect(s.mean).toBeLessThanOrEqual(1);
        expect(s.mean).toBeCloseTo((s.values[0] + s.values[1]) / 2, 12);
      }
    }
    for (const m of LONG_TAIL_METHODS) expect(a.dataset.longTail.methods[m].overall.values).toHaveLength(2);
    // On this biased synthetic task the GLA prior must help the zero-shot model.
    expect(a.dataset.fewShot.methods['zero-shot-debiased']['4'].mean).toBeGreaterThan(a.dataset.fewShot.methods['zero-shot']['4'].mean);

    const md = await readFile(join(dir, 'out1', 'results.md'), 'utf8');
    expect(md).toMatch(/\| method \| k=1 \| k=2 \| k=4 \|/);
    expect(md).toMatch(/\| gla \|/);
    expect(md).toMatch(/head \| medium \| tail/);
    expect(a.plots).toEqual(['accuracy-vs-shots.svg', 'prior-vs-frequency.svg', 'reliability.svg', 'predicted-counts.svg']);
    for (const p of a.plots) {
      const svg = await readFile(join(dir, 'out1', p), 'utf8');
      const { elements } = checkWellFormed(svg);
      expect(elements.get('svg')).toBe(1);
      expect(elements.get('text') ?? 0).toBeGreaterThan(5);
    }
  });

  it('uses the documented defaults', () => {
    expect(DEFAULT_SETTINGS.shots).toEqual([1, 2, 4, 8, 16]);
    expect(DEFAULT_SETTINGS.seeds.length).toBeGreaterThanOrEqual(5);
    expect(DEFAULT_SETTINGS.testPerClass).toBe(25);
  });
});

describe('jointTemperatures', () => {
  it('never has a higher NLL than the separate temperatures it starts from', async () => {
    const { jointTemperatures } = await import('../src/protocol');
    const { createRng, negativeLogLikelihood } = await import('@gla/core');
    const rng = createRng(4);
    const N = 300;
    const C = 5;
    const y = Int32Array.from({ length: N }, () => rng.int(C));
    const f = {
      data: Float64Array.from({ length: N * C }, (_, k) => (y[Math.floor(k / C)] === k % C ? 3 : 0) + 2 * rng.normal()),
      rows: N,
      cols: C,
    };
    const z = {
      data: Float64Array.from({ length: N * C }, (_, k) => (y[Math.floor(k / C)] === k % C ? 1 : 0) + rng.normal()),
      rows: N,
      cols: C,
    };
    const zero = new Float64Array(C);
    const joint = jointTemperatures(f, z, y, zero, [1, 1]);
    const combined = (a: number, b: number) => ({ data: Float64Array.from(f.data, (v, k) => a * v + b * z.data[k]!), rows: N, cols: C });
    const start = negativeLogLikelihood(combined(1, 1), y);
    expect(joint.nll).toBeLessThanOrEqual(start + 1e-12);
    expect(joint.nll).toBeCloseTo(negativeLogLikelihood(combined(1 / joint.finetunedTemperature, 1 / joint.zeroShotTemperature), y), 10);
    // a small perturbation of the optimum does not improve it
    const a = 1 / joint.finetunedTemperature;
    const b = 1 / joint.zeroShotTemperature;
    for (const [da, db] of [
      [0.01, 0],
      [-0.01, 0],
      [0, 0.01],
      [0, -0.01],
    ] as const) {
      expect(negativeLogLikelihood(combined(a + da, Math.max(0, b + db)), y)).toBeGreaterThanOrEqual(joint.nll - 1e-9);
    }
  });
});

describe('chooseGlaWeights', () => {
  it('scores the candidates on held-out folds: an informative zero-shot term is kept, pure noise is dropped', async () => {
    const { chooseGlaWeights } = await import('../src/protocol');
    const { createRng, stratifiedFolds } = await import('@gla/core');
    const rng = createRng(7);
    const N = 400;
    const C = 4;
    const y = Int32Array.from({ length: N }, (_, i) => i % C);
    const folds = stratifiedFolds(y, C, 5, 1);
    const f = {
      data: Float64Array.from({ length: N * C }, (_, k) => (y[Math.floor(k / C)] === k % C ? 1 : 0) + rng.normal()),
      rows: N,
      cols: C,
    };
    const informative = {
      data: Float64Array.from({ length: N * C }, (_, k) => (y[Math.floor(k / C)] === k % C ? 1.5 : 0) + rng.normal()),
      rows: N,
      cols: C,
    };
    const noise = { data: Float64Array.from({ length: N * C }, () => 3 * rng.normal()), rows: N, cols: C };
    const zero = new Float64Array(C);
    const good = chooseGlaWeights(f, informative, y, folds, 5, zero, 'nll');
    expect(good.choice).not.toBe('probe');
    expect(Math.min(good.nllPaper, good.nllJoint)).toBeLessThan(good.nllProbe);
    const bad = chooseGlaWeights(f, noise, y, folds, 5, zero, 'nll');
    expect(bad.choice).not.toBe('paper');
    expect(bad.nllPaper).toBeGreaterThan(bad.nllProbe);
  });
});

describe('chooseGlaWeights significance test (zero-shot term only when its held-out benefit is significant)', () => {
  const N = 400;
  const C = 4;
  const y = Int32Array.from({ length: N }, (_, i) => i % C);
  // f: a probe-like term (true-class margin 1, unit noise); d: a zero-shot-like term with margin `signal`.
  const make = async (signal: number, seed: number) => {
    const { createRng } = await import('@gla/core');
    const rng = createRng(seed);
    const f = {
      data: Float64Array.from({ length: N * C }, (_, k) => (y[Math.floor(k / C)] === k % C ? 1 : 0) + rng.normal()),
      rows: N,
      cols: C,
    };
    const d = {
      data: Float64Array.from({ length: N * C }, (_, k) => (y[Math.floor(k / C)] === k % C ? signal : 0) + rng.normal()),
      rows: N,
      cols: C,
    };
    return { f, d };
  };

  it('keeps a weak zero-shot term out although it lowers the mean held-out NLL (z below 1.645)', async () => {
    const { chooseGlaWeights, GLA_SIGNIFICANCE_Z } = await import('../src/protocol');
    const { stratifiedFolds } = await import('@gla/core');
    expect(GLA_SIGNIFICANCE_Z).toBe(1.645);
    const folds = stratifiedFolds(y, C, 5, 1);
    const zero = new Float64Array(C);
    const { f, d } = await make(0.15, 7);
    const r = chooseGlaWeights(f, d, y, folds, 5, zero, 'nll');
    // the joint fit is better on average (1.0550 vs 1.0615 nats) ...
    expect(r.nllProbe).toBeCloseTo(1.0615, 3);
    expect(r.nllJoint).toBeCloseTo(1.055, 3);
    expect(r.nllJoint).toBeLessThan(r.nllProbe);
    // ... but not significantly (paired z = 0.91): the probe alone is kept
    expect(r.z).toBeCloseTo(0.91, 2);
    expect(r.choice).toBe('probe');
    // the raw minimum (threshold 0, the previous rule) would have taken the joint fit
    expect(chooseGlaWeights(f, d, y, folds, 5, zero, 'nll', 0).choice).toBe('joint');
  });

  it('uses the ensemble when the improvement is significant, and never for a pure-noise term', async () => {
    const { chooseGlaWeights } = await import('../src/protocol');
    const { stratifiedFolds } = await import('@gla/core');
    const folds = stratifiedFolds(y, C, 5, 1);
    const zero = new Float64Array(C);
    const moderate = await make(0.3, 7);
    const m = chooseGlaWeights(moderate.f, moderate.d, y, folds, 5, zero, 'nll');
    expect(m.z).toBeCloseTo(2.27, 2);
    expect(m.choice).toBe('joint');
    expect(m.nllJoint).toBeCloseTo(1.0337, 3);
    const strong = await make(1.5, 7);
    const s = chooseGlaWeights(strong.f, strong.d, y, folds, 5, zero, 'nll');
    expect(s.z).toBeGreaterThan(10);
    expect(s.choice).toBe('joint');
    for (const seed of [7, 8, 9]) {
      const noise = await make(0, seed);
      const r = chooseGlaWeights(noise.f, noise.d, y, folds, 5, zero, 'nll');
      expect(r.z).toBeLessThan(0);
      expect(r.choice).toBe('probe');
    }
  });

  it('pairedZ: mean difference over its standard error, on the masked rows', async () => {
    const { pairedZ } = await import('../src/protocol');
    // differences 1, 2, 3, 4: mean 2.5, sd sqrt(5/3), se sqrt(5/12)
    expect(pairedZ([1, 2, 3, 4], [0, 0, 0, 0])).toBeCloseTo(2.5 / Math.sqrt(5 / 12), 12);
    expect(pairedZ([1, 1], [0, 0])).toBe(Number.POSITIVE_INFINITY);
    expect(pairedZ([0, 0], [1, 1])).toBe(Number.NEGATIVE_INFINITY);
    expect(pairedZ([0, 0], [0, 0])).toBe(0);
    expect(pairedZ([2, 0, 5], [1, 1, 1], [1, 1, 0])).toBe(0);
  });
});
