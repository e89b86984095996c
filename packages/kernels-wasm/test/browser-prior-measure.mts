// The prior (estimatePrior, Float32 exp cache) in Node (wasm-simd with two-thread mass passes and
// one thread) vs headless Chromium (the page's main thread: wasm-simd, and core's TypeScript
// reference kernels, which a page gets without @gla/kernels-wasm), interleaved rounds, medians of
// the runs after the first. A measurement, not a test:
//   node --conditions=source --import tsx test/browser-prior-measure.mts [rows=50000] [cols=1000] [rounds=3]
import { availableParallelism, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { openBrowser } from '@gla/tooling/browser';
import { setWasmThreads } from '../src/index';
import { type PriorTiming, timePrior } from './browser-prior';

const rows = Number(process.argv[2] ?? 50_000);
const cols = Number(process.argv[3] ?? 1_000);
const rounds = Number(process.argv[4] ?? 3);
const runs = 3; // per round; the first of each is a warm-up
const entry = fileURLToPath(new URL('./browser-prior-entry.ts', import.meta.url));
const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const browser = await openBrowser();
try {
  const t: Record<string, number[]> = { 'node 2T': [], 'node 1T': [], chromium: [], 'chromium TS': [], 'node TS': [] };
  const last: Record<string, PriorTiming> = {};
  for (let r = 0; r < rounds; r++) {
    for (const where of Object.keys(t)) {
      let p: PriorTiming;
      const backend = where.endsWith('TS') ? 'reference' : 'auto';
      if (where.startsWith('chromium')) {
        p = (await browser.run({ entry, args: { rows, cols, runs, backend }, timeoutMs: 600_000 })) as PriorTiming;
      } else {
        setWasmThreads(where === 'node 2T');
        p = timePrior(rows, cols, runs, backend);
      }
      t[where]!.push(...p.times.slice(1));
      last[where] = p;
    }
    process.stderr.write(`round ${r + 1}: ${Object.entries(t).map(([k, v]) => `${k} ${median(v).toFixed(0)} ms`).join(', ')}\n`);
  }
  setWasmThreads(true);
  const base = median(t['node 2T']!);
  for (const [where, v] of Object.entries(t)) {
    const p = last[where]!;
    console.log(
      `prior ${rows} x ${cols}: ${where.padEnd(11)} median ${median(v).toFixed(0)} ms = ${(median(v) / base).toFixed(2)}x Node 2T | ${p.backend}, ${p.passes} passes, objective ${p.objective}, |g| ${p.gradientNorm.toExponential(2)}`,
    );
  }
  console.log(`load average ${loadavg().map((l) => l.toFixed(1)).join(', ')} on ${availableParallelism()} cores`);
} finally {
  await browser.close();
}
