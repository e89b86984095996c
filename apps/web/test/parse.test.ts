import { existsSync, readFileSync } from 'node:fs';
import { createRng, estimatePrior, matrix } from '@gla/core';
import { encodeNpy } from '@gla/datasets';
import { prepareData } from '@gla/protocols';
import { describe, expect, it } from 'vitest';
import { AppError } from '../src/errors';
import { readFeatureFiles } from '../src/feature-dir';
import { evaluate, parseMarginal, runEstimate, selectRows, zeroShotLogits } from '../src/flow';
import { labelIndices, parseCsvRecords, parseTextFile } from '../src/parse';
import { renderResults } from '../src/viewer';

const enc = (s: string) => new TextEncoder().encode(s);

function featureFiles(opts: { classes: string[]; labels: number[]; N?: number; D?: number; truncate?: string }) {
  const N = opts.labels.length;
  const D = opts.D ?? 6;
  const C = opts.classes.length;
  const rng = createRng(3);
  const feats = Float32Array.from({ length: N * D }, () => rng.normal());
  const text = Float32Array.from({ length: 2 * C * D }, () => rng.normal());
  const files = new Map<string, Uint8Array>([
    ['features.npy', encodeNpy({ dtype: 'float32', shape: [N, D], data: feats })],
    ['labels.npy', encodeNpy({ dtype: 'int64', shape: [N], data: opts.labels })],
    ['meta.json', enc(JSON.stringify({ classNames: opts.classes, templates: ['a {}', 'the {}'], modelId: 'test' }))],
    ['text_features.npy', encodeNpy({ dtype: 'float32', shape: [2, C, D], data: text })],
  ]);
  if (opts.truncate) files.set(opts.truncate, files.get(opts.truncate)!.slice(0, files.get(opts.truncate)!.length - 7));
  return files;
}

describe('text files', () => {
  it('parses CSV with quotes, commas and newlines in fields', () => {
    expect(parseCsvRecords('text,label\n"a, ""b""\nc",x\nplain,y\r\n')).toEqual([
      ['text', 'label'],
      ['a, "b"\nc', 'x'],
      ['plain', 'y'],
    ]);
    const t = parseTextFile('t.csv', 'id,Text,Category\n1,hello,a\n2,"bye, now",b\n');
    expect(t.texts).toEqual(['hello', 'bye, now']);
    expect(t.labels).toEqual(['a', 'b']);
    expect(t.textColumn).toBe('Text');
  });
  it('parses TSV and JSONL, labels optional', () => {
    expect(parseTextFile('t.tsv', 'text\tlabel\nx y\t1\n').labels).toEqual(['1']);
    const j = parseTextFile('t.jsonl', '{"text":"a","label":2}\n\n{"text":"b","label":"c"}\n');
    expect(j.texts).toEqual(['a', 'b']);
    expect(j.labels).toEqual(['2', 'c']);
    expect(parseTextFile('u.csv', 'text\none\ntwo\n').labels).toBeUndefined();
  });
  it('names the problem: no text column, ragged rows, bad JSON, empty', () => {
    expect(() => parseTextFile('x.csv', 'title,label\na,b\n')).toThrow(/x\.csv has no text column.*"title", "label"/);
    expect(() => parseTextFile('x.csv', 'text,label\na\n')).toThrow(/line 2: 1 fields, the header has 2/);
    expect(() => parseTextFile('x.jsonl', '{"text":"a"}\n{oops\n')).toThrow(/line 2: not valid JSON/);
    expect(() => parseTextFile('x.csv', '  \n')).toThrow(AppError);
  });
  it('maps labels to the class list and names the first label outside it', () => {
    expect(Array.from(labelIndices(['b', 'a', 'b'], ['a', 'b'], 'f.csv'))).toEqual([1, 0, 1]);
    expect(() => labelIndices(['a', 'zebra'], ['a', 'b'], 'f.csv')).toThrow(
      /f\.csv, row 2: label "zebra" is not in the class list \(a, b\)/,
    );
  });
});

describe('feature directories', () => {
  it('reads the four files; text features template-major', () => {
    const fd = readFeatureFiles(featureFiles({ classes: ['x', 'y', 'z'], labels: [0, 1, 2, 1] }));
    expect(fd.features.rows).toBe(4);
    expect(fd.textFeatures.rows).toBe(6);
    expect(Array.from(fd.labels)).toEqual([0, 1, 2, 1]);
    expect(fd.templates).toEqual(['a {}', 'the {}']);
  });
  it('rejects a truncated .npy, labels outside the classes, a 2-class meta with 3-class labels, a missing file', () => {
    expect(() => readFeatureFiles(featureFiles({ classes: ['x', 'y'], labels: [0, 1, 1], truncate: 'features.npy' }))).toThrow(
      /features\.npy.*trunc/i,
    );
    expect(() => readFeatureFiles(featureFiles({ classes: ['x', 'y', 'z'], labels: [0, 7, 1] }))).toThrow(
      /labels\.npy\[1\] = 7 is outside \[0, 3\)/,
    );
    expect(() => readFeatureFiles(featureFiles({ classes: ['x', 'y'], labels: [0, 1, 2] }))).toThrow(
      /labels\.npy\[2\] = 2 is outside \[0, 2\): meta\.json lists 2 classes/,
    );
    const files = featureFiles({ classes: ['x', 'y'], labels: [0, 1] });
    files.delete('text_features.npy');
    expect(() => readFeatureFiles(files)).toThrow(/no text_features\.npy/);
  });
});

