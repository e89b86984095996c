import { randomBytes } from 'node:crypto';
import { constants, rmSync, type Stats } from 'node:fs';
import { access, mkdir, open, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { writeFully } from './byte-stream';
import { DatasetError, fsError } from './errors';

/** The data of one file: a string (UTF-8), bytes, or a list of byte chunks written in order. */
export type AtomicFileData = string | Uint8Array | readonly Uint8Array[];

export interface WriteFileAtomicOptions {
  /** fsync the file before the rename (and the folder after it). Default true. */
  fsync?: boolean;
  /** Create missing parent folders. Default true. */
  mkdir?: boolean;
  /** File mode of the new file. Default 0o644. */
  mode?: number;
}

// ---------------------------------------------------------------------------------------------
// Temporary names and the registry of temporaries being written
// ---------------------------------------------------------------------------------------------

/**
 * The name of every temporary this package makes: `.NAME.PID.HEX.tmp`, a file beside its target or
 * a staging folder (see {@link writeFolderSet}). Group 1 is the writer's process id.
 */
export const TEMPORARY_NAME = /^\..+\.(\d+)\.[0-9a-f]+\.tmp$/;

/** A temporary path beside `path`: same folder (so rename is atomic), unique per call, matches {@link TEMPORARY_NAME}. */
export function temporaryPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
}

/** Temporary files and folders currently being written by this process. */
const pending = new Set<string>();

/**
 * Registers `path` (a temporary file or folder) so that {@link removePendingTemporaries} removes it;
 * returns the function that unregisters it. For writers outside this module that make their own temporaries.
 */
export function registerPendingTemporary(path: string): () => void {
  pending.add(path);
  return () => {
    pending.delete(path);
  };
}

/**
 * Removes, synchronously, every temporary file or folder still being written by this process and
 * returns how many it removed. Meant for signal handlers (SIGINT, SIGTERM), which cannot await:
 * call it, then exit. Writes in flight fail afterwards; their targets are untouched.
 */
export function removePendingTemporaries(): number {
  let n = 0;
  for (const path of pending) {
    try {
      rmSync(path, { force: true, recursive: true });
      n++;
    } catch {
      // best effort: the process is about to exit
    }
  }
  pending.clear();
  return n;
}

/** Number of temporaries currently being written (registered, not yet renamed or removed). */
export function pendingTemporaryCount(): number {
  return pending.size;
}

function isAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes the temporaries ({@link TEMPORARY_NAME}: files and staging folders) that earlier processes
 * left in `folder` when they were killed: only those whose process id no longer runs on this machine;
 * those of this process and of live processes are kept. A missing folder removes nothing.
 * @returns The names removed (not paths).
 */
export async function removeStaleTemporaries(folder: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(folder);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const m = TEMPORARY_NAME.exec(name);
    if (!m || isAlive(Number(m[1]))) continue;
    await rm(join(folder, name), { recursive: true, force: true }).catch(() => {});
    removed.push(name);
  }
  return removed;
}

// ---------------------------------------------------------------------------------------------
// Refusing to replace what is not a regular file, up-front checks
// ---------------------------------------------------------------------------------------------

/**
 * What a file-system node is, in words (`'a character device'`, `'a block device'`, `'a named pipe'`,
 * `'a socket'`, `'a folder'`, `'not a regular file'`), or undefined for a regular file.
 */
function describeFileKind(stats: Stats): string | undefined {
  if (stats.isFile()) return undefined;
  if (stats.isCharacterDevice()) return 'a character device';
  if (stats.isBlockDevice()) return 'a block device';
  if (stats.isFIFO()) return 'a named pipe';
  if (stats.isSocket()) return 'a socket';
  if (stats.isDirectory()) return 'a folder';
  return 'not a regular file';
}

