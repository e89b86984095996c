// The ensemble-weight functions as they were before the ensembleNll kernel (combineLogits + the
// metrics' scalar loops), kept verbatim as an independent computation: test/ensemble-kernel.test.ts
// compares the kernel-based functions with them, and packages/kernels-wasm/bench/ensemble.bench.ts
// times them as the baseline.
import {
  accuracy,
  calibrateTemperature,
  combineLogits,
  foldRows,
  type Matrix,
  negativeLogLikelihood,
  pairedZStatistic,
  rowNegativeLogLikelihood,
  takeLabels,
  takeRows,
} from '../src/index';

function hasNonZero(v: ArrayLike<number> | undefined): boolean {
  if (!v) return false;
  for (let c = 0; c < v.length; c++) if (v[c] !== 0) return true;
  return false;
}

/** calibrateTemperatureWithOffset, method 'nll' (golden section over combineLogits + negativeLogLikelihood). */
export function legacyTemperatureWithOffset(logits: Matrix, y: Int32Array, offset: ArrayLike<number>): number {
  const nll = (logT: number) => negativeLogLikelihood(combineLogits([[Math.exp(-logT), logits]], offset), y);
  let a = Math.log(0.01);
  let b = Math.log(100);
  const g = (Math.sqrt(5) - 1) / 2;
  let c = b - g * (b - a);
  let d = a + g * (b - a);
  let fc = nll(c);
  let fd = nll(d);
  for (let it = 0; it < 80 && b - a > 1e-6; it++) {
    if (fc < fd) {
      b = d;
      d = c;
      fd = fc;
      c = b - g * (b - a);
      fc = nll(c);
    } else {
      a = c;
      c = d;
      fc = fd;
      d = a + g * (b - a);
      fd = nll(d);
    }
  }
  return Math.exp((a + b) / 2);
}

/** fitEnsembleWeights (projected Newton over the scalar evalAt). */
export function legacyFitEnsembleWeights(
  f: Matrix,
  z: Matrix,
  y: Int32Array,
  options: { offset?: ArrayLike<number>; start?: [number, number] } = {},
) {
  const N = f.rows;
  const C = f.cols;
  const offset = options.offset ?? new Float64Array(C);
  const start = options.start ?? [1, 1];
  const evalAt = (a: number, b: number, withDerivatives: boolean) => {
    let nll = 0;
    let ga = 0;
    let gb = 0;
    let haa = 0;
    let hbb = 0;
    let hab = 0;
    const l = new Float64Array(C);
    for (let i = 0; i < N; i++) {
      const o = i * C;
      let max = Number.NEGATIVE_INFINITY;
      for (let c = 0; c < C; c++) {
        l[c] = a * f.data[o + c]! + b * z.data[o + c]! + offset[c]!;
        if (l[c]! > max) max = l[c]!;
      }
      let sum = 0;
      for (let c = 0; c < C; c++) {
        l[c] = Math.exp(l[c]! - max);
        sum += l[c]!;
      }
      const yi = y[i]!;
      nll += Math.log(sum) + max - (a * f.data[o + yi]! + b * z.data[o + yi]! + offset[yi]!);
      if (!withDerivatives) continue;
      let ef = 0;
      let ez = 0;
      let eff = 0;
      let ezz = 0;
      let efz = 0;
      for (let c = 0; c < C; c++) {
        const p = l[c]! / sum;
        const fc = f.data[o + c]!;
        const zc = z.data[o + c]!;
        ef += p * fc;
        ez += p * zc;
        eff += p * fc * fc;
        ezz += p * zc * zc;
        efz += p * fc * zc;
      }
      ga += ef - f.data[o + yi]!;
      gb += ez - z.data[o + yi]!;
      haa += eff - ef * ef;
      hbb += ezz - ez * ez;
      hab += efz - ef * ez;
    }
    return { nll: nll / N, ga: ga / N, gb: gb / N, haa: haa / N, hbb: hbb / N, hab: hab / N };
  };
  let a = Math.max(0, start[0]);
  let b = Math.max(0, start[1]);
  let cur = evalAt(a, b, true);
  let iterations = 0;
  for (let it = 0; it < 50; it++) {
    iterations = it + 1;
    const det = cur.haa * cur.hbb - cur.hab * cur.hab;
    let da: number;
    let db: number;
    if (det > 1e-18 * Math.max(1, cur.haa * cur.hbb)) {
      da = -(cur.hbb * cur.ga - cur.hab * cur.gb) / det;
      db = -(cur.haa * cur.gb - cur.hab * cur.ga) / det;
    } else {
      da = -cur.ga / Math.max(cur.haa, 1e-12);
      db = -cur.gb / Math.max(cur.hbb, 1e-12);
    }
    let step = 1;
    let accepted = false;
    for (let k = 0; k < 30; k++) {
      const na = Math.max(0, a + step * da);
      const nb = Math.max(0, b + step * db);
      const trial = evalAt(na, nb, false);
      if (trial.nll <= cur.nll + 1e-12) {
        const moved = Math.abs(na - a) + Math.abs(nb - b);
        a = na;
        b = nb;
        cur = evalAt(a, b, true);
        accepted = moved > 1e-10 * (1 + a + b);
        break;
      }
      step /= 2;
    }
    if (!accepted) break;
  }
  const pg = (w: number, g: number) => (w <= 0 && g > 0 ? 0 : Math.abs(g));
  return { weights: [a, b] as [number, number], nll: cur.nll, gradientNorm: Math.max(pg(a, cur.ga), pg(b, cur.gb)), iterations };
}

