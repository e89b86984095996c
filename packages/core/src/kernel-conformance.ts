import type { KernelArray, KernelBackend, KernelName } from './kernels';
import { referenceKernels } from './kernels-reference';
import { createRng } from './random';

/**
 * One conformance suite for every kernel backend (in the style of tfjs's per-backend test
 * registration): each case builds seeded random or adversarial inputs (masked -Infinity classes,
 * logits up to 1e4, column counts that are not a multiple of any vector width, one row, one class,
 * Float32 and Float64), runs the backend and the reference kernels on them and throws an Error
 * naming the first entry that differs by more than the kernel's tolerance. Framework-free: a test
 * file registers `for (const c of kernelConformanceCases()) it(c.name, () => c.run(backend))`, and
 * the same cases run in a browser page.
 */
export interface KernelConformanceCase {
  /** e.g. 'massPass: float32 E, 37 x 13, squared mass'. */
  name: string;
  kernel: KernelName;
  /** Throws when the backend disagrees with the reference; returns false when the backend lacks the kernel. */
  run(backend: KernelBackend): boolean;
}

type Dtype = 'float32' | 'float64';

interface Shape {
  rows: number;
  cols: number;
  /** Fraction of masked (-Infinity) entries (never a whole row). */
  masked: number;
  /** Scale of the logits (1e4 = adversarially large). */
  scale: number;
}

const SHAPES: Shape[] = [
  { rows: 1, cols: 1, masked: 0, scale: 3 },
  { rows: 1, cols: 7, masked: 0, scale: 3 },
  { rows: 5, cols: 1, masked: 0, scale: 3 },
  { rows: 37, cols: 13, masked: 0.2, scale: 4 },
  { rows: 64, cols: 100, masked: 0, scale: 2 },
  { rows: 33, cols: 258, masked: 0.05, scale: 6 },
  { rows: 9, cols: 17, masked: 0, scale: 1e4 },
  { rows: 6, cols: 31, masked: 0.5, scale: 1e4 },
];

function makeArray(dtype: Dtype, n: number): KernelArray {
  return dtype === 'float32' ? new Float32Array(n) : new Float64Array(n);
}

/** Seeded logits of a shape: normal * scale, a boosted class per row, masked entries (never the row maximum). */
function logitsOf(shape: Shape, dtype: Dtype, seed: number): KernelArray {
  const rng = createRng(seed);
  const { rows, cols } = shape;
  const data = makeArray(dtype, rows * cols);
  for (let i = 0; i < rows; i++) {
    const keep = rng.int(cols);
    for (let k = 0; k < cols; k++) {
      const v = shape.scale * rng.normal() + (k === keep ? shape.scale : 0);
      data[i * cols + k] = k !== keep && rng.next() < shape.masked ? Number.NEGATIVE_INFINITY : v;
    }
    data[i * cols + keep] = Math.abs(shape.scale) * 4 + rng.normal();
  }
  return data;
}

function labelsOf(data: KernelArray, rows: number, cols: number, seed: number): Int32Array {
  const rng = createRng(seed);
  const y = new Int32Array(rows);
  for (let i = 0; i < rows; i++) {
    let k = rng.int(cols);
    while (data[i * cols + k] === Number.NEGATIVE_INFINITY) k = (k + 1) % cols;
    y[i] = k;
  }
  return y;
}

function check(what: string, got: number, want: number, tolerance: number): void {
  const ok = got === want || Math.abs(got - want) <= tolerance;
  if (!ok) throw new Error(`${what}: got ${got}, reference ${want} (|diff| ${Math.abs(got - want)} > ${tolerance})`);
}

function checkArrays(what: string, got: ArrayLike<number>, want: ArrayLike<number>, tolerance: (k: number) => number): void {
  if (got.length !== want.length) throw new Error(`${what}: length ${got.length}, reference ${want.length}`);
  for (let k = 0; k < want.length; k++) check(`${what}[${k}]`, got[k]!, want[k]!, tolerance(k));
}

function maxAbsOf(a: ArrayLike<number>): number {
  let m = 0;
  for (let k = 0; k < a.length; k++) m = Math.max(m, Math.abs(a[k]!));
  return m;
}

