import type { Matrix } from '@gla/core';
import {
  type LoadOptions,
  type ModelSession,
  type ModelSource,
  type Runtime,
  RuntimeError,
  type Tensor,
  type TensorInfo,
} from '@gla/runtime';
import { type BatchOptions, encodeInBatches } from '../batching';
import { EncoderError } from '../errors';
import type { RawImage } from '../image';
import {
  buildZeroShotHead,
  classifyFeatures,
  type TextEmbedder,
  type ZeroShotClassifyOptions,
  type ZeroShotHead,
  ZeroShotHeadCache,
  type ZeroShotResult,
} from '../zero-shot';
import {
  bindText,
  bindVision,
  type ClipInputNames,
  type ClipLayout,
  type ClipOutputNames,
  declaredImageSize,
  describeSession,
  detectLayout,
  type TextBinding,
  type VisionBinding,
} from './layouts';
import { type ClipPreprocessOptions, preprocessClipImageInto } from './preprocess';
import { CLIP_CONTEXT_LENGTH, type ClipTokenizer, type PadConvention } from './tokenizer';

/** Where the CLIP towers come from: two separate models, or one joint / single-tower model. */
export type ClipModelSources = { readonly textModel?: ModelSource; readonly visionModel?: ModelSource } | { readonly model: ModelSource };

/** Options of {@link ClipModel.load}. */
export interface ClipModelOptions {
  /** Needed to encode texts (zero-shot heads); omit for an image-only model. */
  readonly tokenizer?: ClipTokenizer;
  /** Export layout; auto-detected from the model's inputs when omitted. */
  readonly layout?: ClipLayout;
  readonly inputNames?: ClipInputNames;
  readonly outputNames?: ClipOutputNames;
  /** Side of the square model input (default: what the model declares, else 224). */
  readonly imageSize?: number;
  /** Preprocessing mean/std (default CLIP's). */
  readonly preprocess?: Omit<ClipPreprocessOptions, 'size'>;
  /** Padding after the end token (default: the tokenizer's convention). */
  readonly padding?: PadConvention;
  /** Identity for the zero-shot head cache (default: unique per loaded model). */
  readonly id?: string;
  /** Zero-shot head cache (default: one private cache per model, 16 heads). */
  readonly headCache?: ZeroShotHeadCache;
  /** Passed to `runtime.load`. */
  readonly loadOptions?: LoadOptions;
}

/** Options of {@link ClipModel.classify}. */
export interface ClipClassifyOptions extends ZeroShotClassifyOptions, BatchOptions {
  /** Prompt templates with `{}` (default `['a photo of a {}.']`). */
  readonly templates?: readonly string[];
}

/** Counters of model runs (for tests, benchmarks and cache checks). */
export interface ClipRunCounts {
  /** Calls of the text tower. */
  textRuns: number;
  /** Texts encoded. */
  textsEncoded: number;
  /** Calls of the vision tower. */
  imageRuns: number;
  imagesEncoded: number;
}

let nextModelNumber = 1;

/**
 * CLIP over any `@gla/runtime` runtime. Text and image embeddings are L2-normalised (unit rows,
 * float32), so `features · headᵀ` is the cosine similarity, whatever the export returns (HF
 * separate towers and OpenAI exports return unnormalised projections, the joint model normalised
 * ones). Images are preprocessed exactly as OpenAI's CLIP (see `preprocessClipImage`).
 */
export class ClipModel implements TextEmbedder {
  readonly layout: ClipLayout;
  /** Identity used by the zero-shot head cache. */
  readonly id: string;
  /** Side of the square image input in pixels. */
  readonly imageSize: number;
  readonly headCache: ZeroShotHeadCache;
  readonly counts: ClipRunCounts = { textRuns: 0, textsEncoded: 0, imageRuns: 0, imagesEncoded: 0 };
  readonly #text: TextBinding | undefined;
  readonly #vision: VisionBinding | undefined;
  readonly #tokenizer: ClipTokenizer | undefined;
  readonly #padding: PadConvention | undefined;
  readonly #preprocess: Omit<ClipPreprocessOptions, 'size'>;
  readonly #sessions: ModelSession[];

  private constructor(init: {
    layout: ClipLayout;
    text?: TextBinding;
    vision?: VisionBinding;
    sessions: ModelSession[];
    options: ClipModelOptions;
    imageSize: number;
  }) {
    this.layout = init.layout;
    this.#text = init.text;
    this.#vision = init.vision;
    this.#sessions = init.sessions;
    this.#tokenizer = init.options.tokenizer;
    this.#padding = init.options.padding;
    this.#preprocess = init.options.preprocess ?? {};
    this.imageSize = init.imageSize;
    this.id = init.options.id ?? `clip-model-${nextModelNumber++}`;
    this.headCache = init.options.headCache ?? new ZeroShotHeadCache();
  }