/** selectEnsembleWeights, method 'nll' (three combineLogits + rowNegativeLogLikelihood per fold). */
export function legacySelectEnsembleWeights(
  f: Matrix,
  d: Matrix,
  y: Int32Array,
  folds: ArrayLike<number>,
  foldCount: number,
  options: { offset?: ArrayLike<number>; minZ?: number } = {},
) {
  const C = f.cols;
  const offset = options.offset ?? new Float64Array(C);
  const minZ = options.minZ ?? 1.645;
  const N = y.length;
  const probe = new Float64Array(N);
  const paper = new Float64Array(N);
  const joint = new Float64Array(N);
  const scored = new Uint8Array(N);
  for (const { train, held } of foldRows(folds, foldCount)) {
    if (held.length === 0 || train.length === 0) continue;
    const fT = takeRows(f, train);
    const dT = takeRows(d, train);
    const yT = takeLabels(y, train);
    const fH = takeRows(f, held);
    const dH = takeRows(d, held);
    const yH = takeLabels(y, held);
    const Tf = hasNonZero(offset) ? legacyTemperatureWithOffset(fT, yT, offset) : calibrateTemperature(fT, yT, { method: 'nll' });
    const jt = legacyFitEnsembleWeights(fT, dT, yT, { offset, start: [1 / Tf, 1] });
    const lossProbe = rowNegativeLogLikelihood(combineLogits([[1 / Tf, fH]], offset), yH);
    const lossPaper = rowNegativeLogLikelihood(
      combineLogits(
        [
          [1 / Tf, fH],
          [1, dH],
        ],
        offset,
      ),
      yH,
    );
    const lossJoint = rowNegativeLogLikelihood(
      combineLogits(
        [
          [jt.weights[0], fH],
          [jt.weights[1], dH],
        ],
        offset,
      ),
      yH,
    );
    held.forEach((i, r) => {
      probe[i] = lossProbe[r]!;
      paper[i] = lossPaper[r]!;
      joint[i] = lossJoint[r]!;
      scored[i] = 1;
    });
  }
  let n = 0;
  let sumProbe = 0;
  let sumPaper = 0;
  let sumJoint = 0;
  for (let i = 0; i < N; i++) {
    if (!scored[i]) continue;
    n++;
    sumProbe += probe[i]!;
    sumPaper += paper[i]!;
    sumJoint += joint[i]!;
  }
  const nllProbe = sumProbe / n;
  const nllPaper = sumPaper / n;
  const nllJoint = sumJoint / n;
  const ensemble: 'paper' | 'joint' = nllJoint < nllPaper ? 'joint' : 'paper';
  const z = pairedZStatistic(probe, ensemble === 'joint' ? joint : paper, scored);
  return { ensemble, gated: z > minZ ? ensemble : 'probe', nllProbe, nllPaper, nllJoint, z };
}

/** selectWiseAlphaFromLogits (combineLogits + accuracy + negativeLogLikelihood per alpha). */
export function legacySelectWiseAlphaFromLogits(zeroShot: Matrix, finetuned: Matrix, y: Int32Array, alphaGrid: readonly number[]) {
  let bestAlpha = alphaGrid[0]!;
  let bestAcc = -1;
  let bestNll = Number.POSITIVE_INFINITY;
  const scores: { alpha: number; accuracy: number; nll: number }[] = [];
  for (const alpha of alphaGrid) {
    const m = combineLogits([
      [1 - alpha, zeroShot],
      [alpha, finetuned],
    ]);
    const acc = accuracy(m, y);
    const nll = negativeLogLikelihood(m, y);
    scores.push({ alpha, accuracy: acc, nll });
    if (acc > bestAcc + 1e-12 || (Math.abs(acc - bestAcc) <= 1e-12 && nll < bestNll)) {
      bestAcc = acc;
      bestNll = nll;
      bestAlpha = alpha;
    }
  }
  return { alpha: bestAlpha, scores };
}