describe('the computation', () => {
  it('zero-shot logits equal the CLI recipe (@gla/protocols prepareData: normalised mean of normalised prompt embeddings x scale, cosine)', () => {
    const files = featureFiles({ classes: ['x', 'y', 'z'], labels: [0, 1, 2, 1, 0, 2, 2], D: 9 });
    const fd = readFeatureFiles(files);
    const ours = zeroShotLogits(fd.features, fd.textFeatures, 3, 100);
    const cli = prepareData({
      features: fd.features,
      labels: new Int32Array(fd.features.rows),
      classNames: ['x', 'y', 'z'],
      textFeatures: { data: fd.textFeatures.data, templates: 2, classes: 3, dim: 9 },
      logitScale: 100,
    }).z;
    // prepareData holds the normalised features in Float32 (protocol memory at 2 GiB scale), the page
    // in Float64: equal to Float32 rounding (relative 2^-24 per entry, ~1e-7 on a cosine) times the scale.
    for (let k = 0; k < ours.data.length; k++) expect(Math.abs(ours.data[k]! - cli.data[k]!)).toBeLessThan(100 * 2e-7);
  });
  it('k per class: nested-free seeded selection, min(k, n_c) per class; "all" = every row', () => {
    const labels = Int32Array.from([0, 0, 0, 1, 1, 2, 2, 2, 2]);
    const rows = selectRows(labels, 3, { kind: 'per-class', k: 2, seed: 1 });
    expect(rows.length).toBe(6);
    expect(Array.from(rows).map((r) => labels[r])).toEqual(expect.arrayContaining([0, 0, 1, 1, 2, 2]));
    expect(Array.from(selectRows(labels, 3, { kind: 'all' }))).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
  });
  it('runEstimate with all rows = estimatePrior(temperature nll); evaluation held out for k per class', () => {
    const rng = createRng(5);
    const N = 60;
    const C = 3;
    const y = Int32Array.from({ length: N }, (_, i) => i % C);
    // informative logits (+2 on the true class) with a bias toward class 0
    const z = matrix(
      Float64Array.from({ length: N * C }, (_, i) => rng.normal() + (i % C === y[Math.floor(i / C)] ? 2 : 0) + (i % C === 0 ? 1 : 0)),
      N,
      C,
    );
    const r = runEstimate({ logits: z, labels: y, mode: { kind: 'labelled', selection: { kind: 'all' } }, temperature: 'nll' });
    const ref = estimatePrior(z, y, { temperature: 'nll', tolerance: 1e-9, maxIterations: 500 });
    for (let c = 0; c < C; c++) expect(r.prior[c]).toBeCloseTo(ref.prior[c]!, 12);
    expect(r.temperature).toBeCloseTo(ref.temperature, 12);
    const k = runEstimate({
      logits: z,
      labels: y,
      mode: { kind: 'labelled', selection: { kind: 'per-class', k: 4, seed: 1 } },
      temperature: 'nll',
    });
    const ev = evaluate(z, y, k);
    expect(ev.heldOut).toBe(true);
    expect(ev.rows.length).toBe(N - 12);
    expect(ev.countsAfter.reduce((a, b) => a + b, 0)).toBe(N - 12);
    const free = runEstimate({ logits: z, mode: { kind: 'label-free', targetMarginal: parseMarginal('uniform', C) }, temperature: 1 });
    expect(free.prior.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    expect(() => parseMarginal('1 2', 3)).toThrow(/3 positive numbers/);
  });
});

describe('the results.json viewer', () => {
  it('renders the tables and plots of a gla run document; refuses other documents', () => {
    const doc = JSON.parse(readFileSync(new URL('./fixtures/gla-run-results.json', import.meta.url), 'utf8'));
    const html = renderResults(doc, 'results.json', 500);
    expect(html).toContain('data-testid="viewer-few-shot"');
    expect(html).toContain('data-testid="viewer-long-tail"');
    expect(html.match(/<svg /g)?.length).toBe(4);
    const gla = doc.dataset.fewShot.methods.gla['8'];
    expect(html).toContain(`${(gla.mean * 100).toFixed(1)} ± ${(gla.std * 100).toFixed(1)}`);
    expect(() => renderResults({ schema: 'x' }, 'r.json')).toThrow(/r\.json: schema is "x"/);
    expect(() => renderResults({ schema: 'gla-bench/results@1' }, 'r.json')).toThrow(/dataset is missing/);
  });
});

describe('the sample (built at build time)', () => {
  it('says clearly when Debian fortunes is not installed', async () => {
    const { buildSample } = await import('../assets-plugin');
    const missing = await buildSample('/nonexistent/fortunes');
    expect(missing.available).toBe(false);
    expect(missing.message).toMatch(/needs Debian's fortunes package.*apt-get install fortunes/);
  });
  it.skipIf(!existsSync('/usr/share/games/fortunes/computers'))('takes 50 entries of each of six categories', async () => {
    const { buildSample } = await import('../assets-plugin');
    const s = await buildSample();
    expect(s.available).toBe(true);
    expect(s.texts?.length).toBe(300);
    expect(s.classNames).toEqual(['computers', 'food', 'law', 'love', 'politics', 'science']);
    expect(s.labels?.filter((l) => l === 5).length).toBe(50);
  });
});
