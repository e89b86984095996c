import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRng, l2Normalize } from '@gla/core';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_SETTINGS,
  estimateProtocolBytes,
  FEW_SHOT_METHODS,
  type ProtocolDataset,
  prepareData,
  runFewShot,
  runLongTail,
  runManyShot,
} from '../src/index';

const here = dirname(fileURLToPath(import.meta.url));

/** A small biased problem: class means on a sphere, a shared direction that favours class 0 zero-shot. */
function dataset(C = 4, D = 12, perClass = 60): ProtocolDataset {
  const rng = createRng(5);
  const means = Array.from({ length: C }, () => Array.from({ length: D }, () => rng.normal()));
  const common = Array.from({ length: D }, () => rng.normal());
  const N = C * perClass;
  const features = new Float64Array(N * D);
  const labels = new Int32Array(N);
  for (let i = 0; i < N; i++) {
    const c = i % C;
    labels[i] = c;
    for (let j = 0; j < D; j++) features[i * D + j] = means[c]![j]! + 0.5 * common[j]! + 2 * rng.normal();
  }
  const text = new Float64Array(C * D);
  for (let c = 0; c < C; c++)
    for (let j = 0; j < D; j++) text[c * D + j] = means[c]![j]! + (c === 0 ? 3 : 0) * common[j]! + 0.3 * rng.normal();
  return {
    features: { data: features, rows: N, cols: D },
    labels,
    classNames: Array.from({ length: C }, (_, c) => `c${c}`),
    textFeatures: { data: text, templates: 1, classes: C, dim: D },
    logitScale: 20,
  };
}

