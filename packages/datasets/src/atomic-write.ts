import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { writeFully } from './byte-stream';
import { DatasetError, fsError } from './errors';

export interface WriteFileAtomicOptions {
  /** fsync the file before the rename (and the folder after it). Default true. */
  fsync?: boolean;
  /** Create missing parent folders. Default true. */
  mkdir?: boolean;
  /** File mode of the new file. Default 0o644. */
  mode?: number;
}

/** A temporary path beside `path`: same folder (so rename is atomic), unique per call. */
export function temporaryPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
}

/**
 * Throws 'invalid-argument' if `path` exists and is not a regular file (a device node such as
 * /dev/null, a pipe, a socket or a folder): renaming a new file over it would replace the node.
 */
export async function assertReplaceable(path: string): Promise<void> {
  let kind: string | undefined;
  try {
    const s = await stat(path);
    if (!s.isFile())
      kind = s.isCharacterDevice()
        ? 'a character device'
        : s.isBlockDevice()
          ? 'a block device'
          : s.isFIFO()
            ? 'a named pipe'
            : s.isSocket()
              ? 'a socket'
              : s.isDirectory()
                ? 'a folder'
                : 'not a regular file';
  } catch {
    return; // missing (or unreadable: the write itself will say why)
  }
  if (kind) throw new DatasetError('invalid-argument', `is ${kind}; refusing to replace it with a regular file`, { file: path });
}

/**
 * Writes `data` to `path` atomically: to a temporary file in the same folder, fsync, then
 * rename over `path`. Readers see the old content or the new one, never a partial file; a
 * crash leaves at most a stray `.NAME.PID.RANDOM.tmp` file. `data` may be a string (UTF-8),
 * bytes, or a list of byte chunks written in order.
 */
export async function writeFileAtomic(
  path: string,
  data: string | Uint8Array | readonly Uint8Array[],
  options: WriteFileAtomicOptions = {},
): Promise<void> {
  const { fsync = true, mode = 0o644 } = options;
  await assertReplaceable(path);
  if (options.mkdir ?? true) await mkdir(dirname(path), { recursive: true }).catch((e) => Promise.reject(fsError(e, dirname(path))));
  const tmp = temporaryPathFor(path);
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  try {
    handle = await open(tmp, 'wx', mode);
    const chunks = typeof data === 'string' ? [Buffer.from(data, 'utf8')] : data instanceof Uint8Array ? [data] : data;
    for (const chunk of chunks) {
      await writeFully(handle, chunk);
    }
    if (fsync) await handle.sync();
    await handle.close();
    handle = undefined;
    await rename(tmp, path);
    if (fsync) await syncFolder(dirname(path));
  } catch (error) {
    await handle?.close().catch(() => {});
    await rm(tmp, { force: true }).catch(() => {});
    throw fsError(error, path);
  }
}

/** fsync a folder so a rename inside it is durable; ignored where unsupported. */
export async function syncFolder(folder: string): Promise<void> {
  try {
    const handle = await open(folder, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // Some platforms cannot open or fsync folders; the rename itself is still atomic.
  }
}
