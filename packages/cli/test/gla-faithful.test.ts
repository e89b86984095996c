import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { accuracy, createRng, glaLogits, type Matrix } from '@gla/core';
import { nestedSplit } from '@gla/datasets';
import { DEFAULT_SETTINGS, prepareData, runFewShotCell, runHeldOutCell, type TestLogits } from '@gla/protocols';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../src/cli';
import { ensembleCommand } from '../src/commands/npy-ops';
import { saveFeatureDir } from '../src/dataset';
import { readLabels, readMatrix } from '../src/npyio';
import { syntheticDataset } from '../src/synthetic';

let dir: string;
const ds = syntheticDataset({ classes: 6, dim: 16, seed: 42 });
const quiet = () => {};
const runArgs = (out: string, extra: string[] = []) => [
  'run',
  '--features',
  join(dir, 'features'),
  '--out',
  out,
  '--seeds',
  '2',
  '--shots',
  '1,2,4',
  '--protocol',
  'few-shot,many-shot,long-tail',
  '--long-tail-seeds',
  '2',
  ...extra,
];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gla-faithful-'));
  await saveFeatureDir(join(dir, 'features'), ds);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function withoutSeconds<T extends { seconds: number }>(d: T): Omit<T, 'seconds'> {
  const { seconds: _s, ...rest } = d;
  return rest;
}

describe('gla is the paper formula', () => {
  it('the protocol gla row equals f/T_f + z/T_z - log q to 1e-12 and glaLogits agrees', async () => {
    const p = prepareData(ds);
    const split = nestedSplit({ labels: p.y, numClasses: 6, seed: 2, testPerClass: 25, valPerClass: 4, minTrainPerClass: 4 });
    const labelled = Int32Array.from([...split.train(4), ...split.val]);
    let t: TestLogits | undefined;
    const cell = await runFewShotCell(p, labelled, split.test, 2, 4, DEFAULT_SETTINGS, { onTestLogits: (x) => (t = x) });
    expect(t).toBeDefined();
    const { finetuned: f, zeroShot: z, finetunedTemperature: Tf, zeroShotTemperature: Tz } = t!;
    const C = f.cols;
    // independent formula, with log q recomputed from the reported q
    const logQ = cell.detail.prior.map(Math.log);
    const manual = new Float64Array(f.rows * C);
    for (let i = 0; i < f.rows; i++)
      for (let c = 0; c < C; c++) manual[i * C + c] = f.data[i * C + c]! / Tf + z.data[i * C + c]! / Tz - logQ[c]!;
    const lib = glaLogits({ finetuned: f, zeroShot: z, logPrior: t!.logPrior, finetunedTemperature: Tf, zeroShotTemperature: Tz });
    let maxDiff = 0;
    for (let k = 0; k < manual.length; k++) maxDiff = Math.max(maxDiff, Math.abs(manual[k]! - lib.data[k]!));
    expect(maxDiff).toBeLessThan(1e-12);
    const m: Matrix = { data: manual, rows: f.rows, cols: C };
    expect(accuracy(m, t!.labels)).toBe(cell.accuracy.gla);
    expect(cell.detail.finetunedTemperature).toBe(Tf);
    expect(cell.detail.zeroShotTemperature).toBe(Tz);
  });
});

