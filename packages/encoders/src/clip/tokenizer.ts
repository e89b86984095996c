import { EncoderError } from '../errors';
import { cleanClipText } from './text-cleaning';

/** CLIP's context length: every tokenised text is 77 ids long. */
export const CLIP_CONTEXT_LENGTH = 77;
const START = '<|startoftext|>';
const END = '<|endoftext|>';
const WORD_END = '</w>';

/**
 * CLIP's pre-tokenisation pattern (`simple_tokenizer.py`, compiled there with IGNORECASE): the
 * special tokens, English contractions, runs of letters, single digits, runs of other
 * non-space characters. `\s` is the Unicode White_Space property, as in Python's `regex` module.
 */
const PRE_TOKENIZE = /<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|\p{L}+|\p{N}|[^\p{White_Space}\p{L}\p{N}]+/giu;

/**
 * GPT-2/CLIP's reversible byte → printable-character table: printable Latin-1 bytes map to
 * themselves, the other 68 bytes to U+0100 onwards. Returned in vocabulary order.
 */
export function bytesToUnicode(): { byte: number; char: string }[] {
  const bs: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) bs.push(b);
  for (let b = 0xa1; b <= 0xac; b++) bs.push(b);
  for (let b = 0xae; b <= 0xff; b++) bs.push(b);
  const cs = bs.slice();
  let n = 0;
  for (let b = 0; b < 256; b++) {
    if (!bs.includes(b)) {
      bs.push(b);
      cs.push(256 + n);
      n++;
    }
  }
  return bs.map((byte, i) => ({ byte, char: String.fromCodePoint(cs[i]!) }));
}

/** Padding of the ids after the end token: 0 (OpenAI `clip.tokenize`) or the end token (Hugging Face). */
export type PadConvention = 'zero' | 'end-token';

/** Options of {@link ClipTokenizer.tokenize}. */
export interface TokenizeOptions {
  /** Ids per text including start and end tokens (default 77). */
  readonly contextLength?: number;
  /**
   * Cut texts that are too long to `contextLength - 1` tokens and append the end token (default
   * true, as `clip.tokenize(truncate=True)`); when false a long text throws `text-too-long`.
   */
  readonly truncate?: boolean;
  /** What follows the end token (default: the tokenizer's own convention). */
  readonly padding?: PadConvention;
}

/** A batch of tokenised texts: `ids` is row-major `rows × cols` (`cols` = context length). */
export interface TokenizedBatch {
  readonly ids: Int32Array;
  /** 1 for the start token, the text's tokens and the end token; 0 for padding. */
  readonly attentionMask: Int32Array;
  readonly rows: number;
  readonly cols: number;
  /** Per text: index of its end token (what CLIP's text model pools from). */
  readonly endPositions: Int32Array;
  /** Per text: whether it was truncated. */
  readonly truncated: boolean[];
}

/** Hugging Face tokenizer files: `vocab.json` (token → id) and `merges.txt` (one merge per line). */
export interface HuggingFaceVocabulary {
  readonly vocab: string | Readonly<Record<string, number>>;
  readonly merges: string | readonly string[];
}

/**
 * CLIP's byte-level BPE tokenizer (OpenAI `simple_tokenizer.py` / Hugging Face `CLIPTokenizer`).
 * Load it from OpenAI's `bpe_simple_vocab_16e6.txt(.gz)` or from Hugging Face files; the ids are
 * the same. Encoding: {@link cleanClipText}, pre-tokenisation, UTF-8 bytes through
 * {@link bytesToUnicode}, BPE by merge rank (lowest first) with a per-word cache.
 */
export class ClipTokenizer {
  /** Id of `<|startoftext|>` (49406 for the standard vocabulary). */
  readonly startToken: number;
  /** Id of `<|endoftext|>` (49407 for the standard vocabulary). */
  readonly endToken: number;
  /** Default padding convention of {@link tokenize}. */
  readonly padding: PadConvention;
  readonly #encoder: Map<string, number>;
  readonly #decoder: Map<number, string>;
  readonly #ranks: Map<string, number>;
  readonly #byteEncoder: string[];
  readonly #byteDecoder: Map<string, number>;
  readonly #cache = new Map<string, number[]>();

