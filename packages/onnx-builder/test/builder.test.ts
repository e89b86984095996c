import fc from 'fast-check';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { attr, decodeModel, GraphBuilder, initializerTensor, OnnxFormatError } from '../src/index';

function affineModel(): Uint8Array {
  const g = new GraphBuilder('affine');
  g.addInput('x', 'float32', ['batch', 3]);
  g.addInitializer('w', 'float32', [3, 2], new Float32Array([1, 2, 3, 4, 5, 6]));
  g.addInitializer('b', 'float32', [2], new Float32Array([0.5, -0.5]));
  g.addNode('MatMul', ['x', 'w'], ['xw']);
  g.addNode('Add', ['xw', 'b'], ['y']);
  g.addNode('Softmax', ['y'], ['p'], { axis: -1 });
  g.addNode('ReduceSum', ['p'], ['s'], { keepdims: 0 }, { name: 'sum' });
  g.addOutput('y', 'float32', ['batch', 2]);
  g.addOutput('p', 'float32', ['batch', 2]);
  return g.toBytes({ opsetVersion: 17 });
}

describe('GraphBuilder', () => {
  it('writes a model that onnxruntime runs with the expected numbers', async () => {
    const session = await ort.InferenceSession.create(affineModel());
    expect(session.inputNames).toEqual(['x']);
    expect(session.outputNames).toEqual(['y', 'p']);
    const x = new Float32Array([1, 0, 0, 0, 1, -1]);
    const out = await session.run({ x: new ort.Tensor('float32', x, [2, 3]) });
    expect(Array.from(out.y!.data as Float32Array)).toEqual([1.5, 1.5, -1.5, -2.5]);
    const p = out.p!.data as Float32Array;
    expect(p[0]! + p[1]!).toBeCloseTo(1, 6);
    await session.release();
  });

  it('round-trips through decodeModel', () => {
    const model = decodeModel(affineModel());
    expect(model.irVersion).toBe(8);
    expect(model.opsetImports).toEqual([{ domain: '', version: 17 }]);
    expect(model.graph.inputs).toEqual([{ name: 'x', dtype: 'float32', shape: ['batch', 3] }]);
    expect(model.graph.outputs.map((o) => o.name)).toEqual(['y', 'p']);
    expect(model.graph.nodes.map((n) => n.opType)).toEqual(['MatMul', 'Add', 'Softmax', 'ReduceSum']);
    expect(model.graph.nodes[2]!.attributes).toEqual({ axis: { kind: 'int', value: -1 } });
    const w = initializerTensor(model.graph.initializers[0]!);
    expect(w.dims).toEqual([3, 2]);
    expect(Array.from(w.data as Float32Array)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('encodes every attribute kind, int64 tensors and negative integers', async () => {
    const g = new GraphBuilder('attrs');
    g.addInput('x', 'float32', [2, 3]);
    g.addInitializer('shape', 'int64', [2], new BigInt64Array([3n, -1n]));
    g.addNode('Reshape', ['x', 'shape'], ['r']);
    g.addNode('Transpose', ['r'], ['t'], { perm: [1, 0] });
    g.addNode('LeakyRelu', ['t'], ['l'], { alpha: attr.float(0.25) });
    g.addNode('Constant', [], ['c'], { value: attr.tensor({ dtype: 'float32', dims: [1], data: new Float32Array([2]) }) });
    g.addNode('Mul', ['l', 'c'], ['y']);
    g.addOutput('y', 'float32', [2, 3]);
    const bytes = g.toBytes();
    const decoded = decodeModel(bytes);
    expect(decoded.graph.nodes[1]!.attributes['perm']).toEqual({ kind: 'ints', value: [1, 0] });
    expect(decoded.graph.nodes[2]!.attributes['alpha']).toEqual({ kind: 'float', value: 0.25 });
    expect(Array.from(initializerTensor(decoded.graph.initializers[0]!).data as BigInt64Array)).toEqual([3n, -1n]);
    const session = await ort.InferenceSession.create(bytes);
    const out = await session.run({ x: new ort.Tensor('float32', new Float32Array([1, -2, 3, -4, 5, -6]), [2, 3]) });
    // reshape [[1,-2],[3,-4],[5,-6]] -> transpose [[1,3,5],[-2,-4,-6]] -> leaky relu -> *2
    expect(Array.from(out.y!.data as Float32Array)).toEqual([2, 6, 10, -1, -2, -3]);
    await session.release();
  });

  it('is deterministic', () => {
    expect(affineModel()).toEqual(affineModel());
  });

  it('refuses graphs that read values nobody produces, duplicate names and wrong data sizes', () => {
    const g = new GraphBuilder();
    g.addInput('x', 'float32', [1]);
    expect(() => g.addNode('Relu', ['nope'], ['y'])).toThrow(/'nope'/);
    expect(() => g.addInput('x', 'float32', [1])).toThrow(OnnxFormatError);
    expect(() => g.addInitializer('w', 'float32', [2, 2], new Float32Array(3))).toThrow(/4 elements but data has 3/);
    expect(() => g.addInitializer('v', 'int64', [2], new Float32Array(2))).toThrow(/8-byte elements/);
    g.addOutput('z', 'float32', [1]);
    expect(() => g.toBytes()).toThrow(/'z' is never produced/);
  });
});

describe('decodeModel on bad input', () => {
  it('names truncation, non-protobuf and non-ONNX input with stable codes', () => {
    const bytes = affineModel();
    const code = (b: Uint8Array) => {
      try {
        decodeModel(b);
        return 'ok';
      } catch (e) {
        expect(e).toBeInstanceOf(OnnxFormatError);
        return (e as OnnxFormatError).code;
      }
    };
    expect(code(bytes.subarray(0, bytes.length - 10))).toBe('truncated');
    expect(code(new Uint8Array(0))).toBe('not-onnx');
    expect(code(new TextEncoder().encode('{"format": "graph-model"}'))).not.toBe('ok');
    expect(code(new Uint8Array([0x08, 0x08]))).toBe('not-onnx'); // ir_version only, no graph
  });

  it('never hangs or throws anything but OnnxFormatError on random and mutated bytes', () => {
    const model = affineModel();
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 256 }), (b) => {
        try {
          decodeModel(b);
        } catch (e) {
          expect(e).toBeInstanceOf(OnnxFormatError);
        }
      }),
      { numRuns: 500 },
    );
    fc.assert(
      fc.property(fc.nat(model.length - 1), fc.integer({ min: 0, max: 255 }), fc.nat(model.length), (i, v, cut) => {
        const mutated = model.slice(0, Math.max(cut, i + 1));
        mutated[i] = v;
        try {
          decodeModel(mutated);
        } catch (e) {
          expect(e).toBeInstanceOf(OnnxFormatError);
        }
      }),
      { numRuns: 500 },
    );
  });
});