/** Cache E (and its fill) of the reference, for the pass kernels. */
function referenceCache(shape: Shape, dtype: Dtype, eDtype: Dtype, seed: number, beta: number) {
  const data = logitsOf(shape, dtype, seed);
  const { rows, cols } = shape;
  const E = makeArray(eDtype, rows * cols);
  const rowMax = new Float64Array(rows);
  const rowSum = new Float64Array(rows);
  referenceKernels.expShiftFill!(data, rows, cols, beta, E, rowMax, rowSum);
  return { data, E, rowMax, rowSum };
}

function biasWeights(cols: number, seed: number, spread: number): Float64Array {
  const rng = createRng(seed);
  const b = Float64Array.from({ length: cols }, () => spread * rng.normal());
  let min = Number.POSITIVE_INFINITY;
  for (const v of b) min = Math.min(min, v);
  return b.map((v) => Math.exp(min - v));
}

/**
 * A two-term ensemble problem: f of the shape, d with the same masked entries (so every row keeps
 * a live entry), an offset (optionally with a masked class, never a row's only live entry) and
 * labels on live entries. `ties`: small integers, so rows often have several maxima.
 */
function ensembleProblem(shape: Shape, fDtype: Dtype, dDtype: Dtype, seed: number, maskOffset: boolean, ties = false) {
  const { rows, cols } = shape;
  const f = logitsOf(shape, fDtype, seed);
  const raw = logitsOf({ ...shape, masked: 0 }, 'float64', seed + 1);
  const d = makeArray(dDtype, rows * cols);
  for (let k = 0; k < rows * cols; k++) d[k] = f[k] === Number.NEGATIVE_INFINITY ? Number.NEGATIVE_INFINITY : raw[k]!;
  const rng = createRng(seed + 2);
  if (ties)
    for (let k = 0; k < rows * cols; k++) {
      if (f[k] !== Number.NEGATIVE_INFINITY) f[k] = rng.int(3);
      if (d[k] !== Number.NEGATIVE_INFINITY) d[k] = rng.int(2);
    }
  const offset = Float64Array.from({ length: cols }, () => (ties ? 0 : 0.7 * rng.normal()));
  if (maskOffset && cols > 1) {
    const c = rng.int(cols);
    offset[c] = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < rows; i++) {
      let live = 0;
      for (let k = 0; k < cols; k++) if (k !== c && f[i * cols + k] !== Number.NEGATIVE_INFINITY) live++;
      if (live === 0) {
        const k = (c + 1) % cols;
        f[i * cols + k] = shape.scale;
        d[i * cols + k] = -shape.scale;
      }
    }
  }
  const y = new Int32Array(rows);
  for (let i = 0; i < rows; i++) {
    let k = rng.int(cols);
    while (f[i * cols + k] === Number.NEGATIVE_INFINITY || offset[k] === Number.NEGATIVE_INFINITY) k = (k + 1) % cols;
    y[i] = k;
  }
  return { f, d, offset, y };
}

const name = (shape: Shape) =>
  `${shape.rows} x ${shape.cols}${shape.masked ? `, ${shape.masked * 100}% masked` : ''}, scale ${shape.scale}`;

