import type { ProtocolSettings } from './settings';

/** The shape a memory estimate needs: N examples x D dims, C classes. */
export interface ProtocolShape {
  rows: number;
  dim: number;
  classes: number;
}

/** Bytes per entry of the copies a probe fit holds of its training rows (backend copy, centred copy, graph constant). */
const PROBE_FEATURE_COPIES = 3;
/** Float64 N x C buffers of one probe fit (logits and residuals). */
const PROBE_LOGIT_BUFFERS = 2;
/** Float64 test x C logit matrices one cell holds at once (one per method, plus intermediates). */
const CELL_TEST_LOGITS = 24;

/**
 * An upper estimate of the bytes the protocols hold at their peak for a data set of this shape
 * (features held once as Float32 after {@link prepareData} with `inPlace`): the features
 * (4 N D), the zero-shot logits (8 N C) and the labels, plus the largest cell's working set: the
 * probe's copies of its training rows (Float32, a few) and its Float64 logits and residuals, and
 * the test-split logits of every method. For an up-front check before a data set is loaded.
 * @returns bytes
 */
export function estimateProtocolBytes(
  shape: ProtocolShape,
  settings: Pick<ProtocolSettings, 'shots' | 'valPerClass' | 'testPerClass' | 'longTailValPerClass' | 'manyShotValPerClass'>,
  protocols: readonly ('few-shot' | 'many-shot' | 'long-tail')[],
): number {
  const { rows: N, dim: D, classes: C } = shape;
  const base = 4 * N * D + 8 * N * C + 4 * N;
  const test = Math.min(N, settings.testPerClass * C);
  const cellBytes = (trainRows: number) =>
    PROBE_FEATURE_COPIES * 4 * trainRows * D + PROBE_LOGIT_BUFFERS * 8 * trainRows * C + CELL_TEST_LOGITS * 8 * test * C;
  let peak = 0;
  for (const p of protocols) {
    if (p === 'few-shot') peak = Math.max(peak, cellBytes(Math.min(N, (Math.max(...settings.shots) + settings.valPerClass) * C)));
    else {
      const val = (p === 'long-tail' ? settings.longTailValPerClass : settings.manyShotValPerClass) * C;
      peak = Math.max(peak, cellBytes(Math.max(0, N - val - test)));
    }
  }
  return base + peak;
}
