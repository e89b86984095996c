// Runs in headless Chromium: test/browser-prior.ts on the wasm-simd backend (the page's main thread;
// the two-thread mass passes are Node-only, see src/threads.ts).
import '../src/index';
import { timePrior } from './browser-prior';

export default async function run(args: { rows: number; cols: number; runs: number; backend?: string }) {
  return {
    ...timePrior(args.rows, args.cols, args.runs, args.backend),
    isolated: (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true,
  };
}
