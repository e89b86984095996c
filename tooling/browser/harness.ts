/**
 * Runs a TypeScript/JavaScript module in real headless Chromium and returns what it computed.
 *
 * The entry module is bundled with esbuild for the browser (workspace packages resolve to their
 * sources through the `source` condition), served with the given files and onnxruntime-web's dist
 * files (under `/ort/`) from an ephemeral HTTP server on 127.0.0.1, and its default-exported async
 * function `run(args)` is called in the page. The result is returned as JSON-like data (typed
 * arrays → arrays, bigints → numbers when safe, else strings); a thrown error is rethrown here
 * with the page's message. Console messages and page errors are forwarded for debugging. No
 * network: the browser is Debian's /usr/bin/chromium, never downloaded.
 */
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { dirname, extname, join, normalize } from 'node:path';
import { build } from 'esbuild';
import { type Browser, chromium } from 'playwright-core';

/** Chromium flags for a sandbox-less, offline, headless container. */
export const CHROMIUM_ARGS: readonly string[] = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
];

/** Where Chromium is installed (override with GLA_CHROMIUM). */
export const CHROMIUM_PATH = process.env['GLA_CHROMIUM'] ?? '/usr/bin/chromium';

export interface RunInBrowserOptions {
  /** Absolute path of the module to run; it must `export default async function run(args)`. */
  readonly entry: string;
  /**
   * Extra files to serve, by URL path (e.g. `'/models/vision.onnx'`): a string is a file path on
   * disk, a Uint8Array is the content.
   */
  readonly files?: Readonly<Record<string, string | Uint8Array>>;
  /** Serve with COOP/COEP headers so the page is cross-origin isolated (SharedArrayBuffer, wasm threads). Default false. */
  readonly crossOriginIsolated?: boolean;
  /** Limit for bundling + running, in milliseconds. Default 60 000. */
  readonly timeoutMs?: number;
  /** JSON-serialisable value passed to `run(args)`. */
  readonly args?: unknown;
  /** Receives console messages and page errors; default: printed to stderr with a `[browser]` prefix. */
  readonly onLog?: (type: string, text: string) => void;
  /** Directory whose files are served under `/ort/`; default: onnxruntime-web's `dist`. */
  readonly ortDistDir?: string;
  /** Receives the URL of every request the page makes (and of every WebSocket it opens), e.g. to check that nothing leaves the test server. */
  readonly onRequest?: (url: string) => void;
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.map': 'application/json',
};

/** onnxruntime-web's `dist` directory, resolved from this package's dependencies. */
export function ortWebDistDir(): string {
  const require = createRequire(import.meta.url);
  return dirname(require.resolve('onnxruntime-web'));
}

/** Bundles `entry` for the browser: ESM, workspace sources, inline source maps. */
export async function bundleForBrowser(entry: string): Promise<string> {
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    platform: 'browser',
    format: 'esm',
    target: 'es2022',
    conditions: ['source', 'browser', 'import'],
    write: false,
    sourcemap: 'inline',
    logLevel: 'silent',
    define: { 'process.env.NODE_ENV': '"test"' },
  });
  const file = result.outputFiles[0];
  if (file === undefined) throw new Error(`esbuild produced no output for ${entry}`);
  return file.text;
}

interface Served {
  readonly origin: string;
  close(): Promise<void>;
}