describe('no fitted parameter reads the test labels', () => {
  it('permuting the test labels leaves every fitted parameter of every method unchanged (few-shot, many-shot, long-tail)', async () => {
    const p = prepareData(ds);
    const split = nestedSplit({ labels: p.y, numClasses: 6, seed: 2, testPerClass: 25, valPerClass: 4, minTrainPerClass: 4 });
    // a seeded permutation of the labels among the test rows
    const y2 = Int32Array.from(p.y);
    const test = Array.from(split.test);
    const shuffled = createRng(99).shuffle(test.map((i) => p.y[i]!));
    test.forEach((i, r) => {
      y2[i] = shuffled[r]!;
    });
    let moved = 0;
    for (const i of test) if (y2[i] !== p.y[i]) moved++;
    expect(moved).toBeGreaterThan(100);
    const q = { ...p, y: y2 };
    const labelled = Int32Array.from([...split.train(4), ...split.val]);
    const a = await runFewShotCell(p, labelled, split.test, 2, 4, DEFAULT_SETTINGS);
    const b = await runFewShotCell(q, labelled, split.test, 2, 4, DEFAULT_SETTINGS);
    expect(withoutSeconds(b.detail)).toEqual(withoutSeconds(a.detail));
    expect(b.accuracy.gla).not.toBe(a.accuracy.gla); // the scores do see the labels
    const held = { train: split.rest, val: split.val, test: split.test };
    for (const kind of ['many-shot', 'long-tail'] as const) {
      const ha = await runHeldOutCell(p, held, 2, DEFAULT_SETTINGS, { kind, valPerClass: 4 });
      const hb = await runHeldOutCell(q, held, 2, DEFAULT_SETTINGS, { kind, valPerClass: 4 });
      expect(withoutSeconds(hb.detail)).toEqual(withoutSeconds(ha.detail));
      expect(hb.head).toEqual(ha.head);
    }
  });
});

describe('gla run --save-logits: every cell is recomputable with gla ensemble', () => {
  it('gla ensemble on the saved logits reproduces the reported gla accuracy exactly; a separable cell is marked failed', async () => {
    const out = join(dir, 'saved-run');
    const logits = join(dir, 'logits');
    expect(await main(runArgs(out, ['--save-logits', logits]), quiet)).toBe(0);
    const doc = JSON.parse(await readFile(join(out, 'results.json'), 'utf8'));
    // records the fitted parameters of each cell
    for (const d of doc.dataset.fewShot.details) {
      for (const key of ['zeroShotTemperature', 'finetunedTemperature', 'regularization', 'l2']) expect(typeof d[key]).toBe('number');
      expect(d.prior).toHaveLength(6);
    }
    // seed 1, k = 1 of this data set: the labelled logits are separable -> no finite NLL temperature
    expect(doc.dataset.fewShot.failed).toEqual([expect.objectContaining({ key: 'few-shot/seed=1/k=1', code: 'not-identifiable' })]);
    expect(doc.dataset.fewShot.methods.gla['1'].seeds).toEqual([2]);
    expect(doc.dataset.fewShot.methods.gla['4'].seeds).toEqual([1, 2]);
    expect(await readFile(join(out, 'results.md'), 'utf8')).toMatch(/1 cell\(s\) failed[\s\S]*few-shot\/seed=1\/k=1: not-identifiable/);
    expect(existsSync(join(out, '.gla-checkpoint'))).toBe(false);
    const cells: { protocol: string; seed: number; shots?: number }[] = [];
    for (const protocol of await readdir(logits))
      for (const name of await readdir(join(logits, protocol)))
        cells.push(JSON.parse(await readFile(join(logits, protocol, name, 'cell.json'), 'utf8')));
    expect(cells.length).toBe(5 + 2 + 2);
    for (const cell of cells) {
      const folder = join(logits, cell.protocol, cell.shots === undefined ? `seed-${cell.seed}` : `seed-${cell.seed}-k-${cell.shots}`);
      const c = cell as unknown as { finetunedTemperature: number; zeroShotTemperature: number; glaAccuracy: number };
      const options: Record<string, unknown> = {
        finetuned: join(folder, 'finetuned.npy'),
        'zero-shot': join(folder, 'zero-shot.npy'),
        prior: join(folder, 'log-prior.npy'),
        'log-prior': true,
        'finetuned-temperature': c.finetunedTemperature,
        'zero-shot-temperature': c.zeroShotTemperature,
        out: join(folder, 'gla.npy'),
      };
      if (cell.protocol !== 'few-shot') options['train-prior'] = join(folder, 'train-prior.npy');
      await ensembleCommand(options as never, quiet);
      const acc = accuracy(await readMatrix(join(folder, 'gla.npy')), await readLabels(join(folder, 'labels.npy')));
      const part =
        cell.protocol === 'few-shot' ? doc.dataset.fewShot : cell.protocol === 'many-shot' ? doc.dataset.manyShot : doc.dataset.longTail;
      const stat =
        cell.protocol === 'few-shot'
          ? part.methods.gla[String(cell.shots)]
          : cell.protocol === 'many-shot'
            ? part.methods.gla
            : part.methods.gla.overall;
      expect(acc).toBe(stat.values[stat.seeds.indexOf(cell.seed)]);
      expect(acc).toBe(c.glaAccuracy);
    }
    // paired statistics per k
    const cmp = doc.dataset.fewShot.comparisons['4'];
    expect(cmp.map((x: { method: string }) => x.method)).toEqual(['gla', 'gla-weighted', 'gla-gated']);
    expect(cmp[0].n).toBe(2);
    expect(cmp[0].low).toBeLessThanOrEqual(cmp[0].mean);
  });
});

