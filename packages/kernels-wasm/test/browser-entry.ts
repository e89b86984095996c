// Runs in headless Chromium: the kernel conformance suite against the wasm-simd backend, then the
// shared timing workload (test/workload.ts) so the test can compare with Node.
import { kernelConformanceCases } from '@gla/core';
import { wasmKernels, wasmUnavailableReason } from '../src/index';
import { runWorkload } from './workload';

export default async function run(args: { workload: boolean }) {
  if (!wasmKernels) return { unavailable: wasmUnavailableReason() };
  const failures: string[] = [];
  let ran = 0;
  for (const c of kernelConformanceCases()) {
    try {
      if (c.run(wasmKernels)) ran++;
    } catch (error) {
      failures.push(`${c.name}: ${(error as Error).message}`);
    }
  }
  return { ran, failures, workload: args.workload ? runWorkload() : undefined, userAgent: navigator.userAgent };
}
