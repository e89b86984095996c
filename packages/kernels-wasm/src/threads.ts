import { KERNELS_WASM_THREADS_BASE64 } from './kernels-threads.wasm';

/**
 * One helper thread (Node worker_threads) that runs the second half of a mass pass over a cache
 * buffer in a SHARED WebAssembly memory, while the calling thread runs the first half; the caller
 * blocks on Atomics.wait, so the kernel API stays synchronous. Only where the main thread may
 * block and worker_threads exist (Node >= 20.16: process.getBuiltinModule); browsers keep the
 * single-threaded path. The worker is unref'd (it never keeps the process alive) and holds only the
 * memories of live cache buffers (detached again by releaseCache).
 */

/** The parts of node:worker_threads used here (the package has no Node types in its sources). */
interface WorkerThreads {
  Worker: new (
    code: string,
    options: { eval: true; workerData: unknown; transferList: unknown[] },
  ) => { unref(): void; terminate(): unknown; on(event: 'error', f: (e: unknown) => void): void };
  MessageChannel: new () => { port1: { postMessage(message: unknown): void; unref?(): void }; port2: unknown };
}

/** Control block (Int32 slots of a SharedArrayBuffer). */
const SEQ = 0;
const DONE = 1;
const READY = 2;
const OP = 3;
const ARENA = 4;
const ARGS = 5;
const FAILED = 12;
const SLOTS = 16;

/** Operations of a job: 0 = only read the posted memories. */
export const OP_MASS_FLOAT = 1;
export const OP_MASS_DOUBLE = 2;

const WORKER_SOURCE = `
const { workerData, receiveMessageOnPort } = require('node:worker_threads');
const { module, control, port } = workerData;
const ctl = new Int32Array(control);
const instances = new Map();
let seen = 0;
Atomics.store(ctl, ${READY}, 1);
Atomics.notify(ctl, ${READY});
for (;;) {
  Atomics.wait(ctl, ${SEQ}, seen);
  const seq = Atomics.load(ctl, ${SEQ});
  if (seq === seen) continue;
  seen = seq;
  for (let m = receiveMessageOnPort(port); m; m = receiveMessageOnPort(port)) {
    const { id, memory } = m.message;
    if (memory) instances.set(id, new WebAssembly.Instance(module, { env: { memory } }).exports);
    else instances.delete(id);
  }
  try {
    const op = ctl[${OP}];
    if (op !== 0) {
      const x = instances.get(ctl[${ARENA}]);
      const a = ${ARGS};
      (op === ${OP_MASS_FLOAT} ? x.mass_float : x.mass_double)(ctl[a], ctl[a + 1], ctl[a + 2], ctl[a + 3], ctl[a + 4], ctl[a + 5], ctl[a + 6]);
    }
    ctl[${FAILED}] = 0;
  } catch (error) {
    ctl[${FAILED}] = 1;
  }
  Atomics.store(ctl, ${DONE}, seq);
  Atomics.notify(ctl, ${DONE});
}
`;

/** How long the first use waits for the worker to start before giving up on threads (ms). */
const START_TIMEOUT_MS = 5000;

export interface Helper {
  /** The module to instantiate on shared memories (the worker has its own instances). */
  readonly module: WebAssembly.Module;
  /** Makes `memory` known to the worker under `id` (before jobs on it). */
  attach(id: number, memory: WebAssembly.Memory): void;
  /** Lets the worker drop its instance on memory `id`. */
  detach(id: number): void;
  /** Starts a job (pointers and sizes in `args`) on memory `id`; call {@link Helper.join} after. */
  start(op: number, id: number, args: readonly number[]): void;
  /** Waits for the job started last; throws when it failed. */
  join(): void;
}

let helper: Helper | undefined;
let disabled = false;
let unavailable = false;

/** Enables or disables the helper thread for later cache buffers (default: enabled where possible). */
export function setWasmThreads(enabled: boolean): void {
  disabled = !enabled;
}

/** Whether helper threads / workers may be used (see {@link setWasmThreads}). */
export function wasmThreadsEnabled(): boolean {
  return !disabled;
}

function workerThreads(): WorkerThreads | undefined {
  const p = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  if (typeof p?.getBuiltinModule !== 'function') return undefined;
  try {
    return p.getBuiltinModule('node:worker_threads') as WorkerThreads;
  } catch {
    return undefined;
  }
}

function decode(b64: string): Uint8Array<ArrayBuffer> {
  const B = (globalThis as { Buffer?: { from(s: string, e: string): Uint8Array } }).Buffer!;
  return Uint8Array.from(B.from(b64, 'base64'));
}

/** The helper thread, started on first use; undefined where threads are unavailable or disabled. */
export function threadHelper(): Helper | undefined {
  if (disabled || unavailable) return undefined;
  if (helper) return helper;
  const wt = workerThreads();
  if (!wt || typeof SharedArrayBuffer === 'undefined' || typeof Atomics?.wait !== 'function') {
    unavailable = true;
    return undefined;
  }
  try {
    const module = new WebAssembly.Module(decode(KERNELS_WASM_THREADS_BASE64));
    const ctl = new Int32Array(new SharedArrayBuffer(SLOTS * 4));
    const channel = new wt.MessageChannel();
    const worker = new wt.Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { module, control: ctl.buffer, port: channel.port2 },
      transferList: [channel.port2],
    });
    worker.on('error', () => {
      unavailable = true;
      helper = undefined;
    });
    worker.unref();
    channel.port1.unref?.();
    if (Atomics.wait(ctl, READY, 0, START_TIMEOUT_MS) === 'timed-out' && Atomics.load(ctl, READY) !== 1) {
      void worker.terminate();
      unavailable = true;
      return undefined;
    }
    let seq = 0;
    const waitDone = () => {
      for (let done = Atomics.load(ctl, DONE); done !== seq; done = Atomics.load(ctl, DONE)) Atomics.wait(ctl, DONE, done);
    };
    const post = (op: number, id: number, args: readonly number[]) => {
      waitDone(); // the slots of the previous job are free only once it is done
      ctl[OP] = op;
      ctl[ARENA] = id;
      for (let a = 0; a < args.length; a++) ctl[ARGS + a] = args[a]!;
      Atomics.store(ctl, SEQ, ++seq);
      Atomics.notify(ctl, SEQ);
    };
    helper = {
      module,
      attach(id, memory) {
        channel.port1.postMessage({ id, memory });
      },
      detach(id) {
        channel.port1.postMessage({ id });
        post(0, id, []);
      },
      start: post,
      join() {
        waitDone();
        if (ctl[FAILED] !== 0) throw new Error('kernels-wasm: the helper thread failed a mass pass');
      },
    };
    return helper;
  } catch {
    unavailable = true;
    return undefined;
  }
}