const benchDir = join(dirname(fileURLToPath(import.meta.url)), '..');

function runCli(
  args: string[],
  onStderr?: (text: string, kill: () => void) => void,
): Promise<{ code: number | null; signal: string | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', 'src/cli.ts', ...args], {
      cwd: benchDir,
      // progress lines are what the test watches: never quiet
      env: { ...process.env, ORT_DISABLE_TELEMETRY: '1', GLA_QUIET: '0' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (b: Buffer) => {
      stderr += b.toString();
      onStderr?.(stderr, () => child.kill('SIGKILL'));
    });
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stderr }));
  });
}

function stable(doc: Record<string, unknown>): unknown {
  return JSON.parse(
    JSON.stringify(doc, (k, v) => (k === 'seconds' || k === 'createdAt' || k === 'timing' || k === 'command' ? undefined : v)),
  );
}

describe('--protocol', () => {
  it('rejects an unknown protocol with a usage error (exit 2) naming it', async () => {
    const lines: string[] = [];
    expect(
      await main(['run', '--features', join(dir, 'features'), '--out', join(dir, 'bad'), '--protocol', 'few-shot,bogus'], (l) =>
        lines.push(l),
      ),
    ).toBe(2);
  });
});

describe('checkpoint and resume (issue 11)', () => {
  it('a run killed with SIGKILL after some cells resumes, recomputes only the rest and gives identical results', async () => {
    const args = (out: string) => [...runArgs(out).slice(0, 5), '--shots', '1,2,4,8', '--protocol', 'few-shot', '--seeds', '3'];
    const full = join(dir, 'uninterrupted');
    expect((await runCli(args(full))).code).toBe(0);
    const out = join(dir, 'killed');
    let killedAt = 0;
    const first = await runCli(args(out), (text, kill) => {
      // kill after the 5th of 12 cells was reported
      if (!killedAt && /few-shot protocol: 5\/12/.test(text)) {
        killedAt = 5;
        kill();
      }
    });
    expect(first.signal).toBe('SIGKILL');
    expect(existsSync(join(out, 'results.json'))).toBe(false);
    const fingerprints = await readdir(join(out, '.gla-checkpoint'));
    expect(fingerprints).toHaveLength(1);
    const saved = (await readdir(join(out, '.gla-checkpoint', fingerprints[0]!))).filter((n) => n.endsWith('.json') && !n.startsWith('.'));
    expect(saved.length).toBeGreaterThanOrEqual(5);
    expect(saved.length).toBeLessThan(12);
    const second = await runCli(args(out));
    expect(second.code).toBe(0);
    expect(second.stderr).toContain(`resuming: ${saved.length} finished cell(s)`);
    const a = JSON.parse(await readFile(join(full, 'results.json'), 'utf8'));
    const b = JSON.parse(await readFile(join(out, 'results.json'), 'utf8'));
    expect(stable(b)).toEqual(stable(a));
    expect(existsSync(join(out, '.gla-checkpoint'))).toBe(false);
  }, 240_000);
});
