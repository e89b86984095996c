import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { cleanClipText, htmlUnescape } from '../src/clip/text-cleaning';
import { bytesToUnicode, ClipTokenizer, EncoderError } from '../src/index';
import { sharedPath } from './clip-helpers';

interface GoldenCase {
  text: string;
  bpe: number[];
  tokens77: number[];
  truncated: boolean;
}
const golden = JSON.parse(readFileSync(sharedPath('data/clip/clip_tokenizer_golden.json'), 'utf8')) as {
  sot: number;
  eot: number;
  context_length: number;
  cases: GoldenCase[];
};
const gz = readFileSync(sharedPath('data/clip/bpe_simple_vocab_16e6.txt.gz'));
const bpeText = gunzipSync(gz).toString('utf8');

/** Converts OpenAI's merges file into Hugging Face vocab.json / merges.txt / tokenizer.json. */
function toHuggingFace(): { vocab: Record<string, number>; merges: string[]; tokenizerJson: object } {
  const merges = bpeText.split('\n').slice(1, 49152 - 256 - 2 + 1);
  const chars = bytesToUnicode().map((e) => e.char);
  const tokens = [...chars, ...chars.map((c) => `${c}</w>`), ...merges.map((m) => m.replace(' ', '')), '<|startoftext|>', '<|endoftext|>'];
  const vocab: Record<string, number> = {};
  tokens.forEach((t, i) => {
    vocab[t] = i;
  });
  const tokenizerJson = {
    version: '1.0',
    padding: null,
    model: { type: 'BPE', vocab, merges: merges.map((m) => m.split(' ')), end_of_word_suffix: '</w>' },
  };
  return { vocab, merges, tokenizerJson };
}

const hf = toHuggingFace();
const loaders: [string, () => Promise<ClipTokenizer>][] = [
  ['OpenAI .gz bytes', () => ClipTokenizer.fromOpenAiBpe(new Uint8Array(gz))],
  ['OpenAI text', async () => ClipTokenizer.fromOpenAiBpeText(bpeText)],
  [
    'HF vocab.json + merges.txt',
    async () => ClipTokenizer.fromHuggingFace({ vocab: JSON.stringify(hf.vocab), merges: `#version: 0.2\n${hf.merges.join('\n')}\n` }),
  ],
  ['HF tokenizer.json', async () => ClipTokenizer.fromTokenizerJson(JSON.stringify(hf.tokenizerJson))],
];

describe('ClipTokenizer goldens', () => {
  it('golden file has 145 cases', () => {
    expect(golden.cases).toHaveLength(145);
  });
  for (const [name, load] of loaders) {
    it(`${name}: all 145 cases match (bpe, tokens77, truncation, both paddings)`, async () => {
      const tok = await load();
      expect(tok.vocabularySize).toBe(49408);
      expect(tok.startToken).toBe(golden.sot);
      expect(tok.endToken).toBe(golden.eot);
      let mismatches = 0;
      for (const c of golden.cases) {
        const bpe = tok.encode(c.text);
        const batch = tok.tokenize(c.text, { padding: 'zero' });
        const ok = JSON.stringify(bpe) === JSON.stringify(c.bpe) && JSON.stringify(Array.from(batch.ids)) === JSON.stringify(c.tokens77);
        if (!ok) mismatches++;
        expect(bpe, c.text).toEqual(c.bpe);
        expect(Array.from(batch.ids), c.text).toEqual(c.tokens77);
        expect(batch.truncated[0]).toBe(c.truncated);
        // End-token padding (Hugging Face convention): same ids, padding = 49407.
        const endPadded = tok.tokenize(c.text, { padding: 'end-token' });
        const end = endPadded.endPositions[0]!;
        expect(Array.from(endPadded.ids.subarray(0, end + 1))).toEqual(c.tokens77.slice(0, end + 1));
        expect(Array.from(endPadded.ids.subarray(end + 1)).every((x) => x === golden.eot)).toBe(true);
        expect(endPadded.attentionMask.reduce((a, b) => a + b, 0)).toBe(end + 1);
      }
      expect(mismatches).toBe(0);
    });
  }

  it('batches several texts into one matrix; truncation keeps the end token', async () => {
    const tok = ClipTokenizer.fromOpenAiBpeText(bpeText);
    const long = golden.cases.find((c) => c.truncated)!;
    const batch = tok.tokenize(['a photo of a cat', long.text]);
    expect(batch.rows).toBe(2);
    expect(batch.cols).toBe(77);
    expect(batch.ids[77 + 76]).toBe(golden.eot);
    expect(batch.truncated).toEqual([false, true]);
    expect(() => tok.tokenize(long.text, { truncate: false })).toThrowError(/context length 77/);
  });

  it('default padding: OpenAI loader pads with 0, HF loaders with the end token', async () => {
    expect(ClipTokenizer.fromOpenAiBpeText(bpeText).padding).toBe('zero');
    expect(ClipTokenizer.fromHuggingFace({ vocab: hf.vocab, merges: hf.merges }).padding).toBe('end-token');
  });

  it('decode inverts encode for plain text', () => {
    const tok = ClipTokenizer.fromOpenAiBpeText(bpeText);
    expect(tok.decode(tok.encode('A photo of a Café, 12!'))).toBe('a photo of a café , 1 2 !');
  });

  it('text cleaning: html unescape twice, whitespace, NFC, lower-case', () => {
    expect(htmlUnescape('&amp;lt; &#39; &#x41; &amp &copy2 &bogus; &#128;')).toBe("&lt; ' A & ©2 &bogus; €");
    expect(cleanClipText('  &amp;lt;B&amp;gt;\u00a0\t Cafe\u0301  ')).toBe('<b> café');
  });

  it('bad vocabulary files give typed errors', async () => {
    await expect(ClipTokenizer.fromOpenAiBpe(gz.subarray(0, 1000))).rejects.toMatchObject({ code: 'invalid-vocabulary' });
    expect(() => ClipTokenizer.fromOpenAiBpeText('#version\na b\n')).toThrowError(EncoderError);
    expect(() => ClipTokenizer.fromHuggingFace({ vocab: '{not json', merges: '' })).toThrowError(/vocab.json is not valid JSON/);
    expect(() => ClipTokenizer.fromHuggingFace({ vocab: { a: 1 }, merges: '' })).toThrowError(/lacks <\|startoftext\|>/);
    expect(() => ClipTokenizer.fromTokenizerJson({ model: { type: 'WordPiece', vocab: {}, merges: [] } })).toThrowError(/expected BPE/);
  });
});
