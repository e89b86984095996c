/**
 * A worker (Web Worker in browsers, worker_threads in Node) holding a part of a probe session's
 * training rows in a wasm instance of its own: each evaluation posts the head (C x D + C numbers)
 * and gets back that part's G, gb and loss, so two cores share the fused passes while the calling
 * thread computes its own part. Messages only (no SharedArrayBuffer, no cross-origin isolation);
 * the worker code is a self-contained source string (no bundler or served file needed).
 */

/** The message the worker answers an evaluation with. */
export interface ProbePartResult {
  G: Float64Array;
  gb: Float64Array;
  loss: number;
}

/** A started worker with its rows loaded. */
export interface ProbePartWorker {
  /** Starts an evaluation of the worker's rows; resolves with its sums. */
  evaluate(W: Float64Array, bias: Float64Array, float32: boolean): Promise<ProbePartResult>;
  /** Ends the session's use of the worker (a healthy one is kept idle for the next session). */
  terminate(): void;
}

// Runs in the worker: the same block loop as the calling thread's part (backend.ts probeSession),
// over the module's probe_* exports. RESERVED and the 16-byte alignment match backend.ts's Arena.
const WORKER_SOURCE = `
const nodePort = typeof require === 'function' ? require('node:worker_threads').parentPort : null;
const post = (m, t) => (nodePort ? nodePort.postMessage(m, t) : self.postMessage(m, t));
let st = null;
const handle = (msg) => {
  try {
    if (msg.type === 'init') {
      const { module, X, w, n, D, C, B, single } = msg;
      const eb = single ? 4 : 8;
      const RESERVED = 131072;
      const bytes = RESERVED + n * D * eb + n * 8 + C * D * 12 + C * D * 8 + C * 16 + B * C * 8 + B * 16 + 256;
      const memory = new WebAssembly.Memory({ initial: Math.ceil(bytes / 65536) });
      const x = new WebAssembly.Instance(module, { env: { memory } }).exports;
      let top = RESERVED;
      const reserve = (b) => { const at = (top + 15) & ~15; top = at + b; return at; };
      const xAt = reserve(n * D * eb);
      (single ? new Float32Array(memory.buffer, xAt, n * D) : new Float64Array(memory.buffer, xAt, n * D)).set(X);
      const wAt = reserve(n * 8);
      new Float64Array(memory.buffer, wAt, n).set(w);
      st = { x, memory, n, D, C, B, single, eb, xAt, wAt, W64At: reserve(C * D * 8), W32At: reserve(C * D * 4), bAt: reserve(C * 8),
        gbAt: reserve(C * 8), GAt: reserve(C * D * 8), ZAt: reserve(B * C * 8), maxAt: reserve(B * 8), sumAt: reserve(B * 8) };
      post({ type: 'ready' });
    } else if (msg.type === 'eval') {
      const s = st;
      const buf = s.memory.buffer;
      const f32 = msg.float32 && s.single;
      if (f32) new Float32Array(buf, s.W32At, s.C * s.D).set(msg.W);
      else new Float64Array(buf, s.W64At, s.C * s.D).set(msg.W);
      new Float64Array(buf, s.bAt, s.C).set(msg.bias);
      const G = new Float64Array(buf, s.GAt, s.C * s.D);
      const gb = new Float64Array(buf, s.gbAt, s.C);
      G.fill(0);
      gb.fill(0);
      const run = f32 ? s.x.probe_ff : s.single ? s.x.probe_fd : s.x.probe_dd;
      const Wp = f32 ? s.W32At : s.W64At;
      const w = new Float64Array(buf, s.wAt, s.n);
      const mx = new Float64Array(buf, s.maxAt, s.B);
      const sm = new Float64Array(buf, s.sumAt, s.B);
      let loss = 0;
      for (let r0 = 0; r0 < s.n; r0 += s.B) {
        const m = Math.min(s.B, s.n - r0);
        run(s.xAt + r0 * s.D * s.eb, m, s.D, s.C, Wp, s.bAt, s.wAt + r0 * 8, s.ZAt, s.maxAt, s.sumAt, s.GAt, s.gbAt);
        for (let i = 0; i < m; i++) loss += w[r0 + i] * (mx[i] + Math.log(sm[i]));
      }
      const Gc = G.slice();
      const gbc = gb.slice();
      post({ type: 'done', G: Gc, gb: gbc, loss }, [Gc.buffer, gbc.buffer]);
    }
  } catch (error) {
    post({ type: 'error', message: String((error && error.message) || error) });
  }
};
if (nodePort) nodePort.on('message', handle);
else self.onmessage = (e) => handle(e.data);
`;

interface AnyWorker {
  post(message: unknown, transfer?: ArrayBuffer[]): void;
  onMessage(f: (message: unknown) => void): void;
  onError(f: (error: unknown) => void): void;
  /** Node: whether the worker keeps the process alive (only while a request is pending). */
  hold(busy: boolean): void;
  terminate(): void;
}

/** How many cores the environment reports (1 when unknown). */
export function availableCores(): number {
  const nav = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator;
  if (nav?.hardwareConcurrency) return nav.hardwareConcurrency;
  const p = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  try {
    const os = p?.getBuiltinModule?.('node:os') as { availableParallelism?: () => number } | undefined;
    return os?.availableParallelism?.() ?? 1;
  } catch {
    return 1;
  }
}

