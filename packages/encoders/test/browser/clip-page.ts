/**
 * Browser page for clip-browser.test.ts: bundles @gla/onnx-web + @gla/encoders + @gla/core and
 * runs zero-shot CLIP (fixture towers) on images served as files, decoded by the platform.
 */
import { createWebRuntime } from '@gla/onnx-web';
import { RuntimeError } from '@gla/runtime';
import { ClipModel, ClipTokenizer, decodeImageInBrowser, EncoderError, preprocessClipImage, type RawImage } from '../../src/index';

export interface PageArgs {
  readonly images: string[];
  readonly pngs: string[];
  readonly labels: string[];
  readonly logPrior: number[];
  readonly templates: string[];
}

async function fetchBytes(url: string): Promise<Uint8Array> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`GET ${url}: ${response.status}`);
  return new Uint8Array(await response.arrayBuffer());
}

async function errorOf(promise: Promise<unknown>): Promise<{ name: string; code: string; message: string } | null> {
  try {
    await promise;
    return null;
  } catch (e) {
    const error = e as EncoderError | RuntimeError;
    return {
      name: error.name,
      code: error instanceof EncoderError || error instanceof RuntimeError ? error.code : 'untyped',
      message: error.message,
    };
  }
}

export default async function run(args: PageArgs) {
  const runtime = createWebRuntime({ wasmPaths: '/ort/', threads: 1 });
  const tokenizer = await ClipTokenizer.fromOpenAiBpe(await fetchBytes('/clip/bpe_simple_vocab_16e6.txt.gz'));
  const model = await ClipModel.load(
    runtime,
    { textModel: await fetchBytes('/models/text_model.onnx'), visionModel: new URL('/models/vision_model.onnx', location.href).href },
    { tokenizer },
  );

  const images: RawImage[] = [];
  for (const url of args.images) images.push(await decodeImageInBrowser(await fetchBytes(url), url));
  const progress: number[] = [];
  const first = await model.classify(images, args.labels, {
    templates: args.templates,
    logPrior: args.logPrior,
    batchSize: 4,
    onProgress: (p) => progress.push(p.done),
  });
  const textRunsAfterFirst = model.counts.textRuns;
  const second = await model.classify(images.slice(0, 2), args.labels, { templates: args.templates });
  const textRunsAfterSecond = model.counts.textRuns;

  // PNG goldens through the platform decoder + preprocessing.
  const pngPixels: Float32Array[] = [];
  for (const url of args.pngs) pngPixels.push(preprocessClipImage(await decodeImageInBrowser(await fetchBytes(url), url)));

  // Errors and abort.
  const jpeg = await fetchBytes(args.images[0]!);
  const controller = new AbortController();
  const runsBeforeAbort = model.counts.imageRuns;
  const aborted = await errorOf(
    model.encodeImages(images, { batchSize: 2, signal: controller.signal, onProgress: () => controller.abort() }),
  );
  const errors = {
    notImage: await errorOf(decodeImageInBrowser(new TextEncoder().encode('definitely not an image'))),
    truncatedJpeg: await errorOf(decodeImageInBrowser(jpeg.subarray(0, jpeg.length >> 1))),
    emptyLabels: await errorOf(model.classify(images, [])),
    badTemplate: await errorOf(model.classify(images, args.labels, { templates: ['a photo'] })),
    notOnnx: await errorOf(ClipModel.load(runtime, { visionModel: new TextEncoder().encode('not onnx') })),
    aborted,
    imageRunsDuringAbort: model.counts.imageRuns - runsBeforeAbort,
  };
  await model.release();
  return {
    decoded: images.map((im) => ({ width: im.width, height: im.height, channels: im.channels, data: Array.from(im.data) })),
    logits: Array.from(first.logits.data),
    debiasedLogits: Array.from(first.debiasedLogits!.data),
    predictions: first.predictions.map((row) => row.slice(0, 3)),
    secondLogits: Array.from(second.logits.data),
    progress,
    textRunsAfterFirst,
    textRunsAfterSecond,
    pngPixels: pngPixels.map((p) => Array.from(p)),
    errors,
  };
}
