import { closeSync, ftruncateSync, openSync, writeSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MAX_IO_CHUNK, readExactlyAt, writeFully } from '../src/byte-stream';
import { openNpy, readFeatureDir, readSafetensors } from '../src/index';
import { makeTempDir } from './helpers';

const tmp = makeTempDir();
afterAll(tmp.cleanup);

const TWO_GIB = 2 ** 31;

/** A .npy header (format 1.0, padded to a multiple of 64 bytes) for a C-order little-endian array. */
function npyHeader(descr: string, shape: number[]): Uint8Array {
  const dict = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  const total = Math.ceil((10 + dict.length + 1) / 64) * 64;
  const text = dict + ' '.repeat(total - 10 - dict.length - 1) + '\n';
  const out = new Uint8Array(total);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0], 0);
  new DataView(out.buffer).setUint16(8, total - 10, true);
  for (let k = 0; k < text.length; k++) out[10 + k] = text.charCodeAt(k);
  return out;
}

/**
 * A sparse float32 .npy of `rows` x `cols` (holes read as zeros and cost no disk), whose last
 * row holds 1, 2, ..., cols so the test can see the read reached the end.
 */
function sparseNpy(path: string, rows: number, cols: number): number {
  const header = npyHeader('<f4', [rows, cols]);
  const dataLength = rows * cols * 4;
  const fd = openSync(path, 'w');
  try {
    writeSync(fd, header, 0, header.length, 0);
    ftruncateSync(fd, header.length + dataLength);
    const last = new Float32Array(cols).map((_, j) => j + 1);
    writeSync(fd, new Uint8Array(last.buffer), 0, cols * 4, header.length + dataLength - cols * 4);
  } finally {
    closeSync(fd);
  }
  return header.length + dataLength;
}

describe('arrays of 2 GiB and more', () => {
  it('readExactlyAt and writeFully: every fs call moves fewer than 2^31 bytes', async () => {
    const calls: number[] = [];
    const fake = {
      read: async (_b: Uint8Array, _o: number, length: number) => {
        calls.push(length);
        return { bytesRead: length };
      },
      write: async (_b: Uint8Array, _o: number, length: number) => {
        calls.push(length);
        return { bytesWritten: length };
      },
    } as unknown as FileHandle;
    const length = TWO_GIB + 4096;
    const bytes = await readExactlyAt(fake, length, 7, 'fake');
    expect(bytes.length).toBe(length);
    await writeFully(fake, bytes, 0);
    expect(calls.every((n) => n <= MAX_IO_CHUNK && n < TWO_GIB)).toBe(true);
    expect(calls.reduce((a, b) => a + b, 0)).toBe(2 * length);
    expect(calls.length).toBe(6);
  });

  it('2 GiB features.npy: chunked reads below 2^31 bytes (openNpy, readNpy via readFeatureDir, readSafetensors on sparse files)', async () => {
    const dir = join(tmp.dir, 'big');
    const { mkdirSync, writeFileSync } = await import('node:fs');
    mkdirSync(dir);
    const cols = 64;
    const rows = TWO_GIB / (4 * cols) + 3; // just over 2 GiB of data
    const file = join(dir, 'features.npy');
    const size = sparseNpy(file, rows, cols);
    expect(size).toBeGreaterThan(TWO_GIB);

    const reader = await openNpy(file);
    try {
      const tail = await reader.readRows(rows - 1, 1); // an offset beyond 2^31
      expect(Array.from(tail.data as Float32Array)).toEqual(Array.from({ length: cols }, (_, j) => j + 1));
    } finally {
      await reader.close();
    }

    const labels = new BigInt64Array(rows);
    labels[rows - 1] = 1n;
    writeFileSync(join(dir, 'labels.npy'), Buffer.concat([npyHeader('<i8', [rows]), new Uint8Array(labels.buffer)]));
    writeFileSync(join(dir, 'meta.json'), JSON.stringify({ classNames: ['a', 'b'] }));
    // readFeatureDir reads features.npy whole through readNpy (one 2 GiB readExactlyAt)
    let fd = await readFeatureDir(dir);
    expect(fd.features.rows).toBe(rows);
    expect(fd.features.data.length).toBe(rows * cols);
    expect(fd.features.data[0]).toBe(0);
    expect(fd.features.data[rows * cols - 2]).toBe(cols - 1);
    expect(fd.labels[rows - 1]).toBe(1);
    fd = undefined as never;

    // safetensors: the same sparse data behind a JSON header
    const json = JSON.stringify({ x: { dtype: 'F32', shape: [rows, cols], data_offsets: [0, rows * cols * 4] } });
    const padded = json.padEnd(Math.ceil(json.length / 8) * 8, ' ');
    const st = join(dir, 'big.safetensors');
    const out = openSync(st, 'w');
    try {
      const prefix = new Uint8Array(8);
      new DataView(prefix.buffer).setUint32(0, padded.length, true);
      writeSync(out, prefix, 0, 8, 0);
      writeSync(out, Buffer.from(padded, 'utf8'), 0, padded.length, 8);
      ftruncateSync(out, 8 + padded.length + rows * cols * 4);
      writeSync(out, new Uint8Array(new Float32Array([42]).buffer), 0, 4, 8 + padded.length + rows * cols * 4 - 4);
    } finally {
      closeSync(out);
    }
    const { tensors } = await readSafetensors(st);
    expect(tensors.x!.shape).toEqual([rows, cols]);
    expect(tensors.x!.data[rows * cols - 1]).toBe(42);
  }, 180_000);
});