describe('@gla/protocols', () => {
  it('is browser-safe: no Node built-ins in its sources or in @gla/datasets/sampling', () => {
    const files = readdirSync(join(here, '../src')).map((f) => join(here, '../src', f));
    files.push(
      join(here, '../../datasets/src/sampling.ts'),
      join(here, '../../datasets/src/class-frequency.ts'),
      join(here, '../../datasets/src/errors.ts'),
    );
    for (const f of files) expect(readFileSync(f, 'utf8')).not.toMatch(/from ['"](node:|fs|path|crypto|os)['"/]/);
  });

  it('few-shot: deterministic, every method scored, the debiased zero-shot beats the biased one', async () => {
    const p = prepareData(dataset());
    const settings = { ...DEFAULT_SETTINGS, seeds: [1, 2, 3], shots: [2, 8] };
    const a = await runFewShot(p, settings);
    const b = await runFewShot(p, settings);
    const strip = (r: typeof a) => JSON.parse(JSON.stringify({ ...r, details: r.details.map(({ seconds: _s, ...d }) => d) }));
    expect(strip(b)).toEqual(strip(a));
    expect(a.failed).toEqual([]);
    for (const m of FEW_SHOT_METHODS) expect(a.methods[m]!['8']!.values).toHaveLength(3);
    expect(a.methods['zero-shot-debiased']!['8']!.mean).toBeGreaterThan(a.methods['zero-shot']!['8']!.mean);
    const cmp = a.comparisons['8']!;
    expect(cmp.map((c) => c.method)).toEqual(['gla', 'gla-weighted', 'gla-gated']);
    expect(cmp[0]!.wins + cmp[0]!.ties + cmp[0]!.losses).toBe(3);
    // resume: feeding back the records reproduces the result without recomputing
    const records = new Map<string, never>();
    await runFewShot(p, settings, { onCell: (k, r) => void records.set(k, r as never) });
    let computed = 0;
    const resumed = await runFewShot(p, settings, { completed: records, onCell: () => void computed++ });
    expect(computed).toBe(0);
    expect(strip(resumed)).toEqual(strip(a));
  });

  it("both temperature rules run; 'match-confidence' (the reference's) gives different temperatures", async () => {
    const p = prepareData(dataset());
    const base = { ...DEFAULT_SETTINGS, seeds: [1], shots: [4] };
    const nll = await runFewShot(p, base);
    const mc = await runFewShot(p, { ...base, temperatureMethod: 'match-confidence' });
    expect(mc.failed).toEqual([]);
    expect(mc.details[0]!.temperatureMethod).toBe('match-confidence');
    expect(mc.details[0]!.zeroShotTemperature).not.toBe(nll.details[0]!.zeroShotTemperature);
    expect(mc.methods.gla!['4']!.values).toHaveLength(1);
  });

  it('many-shot: trains on the full training split and reports every method', async () => {
    const p = prepareData(dataset());
    const r = await runManyShot(p, { ...DEFAULT_SETTINGS, seeds: [1, 2], longTailSeeds: 2, manyShotValPerClass: 10 });
    expect(r.details).toHaveLength(2);
    expect(r.trainCounts).toEqual([25, 25, 25, 25]);
    expect(r.methods.gla!.values).toHaveLength(2);
    expect(r.details[0]!.trainPrior.every((v) => Math.abs(v - 0.25) < 1e-12)).toBe(true);
  });

  it('features are held once as Float32 (in place on request); the accuracies equal those on Float64-normalised features', async () => {
    const ds = dataset();
    const p = prepareData(ds);
    expect(p.x.data).toBeInstanceOf(Float32Array);
    const x64 = l2Normalize(ds.features);
    let diff = 0;
    for (let k = 0; k < x64.data.length; k++) diff = Math.max(diff, Math.abs(p.x.data[k]! - x64.data[k]!));
    expect(diff).toBeLessThan(1e-7);
    expect(diff).toBeGreaterThan(0); // Float32 rounding is there
    const p64 = { ...p, x: x64 };
    const settings = { ...DEFAULT_SETTINGS, seeds: [1, 2], shots: [2, 8], longTailSeeds: 1 };
    const [a, b] = [await runFewShot(p, settings), await runFewShot(p64, settings)];
    for (const m of FEW_SHOT_METHODS) expect(a.methods[m]).toEqual(b.methods[m]);
    const [la, lb] = [await runLongTail(p, settings, ds.classNames), await runLongTail(p64, settings, ds.classNames)];
    expect(la.methods).toEqual(lb.methods);
    // in place: a Float32 source buffer becomes x (no second copy); a Float64 source is left alone
    const f32 = { ...ds, features: { ...ds.features, data: Float32Array.from(ds.features.data) } };
    const inPlace = prepareData(f32, { inPlace: true });
    expect(inPlace.x.data).toBe(f32.features.data);
    let diff32 = 0;
    for (let k = 0; k < p.x.data.length; k++) diff32 = Math.max(diff32, Math.abs(inPlace.x.data[k]! - p.x.data[k]!));
    expect(diff32).toBeLessThan(2e-7);
    expect(prepareData(ds, { inPlace: true }).x.data).not.toBe(ds.features.data);
    const nan = Float64Array.from(ds.features.data, (v, k) => (k === 13 ? Number.NaN : v));
    expect(() => prepareData({ ...ds, features: { ...ds.features, data: nan } })).toThrow(/features\[1, 1\] = NaN/);
  });

  it('many-shot and long-tail: a cell with separable labelled logits is marked failed (not-identifiable), the run completes (audit case 4)', async () => {
    // One-hot-like features and prompts: the zero-shot logits separate every validation row, so
    // calibrateTemperature has no finite optimum in every cell.
    const ds = dataset();
    const { rows: N, cols: D } = ds.features;
    const rng = createRng(9);
    const features = new Float64Array(N * D);
    for (let i = 0; i < N; i++) for (let j = 0; j < D; j++) features[i * D + j] = (j === ds.labels[i] ? 10 : 0) + 1e-3 * rng.normal();
    const text = new Float64Array(4 * D);
    for (let c = 0; c < 4; c++) text[c * D + c] = 1;
    const p = prepareData({
      ...ds,
      features: { data: features, rows: N, cols: D },
      textFeatures: { data: text, templates: 1, classes: 4, dim: D },
    });
    const settings = { ...DEFAULT_SETTINGS, seeds: [1, 2], longTailSeeds: 2, manyShotValPerClass: 10 };
    const many = await runManyShot(p, settings);
    const tail = await runLongTail(p, settings, ds.classNames);
    for (const [r, kind] of [
      [many, 'many-shot'],
      [tail, 'long-tail'],
    ] as const) {
      expect(r.failed.map((f) => f.key)).toEqual([`${kind}/seed=1`, `${kind}/seed=2`]);
      expect(r.failed.every((f) => f.code === 'not-identifiable' && /calibrateTemperature/.test(f.message))).toBe(true);
      expect(r.details).toHaveLength(0);
    }
  });

  it('estimateProtocolBytes: features 4ND + zero-shot logits 8NC + labels, plus the largest cell', () => {
    const settings = { ...DEFAULT_SETTINGS, shots: [1, 16] };
    const shape = { rows: 50_000, dim: 512, classes: 1000 };
    const base = 4 * 50_000 * 512 + 8 * 50_000 * 1000 + 4 * 50_000;
    const test = 25 * 1000;
    const fewShotRows = 20 * 1000;
    const fewShot = 3 * 4 * fewShotRows * 512 + 2 * 8 * fewShotRows * 1000 + 24 * 8 * test * 1000;
    expect(estimateProtocolBytes(shape, settings, ['few-shot'])).toBe(base + fewShot);
    const longTailRows = 50_000 - 5 * 1000 - test;
    const longTail = 3 * 4 * longTailRows * 512 + 2 * 8 * longTailRows * 1000 + 24 * 8 * test * 1000;
    expect(estimateProtocolBytes(shape, settings, ['few-shot', 'long-tail'])).toBe(base + Math.max(fewShot, longTail));
  });
});
