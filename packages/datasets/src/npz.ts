import { freemem } from 'node:os';
import { createInflateRaw, deflateRawSync } from 'node:zlib';
import { writeFileAtomic } from './atomic-write';
import { openForReading, readExactlyAt } from './byte-stream';
import { crc32 } from './crc32';
import type { NdArray } from './dtypes';
import { DatasetError, fsError } from './errors';
import { decodeNpyOwned, encodeNpy, type NdArrayInput } from './npy';

/** Largest possible deflate expansion ratio (1032:1); bounds what a member may claim. */
const MAX_DEFLATE_RATIO = 1032;

/**
 * Limits on what an archive (.npz, gzipped IDX) may expand to. A small file can declare, or
 * inflate to, far more bytes than it holds (a deflate bomb, or zip members that all point at
 * one compressed block); these limits are checked before memory is allocated.
 */
export interface ArchiveLimits {
  /**
   * Cap on the total bytes expanded from one archive (all members read through one reader).
   * Default: {@link defaultExpansionLimit}.
   */
  maxExpandedBytes?: number;
}

/**
 * The default cap on expanded archive bytes: `$GLA_MAX_EXPANDED_BYTES` when set (a positive
 * integer), else the memory available now (`os.freemem()`), at least 64 MiB.
 */
export function defaultExpansionLimit(): number {
  const fromEnv = process.env.GLA_MAX_EXPANDED_BYTES;
  if (fromEnv !== undefined && fromEnv !== '') {
    const n = Number(fromEnv);
    if (!Number.isSafeInteger(n) || n <= 0)
      throw new DatasetError('invalid-argument', `GLA_MAX_EXPANDED_BYTES must be a positive integer, got '${fromEnv}'`);
    return n;
  }
  return Math.max(64 * 2 ** 20, freemem());
}

/** Resolves {@link ArchiveLimits} to a byte count, validating a given cap. */
export function expansionLimit(limits: ArchiveLimits = {}): number {
  const n = limits.maxExpandedBytes;
  if (n === undefined) return defaultExpansionLimit();
  if (!(Number.isSafeInteger(n) || n === Number.POSITIVE_INFINITY) || n <= 0)
    throw new DatasetError('invalid-argument', `maxExpandedBytes must be a positive integer, got ${n}`);
  return n;
}

/** Throws 'header-mismatch' naming the cap when `total` expanded bytes would exceed `limit`. */
export function checkExpansion(total: number, limit: number, file: string): void {
  if (total > limit) {
    throw new DatasetError(
      'header-mismatch',
      `archive expands to ${total} bytes, more than the limit of ${limit} (maxExpandedBytes / GLA_MAX_EXPANDED_BYTES)`,
      { file },
    );
  }
}

/** One member of a zip archive, from its central directory. */
export interface ZipEntry {
  name: string;
  /** 0 = stored, 8 = deflated. */
  method: number;
  crc32: number;
  compressedSize: number;
  uncompressedSize: number;
  localHeaderOffset: number;
}

function u16(b: Uint8Array, o: number): number {
  return b[o]! | (b[o + 1]! << 8);
}
function u32(b: Uint8Array, o: number): number {
  return (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24)) >>> 0;
}
function u64(b: Uint8Array, o: number, file: string): number {
  const lo = u32(b, o);
  const hi = u32(b, o + 4);
  if (hi > 0x1fffff) throw new DatasetError('header-mismatch', 'zip64 size or offset beyond 2^53', { file });
  return hi * 4294967296 + lo;
}

/**
 * Parses a zip archive's central directory from `tail` (the last bytes of the file, which
 * must include the end-of-central-directory record) plus a reader for other ranges.
 */
