import { randomBytes } from 'node:crypto';
import { constants, rmSync } from 'node:fs';
import { access, mkdir, open, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { writeFully } from '@gla/datasets';
import { CliError } from './errors';

/** Temporary files and folders currently being written; removed synchronously on SIGINT / exit. */
const pending = new Set<string>();

/** Removes every temporary file or folder still being written (called from the signal handlers). */
export function removePendingTemporaries(): number {
  let n = 0;
  for (const path of pending) {
    try {
      rmSync(path, { force: true, recursive: true });
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

/** Temporary names this module makes: `.NAME.PID.HEX.tmp` beside a file, `.NAME.PID.HEX.tmp/` for a staged folder. */
const TEMPORARY = /^\..+\.(\d+)\.[0-9a-f]+\.tmp$/;

function temporaryPath(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
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
 * Removes temporaries (`.NAME.PID.HEX.tmp` files and staged folders) that earlier runs left in
 * `dir` when they were killed: only those whose process is gone. Returns the names removed.
 */
export async function removeStaleTemporaries(dir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const m = TEMPORARY.exec(name);
    if (!m || isAlive(Number(m[1]))) continue;
    await rm(join(dir, name), { recursive: true, force: true }).catch(() => {});
    removed.push(name);
  }
  return removed;
}

function describeKind(s: Awaited<ReturnType<typeof stat>>): string {
  if (s.isCharacterDevice()) return 'a character device';
  if (s.isBlockDevice()) return 'a block device';
  if (s.isFIFO()) return 'a named pipe';
  if (s.isSocket()) return 'a socket';
  if (s.isDirectory()) return 'a folder';
  if (s.isFile()) return 'a regular file';
  return 'neither a regular file nor a folder';
}

async function statOrUndefined(path: string): Promise<Awaited<ReturnType<typeof stat>> | undefined> {
  try {
    return await stat(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT' || (error as NodeJS.ErrnoException).code === 'ENOTDIR') return undefined;
    throw new CliError('io', `cannot use ${path}: ${(error as Error).message}`);
  }
}

/** Checks that the nearest existing ancestor of `path` is a folder we may create entries in. */
async function checkCreatable(path: string, what: string): Promise<void> {
  let dir = dirname(path);
  for (;;) {
    const s = await statOrUndefined(dir);
    if (s) {
      if (!s.isDirectory()) throw new CliError('bad-value', `${what} ${path}: ${dir} is ${describeKind(s)}, not a folder`);
      try {
        await access(dir, constants.W_OK | constants.X_OK);
      } catch {
        throw new CliError('io', `cannot write ${path}: folder ${dir} is not writable`);
      }
      return;
    }
    const up = dirname(dir);
    if (up === dir) return;
    dir = up;
  }
}

/**
 * Up-front check that `path` can be written as a regular file, before any work is done: an
 * existing target must be a regular file (never a device, pipe, socket or folder, which a rename
 * would replace: 'bad-value', exit 2) and its folder must be writable ('io', exit 1).
 */
export async function assertWritableFile(path: string, what = '--out'): Promise<void> {
  const s = await statOrUndefined(path);
  if (s && !s.isFile()) throw new CliError('bad-value', `${what} ${path} is ${describeKind(s)}; give the path of a regular file`);
  if (s) {
    try {
      await access(dirname(path), constants.W_OK | constants.X_OK);
    } catch {
      throw new CliError('io', `cannot write ${path}: folder ${dirname(path)} is not writable`);
    }
    return;
  }
  await checkCreatable(path, what);
}

/** Up-front check that `dir` is (or can be created as) a writable folder. */
export async function assertWritableFolder(dir: string, what = '--out'): Promise<void> {
  const s = await statOrUndefined(dir);
  if (s && !s.isDirectory()) throw new CliError('bad-value', `${what} ${dir} is ${describeKind(s)}, not a folder`);
  if (s) {
    try {
      await access(dir, constants.W_OK | constants.X_OK);
    } catch {
      throw new CliError('io', `cannot write into ${dir}: the folder is not writable`);
    }
    return;
  }
  await checkCreatable(dir, what);
}

async function writeTemporary(path: string, tmp: string, data: string | Uint8Array): Promise<void> {
  const s = await statOrUndefined(path);
  if (s && !s.isFile()) throw new CliError('bad-value', `${path} is ${describeKind(s)}; refusing to replace it with a regular file`);
  await mkdir(dirname(path), { recursive: true });
  const handle = await open(tmp, 'wx', 0o644);
  try {
    await writeFully(handle, typeof data === 'string' ? Buffer.from(data, 'utf8') : data);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Writes `data` to `path` atomically: a temporary file beside it, fsync, rename. A reader (or an
 * interrupted run) sees the old file or the new one, never a half-written one. An existing
 * `path` that is not a regular file (e.g. /dev/null) is refused, never replaced.
 */
export async function writeAtomic(path: string, data: string | Uint8Array): Promise<void> {
  await writeAtomicSet([{ path, data }]);
}

/**
 * Writes several files together or not at all: every file goes to a temporary beside its
 * target first; only when all of them are written and synced are they renamed into place, in
 * the given order. A failure before the renames leaves every target as it was.
 */
export async function writeAtomicSet(files: readonly { path: string; data: string | Uint8Array }[]): Promise<void> {
  // Registered before the first await, so a signal at any point finds (and removes) them.
  const temporaries = files.map((file) => temporaryPath(file.path));
  for (const tmp of temporaries) pending.add(tmp);
  let current = files[0]?.path ?? '';
  try {
    for (let k = 0; k < files.length; k++) {
      current = files[k]!.path;
      await writeTemporary(files[k]!.path, temporaries[k]!, files[k]!.data);
    }
    for (let k = 0; k < files.length; k++) {
      current = files[k]!.path;
      await rename(temporaries[k]!, files[k]!.path);
      pending.delete(temporaries[k]!);
    }
  } catch (error) {
    for (const tmp of temporaries) await rm(tmp, { force: true }).catch(() => {});
    throw error instanceof CliError ? error : new CliError('io', `cannot write ${current}: ${(error as Error).message}`);
  } finally {
    for (const tmp of temporaries) pending.delete(tmp);
  }
}

/**
 * Writes a set of files into `dir` as a set. `write` fills a staging folder
 * (`dir/.NAME.PID.HEX.tmp/`, same file system); then the old manifest is removed, every staged
 * file is renamed into `dir` and the manifest (`manifest`, e.g. results.json) comes last. At
 * every moment `dir` holds the old complete set, or no manifest (an incomplete set that the next
 * run replaces), or the new complete set. Files of the old set that the new one does not have
 * (listed by `previousFiles`) are removed. A failure before the first rename leaves `dir` as it was.
 */
export async function writeFolderSet<T>(
  dir: string,
  manifest: string,
  write: (staging: string) => Promise<T>,
  previousFiles: (manifestText: string) => string[] = () => [],
): Promise<T> {
  await mkdir(dir, { recursive: true }).catch((error) => {
    throw new CliError('io', `cannot create ${dir}: ${(error as Error).message}`);
  });
  const staging = temporaryPath(join(dir, basename(dir) || 'results'));
  pending.add(staging);
  try {
    await mkdir(staging);
    const result = await write(staging);
    const staged = (await readdir(staging)).filter((name) => name !== manifest);
    const hasManifest = await statOrUndefined(join(staging, manifest));
    if (!hasManifest) throw new Error(`the staged set has no ${manifest}`);
    for (const name of [...staged, manifest]) {
      const s = await statOrUndefined(join(dir, name));
      if (s && !s.isFile()) throw new CliError('bad-value', `${join(dir, name)} is ${describeKind(s)}; refusing to replace it`);
    }
    let old: string[] = [];
    try {
      old = previousFiles(await readFile(join(dir, manifest), 'utf8'));
    } catch {
      old = [];
    }
    await rm(join(dir, manifest), { force: true });
    for (const name of staged) await rename(join(staging, name), join(dir, name));
    await rename(join(staging, manifest), join(dir, manifest));
    const kept = new Set([...staged, manifest]);
    for (const name of old) if (!kept.has(name) && !name.includes('/') && !name.startsWith('.')) await rm(join(dir, name), { force: true });
    await syncFolder(dir);
    return result;
  } catch (error) {
    throw error instanceof CliError ? error : new CliError('io', `cannot write the results in ${dir}: ${(error as Error).message}`);
  } finally {
    await rm(staging, { recursive: true, force: true }).catch(() => {});
    pending.delete(staging);
  }
}

async function syncFolder(dir: string): Promise<void> {
  try {
    const handle = await open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // not supported everywhere; the renames are atomic regardless
  }
}
