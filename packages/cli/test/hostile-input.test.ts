import { spawn, spawnSync } from 'node:child_process';
import { closeSync, ftruncateSync, openSync, statSync, writeSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRng } from '@gla/core';
import { encodeNpy, writeFeatureDir } from '@gla/datasets';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeStaleTemporaries, writeAtomicSet, writeFolderSet } from '../src/atomic';
import { syntheticLogits } from '../src/commands/speed';
import { CliError } from '../src/errors';
import { readVector, writeLabels, writeMatrix, writeVector } from '../src/npyio';
import { capture } from './capture';

const benchRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
let dir: string;
const N = 120;
const C = 5;
const { logits, labels } = syntheticLogits(N, C, 3);
const rng = createRng(4);
const finetuned = { data: Float64Array.from({ length: N * C }, () => rng.normal()), rows: N, cols: C };

const p = (name: string) => join(dir, name);

/** A folder's entries with sizes and modification times, to assert it was left as it was. */
async function snapshot(folder: string): Promise<string[]> {
  const names = (await readdir(folder)).sort();
  return Promise.all(
    names.map(async (n) => {
      const s = await stat(join(folder, n));
      return `${n}:${s.size}:${s.mtimeMs}`;
    }),
  );
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gla-hostile-'));
  await writeMatrix(p('z.npy'), logits, 'float32');
  await writeMatrix(p('f.npy'), finetuned, 'float64');
  await writeLabels(p('y.npy'), labels);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const prior = (labelsFile: string, out: string, ...extra: string[]) => [
  'prior',
  '--logits',
  p('z.npy'),
  '--labels',
  labelsFile,
  '--temperature',
  '1',
  '--out',
  out,
  ...extra,
];

describe('silent wrong numbers are errors (exit 1 data, exit 2 usage, output left as it was)', () => {
  it('labels >= 2^32 in int64 / uint64: a data error naming the file and labels[i], no Q.npy', async () => {
    for (const [dtype, data] of [
      ['int64', BigInt64Array.from(labels, (y, i) => (i === 7 ? 4294967296n + 1n : BigInt(y)))],
      ['uint64', BigUint64Array.from(labels, (y, i) => (i === 7 ? 2n ** 31n : BigInt(y)))],
      ['int64', BigInt64Array.from(labels, (y, i) => (i === 7 ? -1n : BigInt(y)))],
    ] as const) {
      await writeFile(p('big-labels.npy'), encodeNpy({ dtype, shape: [N], data }));
      const before = await snapshot(dir);
      const r = await capture(prior(p('big-labels.npy'), p('q-wrapped.npy')));
      expect(r.code).toBe(1);
      expect(r.err).toContain(p('big-labels.npy'));
      expect(r.err).toMatch(/labels\[7\] = (4294967297|2147483648|-1)/);
      expect(await snapshot(dir)).toEqual(before);
    }
  });

  it('label equal to the class count: names the file, the index and the class count', async () => {
    await writeLabels(
      p('y-range.npy'),
      Array.from(labels, (y, i) => (i === 3 ? C : y)),
    );
    const r = await capture(prior(p('y-range.npy'), p('q-range.npy')));
    expect(r.code).toBe(1);
    expect(r.err).toContain(`${p('y-range.npy')}: labels[3] = ${C}`);
    expect(r.err).toContain(`(${C} classes)`);
  });

  it('complex .npy where reals are required (prior, --train-prior, logits): data error', async () => {
    const complex = encodeNpy({ dtype: 'complex128', shape: [C], data: Float64Array.from({ length: 2 * C }, () => 0.2) });
    await writeFile(p('q-complex.npy'), complex);
    await writeVector(p('q-ok.npy'), new Float64Array(C).fill(1 / C));
    const runs = [
      ['debias', '--logits', p('z.npy'), '--prior', p('q-complex.npy'), '--out', p('out-c1.npy')],
      [
        'ensemble',
        '--finetuned',
        p('f.npy'),
        '--zero-shot',
        p('z.npy'),
        '--prior',
        p('q-ok.npy'),
        '--train-prior',
        p('q-complex.npy'),
        '--out',
        p('out-c2.npy'),
      ],
    ];
    for (const argv of runs) {
      const r = await capture(argv);
      expect(r.code).toBe(1);
      expect(r.err).toContain('complex128');
      expect(r.err).toContain(p('q-complex.npy'));
    }
    await writeFile(p('z-complex.npy'), encodeNpy({ dtype: 'complex64', shape: [N, C], data: new Float32Array(2 * N * C) }));
    const r = await capture(['debias', '--logits', p('z-complex.npy'), '--prior', p('q-ok.npy'), '--out', p('out-c3.npy')]);
    expect(r.code).toBe(1);
    await expect(stat(p('out-c1.npy'))).rejects.toThrow();
  });

  it('non-positive and non-finite temperatures are usage errors (exit 2), sidecar ones data errors (exit 1)', async () => {
    const base = ['ensemble', '--finetuned', p('f.npy'), '--zero-shot', p('z.npy'), '--out', p('out-t.npy')];
    for (const extra of [
      ['--zero-shot-temperature', '-1'],
      ['--zero-shot-temperature', '0'],
      ['--finetuned-temperature', '0'],
      ['--finetuned-temperature', 'Infinity'],
    ]) {
      const r = await capture([...base, ...extra]);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(/temperature/);
      expect(r.err).not.toContain('Infinity]'); // no `weights[0] = Infinity` from core
    }
    const debias = await capture([
      'debias',
      '--logits',
      p('z.npy'),
      '--prior',
      p('q-ok.npy'),
      '--temperature',
      '-2',
      '--out',
      p('out-t.npy'),
    ]);
    expect(debias.code).toBe(2);
    const fixed = await capture(prior(p('y.npy'), p('q-neg.npy')).map((a) => (a === '1' ? '-1' : a)));
    expect(fixed.code).toBe(2);
    await expect(stat(p('out-t.npy'))).rejects.toThrow();
  });

  it('--temperature 1e-300: q would have exact zeros, so it is refused (exit 1), nothing written; --log gives finite log q', async () => {
    const argv = prior(p('y.npy'), p('q-tiny.npy')).map((a) => (a === '1' ? '1e-300' : a));
    const r = await capture(argv);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/q\[\d\] = 0 .* q must be positive/);
    await expect(stat(p('q-tiny.npy'))).rejects.toThrow();
    await expect(stat(p('q-tiny.npy.json'))).rejects.toThrow();
    // In log space the same estimate is representable: log q is finite and is written.
    expect((await capture([...argv, '--log'])).code).toBe(0);
    const logQ = await readVector(p('q-tiny.npy'));
    expect(logQ.every((v) => Number.isFinite(v))).toBe(true);
    expect(Math.min(...logQ)).toBeLessThan(-700); // below log(Number.MIN_VALUE): q itself would be 0
  });

  it('--tolerance -1 and --max-iterations 0 are usage errors (exit 2)', async () => {
    for (const extra of [
      ['--tolerance', '-1'],
      ['--tolerance', '0'],
      ['--max-iterations', '0'],
    ]) {
      const r = await capture(prior(p('y.npy'), p('q-usage.npy'), ...extra));
      expect(r.code).toBe(2);
      expect(r.err).toContain(extra[0]);
    }
  });

  it('NaN in logits: names the file and [row, column]; -Infinity (a masked class) is accepted', async () => {
    const bad = Float32Array.from(logits.data);
    bad[4 * C + 2] = Number.NaN;
    await writeMatrix(p('z-nan.npy'), { data: bad, rows: N, cols: C }, 'float32');
    const r = await capture(['prior', '--logits', p('z-nan.npy'), '--labels', p('y.npy'), '--out', p('q-nan.npy')]);
    expect(r.code).toBe(1);
    expect(r.err).toContain(`${p('z-nan.npy')}: logits[4, 2] is NaN`);
    const masked = Float32Array.from(logits.data);
    masked[4 * C + ((labels[4]! + 1) % C)] = Number.NEGATIVE_INFINITY;
    await writeMatrix(p('z-masked.npy'), { data: masked, rows: N, cols: C }, 'float32');
    const ok = await capture([
      'prior',
      '--logits',
      p('z-masked.npy'),
      '--labels',
      p('y.npy'),
      '--temperature',
      '1',
      '--out',
      p('q-masked.npy'),
    ]);
    expect(ok.code).toBe(0);
  });

  it('.npy errors print the path once', async () => {
    await writeFile(p('short.npy'), encodeNpy({ dtype: 'float32', shape: [N, C], data: new Float32Array(N * C) }).subarray(0, 300));
    const r = await capture(['prior', '--logits', p('short.npy'), '--labels', p('y.npy'), '--out', p('q-short.npy')]);
    expect(r.code).toBe(1);
    expect(r.err.split(p('short.npy')).length - 1).toBe(1);
    const missing = await capture(['prior', '--logits', p('none.npy'), '--labels', p('y.npy'), '--out', p('q-none.npy')]);
    expect(missing.code).toBe(1);
    expect(missing.err.split(p('none.npy')).length - 1).toBe(1);
  });

  it('the CLI .npy reader checks the header before loading the file (a 1 GiB file declaring 160 bytes)', async () => {
    const header = encodeNpy({ dtype: 'float32', shape: [40], data: new Float32Array(40) }).subarray(0, 128);
    const file = p('liar.npy');
    const fd = openSync(file, 'w');
    writeSync(fd, header, 0, header.length, 0);
    ftruncateSync(fd, 2 ** 30); // sparse: costs no disk
    closeSync(fd);
    const rss = process.memoryUsage().rss;
    const r = await capture(['debias', '--logits', file, '--prior', p('q-ok.npy'), '--out', p('out-liar.npy')]);
    expect(r.code).toBe(1);
    expect(r.err).toContain('bytes after the declared array');
    expect(process.memoryUsage().rss - rss).toBeLessThan(256 * 2 ** 20);
  });
});

