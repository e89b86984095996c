import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { canonicalJson } from '../src/feature-cache';
import { type CachedEncodeProgress, cachedEncode, openFeatureCache, sha256File, writeFileAtomic } from '../src/index';
import { FAKE_DIM, fakeEncode, fakeItems } from './fixtures/fake-encoder';
import { makeTempDir, PACKAGE_ROOT } from './helpers';

const tmp = makeTempDir();
afterAll(tmp.cleanup);

function counting() {
  const calls: number[] = [];
  return {
    calls,
    encode: async (batch: { id: string }[]) => {
      calls.push(batch.length);
      return fakeEncode(batch);
    },
  };
}

async function run(dir: string, n: number, extra: Partial<Parameters<typeof cachedEncode>[0]> = {}) {
  const cache = await openFeatureCache(dir);
  const c = counting();
  let last: CachedEncodeProgress | undefined;
  const m = await cachedEncode({
    cache,
    modelId: 'fake-model',
    settings: { resize: 224 },
    items: fakeItems(n),
    batchSize: 10,
    encode: c.encode,
    onProgress: (p) => (last = p),
    ...extra,
  });
  return { m, calls: c.calls, last: last! };
}

function shards(dir: string): string[] {
  const [entry] = readdirSync(dir);
  return readdirSync(join(dir, entry!))
    .filter((f) => f.endsWith('.f32'))
    .map((f) => join(dir, entry!, f));
}