  private constructor(encoder: Map<string, number>, merges: readonly (readonly [string, string])[], padding: PadConvention) {
    this.#encoder = encoder;
    this.#decoder = new Map([...encoder].map(([k, v]) => [v, k]));
    this.#ranks = new Map();
    merges.forEach(([a, b], i) => {
      const key = `${a} ${b}`;
      if (!this.#ranks.has(key)) this.#ranks.set(key, i);
    });
    const table = bytesToUnicode();
    this.#byteEncoder = new Array<string>(256);
    this.#byteDecoder = new Map();
    for (const { byte, char } of table) {
      this.#byteEncoder[byte] = char;
      this.#byteDecoder.set(char, byte);
    }
    const start = encoder.get(START);
    const end = encoder.get(END);
    if (start === undefined || end === undefined) {
      throw new EncoderError('invalid-vocabulary', `CLIP vocabulary lacks ${start === undefined ? START : END}`);
    }
    this.startToken = start;
    this.endToken = end;
    this.padding = padding;
    this.#cache.set(START, [start]);
    this.#cache.set(END, [end]);
  }

  /** Number of ids in the vocabulary (49408 for the standard one). */
  get vocabularySize(): number {
    return this.#encoder.size;
  }

  /**
   * From OpenAI's `bpe_simple_vocab_16e6.txt`: decompressed text, or the `.gz` bytes (decompressed
   * with `DecompressionStream`, Node ≥ 18 and current browsers). Uses the first 48,894 merges,
   * as OpenAI does. Default padding 'zero'.
   */
  static async fromOpenAiBpe(source: string | Uint8Array | ArrayBuffer): Promise<ClipTokenizer> {
    let text: string;
    if (typeof source === 'string') text = source;
    else {
      const bytes = source instanceof Uint8Array ? source : new Uint8Array(source);
      text = bytes[0] === 0x1f && bytes[1] === 0x8b ? await gunzipToText(bytes) : new TextDecoder().decode(bytes);
    }
    return ClipTokenizer.fromOpenAiBpeText(text);
  }

  /** Synchronous variant of {@link fromOpenAiBpe} for already-decompressed text. */
  static fromOpenAiBpeText(text: string): ClipTokenizer {
    const lines = text.split('\n');
    const count = 49152 - 256 - 2;
    if (lines.length < count + 1) {
      throw new EncoderError(
        'invalid-vocabulary',
        `OpenAI BPE file has ${lines.length} lines, expected at least ${count + 1} (header + ${count} merges); is it truncated or still gzipped?`,
      );
    }
    const merges = lines.slice(1, count + 1).map((line, i) => splitMerge(line, i + 2));
    const vocab: string[] = [];
    const table = bytesToUnicode();
    for (const { char } of table) vocab.push(char);
    for (const { char } of table) vocab.push(char + WORD_END);
    for (const [a, b] of merges) vocab.push(a + b);
    vocab.push(START, END);
    return new ClipTokenizer(new Map(vocab.map((t, i) => [t, i])), merges, 'zero');
  }

  /** From Hugging Face `vocab.json` + `merges.txt` (strings or parsed). Default padding 'end-token'. */
  static fromHuggingFace(files: HuggingFaceVocabulary): ClipTokenizer {
    const vocab = typeof files.vocab === 'string' ? parseJson(files.vocab, 'vocab.json') : files.vocab;
    if (vocab === null || typeof vocab !== 'object' || Array.isArray(vocab)) {
      throw new EncoderError('invalid-vocabulary', 'vocab.json must be an object mapping tokens to ids');
    }
    const lines = typeof files.merges === 'string' ? files.merges.split('\n') : [...files.merges];
    const merges: [string, string][] = [];
    lines.forEach((line, i) => {
      if (line.startsWith('#version') || line.trim() === '') return;
      merges.push(splitMerge(line, i + 1));
    });
    return ClipTokenizer.#fromVocab(vocab as Record<string, unknown>, merges, 'end-token');
  }

  /**
   * From a Hugging Face `tokenizer.json` (fast tokenizer): `model.vocab` and `model.merges`
   * (either `"a b"` strings or `["a", "b"]` pairs). Padding follows its `padding.pad_id` when it
   * is 0, else the end token.
   */
  static fromTokenizerJson(json: string | object): ClipTokenizer {
    const parsed = (typeof json === 'string' ? parseJson(json, 'tokenizer.json') : json) as {
      model?: { type?: string; vocab?: Record<string, unknown>; merges?: unknown[] };
      padding?: { pad_id?: number } | null;
    };
    const model = parsed?.model;
    if (!model || typeof model.vocab !== 'object' || !Array.isArray(model.merges)) {
      throw new EncoderError('invalid-vocabulary', 'tokenizer.json has no model.vocab / model.merges (not a BPE tokenizer?)');
    }
    if (model.type !== undefined && model.type !== 'BPE') {
      throw new EncoderError('invalid-vocabulary', `tokenizer.json model type is ${model.type}, expected BPE`);
    }
    const merges = model.merges.map((m, i): [string, string] => {
      if (typeof m === 'string') return splitMerge(m, i + 1);
      if (Array.isArray(m) && m.length === 2 && typeof m[0] === 'string' && typeof m[1] === 'string') return [m[0], m[1]];
      throw new EncoderError('invalid-vocabulary', `tokenizer.json merge ${i} is neither "a b" nor ["a", "b"]`);
    });
    const padding: PadConvention = parsed.padding?.pad_id === 0 ? 'zero' : 'end-token';
    return ClipTokenizer.#fromVocab(model.vocab, merges, padding);
  }

  static #fromVocab(vocab: Record<string, unknown>, merges: [string, string][], padding: PadConvention): ClipTokenizer {
    const encoder = new Map<string, number>();
    for (const [token, id] of Object.entries(vocab)) {
      if (typeof id !== 'number' || !Number.isInteger(id) || id < 0) {
        throw new EncoderError(
          'invalid-vocabulary',
          `vocabulary id of ${JSON.stringify(token)} is ${String(id)}, expected an integer >= 0`,
        );
      }
      encoder.set(token, id);
    }
    return new ClipTokenizer(encoder, merges, padding);
  }

