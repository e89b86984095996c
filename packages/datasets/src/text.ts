import { throwIfAborted } from './errors';

/** One labelled text example. */
export interface TextItem {
  /** Stable identity, e.g. `category#17` or `class/file.txt` or `file.jsonl:42`. */
  id: string;
  text: string;
  /** Label in [0, classNames.length). */
  label: number;
}

/** A labelled text collection streamed in batches. */
export interface TextDataset {
  /** Class names in label order. */
  classNames: string[];
  /** Iterates over the items in batches of `batchSize` (default 256); one source file is read at a time. */
  batches(options?: { batchSize?: number; signal?: AbortSignal }): AsyncGenerator<TextItem[]>;
}

/** Text encodings the text loaders detect. */
export type TextEncoding = 'utf-8' | 'latin1';

/**
 * Decodes bytes as UTF-8 when they are valid UTF-8 (a leading BOM is dropped), else as
 * latin-1 (ISO-8859-1), which every byte sequence is. `encoding` forces one.
 */
export function decodeText(bytes: Uint8Array, encoding: TextEncoding | 'auto' = 'auto'): { text: string; encoding: TextEncoding } {
  if (encoding !== 'latin1') {
    try {
      return { text: new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes), encoding: 'utf-8' };
    } catch (error) {
      if (encoding === 'utf-8') throw error;
    }
  }
  return { text: new TextDecoder('latin1').decode(bytes), encoding: 'latin1' };
}

/** Collects a whole text dataset: texts and an Int32 label vector (same order). */
export async function collectTexts(
  dataset: TextDataset,
  options: { signal?: AbortSignal } = {},
): Promise<{ ids: string[]; texts: string[]; labels: Int32Array; classNames: string[] }> {
  const ids: string[] = [];
  const texts: string[] = [];
  const labels: number[] = [];
  for await (const batch of dataset.batches({ batchSize: 1024, ...options })) {
    for (const item of batch) {
      ids.push(item.id);
      texts.push(item.text);
      labels.push(item.label);
    }
  }
  return { ids, texts, labels: Int32Array.from(labels), classNames: dataset.classNames };
}

/** Groups an async iterable of items into arrays of `size`. */
export async function* inBatches<T>(items: AsyncIterable<T> | Iterable<T>, size: number, signal?: AbortSignal): AsyncGenerator<T[]> {
  let batch: T[] = [];
  for await (const item of items) {
    throwIfAborted(signal);
    batch.push(item);
    if (batch.length >= size) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length > 0) yield batch;
}