describe('files: Q.npy and its sidecar, --out, result sets', () => {
  it('--out onto a character device: refused (exit 2) before any work, the device node stays', async () => {
    const device = p('null-device');
    const made = spawnSync('mknod', [device, 'c', '1', '3']).status === 0;
    const target = made ? device : '/dev/null';
    if (!made && process.getuid?.() === 0) throw new Error('mknod failed as root');
    const r = await capture(prior(p('y.npy'), target));
    expect(r.code).toBe(2);
    expect(r.err).toContain('character device');
    expect(statSync(target).isCharacterDevice()).toBe(true);
    const run = await capture(['run', '--features', p('nowhere'), '--out', p('z.npy')]);
    expect(run.code).toBe(2); // a file, not a folder: refused before loading anything
    expect(run.err).toContain('not a folder');
  });

  it('--out below a regular file: the message says the ancestor is a regular file (exit 2)', async () => {
    const r = await capture(['run', '--features', p('nowhere'), '--out', join(p('z.npy'), 'sub')]);
    expect(r.code).toBe(2);
    expect(r.err).toContain(`${p('z.npy')} is a regular file, not a folder`);
    expect(r.err).not.toContain('not a regular file');
  });

  it('gla prior writes Q.npy and Q.npy.json together or not at all', async () => {
    expect((await capture(prior(p('y.npy'), p('q-pair.npy')))).code).toBe(0);
    const before = await readFile(p('q-pair.npy'));
    await rm(p('q-pair.npy.json'));
    await mkdir(p('q-pair.npy.json')); // the sidecar cannot be written
    const r = await capture(prior(p('y.npy'), p('q-pair.npy'), '--log'));
    expect(r.code).toBe(2);
    expect(await readFile(p('q-pair.npy'))).toEqual(before);
    // writeAtomicSet: when a later file fails, no earlier target is replaced and no temporary stays
    await writeFile(p('set-a.txt'), 'old a');
    await expect(
      writeAtomicSet([
        { path: p('set-a.txt'), data: 'new a' },
        { path: p('q-pair.npy.json'), data: 'x' },
      ]),
    ).rejects.toBeInstanceOf(CliError);
    expect(await readFile(p('set-a.txt'), 'utf8')).toBe('old a');
    expect((await readdir(dir)).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });

  it('a corrupt or mismatched sidecar is an error, not T = 1', async () => {
    await rm(p('q-pair.npy.json'), { recursive: true });
    expect((await capture(prior(p('y.npy'), p('q-side.npy'), '--temperature', '2'))).code).toBe(0);
    const sidecar = await readFile(p('q-side.npy.json'), 'utf8');
    const debias = ['debias', '--logits', p('z.npy'), '--prior', p('q-side.npy'), '--out', p('out-side.npy')];
    expect((await capture(debias)).out).toContain('z / 2.00000 - log q (T from the prior sidecar)');
    await writeFile(p('q-side.npy.json'), sidecar.slice(0, 40));
    let r = await capture(debias);
    expect(r.code).toBe(1);
    expect(r.err).toContain('corrupt sidecar');
    await writeFile(p('q-side.npy.json'), JSON.stringify({ ...JSON.parse(sidecar), temperature: -1 }));
    r = await capture(debias);
    expect(r.code).toBe(1);
    expect(r.err).toContain('temperature -1');
    await writeFile(p('q-side.npy.json'), sidecar);
    await writeVector(p('q-side.npy'), new Float64Array(C).fill(1 / C)); // Q.npy replaced behind the sidecar's back
    r = await capture(debias);
    expect(r.code).toBe(1);
    expect(r.err).toContain('sha256');
  });

  it('result sets are written as a set: a failure leaves the old set, a success replaces it, stale plots go', async () => {
    const out = p('results');
    await mkdir(out);
    await writeFile(join(out, 'results.json'), JSON.stringify({ plots: ['old.svg', 'kept.svg'] }));
    await writeFile(join(out, 'old.svg'), '<svg/>');
    await writeFile(join(out, 'kept.svg'), '<svg>old</svg>');
    await writeFile(join(out, 'notes.txt'), 'mine');
    const before = await snapshot(out);
    await expect(
      writeFolderSet(out, 'results.json', async (staging) => {
        await writeFile(join(staging, 'kept.svg'), '<svg>new</svg>');
        throw new Error('disk full');
      }),
    ).rejects.toMatchObject({ code: 'io' });
    expect(await snapshot(out)).toEqual(before);
    await writeFolderSet(
      out,
      'results.json',
      async (staging) => {
        await writeFile(join(staging, 'kept.svg'), '<svg>new</svg>');
        await writeFile(join(staging, 'results.md'), '# new');
        await writeFile(join(staging, 'results.json'), JSON.stringify({ plots: ['kept.svg'] }));
      },
      (text) => (JSON.parse(text) as { plots: string[] }).plots,
    );
    expect((await readdir(out)).sort()).toEqual(['kept.svg', 'notes.txt', 'results.json', 'results.md']);
    expect(await readFile(join(out, 'kept.svg'), 'utf8')).toBe('<svg>new</svg>');
  });

  it('stale temporaries of killed runs (.results.md.<pid>.tmp) are removed by later runs, live ones kept', async () => {
    const out = p('results');
    const dead = spawnSync(process.execPath, ['-e', 'process.exit(0)']).pid!;
    await writeFile(join(out, `.results.md.${dead}.0a1b2c3d.tmp`), 'half');
    await mkdir(join(out, `.results.${dead}.deadbeef.tmp`));
    await writeFile(join(out, `.results.json.${process.pid}.0a1b2c3d.tmp`), 'being written');
    const removed = await removeStaleTemporaries(out);
    expect(removed.sort()).toEqual([`.results.${dead}.deadbeef.tmp`, `.results.md.${dead}.0a1b2c3d.tmp`]);
    expect(await readdir(out)).toContain(`.results.json.${process.pid}.0a1b2c3d.tmp`);
  });

  it('relative GLA_CACHE_DIR resolves against the folder the user ran from (INIT_CWD)', async () => {
    const saved = { cache: process.env.GLA_CACHE_DIR, init: process.env.INIT_CWD };
    try {
      process.env.INIT_CWD = dir;
      process.env.GLA_CACHE_DIR = 'my-cache';
      await capture(['help']);
      expect(process.env.GLA_CACHE_DIR).toBe(join(dir, 'my-cache'));
      const { defaultCacheDir } = await import('@gla/tfjs-to-onnx/node');
      expect(defaultCacheDir()).toBe(join(dir, 'my-cache'));
    } finally {
      if (saved.cache === undefined) delete process.env.GLA_CACHE_DIR;
      else process.env.GLA_CACHE_DIR = saved.cache;
      if (saved.init === undefined) delete process.env.INIT_CWD;
      else process.env.INIT_CWD = saved.init;
    }
  });

  it('logitScale <= 0 in meta.json is a data error (exit 1), not silently 100', async () => {
    const features = { data: Float32Array.from({ length: 40 * 4 }, () => rng.normal()), rows: 40, cols: 4 };
    const featureDir = p('features-scale');
    await writeFeatureDir(featureDir, {
      features,
      labels: Array.from({ length: 40 }, (_, i) => i % 2),
      meta: { classNames: ['a', 'b'] },
      textFeatures: { data: new Float32Array(8).fill(1), shape: [2, 4] },
    });
    const meta = JSON.parse(await readFile(join(featureDir, 'meta.json'), 'utf8'));
    for (const scale of [0, -5]) {
      await writeFile(join(featureDir, 'meta.json'), JSON.stringify({ ...meta, logitScale: scale }));
      const r = await capture(['run', '--features', featureDir, '--out', p('run-scale'), '--seeds', '1', '--shots', '1']);
      expect(r.code).toBe(1);
      expect(r.err).toContain('logitScale');
    }
    await expect(stat(p('run-scale'))).rejects.toThrow();
  });
});

describe('signals', () => {
  it('an "interrupted" line and exit 143 on SIGTERM (what pnpm sends its child on Ctrl-C)', async () => {
    const child = spawn(
      process.execPath,
      ['--conditions=source', '--import', 'tsx', 'src/cli.ts', 'speed', '--quick', '--out', p('speed')],
      {
        cwd: benchRoot,
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, ORT_DISABLE_TELEMETRY: '1' },
      },
    );
    let err = '';
    child.stderr.on('data', (b) => {
      err += String(b);
    });
    child.stdout.resume();
    // Signal once the command has started its work (its first progress line), not at a guessed time.
    for (let waited = 0; !err && waited < 90_000; waited += 100) await new Promise((r) => setTimeout(r, 100));
    expect(err).not.toBe('');
    child.kill('SIGTERM');
    const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
    expect(err).toContain('gla: interrupted (SIGTERM)');
    expect(code).toBe(143);
  }, 180_000);
});
