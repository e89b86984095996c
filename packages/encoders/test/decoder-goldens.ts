import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sharedPath } from './clip-helpers';
import type { DecoderGoldens } from './decoder-conformance';
import { parseGoldenNpy } from './decoder-conformance';

interface GoldenCase {
  input: string;
  golden?: string;
  decoded_rgb?: string;
  size?: [number, number];
  shape?: number[];
}

/** Files of the decoder goldens in ../shared/data/preprocess-golden (paths relative to it). */
export function decoderGoldenFiles(): { jpegs: GoldenCase[]; pngs: GoldenCase[]; dir: string } {
  const dir = sharedPath('data/preprocess-golden');
  const cases = (JSON.parse(readFileSync(join(dir, 'golden.json'), 'utf8')) as { cases: GoldenCase[] }).cases;
  return { dir, jpegs: cases.filter((c) => c.decoded_rgb), pngs: cases.filter((c) => c.golden) };
}

/** The golden JPEGs (CIFAR-10 sample, libjpeg decodes) and PNGs (Pillow CLIP tensors), read from disk. */
export function loadDecoderGoldens(): DecoderGoldens {
  const { dir, jpegs, pngs } = decoderGoldenFiles();
  const read = (file: string) => new Uint8Array(readFileSync(join(dir, file)));
  return {
    jpegs: jpegs.map((c) => {
      const rgb = parseGoldenNpy(read(c.decoded_rgb!));
      return { name: c.input, bytes: read(c.input), width: rgb.shape[1]!, height: rgb.shape[0]!, rgb: rgb.data as Uint8Array };
    }),
    pngs: pngs.map((c) => ({
      name: c.input,
      bytes: read(c.input),
      width: c.size![0],
      height: c.size![1],
      clip: parseGoldenNpy(read(c.golden!)).data as Float32Array,
    })),
  };
}
