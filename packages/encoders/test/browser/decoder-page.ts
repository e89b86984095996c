/**
 * Browser page for decoder-browser.test.ts: runs the decoder conformance suite against
 * decodeImageInBrowser (createImageBitmap + OffscreenCanvas) on the goldens served as files.
 */
import { decodeImageInBrowser } from '../../src/index';
import { type DecoderGoldens, parseGoldenNpy, runDecoderConformance } from '../decoder-conformance';

interface ServedGolden {
  readonly name: string;
  readonly url: string;
  readonly npy: string;
  readonly width?: number;
  readonly height?: number;
}

async function fetchBytes(url: string): Promise<Uint8Array> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`GET ${url}: ${response.status}`);
  return new Uint8Array(await response.arrayBuffer());
}

export default async function run(args: { jpegs: ServedGolden[]; pngs: ServedGolden[] }) {
  const goldens: DecoderGoldens = {
    jpegs: await Promise.all(
      args.jpegs.map(async (g) => {
        const rgb = parseGoldenNpy(await fetchBytes(g.npy));
        return { name: g.name, bytes: await fetchBytes(g.url), width: rgb.shape[1]!, height: rgb.shape[0]!, rgb: rgb.data as Uint8Array };
      }),
    ),
    pngs: await Promise.all(
      args.pngs.map(async (g) => ({
        name: g.name,
        bytes: await fetchBytes(g.url),
        width: g.width!,
        height: g.height!,
        clip: parseGoldenNpy(await fetchBytes(g.npy)).data as Float32Array,
      })),
    ),
  };
  return runDecoderConformance(decodeImageInBrowser, goldens);
}
