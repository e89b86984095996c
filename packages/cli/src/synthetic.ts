import { createRng } from '@gla/core';
import type { FeatureDataset } from './dataset';

/**
 * A small synthetic feature data set with a built-in zero-shot label bias (for tests and demos):
 * class means on the unit sphere, text embeddings = means + noise + a class-dependent share of a
 * common direction that every example also carries, so some classes win zero-shot ties.
 * Class sizes are long-tailed between `maxPerClass` and `minPerClass`.
 */
export function syntheticDataset(
  options: { classes?: number; dim?: number; minPerClass?: number; maxPerClass?: number; seed?: number; templates?: number } = {},
): FeatureDataset {
  const C = options.classes ?? 6;
  const D = options.dim ?? 16;
  const T = options.templates ?? 2;
  const minN = options.minPerClass ?? 50;
  const maxN = options.maxPerClass ?? 120;
  const rng = createRng(options.seed ?? 123);
  const unit = (v: Float64Array) => {
    const n = Math.hypot(...v);
    return v.map((x) => x / n);
  };
  const common = unit(Float64Array.from({ length: D }, () => rng.normal()));
  const means = Array.from({ length: C }, () => unit(Float64Array.from({ length: D }, () => rng.normal())));
  const counts = Array.from({ length: C }, (_, c) => Math.round(maxN * (minN / maxN) ** (c / Math.max(1, C - 1))));
  const N = counts.reduce((a, b) => a + b, 0);
  const features = new Float32Array(N * D);
  const labels = new Int32Array(N);
  let i = 0;
  counts.forEach((n, c) => {
    for (let r = 0; r < n; r++, i++) {
      labels[i] = c;
      for (let j = 0; j < D; j++) features[i * D + j] = means[c]![j]! + 0.5 * common[j]! + 0.3 * rng.normal();
    }
  });
  const text = new Float32Array(T * C * D);
  for (let t = 0; t < T; t++) {
    for (let c = 0; c < C; c++) {
      const share = 1.5 * (1 - c / Math.max(1, C - 1)) * ((c * 7) % 3 === 0 ? 1 : 0.4);
      for (let j = 0; j < D; j++) text[(t * C + c) * D + j] = means[c]![j]! + share * common[j]! + 0.25 * rng.normal();
    }
  }
  return {
    name: 'synthetic',
    source: 'syntheticDataset()',
    features: { data: features, rows: N, cols: D },
    labels,
    classNames: Array.from({ length: C }, (_, c) => `class${c}`),
    promptNames: Array.from({ length: C }, (_, c) => `class ${c}`),
    templates: Array.from({ length: T }, (_, t) => `template ${t} {}`),
    textFeatures: { data: text, templates: T, classes: C, dim: D },
    model: 'synthetic',
    logitScale: 20,
  };
}
