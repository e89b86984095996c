import { createReadStream } from 'node:fs';
import { createGunzip } from 'node:zlib';
import { DatasetError } from './errors';

/**
 * Pulls exact byte counts from a stream of chunks. Memory is only ever allocated for bytes
 * that actually arrived, never for a count a file header merely claims.
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

  /** Reads exactly n bytes; throws 'truncated' if the stream ends first. */
  async read(n: number): Promise<Uint8Array> {
    await this.fill(n);
    if (this.pendingBytes < n) {
      throw new DatasetError('truncated', `expected ${n} more bytes at offset ${this.position}, stream ends after ${this.pendingBytes}`, { file: this.file });
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