/** The conformance cases (deterministic; a few hundred kernel calls on small inputs). */
export function kernelConformanceCases(): KernelConformanceCase[] {
  const cases: KernelConformanceCase[] = [];
  const add = (kernel: KernelName, label: string, body: (b: KernelBackend) => void) =>
    cases.push({
      name: `${kernel}: ${label}`,
      kernel,
      run(backend) {
        if (typeof backend[kernel] !== 'function') return false;
        body(backend);
        return true;
      },
    });
  let seed = 1;
  for (const shape of SHAPES) {
    for (const dtype of ['float32', 'float64'] as const) {
      for (const eDtype of ['float32', 'float64'] as const) {
        const s = seed++;
        for (const beta of [1, 0.37]) {
          add('expShiftFill', `${dtype} logits -> ${eDtype} E, ${name(shape)}, beta ${beta}`, (backend) => {
            const data = logitsOf(shape, dtype, s);
            const { rows, cols } = shape;
            const want = {
              E: makeArray(eDtype, rows * cols),
              max: new Float64Array(rows),
              sum: new Float64Array(rows),
              mass: new Float64Array(cols),
            };
            const got = {
              E: makeArray(eDtype, rows * cols),
              max: new Float64Array(rows),
              sum: new Float64Array(rows),
              mass: new Float64Array(cols),
            };
            check('valid rows', referenceKernels.expShiftFill!(data, rows, cols, beta, want.E, want.max, want.sum, want.mass), rows, 0);
            check('valid rows', backend.expShiftFill!(data, rows, cols, beta, got.E, got.max, got.sum, got.mass), rows, 0);
            checkArrays('rowMax', got.max, want.max, () => 0);
            // Float32 E: both within their exp error of exp(x) before rounding; at the -64 cut-off
            // one may store 0 and the other e^-64.
            const rel = eDtype === 'float32' ? 2 * 2 ** -24 + (backend.expRelativeError ?? 0) + 2e-13 : 1e-14;
            checkArrays('E', got.E, want.E, (k) => rel * Math.abs(want.E[k]!) + (eDtype === 'float32' ? 2e-28 : 0));
            checkArrays('rowSum', got.sum, want.sum, (i) => (rel + 1e-14) * want.sum[i]! * 2);
            const m = maxAbsOf(want.mass);
            checkArrays('mass', got.mass, want.mass, () => (rel * 4 + 1e-13) * m * rows);
          });
        }
        for (const squared of [false, true]) {
          add('massPass', `${dtype} logits, ${eDtype} E, ${name(shape)}${squared ? ', squared mass' : ''}`, (backend) => {
            const { E } = referenceCache(shape, dtype, eDtype, s, 1);
            const { rows, cols } = shape;
            const w = biasWeights(cols, s + 1000, 2);
            const want = { sum: new Float64Array(rows), mass: new Float64Array(cols), sq: new Float64Array(cols) };
            const got = { sum: new Float64Array(rows), mass: new Float64Array(cols).fill(0.5), sq: new Float64Array(cols).fill(0.25) };
            want.mass.fill(0.5);
            want.sq.fill(0.25);
            referenceKernels.massPass!(E, rows, cols, w, want.sum, want.mass, squared ? want.sq : undefined);
            backend.massPass!(E, rows, cols, w, got.sum, got.mass, squared ? got.sq : undefined);
            checkArrays('rowSum', got.sum, want.sum, (i) => 1e-13 * want.sum[i]!);
            const m = maxAbsOf(want.mass);
            checkArrays('mass', got.mass, want.mass, () => 1e-12 * m * Math.max(1, rows / 8));
            const q = maxAbsOf(want.sq);
            checkArrays('squaredMass', got.sq, want.sq, () => 1e-12 * q * Math.max(1, rows / 8));
          });
        }
        add('selectAbove', `${dtype} logits, ${eDtype} E, ${name(shape)}`, (backend) => {
          const { E, rowSum } = referenceCache(shape, dtype, eDtype, s, 1);
          const { rows, cols } = shape;
          const w = biasWeights(cols, s + 2000, 1);
          const cut = rowSum.map((v, i) => v * (i % 3 === 0 ? 0.002 : 0.05) * w[0]!);
          for (const capacity of [rows * cols, Math.max(1, Math.floor(cols / 2))]) {
            const wi = new Int32Array(capacity);
            const wo = new Int32Array(rows + 1);
            const gi = new Int32Array(capacity);
            const go = new Int32Array(rows + 1);
            const start = rows > 2 ? 1 : 0;
            const wantDone = referenceKernels.selectAbove!(E, start, rows, cols, w, cut, wi, wo);
            const gotDone = backend.selectAbove!(E, start, rows, cols, w, cut, gi, go);
            check(`rows completed (capacity ${capacity})`, gotDone, wantDone, 0);
            checkArrays('offsets', go.subarray(0, wantDone + 1), wo.subarray(0, wantDone + 1), () => 0);
            checkArrays('index', gi.subarray(0, wo[wantDone]!), wi.subarray(0, wo[wantDone]!), () => 0);
          }
        });
      }
      const s = seed++;
      for (const beta of [1, 0.05, 3]) {
        add('rowLogSumExp', `${dtype}, ${name(shape)}, beta ${beta}`, (backend) => {
          const data = logitsOf(shape, dtype, s);
          const want = new Float64Array(shape.rows);
          const got = new Float64Array(shape.rows);
          referenceKernels.rowLogSumExp!(data, shape.rows, shape.cols, beta, want);
          backend.rowLogSumExp!(data, shape.rows, shape.cols, beta, got);
          checkArrays('logSumExp', got, want, (i) => 1e-14 * Math.max(1, Math.abs(want[i]!)) * 4);
        });
        add('temperatureNll', `${dtype}, ${name(shape)}, beta ${beta}`, (backend) => {
          const data = logitsOf(shape, dtype, s);
          const y = labelsOf(data, shape.rows, shape.cols, s + 7);
          const want = referenceKernels.temperatureNll!(data, shape.rows, shape.cols, y, beta);
          const got = backend.temperatureNll!(data, shape.rows, shape.cols, y, beta);
          const scale = shape.rows * Math.max(1, shape.scale * 8);
          check('value', got.value, want.value, 1e-13 * Math.max(Math.abs(want.value), scale * beta));
          check('d1', got.d1, want.d1, 1e-13 * scale);
          check('d2', got.d2, want.d2, 1e-12 * Math.max(Math.abs(want.d2), scale * shape.scale * 8));
        });
      }
    }
  }
  for (const shape of [...SHAPES, { rows: 130, cols: 9, masked: 0, scale: 1 }, { rows: 41, cols: 1000, masked: 0.01, scale: 3 }]) {
    for (const [fDtype, dDtype] of [
      ['float32', 'float32'],
      ['float32', 'float64'],
      ['float64', 'float32'],
      ['float64', 'float64'],
    ] as const) {
      const s = seed++;
      for (const [label, single, withOffset, maskOffset, ties] of [
        ['two terms, offset', false, true, shape.masked > 0, false],
        ['two terms, no offset', false, false, false, false],
        ['one term, offset', true, true, shape.masked > 0, false],
        ['one term, no offset', true, false, false, false],
        ['two terms, tied maxima', false, false, false, true],
      ] as const) {
        if (single && dDtype !== fDtype) continue; // d unused: one case per f dtype
        for (const derivatives of [false, true]) {
          const what = `${single ? fDtype : `${fDtype} f, ${dDtype} d`}, ${label}${maskOffset ? ' (a masked class)' : ''}, ${name(shape)}${derivatives ? ', derivatives' : ''}`;
          add('ensembleNll', what, (backend) => {
            const { rows, cols } = shape;
            const p = ensembleProblem(shape, fDtype, dDtype, s, maskOffset, ties);
            const d = single ? undefined : p.d;
            const offset = withOffset ? p.offset : undefined;
            // A zero weight (WiSE's alpha = 0 / 1, a projected fit at its bound) where nothing is masked.
            const [a, b] = ties
              ? [1, 1]
              : shape.scale > 100
                ? [0.013, 0.007]
                : !withOffset && !single && shape.masked === 0
                  ? [0, 1.1]
                  : [0.8, 1.3];
            const wantLoss = new Float64Array(rows);
            const gotLoss = new Float64Array(rows).fill(Number.NaN);
            const want = referenceKernels.ensembleNll!(p.f, d, rows, cols, p.y, a, b, offset, { derivatives, rowLoss: wantLoss });
            const got = backend.ensembleNll!(p.f, d, rows, cols, p.y, a, b, offset, { derivatives, rowLoss: gotLoss });
            // |l| is at most ~ (|a| + |b|) 5 scale + |offset| (a sixth of it for the large-scale weights).
            const size = Math.max(1, (a + b) * shape.scale * 6);
            check('correct', got.correct, want.correct, 0);
            checkArrays('rowLoss', gotLoss, wantLoss, (i) => 1e-13 * Math.max(Math.abs(wantLoss[i]!), size));
            check('value', got.value, want.value, 1e-13 * Math.max(Math.abs(want.value), size * rows));
            const u = 10 * shape.scale; // bound of |f - f_y| and |d - d_y|
            check('gradA', got.gradA, want.gradA, 1e-12 * rows * u);
            check('gradB', got.gradB, want.gradB, 1e-12 * rows * u);
            check('hessAA', got.hessAA, want.hessAA, 1e-12 * rows * u * u);
            check('hessAB', got.hessAB, want.hessAB, 1e-12 * rows * u * u);
            check('hessBB', got.hessBB, want.hessBB, 1e-12 * rows * u * u);
            if (!derivatives || single) {
              for (const k of ['gradB', 'hessAB', 'hessBB'] as const) check(`${k} (not requested)`, got[k], 0, 0);
              if (!derivatives) for (const k of ['gradA', 'hessAA'] as const) check(`${k} (not requested)`, got[k], 0, 0);
            }
          });
        }
      }
    }
  }
  for (const [rows, cols] of [
    [1, 1],
    [3, 7],
    [40, 13],
    [17, 258],
  ] as const) {
    for (const dtype of ['float32', 'float64'] as const) {
      const s = seed++;
      add('firstNonFiniteRow', `${dtype} ${rows} x ${cols} with NaN / +-Infinity planted`, (backend) => {
        const rng = createRng(s);
        const data = makeArray(dtype, rows * cols).map(() => rng.normal() * 1e4);
        for (const v of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY])
          if (rng.next() < 0.8) data[rng.int(rows * cols)] = v;
        for (let start = 0; start <= rows; start++)
          check(
            `from row ${start}`,
            backend.firstNonFiniteRow!(data, start, rows, cols),
            referenceKernels.firstNonFiniteRow!(data, start, rows, cols),
            0,
          );
        const clean = makeArray(dtype, rows * cols).map(() => rng.normal());
        check('clean matrix', backend.firstNonFiniteRow!(clean, 0, rows, cols), rows, 0);
      });
    }
  }
  for (const [m, n, k] of [
    [1, 1, 1],
    [1, 5, 3],
    [7, 3, 1],
    [9, 11, 13],
    [33, 22, 512],
    [64, 100, 37],
    [5, 130, 257],
  ] as const) {
    for (const dtype of ['float32', 'float64'] as const) {
      const s = seed++;
      add('gemmABt', `${dtype} ${m} x ${k} times (${n} x ${k})^T`, (backend) => {
        const rng = createRng(s);
        const A = makeArray(dtype, m * k).map(() => rng.normal());
        const B = makeArray(dtype, n * k).map(() => rng.normal() * 1e3);
        const want = new Float64Array(m * n);
        const got = new Float64Array(m * n).fill(Number.NaN);
        referenceKernels.gemmABt!(A, m, B, n, k, want);
        backend.gemmABt!(A, m, B, n, k, got);
        checkArrays('out', got, want, (x) => {
          const i = Math.floor(x / n);
          const j = x % n;
          let bound = 0;
          for (let d = 0; d < k; d++) bound += Math.abs(A[i * k + d]! * B[j * k + d]!);
          return 4e-16 * k * bound;
        });
      });
    }
  }
  // The fill's fused validation: the first row with a NaN, a +Infinity or only -Infinity entries.
  for (const dtype of ['float32', 'float64'] as const) {
    for (const eDtype of ['float32', 'float64'] as const) {
      for (const [what, bad] of [
        ['NaN', Number.NaN],
        ['+Infinity', Number.POSITIVE_INFINITY],
        ['a fully masked row', Number.NEGATIVE_INFINITY],
      ] as const) {
        add('expShiftFill', `${dtype} logits -> ${eDtype} E, invalid rows (${what})`, (backend) => {
          const shape = { rows: 23, cols: 13, masked: 0.2, scale: 3 };
          for (const [row, col] of [
            [0, 0],
            [22, 12],
            [9, 5],
            [14, 0],
          ] as const) {
            const data = logitsOf(shape, dtype, 77 + row);
            if (Number.isNaN(bad) || bad === Number.POSITIVE_INFINITY) data[row * shape.cols + col] = bad;
            else data.fill(bad, row * shape.cols, (row + 1) * shape.cols);
            const out = () =>
              [makeArray(eDtype, shape.rows * shape.cols), new Float64Array(shape.rows), new Float64Array(shape.rows)] as const;
            const [E, max, sum] = out();
            check(
              `first invalid row, entry (${row}, ${col})`,
              backend.expShiftFill!(data, shape.rows, shape.cols, 1, E, max, sum, new Float64Array(shape.cols)),
              row,
              0,
            );
          }
        });
      }
    }
  }
  return cases;
}
