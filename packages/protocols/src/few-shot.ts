import {
  accuracy,
  applyHeadAsync,
  argmaxRows,
  type BackendChoice,
  calibrateTemperature,
  classScaledTolerance,
  combineLogits,
  crossFitLinearProbeAsync,
  crossFittedDebiasedLogits,
  estimatePrior,
  estimatePriorEigen,
  estimatePriorEM,
  fitEnsembleWeights,
  glaLogits,
  type Matrix,
  type ReliabilityBin,
  reliabilityBins,
  selectEnsembleWeights,
  selectRegularization,
  selectWiseAlphaFromLogits,
  stratifiedFolds,
  takeLabels,
  takeRows,
  trainCenteredLinearProbeAsync,
} from '@gla/core';
import { nestedSplit } from '@gla/datasets/sampling';
import { type CellHooks, type FailedCell, runCells } from './cells';
import type { PreparedData } from './data';
import { ProtocolError } from './errors';
import { FEW_SHOT_METHODS, type FewShotMethod, type ProtocolSettings } from './settings';
import { type BaselineComparison, compareWithBestBaseline, type Stat, stat } from './stats';

/** Evidence behind a weighted / gated ensemble (selectEnsembleWeights on the labelled set). */
export interface EnsembleChoiceDetail {
  /** 'paper' = fixed weights (1/T_f, 1), 'joint' = fitted (the `-weighted` row uses this choice). */
  weighted: 'paper' | 'joint';
  /** The `-gated` row: `weighted`, or 'probe' when the held-out improvement is not significant. */
  gated: 'probe' | 'paper' | 'joint';
  /** Jointly fitted weights (a, w) of a f + w d on all labelled out-of-fold rows. */
  jointWeights: [number, number];
  heldOutNll: { probe: number; paper: number; joint: number };
  /** Paired z statistic of the held-out NLL improvement over f alone. */
  z: number;
}

/** Everything one few-shot cell fitted, all on train + val (never on test labels). */
export interface FewShotDetail {
  seed: number;
  shots: number;
  temperatureMethod: string;
  /** T_z on the labelled zero-shot logits. */
  zeroShotTemperature: number;
  /** T_f on the cross-fitted (out-of-fold) probe logits. */
  finetunedTemperature: number;
  /** lambda of the prior regulariser, chosen by k-fold held-out cross-entropy. */
  regularization: number;
  /** q (length C) and its solver report. */
  prior: number[];
  priorObjective: number;
  priorGradientNorm: number;
  priorIterations: number;
  priorConverged: boolean;
  /** l2 of the probe (cross-fitted accuracy, ties NLL) and the scores behind it. */
  l2: number;
  /** alpha of `wise-ft-tuned` (cross-fitted accuracy, ties NLL). */
  wiseAlpha: number;
  gla: EnsembleChoiceDetail;
  outputEnsemble: EnsembleChoiceDetail;
  /** Label distributions estimated by EM on the unlabelled test inputs (transductive; labels never read). */
  emTargetPrior: number[];
  emCalibratedTargetPrior: number[];
  /** Prior estimates of the eigenvector (labelled) and prior-matching (unlabelled test inputs) estimators. */
  eigenPrior: number[];
  matchingPrior: number[];
  seconds: number;
}

export interface Diagnostics {
  seed: number;
  shots: number;
  prior: number[];
  zeroShotTemperature: number;
  testCountsTrue: number[];
  testCountsZeroShot: number[];
  testCountsDebiased: number[];
  testCountsGla: number[];
  reliabilityZeroShot: ReliabilityBin[];
  reliabilityDebiased: ReliabilityBin[];
  reliabilityGla: ReliabilityBin[];
  eceZeroShot: number;
  eceDebiased: number;
}

/** The outcome of one (seed, k) cell. */
export interface FewShotCell {
  seed: number;
  shots: number;
  accuracy: Record<FewShotMethod, number>;
  detail: FewShotDetail;
  diagnostics?: Diagnostics;
}

