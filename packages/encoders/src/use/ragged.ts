/**
 * The ragged batch Universal Sentence Encoder lite reads: the token ids of all texts concatenated
 * (`values`, length n) and for each id its `[text, position]` coordinate (`indices`, n × 2,
 * row-major). A text without tokens contributes no coordinates, as in the reference.
 */
export interface RaggedBatch {
  /** n × 2 coordinates `[row, position]`, row-major. */
  readonly indices: Int32Array;
  /** n token ids. */
  readonly values: Int32Array;
  /** Number of token ids (n). */
  readonly tokens: number;
  /** Number of texts (rows) in the batch. */
  readonly rows: number;
}

/** Builds the ragged `indices`/`values` pair for a batch of tokenised texts (arrays or typed arrays of ids). */
export function buildRaggedBatch(tokenIds: readonly ArrayLike<number>[]): RaggedBatch {
  let tokens = 0;
  for (const ids of tokenIds) tokens += ids.length;
  const indices = new Int32Array(tokens * 2);
  const values = new Int32Array(tokens);
  let k = 0;
  for (let row = 0; row < tokenIds.length; row++) {
    const ids = tokenIds[row]!;
    for (let position = 0; position < ids.length; position++) {
      indices[2 * k] = row;
      indices[2 * k + 1] = position;
      values[k] = ids[position]!;
      k++;
    }
  }
  return { indices, values, tokens, rows: tokenIds.length };
}
