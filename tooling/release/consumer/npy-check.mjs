// The `gla prior` check of the consumer test, with its own .npy writer and reader (no GLA code):
//   node npy-check.mjs write   writes Z.npy (N x C float64), Y.npy (N int64) and Z0.npy (zeros)
//   node npy-check.mjs check   checks q.npy (from Z, Y, calibrated T) and q0.npy (from Z0, T = 1)
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';

const N = 300;
const C = 4;

function npy(descr, shape, data) {
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  header += ' '.repeat(63 - ((10 + header.length) % 64)) + '\n';
  const head = Buffer.concat([
    Buffer.from([0x93]),
    Buffer.from('NUMPY'),
    Buffer.from([1, 0]),
    Buffer.alloc(2),
    Buffer.from(header, 'latin1'),
  ]);
  head.writeUInt16LE(header.length, 8);
  return Buffer.concat([head, Buffer.from(data.buffer, data.byteOffset, data.byteLength)]);
}

function readVector(file) {
  const b = readFileSync(file);
  assert.equal(b.subarray(1, 6).toString('latin1'), 'NUMPY', `${file}: not .npy`);
  const len = b.readUInt16LE(8);
  const header = b.subarray(10, 10 + len).toString('latin1');
  assert.match(header, /'descr': '<f8'/, `${file}: expected float64, header ${header}`);
  const body = b.subarray(10 + len);
  return new Float64Array(body.buffer.slice(body.byteOffset, body.byteOffset + body.byteLength));
}

function data() {
  let s = 987654321;
  const u = () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 2147483648;
  };
  const y = Array.from({ length: N }, (_, i) => [0, 0, 0, 1, 1, 2, 3][i % 7]);
  const z = new Float64Array(N * C);
  for (let i = 0; i < N; i++) for (let c = 0; c < C; c++) z[i * C + c] = 3 * u() + (c === y[i] ? 1.5 : 0) - (c === 0 ? 1 : 0);
  const hist = new Float64Array(C);
  for (const label of y) hist[label] += 1 / N;
  return { z, y, hist };
}

const { z, y, hist } = data();
if (process.argv[2] === 'write') {
  writeFileSync('Z.npy', npy('<f8', [N, C], z));
  writeFileSync('Y.npy', npy('<i8', [N], BigInt64Array.from(y, BigInt)));
  writeFileSync('Z0.npy', npy('<f8', [N, C], new Float64Array(N * C)));
} else {
  // 1. q from Z, Y at the calibrated T: the mean of softmax(z / T - log q) equals the label histogram.
  const q = readVector('q.npy');
  const { temperature: T } = JSON.parse(readFileSync('q.npy.json', 'utf8'));
  assert.ok(T > 0, `temperature ${T}`);
  const mean = new Float64Array(C);
  for (let i = 0; i < N; i++) {
    const a = Array.from({ length: C }, (_, c) => z[i * C + c] / T - Math.log(q[c]));
    const m = Math.max(...a);
    const s = a.reduce((t, v) => t + Math.exp(v - m), 0);
    for (let c = 0; c < C; c++) mean[c] += Math.exp(a[c] - m) / s / N;
  }
  const gap = Math.max(...mean.map((v, c) => Math.abs(v - hist[c])));
  assert.ok(gap <= 1e-9, `gla prior: optimality gap ${gap} > 1e-9`);
  assert.ok(Math.abs(q.reduce((t, v) => t + v, 0) - 1) < 1e-12, 'q sums to 1');
  // 2. Zero logits at T = 1 have the closed-form optimum q_c = (1 / pi_c) / sum_k (1 / pi_k).
  const q0 = readVector('q0.npy');
  const inv = Array.from(hist, (h) => 1 / h);
  const total = inv.reduce((t, v) => t + v, 0);
  const err0 = Math.max(...inv.map((v, c) => Math.abs(v / total - q0[c])));
  assert.ok(err0 <= 1e-12, `gla prior on zero logits: max error ${err0} against the closed form`);
  console.log(
    `gla prior: T = ${T.toPrecision(6)}, q = [${Array.from(q, (v) => v.toFixed(6)).join(', ')}], optimality gap ${gap.toExponential(2)}; ` +
      `zero logits: max error ${err0.toExponential(2)} against the closed form`,
  );
}
