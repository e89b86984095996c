import type { Dim, IrInitializer, IrNode, LoweringContext } from '../context';

/** The lookups every rewrite needs over the lowered graph, built once per rewrite (the graph changes between them). */
export interface GraphIndex {
  inits: Map<string, IrInitializer>;
  /** The node that outputs a value. */
  producer: Map<string, IrNode>;
  /** The nodes that read a value (one entry per input slot). */
  readers(name: string): IrNode[];
  /** The only reader of a value, if it has exactly one. */
  onlyReader(name: string): IrNode | undefined;
  /** Values of an int64 initializer (axes, sizes), or undefined. */
  int64s(name: string | undefined): number[] | undefined;
  /** Static shape recorded while lowering (TF-named values; looks through the int64 Casts added for ONNX index inputs). */
  shapeOf(name: string): Dim[] | undefined;
}

/** Index the current graph (call again after changing it). */
export function indexGraph(ctx: LoweringContext): GraphIndex {
  const inits = new Map<string, IrInitializer>(ctx.initializers.map((i) => [i.name, i]));
  const producer = new Map<string, IrNode>();
  const readerLists = new Map<string, IrNode[]>();
  for (const n of ctx.nodes) {
    for (const o of n.outputs) producer.set(o, n);
    for (const i of n.inputs) {
      const list = readerLists.get(i);
      if (list) list.push(n);
      else readerLists.set(i, [n]);
    }
  }
  const shapes = new Map<string, Dim[] | undefined>();
  for (const v of ctx.values.values()) if (v.name) shapes.set(v.name, v.shape);
  const readers = (name: string) => readerLists.get(name) ?? [];
  return {
    inits,
    producer,
    readers,
    onlyReader: (name) => {
      const r = readers(name);
      return r.length === 1 ? r[0] : undefined;
    },
    int64s: (name) => {
      const i = name === undefined ? undefined : inits.get(name);
      return i?.dtype === 'int64' ? Array.from(i.data as BigInt64Array, Number) : undefined;
    },
    shapeOf: (name) => {
      if (shapes.has(name)) return shapes.get(name);
      const cast = producer.get(name);
      return cast?.opType === 'Cast' ? shapes.get(cast.inputs[0]!) : undefined;
    },
  };
}
