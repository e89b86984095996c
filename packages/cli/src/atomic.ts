import { mkdir } from 'node:fs/promises';
import {
  assertWritableFile as assertWritableFileOfDatasets,
  assertWritableFolder as assertWritableFolderOfDatasets,
  isDatasetError,
  writeFileSetAtomic,
  writeFolderSet as writeFolderSetOfDatasets,
} from '@gla/datasets';
import { CliError } from './errors';

// The mechanisms (temporary names, refusing devices, fsync, sets, the registry of pending
// temporaries) live in @gla/datasets; this module only words their errors the CLI's way.
export { pendingTemporaryCount, removePendingTemporaries, removeStaleTemporaries } from '@gla/datasets';

/** The message of the underlying file-system error, without the DatasetError's `path: ` prefix. */
function rawMessage(error: unknown): string {
  if (!isDatasetError(error)) return (error as Error).message;
  if (error.cause instanceof Error) return error.cause.message;
  const prefix = error.file === undefined ? '' : `${error.file}: `;
  return error.message.startsWith(prefix) ? error.message.slice(prefix.length) : error.message;
}

/** `kind` of a DatasetError that refuses a node which is not what was asked for (a device, a folder, ...). */
function refusedKind(error: unknown): string | undefined {
  return isDatasetError(error, 'invalid-argument') && typeof error.details.kind === 'string' ? error.details.kind : undefined;
}

/**
 * Up-front check that `path` can be written as a regular file, before any work is done: an
 * existing target must be a regular file (never a device, pipe, socket or folder, which a rename
 * would replace: 'bad-value', exit 2) and its folder must be writable ('io', exit 1).
 */
export async function assertWritableFile(path: string, what = '--out'): Promise<void> {
  await assertWritableFileOfDatasets(path).catch((error) => Promise.reject(writableError(error, path, what, 'file')));
}

/** Up-front check that `dir` is (or can be created as) a writable folder. */
export async function assertWritableFolder(dir: string, what = '--out'): Promise<void> {
  await assertWritableFolderOfDatasets(dir).catch((error) => Promise.reject(writableError(error, dir, what, 'folder')));
}

function writableError(error: unknown, path: string, what: string, expected: 'file' | 'folder'): unknown {
  if (!isDatasetError(error)) return error;
  const kind = refusedKind(error);
  const folder = typeof error.details.folder === 'string' ? error.details.folder : undefined;
  if (kind && folder) return new CliError('bad-value', `${what} ${path}: ${folder} is ${kind}, not a folder`);
  if (kind && expected === 'file') return new CliError('bad-value', `${what} ${path} is ${kind}; give the path of a regular file`);
  if (kind) return new CliError('bad-value', `${what} ${path} is ${kind}, not a folder`);
  if (folder === path) return new CliError('io', `cannot write into ${path}: the folder is not writable`);
  if (folder) return new CliError('io', `cannot write ${path}: folder ${folder} is not writable`);
  return new CliError('io', `cannot use ${error.file ?? path}: ${rawMessage(error)}`);
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
 * Writes several files together or not at all ({@link writeFileSetAtomic} of @gla/datasets): a
 * failure before the renames leaves every target as it was. A target that is not a regular file is
 * 'bad-value' (exit 2); other failures are 'io' (exit 1).
 */
export async function writeAtomicSet(files: readonly { path: string; data: string | Uint8Array }[]): Promise<void> {
  try {
    await writeFileSetAtomic(files);
  } catch (error) {
    const kind = refusedKind(error);
    const file = isDatasetError(error) ? (error.file ?? files[0]?.path ?? '') : (files[0]?.path ?? '');
    if (kind) throw new CliError('bad-value', `${file} is ${kind}; refusing to replace it with a regular file`);
    throw new CliError('io', `cannot write ${file}: ${rawMessage(error)}`);
  }
}

/**
 * Writes a set of files into `dir` as a set ({@link writeFolderSetOfDatasets | writeFolderSet} of
 * @gla/datasets): `write` fills a staging folder, the manifest (e.g. results.json) is renamed into
 * place last, files of the old set listed by `previousFiles` and absent from the new one are removed.
 * A failure before the first rename leaves `dir` as it was. CliErrors of `write` pass unchanged;
 * a target that is not a regular file is 'bad-value', any other failure 'io'.
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
  try {
    return await writeFolderSetOfDatasets(dir, manifest, write, previousFiles);
  } catch (error) {
    if (error instanceof CliError) throw error;
    const kind = refusedKind(error);
    if (kind && isDatasetError(error)) throw new CliError('bad-value', `${error.file} is ${kind}; refusing to replace it`);
    throw new CliError('io', `cannot write the results in ${dir}: ${rawMessage(error)}`);
  }
}
