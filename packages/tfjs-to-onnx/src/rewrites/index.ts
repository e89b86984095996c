/**
 * The speed rewrites of option `optimize`, in the order they run. The order matters: each one
 * sees the graph the previous ones left (e.g. the layer-norm fusion runs after the pooled
 * projection has removed the grid sum).
 */
import type { LoweringContext } from '../context';
import type { TfNodeDef } from '../model-json';
import type { Rewrite, RewriteCount } from './rewrite';
import { FUSE_LAYER_NORMS, SINK_RESHAPES_BELOW_BIAS } from './structural';
import { PACK_ATTENTION_PROJECTIONS, POOL_BEFORE_LAST_PROJECTION, TABULATE_TIMING_SIGNALS } from './use-lite';

export type { Rewrite, RewriteCount } from './rewrite';

/** Every rewrite, in application order. */
export const REWRITES: readonly Rewrite[] = [
  PACK_ATTENTION_PROJECTIONS,
  SINK_RESHAPES_BELOW_BIAS,
  POOL_BEFORE_LAST_PROJECTION,
  FUSE_LAYER_NORMS,
  TABULATE_TIMING_SIGNALS,
];

/** Runs every rewrite in order (or none when `enabled` is false); one count per rewrite, in that order. */
export function applyRewrites(ctx: LoweringContext, tfNodes: readonly TfNodeDef[], enabled: boolean): RewriteCount[] {
  return REWRITES.map((rewrite) => ({ name: rewrite.name, count: enabled ? rewrite.apply(ctx, tfNodes) : 0 }));
}
