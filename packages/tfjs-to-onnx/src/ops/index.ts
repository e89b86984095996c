/**
 * The registry of TF op lowerings: one table per op family, merged. Adding an op = one entry in
 * its family's table (an op claimed by two families is an error at load time).
 */
import { CONV_POOL } from './conv-pool';
import { ELEMENTWISE } from './elementwise';
import { GATHER_SCATTER } from './gather-scatter';
import type { Lowering } from './lowering';
import { MATRICES } from './matrices';
import { REDUCTIONS } from './reductions';
import { SHAPES } from './shapes';

export type { LowerArgs, Lowering } from './lowering';

function merge(families: Record<string, Readonly<Record<string, Lowering>>>): Readonly<Record<string, Lowering>> {
  const all: Record<string, Lowering> = {};
  const owner: Record<string, string> = {};
  for (const [family, table] of Object.entries(families)) {
    for (const [op, lowering] of Object.entries(table)) {
      if (owner[op]) throw new Error(`internal: TF op '${op}' is lowered by both ${owner[op]} and ${family}`);
      owner[op] = family;
      all[op] = lowering;
    }
  }
  return all;
}

/** Every TF op type the converter lowers (Const, Placeholder, NoOp are handled by the driver). */
export const LOWERINGS: Readonly<Record<string, Lowering>> = merge({
  ELEMENTWISE,
  MATRICES,
  CONV_POOL,
  REDUCTIONS,
  SHAPES,
  GATHER_SCATTER,
});
