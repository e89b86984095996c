import {
  accuracy,
  applyHeadAsync,
  type BackendChoice,
  calibrateTemperature,
  calibrateTemperatureWithOffset,
  classGroups,
  classScaledTolerance,
  combineLogits,
  crossFittedDebiasedLogits,
  estimatePrior,
  estimatePriorEM,
  glaLogits,
  groupAccuracy,
  type LinearHead,
  type Matrix,
  negativeLogLikelihood,
  selectRegularization,
  stratifiedFolds,
  takeLabels,
  takeRows,
  trainCenteredLinearProbeAsync,
} from '@gla/core';
import { nestedSplit } from '@gla/datasets/sampling';
import { type FailedCell, runCells } from './cells';
import { classCounts, type PreparedData } from './data';
import { ProtocolError } from './errors';
import { choiceWeights, type EnsembleChoiceDetail, ensembleChoice, type RunOptions, type TestLogits } from './few-shot';
import { MANY_SHOT_METHODS, type ManyShotMethod, type ProtocolSettings } from './settings';
import { type BaselineComparison, compareWithBestBaseline, type Stat, stat } from './stats';

/** Everything one seed of the many-shot / long-tailed protocol fitted (on train and val only). */
export interface HeldOutDetail {
  seed: number;
  temperatureMethod: string;
  /** l2 of the probe, by validation accuracy (ties NLL); chosen on the first seed and reused. */
  l2: number;
  zeroShotTemperature: number;
  /** T_f on the validation split: of f/T - log pi_s, so f/T_f is calibrated for pi_s (of f/T for balanced training). */
  finetunedTemperature: number;
  regularization: number;
  prior: number[];
  /** pi_s: the training split's label distribution. */
  trainPrior: number[];
  wiseAlpha: number;
  gla: EnsembleChoiceDetail;
  outputEnsemble: EnsembleChoiceDetail;
  emTargetPrior: number[];
  emCalibratedTargetPrior: number[];
  seconds: number;
}

/** One seed's outcome. `head` is carried to the next seed as a warm start. */
export interface HeldOutCell {
  seed: number;
  accuracy: Record<ManyShotMethod, number>;
  /** Head / medium / tail accuracy (long-tailed protocol). */
  groups?: Record<ManyShotMethod, { head: number; medium: number; tail: number }>;
  detail: HeldOutDetail;
  head: { weights: number[]; bias: number[]; rows: number; cols: number };
}

export interface GroupStat {
  overall: Stat;
  head: Stat;
  medium: Stat;
  tail: Stat;
}

export interface ManyShotResults {
  methods: Record<string, Stat>;
  comparisons: BaselineComparison[];
  trainCounts: number[];
  details: HeldOutDetail[];
  failed: FailedCell[];
}

export interface LongTailResults {
  methods: Record<string, GroupStat>;
  comparisons: BaselineComparison[];
  trainCounts: number[];
  /** Class names of each group: thirds by training count (core classGroups). */
  groups: { head: string[]; medium: string[]; tail: string[] };
  details: HeldOutDetail[];
  failed: FailedCell[];
}

function better(acc: number, nll: number, bestAcc: number, bestNll: number): boolean {
  return acc > bestAcc + 1e-12 || (Math.abs(acc - bestAcc) <= 1e-12 && nll < bestNll);
}

function negated(v: ArrayLike<number>): Float64Array {
  return Float64Array.from(v, (x) => -x);
}

function toHead(h: HeldOutCell['head']): LinearHead {
  return { weights: { data: Float64Array.from(h.weights), rows: h.rows, cols: h.cols }, bias: Float64Array.from(h.bias) };
}

/**
 * One seed of a held-out protocol: the probe trains on the training split (`rest` of the split:
 * the full training data; natural, possibly long-tailed class sizes), and q, both temperatures,
 * lambda, l2, alpha and the ensemble weights are chosen on the balanced validation split. GLA is
 * f/T_f + z/T_z - log q - log pi_s (balanced test: pi_t uniform).
 */
