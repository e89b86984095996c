import { createReadStream } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { createGunzip } from 'node:zlib';
import { DatasetError, fsError } from './errors';

const DIRECT_READ_LIMIT = 16 * 2 ** 20;

/**
 * Pulls exact byte counts from a stream of chunks. Reads up to 16 MiB allocate only for bytes
 * that actually arrived, never for a count a file header merely claims; larger reads allocate
 * their result once, so callers check such counts against their limits (see ArchiveLimits).
 */
export class ChunkReader {
  private readonly iterator: AsyncIterator<Uint8Array>;
  private pending: Uint8Array[] = [];
  private pendingBytes = 0;
  private ended = false;
  /** Bytes handed out so far. */
  position = 0;

  constructor(
    source: AsyncIterable<Uint8Array>,
    private readonly file: string,
  ) {
    this.iterator = source[Symbol.asyncIterator]();
  }

  private async fill(n: number): Promise<void> {
    while (this.pendingBytes < n && !this.ended) {
      const next = await this.iterator.next();
      if (next.done) this.ended = true;
      else if (next.value.length > 0) {
        this.pending.push(next.value);
        this.pendingBytes += next.value.length;
      }
    }
  }

  /**
   * Reads exactly n bytes; throws 'truncated' if the stream ends first. Reads up to 16 MiB wait
   * for the bytes before allocating; larger ones (whose size the caller has checked against its
   * limits) allocate the result once and copy chunks in as they arrive, so the peak is the
   * result plus one chunk, not twice the result.
   */
  async read(n: number): Promise<Uint8Array> {
    if (n > DIRECT_READ_LIMIT) return this.readLarge(n);
    await this.fill(n);
    if (this.pendingBytes < n) {
      throw new DatasetError('truncated', `expected ${n} more bytes at offset ${this.position}, stream ends after ${this.pendingBytes}`, {
        file: this.file,
      });
    }
    const out = new Uint8Array(n);
    let done = 0;
    while (done < n) {
      const head = this.pending[0]!;
      const take = Math.min(head.length, n - done);
      out.set(head.subarray(0, take), done);
      done += take;
      if (take === head.length) this.pending.shift();
      else this.pending[0] = head.subarray(take);
    }
    this.pendingBytes -= n;
    this.position += n;
    return out;
  }

  private async readLarge(n: number): Promise<Uint8Array> {
    const out = new Uint8Array(n);
    let done = 0;
    while (done < n) {
      if (this.pending.length === 0) {
        await this.fill(1);
        if (this.pendingBytes === 0) {
          throw new DatasetError('truncated', `expected ${n} more bytes at offset ${this.position}, stream ends after ${done}`, {
            file: this.file,
          });
        }
      }
      const head = this.pending[0]!;
      const take = Math.min(head.length, n - done);
      out.set(head.subarray(0, take), done);
      done += take;
      this.pendingBytes -= take;
      if (take === head.length) this.pending.shift();
      else this.pending[0] = head.subarray(take);
    }
    this.position += n;
    return out;
  }

  /** True if no byte is left. */
  async atEnd(): Promise<boolean> {
    await this.fill(1);
    return this.pendingBytes === 0;
  }

  async close(): Promise<void> {
    await this.iterator.return?.();
  }
}

/** True if bytes start with the gzip magic 1f 8b. */
export function isGzip(head: Uint8Array): boolean {
  return head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b;
}

/** A chunk stream of a file's bytes, gunzipped if `gzip`; gzip errors become 'truncated'. */
export async function* fileChunks(path: string, gzip: boolean, highWaterMark = 1 << 20): AsyncGenerator<Uint8Array> {
  const raw = createReadStream(path, { highWaterMark });
  if (!gzip) {
    try {
      for await (const chunk of raw) yield chunk as Buffer;
    } finally {
      raw.destroy();
    }
    return;
  }
  const gunzip = createGunzip({ chunkSize: 1 << 16 });
  raw.on('error', (error) => gunzip.destroy(error));
  raw.pipe(gunzip);
  try {
    for await (const chunk of gunzip) yield chunk as Buffer;
  } catch (error) {
    if (error instanceof DatasetError) throw error;
    throw new DatasetError('truncated', `gzip stream is corrupt or cut short: ${(error as Error).message}`, { file: path, cause: error });
  } finally {
    raw.unpipe(gunzip);
    raw.destroy();
    gunzip.destroy();
  }
}

/**
 * Largest byte count passed to one `read`/`write` call. Node's fs binding asserts that lengths
 * are int32 (a single call of 2^31 bytes or more aborts the process with exit 134), so larger
 * transfers are split into pieces of at most this size (1 GiB).
 */
export const MAX_IO_CHUNK = 1 << 30;

/**
 * Reads exactly `length` bytes at `position`; a file that ends first is 'truncated' (named).
 * Only `length` bytes are allocated, so callers check declared lengths against the file size first.
 * Any length the machine can hold works: reads are issued in pieces of at most {@link MAX_IO_CHUNK}.
 */
export async function readExactlyAt(handle: FileHandle, length: number, position: number, file: string): Promise<Uint8Array> {
  if (!Number.isSafeInteger(length) || length < 0 || !Number.isSafeInteger(position) || position < 0) {
    throw new DatasetError('invalid-argument', `cannot read ${length} bytes at offset ${position}`, { file });
  }
  let out: Uint8Array;
  try {
    out = new Uint8Array(length);
  } catch (error) {
    throw new DatasetError('io', `cannot allocate ${length} bytes to read at offset ${position}: ${(error as Error).message}`, {
      file,
      cause: error,
    });
  }
  let done = 0;
  while (done < length) {
    const { bytesRead } = await handle.read(out, done, Math.min(length - done, MAX_IO_CHUNK), position + done);
    if (bytesRead === 0) {
      throw new DatasetError('truncated', `expected ${length} bytes at offset ${position}, file ends after ${done}`, { file });
    }
    done += bytesRead;
  }
  return out;
}

/**
 * Writes all of `bytes` at `position` (or at the current file position when `position` is
 * null), in pieces of at most {@link MAX_IO_CHUNK} so arrays of 2 GiB and more can be written.
 */
export async function writeFully(handle: FileHandle, bytes: Uint8Array, position: number | null = null): Promise<void> {
  let done = 0;
  while (done < bytes.byteLength) {
    const { bytesWritten } = await handle.write(
      bytes,
      done,
      Math.min(bytes.byteLength - done, MAX_IO_CHUNK),
      position === null ? null : position + done,
    );
    done += bytesWritten;
  }
}

/** Opens a file for random-access reads and returns its size; a missing file is 'not-found'. */
export async function openForReading(path: string): Promise<{ handle: FileHandle; size: number }> {
  let handle: FileHandle;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    throw fsError(error, path);
  }
  try {
    return { handle, size: (await handle.stat()).size };
  } catch (error) {
    await handle.close();
    throw fsError(error, path);
  }
}
