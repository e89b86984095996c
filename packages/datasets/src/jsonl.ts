import { createReadStream } from 'node:fs';
import { access } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { DatasetError, fsError, throwIfAborted } from './errors';
import { inBatches, type TextDataset, type TextItem } from './text';

export interface JsonlOptions {
  /**
   * Class names in label order. String labels are looked up here; integer labels must lie in
   * [0, classNames.length). Default: integer labels 0..max are named by their number, string
   * labels are collected in a first pass and sorted (code point order).
   */
  classNames?: readonly string[];
  /** Field holding the text. Default 'text'. */
  textField?: string;
  /** Field holding the label (string or integer). Default 'label'. */
  labelField?: string;
  /** Field holding a stable id; default: `line <n>` (1-based line number). */
  idField?: string;
}

async function* lines(path: string): AsyncGenerator<{ line: string; number: number }> {
  const stream = createReadStream(path, { encoding: 'utf8' });
  const reader = createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY });
  let number = 0;
  try {
    for await (const line of reader) {
      number++;
      if (line.trim().length > 0) yield { line, number };
    }
  } catch (error) {
    throw fsError(error, path);
  } finally {
    reader.close();
    stream.destroy();
  }
}

function parseLine(
  path: string,
  line: string,
  number: number,
  textField: string,
  labelField: string,
): { text: string; label: string | number; raw: Record<string, unknown> } {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (error) {
    throw new DatasetError('header-mismatch', `line ${number}: not valid JSON (${(error as Error).message})`, { file: path, cause: error });
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new DatasetError('header-mismatch', `line ${number}: not a JSON object`, { file: path });
  const raw = value as Record<string, unknown>;
  const text = raw[textField];
  const label = raw[labelField];
  if (typeof text !== 'string')
    throw new DatasetError('header-mismatch', `line ${number}: field '${textField}' must be a string`, { file: path });
  if (typeof label !== 'string' && !(typeof label === 'number' && Number.isInteger(label))) {
    throw new DatasetError('header-mismatch', `line ${number}: field '${labelField}' must be a string or an integer`, { file: path });
  }
  return { text, label, raw };
}

/**
 * A JSON-lines file of `{"text": ..., "label": ...}` objects as a text data set (blank
 * lines ignored). Throws 'label-out-of-range' for an integer label outside the classes or a
 * string label not among `classNames`, 'header-mismatch' for a malformed line (with its
 * line number).
 */
export async function openJsonlDataset(path: string, options: JsonlOptions = {}): Promise<TextDataset> {
  const textField = options.textField ?? 'text';
  const labelField = options.labelField ?? 'label';
  try {
    await access(path);
  } catch (error) {
    throw fsError(error, path);
  }
  let classNames = options.classNames ? [...options.classNames] : undefined;
  if (!classNames) {
    const strings = new Set<string>();
    let maxInt = -1;
    for await (const { line, number } of lines(path)) {
      const { label } = parseLine(path, line, number, textField, labelField);
      if (typeof label === 'string') strings.add(label);
      else maxInt = Math.max(maxInt, label);
    }
    if (strings.size > 0 && maxInt >= 0)
      throw new DatasetError('header-mismatch', 'labels mix strings and integers; pass classNames', { file: path });
    classNames =
      strings.size > 0
        ? [...strings].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
        : Array.from({ length: maxInt + 1 }, (_, i) => String(i));
  }
  const names = classNames;
  const index = new Map(names.map((n, i) => [n, i]));
  async function* items(signal?: AbortSignal): AsyncGenerator<TextItem> {
    for await (const { line, number } of lines(path)) {
      throwIfAborted(signal);
      const { text, label, raw } = parseLine(path, line, number, textField, labelField);
      const y = typeof label === 'string' ? index.get(label) : label;
      if (y === undefined || y < 0 || y >= names.length) {
        throw new DatasetError(
          'label-out-of-range',
          `line ${number}: label ${JSON.stringify(label)} is not one of the ${names.length} classes`,
          { file: path },
        );
      }
      const id = options.idField !== undefined && raw[options.idField] !== undefined ? String(raw[options.idField]) : `line ${number}`;
      yield { id, text, label: y };
    }
  }
  return {
    classNames: names,
    batches: (batchOptions = {}) => inBatches(items(batchOptions.signal), batchOptions.batchSize ?? 256, batchOptions.signal),
  };
}
