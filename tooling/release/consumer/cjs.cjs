// Consumer check, CommonJS: the require() builds load and give the same numbers as the ES builds.
const assert = require('node:assert/strict');
const core = require('@gla/core');
for (const name of [
  '@gla/datasets',
  '@gla/encoders',
  '@gla/encoders/node',
  '@gla/onnx-builder',
  '@gla/onnx-node',
  '@gla/onnx-web',
  '@gla/runtime',
  '@gla/runtime/conformance',
  '@gla/tfjs-to-onnx',
  '@gla/tfjs-to-onnx/browser',
]) {
  assert.equal(typeof require(name), 'object', name);
}
assert.equal(require('@gla/tfjs-to-onnx').ConversionError, require('@gla/tfjs-to-onnx/browser').ConversionError);
const z = core.matrix(new Float64Array([2, 0, 0, 0, 2, 0, 0, 0, 2, 1, 1, 0]), 4, 3);
const est = core.estimatePrior(z, new Int32Array([0, 1, 2, 0]), { temperature: 1 });
assert.ok(est.converged && Math.abs(est.prior.reduce((a, b) => a + b, 0) - 1) < 1e-12);
// An error thrown through the ./node entry is the root entry's class (one chunk per format).
const pending = require('@gla/encoders/node')
  .decodeImage(new Uint8Array([0, 1, 2, 3]))
  .then(
    () => assert.fail('decodeImage accepted 4 bytes'),
    (e) => assert.ok(e instanceof require('@gla/encoders').EncoderError, `not an EncoderError: ${e}`),
  );
Promise.all([pending, import('@gla/core')]).then(([, esm]) => {
  const again = esm.estimatePrior(z, new Int32Array([0, 1, 2, 0]), { temperature: 1 });
  assert.deepEqual(Array.from(again.prior), Array.from(est.prior));
  console.log(`cjs: 11 entry points, q = [${Array.from(est.prior, (v) => v.toFixed(6)).join(', ')}] (same as the ES build)`);
});
