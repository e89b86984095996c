// Consumer check, ES modules: every entry point of every package loads from the installed
// tarballs, the prior estimate meets its optimality condition, errors thrown by the CommonJS copy
// are recognised by the ES module copy, and onnx-node runs a model built with onnx-builder.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

// Every entry point every installed @gla package declares (from its package.json "exports").
const scope = new URL('./node_modules/@gla/', import.meta.url);
const entries = [];
for (const dir of readdirSync(scope)) {
  const pkg = JSON.parse(readFileSync(new URL(`${dir}/package.json`, scope), 'utf8'));
  for (const key of Object.keys(pkg.exports ?? {}))
    if (key !== './package.json') entries.push(key === '.' ? pkg.name : `${pkg.name}/${key.slice(2)}`);
}
assert.ok(entries.length >= 18, `only ${entries.length} entry points: ${entries.join(', ')}`);
const loaded = {};
for (const entry of entries) loaded[entry] = await import(entry);
const core = loaded['@gla/core'];
const datasets = loaded['@gla/datasets'];
const encoders = loaded['@gla/encoders'];
const encodersNode = loaded['@gla/encoders/node'];
const builder = loaded['@gla/onnx-builder'];
const runtime = loaded['@gla/runtime'];
const conformance = loaded['@gla/runtime/conformance'];
const tfjs = loaded['@gla/tfjs-to-onnx'];
const tfjsNode = loaded['@gla/tfjs-to-onnx/node'];
const onnxWeb = loaded['@gla/onnx-web'];
const onnxNode = loaded['@gla/onnx-node'];

assert.equal(typeof encodersNode.readImageFile, 'function');
assert.equal(typeof conformance.runConformance, 'function');
assert.equal(typeof onnxWeb.createWebRuntime, 'function');
assert.equal(typeof loaded['@gla/protocols'].runFewShot, 'function');
assert.equal(typeof loaded['@gla/core/reference'].estimatePriorReference, 'function');
// An error thrown through ./node is the root entry's class (one chunk per format).
assert.throws(
  () => tfjsNode.resolveModelPackageDir('@gla/no-such-model-package', import.meta.url),
  (e) => e instanceof tfjs.ConversionError,
  'one ConversionError for . and ./node',
);

// Seeded logits for N = 400, C = 5 (LCG, no library involved), labels cycling with unequal counts.
let state = 12345;
const uniform = () => {
  state = (state * 1103515245 + 12345) % 2147483648;
  return state / 2147483648;
};
const N = 400;
const C = 5;
const z = new Float64Array(N * C).map(() => 4 * uniform() - 2);
const y = Int32Array.from({ length: N }, (_, i) => (i % 7) % C);
const est = core.estimatePrior(core.matrix(z, N, C), y, { temperature: 1 });
// Optimality: mean over rows of softmax(z_i - log q) equals the label histogram.
const mean = new Float64Array(C);
for (let i = 0; i < N; i++) {
  let m = -Infinity;
  for (let c = 0; c < C; c++) m = Math.max(m, z[i * C + c] - est.logPrior[c]);
  let s = 0;
  for (let c = 0; c < C; c++) s += Math.exp(z[i * C + c] - est.logPrior[c] - m);
  for (let c = 0; c < C; c++) mean[c] += Math.exp(z[i * C + c] - est.logPrior[c] - m) / s / N;
}
const hist = new Float64Array(C);
for (const label of y) hist[label] += 1 / N;
const gap = Math.max(...mean.map((v, c) => Math.abs(v - hist[c])));
assert.ok(gap < 1e-9, `optimality gap ${gap}`);
assert.ok(Math.abs(est.prior.reduce((a, b) => a + b, 0) - 1) < 1e-12);

// The CommonJS copy of each package throws errors the ES module copy recognises.
const pairs = [
  ['@gla/core', core, 'GlaError', 'isGlaError', 'shape-mismatch'],
  ['@gla/datasets', datasets, 'DatasetError', 'isDatasetError', 'truncated'],
  ['@gla/encoders', encoders, 'EncoderError', 'isEncoderError', 'invalid-input'],
  ['@gla/onnx-builder', builder, 'OnnxFormatError', 'isOnnxFormatError', 'invalid'],
  ['@gla/runtime', runtime, 'RuntimeError', 'isRuntimeError', 'released'],
  ['@gla/tfjs-to-onnx', tfjs, 'ConversionError', 'isConversionError', 'bad-input'],
];
for (const [name, esm, cls, guard, code] of pairs) {
  const cjs = require(name);
  assert.notEqual(cjs[cls], esm[cls], `${name}: expected two copies`);
  const e = new cjs[cls](code, 'from the CommonJS build', { cause: 'x', where: 1 });
  assert.ok(e instanceof esm[cls], `${name}: CJS ${cls} instanceof ESM ${cls}`);
  assert.ok(esm[guard](e, code) && !esm[guard](e, 'no-such-code') && !esm[guard](new Error('x')), `${name}: ${guard}`);
  assert.deepEqual([e.code, e.cause, e.details], [code, 'x', { where: 1 }]);
}
const cjsCore = require('@gla/core');
assert.throws(() => cjsCore.estimatePrior(cjsCore.matrix(new Float64Array(6), 2, 3), new Int32Array(5)), core.GlaError);
assert.throws(
  () => datasets.decodeNpy(new Uint8Array([1, 2, 3])),
  (e) => require('@gla/datasets').isDatasetError(e),
);

// onnx-node runs a model built by onnx-builder (onnxruntime-node installed with ONNXRUNTIME_NODE_INSTALL=skip).
const g = new builder.GraphBuilder('softmax');
g.addInput('x', 'float32', ['batch', 3]);
g.addNode('Softmax', ['x'], ['p'], { axis: -1 });
g.addOutput('p', 'float32', ['batch', 3]);
const session = await onnxNode.createNodeRuntime().load(g.toBytes());
const out = await session.run({ x: { dtype: 'float32', dims: [1, 3], data: new Float32Array([0, 0, Math.log(2)]) } });
assert.deepEqual(
  Array.from(out.p.data, (v) => Math.round(v * 1e6) / 1e6),
  [0.25, 0.25, 0.5],
);
await session.release();

console.log(
  `esm: ${entries.length} entry points, optimality gap ${gap.toExponential(2)}, errors recognised across copies for ${pairs.length} packages, onnx-node ok`,
);
