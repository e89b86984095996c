import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  collectTexts,
  decodeText,
  listFortuneCategories,
  openFortuneDataset,
  openJsonlDataset,
  openTextFolder,
  parseFortunes,
  readStrfileHeader,
  stripOverstrike,
} from '../src/index';
import { FORTUNES_DIR, hasPath, makeTempDir } from './helpers';

const tmp = makeTempDir();
afterAll(tmp.cleanup);

describe.skipIf(!hasPath(join(FORTUNES_DIR, 'fortunes'), 'Debian package fortunes'))(
  'fortunes from Debian (/usr/share/games/fortunes)',
  () => {
    it('lists each category once (the .u8 symlinks are the same files), no .dat', async () => {
      const categories = await listFortuneCategories(FORTUNES_DIR);
      const names = categories.map((c) => c.name);
      expect(names).toContain('computers');
      expect(names).toContain('science');
      expect(names.some((n) => n.endsWith('.dat') || n.endsWith('.u8'))).toBe(false);
      expect(new Set(names).size).toBe(names.length);
    });

    it('splits every category into as many entries as its strfile index counts', async () => {
      for (const { name, path } of await listFortuneCategories(FORTUNES_DIR)) {
        const { readFileSync } = await import('node:fs');
        const { entries } = parseFortunes(readFileSync(path));
        const dat = await readStrfileHeader(join(FORTUNES_DIR, `${name}.dat`));
        expect(entries.length, name).toBe(dat.count);
      }
    });

    it('streams a labelled text data set; UTF-8 detected, overstriking removed', async () => {
      const ds = await openFortuneDataset(FORTUNES_DIR, { categories: ['linux', 'science', 'art'] });
      expect(ds.classNames).toEqual(['linux', 'science', 'art']);
      const { texts, labels, ids } = await collectTexts(ds);
      expect(texts.length).toBe(labels.length);
      expect(new Set(labels)).toEqual(new Set([0, 1, 2]));
      expect(ids[0]).toBe('linux#0');
      expect(texts.some((t) => t.includes('\b'))).toBe(false);
      expect(texts.some((t) => [...t].some((ch) => ch.charCodeAt(0) > 127))).toBe(true); // linux is UTF-8 text
      for (const t of texts) expect(t.includes('\uFFFD')).toBe(false);
      let batches = 0;
      for await (const batch of ds.batches({ batchSize: 100 })) {
        batches++;
        expect(batch.length).toBeLessThanOrEqual(100);
      }
      expect(batches).toBe(Math.ceil(texts.length / 100));
    });
  },
);

describe('fortune parsing', () => {
  it('splits on lines holding a single %, tolerates CRLF, drops empty entries', () => {
    const text = 'first\nline two\n%\n\n%\nsecond % not a separator\r\n%\r\nthird\n%\n';
    expect(parseFortunes(Buffer.from(text)).entries).toEqual(['first\nline two', 'second % not a separator', 'third']);
  });

  it('detects latin-1 vs UTF-8', () => {
    const latin1 = Buffer.from('caf\xe9\n%\nna\xefve\n', 'latin1');
    expect(parseFortunes(latin1)).toEqual({ entries: ['café', 'naïve'], encoding: 'latin1' });
    expect(parseFortunes(Buffer.from('café\n%\n', 'utf8'))).toEqual({ entries: ['café'], encoding: 'utf-8' });
    expect(decodeText(Buffer.from([0xef, 0xbb, 0xbf, 0x61])).text).toBe('a');
  });

  it('strips overstrike and decodes rotated files', () => {
    expect(stripOverstrike('_\bb_\bo_\bl_\bd and B\bBo\bol\bld')).toBe('bold and Bold');
    expect(parseFortunes(Buffer.from('Uryyb\n%\n'), { rot13: true }).entries).toEqual(['Hello']);
  });
});