async function readCentralDirectory(
  size: number,
  read: (length: number, position: number) => Promise<Uint8Array>,
  file: string,
): Promise<ZipEntry[]> {
  if (size < 22) throw new DatasetError('bad-magic', 'not a zip/.npz file (too short for an end-of-central-directory record)', { file });
  const tailLength = Math.min(size, 22 + 65535 + 20);
  const tailStart = size - tailLength;
  const tail = await read(tailLength, tailStart);
  let eocd = -1;
  for (let i = tail.length - 22; i >= 0; i--) {
    if (u32(tail, i) === 0x06054b50 && i + 22 + u16(tail, i + 20) === tail.length) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) {
    for (let i = tail.length - 22; i >= 0; i--) {
      if (u32(tail, i) === 0x06054b50) {
        eocd = i;
        break;
      }
    }
  }
  if (eocd < 0) {
    const head = await read(Math.min(4, size), 0);
    if (u32(head, 0) === 0x04034b50)
      throw new DatasetError('truncated', 'zip: end-of-central-directory record missing (file cut short?)', { file });
    throw new DatasetError('bad-magic', 'not a zip/.npz file', { file });
  }
  let count = u16(tail, eocd + 10);
  let cdSize = u32(tail, eocd + 12);
  let cdOffset = u32(tail, eocd + 16);
  if ((count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) && eocd >= 20 && u32(tail, eocd - 20) === 0x07064b50) {
    const z64Offset = u64(tail, eocd - 20 + 8, file);
    if (z64Offset + 56 > size) throw new DatasetError('truncated', 'zip64 end-of-central-directory record beyond end of file', { file });
    const z = await read(56, z64Offset);
    if (u32(z, 0) !== 0x06064b50) throw new DatasetError('bad-magic', 'zip64 end-of-central-directory signature missing', { file });
    count = u64(z, 32, file);
    cdSize = u64(z, 40, file);
    cdOffset = u64(z, 48, file);
  }
  if (cdOffset + cdSize > size)
    throw new DatasetError('truncated', `zip: central directory [${cdOffset}, +${cdSize}) beyond file size ${size}`, { file });
  if (count * 46 > cdSize)
    throw new DatasetError('header-mismatch', `zip: ${count} entries cannot fit in a ${cdSize}-byte central directory`, { file });
  const cd = await read(cdSize, cdOffset);
  const entries: ZipEntry[] = [];
  let p = 0;
  for (let k = 0; k < count; k++) {
    if (p + 46 > cd.length || u32(cd, p) !== 0x02014b50)
      throw new DatasetError('header-mismatch', `zip: central directory entry ${k} is malformed`, { file });
    const flags = u16(cd, p + 8);
    const method = u16(cd, p + 10);
    const crc = u32(cd, p + 16);
    let compressedSize = u32(cd, p + 20);
    let uncompressedSize = u32(cd, p + 24);
    const nameLength = u16(cd, p + 28);
    const extraLength = u16(cd, p + 30);
    const commentLength = u16(cd, p + 32);
    let localHeaderOffset = u32(cd, p + 42);
    if (p + 46 + nameLength + extraLength + commentLength > cd.length)
      throw new DatasetError('header-mismatch', `zip: central directory entry ${k} overruns`, { file });
    const name = new TextDecoder(flags & 0x800 ? 'utf-8' : 'latin1').decode(cd.subarray(p + 46, p + 46 + nameLength));
    // zip64 extended information
    let e = p + 46 + nameLength;
    const extraEnd = e + extraLength;
    while (e + 4 <= extraEnd) {
      const id = u16(cd, e);
      const len = u16(cd, e + 2);
      if (id === 0x0001) {
        let q = e + 4;
        const end = Math.min(q + len, extraEnd);
        if (uncompressedSize === 0xffffffff && q + 8 <= end) {
          uncompressedSize = u64(cd, q, file);
          q += 8;
        }
        if (compressedSize === 0xffffffff && q + 8 <= end) {
          compressedSize = u64(cd, q, file);
          q += 8;
        }
        if (localHeaderOffset === 0xffffffff && q + 8 <= end) localHeaderOffset = u64(cd, q, file);
      }
      e += 4 + len;
    }
    if (flags & 0x1) throw new DatasetError('unsupported-format', `zip member '${name}' is encrypted`, { file });
    entries.push({ name, method, crc32: crc, compressedSize, uncompressedSize, localHeaderOffset });
    p += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}

/** Where a member's data starts, from its local header (checked against the file size). */
async function memberDataStart(
  entry: ZipEntry,
  size: number,
  read: (length: number, position: number) => Promise<Uint8Array>,
  file: string,
): Promise<number> {
  const where = `${file} [${entry.name}]`;
  if (entry.localHeaderOffset + 30 > size) throw new DatasetError('truncated', 'local header beyond end of file', { file: where });
  const local = await read(30, entry.localHeaderOffset);
  if (u32(local, 0) !== 0x04034b50) throw new DatasetError('bad-magic', 'zip local header signature missing', { file: where });
  const dataStart = entry.localHeaderOffset + 30 + u16(local, 26) + u16(local, 28);
  if (dataStart + entry.compressedSize > size) {
    throw new DatasetError('truncated', `member data [${dataStart}, +${entry.compressedSize}) beyond file size ${size}`, { file: where });
  }
  return dataStart;
}

/**
 * Rejects archives whose members share bytes ('header-mismatch'): every member's local header
 * and data must occupy its own range, before the central directory. A zip whose directory
 * entries all point at one compressed block would otherwise expand it once per entry.
 */
async function checkLayout(
  entries: ZipEntry[],
  size: number,
  read: (length: number, position: number) => Promise<Uint8Array>,
  file: string,
): Promise<Map<ZipEntry, number>> {
  const starts = new Map<ZipEntry, number>();
  const ranges: { entry: ZipEntry; begin: number; end: number }[] = [];
  for (const entry of entries) {
    const where = `${file} [${entry.name}]`;
    if (entry.method === 0 && entry.compressedSize !== entry.uncompressedSize)
      throw new DatasetError('header-mismatch', 'stored member with different sizes', { file: where });
    if (entry.method === 8 && entry.uncompressedSize > entry.compressedSize * MAX_DEFLATE_RATIO + 1024) {
      throw new DatasetError(
        'header-mismatch',
        `declared size ${entry.uncompressedSize} impossible for ${entry.compressedSize} deflated bytes`,
        { file: where },
      );
    }
    const dataStart = await memberDataStart(entry, size, read, file);
    starts.set(entry, dataStart);
    ranges.push({ entry, begin: entry.localHeaderOffset, end: dataStart + entry.compressedSize });
  }
  ranges.sort((a, b) => a.begin - b.begin);
  for (let k = 1; k < ranges.length; k++) {
    const a = ranges[k - 1]!;
    const b = ranges[k]!;
    if (b.begin < a.end) {
      throw new DatasetError(
        'header-mismatch',
        `zip members '${a.entry.name}' [${a.begin}, ${a.end}) and '${b.entry.name}' [${b.begin}, ${b.end}) overlap`,
        { file },
      );
    }
  }
  return starts;
}

/**
 * Inflates a raw deflate stream into one buffer of exactly `expected` bytes, allocated up front:
 * peak memory is the compressed bytes plus the output (no chunk list, no final concatenation).
 * A stream longer or shorter than `expected` is 'truncated'.
 */
function inflateExactly(compressed: Uint8Array, expected: number, where: string): Promise<Uint8Array> {
  return new Promise((resolvePromise, reject) => {
    const out = new Uint8Array(expected);
    let done = 0;
    let failed = false;
    const inflater = createInflateRaw({ chunkSize: 1 << 20 });
    const fail = (message: string, cause?: unknown) => {
      if (failed) return;
      failed = true;
      inflater.destroy();
      reject(new DatasetError('truncated', message, { file: where, cause }));
    };
    inflater.on('data', (chunk: Buffer) => {
      if (failed) return;
      if (done + chunk.length > expected) {
        fail(`deflate stream is longer than the ${expected} bytes the central directory declares`);
        return;
      }
      out.set(chunk, done);
      done += chunk.length;
    });
    inflater.on('error', (error) => fail(`deflate stream is corrupt: ${error.message}`, error));
    inflater.on('end', () => {
      if (failed) return;
      if (done !== expected) fail(`inflated ${done} bytes, central directory declares ${expected}`);
      else resolvePromise(out);
    });
    // Feed in pieces so a huge compressed member is not handed to zlib in one call.
    const piece = 1 << 20;
    for (let o = 0; o < compressed.length; o += piece) inflater.write(compressed.subarray(o, Math.min(compressed.length, o + piece)));
    inflater.end();
  });
}

async function readMember(
  entry: ZipEntry,
  dataStart: number,
  read: (length: number, position: number) => Promise<Uint8Array>,
  file: string,
): Promise<Uint8Array> {
  const where = `${file} [${entry.name}]`;
  let data: Uint8Array;
  if (entry.method === 0) {
    data = await read(entry.compressedSize, dataStart);
  } else if (entry.method === 8) {
    data = await inflateExactly(await read(entry.compressedSize, dataStart), entry.uncompressedSize, where);
  } else {
    throw new DatasetError('unsupported-format', `zip compression method ${entry.method} (only stored and deflated)`, { file: where });
  }
  if (crc32(data) !== entry.crc32) throw new DatasetError('checksum-mismatch', 'CRC-32 does not match', { file: where });
  return data;
}

/** An open .npz archive whose arrays are read one at a time. */
export interface NpzReader {
  readonly path: string;
  /** Array names, without the `.npy` suffix (as numpy's `NpzFile.files`). */
  readonly names: string[];
  readonly entries: ZipEntry[];
  read(name: string): Promise<NdArray>;
  close(): Promise<void>;
}

/**
 * Opens a .npz (zip of .npy files; stored or deflated, zip64 aware) and reads its directory.
 * Members that share bytes are rejected at open; the total of the members read through the
 * reader must fit in `limits.maxExpandedBytes` ('header-mismatch', checked before each member
 * is inflated; {@link readNpz} and {@link decodeNpz} check the whole archive up front). Each
 * member is inflated into one buffer of its declared size and decoded in place, so reading
 * an array costs its size plus its compressed bytes.
 */
export async function openNpz(path: string, limits: ArchiveLimits = {}): Promise<NpzReader> {
  const limit = expansionLimit(limits);
  const { handle, size } = await openForReading(path);
  try {
    const read = (length: number, position: number) => readExactlyAt(handle, length, position, path);
    const entries = await readCentralDirectory(size, read, path);
    const starts = await checkLayout(entries, size, read, path);
    const byName = new Map(entries.map((e) => [e.name.endsWith('.npy') ? e.name.slice(0, -4) : e.name, e]));
    let expanded = 0;
    return {
      path,
      names: [...byName.keys()],
      entries,
      async read(name) {
        const entry = byName.get(name);
        if (!entry) throw new DatasetError('not-found', `no array '${name}' (has: ${[...byName.keys()].join(', ')})`, { file: path });
        checkExpansion(expanded + entry.uncompressedSize, limit, path);
        expanded += entry.uncompressedSize;
        const bytes = await readMember(entry, starts.get(entry)!, read, path);
        return decodeNpyOwned(bytes, `${path} [${entry.name}]`);
      },
      close: () => handle.close(),
    };
  } catch (error) {
    await handle.close();
    throw fsError(error, path);
  }
}

/** Reads every array of a .npz file (limits as for {@link openNpz}). */
export async function readNpz(path: string, limits: ArchiveLimits = {}): Promise<Record<string, NdArray>> {
  const reader = await openNpz(path, limits);
  try {
    // All members will be read: refuse up front when their total exceeds the cap.
    checkExpansion(
      reader.entries.reduce((sum, e) => sum + e.uncompressedSize, 0),
      expansionLimit(limits),
      path,
    );
    const out: Record<string, NdArray> = {};
    for (const name of reader.names) out[name] = await reader.read(name);
    return out;
  } finally {
    await reader.close();
  }
}

/** Decodes a .npz held in memory (limits as for {@link openNpz}). */
export async function decodeNpz(bytes: Uint8Array, file = '<memory>', limits: ArchiveLimits = {}): Promise<Record<string, NdArray>> {
  const limit = expansionLimit(limits);
  const read = async (length: number, position: number) => {
    if (position + length > bytes.length)
      throw new DatasetError('truncated', `zip: range [${position}, +${length}) beyond ${bytes.length} bytes`, { file });
    return bytes.subarray(position, position + length);
  };
  const entries = await readCentralDirectory(bytes.length, read, file);
  const starts = await checkLayout(entries, bytes.length, read, file);
  checkExpansion(
    entries.reduce((sum, e) => sum + e.uncompressedSize, 0),
    limit,
    file,
  );
  const out: Record<string, NdArray> = {};
  for (const entry of entries) {
    const name = entry.name.endsWith('.npy') ? entry.name.slice(0, -4) : entry.name;
    const member = await readMember(entry, starts.get(entry)!, read, file);
    // Stored members are views of the caller's bytes: decode a copy so the result owns its memory.
    out[name] = decodeNpyOwned(entry.method === 0 ? member.slice() : member, `${file} [${entry.name}]`);
  }
  return out;
}

/**
 * Encodes arrays as a .npz archive (like `np.savez`, or `np.savez_compressed` with
 * `compress: true`). Member timestamps are fixed (1980-01-01) so equal input gives equal bytes.
 */
export function encodeNpz(arrays: Record<string, NdArrayInput>, options: { compress?: boolean } = {}): Uint8Array {
  const compress = options.compress ?? false;
  const locals: Uint8Array[] = [];
  const centrals: Uint8Array[] = [];
  let offset = 0;
  const encoder = new TextEncoder();
  for (const [key, array] of Object.entries(arrays)) {
    const name = encoder.encode(`${key}.npy`);
    const raw = encodeNpy(array);
    const body = compress ? deflateRawSync(raw) : raw;
    if (raw.length >= 0xffffffff || offset + body.length >= 0xffffffff) {
      throw new DatasetError('unsupported-format', `encodeNpz: member '${key}' would need zip64 (> 4 GiB); write .npy files instead`);
    }
    const crc = crc32(raw);
    const method = compress ? 8 : 0;
    const local = new Uint8Array(30 + name.length);
    const lv = new DataView(local.buffer);
    lv.setUint32(0, 0x04034b50, true);
    lv.setUint16(4, 20, true);
    lv.setUint16(6, 0x800, true);
    lv.setUint16(8, method, true);
    lv.setUint16(10, 0, true);
    lv.setUint16(12, 0x21, true); // 1980-01-01
    lv.setUint32(14, crc, true);
    lv.setUint32(18, body.length, true);
    lv.setUint32(22, raw.length, true);
    lv.setUint16(26, name.length, true);
    lv.setUint16(28, 0, true);
    local.set(name, 30);
    const central = new Uint8Array(46 + name.length);
    const cv = new DataView(central.buffer);
    cv.setUint32(0, 0x02014b50, true);
    cv.setUint16(4, 20, true);
    cv.setUint16(6, 20, true);
    cv.setUint16(8, 0x800, true);
    cv.setUint16(10, method, true);
    cv.setUint16(12, 0, true);
    cv.setUint16(14, 0x21, true);
    cv.setUint32(16, crc, true);
    cv.setUint32(20, body.length, true);
    cv.setUint32(24, raw.length, true);
    cv.setUint16(28, name.length, true);
    cv.setUint32(38, 0o100644 * 65536, true);
    cv.setUint32(42, offset, true);
    central.set(name, 46);
    locals.push(local, body);
    centrals.push(central);
    offset += local.length + body.length;
  }
  const cdSize = centrals.reduce((s, c) => s + c.length, 0);
  const eocd = new Uint8Array(22);
  const ev = new DataView(eocd.buffer);
  ev.setUint32(0, 0x06054b50, true);
  ev.setUint16(8, centrals.length, true);
  ev.setUint16(10, centrals.length, true);
  ev.setUint32(12, cdSize, true);
  ev.setUint32(16, offset, true);
  const out = new Uint8Array(offset + cdSize + 22);
  let p = 0;
  for (const part of [...locals, ...centrals, eocd]) {
    out.set(part, p);
    p += part.length;
  }
  return out;
}

/** Writes a .npz archive atomically. */
export async function writeNpz(path: string, arrays: Record<string, NdArrayInput>, options: { compress?: boolean } = {}): Promise<void> {
  await writeFileAtomic(path, encodeNpz(arrays, options));
}
