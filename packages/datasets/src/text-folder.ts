import { readdir, readFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { DatasetError, fsError, throwIfAborted } from './errors';
import { decodeText, inBatches, type TextDataset, type TextEncoding, type TextItem } from './text';

export interface TextFolderOptions {
  /** Class folders to take, in label order. Default: every sub-folder, sorted by code point. */
  classes?: readonly string[];
  /** Prompt-friendly class names by folder (or a function). Default: the folder name. */
  classNames?: Record<string, string> | ((folder: string) => string);
  /** File extensions to take (with dot, lower case); default: every non-hidden file. */
  extensions?: readonly string[];
  /** Default 'auto' (UTF-8 if valid, else latin-1), per file. */
  encoding?: TextEncoding | 'auto';
}

const byCodePoint = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * A folder of text files, `root/<class>/<file>`, one item per file (`id` = `class/file`).
 * Throws 'missing-class-folder' / 'empty-class-folder' like the image folder loader.
 */
export async function openTextFolder(
  root: string,
  options: TextFolderOptions = {},
): Promise<TextDataset & { files: { id: string; path: string; label: number }[] }> {
  let entries: import('node:fs').Dirent[];
  try {
    entries = await readdir(root, { withFileTypes: true });
  } catch (error) {
    throw fsError(error, root);
  }
  const present = entries
    .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
    .map((e) => e.name)
    .sort(byCodePoint);
  const folders = options.classes ? [...options.classes] : present;
  if (folders.length === 0)
    throw new DatasetError('missing-class-folder', 'no class sub-folders (expected root/<class>/<file>)', { file: root });
  const files: { id: string; path: string; label: number }[] = [];
  for (const [label, folder] of folders.entries()) {
    if (!present.includes(folder))
      throw new DatasetError('missing-class-folder', `class folder '${folder}' is missing`, { file: join(root, folder) });
    const dir = join(root, folder);
    const names = (await readdir(dir, { withFileTypes: true }))
      .filter(
        (f) => f.isFile() && !f.name.startsWith('.') && (!options.extensions || options.extensions.includes(extname(f.name).toLowerCase())),
      )
      .map((f) => f.name)
      .sort(byCodePoint);
    if (names.length === 0) throw new DatasetError('empty-class-folder', `class folder '${folder}' holds no text file`, { file: dir });
    for (const name of names) files.push({ id: `${folder}/${name}`, path: join(dir, name), label });
  }
  const map = options.classNames;
  async function* items(signal?: AbortSignal): AsyncGenerator<TextItem> {
    for (const file of files) {
      throwIfAborted(signal);
      let bytes: Buffer;
      try {
        bytes = await readFile(file.path);
      } catch (error) {
        throw fsError(error, file.path);
      }
      yield { id: file.id, text: decodeText(bytes, options.encoding ?? 'auto').text, label: file.label };
    }
  }
  return {
    files,
    classNames: folders.map((f) => (typeof map === 'function' ? map(f) : (map?.[f] ?? f))),
    batches: (batchOptions = {}) => inBatches(items(batchOptions.signal), batchOptions.batchSize ?? 256, batchOptions.signal),
  };
}
