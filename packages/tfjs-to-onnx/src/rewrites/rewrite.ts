import type { LoweringContext } from '../context';
import type { TfNodeDef } from '../model-json';

/**
 * A graph rewrite on the lowered ONNX graph (`ctx.nodes` / `ctx.initializers`, changed in place)
 * that makes it cheaper to run without changing what the outputs compute (up to float summation
 * order). A rewrite that finds nothing to match leaves the graph alone and returns 0.
 */
export interface Rewrite {
  /** Stable kebab-case name, as reported in `ConversionReport.rewrites`. */
  readonly name: string;
  /** One line: what the rewrite changes. */
  readonly description: string;
  /** Applies the rewrite; returns the number of places it rewrote. `tfNodes`: the TF nodes the outputs depend on. */
  apply(ctx: LoweringContext, tfNodes: readonly TfNodeDef[]): number;
}

/** How many places one rewrite changed in a conversion. */
export interface RewriteCount {
  /** `Rewrite.name`. */
  name: string;
  /** Places rewritten (0: nothing matched, or `optimize: false`). */
  count: number;
}
