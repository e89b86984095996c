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

/** Byte offsets of a probe part's operands in its wasm memory (see {@link probeLayout}). */
export interface ProbeLayout {
  n: number;
  D: number;
  C: number;
  B: number;
  single: boolean;
  xAt: number;
  wAt: number;
  W64At: number;
  W32At: number;
  bAt: number;
  gbAt: number;
  GAt: number;
  ZAt: number;
  maxAt: number;
  sumAt: number;
  /** Bytes of memory the layout needs. */
  bytes: number;
}

/** The exports {@link runProbeBlocks} calls (native/kernels.c probe_ff / probe_fd / probe_dd). */
export interface ProbeExports {
  probe_ff(...args: number[]): void;
  probe_fd(...args: number[]): void;
  probe_dd(...args: number[]): void;
}

/**
 * Where a part of n rows puts its operands above `reserved` bytes (16-byte aligned, in this order:
 * rows, weights, Float64 and Float32 head, bias, gb, G, block scratch). Self-contained (no
 * closures): the worker runs its source text too.
 */
export function probeLayout(reserved: number, n: number, D: number, C: number, B: number, single: boolean): ProbeLayout {
  const sizes = [n * D * (single ? 4 : 8), n * 8, C * D * 8, C * D * 4, C * 8, C * 8, C * D * 8, B * C * 8, B * 8, B * 8];
  const at: number[] = [];
  let top = reserved;
  for (let k = 0; k < sizes.length; k++) {
    top = (top + 15) & ~15;
    at.push(top);
    top += sizes[k]!;
  }
  return {
    n,
    D,
    C,
    B,
    single,
    xAt: at[0]!,
    wAt: at[1]!,
    W64At: at[2]!,
    W32At: at[3]!,
    bAt: at[4]!,
    gbAt: at[5]!,
    GAt: at[6]!,
    ZAt: at[7]!,
    maxAt: at[8]!,
    sumAt: at[9]!,
    bytes: top,
  };
}

/**
 * One evaluation of a part's rows in its memory: writes the head (Float32 when `float32` and the
 * rows are Float32), zeroes G and gb, runs probe_* over blocks of B rows and returns
 * sum_t w_t (rowMax_t + log rowSum_t); G and gb are left in the memory. Self-contained (no
 * closures): the calling thread and the worker run this one function.
 */
export function runProbeBlocks(
  x: ProbeExports,
  buffer: ArrayBuffer,
  L: ProbeLayout,
  W: Float64Array,
  bias: Float64Array,
  float32: boolean,
): number {
  const { n, D, C, B } = L;
  const f32 = float32 && L.single;
  if (f32) new Float32Array(buffer, L.W32At, C * D).set(W.subarray(0, C * D));
  else new Float64Array(buffer, L.W64At, C * D).set(W.subarray(0, C * D));
  new Float64Array(buffer, L.bAt, C).set(bias.subarray(0, C));
  new Float64Array(buffer, L.GAt, C * D).fill(0);
  new Float64Array(buffer, L.gbAt, C).fill(0);
  const run = f32 ? x.probe_ff : L.single ? x.probe_fd : x.probe_dd;
  const Wp = f32 ? L.W32At : L.W64At;
  const eb = L.single ? 4 : 8;
  const w = new Float64Array(buffer, L.wAt, n);
  const mx = new Float64Array(buffer, L.maxAt, B);
  const sm = new Float64Array(buffer, L.sumAt, B);
  let loss = 0;
  for (let r0 = 0; r0 < n; r0 += B) {
    const m = Math.min(B, n - r0);
    run(L.xAt + r0 * D * eb, m, D, C, Wp, L.bAt, L.wAt + r0 * 8, L.ZAt, L.maxAt, L.sumAt, L.GAt, L.gbAt);
    for (let i = 0; i < m; i++) loss += w[r0 + i]! * (mx[i]! + Math.log(sm[i]!));
  }
  return loss;
}

/** Bytes below the operands of every arena: the module's stack (64 KiB, placed first) and its data. */
export const PROBE_RESERVED = 2 * 65536;

// The worker: probeLayout and runProbeBlocks from their own source text, a message loop around them.
const WORKER_SOURCE = `
const nodePort = typeof require === 'function' ? require('node:worker_threads').parentPort : null;
const post = (m, t) => (nodePort ? nodePort.postMessage(m, t) : self.postMessage(m, t));
const probeLayout = ${probeLayout.toString()};
const runProbeBlocks = ${runProbeBlocks.toString()};
let st = null;
const handle = (msg) => {
  try {
    if (msg.type === 'init') {
      const { module, X, w, n, D, C, B } = msg;
      const L = probeLayout(${PROBE_RESERVED}, n, D, C, B, X instanceof Float32Array);
      const memory = new WebAssembly.Memory({ initial: Math.ceil(L.bytes / 65536) });
      const x = new WebAssembly.Instance(module, { env: { memory } }).exports;
      (L.single ? new Float32Array(memory.buffer, L.xAt, n * D) : new Float64Array(memory.buffer, L.xAt, n * D)).set(X);
      new Float64Array(memory.buffer, L.wAt, n).set(w);
      st = { x, memory, L };
      post({ type: 'ready' });
    } else if (msg.type === 'eval') {
      const { x, memory, L } = st;
      const loss = runProbeBlocks(x, memory.buffer, L, msg.W, msg.bias, msg.float32);
      const G = new Float64Array(memory.buffer, L.GAt, L.C * L.D).slice();
      const gb = new Float64Array(memory.buffer, L.gbAt, L.C).slice();
      post({ type: 'done', G, gb, loss }, [G.buffer, gb.buffer]);
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
  worker.post({ type: 'init', module, X, w, n: shape.n, D: shape.D, C: shape.C, B: shape.B });
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