export async function runHeldOutCell(
  p: PreparedData,
  split: { train: Int32Array; val: Int32Array; test: Int32Array },
  seed: number,
  settings: ProtocolSettings,
  options: {
    kind: 'many-shot' | 'long-tail';
    l2?: number;
    init?: LinearHead;
    valPerClass: number;
    onTestLogits?: (t: TestLogits) => void;
    backend?: BackendChoice;
  },
): Promise<HeldOutCell> {
  const t0 = performance.now();
  const backend = options.backend ? { backend: options.backend } : {};
  const C = p.classes;
  const method = settings.temperatureMethod;
  const yTrain = takeLabels(p.y, split.train);
  const yVal = takeLabels(p.y, split.val);
  const yTest = takeLabels(p.y, split.test);
  const tc = classCounts(yTrain, C);
  const piS = Float64Array.from(tc, (n) => n / yTrain.length);
  const negLogPiS = Float64Array.from(piS, (v) => -Math.log(v));
  // The features stay in p.x (no copies of the training split): the probe reads rows by index.
  const zVal = takeRows(p.z, split.val);
  const zTest = takeRows(p.z, split.test);
  // l2 by validation accuracy of the probe (warm-started from the previous candidate / seed).
  const grid = options.l2 !== undefined ? [options.l2] : [...settings.longTailL2Grid].sort((a, b) => b - a);
  let best: { l2: number; head: LinearHead; fVal: Matrix; acc: number; nll: number } | undefined;
  let init = options.init;
  for (const l2 of grid) {
    const head = await trainCenteredLinearProbeAsync(p.x, p.y, {
      classes: C,
      l2,
      tolerance: classScaledTolerance(1e-4, C),
      maxIterations: 100,
      rows: split.train,
      ...backend,
      ...(init ? { init } : {}),
    });
    init = head;
    const fv = await applyHeadAsync(head, p.x, { rows: split.val, ...backend });
    const acc = accuracy(fv, yVal);
    const nll = negativeLogLikelihood(fv, yVal);
    if (!best || better(acc, nll, best.acc, best.nll)) best = { l2, head, fVal: fv, acc, nll };
  }
  const { head, fVal } = best!;
  const fTest = await applyHeadAsync(head, p.x, { rows: split.test, ...backend });
  const Tz = calibrateTemperature(zVal, yVal, { method });
  const F = Math.min(settings.folds, options.valPerClass);
  const selection = selectRegularization(zVal, yVal, { temperature: Tz, candidates: settings.regularizationCandidates, folds: F, seed });
  const prior = estimatePrior(zVal, yVal, { temperature: Tz, regularization: selection.regularization });
  const negLogQ = negated(prior.logPrior);
  // T_f calibrates f as the log-posterior under pi_s: on the balanced validation split that is the
  // temperature of f/T - log pi_s (a constant offset, balanced training, changes nothing).
  const balancedTraining = negLogPiS.every((v) => Math.abs(v - negLogPiS[0]!) < 1e-12);
  const Tf = balancedTraining
    ? calibrateTemperature(fVal, yVal, { method })
    : calibrateTemperatureWithOffset(fVal, yVal, negLogPiS, { method });
  const em = estimatePriorEM(zTest, { temperature: Tz });
  const emCalibrated = estimatePriorEM(zTest, { temperature: Tz, trainPrior: prior.prior });
  // WiSE-FT alpha on the validation split (accuracy, ties NLL), as l2.
  let wiseAlpha = settings.alphaGrid[0] ?? settings.wiseAlpha;
  let wiseAcc = -1;
  let wiseNll = Number.POSITIVE_INFINITY;
  // For linear heads the interpolated head's logits are (1 - alpha) z + alpha f: no GEMM per alpha.
  const wiseLogits = (alpha: number, z: Matrix, f: Matrix) =>
    combineLogits([
      [1 - alpha, z],
      [alpha, f],
    ]);
  for (const alpha of settings.alphaGrid) {
    const l = wiseLogits(alpha, zVal, fVal);
    const acc = accuracy(l, yVal);
    const nll = negativeLogLikelihood(l, yVal);
    if (better(acc, nll, wiseAcc, wiseNll)) [wiseAlpha, wiseAcc, wiseNll] = [alpha, acc, nll];
  }
  // Extensions and the equally tuned output ensemble, fitted on the validation split with folds of
  // it (d = z/T_z - log q cross-fitted over those folds for GLA; offset -log pi_s for GLA only).
  const valFolds = stratifiedFolds(yVal, C, F, seed);
  const dGla = crossFittedDebiasedLogits(zVal, yVal, {
    classes: C,
    folds: valFolds,
    foldCount: F,
    temperature: Tz,
    regularization: selection.regularization,
  });
  const dOut = combineLogits([[1 / Tz, zVal]]);
  const glaChoice = ensembleChoice(fVal, dGla, yVal, valFolds, F, Tf, { method, offset: negLogPiS });
  const outChoice = ensembleChoice(fVal, dOut, yVal, valFolds, F, Tf, { method });
  const gla = glaLogits({
    finetuned: fTest,
    zeroShot: zTest,
    logPrior: prior.logPrior,
    finetunedTemperature: Tf,
    zeroShotTemperature: Tz,
    trainPrior: piS,
  });
  const zScaled = combineLogits([[1 / Tz, zTest]]);
  const debiased = combineLogits([[1 / Tz, zTest]], negLogQ);
  const twoTerm = (w: [number, number], d: Matrix, offset?: Float64Array) =>
    combineLogits(
      [
        [w[0], fTest],
        [w[1], d],
      ],
      offset,
    );
  const logits: Record<ManyShotMethod, Matrix> = {
    'zero-shot': zTest,
    'zero-shot-debiased': debiased,
    'zero-shot-em': combineLogits([[1 / Tz, zTest]], em.logPrior),
    'zero-shot-em-calibrated': combineLogits(
      [[1 / Tz, zTest]],
      Float64Array.from(negLogQ, (v, c) => v + emCalibrated.logPrior[c]!),
    ),
    'linear-probe': fTest,
    'linear-probe+logit-adjustment': combineLogits([[1, fTest]], negLogPiS),
    'output-ensemble': twoTerm([1 / Tf, 1], zScaled),
    'output-ensemble-weighted': twoTerm(choiceWeights(outChoice.weighted, outChoice, Tf), zScaled),
    'output-ensemble-gated': twoTerm(choiceWeights(outChoice.gated, outChoice, Tf), zScaled),
    'wise-ft': wiseLogits(settings.wiseAlpha, zTest, fTest),
    'wise-ft-tuned': wiseLogits(wiseAlpha, zTest, fTest),
    gla,
    'gla-weighted': twoTerm(choiceWeights(glaChoice.weighted, glaChoice, Tf), debiased, negLogPiS),
    'gla-gated': twoTerm(choiceWeights(glaChoice.gated, glaChoice, Tf), debiased, negLogPiS),
  };
  const acc = Object.fromEntries(MANY_SHOT_METHODS.map((m) => [m, accuracy(logits[m], yTest)])) as Record<ManyShotMethod, number>;
  options.onTestLogits?.({
    protocol: options.kind,
    seed,
    finetuned: fTest,
    zeroShot: zTest,
    labels: yTest,
    finetunedTemperature: Tf,
    zeroShotTemperature: Tz,
    logPrior: prior.logPrior,
    trainPrior: piS,
    glaAccuracy: acc.gla,
  });
  const cell: HeldOutCell = {
    seed,
    accuracy: acc,
    detail: {
      seed,
      temperatureMethod: method,
      l2: best!.l2,
      zeroShotTemperature: Tz,
      finetunedTemperature: Tf,
      regularization: selection.regularization,
      prior: Array.from(prior.prior),
      trainPrior: Array.from(piS),
      wiseAlpha,
      gla: glaChoice,
      outputEnsemble: outChoice,
      emTargetPrior: Array.from(em.prior),
      emCalibratedTargetPrior: Array.from(emCalibrated.prior),
      seconds: (performance.now() - t0) / 1000,
    },
    head: { weights: Array.from(head.weights.data), bias: Array.from(head.bias), rows: head.weights.rows, cols: head.weights.cols },
  };
  if (options.kind === 'long-tail') {
    const groups = {} as NonNullable<HeldOutCell['groups']>;
    for (const m of MANY_SHOT_METHODS) {
      const g = groupAccuracy(logits[m], yTest, tc);
      groups[m] = { head: g.head, medium: g.medium, tail: g.tail };
    }
    cell.groups = groups;
  }
  return cell;
}

