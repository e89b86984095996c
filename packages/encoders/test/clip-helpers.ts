import { readFileSync } from 'node:fs';
import path from 'node:path';
import { SHARED_DIR } from '@gla/tooling/shared-data';

/** A path inside the reference data: ../shared beside the repository, or $GLA_SHARED_DIR. */
export const sharedPath = (...parts: string[]): string => path.join(SHARED_DIR, ...parts);

/** Minimal .npy reader for the goldens (little-endian float32 / uint8, C order). */
export function readNpy(file: string): { shape: number[]; data: Float32Array | Uint8Array } {
  const bytes = readFileSync(file);
  if (bytes.readUInt32BE(0) !== 0x934e554d) throw new Error(`${file} is not .npy`);
  const major = bytes[6]!;
  const headerLength = major === 1 ? bytes.readUInt16LE(8) : bytes.readUInt32LE(8);
  const start = major === 1 ? 10 : 12;
  const header = bytes.subarray(start, start + headerLength).toString('latin1');
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const shape = (/'shape':\s*\(([^)]*)\)/.exec(header)?.[1] ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map(Number);
  if (/'fortran_order':\s*True/.test(header)) throw new Error('fortran order not supported');
  const body = bytes.subarray(start + headerLength);
  const copy = new Uint8Array(body).buffer;
  if (descr === '<f4') return { shape, data: new Float32Array(copy) };
  if (descr === '|u1') return { shape, data: new Uint8Array(copy) };
  throw new Error(`dtype ${descr} not supported`);
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}
