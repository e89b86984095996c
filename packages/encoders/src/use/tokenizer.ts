import { EncoderError } from '../errors';
import { parseVocabulary, type VocabularyEntry, type VocabularySource } from './vocabulary';

/** The word-boundary symbol of SentencePiece vocabularies (U+2581). */
export const WORD_BOUNDARY = '\u2581';

/** Id emitted for a symbol no vocabulary piece starts with; consecutive unknowns merge into one. */
export const UNKNOWN_PIECE_ID = 0;

/** Number of leading vocabulary entries (`<unk>`, `<s>`, `</s>`, three extra ids) that never match text. */
export const RESERVED_PIECES = 6;

interface TrieNode {
  /** Children keyed by Unicode code point (lone surrogates keep their own value). */
  children: Map<number, TrieNode> | undefined;
  /** Vocabulary index of the piece ending here, or -1. */
  id: number;
  score: number;
}

function newNode(): TrieNode {
  return { children: undefined, id: -1, score: 0 };
}

/**
 * The tokenizer of Universal Sentence Encoder lite: a unigram (SentencePiece-style) segmentation
 * found by Viterbi search over a trie of the vocabulary's pieces and log-probability scores.
 *
 * Text is NFKC-normalised, prefixed with `▁` and every ASCII space becomes `▁` (other whitespace is
 * kept as is). A symbol that starts no piece becomes the unknown id 0 with score 0, and runs of
 * unknown ids collapse into one. Ties, the "score exactly 0 means unset" rule and the backtracking
 * over UTF-16 lengths reproduce `@energetic-ai/embeddings@0.2.0` (and tfjs-models' USE tokenizer)
 * id for id. Pure, synchronous and browser-safe.
 */
export class UniversalSentenceEncoderTokenizer {
  /** Number of vocabulary entries (valid ids are `0 .. size-1`). */
  readonly size: number;
  private readonly root: TrieNode = newNode();
  /** UTF-16 length of every piece, used when walking back from the end (as the reference does). */
  private readonly pieceLengths: Int32Array;

  /**
   * @param vocabulary vocab.json as text, bytes or parsed value (see {@link parseVocabulary}).
   * @param reservedPieces leading entries left out of matching (6 for USE lite).
   */
  constructor(vocabulary: VocabularySource, reservedPieces = RESERVED_PIECES) {
    const entries: readonly VocabularyEntry[] = parseVocabulary(vocabulary);
    if (!Number.isInteger(reservedPieces) || reservedPieces < 0) {
      throw new EncoderError('invalid-input', `reservedPieces must be a non-negative integer, got ${reservedPieces}`);
    }
    this.size = entries.length;
    this.pieceLengths = new Int32Array(entries.length);
    for (let id = 0; id < entries.length; id++) {
      const [piece, score] = entries[id]!;
      this.pieceLengths[id] = piece.length;
      if (id < reservedPieces || piece.length === 0) continue;
      let node = this.root;
      for (const symbol of piece) {
        const code = symbol.codePointAt(0)!;
        node.children ??= new Map();
        let child = node.children.get(code);
        if (child === undefined) {
          child = newNode();
          node.children.set(code, child);
        }
        node = child;
      }
      // A piece listed twice keeps its last id and score.
      node.id = id;
      node.score = score;
    }
  }

  /** The text the segmentation runs on: NFKC, `▁` prefix, ASCII spaces as `▁` ("" stays ""). */
  static normalize(text: string): string {
    const normalized = text.normalize('NFKC');
    return normalized.length === 0 ? normalized : WORD_BOUNDARY + normalized.replaceAll(' ', WORD_BOUNDARY);
  }

  /**
   * Token ids of one text (empty for the empty string).
   * Throws `EncoderError('invalid-input')` when `text` is not a string.
   */
  encode(text: string): number[] {
    if (typeof text !== 'string') {
      throw new EncoderError('invalid-input', `text must be a string, got ${text === null ? 'null' : typeof text}`);
    }
    const normalized = UniversalSentenceEncoderTokenizer.normalize(text);
    const symbols: number[] = [];
    for (const symbol of normalized) symbols.push(symbol.codePointAt(0)!);
    const n = symbols.length;
    // best[e]: score of the best segmentation of symbols[0, e); 0 doubles as "not reached yet".
    const best = new Float64Array(n + 1);
    const lastPiece = new Int32Array(n + 1);
    const relax = (start: number, end: number, score: number, id: number): void => {
      const candidate = score + best[start]!;
      const current = best[end]!;
      if (current === 0 || candidate >= current) {
        best[end] = candidate;
        lastPiece[end] = id;
      }
    };
    // Pieces are relaxed by increasing start, so every end sees its candidates in the same order as
    // the reference's end-major loop, and best[start] is final when read.
    for (let start = 0; start < n; start++) {
      let matched = false;
      let node = this.root.children?.get(symbols[start]!);
      let end = start + 1;
      while (node !== undefined) {
        if (node.id >= 0) {
          relax(start, end, node.score, node.id);
          matched = true;
        }
        if (end >= n) break;
        node = node.children?.get(symbols[end]!);
        end++;
      }
      if (!matched) relax(start, start + 1, 0, UNKNOWN_PIECE_ID);
    }
    const reversed: number[] = [];
    let previousUnknown = false;
    for (let position = n; position > 0; ) {
      const id = lastPiece[position]!;
      if (!(previousUnknown && id === UNKNOWN_PIECE_ID)) reversed.push(id);
      previousUnknown = id === UNKNOWN_PIECE_ID;
      position -= Math.max(1, this.pieceLengths[id]!);
    }
    return reversed.reverse();
  }
}
