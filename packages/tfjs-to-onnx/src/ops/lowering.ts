/** What every lowering shares: its arguments and input/axis helpers. */
import type { LoweringContext, Value } from '../context';
import { ConversionError } from '../errors';
import type { TfNodeDef } from '../model-json';

/** What a lowering sees: the TF node, its (data) inputs, and how to publish its outputs. */
export interface LowerArgs {
  node: TfNodeDef;
  inputs: Value[];
  ctx: LoweringContext;
  /** The ONNX name a TF output should get: the TF tensor name ('node' or 'node:i'). */
  out(index?: number): string;
  /** Publish TF output `index` (default 0). */
  define(value: Omit<Value, 'hint'>, index?: number): void;
}

/** Lowers one TF node: emits ONNX nodes into `args.ctx` and defines the node's outputs. */
export type Lowering = (args: LowerArgs) => void;

/** Data input `i` of the node. @throws ConversionError 'bad-model-json' when the node has fewer inputs. */
export function input(a: LowerArgs, i: number): Value {
  const v = a.inputs[i];
  if (!v) {
    throw new ConversionError(
      'bad-model-json',
      `node '${a.node.name}' (${a.node.op}) needs at least ${i + 1} input(s), it has ${a.inputs.length}`,
      { node: a.node.name },
    );
  }
  return v;
}

/** A possibly negative axis as an index into a shape of `rank` dims. */
export function normalizeAxis(axis: number, rank: number): number {
  return axis < 0 ? axis + rank : axis;
}
