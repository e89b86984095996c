import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crossFitLinearProbe, crossFitLinearProbeAsync, stratifiedFolds, takeLabels, unregisterKernels } from '@gla/core';
import { nestedSplit } from '@gla/datasets';
import { registerOnnxKernels } from '@gla/kernels-onnx';
import { createNodeRuntime } from '@gla/onnx-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../src/cli';
import { loadFeatureDir, saveFeatureDir } from '../src/dataset';
import { DEFAULT_SETTINGS, FEW_SHOT_METHODS, LONG_TAIL_METHODS, prepareData } from '../src/protocol';
import { syntheticDataset } from '../src/synthetic';
import { capture } from './capture';
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
  for (const name of ['fewShot', 'manyShot']) {
    if (!dataset[name]) continue;
    const part = { ...(dataset[name] as Record<string, unknown>) };
    part.details = (part.details as { seconds: number }[]).map(({ seconds: _s, ...d }) => d);
    dataset[name] = part;
  }
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
    const split = nestedSplit({ labels: ds.labels, numClasses: 6, seed: 3, testPerClass: 25, valPerClass: 4, minTrainPerClass: 4 });
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

    expect(a.schema).toBe('gla-bench/results@2');
    expect(a.settings.shots).toEqual([1, 2, 4]);
    expect(a.settings.seeds).toEqual([1, 2]);
    for (const m of FEW_SHOT_METHODS) {
      for (const k of ['1', '2', '4']) {
        const s = a.dataset.fewShot.methods[m][k];
        // seed 1, k = 1 is a failed (separable) cell, see gla-faithful.test.ts
        expect(s.values).toHaveLength(k === '1' ? 1 : 2);
        expect(s.mean).toBeGreaterThanOrEqual(0);
        expect(s.mean).toBeLessThanOrEqual(1);
        expect(s.mean).toBeCloseTo(s.values.reduce((x: number, y: number) => x + y, 0) / s.values.length, 12);
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

  it('--memory-limit: a feature set whose estimate does not fit stops before loading (exit 1, file, needed vs available)', async () => {
    const out = join(dir, 'out-memory');
    const r = await capture([...args(out), '--memory-limit', '100000']);
    expect(r.code).toBe(1);
    const file = join(dir, 'features', 'features.npy');
    expect(r.err).toContain(file);
    const m = /need about (\d+) bytes .*; 100000 bytes .* are available/.exec(r.err);
    expect(m).not.toBeNull();
    expect(Number(m![1])).toBeGreaterThan(100_000);
    await expect(readFile(join(out, 'results.json'))).rejects.toThrow();
  });

  it('crossFitLinearProbeAsync on onnxruntime (Float32 products) = the synchronous cross-fit to solver tolerance', async () => {
    registerOnnxKernels(createNodeRuntime({ threads: 1 }), { name: 'onnxruntime-test' });
    const p = prepareData(ds);
    const split = nestedSplit({ labels: p.y, numClasses: 6, seed: 3, testPerClass: 25, valPerClass: 4, minTrainPerClass: 8 });
    const rows = Int32Array.from([...split.train(8), ...split.val]);
    const yL = takeLabels(p.y, rows);
    const folds = stratifiedFolds(yL, 6, 5, 3);
    const options = { classes: 6, folds, foldCount: 5, l2Grid: [1e-3, 1e-2, 1e-1], rows, tolerance: 1e-6, maxIterations: 500 };
    const sync = crossFitLinearProbe(p.x, yL, options);
    const ort = await crossFitLinearProbeAsync(p.x, yL, { ...options, backend: 'onnxruntime-test' }).finally(() =>
      unregisterKernels('onnxruntime-test'),
    );
    expect(ort.l2).toBe(sync.l2);
    ort.scores.forEach((s, k) => {
      expect(s.accuracy).toBe(sync.scores[k]!.accuracy);
      expect(Math.abs(s.nll - sync.scores[k]!.nll)).toBeLessThan(1e-4);
    });
    let diff = 0;
    for (let k = 0; k < sync.outOfFold.data.length; k++) diff = Math.max(diff, Math.abs(ort.outOfFold.data[k]! - sync.outOfFold.data[k]!));
    expect(diff).toBeLessThan(1e-2);
  });
});