  /** BPE ids of `text` without start/end tokens and without truncation. */
  encode(text: string): number[] {
    if (typeof text !== 'string') throw new EncoderError('invalid-input', `text must be a string, got ${typeof text}`);
    const out: number[] = [];
    const cleaned = cleanClipText(text);
    const utf8 = new TextEncoder();
    for (const match of cleaned.matchAll(PRE_TOKENIZE)) {
      const piece = match[0];
      let ids = this.#cache.get(piece);
      if (ids === undefined) {
        let mapped = '';
        for (const byte of utf8.encode(piece)) mapped += this.#byteEncoder[byte]!;
        ids = this.#bpe(mapped);
        if (this.#cache.size > 100_000) this.#cache.clear();
        this.#cache.set(piece, ids);
      }
      for (const id of ids) out.push(id);
    }
    return out;
  }

  /**
   * Tokenises texts into a `texts.length × contextLength` id matrix: start token, BPE ids, end
   * token, padding. See {@link TokenizeOptions} for truncation and padding.
   */
  tokenize(texts: string | readonly string[], options: TokenizeOptions = {}): TokenizedBatch {
    const list = typeof texts === 'string' ? [texts] : texts;
    const cols = options.contextLength ?? CLIP_CONTEXT_LENGTH;
    if (!Number.isInteger(cols) || cols < 2) throw new EncoderError('invalid-input', `contextLength must be an integer >= 2, got ${cols}`);
    const truncate = options.truncate ?? true;
    const pad = (options.padding ?? this.padding) === 'zero' ? 0 : this.endToken;
    const rows = list.length;
    const ids = new Int32Array(rows * cols).fill(pad);
    const attentionMask = new Int32Array(rows * cols);
    const endPositions = new Int32Array(rows);
    const truncated: boolean[] = [];
    for (let r = 0; r < rows; r++) {
      let bpe = this.encode(list[r]!);
      const cut = bpe.length + 2 > cols;
      if (cut) {
        if (!truncate) {
          throw new EncoderError('text-too-long', `text ${r} has ${bpe.length + 2} tokens, more than the context length ${cols}`);
        }
        bpe = bpe.slice(0, cols - 2);
      }
      const o = r * cols;
      ids[o] = this.startToken;
      ids.set(bpe, o + 1);
      ids[o + bpe.length + 1] = this.endToken;
      attentionMask.fill(1, o, o + bpe.length + 2);
      endPositions[r] = bpe.length + 1;
      truncated.push(cut);
    }
    return { ids, attentionMask, rows, cols, endPositions, truncated };
  }

  /** Text of BPE ids (inverse of {@link encode} up to cleaning; `</w>` becomes a space). */
  decode(ids: ArrayLike<number>): string {
    let s = '';
    for (let i = 0; i < ids.length; i++) {
      const t = this.#decoder.get(ids[i]!);
      if (t === undefined) throw new EncoderError('invalid-input', `id ${ids[i]} at position ${i} is not in the vocabulary`);
      s += t;
    }
    const bytes: number[] = [];
    for (const ch of s.replaceAll(WORD_END, ' ')) {
      const b = this.#byteDecoder.get(ch);
      if (b !== undefined) bytes.push(b);
      else for (const x of new TextEncoder().encode(ch)) bytes.push(x);
    }
    return new TextDecoder().decode(new Uint8Array(bytes)).trim();
  }

  #bpe(token: string): number[] {
    const chars = Array.from(token);
    if (chars.length === 0) return [];
    let word: string[] = chars.slice(0, -1);
    word.push(chars[chars.length - 1]! + WORD_END);
    while (word.length > 1) {
      let best = Number.POSITIVE_INFINITY;
      let bestIndex = -1;
      for (let i = 0; i < word.length - 1; i++) {
        const rank = this.#ranks.get(`${word[i]} ${word[i + 1]}`);
        if (rank !== undefined && rank < best) {
          best = rank;
          bestIndex = i;
        }
      }
      if (bestIndex < 0) break;
      const first = word[bestIndex]!;
      const second = word[bestIndex + 1]!;
      // Merge every occurrence of the pair, scanning left to right (as simple_tokenizer does).
      const next: string[] = [];
      for (let i = 0; i < word.length; ) {
        if (i < word.length - 1 && word[i] === first && word[i + 1] === second) {
          next.push(first + second);
          i += 2;
        } else {
          next.push(word[i]!);
          i += 1;
        }
      }
      word = next;
    }
    return word.map((piece) => {
      const id = this.#encoder.get(piece);
      if (id === undefined) throw new EncoderError('invalid-vocabulary', `BPE piece ${JSON.stringify(piece)} is not in the vocabulary`);
      return id;
    });
  }
}

function splitMerge(line: string, lineNumber: number): [string, string] {
  const parts = line.split(' ');
  if (parts.length !== 2 || !parts[0] || !parts[1]) {
    throw new EncoderError(
      'invalid-vocabulary',
      `merge on line ${lineNumber} is ${JSON.stringify(line.slice(0, 40))}, expected two space-separated symbols`,
    );
  }
  return [parts[0], parts[1]];
}

function parseJson(text: string, name: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new EncoderError('invalid-vocabulary', `${name} is not valid JSON: ${(error as Error).message}`, { cause: error });
  }
}

async function gunzipToText(bytes: Uint8Array): Promise<string> {
  if (typeof DecompressionStream === 'undefined') {
    throw new EncoderError(
      'invalid-vocabulary',
      'gzip input needs DecompressionStream (Node >= 18, current browsers); pass decompressed text instead',
    );
  }
  try {
    const stream = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream().pipeThrough(new DecompressionStream('gzip'));
    return await new Response(stream).text();
  } catch (error) {
    throw new EncoderError('invalid-vocabulary', `BPE vocabulary is not valid gzip (truncated?): ${(error as Error).message}`, {
      cause: error,
    });
  }
}