  /**
   * Loads CLIP towers with `runtime` and resolves their input/output names.
   * @throws EncoderError `invalid-model` (bytes not ONNX / truncated / unreadable, naming which
   *   model), `unknown-layout` (inputs match no known layout; the message lists the model's
   *   inputs/outputs and the known layouts), `invalid-input` (no model given).
   */
  static async load(runtime: Runtime, sources: ClipModelSources, options: ClipModelOptions = {}): Promise<ClipModel> {
    if (runtime === null || typeof runtime !== 'object' || typeof runtime.load !== 'function') {
      throw new EncoderError('invalid-input', 'ClipModel.load: first argument must be a @gla/runtime Runtime');
    }
    const sessions: ModelSession[] = [];
    const open = async (source: ModelSource, what: string): Promise<ModelSession> => {
      try {
        const session = await runtime.load(source, options.loadOptions);
        sessions.push(session);
        return session;
      } catch (error) {
        const code = error instanceof RuntimeError ? error.code : undefined;
        const where = typeof source === 'string' || source instanceof URL ? ` (${String(source)})` : ` (${byteLength(source)} bytes)`;
        throw new EncoderError(
          'invalid-model',
          `${what}${where} could not be loaded${code ? ` [${code}]` : ''}: ${(error as Error).message}`,
          { cause: error },
        );
      }
    };
    try {
      if ('model' in sources && sources.model !== undefined) {
        const session = await open(sources.model, 'model');
        const layout = options.layout ?? detectSingle(session);
        const names = options.inputNames ?? {};
        const outputs = options.outputNames ?? {};
        if (layout !== 'hf-joint') {
          // One tower: text when it takes token ids, else vision.
          const isText =
            layout === 'openai'
              ? session.inputs.length === 1 && (session.inputs[0]!.dtype === 'int32' || session.inputs[0]!.dtype === 'int64')
              : session.inputs.some((t) => t.name === (names.inputIds ?? 'input_ids'));
          return ClipModel.#create(
            layout,
            isText ? bindText(session, layout, names, outputs) : undefined,
            isText ? undefined : bindVision(session, layout, names, outputs),
            sessions,
            options,
          );
        }
        return ClipModel.#create(
          layout,
          bindText(session, layout, names, outputs),
          bindVision(session, layout, names, outputs),
          sessions,
          options,
        );
      }
      const { textModel, visionModel } = sources as { textModel?: ModelSource; visionModel?: ModelSource };
      if (textModel === undefined && visionModel === undefined) {
        throw new EncoderError('invalid-input', 'ClipModel.load needs { textModel, visionModel } (either may be omitted) or { model }');
      }
      const text = textModel !== undefined ? await open(textModel, 'text model') : undefined;
      const vision = visionModel !== undefined ? await open(visionModel, 'vision model') : undefined;
      const layout = options.layout ?? detectLayout({ ...(text ? { text } : {}), ...(vision ? { vision } : {}) });
      if (layout === 'hf-joint') throw new EncoderError('invalid-input', "layout 'hf-joint' needs { model }, not separate towers");
      const names = options.inputNames ?? {};
      const outputs = options.outputNames ?? {};
      return ClipModel.#create(
        layout,
        text ? bindText(text, layout, names, outputs) : undefined,
        vision ? bindVision(vision, layout, names, outputs) : undefined,
        sessions,
        options,
      );
    } catch (error) {
      await Promise.allSettled(sessions.map((s) => s.release()));
      throw error;
    }
  }

  static #create(
    layout: ClipLayout,
    text: TextBinding | undefined,
    vision: VisionBinding | undefined,
    sessions: ModelSession[],
    options: ClipModelOptions,
  ): ClipModel {
    const declared = vision ? declaredImageSize(vision) : undefined;
    const imageSize = options.imageSize ?? declared ?? 224;
    if (!Number.isInteger(imageSize) || imageSize < 1)
      throw new EncoderError('invalid-input', `imageSize must be a positive integer, got ${imageSize}`);
    if (declared !== undefined && declared !== imageSize) {
      throw new EncoderError(
        'invalid-input',
        `imageSize ${imageSize} differs from the ${declared} × ${declared} the vision model declares`,
      );
    }
    return new ClipModel({ layout, ...(text ? { text } : {}), ...(vision ? { vision } : {}), sessions, options, imageSize });
  }

  /** Whether a text tower (and tokenizer) is available. */
  get hasText(): boolean {
    return this.#text !== undefined && this.#tokenizer !== undefined;
  }
  /** Whether a vision tower is available. */
  get hasVision(): boolean {
    return this.#vision !== undefined;
  }

  /**
   * Unit-norm text embeddings (`texts.length × D`, float32). Texts are tokenised to the context
   * length (77, or what the model declares) with truncation that keeps the end token.
   * @throws RuntimeError `aborted` when `signal` aborts (checked before every batch).
   */
  async encodeTexts(texts: readonly string[], options: BatchOptions = {}): Promise<Matrix> {
    const binding = this.#text;
    const tokenizer = this.#tokenizer;
    if (!binding) throw new EncoderError('invalid-input', 'this ClipModel has no text model');
    if (!tokenizer) throw new EncoderError('invalid-input', 'encoding texts needs options.tokenizer in ClipModel.load');
    if (!Array.isArray(texts)) throw new EncoderError('invalid-input', 'texts must be an array of strings');
    texts.forEach((t, i) => {
      if (typeof t !== 'string') throw new EncoderError('invalid-input', `texts[${i}] is ${typeof t}, expected a string`);
    });
    const contextLength = binding.sequenceLength ?? CLIP_CONTEXT_LENGTH;
    const padding = this.#padding;
    const result = await encodeInBatches(
      texts.length,
      async (start, end) => {
        const batch = tokenizer.tokenize(texts.slice(start, end), { contextLength, ...(padding ? { padding } : {}) });
        const rows = end - start;
        const feeds: Record<string, Tensor> = {
          [binding.inputIds.name]: integerTensor(binding.inputIds, batch.ids, [rows, contextLength]),
        };
        if (binding.attentionMask)
          feeds[binding.attentionMask.name] = integerTensor(binding.attentionMask, batch.attentionMask, [rows, contextLength]);
        if (binding.dummyPixels) {
          feeds[binding.dummyPixels.name] = {
            dtype: 'float32',
            dims: [1, 3, this.imageSize, this.imageSize],
            data: new Float32Array(3 * this.imageSize * this.imageSize),
          };
        }
        const out = await runOne(binding.session, feeds, binding.output, rows, 'text model');
        this.counts.textRuns++;
        this.counts.textsEncoded += rows;
        return out;
      },
      options,
    );
    return normalizeRows(result);
  }

  /**
   * Unit-norm image embeddings (`images.length × D`, float32) of decoded images, each
   * preprocessed CLIP-style (short side to `imageSize`, Pillow bicubic, center crop, mean/std).
   * Preprocessing happens per batch, so memory stays at one batch of pixels.
   */
  async encodeImages(images: readonly RawImage[], options: BatchOptions = {}): Promise<Matrix> {
    if (!Array.isArray(images)) throw new EncoderError('invalid-input', 'images must be an array of decoded images');
    const size = this.imageSize;
    const per = 3 * size * size;
    return this.#encodeVision(
      images.length,
      (start, end) => {
        const pixels = new Float32Array((end - start) * per);
        for (let i = start; i < end; i++) preprocessClipImageInto(images[i]!, pixels, (i - start) * per, { ...this.#preprocess, size });
        return pixels;
      },
      options,
    );
  }

  /**
   * Unit-norm image embeddings of already preprocessed pixels: `count × 3 × imageSize ×
   * imageSize` float32, NCHW.
   */
  async encodePixels(pixels: Float32Array, count: number, options: BatchOptions = {}): Promise<Matrix> {
    const per = 3 * this.imageSize * this.imageSize;
    if (!(pixels instanceof Float32Array) || !Number.isInteger(count) || count < 0 || pixels.length !== count * per) {
      throw new EncoderError(
        'invalid-input',
        `pixels must be a Float32Array of ${count} × 3 × ${this.imageSize} × ${this.imageSize} = ${count * per} values, got ${pixels?.length}`,
      );
    }
    return this.#encodeVision(count, (start, end) => pixels.subarray(start * per, end * per), options);
  }

  async #encodeVision(count: number, pixelsOf: (start: number, end: number) => Float32Array, options: BatchOptions): Promise<Matrix> {
    const binding = this.#vision;
    if (!binding) throw new EncoderError('invalid-input', 'this ClipModel has no vision model');
    const size = this.imageSize;
    const result = await encodeInBatches(
      count,
      async (start, end) => {
        const rows = end - start;
        const feeds: Record<string, Tensor> = {
          [binding.pixelValues.name]: { dtype: 'float32', dims: [rows, 3, size, size], data: pixelsOf(start, end) },
        };
        if (binding.dummyIds) {
          const dummy = new Int32Array(CLIP_CONTEXT_LENGTH);
          const mask = new Int32Array(CLIP_CONTEXT_LENGTH);
          dummy[0] = this.#tokenizer?.startToken ?? 49406;
          dummy[1] = this.#tokenizer?.endToken ?? 49407;
          mask[0] = 1;
          mask[1] = 1;
          feeds[binding.dummyIds.name] = integerTensor(binding.dummyIds, dummy, [1, CLIP_CONTEXT_LENGTH]);
          if (binding.dummyMask) feeds[binding.dummyMask.name] = integerTensor(binding.dummyMask, mask, [1, CLIP_CONTEXT_LENGTH]);
        }
        const out = await runOne(binding.session, feeds, binding.output, rows, 'vision model');
        this.counts.imageRuns++;
        this.counts.imagesEncoded += rows;
        return out;
      },
      options,
    );
    return normalizeRows(result);
  }

  /**
   * The zero-shot head of `labels` (prompt ensembling over `templates`), from the cache when
   * this model already built it for the same labels and templates.
   */
  async zeroShotHead(labels: readonly string[], options: { templates?: readonly string[] } & BatchOptions = {}): Promise<ZeroShotHead> {
    return buildZeroShotHead(this, labels, { ...options, cache: this.headCache });
  }

  /**
   * Zero-shot classification of decoded images (or of unit-norm image features `N × D`):
   * predictions `{ label, score }[]` per image sorted by score (softmax over `logitScale · cos`,
   * debiased by `logPrior` when given), plus the `N × C` logits for `@gla/core`.
   */
  async classify(
    images: readonly RawImage[] | Matrix,
    labels: readonly string[],
    options: ClipClassifyOptions = {},
  ): Promise<ZeroShotResult> {
    const { templates, batchSize, onProgress, signal, ...classify } = options;
    const batch: BatchOptions = { ...(batchSize !== undefined ? { batchSize } : {}), ...(signal ? { signal } : {}) };
    const head = await this.zeroShotHead(labels, { ...(templates ? { templates } : {}), ...batch });
    const features = Array.isArray(images)
      ? await this.encodeImages(images, { ...batch, ...(onProgress ? { onProgress } : {}) })
      : (images as Matrix);
    return classifyFeatures(features, head, classify);
  }

  /** Releases the runtime sessions. */
  async release(): Promise<void> {
    await Promise.all(this.#sessions.map((s) => s.release()));
  }
}

