import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, readdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from './atomic-write';
import { DatasetError, fsError, throwIfAborted } from './errors';
import type { Matrix } from './matrix';

const SHARD_MAGIC = Buffer.from('GLAFC001', 'latin1');
const SHARD_HEADER = 8 + 4 + 4 + 32 + 32;
const ENTRY_FILE = 'entry.json';

/** sha256 (hex) of a file's bytes, streamed: the model identity for {@link cachedEncode}. */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  try {
    for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  } catch (error) {
    throw fsError(error, path);
  }
  return hash.digest('hex');
}

/** JSON with object keys sorted at every level, so equal settings give equal keys. */
export function canonicalJson(value: unknown): string {
  if (value === undefined) return 'null';
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'number' && !Number.isFinite(value))
      throw new DatasetError('invalid-argument', `settings hold a non-finite number ${value}`);
    if (typeof value === 'bigint' || typeof value === 'function' || typeof value === 'symbol')
      throw new DatasetError('invalid-argument', `settings hold a ${typeof value}`);
    return JSON.stringify(value);
  }
  if (ArrayBuffer.isView(value)) return canonicalJson(Array.from(value as unknown as ArrayLike<number>));
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const record = value as Record<string, unknown>;
  return `{${Object.keys(record)
    .filter((k) => record[k] !== undefined)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonicalJson(record[k])}`)
    .join(',')}}`;
}

/** An on-disk feature cache: one folder per (model, settings), one file per encoded batch. */
export interface FeatureCache {
  readonly dir: string;
  /** Folder of the entry for this model identity and preprocessing settings. */
  entryDir(modelId: string, settings?: unknown): string;
  /** Lists entries: model, settings, number of shards and bytes on disk. */
  entries(): Promise<{ key: string; modelId: string; settings: unknown; shards: number; bytes: number }[]>;
  /** Deletes the whole cache folder's contents. */
  clear(): Promise<void>;
}

/**
 * Opens (creating if needed) a feature cache folder. Layout: `DIR/<key>/entry.json` and
 * `DIR/<key>/<batch hash>.f32`, key = sha256 of canonical JSON {modelId, settings}. Each
 * shard is self-checking (magic, shape, sha256 of the batch's item ids, sha256 of the
 * payload) and written atomically, so a killed run loses at most the batch in flight and a
 * damaged shard is recomputed, never read as data.
 */
export async function openFeatureCache(dir: string): Promise<FeatureCache> {
  try {
    await mkdir(dir, { recursive: true });
  } catch (error) {
    throw fsError(error, dir);
  }
  const entryKey = (modelId: string, settings: unknown) =>
    createHash('sha256')
      .update(canonicalJson({ modelId, settings: settings ?? null }))
      .digest('hex')
      .slice(0, 32);
  return {
    dir,
    entryDir: (modelId, settings) => join(dir, entryKey(modelId, settings)),
    async entries() {
      const out = [];
      for (const key of await readdir(dir).catch(() => [] as string[])) {
        const entry = await readFile(join(dir, key, ENTRY_FILE), 'utf8')
          .then((t) => JSON.parse(t) as { modelId: string; settings: unknown })
          .catch(() => undefined);
        if (!entry) continue;
        let shards = 0;
        let bytes = 0;
        for (const f of await readdir(join(dir, key))) {
          if (!f.endsWith('.f32')) continue;
          shards++;
          bytes += (await stat(join(dir, key, f))).size;
        }
        out.push({ key, modelId: entry.modelId, settings: entry.settings, shards, bytes });
      }
      return out;
    },
    async clear() {
      for (const key of await readdir(dir)) await rm(join(dir, key), { recursive: true, force: true });
    },
  };
}

/** Progress of {@link cachedEncode}, reported after each batch. */
export interface CachedEncodeProgress {
  /** Items done so far. */
  done: number;
  /** Total items, when `items` is an array. */
  total: number | undefined;
  /** Items read from the cache so far. */
  fromCache: number;
  /** Items encoded so far. */
  computed: number;
  /** Batches whose cache file was damaged or stale and was recomputed. */
  recovered: number;
}

export interface CachedEncodeOptions<T extends { id: string }> {
  cache: FeatureCache;
  /**
   * Model identity, e.g. `clip-vit-b32:` + sha256 of the model bytes ({@link sha256File}).
   * May be omitted when `modelFile` is given.
   */
  modelId?: string;
  /** Model file(s) whose sha256 becomes part of the identity (hashed on every call). */
  modelFile?: string | readonly string[];
  /** Preprocessing settings (JSON-serialisable); part of the cache key. */
  settings?: unknown;
  /** Items with stable, unique ids (e.g. relative paths); order is the output row order. */
  items: readonly T[] | Iterable<T> | AsyncIterable<T>;
  /** Items per encode call and per cache shard. Default 64. */
  batchSize?: number;
  /** Encodes a batch: returns batch.length × D (Float32 or Float64). */
  encode: (batch: T[], context: { signal?: AbortSignal }) => Promise<Matrix>;
  onProgress?: (progress: CachedEncodeProgress) => void;
  /** Aborting throws DatasetError 'aborted' between batches; finished batches stay cached. */
  signal?: AbortSignal;
}

function idsHash(ids: readonly string[]): Buffer {
  const hash = createHash('sha256');
  for (const id of ids) {
    const bytes = Buffer.from(id, 'utf8');
    const length = Buffer.alloc(4);
    length.writeUInt32LE(bytes.length);
    hash.update(length).update(bytes);
  }
  return hash.digest();
}

/** Reads a shard if it is complete and belongs to these ids; otherwise undefined. */
async function readShard(
  path: string,
  expectedIds: Buffer,
  rows: number,
): Promise<{ data: Float32Array; cols: number } | 'missing' | 'damaged'> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (error) {
    if ((error as { code?: string }).code === 'ENOENT') return 'missing';
    throw fsError(error, path);
  }
  if (bytes.length < SHARD_HEADER || !bytes.subarray(0, 8).equals(SHARD_MAGIC)) return 'damaged';
  const shardRows = bytes.readUInt32LE(8);
  const cols = bytes.readUInt32LE(12);
  if (shardRows !== rows || cols < 1 || bytes.length !== SHARD_HEADER + rows * cols * 4) return 'damaged';
  if (!bytes.subarray(16, 48).equals(expectedIds)) return 'damaged';
  const payload = bytes.subarray(SHARD_HEADER);
  if (!createHash('sha256').update(payload).digest().equals(bytes.subarray(48, 80))) return 'damaged';
  const data = new Float32Array(rows * cols);
  new Uint8Array(data.buffer).set(payload);
  return { data, cols };
}

function shardBytes(ids: Buffer, rows: number, cols: number, data: Float32Array): Buffer {
  const payload = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const header = Buffer.alloc(SHARD_HEADER);
  SHARD_MAGIC.copy(header, 0);
  header.writeUInt32LE(rows, 8);
  header.writeUInt32LE(cols, 12);
  ids.copy(header, 16);
  createHash('sha256').update(payload).digest().copy(header, 48);
  return Buffer.concat([header, payload]);
}

/** Deletes temporary files left by writers that no longer run (killed mid-write). */
async function removeStaleTemporaryFiles(dir: string): Promise<void> {
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    const m = /^\..*\.(\d+)\.[0-9a-f]+\.tmp$/.exec(name);
    if (!m) continue;
    const pid = Number(m[1]);
    let alive = pid === process.pid;
    if (!alive) {
      try {
        process.kill(pid, 0);
        alive = true;
      } catch (error) {
        alive = (error as { code?: string }).code === 'EPERM';
      }
    }
    if (!alive) await rm(join(dir, name), { force: true });
  }
}

/**
 * Encodes items through the feature cache: batches found in the cache (same model identity,
 * settings and item ids, in the same batches) are read, the rest are encoded and written
 * (one atomic file per batch). Returns the features of all items in order, N × D Float32.
 * Throws 'shape-mismatch' if `encode` returns the wrong number of rows or a changing width,
 * 'invalid-argument' for duplicate ids within a batch.
 */
export async function cachedEncode<T extends { id: string }>(options: CachedEncodeOptions<T>): Promise<Matrix> {
  const { cache, encode, signal } = options;
  let modelId = options.modelId ?? '';
  if (options.modelFile !== undefined) {
    const files = typeof options.modelFile === 'string' ? [options.modelFile] : options.modelFile;
    const hashes: string[] = [];
    for (const file of files) hashes.push(`sha256:${await sha256File(file)}`);
    modelId = [modelId, ...hashes].filter((part) => part.length > 0).join('|');
  }
  const batchSize = options.batchSize ?? 64;
  if (!Number.isSafeInteger(batchSize) || batchSize < 1 || batchSize > 0xffffffff)
    throw new DatasetError('invalid-argument', `batchSize must be a positive integer, got ${batchSize}`);
  if (modelId.length === 0) throw new DatasetError('invalid-argument', 'give modelId (a non-empty string) or modelFile');
  const settings = options.settings ?? null;
  const dir = cache.entryDir(modelId, settings);
  try {
    await mkdir(dir, { recursive: true });
  } catch (error) {
    throw fsError(error, dir);
  }
  await removeStaleTemporaryFiles(dir);
  const entryFile = join(dir, ENTRY_FILE);
  const hasEntry = await stat(entryFile).then(
    () => true,
    () => false,
  );
  if (!hasEntry)
    await writeFileAtomic(
      entryFile,
      `${JSON.stringify({ schema: 'gla.feature-cache', version: 1, modelId, settings: JSON.parse(canonicalJson(settings)) }, null, 2)}\n`,
    );

  const total = Array.isArray(options.items) ? options.items.length : undefined;
  const parts: Float32Array[] = [];
  let cols: number | undefined;
  const progress: CachedEncodeProgress = { done: 0, total, fromCache: 0, computed: 0, recovered: 0 };

  const runBatch = async (batch: T[]) => {
    throwIfAborted(signal);
    const ids = batch.map((item) => {
      if (typeof item?.id !== 'string') throw new DatasetError('invalid-argument', 'every item needs a string id');
      return item.id;
    });
    if (new Set(ids).size !== ids.length)
      throw new DatasetError('invalid-argument', `duplicate item ids in batch starting at item ${progress.done}`);
    const key = idsHash(ids);
    const file = join(dir, `${key.toString('hex').slice(0, 40)}.f32`);
    const found = await readShard(file, key, batch.length);
    let data: Float32Array;
    let batchCols: number;
    if (typeof found === 'object') {
      data = found.data;
      batchCols = found.cols;
      progress.fromCache += batch.length;
    } else {
      if (found === 'damaged') progress.recovered++;
      const m = await encode(batch, { signal });
      if (m.rows !== batch.length || !(m.cols >= 1) || m.data.length !== m.rows * m.cols) {
        throw new DatasetError(
          'shape-mismatch',
          `encode returned ${m.rows} × ${m.cols} (${m.data.length} values) for a batch of ${batch.length}`,
        );
      }
      data = m.data instanceof Float32Array ? m.data : Float32Array.from(m.data);
      batchCols = m.cols;
      throwIfAborted(signal);
      await writeFileAtomic(file, shardBytes(key, batch.length, batchCols, data));
      progress.computed += batch.length;
    }
    if (cols === undefined) cols = batchCols;
    else if (cols !== batchCols)
      throw new DatasetError('shape-mismatch', `batch at item ${progress.done} has ${batchCols} features, earlier batches ${cols}`, {
        file,
      });
    parts.push(data);
    progress.done += batch.length;
    options.onProgress?.({ ...progress });
  };

  let batch: T[] = [];
  for await (const item of options.items as AsyncIterable<T>) {
    batch.push(item);
    if (batch.length === batchSize) {
      await runBatch(batch);
      batch = [];
    }
  }
  if (batch.length > 0) await runBatch(batch);

  const rows = progress.done;
  const out = new Float32Array(rows * (cols ?? 0));
  let p = 0;
  for (const part of parts) {
    out.set(part, p);
    p += part.length;
  }
  return { data: out, rows, cols: cols ?? 0 };
}
