import type { ModelSession, TensorInfo } from '@gla/runtime';
import { EncoderError } from '../errors';

/**
 * Export layouts {@link ClipModel} recognises:
 * - `'hf'`: Hugging Face / Xenova separate towers: `text_model.onnx` (`input_ids`, optional
 *   `attention_mask` → `text_embeds`) and `vision_model.onnx` (`pixel_values` → `image_embeds`).
 * - `'hf-joint'`: one Hugging Face `CLIPModel` export (`input_ids`, `attention_mask`,
 *   `pixel_values` → `text_embeds`, `image_embeds`, logits); the other modality gets a one-row
 *   dummy input.
 * - `'openai'`: OpenAI-style single-input/single-output towers (`textual.onnx`: integer ids
 *   `[batch, 77]`; `visual.onnx`: float `[batch, 3, H, W]`), any input/output names.
 */
export type ClipLayout = 'hf' | 'hf-joint' | 'openai';

/** The layouts, with what each expects, for error messages. */
export const KNOWN_CLIP_LAYOUTS: Readonly<Record<ClipLayout, string>> = {
  hf: "separate towers: text model with 'input_ids' (+ 'attention_mask') → 'text_embeds', vision model with 'pixel_values' → 'image_embeds'",
  'hf-joint': "one model with 'input_ids', 'attention_mask' and 'pixel_values' → 'text_embeds', 'image_embeds'",
  openai: 'OpenAI-style towers with one input and one output each: integer ids [batch, 77] (text), float [batch, 3, H, W] (image)',
};

/** Explicit tensor names, overriding auto-detection. */
export interface ClipInputNames {
  readonly inputIds?: string;
  readonly attentionMask?: string;
  readonly pixelValues?: string;
}
/** Explicit output names, overriding auto-detection. */
export interface ClipOutputNames {
  readonly textEmbeds?: string;
  readonly imageEmbeds?: string;
}

/** How to feed one tower (internal, resolved once at load). */
export interface TextBinding {
  readonly session: ModelSession;
  readonly inputIds: TensorInfo;
  readonly attentionMask?: TensorInfo;
  readonly output: string;
  /** Joint model only: the pixel input to fill with a dummy image. */
  readonly dummyPixels?: TensorInfo;
  /** Fixed sequence length declared by the model, if any. */
  readonly sequenceLength?: number;
}
export interface VisionBinding {
  readonly session: ModelSession;
  readonly pixelValues: TensorInfo;
  readonly output: string;
  /** Joint model only: the text inputs to fill with a dummy text. */
  readonly dummyIds?: TensorInfo;
  readonly dummyMask?: TensorInfo;
}

const INTEGER = new Set(['int32', 'int64']);
const FLOAT = new Set(['float32', 'float16', 'float64']);

export function describeSession(session: ModelSession): string {
  const io = (t: TensorInfo) => `${t.name} ${t.dtype}[${t.shape.map((d) => d ?? '?').join(', ')}]`;
  return `inputs (${session.inputs.map(io).join('; ') || 'none'}), outputs (${session.outputs.map(io).join('; ') || 'none'})`;
}

function unknownLayout(what: string, session: ModelSession, detail: string): EncoderError {
  const known = Object.entries(KNOWN_CLIP_LAYOUTS)
    .map(([k, v]) => `'${k}': ${v}`)
    .join('; ');
  return new EncoderError(
    'unknown-layout',
    `${what}: ${detail}. Found ${describeSession(session)}. Known layouts: ${known}. Pass layout / inputNames / outputNames to override.`,
  );
}

function input(session: ModelSession, name: string | undefined): TensorInfo | undefined {
  return name === undefined ? undefined : session.inputs.find((t) => t.name === name);
}
function requireInput(session: ModelSession, name: string, what: string): TensorInfo {
  const t = input(session, name);
  if (!t) throw unknownLayout(what, session, `no input named '${name}'`);
  return t;
}
function requireOutput(session: ModelSession, name: string, what: string): string {
  if (!session.outputs.some((t) => t.name === name)) throw unknownLayout(what, session, `no output named '${name}'`);
  return name;
}

/** Picks an embedding output: the explicit name, then the preferred names, then a sole output. */
function pickOutput(session: ModelSession, explicit: string | undefined, preferred: readonly string[], what: string): string {
  if (explicit !== undefined) return requireOutput(session, explicit, what);
  for (const name of preferred) if (session.outputs.some((t) => t.name === name)) return name;
  if (session.outputs.length === 1) return session.outputs[0]!.name;
  throw unknownLayout(what, session, `cannot tell which output is the embedding (looked for ${preferred.map((p) => `'${p}'`).join(', ')})`);
}

function fixedDim(info: TensorInfo, axis: number): number | undefined {
  const d = info.shape[axis];
  return typeof d === 'number' && d > 0 ? d : undefined;
}