/** Test logits of one cell, for recomputation (`gla run --save-logits`). */
export interface TestLogits {
  protocol: 'few-shot' | 'many-shot' | 'long-tail';
  seed: number;
  shots?: number;
  /** f: N x C fine-tuned (linear-probe) test logits. */
  finetuned: Matrix;
  /** z: N x C zero-shot test logits. */
  zeroShot: Matrix;
  labels: Int32Array;
  finetunedTemperature: number;
  zeroShotTemperature: number;
  logPrior: Float64Array;
  /** pi_s when the fine-tuned model was trained on an imbalanced split. */
  trainPrior?: Float64Array;
  /** Accuracy of the `gla` row on these logits. */
  glaAccuracy: number;
}

export interface FewShotResults {
  /** method -> shots (as string) -> accuracy over seeds. */
  methods: Record<string, Record<string, Stat>>;
  /** shots -> GLA rows vs the best baseline, paired over seeds. */
  comparisons: Record<string, BaselineComparison[]>;
  details: FewShotDetail[];
  failed: FailedCell[];
  diagnostics: Diagnostics | undefined;
}

function counts(pred: ArrayLike<number>, C: number): number[] {
  const out = new Array<number>(C).fill(0);
  for (let i = 0; i < pred.length; i++) out[pred[i]!]!++;
  return out;
}