/** Options of {@link runManyShot} and {@link runLongTail} (as the few-shot protocol's). */
export type HeldOutOptions = RunOptions<HeldOutCell>;

async function runHeldOut(
  p: PreparedData,
  settings: ProtocolSettings,
  kind: 'many-shot' | 'long-tail',
  options: HeldOutOptions,
): Promise<{ cells: HeldOutCell[]; failed: FailedCell[]; trainCounts: number[] }> {
  const valPerClass = kind === 'long-tail' ? settings.longTailValPerClass : settings.manyShotValPerClass;
  const seeds = settings.seeds.slice(0, settings.longTailSeeds);
  const splitOf = (seed: number) => {
    try {
      // long-tail keeps its historical seed offset; each protocol has its own stream
      const s = nestedSplit({
        labels: p.y,
        numClasses: p.classes,
        seed: kind === 'long-tail' ? seed + 10_000 : seed,
        testPerClass: settings.testPerClass,
        valPerClass,
        stream: kind === 'long-tail' ? 5 : 6,
      });
      return { train: s.rest, val: s.val, test: s.test };
    } catch (error) {
      throw new ProtocolError('invalid-data', `${kind} split of seed ${seed}: ${(error as Error).message}`, { cause: error });
    }
  };
  const splits = new Map(seeds.map((seed) => [seed, splitOf(seed)]));
  const pending: TestLogits[] = [];
  const { cells, failed } = await runCells(
    seeds.map((seed) => ({ key: `${kind}/seed=${seed}`, seed })),
    ({ seed }, previous) => {
      pending.length = 0;
      return runHeldOutCell(p, splits.get(seed)!, seed, settings, {
        kind,
        valPerClass,
        ...(options.backend ? { backend: options.backend } : {}),
        // l2 is chosen on the first seed's validation split and reused; later seeds warm-start from the previous head
        ...(previous ? { l2: previous.detail.l2, init: toHead(previous.head) } : {}),
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
  const first = splits.get(seeds[0]!)!;
  return { cells, failed, trainCounts: Array.from(classCounts(takeLabels(p.y, first.train), p.classes)) };
}

/**
 * The paper's many-shot protocol (its ImageNet setting): per seed, a balanced test split and a
 * validation split of `manyShotValPerClass` per class; the probe trains on ALL other examples; q,
 * temperatures, lambda, l2, alpha and ensemble weights come from the validation split.
 */
export async function runManyShot(p: PreparedData, settings: ProtocolSettings, options: HeldOutOptions = {}): Promise<ManyShotResults> {
  const { cells, failed, trainCounts } = await runHeldOut(p, settings, 'many-shot', options);
  const methods: Record<string, Stat> = {};
  for (const m of MANY_SHOT_METHODS)
    methods[m] = stat(
      cells.map((c) => c.accuracy[m]),
      cells.map((c) => c.seed),
    );
  return { methods, comparisons: compareWithBestBaseline(methods), trainCounts, details: cells.map((c) => c.detail), failed };
}

/**
 * Long-tailed protocol: as many-shot (train on the natural, long-tailed class sizes) with a
 * `longTailValPerClass` validation split, reporting head / medium / tail accuracy (thirds of the
 * classes by training count, @gla/core classGroups).
 */
export async function runLongTail(
  p: PreparedData,
  settings: ProtocolSettings,
  classNames: readonly string[],
  options: HeldOutOptions = {},
): Promise<LongTailResults> {
  const { cells, failed, trainCounts } = await runHeldOut(p, settings, 'long-tail', options);
  const methods: Record<string, GroupStat> = {};
  const seeds = cells.map((c) => c.seed);
  for (const m of MANY_SHOT_METHODS) {
    methods[m] = {
      overall: stat(
        cells.map((c) => c.accuracy[m]),
        seeds,
      ),
      head: stat(
        cells.map((c) => c.groups![m].head),
        seeds,
      ),
      medium: stat(
        cells.map((c) => c.groups![m].medium),
        seeds,
      ),
      tail: stat(
        cells.map((c) => c.groups![m].tail),
        seeds,
      ),
    };
  }
  const g = classGroups(trainCounts);
  return {
    methods,
    comparisons: compareWithBestBaseline(Object.fromEntries(Object.entries(methods).map(([m, s]) => [m, s.overall]))),
    trainCounts,
    groups: {
      head: g.head.map((c) => classNames[c]!),
      medium: g.medium.map((c) => classNames[c]!),
      tail: g.tail.map((c) => classNames[c]!),
    },
    details: cells.map((c) => c.detail),
    failed,
  };
}
