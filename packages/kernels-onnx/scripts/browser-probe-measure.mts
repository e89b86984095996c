// The probe in Node (onnx-node) vs headless Chromium (onnx-web), 1 and 2 threads: medians of 3 after
// warm-up (Chromium compiles ORT's wasm with its baseline compiler first and tiers up in the
// background, so the page gets 3 warm-up runs, Node 1); with --rounds=R the four configurations
// run R times interleaved and the medians are over all R x 3 timed runs (phases: the last round).
// A measurement, not a test:
//   pnpm --filter @gla/kernels-onnx measure:browser [--rounds=2]
import { availableParallelism, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { createNodeRuntime } from '@gla/onnx-node';
import { type BrowserSession, openBrowser } from '@gla/tooling/browser';
import type { BrowserProbeArgs, BrowserProbeResult } from '../test/browser-probe-entry';
import { CONFORMANCE_SHAPE, FORTUNES_SHAPE, type PhaseTime, timedProbeRuns } from '../test/browser-problem';

const entry = fileURLToPath(new URL('../test/browser-probe-entry.ts', import.meta.url));
const median = (xs: readonly number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const rounds = Number(process.argv.find((a) => a.startsWith('--rounds='))?.slice('--rounds='.length) ?? 1);
if (!(Number.isInteger(rounds) && rounds >= 1)) throw new Error(`--rounds must be a positive integer, got ${rounds}`);
const browser: BrowserSession = await openBrowser();
const inPage = async (args: BrowserProbeArgs, isolated: boolean) =>
  (await browser.run({ entry, args, crossOriginIsolated: isolated, timeoutMs: 600_000 })) as BrowserProbeResult;
try {
  const lines: string[] = [];
  for (const shape of [CONFORMANCE_SHAPE, FORTUNES_SHAPE]) {
    const label = `${shape.rows} x ${shape.cols} x ${shape.classes}`;
    const rows: {
      where: string;
      ms: number;
      f32: PhaseTime;
      f64: PhaseTime;
      loads: PhaseTime;
      warmup: number[];
      objective: number;
      iterations: number;
    }[] = [];
    const times: Record<string, number[]> = {};
    let fusedBackend = '';
    for (let round = 0; round < rounds; round++) {
      if (round > 0) rows.length = 0;
      for (const threads of [1, 2]) {
        const n = await timedProbeRuns(createNodeRuntime({ threads }), shape, 1, 3);
        (times[`node  ${threads}T`] ??= []).push(...n.times);
        rows.push({
          where: `node  ${threads}T`,
          ms: median(times[`node  ${threads}T`]!),
          f32: n.phases.float32,
          f64: n.phases.float64,
          loads: n.loads,
          warmup: n.warmupTimes,
          objective: n.probe.objective,
          iterations: n.probe.iterations,
        });
        const w = await inPage(
          { shape, warmup: 3, repeats: 3, threads, probeOps: false, wasmSyncRepeats: threads === 1 ? 3 : 0 },
          threads > 1,
        );
        if (w.threads !== threads) throw new Error(`the page ran ${w.threads} threads, asked for ${threads}`);
        (times[`web   ${threads}T`] ??= []).push(...w.times);
        rows.push({
          where: `web   ${threads}T`,
          ms: median(times[`web   ${threads}T`]!),
          f32: w.phases.float32,
          f64: w.phases.float64,
          loads: w.loads,
          warmup: w.warmupTimes,
          objective: w.objective,
          iterations: w.iterations,
        });
        if (w.wasmSync && round === rounds - 1)
          lines.push(
            `${label}: Chromium trainLinearProbe (sync, ${w.wasmSync.backend}) median ${median(w.wasmSync.times).toFixed(0)} ms, objective ${w.wasmSync.objective}`,
          );
        if (w.wasmFused) (times['fused 1T'] ??= []).push(...w.wasmFused.times);
        if (w.wasmFused && round === rounds - 1) fusedBackend = `${w.wasmFused.backend}, objective ${w.wasmFused.objective}`;
      }
    }
    const nodeMs = Object.fromEntries(rows.filter((r) => r.where.startsWith('node')).map((r) => [r.where.slice(-2), r.ms]));
    // Two GEMMs of 2 n D C flops per evaluation (the first of each phase also builds its sessions).
    const gflops = (t: PhaseTime) => ((4 * shape.rows * shape.cols * shape.classes * t.evaluations) / (t.ms * 1e6)).toFixed(1);
    if (times['fused 1T']) {
      const best = Math.min(...Object.values(nodeMs));
      const fused = median(times['fused 1T']);
      lines.push(
        `${label}: Chromium trainLinearProbeAsync on wasm-simd's fused probeSession (caller + 1 worker) median ${fused.toFixed(0)} ms (${times['fused 1T'].length} runs) = ${(fused / best).toFixed(2)}x the best Node median (${best.toFixed(0)} ms) | ${fusedBackend}`,
      );
    }
    for (const r of rows) {
      const ratio = r.where.startsWith('web') ? ` = ${(r.ms / nodeMs[r.where.slice(-2)]!).toFixed(2)}x Node` : '';
      lines.push(
        `${label}: ${r.where} median ${r.ms.toFixed(0)} ms (${times[r.where]!.length} runs)${ratio} | f32 ${r.f32.evaluations} evals ${r.f32.ms.toFixed(0)} ms (${gflops(r.f32)} GFLOP/s), f64 ${r.f64.evaluations} evals ${r.f64.ms.toFixed(0)} ms (${gflops(r.f64)} GFLOP/s), ${r.loads.evaluations} loads ${r.loads.ms.toFixed(0)} ms | ${r.iterations} it, objective ${r.objective} | warm-up runs ${r.warmup.map((t) => t.toFixed(0)).join(', ')} ms`,
      );
    }
  }
  console.log(
    `\n${lines.join('\n')}\nload average (1, 5, 15 min) at the end: ${loadavg()
      .map((l) => l.toFixed(1))
      .join(', ')} on ${availableParallelism()} cores`,
  );
} finally {
  await browser.close();
}