function detectSingle(session: ModelSession): ClipLayout {
  const names = new Set(session.inputs.map((t) => t.name));
  if (names.has('input_ids') && names.has('pixel_values')) return 'hf-joint';
  if (names.has('input_ids')) return 'hf';
  if (names.has('pixel_values')) return 'hf';
  if (session.inputs.length === 1) {
    const t = session.inputs[0]!;
    if (t.dtype === 'int32' || t.dtype === 'int64' || t.dtype === 'float32') return 'openai';
  }
  return detectLayout({ joint: session });
}

function byteLength(source: Uint8Array | ArrayBuffer): number {
  return source.byteLength;
}

function integerTensor(info: TensorInfo, values: Int32Array, dims: number[]): Tensor {
  if (info.dtype === 'int64') {
    const data = new BigInt64Array(values.length);
    for (let i = 0; i < values.length; i++) data[i] = BigInt(values[i]!);
    return { dtype: 'int64', dims, data };
  }
  return { dtype: 'int32', dims, data: values };
}

async function runOne(
  session: ModelSession,
  feeds: Record<string, Tensor>,
  output: string,
  rows: number,
  what: string,
): Promise<{ data: Float32Array; cols: number }> {
  const result = await session.run(feeds, [output]);
  const tensor = result[output];
  if (!tensor) throw new EncoderError('shape-mismatch', `${what} returned no '${output}' (${describeSession(session)})`);
  if (tensor.dims.length !== 2 || tensor.dims[0] !== rows) {
    throw new EncoderError(
      'shape-mismatch',
      `${what} output '${output}' has shape [${tensor.dims.join(', ')}], expected [${rows}, D] embeddings`,
    );
  }
  let data: Float32Array;
  if (tensor.dtype === 'float32') data = tensor.data as Float32Array;
  else if (tensor.dtype === 'float64') data = Float32Array.from(tensor.data as Float64Array);
  else throw new EncoderError('shape-mismatch', `${what} output '${output}' is ${tensor.dtype}, expected float32 embeddings`);
  return { data, cols: tensor.dims[1]! };
}

/** L2-normalises rows in place (Float64 accumulation); a zero row stays zero. */
function normalizeRows(m: { data: Float32Array; rows: number; cols: number }): Matrix {
  const { data, rows, cols } = m;
  for (let i = 0; i < rows; i++) {
    let s = 0;
    for (let j = 0; j < cols; j++) s += data[i * cols + j]! ** 2;
    if (s === 0) continue;
    const inv = 1 / Math.sqrt(s);
    for (let j = 0; j < cols; j++) data[i * cols + j]! *= inv;
  }
  return { data, rows, cols };
}