async function serve(routes: Map<string, string | Uint8Array>, ortDir: string, isolated: boolean): Promise<Served> {
  const server: Server = createServer((req, res) => {
    void (async () => {
      const path = decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname);
      const headers: Record<string, string> = { 'Cache-Control': 'no-store' };
      if (isolated) {
        headers['Cross-Origin-Opener-Policy'] = 'same-origin';
        headers['Cross-Origin-Embedder-Policy'] = 'require-corp';
        headers['Cross-Origin-Resource-Policy'] = 'same-origin';
      }
      try {
        let body: Uint8Array | undefined;
        const route = routes.get(path);
        if (route !== undefined) body = typeof route === 'string' ? await readFile(route) : route;
        else if (path.startsWith('/ort/')) {
          const rel = normalize(path.slice('/ort/'.length));
          if (!rel.startsWith('..')) body = await readFile(join(ortDir, rel)).catch(() => undefined);
        }
        if (body === undefined) {
          res.writeHead(404, { ...headers, 'Content-Type': 'text/plain' });
          res.end(`not found: ${path}`);
          return;
        }
        headers['Content-Type'] = path === '/' ? CONTENT_TYPES['.html']! : (CONTENT_TYPES[extname(path)] ?? 'application/octet-stream');
        res.writeHead(200, headers);
        res.end(body);
      } catch (e) {
        res.writeHead(500, { 'Content-Type': 'text/plain' });
        res.end(String(e));
      }
    })();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const PAGE = '<!doctype html><html><head><meta charset="utf-8"><title>gla</title></head><body></body></html>';

function defaultLog(type: string, text: string): void {
  process.stderr.write(`[browser ${type}] ${text}\n`);
}

/** Code evaluated in the page: imports the bundle, runs it, makes the result JSON-safe. */
const PAGE_RUNNER = `async (args) => {
  const toPlain = (value, seen = new Set()) => {
    if (typeof value === 'bigint') return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
    if (value === null || typeof value !== 'object') return typeof value === 'number' && !Number.isFinite(value) ? String(value) : value;
    if (ArrayBuffer.isView(value)) return Array.from(value, (v) => toPlain(v));
    if (value instanceof ArrayBuffer) return Array.from(new Uint8Array(value));
    if (seen.has(value)) return '[circular]';
    seen.add(value);
    if (Array.isArray(value)) return value.map((v) => toPlain(v, seen));
    if (value instanceof Map) return Object.fromEntries([...value].map(([k, v]) => [String(k), toPlain(v, seen)]));
    if (value instanceof Error) return { name: value.name, message: value.message };
    const out = {};
    for (const [k, v] of Object.entries(value)) out[k] = toPlain(v, seen);
    return out;
  };
  try {
    const module = await import('/entry.js');
    if (typeof module.default !== 'function') throw new Error('the entry module must export default async function run()');
    return { ok: true, value: toPlain(await module.default(args)) };
  } catch (error) {
    return { ok: false, name: error?.name ?? 'Error', message: String(error?.message ?? error), stack: String(error?.stack ?? '') };
  }
}`;

/** A launched Chromium that can run several entries (launch once per test file: launching costs ~1 s). */
export interface BrowserSession {
  run(options: RunInBrowserOptions): Promise<unknown>;
  close(): Promise<void>;
}

/** Launches Debian's Chromium through playwright-core (never downloads a browser). */
export async function openBrowser(): Promise<BrowserSession> {
  const browser: Browser = await chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [...CHROMIUM_ARGS],
  });
  return {
    run: (options) => runWithBrowser(browser, options),
    close: () => browser.close(),
  };
}

async function runWithBrowser(browser: Browser, options: RunInBrowserOptions): Promise<unknown> {
  const timeoutMs = options.timeoutMs ?? 60_000;
  const log = options.onLog ?? defaultLog;
  const started = Date.now();
  const code = await bundleForBrowser(options.entry);
  const routes = new Map<string, string | Uint8Array>();
  routes.set('/', new TextEncoder().encode(PAGE));
  routes.set('/index.html', new TextEncoder().encode(PAGE));
  routes.set('/entry.js', new TextEncoder().encode(code));
  routes.set('/favicon.ico', new Uint8Array(0));
  for (const [path, content] of Object.entries(options.files ?? {})) {
    routes.set(path.startsWith('/') ? path : `/${path}`, content);
  }
  const server = await serve(routes, options.ortDistDir ?? ortWebDistDir(), options.crossOriginIsolated ?? false);
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    page.on('console', (m) => log(m.type(), m.text()));
    page.on('pageerror', (e) => log('pageerror', e.stack ?? e.message));
    if (options.onRequest !== undefined) {
      const onRequest = options.onRequest;
      page.on('request', (r) => onRequest(r.url()));
      page.on('websocket', (w) => onRequest(w.url()));
    }
    page.on('requestfailed', (r) => log('requestfailed', `${r.url()} ${r.failure()?.errorText ?? ''}`));
    const remaining = () => Math.max(1, timeoutMs - (Date.now() - started));
    await page.goto(`${server.origin}/`, { timeout: remaining() });
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`runInBrowser: ${options.entry} did not finish within ${timeoutMs} ms`)), remaining());
    });
    try {
      const evaluation = page.evaluate(`(${PAGE_RUNNER})(${JSON.stringify(options.args ?? null)})`) as Promise<
        { ok: true; value: unknown } | { ok: false; name: string; message: string; stack: string }
      >;
      const outcome = await Promise.race([evaluation, timeout]);
      if (!outcome.ok) {
        const error = new Error(`${outcome.name}: ${outcome.message}`);
        error.stack = `${error.message}\n    [in browser]\n${outcome.stack}`;
        throw error;
      }
      return outcome.value;
    } finally {
      clearTimeout(timer);
    }
  } finally {
    await context.close().catch(() => undefined);
    await server.close();
  }
}

/**
 * Bundles `entry`, serves it with `files` and onnxruntime-web under `/ort/`, runs its default
 * export in headless Chromium and returns the result (see the module comment). Browser and server
 * are always closed.
 *
 * @example
 * const result = await runInBrowser({ entry: '/abs/path/to/page-entry.ts', files: { '/model.onnx': bytes } });
 */
export async function runInBrowser(options: RunInBrowserOptions): Promise<unknown> {
  const session = await openBrowser();
  try {
    return await session.run(options);
  } finally {
    await session.close();
  }
}
