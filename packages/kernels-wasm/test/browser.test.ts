/// <reference types="node" />
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CHROMIUM_PATH, runInBrowser } from '@gla/tooling/browser';
import { describe, expect, it } from 'vitest';
import '../src/index';
import { runWorkload } from './workload';

const entry = fileURLToPath(new URL('./browser-entry.ts', import.meta.url));

describe.skipIf(!existsSync(CHROMIUM_PATH))('wasm-simd backend in headless Chromium', () => {
  it('passes the core kernel conformance suite, and the prior / probe give the Node results', async () => {
    const web = (await runInBrowser({ entry, args: { workload: true }, timeoutMs: 300_000 })) as {
      ran: number;
      failures: string[];
      workload: ReturnType<typeof runWorkload>;
      unavailable?: string;
    };
    expect(web.unavailable).toBeUndefined();
    expect(web.failures).toEqual([]);
    expect(web.ran).toBeGreaterThan(200);
    const node = runWorkload();
    expect(web.workload.prior.backend).toBe('wasm-simd');
    expect(node.prior.backend).toBe('wasm-simd');
    expect(web.workload.prior.passes).toBe(node.prior.passes);
    expect(Math.abs(web.workload.prior.objective - node.prior.objective)).toBeLessThanOrEqual(1e-12 * Math.abs(node.prior.objective));
    expect(web.workload.probe.iterations).toBe(node.probe.iterations);
    expect(Math.abs(web.workload.probe.objective - node.probe.objective)).toBeLessThanOrEqual(1e-12 * Math.abs(node.probe.objective));
    // Timings are printed, never asserted (shared machine).
    console.log(
      `browser / Node: prior 20,000 x 1,000 ${web.workload.priorMs.toFixed(0)} / ${node.priorMs.toFixed(0)} ms (${(web.workload.priorMs / node.priorMs).toFixed(2)}x), ` +
        `probe 3,000 x 512 x 50 ${web.workload.probeMs.toFixed(0)} / ${node.probeMs.toFixed(0)} ms (${(web.workload.probeMs / node.probeMs).toFixed(2)}x)`,
    );
  }, 600_000);
});
