/**
 * One conformance suite for every image decoder of @gla/encoders (sharp in Node, the platform
 * decoder in browsers): the same cases, the same bars, in Node and in Chromium. Plain
 * TypeScript without Node APIs, so a browser page runs it as is; the goldens (bytes and
 * Pillow's outputs) are carried in.
 */
import { type ImageDecoder, rawImageProblem, toRgb } from '@gla/core';
import { EncoderError, preprocessClipImage } from '../src/index';

/** Largest per-channel difference from libjpeg (Pillow) allowed on a JPEG decode, in grey levels. */
export const JPEG_GREY_LEVEL_TOLERANCE = 2;
/** Largest difference of the CLIP tensor of a PNG from Pillow's (PNG is lossless: decodes are exact). */
const PNG_CLIP_TOLERANCE = 1e-5;

export interface DecoderGoldens {
  /** JPEGs with libjpeg's (Pillow 9.4) decoded RGB, HWC uint8. */
  readonly jpegs: readonly { name: string; bytes: Uint8Array; width: number; height: number; rgb: Uint8Array }[];
  /** PNGs with Pillow's CLIP preprocessing output, float32 [3, 224, 224]. */
  readonly pngs: readonly { name: string; bytes: Uint8Array; width: number; height: number; clip: Float32Array }[];
}

export interface DecoderCaseResult {
  readonly name: string;
  readonly ok: boolean;
  /** What was measured (e.g. the largest difference), or why the case failed. */
  readonly detail: string;
}

function maxAbsDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Number.POSITIVE_INFINITY;
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return max;
}

async function rejection(run: () => unknown): Promise<unknown> {
  try {
    await run();
  } catch (error) {
    return error;
  }
  return undefined;
}

function invalidImage(error: unknown, name: string): string | undefined {
  if (!(error instanceof EncoderError)) return `expected an EncoderError, got ${error === undefined ? 'no error' : String(error)}`;
  if (error.code !== 'invalid-image') return `expected code 'invalid-image', got '${error.code}'`;
  if (!error.message.includes(name)) return `the message does not name '${name}': ${error.message}`;
  return undefined;
}

type Case = (decode: ImageDecoder, goldens: DecoderGoldens) => Promise<string>;

/** The cases: each resolves to a detail string, or throws an Error saying what is wrong. */
const cases: Record<string, Case> = {
  [`JPEG decodes within ±${JPEG_GREY_LEVEL_TOLERANCE} grey levels of libjpeg (Pillow)`]: async (decode, goldens) => {
    if (goldens.jpegs.length === 0) throw new Error('no JPEG goldens');
    const diffs: string[] = [];
    for (const g of goldens.jpegs) {
      const image = await decode(g.bytes, g.name);
      const problem = rawImageProblem(image);
      if (problem !== undefined) throw new Error(`${g.name}: malformed image: ${problem}`);
      if (image.width !== g.width || image.height !== g.height)
        throw new Error(`${g.name}: ${image.width}x${image.height}, expected ${g.width}x${g.height}`);
      const diff = maxAbsDifference(toRgb(image), g.rgb);
      if (!(diff <= JPEG_GREY_LEVEL_TOLERANCE)) throw new Error(`${g.name}: max difference ${diff} grey levels`);
      diffs.push(`${g.name} ${diff}`);
    }
    return `max difference per image: ${diffs.join(', ')}`;
  },
  [`PNG decodes exactly: CLIP tensors within ${PNG_CLIP_TOLERANCE} of Pillow`]: async (decode, goldens) => {
    if (goldens.pngs.length === 0) throw new Error('no PNG goldens');
    let worst = 0;
    for (const g of goldens.pngs) {
      const image = await decode(g.bytes, g.name);
      const problem = rawImageProblem(image);
      if (problem !== undefined) throw new Error(`${g.name}: malformed image: ${problem}`);
      if (image.width !== g.width || image.height !== g.height)
        throw new Error(`${g.name}: ${image.width}x${image.height}, expected ${g.width}x${g.height}`);
      const diff = maxAbsDifference(preprocessClipImage(image), g.clip);
      if (!(diff <= PNG_CLIP_TOLERANCE)) throw new Error(`${g.name}: CLIP tensor max difference ${diff}`);
      worst = Math.max(worst, diff);
    }
    return `worst CLIP tensor difference ${worst.toExponential(2)}`;
  },
  'reads bytes from a view at an offset into a larger buffer': async (decode, goldens) => {
    const g = goldens.jpegs[0]!;
    const padded = new Uint8Array(g.bytes.length + 13).fill(0xee);
    padded.set(g.bytes, 7);
    const direct = toRgb(await decode(g.bytes, g.name));
    const viewed = toRgb(await decode(padded.subarray(7, 7 + g.bytes.length), g.name));
    const diff = maxAbsDifference(direct, viewed);
    if (diff !== 0) throw new Error(`the view decodes differently (max difference ${diff})`);
    return 'identical pixels';
  },
  "rejects bytes that are not an image with 'invalid-image' naming them": async (decode) => {
    const name = 'notes.txt';
    const problem = invalidImage(await rejection(() => decode(new TextEncoder().encode('hello world'), name)), name);
    if (problem !== undefined) throw new Error(problem);
    const empty = invalidImage(await rejection(() => decode(new Uint8Array(0), 'empty.jpg')), 'empty.jpg');
    if (empty !== undefined) throw new Error(`empty input: ${empty}`);
    return 'typed errors';
  },
  "rejects truncated JPEG and PNG files with 'invalid-image'": async (decode, goldens) => {
    const jpeg = goldens.jpegs[0]!;
    const png = goldens.pngs[0]!;
    for (const [name, bytes] of [
      [jpeg.name, jpeg.bytes.subarray(0, jpeg.bytes.length >> 1)],
      [png.name, png.bytes.subarray(0, png.bytes.length - 20)],
    ] as const) {
      const problem = invalidImage(await rejection(() => decode(bytes, name)), name);
      if (problem !== undefined) throw new Error(`truncated ${name}: ${problem}`);
    }
    return 'typed errors';
  },
};

/** Names of the cases, in order. */
export const decoderCaseNames: readonly string[] = Object.keys(cases);

/** Runs every case against `decode`; never throws (a failure is a result with `ok: false`). */
export async function runDecoderConformance(decode: ImageDecoder, goldens: DecoderGoldens): Promise<DecoderCaseResult[]> {
  const results: DecoderCaseResult[] = [];
  for (const [name, run] of Object.entries(cases)) {
    try {
      results.push({ name, ok: true, detail: await run(decode, goldens) });
    } catch (error) {
      results.push({ name, ok: false, detail: error instanceof Error ? error.message : String(error) });
    }
  }
  return results;
}

/** Minimal .npy parser for the goldens (little-endian float32 or uint8, C order), without Node APIs. */
export function parseGoldenNpy(bytes: Uint8Array): { shape: number[]; data: Float32Array | Uint8Array } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(0) !== 0x934e554d) throw new Error('not a .npy file');
  const major = bytes[6]!;
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const start = major === 1 ? 10 : 12;
  const header = new TextDecoder('latin1').decode(bytes.subarray(start, start + headerLength));
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const shape = (/'shape':\s*\(([^)]*)\)/.exec(header)?.[1] ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map(Number);
  const body = bytes.slice(start + headerLength);
  if (descr === '<f4') return { shape, data: new Float32Array(body.buffer, 0, body.length / 4) };
  if (descr === '|u1') return { shape, data: body };
  throw new Error(`dtype ${descr} not supported`);
}
