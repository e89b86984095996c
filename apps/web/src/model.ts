/**
 * Universal Sentence Encoder lite in the page: the ONNX file converted at build time (see
 * assets-plugin.ts), fetched once and kept in the Cache Storage of the origin (keyed by its
 * sha256 in the file name, so a new model never hits a stale entry), run by @gla/onnx-web
 * (WebGPU when the browser has an adapter, wasm otherwise; wasm threads when cross-origin isolated).
 */
import { UniversalSentenceEncoder } from '@gla/encoders';
import { createWebRuntime } from '@gla/onnx-web';
import { AppError } from './errors';

export interface ModelManifest {
  model: string;
  sha256: string;
  bytes: number;
  vocabulary: string;
  output?: string;
  source: string;
}

export interface LoadedModel {
  encoder: UniversalSentenceEncoder;
  manifest: ModelManifest;
  executionProvider: string;
  threads: number;
  fromCache: boolean;
  loadMs: number;
}

const CACHE_NAME = 'gla-web-models-v1';

async function fetchOk(url: URL): Promise<Response> {
  const response = await fetch(url);
  if (!response.ok)
    throw new AppError('model-unavailable', `Could not load ${url.pathname}: HTTP ${response.status}. Rebuild the app with pnpm web.`);
  return response;
}

/** The model's bytes: from the origin's Cache Storage when present (checked by size), else fetched and cached. */
async function modelBytes(url: URL, bytes: number): Promise<{ data: Uint8Array; fromCache: boolean }> {
  const cache = typeof caches !== 'undefined' ? await caches.open(CACHE_NAME).catch(() => undefined) : undefined;
  const hit = await cache?.match(url);
  if (hit) {
    const data = new Uint8Array(await hit.arrayBuffer());
    if (data.byteLength === bytes) return { data, fromCache: true };
    await cache?.delete(url);
  }
  const response = await fetchOk(url);
  const data = new Uint8Array(await response.arrayBuffer());
  if (data.byteLength !== bytes)
    throw new AppError('model-unavailable', `${url.pathname} has ${data.byteLength} bytes, the manifest says ${bytes}: rebuild the app.`);
  if (cache) {
    // keep only the current model in the cache
    for (const key of await cache.keys()) if (key.url !== url.href) await cache.delete(key);
    await cache.put(url, new Response(data.slice(), { headers: { 'Content-Type': 'application/octet-stream' } })).catch(() => undefined);
  }
  return { data, fromCache: false };
}

/** Loads the model; `baseUrl` is the app's folder (the page's URL: this may run in a worker, whose own URL is under assets/). */
export async function loadModel(options: { baseUrl: string; executionProviders?: ('webgpu' | 'wasm')[] }): Promise<LoadedModel> {
  const t0 = performance.now();
  const base = new URL('./', options.baseUrl);
  const manifest = (await (await fetchOk(new URL('models/manifest.json', base))).json()) as ModelManifest;
  const [{ data, fromCache }, vocabulary] = await Promise.all([
    modelBytes(new URL(manifest.model, base), manifest.bytes),
    fetchOk(new URL(manifest.vocabulary, base)).then((r) => r.text()),
  ]);
  // wasm threads: one per core when the page is cross-origin isolated (@gla/onnx-web's default, half the cores, is 1 on a 2-core machine)
  const isolated = globalThis.crossOriginIsolated === true;
  const threads = isolated ? Math.max(1, Math.min(4, navigator.hardwareConcurrency || 2)) : 1;
  const runtime = createWebRuntime({
    wasmPaths: new URL('ort/', base).href,
    threads,
    ...(options.executionProviders ? { executionProviders: options.executionProviders } : {}),
  });
  const encoder = await UniversalSentenceEncoder.load(runtime, { model: data, vocabulary });
  return {
    encoder,
    manifest,
    executionProvider: encoder.session.executionProvider,
    threads,
    fromCache,
    loadMs: performance.now() - t0,
  };
}
