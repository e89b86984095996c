// Consumer check, CommonJS: the require() builds load and give the same numbers as the ES builds.
const assert = require('node:assert/strict');
const core = require('@gla/core');
// Every entry point every installed @gla package declares (from its package.json "exports").
const { readdirSync, readFileSync } = require('node:fs');
const { join } = require('node:path');
const scope = join(__dirname, 'node_modules', '@gla');
let count = 0;
for (const dir of readdirSync(scope)) {
  const pkg = JSON.parse(readFileSync(join(scope, dir, 'package.json'), 'utf8'));
  for (const key of Object.keys(pkg.exports ?? {})) {
    if (key === './package.json') continue;
    const name = key === '.' ? pkg.name : `${pkg.name}/${key.slice(2)}`;
    assert.equal(typeof require(name), 'object', name);
    count++;
  }
}
assert.ok(count >= 18, `only ${count} entry points`);
assert.throws(
  () => require('@gla/tfjs-to-onnx/node').resolveModelPackageDir('@gla/no-such-model-package', __dirname),
  (e) => e instanceof require('@gla/tfjs-to-onnx').ConversionError,
);
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
  console.log(`cjs: ${count} entry points, q = [${Array.from(est.prior, (v) => v.toFixed(6)).join(', ')}] (same as the ES build)`);
});
