import { readdir, readFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { type ImageDecoder, type RawImage, rawImageProblem } from '@gla/core';
import { DatasetError, fsError, isDatasetError, throwIfAborted } from './errors';

/** One class of an image folder: sub-folder `folder`, prompt-friendly `name`, label `index`. */
export interface ImageFolderClass {
  index: number;
  folder: string;
  name: string;
}

/** One image of an image folder. */
export interface ImageFolderItem {
  /** Stable identity: `folder/file` relative to the root, with forward slashes. */
  id: string;
  path: string;
  label: number;
}

/** An image that could not be decoded and was skipped. */
export interface SkippedImage {
  item: ImageFolderItem;
  error: DatasetError;
}

/** A batch of decoded images with their items (same order). */
export interface ImageBatch {
  items: ImageFolderItem[];
  /** As the decoder returned them (1-4 channels; CLIP preprocessing converts to RGB like Pillow). */
  images: RawImage[];
  /** Images of this batch skipped as corrupt (only with `onCorrupt: 'skip'`). */
  skipped: SkippedImage[];
}

export interface ImageFolderOptions {
  /**
   * Prompt-friendly class names: a map from folder name to name, or a function. Folders
   * missing from a map keep their folder name. Default: the folder name.
   */
  classNames?: Record<string, string> | ((folder: string) => string);
  /**
   * The expected class folders, in label order. Default: every sub-folder, sorted by code
   * point (the same on every platform). A listed folder that is missing throws
   * 'missing-class-folder'.
   */
  classes?: readonly string[];
  /** File extensions to take (lower case, with dot). Default ['.jpg', '.jpeg', '.png']. */
  extensions?: readonly string[];
}

/** A scanned image folder: classes and items are known; pixels are decoded on demand. */
export interface ImageFolderDataset {
  root: string;
  classes: ImageFolderClass[];
  /** Prompt-friendly class names in label order. */
  classNames: string[];
  /** All items, sorted by class, then by file name (code point order). */
  items: ImageFolderItem[];
  /**
   * Decodes images in batches of `batchSize` (default 64) with `decode`, the image decoder of
   * @gla/encoders: `decodeImage` from `@gla/encoders/node` (sharp; within ±2 grey levels of
   * Pillow on JPEG, exact on PNG) or `decodeImageInBrowser`. This package bundles no decoder.
   * With `onCorrupt: 'skip'` a corrupt image is reported in `skipped` (and to `onSkip`) instead
   * of throwing 'corrupt-image'. Only one batch of pixels is held at a time.
   */
  batches(options: {
    decode: ImageDecoder;
    batchSize?: number;
    onCorrupt?: 'throw' | 'skip';
    onSkip?: (skipped: SkippedImage) => void;
    signal?: AbortSignal;
  }): AsyncGenerator<ImageBatch>;
}

const byCodePoint = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Scans an image folder laid out as `root/<class folder>/<image>` (JPEG, PNG). Throws
 * 'not-found' for a missing root, 'missing-class-folder' when there is no class folder (or a
 * listed one is absent), 'empty-class-folder' when a class folder holds no image.
 */
export async function openImageFolder(root: string, options: ImageFolderOptions = {}): Promise<ImageFolderDataset> {
  const extensions = (options.extensions ?? ['.jpg', '.jpeg', '.png']).map((e) => e.toLowerCase());
  let entries: import('node:fs').Dirent[];
  try {
    entries = await readdir(root, { withFileTypes: true });
  } catch (error) {
    throw fsError(error, root);
  }
  const present = entries.filter((e) => e.isDirectory() && !e.name.startsWith('.')).map((e) => e.name);
  present.sort(byCodePoint);
  const folders = options.classes ? [...options.classes] : present;
  if (folders.length === 0)
    throw new DatasetError('missing-class-folder', 'no class sub-folders (expected root/<class>/<image>)', { file: root });
  const mapName = options.classNames;
  const classes: ImageFolderClass[] = folders.map((folder, index) => {
    if (!present.includes(folder))
      throw new DatasetError('missing-class-folder', `class folder '${folder}' is missing`, { file: join(root, folder) });
    const name = typeof mapName === 'function' ? mapName(folder) : (mapName?.[folder] ?? folder);
    return { index, folder, name };
  });
  const items: ImageFolderItem[] = [];
  for (const cls of classes) {
    const dir = join(root, cls.folder);
    let files: import('node:fs').Dirent[];
    try {
      files = await readdir(dir, { withFileTypes: true });
    } catch (error) {
      throw fsError(error, dir);
    }
    const images = files
      .filter((f) => f.isFile() && !f.name.startsWith('.') && extensions.includes(extname(f.name).toLowerCase()))
      .map((f) => f.name)
      .sort(byCodePoint);
    if (images.length === 0)
      throw new DatasetError('empty-class-folder', `class folder '${cls.folder}' holds no image (${extensions.join(', ')})`, { file: dir });
    for (const name of images) items.push({ id: `${cls.folder}/${name}`, path: join(dir, name), label: cls.index });
  }
  return {
    root,
    classes,
    classNames: classes.map((c) => c.name),
    items,
    async *batches(batchOptions) {
      const decode = batchOptions?.decode;
      if (typeof decode !== 'function') {
        throw new DatasetError(
          'invalid-argument',
          "batches() needs { decode }: an image decoder such as decodeImage from '@gla/encoders/node' (sharp) or decodeImageInBrowser",
        );
      }
      const batchSize = batchOptions.batchSize ?? 64;
      if (!Number.isSafeInteger(batchSize) || batchSize < 1)
        throw new DatasetError('invalid-argument', `batchSize must be a positive integer, got ${batchSize}`);
      const skip = batchOptions.onCorrupt === 'skip';
      for (let first = 0; first < items.length; first += batchSize) {
        throwIfAborted(batchOptions.signal);
        const batch: ImageBatch = { items: [], images: [], skipped: [] };
        for (const item of items.slice(first, first + batchSize)) {
          let bytes: Uint8Array;
          try {
            bytes = await readFile(item.path);
          } catch (error) {
            throw fsError(error, item.path);
          }
          try {
            const image = await decode(bytes, item.path);
            const problem = rawImageProblem(image);
            if (problem !== undefined)
              throw new DatasetError('corrupt-image', `the decoder returned a malformed image: ${problem}`, { file: item.path });
            batch.items.push(item);
            batch.images.push(image);
          } catch (error) {
            const typed = isDatasetError(error)
              ? error
              : new DatasetError('corrupt-image', `cannot decode: ${(error as Error)?.message ?? String(error)}`, {
                  file: item.path,
                  cause: error,
                });
            if (!skip) throw typed;
            const skipped = { item, error: typed };
            batch.skipped.push(skipped);
            batchOptions.onSkip?.(skipped);
          }
        }
        yield batch;
      }
    },
  };
}
