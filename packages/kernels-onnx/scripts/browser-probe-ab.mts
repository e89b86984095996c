// A/B of onnxruntime-web's wasm builds for the probe in headless Chromium, interleaved with Node:
// the JSEP build that the 'onnxruntime-web' bundle loads by default (ort-wasm-simd-threaded.jsep.*)
// vs the plain CPU build (ort-wasm-simd-threaded.*, what 'onnxruntime-web/wasm' loads). A
// measurement, not a test:
//   node --conditions=source --import tsx scripts/browser-probe-ab.mts [rounds=3] [threads=1]
import { availableParallelism, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { createNodeRuntime } from '@gla/onnx-node';
import { openBrowser } from '@gla/tooling/browser';
import type { BrowserProbeArgs, BrowserProbeResult } from '../test/browser-probe-entry';
import { CONFORMANCE_SHAPE, FORTUNES_SHAPE, timedProbeRuns } from '../test/browser-problem';

const rounds = Number(process.argv[2] ?? 3);
const threads = Number(process.argv[3] ?? 1);
const entry = fileURLToPath(new URL('../test/browser-probe-entry.ts', import.meta.url));
const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const PLAIN = { wasm: '/ort/ort-wasm-simd-threaded.wasm', mjs: '/ort/ort-wasm-simd-threaded.mjs' };
const browser = await openBrowser();
try {
  for (const shape of [CONFORMANCE_SHAPE, FORTUNES_SHAPE]) {
    const label = `${shape.rows} x ${shape.cols} x ${shape.classes}, ${threads}T`;
    const t: Record<string, number[]> = { node: [], jsep: [], plain: [] };
    const f: Record<string, string> = {};
    for (let r = 0; r < rounds; r++) {
      t['node']!.push(...(await timedProbeRuns(createNodeRuntime({ threads }), shape, 1, 3)).times);
      for (const variant of ['jsep', 'plain'] as const) {
        const args: BrowserProbeArgs = {
          shape,
          warmup: 3,
          repeats: 3,
          threads,
          probeOps: false,
          ...(variant === 'plain' ? { wasmPaths: PLAIN } : {}),
        };
        const w = (await browser.run({ entry, args, crossOriginIsolated: threads > 1, timeoutMs: 600_000 })) as BrowserProbeResult;
        if (w.threads !== threads) throw new Error(`the page ran ${w.threads} threads`);
        t[variant]!.push(...w.times);
        f[variant] = `${w.ortFiles.join(' + ')}; f32 ${w.phases.float32.evaluations} evals ${(w.phases.float32.ms / w.phases.float32.evaluations).toFixed(1)} ms/eval, f64 ${w.phases.float64.evaluations} evals ${(w.phases.float64.ms / w.phases.float64.evaluations).toFixed(1)} ms/eval, objective ${w.objective}`;
      }
      process.stderr.write(`${label} round ${r + 1}: node ${median(t['node']!).toFixed(0)}, jsep ${median(t['jsep']!).toFixed(0)}, plain ${median(t['plain']!).toFixed(0)} ms\n`);
    }
    const n = median(t['node']!);
    console.log(`${label}: node median ${n.toFixed(0)} ms (${t['node']!.length} runs)`);
    for (const v of ['jsep', 'plain'])
      console.log(`${label}: web ${v} median ${median(t[v]!).toFixed(0)} ms = ${(median(t[v]!) / n).toFixed(2)}x Node | ${f[v]}`);
  }
  console.log(`load average ${loadavg().map((l) => l.toFixed(1)).join(', ')} on ${availableParallelism()} cores`);
} finally {
  await browser.close();
}