describe('fortune folders', () => {
  it('prefers a distinct .u8 file over its latin-1 twin and skips .dat and sub-folders', async () => {
    const dir = join(tmp.dir, 'fortunes');
    mkdirSync(join(dir, 'off'), { recursive: true });
    writeFileSync(join(dir, 'food'), Buffer.from('cr\xe8me br\xfbl\xe9e\n%\n', 'latin1'));
    writeFileSync(join(dir, 'food.u8'), 'crème brûlée\n%\n');
    writeFileSync(join(dir, 'food.dat'), Buffer.alloc(24));
    writeFileSync(join(dir, 'off', 'rude'), 'x\n%\n');
    writeFileSync(join(dir, 'zen'), 'a\n%\nb\n%\n');
    expect((await listFortuneCategories(dir)).map((c) => c.path)).toEqual([join(dir, 'food.u8'), join(dir, 'zen')]);
    const { texts, labels } = await collectTexts(await openFortuneDataset(dir));
    expect(texts).toEqual(['crème brûlée', 'a', 'b']);
    expect(Array.from(labels)).toEqual([0, 1, 1]);
    await expect(openFortuneDataset(dir, { categories: ['nope'] })).rejects.toMatchObject({ code: 'not-found' });
  });
});

describe('text folders and JSONL', () => {
  it('reads root/<class>/<file> with per-file encoding detection', async () => {
    const root = join(tmp.dir, 'texts');
    mkdirSync(join(root, 'neg'), { recursive: true });
    mkdirSync(join(root, 'pos'), { recursive: true });
    writeFileSync(join(root, 'pos', 'b.txt'), 'great café');
    writeFileSync(join(root, 'pos', 'a.txt'), Buffer.from('superbe journ\xe9e', 'latin1'));
    writeFileSync(join(root, 'neg', 'a.txt'), 'bad');
    const ds = await openTextFolder(root, { classNames: { pos: 'positive', neg: 'negative' } });
    expect(ds.classNames).toEqual(['negative', 'positive']);
    const { ids, texts, labels } = await collectTexts(ds);
    expect(ids).toEqual(['neg/a.txt', 'pos/a.txt', 'pos/b.txt']);
    expect(texts).toEqual(['bad', 'superbe journée', 'great café']);
    expect(Array.from(labels)).toEqual([0, 1, 1]);
    mkdirSync(join(root, 'void'));
    await expect(openTextFolder(root)).rejects.toMatchObject({ code: 'empty-class-folder' });
  });

  it('reads JSONL with string or integer labels and names bad lines', async () => {
    const file = join(tmp.dir, 'data.jsonl');
    writeFileSync(
      file,
      '{"text": "a cat", "label": "cat"}\n\n{"text": "a dog", "label": "dog"}\r\n{"text": "kitten", "label": "cat", "id": "k1"}\n',
    );
    const ds = await openJsonlDataset(file, { idField: 'id' });
    expect(ds.classNames).toEqual(['cat', 'dog']);
    const { ids, labels } = await collectTexts(ds);
    expect(Array.from(labels)).toEqual([0, 1, 0]);
    expect(ids).toEqual(['line 1', 'line 3', 'k1']);
    const ints = join(tmp.dir, 'ints.jsonl');
    writeFileSync(ints, '{"text": "x", "label": 2}\n{"text": "y", "label": 0}\n');
    expect((await openJsonlDataset(ints)).classNames).toEqual(['0', '1', '2']);
    const out = await openJsonlDataset(ints, { classNames: ['a', 'b'] });
    await expect(collectTexts(out)).rejects.toMatchObject({ code: 'label-out-of-range', message: expect.stringContaining('line 1') });
    const broken = join(tmp.dir, 'broken.jsonl');
    writeFileSync(broken, '{"text": "x", "label": 0}\n{"text": 5}\n');
    await expect(openJsonlDataset(broken)).rejects.toMatchObject({ message: expect.stringContaining('line 2') });
    await expect(openJsonlDataset(join(tmp.dir, 'none.jsonl'))).rejects.toMatchObject({ code: 'not-found' });
  });
});
