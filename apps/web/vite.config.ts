import { defaultClientConditions, defineConfig } from 'vite';
import { glaAssets } from './assets-plugin';

/**
 * COOP/COEP make the page cross-origin isolated, so onnxruntime-web can use wasm threads
 * (SharedArrayBuffer). GLA_WEB_ISOLATION=off serves without them (single-threaded wasm).
 */
const isolation = process.env['GLA_WEB_ISOLATION'] !== 'off';
const headers: Record<string, string> = isolation
  ? {
      'Cross-Origin-Opener-Policy': 'same-origin',
      'Cross-Origin-Embedder-Policy': 'require-corp',
      'Cross-Origin-Resource-Policy': 'same-origin',
    }
  : {};

export default defineConfig({
  base: './',
  plugins: [glaAssets()],
  // onnxruntime-web-use-extern-wasm: ORT's build that loads its wasm + loader from `wasmPaths`
  // (served under ort/) instead of embedding the loader in our bundle
  resolve: { conditions: ['source', 'onnxruntime-web-use-extern-wasm', ...defaultClientConditions] },
  worker: { format: 'es' },
  build: { target: 'es2022', chunkSizeWarningLimit: 2048, reportCompressedSize: false },
  server: { headers },
  preview: { headers },
  optimizeDeps: { exclude: ['onnxruntime-web'] },
});
