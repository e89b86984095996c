/// <reference lib="webworker" />
/**
 * The prior solve runs here, off the page's thread: calibration of T, `estimatePrior`, and the
 * before/after evaluation. Messages carry typed arrays (transferred, not copied).
 */
import type { Matrix } from '@gla/core';
// Registers the WebAssembly SIMD kernels with @gla/core, as the CLI does: the solve's data passes
// run on them (about 5x the TypeScript reference at 50,000 x 1,000; one thread in a browser).
import '@gla/kernels-wasm';
import { describeError } from './errors';
import { type EstimateRequest, evaluate, runEstimate } from './flow';

export interface WorkerRequest {
  id: number;
  request: EstimateRequest;
}

export type WorkerResponse =
  | { id: number; ok: true; estimate: ReturnType<typeof runEstimate>; evaluation: ReturnType<typeof evaluate> }
  | { id: number; ok: false; message: string };

const scope = self as unknown as DedicatedWorkerGlobalScope;

scope.onmessage = (event: MessageEvent<WorkerRequest>) => {
  const { id, request } = event.data;
  try {
    const estimate = runEstimate(request);
    const evaluation = evaluate(request.logits as Matrix, request.labels, estimate);
    const transfer = [
      estimate.prior.buffer,
      estimate.logPrior.buffer,
      estimate.rows.buffer,
      evaluation.debiased.data.buffer,
    ] as ArrayBuffer[];
    scope.postMessage({ id, ok: true, estimate, evaluation } satisfies WorkerResponse, transfer);
  } catch (error) {
    scope.postMessage({ id, ok: false, message: describeError(error) } satisfies WorkerResponse);
  }
};
