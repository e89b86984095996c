import { readdir, readFile, realpath, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { DatasetError, fsError, throwIfAborted } from './errors';
import { decodeText, inBatches, type TextDataset, type TextEncoding, type TextItem } from './text';

export interface ParseFortunesOptions {
  /** Default 'auto': UTF-8 if the bytes are valid UTF-8, else latin-1. */
  encoding?: TextEncoding | 'auto';
  /** Remove terminal overstriking (`_\bX`, `X\bX`: underline/bold from old man pages). Default true. */
  stripOverstrike?: boolean;
  /** ROT13-decode the entries (files flagged rotated in their strfile .dat index). Default false. */
  rot13?: boolean;
}

/**
 * Splits a fortune file into entries: entries are separated by lines holding a single `%`
 * (CRLF tolerated). Each entry loses its final newline; empty entries are dropped.
 */
export function parseFortunes(bytes: Uint8Array, options: ParseFortunesOptions = {}): { entries: string[]; encoding: TextEncoding } {
  const { text, encoding } = decodeText(bytes, options.encoding ?? 'auto');
  const entries: string[] = [];
  let current: string[] = [];
  const flush = () => {
    let entry = current.join('\n');
    if (options.stripOverstrike ?? true) entry = stripOverstrike(entry);
    if (options.rot13) entry = rot13(entry);
    if (entry.trim().length > 0) entries.push(entry);
    current = [];
  };
  const lines = text.split('\n');
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  for (const raw of lines) {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line === '%') flush();
    else current.push(line);
  }
  flush();
  return { entries, encoding };
}

/** Removes backspace overstriking: `X\bY` becomes `Y` (repeatedly). */
export function stripOverstrike(text: string): string {
  if (!text.includes('\b')) return text;
  // A backspace deletes the character before it (the overstruck one); stray ones are dropped.
  const out: string[] = [];
  for (const ch of text) {
    if (ch === '\b') {
      if (out.length > 0 && out[out.length - 1] !== '\n') out.pop();
    } else out.push(ch);
  }
  return out.join('');
}

/** ROT13 of ASCII letters. */
export function rot13(text: string): string {
  return text.replace(/[a-zA-Z]/g, (c) => {
    const base = c <= 'Z' ? 65 : 97;
    return String.fromCharCode(((c.charCodeAt(0) - base + 13) % 26) + base);
  });
}

/** The header of a strfile `.dat` index (big-endian): version, entry count, lengths, flags, delimiter. */
export interface StrfileHeader {
  version: number;
  count: number;
  longest: number;
  shortest: number;
  /** 0x1 random, 0x2 ordered, 0x4 rotated (ROT13). */
  flags: number;
  delimiter: string;
}

/** Reads a strfile `.dat` header; throws 'truncated' for files under 24 bytes. */
export async function readStrfileHeader(path: string): Promise<StrfileHeader> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (error) {
    throw fsError(error, path);
  }
  if (bytes.length < 24) throw new DatasetError('truncated', `strfile header needs 24 bytes, file has ${bytes.length}`, { file: path });
  return {
    version: bytes.readUInt32BE(0),
    count: bytes.readUInt32BE(4),
    longest: bytes.readUInt32BE(8),
    shortest: bytes.readUInt32BE(12),
    flags: bytes.readUInt32BE(16),
    delimiter: String.fromCharCode(bytes[20]!),
  };
}

/** A fortune category file. */
export interface FortuneCategory {
  /** Category name = file name (without a `.u8` suffix). */
  name: string;
  path: string;
}

/**
 * Lists the fortune categories of a folder such as /usr/share/games/fortunes: every regular
 * file except `.dat` indexes and hidden files, sorted by name. Where both `x` and `x.u8`
 * exist, they are one category: the same file (Debian's `.u8` symlinks) is listed once;
 * different files prefer the `.u8` (UTF-8) one. Sub-folders (e.g. `off/`) are not entered.
 */
export async function listFortuneCategories(dir: string): Promise<FortuneCategory[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (error) {
    throw fsError(error, dir);
  }
  const byCategory = new Map<string, { plain?: string; u8?: string }>();
  for (const name of names) {
    if (name.startsWith('.') || name.endsWith('.dat')) continue;
    const path = join(dir, name);
    const info = await stat(path).catch(() => undefined);
    if (!info?.isFile()) continue;
    const category = name.endsWith('.u8') ? name.slice(0, -3) : name;
    const slot = byCategory.get(category) ?? {};
    if (name.endsWith('.u8')) slot.u8 = path;
    else slot.plain = path;
    byCategory.set(category, slot);
  }
  const out: FortuneCategory[] = [];
  for (const [name, slot] of byCategory) {
    let path = slot.u8 ?? slot.plain!;
    if (slot.u8 && slot.plain && (await realpath(slot.u8)) === (await realpath(slot.plain))) path = slot.plain;
    out.push({ name, path });
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

export interface FortuneDatasetOptions extends ParseFortunesOptions {
  /** Categories to take, in label order. Default: every category of the folder, sorted. */
  categories?: readonly string[];
  /** Drop entries shorter / longer than this many characters (after trimming). */
  minLength?: number;
  maxLength?: number;
}

/**
 * Fortune files as a text classification data set: one class per category file, one item
 * per entry (`id` = `category#index`, index counting the entries kept). Files are read one
 * at a time while iterating. A category flagged rotated in its `.dat` index is ROT13-decoded.
 */
export async function openFortuneDataset(dir: string, options: FortuneDatasetOptions = {}): Promise<TextDataset> {
  const all = await listFortuneCategories(dir);
  let categories = all;
  if (options.categories) {
    categories = options.categories.map((name) => {
      const found = all.find((c) => c.name === name);
      if (!found) throw new DatasetError('not-found', `no fortune category '${name}'`, { file: join(dir, name) });
      return found;
    });
  }
  if (categories.length === 0) throw new DatasetError('missing-class-folder', 'no fortune files', { file: dir });
  const minLength = options.minLength ?? 0;
  const maxLength = options.maxLength ?? Number.POSITIVE_INFINITY;
  async function* items(signal?: AbortSignal): AsyncGenerator<TextItem> {
    for (const [label, category] of categories.entries()) {
      throwIfAborted(signal);
      let bytes: Buffer;
      try {
        bytes = await readFile(category.path);
      } catch (error) {
        throw fsError(error, category.path);
      }
      const dat = await readStrfileHeader(`${category.path.replace(/\.u8$/, '')}.dat`).catch(() => undefined);
      const { entries } = parseFortunes(bytes, { ...options, rot13: options.rot13 ?? ((dat?.flags ?? 0) & 4) !== 0 });
      let index = 0;
      for (const text of entries) {
        const length = text.trim().length;
        if (length < minLength || length > maxLength) continue;
        yield { id: `${category.name}#${index++}`, text, label };
      }
    }
  }
  return {
    classNames: categories.map((c) => c.name),
    batches: (batchOptions = {}) => inBatches(items(batchOptions.signal), batchOptions.batchSize ?? 256, batchOptions.signal),
  };
}
