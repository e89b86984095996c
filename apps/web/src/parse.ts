/**
 * The user's own texts: CSV (RFC 4180 quoting), TSV (tab-separated, no quoting) or JSONL
 * (one object per line), with a text column and an optional label column.
 */
import { AppError } from './errors';

export interface TextTable {
  /** File name (for messages). */
  name: string;
  texts: string[];
  /** Label names per row, when the file has a label column. */
  labels?: string[];
  /** The columns found (for the page). */
  columns: string[];
  textColumn: string;
  labelColumn?: string;
}

const TEXT_COLUMNS = ['text', 'sentence', 'content', 'body'];
const LABEL_COLUMNS = ['label', 'category', 'class', 'labels'];

/** Splits CSV text into records (fields may be quoted with "", "" escapes a quote, newlines allowed inside quotes). */
export function parseCsvRecords(text: string, separator = ','): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let field = '';
  let quoted = false;
  let i = 0;
  const src = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  while (i < src.length) {
    const ch = src[i]!;
    if (quoted) {
      if (ch === '"') {
        if (src[i + 1] === '"') {
          field += '"';
          i += 2;
          continue;
        }
        quoted = false;
        i++;
        continue;
      }
      field += ch;
      i++;
      continue;
    }
    if (ch === '"' && field.length === 0) {
      quoted = true;
      i++;
    } else if (ch === separator) {
      record.push(field);
      field = '';
      i++;
    } else if (ch === '\n' || ch === '\r') {
      record.push(field);
      field = '';
      if (record.length > 1 || record[0] !== '') records.push(record);
      record = [];
      i += ch === '\r' && src[i + 1] === '\n' ? 2 : 1;
    } else {
      field += ch;
      i++;
    }
  }
  if (field.length > 0 || record.length > 0) {
    record.push(field);
    if (record.length > 1 || record[0] !== '') records.push(record);
  }
  return records;
}

function pickColumn(columns: string[], wanted: string[]): string | undefined {
  const lower = columns.map((c) => c.trim().toLowerCase());
  for (const w of wanted) {
    const k = lower.indexOf(w);
    if (k >= 0) return columns[k];
  }
  return undefined;
}

function fromRecords(name: string, header: string[], rows: string[][]): TextTable {
  const textColumn = pickColumn(header, TEXT_COLUMNS);
  if (textColumn === undefined)
    throw new AppError(
      'no-text-column',
      `${name} has no text column: expected a column named ${TEXT_COLUMNS.map((c) => `"${c}"`).join(' or ')}, found ${header.map((c) => `"${c}"`).join(', ') || 'no columns'}.`,
    );
  const labelColumn = pickColumn(header, LABEL_COLUMNS);
  const ti = header.indexOf(textColumn);
  const li = labelColumn === undefined ? -1 : header.indexOf(labelColumn);
  const texts: string[] = [];
  const labels: string[] = [];
  rows.forEach((row, r) => {
    if (row.length !== header.length)
      throw new AppError('shape-mismatch', `${name}, line ${r + 2}: ${row.length} fields, the header has ${header.length}.`);
    texts.push(row[ti]!);
    if (li >= 0) {
      const label = row[li]!.trim();
      if (label === '') throw new AppError('label-not-in-classes', `${name}, line ${r + 2}: the label is empty.`);
      labels.push(label);
    }
  });
  if (texts.length === 0) throw new AppError('empty-file', `${name} has a header but no rows.`);
  return { name, texts, columns: header, textColumn, ...(li >= 0 ? { labels, labelColumn } : {}) };
}

/** Parses a CSV, TSV or JSONL file (chosen by extension; .txt and unknown: CSV). */
export function parseTextFile(name: string, content: string): TextTable {
  if (content.trim() === '') throw new AppError('empty-file', `${name} is empty.`);
  const lower = name.toLowerCase();
  if (lower.endsWith('.jsonl') || lower.endsWith('.ndjson')) return parseJsonl(name, content);
  const records = parseCsvRecords(content, lower.endsWith('.tsv') || lower.endsWith('.tab') ? '\t' : ',');
  const [header, ...rows] = records;
  return fromRecords(name, header ?? [], rows);
}

function parseJsonl(name: string, content: string): TextTable {
  const objects: Record<string, unknown>[] = [];
  content.split(/\r?\n/).forEach((line, k) => {
    if (line.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      throw new AppError('bad-json', `${name}, line ${k + 1}: not valid JSON (${(error as Error).message}).`);
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value))
      throw new AppError('bad-json', `${name}, line ${k + 1}: expected a JSON object.`);
    objects.push(value as Record<string, unknown>);
  });
  const header = [...new Set(objects.flatMap((o) => Object.keys(o)))];
  const textColumn = pickColumn(header, TEXT_COLUMNS);
  const labelColumn = pickColumn(header, LABEL_COLUMNS);
  const rows = objects.map((o, r) =>
    header.map((h) => {
      const v = o[h];
      if (h === textColumn && typeof v !== 'string') throw new AppError('bad-json', `${name}, line ${r + 1}: "${h}" must be a string.`);
      if (h === labelColumn && typeof v !== 'string' && typeof v !== 'number')
        throw new AppError('bad-json', `${name}, line ${r + 1}: "${h}" must be a string or a number.`);
      return v === undefined ? '' : String(v);
    }),
  );
  return fromRecords(name, header, rows);
}

/** Distinct labels in order of first appearance. */
export function distinctLabels(labels: readonly string[]): string[] {
  return [...new Set(labels)];
}

/**
 * Label names → class indices of `classNames`; a label outside the list throws
 * `label-not-in-classes` naming the first offending row.
 */
export function labelIndices(labels: readonly string[], classNames: readonly string[], file: string): Int32Array {
  const index = new Map(classNames.map((c, k) => [c, k]));
  const out = new Int32Array(labels.length);
  for (let i = 0; i < labels.length; i++) {
    const k = index.get(labels[i]!);
    if (k === undefined)
      throw new AppError(
        'label-not-in-classes',
        `${file}, row ${i + 1}: label "${labels[i]}" is not in the class list (${classNames.join(', ')}). Add it to the classes or fix the file.`,
      );
    out[i] = k;
  }
  return out;
}
