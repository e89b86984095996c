// Which op of the probe graph is slow in the browser: each heavy op alone (Float32 and Float64)
// in Node (onnx-node) and headless Chromium (onnx-web, wasm EP), 1 and 2 threads, medians after
// warm-up, interleaved. A measurement, not a test:
//   pnpm --filter @gla/kernels-onnx measure:browser-ops
import { availableParallelism, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { createNodeRuntime } from '@gla/onnx-node';
import { openBrowser } from '@gla/tooling/browser';
import type { BrowserOpsArgs } from '../test/browser-ops-entry';
import { type OpShape, type OpTime, timeOps } from '../test/browser-ops';

const entry = fileURLToPath(new URL('../test/browser-ops-entry.ts', import.meta.url));
const shape: OpShape = { rows: 4000, cols: 256, classes: 50 };
const browser = await openBrowser();
try {
  for (const threads of process.env['GLA_OPS_THREADS'] === '1' ? [1] : [1, 2]) {
    const node = await timeOps(createNodeRuntime({ threads }), shape, 5, 15);
    const plain = process.env['GLA_ORT_PLAIN'] === '1';
    const args: BrowserOpsArgs = {
      shape,
      threads,
      warmup: 10,
      repeats: 15,
      ...(plain ? { wasmPaths: { wasm: '/ort/ort-wasm-simd-threaded.wasm', mjs: '/ort/ort-wasm-simd-threaded.mjs' } } : {}),
    };
    const web = (await browser.run({ entry, args, crossOriginIsolated: threads > 1, timeoutMs: 600_000 })) as {
      ops: OpTime[];
      threads: number;
      isolated: boolean;
      wasmFiles: string[];
    };
    console.log(`\n${threads} thread(s): page threads ${web.threads}, isolated ${web.isolated}, ORT files ${web.wasmFiles.join(', ')}`);
    for (let i = 0; i < node.length; i++) {
      const n = node[i]!;
      const w = web.ops[i]!;
      console.log(
        `${n.dtype} ${n.op.padEnd(20)} node ${n.ms.toFixed(2).padStart(7)} ms (${n.gflops.toFixed(1)} GFLOP/s) | web ${w.ms.toFixed(2).padStart(7)} ms (${w.gflops.toFixed(1)} GFLOP/s) = ${(w.ms / n.ms).toFixed(2)}x`,
      );
      if (process.env['GLA_OPS_ALL']) console.log(`   web runs: ${w.all.map((t) => t.toFixed(1)).join(' ')}`);
    }
  }
  console.log(`load average ${loadavg().map((l) => l.toFixed(1)).join(', ')} on ${availableParallelism()} cores`);
} finally {
  await browser.close();
}
