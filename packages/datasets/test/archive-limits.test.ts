import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { decodeNpz, encodeIdx, encodeNpz, openNpz, readIdx, readNpz, streamIdx } from '../src/index';
import { makeTempDir } from './helpers';

const tmp = makeTempDir();
afterAll(tmp.cleanup);
afterEach(() => {
  delete process.env.GLA_MAX_EXPANDED_BYTES;
});

const MiB = 2 ** 20;

/**
 * A zip whose central directory lists `copies` members that all point at the one local header
 * and compressed block of `zip` (a single-member archive): the classic overlapping-member bomb.
 */
function overlappingZip(zip: Uint8Array, copies: number): Uint8Array {
  const view = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
  const eocd = zip.length - 22;
  const cdOffset = view.getUint32(eocd + 16, true);
  const entry = zip.subarray(cdOffset, eocd);
  const nameLength = view.getUint16(cdOffset + 28, true);
  const central: Uint8Array[] = [];
  for (let k = 0; k < copies; k++) {
    const e = Uint8Array.from(entry);
    // distinct names (same length) so every copy is its own array: a0.npy, a1.npy, ...
    const name = `a${k}`.padEnd(nameLength - 4, '_');
    for (let i = 0; i < name.length; i++) e[46 + i] = name.charCodeAt(i);
    central.push(e);
  }
  const cdSize = central.reduce((s, c) => s + c.length, 0);
  const end = new Uint8Array(22);
  const ev = new DataView(end.buffer);
  ev.setUint32(0, 0x06054b50, true);
  ev.setUint16(8, copies, true);
  ev.setUint16(10, copies, true);
  ev.setUint32(12, cdSize, true);
  ev.setUint32(16, cdOffset, true);
  const out = new Uint8Array(cdOffset + cdSize + 22);
  out.set(zip.subarray(0, cdOffset), 0);
  let p = cdOffset;
  for (const c of central) {
    out.set(c, p);
    p += c.length;
  }
  out.set(end, p);
  return out;
}

describe('archive limits', () => {
  const bomb = encodeNpz({ a_padded_name: { dtype: 'uint8', shape: [64 * MiB], data: new Uint8Array(64 * MiB) } }, { compress: true });

  it('overlapping zip members: rejected before anything is inflated', async () => {
    const crafted = overlappingZip(bomb, 10);
    expect(crafted.length).toBeLessThan(200_000); // 10 x 64 MiB declared from ~65 KB
    const file = join(tmp.dir, 'overlap.npz');
    writeFileSync(file, crafted);
    for (const attempt of [() => openNpz(file, { maxExpandedBytes: Number.POSITIVE_INFINITY }), () => decodeNpz(crafted, 'mem.npz')]) {
      await expect(attempt()).rejects.toMatchObject({ code: 'header-mismatch', message: expect.stringMatching(/members .* overlap/) });
    }
  });

  it('deflate bomb in .npz: total expanded bytes capped (option and GLA_MAX_EXPANDED_BYTES)', async () => {
    expect(bomb.length).toBeLessThan(100_000);
    const file = join(tmp.dir, 'bomb.npz');
    writeFileSync(file, bomb);
    await expect(readNpz(file, { maxExpandedBytes: 16 * MiB })).rejects.toMatchObject({
      code: 'header-mismatch',
      message: expect.stringContaining(`more than the limit of ${16 * MiB}`),
    });
    process.env.GLA_MAX_EXPANDED_BYTES = String(32 * MiB);
    await expect(readNpz(file)).rejects.toMatchObject({
      code: 'header-mismatch',
      message: expect.stringContaining('GLA_MAX_EXPANDED_BYTES'),
    });
    process.env.GLA_MAX_EXPANDED_BYTES = 'lots';
    await expect(readNpz(file)).rejects.toMatchObject({ code: 'invalid-argument' });
    delete process.env.GLA_MAX_EXPANDED_BYTES;
    await expect(readNpz(file, { maxExpandedBytes: -1 })).rejects.toMatchObject({ code: 'invalid-argument' });
    // Under the cap it reads, decoded in place: the array's buffer is the one inflate filled.
    const arrays = await readNpz(file, { maxExpandedBytes: 128 * MiB });
    const a = arrays.a_padded_name!;
    expect(a.shape).toEqual([64 * MiB]);
    expect(a.data.buffer.byteLength).toBeLessThan(64 * MiB + 4096);
    expect(a.data.every((v) => v === 0)).toBe(true);
  });

  it('the cap counts every member read through one reader', async () => {
    const two = encodeNpz(
      {
        x: { dtype: 'uint8', shape: [3 * MiB], data: new Uint8Array(3 * MiB) },
        y: { dtype: 'uint8', shape: [3 * MiB], data: new Uint8Array(3 * MiB) },
      },
      { compress: true },
    );
    const file = join(tmp.dir, 'two.npz');
    writeFileSync(file, two);
    await expect(readNpz(file, { maxExpandedBytes: 5 * MiB })).rejects.toMatchObject({ code: 'header-mismatch' });
    const reader = await openNpz(file, { maxExpandedBytes: 7 * MiB }); // one member at a time fits
    try {
      expect((await reader.read('x')).shape).toEqual([3 * MiB]);
      expect((await reader.read('y')).shape).toEqual([3 * MiB]);
      await expect(reader.read('x')).rejects.toMatchObject({ code: 'header-mismatch' }); // 9 MiB > 7 MiB
    } finally {
      await reader.close();
    }
  });

  it('deflate bomb in gzipped IDX: capped before inflating, read in one buffer under the cap', async () => {
    const n = 16 * MiB;
    const gz = gzipSync(encodeIdx({ dtype: 'uint8', shape: [n / 1024, 1024], data: new Uint8Array(n) }), { level: 9 });
    expect(gz.length).toBeLessThan(40_000);
    const file = join(tmp.dir, 'bomb-idx3-ubyte.gz');
    writeFileSync(file, gz);
    await expect(readIdx(file, { maxExpandedBytes: 4 * MiB })).rejects.toMatchObject({
      code: 'header-mismatch',
      message: expect.stringContaining('limit'),
    });
    await expect(streamIdx(file, { maxExpandedBytes: 4 * MiB }).next()).rejects.toMatchObject({ code: 'header-mismatch' });
    const array = await readIdx(file, { maxExpandedBytes: 32 * MiB });
    expect(array.shape).toEqual([n / 1024, 1024]);
    expect(array.data.buffer.byteLength).toBe(n);
  });
});