describe('feature cache', () => {
  it('encodes once, then reads the same features from disk', async () => {
    const dir = join(tmp.dir, 'basic');
    const first = await run(dir, 45);
    expect(first.m).toMatchObject({ rows: 45, cols: FAKE_DIM });
    expect(first.m.data).toBeInstanceOf(Float32Array);
    expect(first.m.data).toEqual(fakeEncode(fakeItems(45)).data);
    expect(first.last).toMatchObject({ done: 45, total: 45, computed: 45, fromCache: 0 });
    const second = await run(dir, 45);
    expect(second.calls).toEqual([]);
    expect(second.last).toMatchObject({ fromCache: 45, computed: 0 });
    expect(second.m.data).toEqual(first.m.data);
    expect(shards(dir)).toHaveLength(5);
    // other settings or another model: a separate entry, computed afresh
    const other = await run(dir, 45, { settings: { resize: 336 } });
    expect(other.calls.length).toBe(5);
    const entries = await (await openFeatureCache(dir)).entries();
    expect(entries.map((e) => e.shards).sort()).toEqual([5, 5]);
  });

  it('accepts async iterables of items and reports changed items as misses', async () => {
    const dir = join(tmp.dir, 'iter');
    await run(dir, 30);
    async function* items() {
      for (const item of fakeItems(30)) yield item.id === 'images/item-15.jpg' ? { id: 'images/other.jpg' } : item;
    }
    const cache = await openFeatureCache(dir);
    const c = counting();
    const m = await cachedEncode({
      cache,
      modelId: 'fake-model',
      settings: { resize: 224 },
      items: items(),
      batchSize: 10,
      encode: c.encode,
    });
    expect(c.calls).toEqual([10]);
    expect(m.rows).toBe(30);
  });

  it('detects truncated, corrupted and foreign shard files and recomputes them', async () => {
    const dir = join(tmp.dir, 'damage');
    const good = (await run(dir, 50)).m.data;
    const files = shards(dir).sort();
    truncateSync(files[0]!, statSync(files[0]!).size - 7);
    const bytes = readFileSync(files[1]!);
    bytes[bytes.length - 3]! ^= 0x40;
    writeFileSync(files[1]!, bytes);
    writeFileSync(files[2]!, Buffer.alloc(statSync(files[2]!).size));
    truncateSync(files[3]!, 0);
    const again = await run(dir, 50);
    expect(again.calls).toEqual([10, 10, 10, 10]);
    expect(again.last).toMatchObject({ recovered: 4, computed: 40, fromCache: 10 });
    expect(again.m.data).toEqual(good);
    expect((await run(dir, 50)).calls).toEqual([]);
  });

  it('survives SIGKILL mid-encode: the rerun loses at most the batch in flight', async () => {
    const dir = join(tmp.dir, 'killed');
    const child = spawn(
      process.execPath,
      ['--conditions=source', '--import', 'tsx', join(PACKAGE_ROOT, 'test/fixtures/encode-child.ts'), dir, '200', '40'],
      {
        cwd: PACKAGE_ROOT,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let reported = 0;
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => {
        for (const m of d.toString().matchAll(/done (\d+)/g)) reported = Number(m[1]);
        if (reported >= 60) {
          child.kill('SIGKILL');
          resolve();
        }
      });
      child.on('exit', () => reject(new Error(`child exited before being killed: ${stderr}`)));
    });
    expect(await exited).toBe('SIGKILL');
    const again = await run(dir, 200);
    // Every batch the child reported is on disk; at most one more (in flight) was lost or kept.
    expect(again.last.fromCache).toBeGreaterThanOrEqual(reported);
    expect(again.last.computed).toBeLessThanOrEqual(200 - reported);
    expect(again.last.recovered).toBe(0);
    expect(again.m.data).toEqual(fakeEncode(fakeItems(200)).data);
    const entry = readdirSync(dir)[0]!;
    expect(readdirSync(join(dir, entry)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  }, 60_000);

  it('validates the encoder output and honours abort signals', async () => {
    const dir = join(tmp.dir, 'errors');
    const cache = await openFeatureCache(dir);
    await expect(
      cachedEncode({ cache, modelId: 'm', items: fakeItems(5), batchSize: 5, encode: async (b) => fakeEncode(b.slice(1)) }),
    ).rejects.toMatchObject({ code: 'shape-mismatch' });
    const controller = new AbortController();
    const c = counting();
    await expect(
      cachedEncode({
        cache,
        modelId: 'm',
        items: fakeItems(50),
        batchSize: 10,
        encode: async (b) => {
          const m = await c.encode(b);
          if (c.calls.length === 2) controller.abort();
          return m;
        },
        signal: controller.signal,
      }),
    ).rejects.toMatchObject({ code: 'aborted' });
    const resumed = counting();
    await cachedEncode({ cache, modelId: 'm', items: fakeItems(50), batchSize: 10, encode: resumed.encode });
    expect(resumed.calls).toEqual([10, 10, 10, 10]);
    await expect(
      cachedEncode({ cache, modelId: 'm', items: [{ id: 'a' }, { id: 'a' }], encode: async (b) => fakeEncode(b) }),
    ).rejects.toMatchObject({ code: 'invalid-argument' });
  });

  it('keys by canonical settings and hashes model files with sha256', async () => {
    expect(canonicalJson({ b: 1, a: { d: [1, 2], c: 'x' } })).toBe('{"a":{"c":"x","d":[1,2]},"b":1}');
    const cache = await openFeatureCache(join(tmp.dir, 'keys'));
    expect(cache.entryDir('m', { a: 1, b: 2 })).toBe(cache.entryDir('m', { b: 2, a: 1 }));
    expect(cache.entryDir('m', { a: 1 })).not.toBe(cache.entryDir('n', { a: 1 }));
    const model = join(tmp.dir, 'model.onnx');
    await writeFileAtomic(model, 'abc');
    expect(await sha256File(model)).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    await expect(sha256File(join(tmp.dir, 'none'))).rejects.toMatchObject({ code: 'not-found' });
    // modelFile: the identity follows the model bytes
    const c = counting();
    const encodeWith = () => cachedEncode({ cache, modelFile: model, items: fakeItems(4), encode: c.encode });
    await encodeWith();
    await encodeWith();
    expect(c.calls).toEqual([4]);
    await writeFileAtomic(model, 'abd');
    await encodeWith();
    expect(c.calls).toEqual([4, 4]);
    expect((await cache.entries()).map((e) => e.modelId).sort()).toEqual(
      ['sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad', `sha256:${await sha256File(model)}`].sort(),
    );
  });
});
