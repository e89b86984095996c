/**
 * `@gla/encoders/node`: the Node-only pieces (file reading, image decoding with sharp). Browsers
 * import `@gla/encoders` and decode with {@link decodeImageInBrowser} instead.
 */
import { readFile } from 'node:fs/promises';
import { ClipTokenizer } from './clip/tokenizer';
import { EncoderError } from './errors';
import { checkImageComplete, describeBytes, type RawImage } from './image';

type SharpModule = typeof import('sharp').default;
let sharpModule: Promise<SharpModule> | undefined;

async function loadSharp(): Promise<SharpModule> {
  sharpModule ??= import('sharp').then(
    (m) => (m as unknown as { default?: SharpModule }).default ?? (m as unknown as SharpModule),
    (error: unknown) => {
      sharpModule = undefined;
      throw new EncoderError(
        'decoder-unavailable',
        `decoding images in Node needs the optional peer dependency "sharp" (npm i sharp): ${(error as Error).message}`,
        {
          cause: error,
        },
      );
    },
  );
  return sharpModule;
}

/**
 * Decodes JPEG/PNG (and WebP/GIF/TIFF/AVIF, whatever libvips reads) bytes to 8-bit pixels with
 * sharp (libvips + libjpeg-turbo: the same decodes as Pillow's libjpeg for baseline JPEGs). No
 * EXIF rotation, no colour-profile conversion, alpha kept as a channel (dropped later, as
 * Pillow's `convert('RGB')`).
 * @throws EncoderError `invalid-image` for bytes that are not an image or are truncated (the
 *   message names the detected format and byte count), `decoder-unavailable` without sharp.
 */
export async function decodeImage(bytes: Uint8Array | ArrayBuffer, name = 'image'): Promise<RawImage> {
  const data = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  const format = checkImageComplete(data, name);
  const sharp = await loadSharp();
  try {
    const { data: pixels, info } = await sharp(data, { failOn: 'truncated' }).raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
    return {
      data: new Uint8Array(pixels.buffer, pixels.byteOffset, pixels.length),
      width: info.width,
      height: info.height,
      channels: info.channels as 1 | 2 | 3 | 4,
    };
  } catch (error) {
    throw new EncoderError(
      'invalid-image',
      `${name}: ${format.toUpperCase()} (${describeBytes(data)}) could not be decoded: ${(error as Error).message}`,
      {
        cause: error,
      },
    );
  }
}

/** Reads and decodes an image file; errors name the path. */
export async function readImageFile(path: string): Promise<RawImage> {
  return decodeImage(await readBytes(path, 'image'), path);
}

/** Loads a CLIP tokenizer from OpenAI's `bpe_simple_vocab_16e6.txt(.gz)` file. */
export async function readClipTokenizerFile(path: string): Promise<ClipTokenizer> {
  return ClipTokenizer.fromOpenAiBpe(await readBytes(path, 'BPE vocabulary'));
}

/** Loads a CLIP tokenizer from a Hugging Face `tokenizer.json`, or `vocab.json` + `merges.txt`. */
export async function readHuggingFaceTokenizer(
  files: { tokenizerJson: string } | { vocab: string; merges: string },
): Promise<ClipTokenizer> {
  if ('tokenizerJson' in files)
    return ClipTokenizer.fromTokenizerJson(new TextDecoder().decode(await readBytes(files.tokenizerJson, 'tokenizer.json')));
  const [vocab, merges] = await Promise.all([readBytes(files.vocab, 'vocab.json'), readBytes(files.merges, 'merges.txt')]);
  return ClipTokenizer.fromHuggingFace({ vocab: new TextDecoder().decode(vocab), merges: new TextDecoder().decode(merges) });
}

async function readBytes(path: string, what: string): Promise<Uint8Array> {
  try {
    const buffer = await readFile(path);
    return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.length);
  } catch (error) {
    throw new EncoderError('invalid-input', `cannot read ${what} file ${path}: ${(error as Error).message}`, { cause: error });
  }
}
