import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { CliError } from './errors';

/** Temporary files currently being written; removed synchronously on SIGINT / exit. */
const pending = new Set<string>();

/** Removes every temporary file still being written (called from the SIGINT handler). */
export function removePendingTemporaries(): number {
  let n = 0;
  for (const path of pending) {
    try {
      rmSync(path, { force: true });
      n++;
    } catch {
      // best effort
    }
  }
  pending.clear();
  return n;
}

/** Number of temporary files currently open (for tests). */
export function pendingTemporaryCount(): number {
  return pending.size;
}

/**
 * Writes `data` to `path` atomically: a temporary file beside it, fsync, rename. A reader (or an
 * interrupted run) sees the old file or the new one, never a half-written one.
 */
export async function writeAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  pending.add(tmp);
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  try {
    await mkdir(dirname(path), { recursive: true });
    handle = await open(tmp, 'wx', 0o644);
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    let offset = 0;
    while (offset < bytes.byteLength) {
      const { bytesWritten } = await handle.write(bytes, offset, bytes.byteLength - offset);
      offset += bytesWritten;
    }
    await handle.sync();
    await handle.close();
    handle = undefined;
    await rename(tmp, path);
  } catch (error) {
    await handle?.close().catch(() => {});
    await rm(tmp, { force: true }).catch(() => {});
    throw new CliError('io', `cannot write ${path}: ${(error as Error).message}`);
  } finally {
    pending.delete(tmp);
  }
}