/** Detects the layout of a single (joint or OpenAI) model or of a pair of towers. */
export function detectLayout(sessions: { text?: ModelSession; vision?: ModelSession; joint?: ModelSession }): ClipLayout {
  const names = (s: ModelSession) => new Set(s.inputs.map((t) => t.name));
  if (sessions.joint) {
    const n = names(sessions.joint);
    if (n.has('input_ids') && n.has('pixel_values')) return 'hf-joint';
    throw unknownLayout('model', sessions.joint, "a single model must take both 'input_ids' and 'pixel_values'");
  }
  const { text, vision } = sessions;
  if (text && names(text).has('input_ids')) return 'hf';
  if (vision && names(vision).has('pixel_values')) return 'hf';
  if (text && text.inputs.length === 1 && INTEGER.has(text.inputs[0]!.dtype)) return 'openai';
  if (vision && vision.inputs.length === 1 && FLOAT.has(vision.inputs[0]!.dtype)) return 'openai';
  const s = text ?? vision;
  if (!s) throw new EncoderError('invalid-input', 'ClipModel.load needs a textModel, a visionModel or a model');
  throw unknownLayout(text ? 'text model' : 'vision model', s, 'inputs match no known CLIP layout');
}

/** Resolves the text tower's tensors for `layout`. */
export function bindText(session: ModelSession, layout: ClipLayout, names: ClipInputNames, outputs: ClipOutputNames): TextBinding {
  const what = layout === 'hf-joint' ? 'model' : 'text model';
  let inputIds: TensorInfo;
  let attentionMask: TensorInfo | undefined;
  let dummyPixels: TensorInfo | undefined;
  if (layout === 'openai') {
    if (names.inputIds !== undefined) inputIds = requireInput(session, names.inputIds, what);
    else if (session.inputs.length === 1) inputIds = session.inputs[0]!;
    else throw unknownLayout(what, session, `an OpenAI-style text model has exactly one input, found ${session.inputs.length}`);
  } else {
    inputIds = requireInput(session, names.inputIds ?? 'input_ids', what);
    attentionMask = input(session, names.attentionMask ?? 'attention_mask');
    if (names.attentionMask !== undefined && !attentionMask) throw unknownLayout(what, session, `no input named '${names.attentionMask}'`);
    if (layout === 'hf-joint') dummyPixels = requireInput(session, names.pixelValues ?? 'pixel_values', what);
  }
  if (!INTEGER.has(inputIds.dtype))
    throw unknownLayout(what, session, `token-id input '${inputIds.name}' is ${inputIds.dtype}, expected int32 or int64`);
  if (attentionMask && !INTEGER.has(attentionMask.dtype)) {
    throw unknownLayout(what, session, `attention mask '${attentionMask.name}' is ${attentionMask.dtype}, expected int32 or int64`);
  }
  const known = new Set([inputIds.name, attentionMask?.name, dummyPixels?.name]);
  const extra = session.inputs.filter((t) => !known.has(t.name));
  if (extra.length > 0) throw unknownLayout(what, session, `unexpected input(s) ${extra.map((t) => `'${t.name}'`).join(', ')}`);
  const output = pickOutput(session, outputs.textEmbeds, ['text_embeds', 'text_features', 'embeddings'], what);
  const sequenceLength = fixedDim(inputIds, 1);
  return {
    session,
    inputIds,
    output,
    ...(attentionMask ? { attentionMask } : {}),
    ...(dummyPixels ? { dummyPixels } : {}),
    ...(sequenceLength !== undefined ? { sequenceLength } : {}),
  };
}

/** Resolves the vision tower's tensors for `layout`. */
export function bindVision(session: ModelSession, layout: ClipLayout, names: ClipInputNames, outputs: ClipOutputNames): VisionBinding {
  const what = layout === 'hf-joint' ? 'model' : 'vision model';
  let pixelValues: TensorInfo;
  let dummyIds: TensorInfo | undefined;
  let dummyMask: TensorInfo | undefined;
  if (layout === 'openai') {
    if (names.pixelValues !== undefined) pixelValues = requireInput(session, names.pixelValues, what);
    else if (session.inputs.length === 1) pixelValues = session.inputs[0]!;
    else throw unknownLayout(what, session, `an OpenAI-style vision model has exactly one input, found ${session.inputs.length}`);
  } else {
    pixelValues = requireInput(session, names.pixelValues ?? 'pixel_values', what);
    if (layout === 'hf-joint') {
      dummyIds = requireInput(session, names.inputIds ?? 'input_ids', what);
      dummyMask = input(session, names.attentionMask ?? 'attention_mask');
    }
  }
  if (pixelValues.dtype !== 'float32')
    throw unknownLayout(what, session, `pixel input '${pixelValues.name}' is ${pixelValues.dtype}, expected float32`);
  if (pixelValues.shape.length !== 4)
    throw unknownLayout(what, session, `pixel input '${pixelValues.name}' has rank ${pixelValues.shape.length}, expected [batch, 3, H, W]`);
  const known = new Set([pixelValues.name, dummyIds?.name, dummyMask?.name]);
  const extra = session.inputs.filter((t) => !known.has(t.name));
  if (extra.length > 0) throw unknownLayout(what, session, `unexpected input(s) ${extra.map((t) => `'${t.name}'`).join(', ')}`);
  const output = pickOutput(session, outputs.imageEmbeds, ['image_embeds', 'image_features', 'embeddings'], what);
  return { session, pixelValues, output, ...(dummyIds ? { dummyIds } : {}), ...(dummyMask ? { dummyMask } : {}) };
}

/** Image side declared by a vision binding's pixel input (`[batch, 3, H, W]`), if fixed and square. */
export function declaredImageSize(binding: VisionBinding): number | undefined {
  const h = fixedDim(binding.pixelValues, 2);
  const w = fixedDim(binding.pixelValues, 3);
  return h !== undefined && h === w ? h : undefined;
}
