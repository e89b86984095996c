import { RuntimeError } from '@gla/runtime';

/** Progress of a batched job: items done out of total. */
export interface BatchProgress {
  readonly done: number;
  readonly total: number;
}

/** Options shared by every batched encode call. */
export interface BatchOptions {
  /** Items per model call (default 32). */
  readonly batchSize?: number;
  /** Called after each batch. */
  readonly onProgress?: (progress: BatchProgress) => void;
  /** Aborting stops the job before the next batch starts; the batch in flight finishes. */
  readonly signal?: AbortSignal;
}

/**
 * Runs `encodeBatch` over `[0, total)` in consecutive batches and writes each batch's rows into one
 * row-major Float32 matrix of `total × cols`. `encodeBatch(start, end)` returns the rows for items
 * `start..end-1` as a flat array of `(end - start) × cols` values.
 * Throws `RuntimeError('aborted')` if `signal` is aborted (checked before every batch).
 */
export async function encodeInBatches(
  total: number,
  encodeBatch: (start: number, end: number) => Promise<{ data: Float32Array; cols: number }>,
  options: BatchOptions = {},
): Promise<{ data: Float32Array; rows: number; cols: number }> {
  const batchSize = options.batchSize ?? 32;
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new RangeError(`batchSize must be a positive integer, got ${batchSize}`);
  }
  let out: Float32Array | undefined;
  let cols = 0;
  for (let start = 0; start < total; start += batchSize) {
    if (options.signal?.aborted) {
      throw new RuntimeError('aborted', `encoding aborted after ${start} of ${total} items`, {
        cause: options.signal.reason,
      });
    }
    const end = Math.min(total, start + batchSize);
    const batch = await encodeBatch(start, end);
    if (out === undefined) {
      cols = batch.cols;
      out = new Float32Array(total * cols);
    }
    if (batch.cols !== cols || batch.data.length !== (end - start) * cols) {
      throw new RuntimeError(
        'shape-mismatch',
        `batch ${start}..${end} returned ${batch.data.length} values for ${end - start} rows of ${cols}`,
      );
    }
    out.set(batch.data, start * cols);
    options.onProgress?.({ done: end, total });
  }
  return { data: out ?? new Float32Array(0), rows: total, cols };
}