async function statOrUndefined(path: string): Promise<Stats | undefined> {
  try {
    return await stat(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw new DatasetError('io', `cannot use it: ${(error as Error).message}`, { file: path, cause: error });
  }
}

/**
 * Throws 'invalid-argument' if `path` exists and is not a regular file (a device node such as
 * /dev/null, a pipe, a socket or a folder): renaming a new file over it would replace the node.
 * The error's details carry `file` and `kind` (words from {@link describeFileKind}).
 */
export async function assertReplaceable(path: string): Promise<void> {
  let kind: string | undefined;
  try {
    kind = describeFileKind(await stat(path));
  } catch {
    return; // missing (or unreadable: the write itself will say why)
  }
  if (kind) throw new DatasetError('invalid-argument', `is ${kind}; refusing to replace it with a regular file`, { file: path, kind });
}

async function assertFolderWritable(folder: string, path: string): Promise<void> {
  try {
    await access(folder, constants.W_OK | constants.X_OK);
  } catch (error) {
    throw new DatasetError('io', `folder ${folder} is not writable`, { file: path, folder, cause: error });
  }
}

/** Checks that the nearest existing ancestor of `path` is a folder this process may create entries in. */
async function assertCreatable(path: string): Promise<void> {
  let folder = dirname(path);
  for (;;) {
    const s = await statOrUndefined(folder);
    if (s) {
      if (!s.isDirectory()) {
        const kind = describeFileKind(s) ?? 'a regular file';
        throw new DatasetError('invalid-argument', `${folder} is ${kind}, not a folder`, { file: path, folder, kind });
      }
      return assertFolderWritable(folder, path);
    }
    const up = dirname(folder);
    if (up === folder) return;
    folder = up;
  }
}

/**
 * Up-front check, before any work is done, that `path` can be written (atomically) as a regular file.
 * Throws DatasetError:
 * - 'invalid-argument' with details `{ file, kind }` if `path` exists and is not a regular file;
 * - 'invalid-argument' with `{ file, folder, kind }` if an existing ancestor `folder` is not a folder;
 * - 'io' with `{ file, folder }` if the folder that would hold it is not writable;
 * - 'io' with `{ file }` if `path` cannot be examined at all.
 */
export async function assertWritableFile(path: string): Promise<void> {
  const s = await statOrUndefined(path);
  if (!s) return assertCreatable(path);
  const kind = describeFileKind(s);
  if (kind) throw new DatasetError('invalid-argument', `is ${kind}; give the path of a regular file`, { file: path, kind });
  await assertFolderWritable(dirname(path), path);
}

/**
 * Up-front check that `folder` is, or can be created as, a folder this process can write into.
 * Throws DatasetError:
 * - 'invalid-argument' with details `{ file, kind }` if `folder` exists and is not a folder (`kind`
 *   is 'a regular file' for a plain file);
 * - 'invalid-argument' with `{ file, folder, kind }` if an existing ancestor `folder` is not a folder;
 * - 'io' with `{ file, folder }` if it (or the ancestor that would hold it) is not writable;
 * - 'io' with `{ file }` if it cannot be examined at all.
 */
export async function assertWritableFolder(folder: string): Promise<void> {
  const s = await statOrUndefined(folder);
  if (!s) return assertCreatable(folder);
  if (!s.isDirectory()) {
    const kind = describeFileKind(s) ?? 'a regular file';
    throw new DatasetError('invalid-argument', `is ${kind}, not a folder`, { file: folder, kind });
  }
  await assertFolderWritable(folder, folder);
}

// ---------------------------------------------------------------------------------------------
// Writers
// ---------------------------------------------------------------------------------------------

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

async function writeTemporary(path: string, tmp: string, data: AtomicFileData, options: WriteFileAtomicOptions): Promise<void> {
  const { fsync = true, mode = 0o644 } = options;
  await assertReplaceable(path);
  if (options.mkdir ?? true) await mkdir(dirname(path), { recursive: true }).catch((e) => Promise.reject(fsError(e, path)));
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  try {
    handle = await open(tmp, 'wx', mode);
    const chunks = typeof data === 'string' ? [Buffer.from(data, 'utf8')] : data instanceof Uint8Array ? [data] : data;
    for (const chunk of chunks) await writeFully(handle, chunk);
    if (fsync) await handle.sync();
  } catch (error) {
    throw fsError(error, path);
  } finally {
    await handle?.close().catch(() => {});
  }
}

/**
 * Writes `data` to `path` atomically: to a temporary file in the same folder, fsync, then
 * rename over `path`. Readers see the old content or the new one, never a partial file; a
 * crash leaves at most a stray `.NAME.PID.RANDOM.tmp` file ({@link removeStaleTemporaries}), and
 * {@link removePendingTemporaries} removes it from a signal handler. An existing `path` that is not
 * a regular file (e.g. /dev/null) is refused ('invalid-argument'), never replaced. `data` may be a
 * string (UTF-8), bytes, or a list of byte chunks written in order.
 */
export async function writeFileAtomic(path: string, data: AtomicFileData, options: WriteFileAtomicOptions = {}): Promise<void> {
  await writeFileSetAtomic([{ path, data }], options);
}

/**
 * Writes several files together or not at all: each file goes to a temporary beside its target
 * first; only when all of them are written (and synced) are they renamed into place, in the given
 * order. A failure before the renames (a target that is a device or a folder, a full disk) leaves
 * every target as it was and removes every temporary. The temporaries are registered for
 * {@link removePendingTemporaries} before the first await.
 * @throws DatasetError naming the file concerned ('invalid-argument' for a refused target, 'io' or 'not-found' otherwise).
 */
export async function writeFileSetAtomic(
  files: readonly { path: string; data: AtomicFileData }[],
  options: WriteFileAtomicOptions = {},
): Promise<void> {
  const temporaries = files.map((file) => temporaryPathFor(file.path));
  for (const tmp of temporaries) pending.add(tmp);
  let current = files[0]?.path ?? '';
  try {
    for (let k = 0; k < files.length; k++) {
      current = files[k]!.path;
      await writeTemporary(current, temporaries[k]!, files[k]!.data, options);
    }
    for (let k = 0; k < files.length; k++) {
      current = files[k]!.path;
      await rename(temporaries[k]!, current);
      pending.delete(temporaries[k]!);
    }
    if (options.fsync ?? true) for (const folder of new Set(files.map((file) => dirname(file.path)))) await syncFolder(folder);
  } catch (error) {
    for (const tmp of temporaries) if (pending.has(tmp)) await rm(tmp, { force: true }).catch(() => {});
    throw fsError(error, current);
  } finally {
    for (const tmp of temporaries) pending.delete(tmp);
  }
}

/**
 * Replaces a set of files in `folder` as a set. `write` fills a staging folder (`folder/.NAME.PID.HEX.tmp/`,
 * same file system, registered for {@link removePendingTemporaries}) and must put `manifest` (e.g.
 * results.json) there; then the old manifest is removed, every other staged file is renamed into
 * `folder`, and the manifest comes last. At every moment `folder` holds the old complete set, or no
 * manifest (an incomplete set the next run replaces), or the new complete set. Files of the old set
 * that the new one lacks (the plain names `previousFiles` reads from the old manifest's text) are
 * removed; other files in `folder` are kept. A failure before the first rename leaves `folder` as it
 * was; the staging folder is always removed.
 * @returns What `write` returned.
 * @throws What `write` threw, unchanged; otherwise DatasetError: 'invalid-argument' (details `{ file,
 *   kind }`) if a target in `folder` is not a regular file, 'invalid-meta' if nothing was staged as
 *   `manifest`, 'io' or 'not-found' for file-system failures.
 */
export async function writeFolderSet<T>(
  folder: string,
  manifest: string,
  write: (staging: string) => Promise<T>,
  previousFiles: (manifestText: string) => string[] = () => [],
): Promise<T> {
  await mkdir(folder, { recursive: true }).catch((error) => Promise.reject(fsError(error, folder)));
  const staging = temporaryPathFor(join(folder, basename(folder) || 'results'));
  pending.add(staging);
  try {
    await mkdir(staging).catch((error) => Promise.reject(fsError(error, staging)));
    const result = await write(staging);
    let staged: string[];
    try {
      staged = (await readdir(staging)).filter((name) => name !== manifest);
    } catch (error) {
      throw fsError(error, staging);
    }
    if (!(await statOrUndefined(join(staging, manifest))))
      throw new DatasetError('invalid-meta', `the staged set has no ${manifest}`, { file: folder, manifest });
    for (const name of [...staged, manifest]) {
      const s = await statOrUndefined(join(folder, name));
      const kind = s && describeFileKind(s);
      if (kind) throw new DatasetError('invalid-argument', `is ${kind}; refusing to replace it`, { file: join(folder, name), kind });
    }
    let old: string[] = [];
    try {
      old = previousFiles(await readFile(join(folder, manifest), 'utf8'));
    } catch {
      old = [];
    }
    let current = join(folder, manifest);
    try {
      await rm(current, { force: true });
      for (const name of staged) {
        current = join(folder, name);
        await rename(join(staging, name), current);
      }
      current = join(folder, manifest);
      await rename(join(staging, manifest), current);
      const kept = new Set([...staged, manifest]);
      for (const name of old) {
        current = join(folder, name);
        if (!kept.has(name) && !name.includes('/') && !name.startsWith('.')) await rm(current, { force: true });
      }
    } catch (error) {
      throw fsError(error, current);
    }
    await syncFolder(folder);
    return result;
  } finally {
    await rm(staging, { recursive: true, force: true }).catch(() => {});
    pending.delete(staging);
  }
}