function concat(a: Int32Array, b: Int32Array): Int32Array {
  const out = new Int32Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

function negated(v: ArrayLike<number>): Float64Array {
  return Float64Array.from(v, (x) => -x);
}

function eceOf(bins: ReliabilityBin[]): number {
  const n = bins.reduce((a, b) => a + b.count, 0);
  return bins.reduce((a, b) => a + (b.count > 0 ? (b.count / n) * Math.abs(b.accuracy - b.confidence) : 0), 0);
}

/** The ensemble rows `a f + w d (+ offset)` for a weighted / gated choice. */
export function ensembleChoice(
  fOof: Matrix,
  dL: Matrix,
  yL: Int32Array,
  folds: Int32Array,
  foldCount: number,
  finetunedTemperature: number,
  options: { offset?: Float64Array; method: ProtocolSettings['temperatureMethod'] },
): EnsembleChoiceDetail {
  const offset = options.offset ?? new Float64Array(fOof.cols);
  const joint = fitEnsembleWeights(fOof, dL, yL, { offset, start: [1 / finetunedTemperature, 1] });
  const sel = selectEnsembleWeights(fOof, dL, yL, folds, foldCount, { offset, method: options.method });
  return {
    weighted: sel.ensemble,
    gated: sel.gated,
    jointWeights: joint.weights,
    heldOutNll: { probe: sel.nllProbe, paper: sel.nllPaper, joint: sel.nllJoint },
    z: sel.z,
  };
}

/** Weights (a, w) of a choice: f alone (1/T_f, 0), paper (1/T_f, 1) or the joint fit. */
export function choiceWeights(
  choice: 'probe' | 'paper' | 'joint',
  detail: EnsembleChoiceDetail,
  finetunedTemperature: number,
): [number, number] {
  if (choice === 'joint') return detail.jointWeights;
  return [1 / finetunedTemperature, choice === 'paper' ? 1 : 0];
}

/**
 * One few-shot cell: every parameter is fitted on L = train(k) + val; the test split is used only
 * to score (and, for the transductive EM and prior-matching rows, as unlabelled inputs).
 * @param labelled indices of L @param test indices of the test split
 */
export async function runFewShotCell(
  p: PreparedData,
  labelled: Int32Array,
  test: Int32Array,
  seed: number,
  k: number,
  settings: ProtocolSettings,
  options: { diagnostics?: boolean; onTestLogits?: (t: TestLogits) => void; backend?: BackendChoice } = {},
): Promise<FewShotCell> {
  const t0 = performance.now();
  const C = p.classes;
  const backend = options.backend ? { backend: options.backend } : {};
  const yL = takeLabels(p.y, labelled);
  const yTest = takeLabels(p.y, test);
  const zL = takeRows(p.z, labelled);
  const zTest = takeRows(p.z, test);
  const method = settings.temperatureMethod;
  const F = Math.min(settings.folds, k + settings.valPerClass);

  // T_z and q (lambda by k-fold held-out cross-entropy) on train + val, as METHOD.md says.
  const Tz = calibrateTemperature(zL, yL, { method });
  const selection = selectRegularization(zL, yL, { temperature: Tz, candidates: settings.regularizationCandidates, folds: F, seed });
  const prior = estimatePrior(zL, yL, { temperature: Tz, regularization: selection.regularization });
  const logQ = prior.logPrior;
  const negLogQ = negated(logQ);

  // Other estimators of the zero-shot prior / the test label distribution.
  const em = estimatePriorEM(zTest, { temperature: Tz });
  const emCalibrated = estimatePriorEM(zTest, { temperature: Tz, trainPrior: prior.prior });
  const eigen = estimatePriorEigen(zL, yL, { temperature: Tz });
  const matching = estimatePrior(zTest, undefined, { temperature: Tz, targetMarginal: new Float64Array(C).fill(1 / C) });

  // Linear probe: cross-fitted on L (l2 by out-of-fold accuracy), then refit on all of L. Its
  // temperature and every ensemble weight are fitted on the out-of-fold logits and applied to the
  // refit (a temperature fitted on training logits is useless). The features stay in p.x: the
  // probe reads the rows of L and of the test split by index.
  const folds = stratifiedFolds(yL, C, F, seed);
  const cf = await crossFitLinearProbeAsync(p.x, yL, {
    classes: C,
    folds,
    foldCount: F,
    l2Grid: settings.l2Grid,
    rows: labelled,
    ...backend,
  });
  const warm = cf.heads[0];
  const head = await trainCenteredLinearProbeAsync(p.x, p.y, {
    classes: C,
    l2: cf.l2,
    rows: labelled,
    tolerance: classScaledTolerance(1e-5, C),
    ...backend,
    ...(warm ? { init: warm } : {}),
  });
  const fTest = await applyHeadAsync(head, p.x, { rows: test, ...backend });
  const Tf = calibrateTemperature(cf.outOfFold, yL, { method });
  // WiSE-FT alpha on the cross-fitted logits: for linear heads the interpolated head's logits are
  // (1 - alpha) z + alpha f, and z of L (zero-shot) and f out-of-fold (fold heads) exist already.
  const wise = selectWiseAlphaFromLogits(zL, cf.outOfFold, yL, settings.alphaGrid);

  // The paper's GLA: f/T_f + z/T_z - log q (balanced training and test: no pi terms).
  const gla = glaLogits({ finetuned: fTest, zeroShot: zTest, logPrior: logQ, finetunedTemperature: Tf, zeroShotTemperature: Tz });
  const debiased = combineLogits([[1 / Tz, zTest]], negLogQ);
  // Extensions and the equally tuned output ensemble: weights of a f + w d on out-of-fold f, with d
  // cross-fitted (debiasing of each fold's rows by q of the other folds) for GLA and d = z/T_z for
  // the output ensemble.
  const dGla = crossFittedDebiasedLogits(zL, yL, {
    classes: C,
    folds,
    foldCount: F,
    temperature: Tz,
    regularization: selection.regularization,
  });
  const dOut = combineLogits([[1 / Tz, zL]]);
  const glaChoice = ensembleChoice(cf.outOfFold, dGla, yL, folds, F, Tf, { method });
  const outChoice = ensembleChoice(cf.outOfFold, dOut, yL, folds, F, Tf, { method });
  const zScaled = combineLogits([[1 / Tz, zTest]]);
  const twoTerm = (w: [number, number], d: Matrix) =>
    combineLogits([
      [w[0], fTest],
      [w[1], d],
    ]);
  const wiseAt = (alpha: number) =>
    combineLogits([
      [1 - alpha, zTest],
      [alpha, fTest],
    ]);
  const logits: Record<FewShotMethod, Matrix> = {
    'zero-shot': zTest,
    'zero-shot-debiased': debiased,
    // Saerens EM on the unlabelled test inputs: naive = softmax(z/T_z) taken as calibrated for a
    // uniform source prior; calibrated = the same posteriors are calibrated for the source prior q.
    'zero-shot-em': combineLogits([[1 / Tz, zTest]], em.logPrior),
    'zero-shot-em-calibrated': combineLogits(
      [[1 / Tz, zTest]],
      Float64Array.from(negLogQ, (v, c) => v + emCalibrated.logPrior[c]!),
    ),
    'zero-shot-debiased-eigen': combineLogits([[1 / Tz, zTest]], negated(eigen.logPrior)),
    'zero-shot-debiased-matching': combineLogits([[1 / Tz, zTest]], negated(matching.logPrior)),
    'linear-probe': fTest,
    'output-ensemble': twoTerm([1 / Tf, 1], zScaled),
    'output-ensemble-weighted': twoTerm(choiceWeights(outChoice.weighted, outChoice, Tf), zScaled),
    'output-ensemble-gated': twoTerm(choiceWeights(outChoice.gated, outChoice, Tf), zScaled),
    'wise-ft': wiseAt(settings.wiseAlpha),
    'wise-ft-tuned': wiseAt(wise.alpha),
    gla,
    'gla-weighted': twoTerm(choiceWeights(glaChoice.weighted, glaChoice, Tf), debiased),
    'gla-gated': twoTerm(choiceWeights(glaChoice.gated, glaChoice, Tf), debiased),
  };
  const acc = Object.fromEntries(FEW_SHOT_METHODS.map((m) => [m, accuracy(logits[m], yTest)])) as Record<FewShotMethod, number>;
  options.onTestLogits?.({
    protocol: 'few-shot',
    seed,
    shots: k,
    finetuned: fTest,
    zeroShot: zTest,
    labels: yTest,
    finetunedTemperature: Tf,
    zeroShotTemperature: Tz,
    logPrior: logQ,
    glaAccuracy: acc.gla,
  });
  const detail: FewShotDetail = {
    seed,
    shots: k,
    temperatureMethod: method,
    zeroShotTemperature: Tz,
    finetunedTemperature: Tf,
    regularization: selection.regularization,
    prior: Array.from(prior.prior),
    priorObjective: prior.objective,
    priorGradientNorm: prior.gradientNorm,
    priorIterations: prior.iterations,
    priorConverged: prior.converged,
    l2: cf.l2,
    wiseAlpha: wise.alpha,
    gla: glaChoice,
    outputEnsemble: outChoice,
    emTargetPrior: Array.from(em.prior),
    emCalibratedTargetPrior: Array.from(emCalibrated.prior),
    eigenPrior: Array.from(eigen.prior),
    matchingPrior: Array.from(matching.prior),
    seconds: (performance.now() - t0) / 1000,
  };
  const cell: FewShotCell = { seed, shots: k, accuracy: acc, detail };
  if (options.diagnostics) {
    const binsZ = reliabilityBins(zScaled, yTest, { bins: 10 });
    const binsD = reliabilityBins(debiased, yTest, { bins: 10 });
    cell.diagnostics = {
      seed,
      shots: k,
      prior: Array.from(prior.prior),
      zeroShotTemperature: Tz,
      testCountsTrue: counts(yTest, C),
      testCountsZeroShot: counts(argmaxRows(zTest), C),
      testCountsDebiased: counts(argmaxRows(debiased), C),
      testCountsGla: counts(argmaxRows(gla), C),
      reliabilityZeroShot: binsZ,
      reliabilityDebiased: binsD,
      reliabilityGla: reliabilityBins(gla, yTest, { bins: 10 }),
      eceZeroShot: eceOf(binsZ),
      eceDebiased: eceOf(binsD),
    };
  }
  return cell;
}

/** Options of {@link runFewShot}: progress, cancellation, checkpoint/resume and logit export. */
export interface RunOptions<Cell> extends CellHooks<Cell> {
  onTestLogits?: (t: TestLogits) => void | Promise<void>;
  /**
   * Kernel backend of the probe's GEMMs and of applying heads ('auto' = the fastest registered,
   * e.g. onnxruntime when the caller registered it; 'reference' = core's TypeScript kernels).
   */
  backend?: BackendChoice;
}

/**
 * The few-shot protocol over all seeds and shots. Per seed one split (nestedSplit, stream 4):
 * testPerClass test, valPerClass val, and k-shot training sets nested in k. Deterministic given
 * the data and settings. A cell whose fit throws a library error (e.g. `not-identifiable`: the
 * labelled logits are separable, so the NLL temperature has no finite optimum) is recorded in
 * `failed` and left out of the means, and every other cell completes.
 */
export async function runFewShot(
  p: PreparedData,
  settings: ProtocolSettings,
  options: RunOptions<FewShotCell> = {},
): Promise<FewShotResults> {
  const maxK = Math.max(...settings.shots);
  const splits = new Map<number, ReturnType<typeof nestedSplit>>();
  const splitOf = (seed: number) => {
    let s = splits.get(seed);
    if (!s) {
      try {
        s = nestedSplit({
          labels: p.y,
          numClasses: p.classes,
          seed,
          testPerClass: settings.testPerClass,
          valPerClass: settings.valPerClass,
          minTrainPerClass: maxK,
        });
      } catch (error) {
        throw new ProtocolError('invalid-data', `few-shot split of seed ${seed}: ${(error as Error).message}`, { cause: error });
      }
      splits.set(seed, s);
    }
    return s;
  };
  for (const seed of settings.seeds) splitOf(seed);
  const keys = settings.seeds.flatMap((seed) => settings.shots.map((k) => ({ key: `few-shot/seed=${seed}/k=${k}`, seed, k })));
  const pending: TestLogits[] = [];
  const { cells, failed } = await runCells(
    keys,
    ({ seed, k }) => {
      pending.length = 0;
      const split = splitOf(seed);
      return runFewShotCell(p, concat(split.train(k), split.val), split.test, seed, k, settings, {
        diagnostics: seed === settings.seeds[0] && k === maxK,
        ...(options.backend ? { backend: options.backend } : {}),
        ...(options.onTestLogits ? { onTestLogits: (t: TestLogits) => pending.push(t) } : {}),
      });
    },
    {
      ...options,
      afterCell: async () => {
        for (const t of pending.splice(0)) await options.onTestLogits?.(t);
      },
    },
  );
  const methods: FewShotResults['methods'] = {};
  for (const m of FEW_SHOT_METHODS) {
    methods[m] = {};
    for (const k of settings.shots) {
      const here = cells.filter((c) => c.shots === k);
      methods[m][String(k)] = stat(
        here.map((c) => c.accuracy[m]),
        here.map((c) => c.seed),
      );
    }
  }
  const comparisons: FewShotResults['comparisons'] = {};
  for (const k of settings.shots)
    comparisons[String(k)] = compareWithBestBaseline(Object.fromEntries(FEW_SHOT_METHODS.map((m) => [m, methods[m]![String(k)]])));
  return {
    methods,
    comparisons,
    details: cells.map((c) => c.detail),
    failed,
    diagnostics: cells.find((c) => c.diagnostics)?.diagnostics,
  };
}
