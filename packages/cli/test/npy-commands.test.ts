import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { calibrateTemperature, createRng, debias, estimatePrior, glaLogits } from '@gla/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../src/cli';
import { syntheticLogits } from '../src/commands/speed';
import { readMatrix, readVector, writeLabels, writeMatrix, writeVector } from '../src/npyio';

let dir: string;
const N = 400;
const C = 7;
const { logits, labels } = syntheticLogits(N, C, 5);
const rng = createRng(9);
const finetuned = {
  data: Float64Array.from({ length: N * C }, (_, k) => (labels[Math.floor(k / C)] === k % C ? 2 : 0) + rng.normal()),
  rows: N,
  cols: C,
};

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gla-npy-'));
  await writeMatrix(join(dir, 'z.npy'), logits, 'float32');
  await writeLabels(join(dir, 'y.npy'), labels);
  await writeMatrix(join(dir, 'f.npy'), finetuned, 'float64');
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const quiet = () => {
  const lines: string[] = [];
  return { print: (l: string) => lines.push(l), lines };
};

describe('gla prior / debias / ensemble on .npy files', () => {
  it('prior matches a direct estimatePrior call and prints T, objective and gradient norm', async () => {
    const out = quiet();
    const code = await main(
      [
        'prior',
        '--logits',
        join(dir, 'z.npy'),
        '--labels',
        join(dir, 'y.npy'),
        '--temperature',
        'nll',
        '--regularization',
        '0.01',
        '--out',
        join(dir, 'q.npy'),
      ],
      out.print,
    );
    expect(code).toBe(0);
    const T = calibrateTemperature(logits, labels, { method: 'nll' });
    const direct = estimatePrior(logits, labels, { temperature: T, regularization: 0.01 });
    const q = await readVector(join(dir, 'q.npy'));
    expect(q.length).toBe(C);
    for (let c = 0; c < C; c++) expect(q[c]).toBeCloseTo(direct.prior[c]!, 10);
    const text = out.lines.join('\n');
    expect(text).toMatch(/temperature T = /);
    expect(text).toMatch(/objective = /);
    expect(text).toMatch(/max-abs gradient = /);
    const sidecar = JSON.parse(await readFile(join(dir, 'q.npy.json'), 'utf8'));
    expect(sidecar.temperature).toBeCloseTo(T, 12);
    expect(sidecar.objective).toBeCloseTo(direct.objective, 10);
  });

  it('prior with a fixed temperature and label-free matching', async () => {
    expect(
      await main(
        ['prior', '--logits', join(dir, 'z.npy'), '--labels', join(dir, 'y.npy'), '--temperature', '2', '--out', join(dir, 'q2.npy')],
        quiet().print,
      ),
    ).toBe(0);
    const direct = estimatePrior(logits, labels, { temperature: 2 });
    const q = await readVector(join(dir, 'q2.npy'));
    for (let c = 0; c < C; c++) expect(q[c]).toBeCloseTo(direct.prior[c]!, 10);
    expect(
      await main(
        ['prior', '--logits', join(dir, 'z.npy'), '--target-marginal', 'uniform', '--temperature', '1', '--out', join(dir, 'qm.npy')],
        quiet().print,
      ),
    ).toBe(0);
    const matching = estimatePrior(logits, undefined, { temperature: 1, targetMarginal: new Float64Array(C).fill(1 / C) });
    const qm = await readVector(join(dir, 'qm.npy'));
    for (let c = 0; c < C; c++) expect(qm[c]).toBeCloseTo(matching.prior[c]!, 10);
  });

  it('debias equals z / T - log q with T from the prior sidecar', async () => {
    expect(
      await main(['debias', '--logits', join(dir, 'z.npy'), '--prior', join(dir, 'q.npy'), '--out', join(dir, 'zd.npy')], quiet().print),
    ).toBe(0);
    const q = await readVector(join(dir, 'q.npy'));
    const T = JSON.parse(await readFile(join(dir, 'q.npy.json'), 'utf8')).temperature as number;
    const expected = debias(logits, Float64Array.from(q, Math.log), { temperature: T });
    const got = await readMatrix(join(dir, 'zd.npy'));
    expect(got.rows).toBe(N);
    expect(got.cols).toBe(C);
    for (let k = 0; k < got.data.length; k += 37) expect(got.data[k]).toBeCloseTo(expected.data[k]!, 4);
  });

  it('ensemble equals glaLogits, with train prior', async () => {
    const piS = Float64Array.from({ length: C }, (_, c) => (c + 1) / ((C * (C + 1)) / 2));
    await writeVector(join(dir, 'pis.npy'), piS);
    const args = [
      'ensemble',
      '--finetuned',
      join(dir, 'f.npy'),
      '--zero-shot',
      join(dir, 'z.npy'),
      '--prior',
      join(dir, 'q.npy'),
      '--finetuned-temperature',
      '1.5',
      '--train-prior',
      join(dir, 'pis.npy'),
      '--out',
      join(dir, 'g.npy'),
    ];
    expect(await main(args, quiet().print)).toBe(0);
    const q = await readVector(join(dir, 'q.npy'));
    const T = JSON.parse(await readFile(join(dir, 'q.npy.json'), 'utf8')).temperature as number;
    const expected = glaLogits({
      finetuned,
      zeroShot: logits,
      logPrior: Float64Array.from(q, Math.log),
      finetunedTemperature: 1.5,
      zeroShotTemperature: T,
      trainPrior: piS,
    });
    const got = await readMatrix(join(dir, 'g.npy'));
    for (let k = 0; k < got.data.length; k += 29) expect(got.data[k]).toBeCloseTo(expected.data[k]!, 9);
  });

  it('reports shape mismatches naming both files', async () => {
    await writeLabels(join(dir, 'y-short.npy'), labels.slice(0, 10));
    const errs: string[] = [];
    const write = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((c: string) => errs.push(String(c)) > 0) as typeof process.stderr.write;
    try {
      const code = await main(
        ['prior', '--logits', join(dir, 'z.npy'), '--labels', join(dir, 'y-short.npy'), '--out', join(dir, 'bad.npy')],
        quiet().print,
      );
      expect(code).toBe(1);
    } finally {
      process.stderr.write = write;
    }
    expect(errs.join('')).toMatch(/y-short\.npy has 10 labels/);
  });
});