function spawn(): AnyWorker | undefined {
  const p = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  if (typeof p?.getBuiltinModule === 'function') {
    try {
      const wt = p.getBuiltinModule('node:worker_threads') as {
        Worker: new (
          code: string,
          options: { eval: true },
        ) => {
          postMessage(m: unknown, t?: ArrayBuffer[]): void;
          on(e: string, f: (v: unknown) => void): void;
          ref(): void;
          unref(): void;
          terminate(): unknown;
        };
      };
      const w = new wt.Worker(WORKER_SOURCE, { eval: true });
      return {
        post: (m, t) => w.postMessage(m, t),
        onMessage: (f) => w.on('message', f),
        onError: (f) => w.on('error', f),
        hold: (busy) => (busy ? w.ref() : w.unref()),
        terminate: () => void w.terminate(),
      };
    } catch {
      return undefined;
    }
  }
  const g = globalThis as {
    Worker?: new (
      url: string,
    ) => {
      postMessage(m: unknown, t?: ArrayBuffer[]): void;
      onmessage: ((e: { data: unknown }) => void) | null;
      onerror: ((e: unknown) => void) | null;
      terminate(): void;
    };
    Blob?: new (parts: string[], options: { type: string }) => unknown;
    URL?: { createObjectURL?(b: unknown): string; revokeObjectURL?(u: string): void };
  };
  if (!g.Worker || !g.Blob || !g.URL?.createObjectURL) return undefined;
  try {
    const url = g.URL.createObjectURL(new g.Blob([WORKER_SOURCE], { type: 'text/javascript' }));
    const w = new g.Worker(url);
    g.URL.revokeObjectURL?.(url);
    return {
      post: (m, t) => w.postMessage(m, t),
      onMessage: (f) => {
        w.onmessage = (e) => f(e.data);
      },
      onError: (f) => {
        w.onerror = f;
      },
      hold: () => {},
      terminate: () => w.terminate(),
    };
  } catch {
    return undefined;
  }
}

/** A spawned worker and the handler its messages currently go to. */
interface Slot {
  worker: AnyWorker;
  handler: (message: unknown) => void;
}

let sessionsWithWorker = 0;

/** How many probe sessions so far had a worker evaluate part of their rows (for tests and benchmarks). */
export function probeWorkerSessions(): number {
  return sessionsWithWorker;
}

/** One idle worker kept for the next session (sessions come in series: folds, l2 path, refits). */
let idle: Slot | undefined;

function acquire(): Slot | undefined {
  if (idle) {
    const slot = idle;
    idle = undefined;
    return slot;
  }
  const worker = spawn();
  if (!worker) return undefined;
  const slot: Slot = { worker, handler: () => {} };
  worker.onMessage((m) => slot.handler(m));
  worker.onError((e) => slot.handler({ type: 'error', message: String((e as { message?: string })?.message ?? e) }));
  return slot;
}

/**
 * Starts (or reuses the idle) worker and loads its rows (X: its m x D rows, w: their weights);
 * undefined where no worker can be started or it fails to start (the caller then computes every
 * row itself). `terminate` returns a healthy worker to the pool of one.
 */
export async function startProbeWorker(
  module: WebAssembly.Module,
  X: Float32Array | Float64Array,
  w: Float64Array,
  shape: { n: number; D: number; C: number; B: number },
): Promise<ProbePartWorker | undefined> {
  const slot = acquire();
  if (!slot) return undefined;
  const { worker } = slot;
  let pending: { resolve(v: ProbePartResult): void; reject(e: Error): void } | undefined;
  let failed: Error | undefined;
  let ready: (ok: boolean) => void = () => {};
  const started = new Promise<boolean>((resolve) => {
    ready = resolve;
  });
  slot.handler = (raw) => {
    const m = raw as { type: string; G?: Float64Array; gb?: Float64Array; loss?: number; message?: string };
    worker.hold(false);
    if (m.type === 'ready') ready(true);
    else if (m.type === 'done') {
      const p = pending;
      pending = undefined;
      p?.resolve({ G: m.G!, gb: m.gb!, loss: m.loss! });
    } else if (m.type === 'error') {
      ready(false);
      failed = new Error(`kernels-wasm probe worker: ${m.message}`);
      pending?.reject(failed);
      pending = undefined;
    }
  };
  worker.hold(true);
  worker.post({ type: 'init', module, X, w, n: shape.n, D: shape.D, C: shape.C, B: shape.B, single: X instanceof Float32Array });
  if (!(await started)) {
    worker.terminate();
    return undefined;
  }
  sessionsWithWorker++;
  return {
    evaluate(W, bias, float32) {
      if (failed) return Promise.reject(failed);
      if (pending) return Promise.reject(new Error('kernels-wasm probe worker: one evaluation at a time'));
      return new Promise<ProbePartResult>((resolve, reject) => {
        pending = { resolve, reject };
        worker.hold(true);
        worker.post({ type: 'eval', W, bias, float32 });
      });
    },
    terminate() {
      slot.handler = () => {};
      if (!failed && !pending && !idle) idle = slot;
      else worker.terminate();
    },
  };
}
