import { readFile } from 'node:fs/promises';
import { calibrateTemperature, debias, estimatePrior, glaLogits, type Matrix, outputEnsemble, selectRegularization } from '@gla/core';
import { flag, type OptionSpecs, type OptionValue, optionalNumber, optionalString, requireString } from '../args';
import { assertWritableFile, writeAtomicSet } from '../atomic';
import { CliError } from '../errors';
import { sha256Hex } from '../hash';
import { cliErrorFrom, readLabels, readMatrix, readVector, vectorNpy, writeMatrix } from '../npyio';
import { userPath } from '../paths';

type Options = Record<string, OptionValue>;
type Print = (line: string) => void;

export const PRIOR_OPTIONS: OptionSpecs = {
  logits: { type: 'string', value: 'Z.npy', description: 'zero-shot logits, N x C (any float dtype)' },
  labels: { type: 'string', value: 'Y.npy', description: 'labels, N integers in [0, C) (omit with --target-marginal)' },
  temperature: {
    type: 'string',
    value: 'nll|match-confidence|NUMBER',
    description: 'temperature T: calibrated on the labelled logits, or fixed',
    default: 'nll',
  },
  regularization: {
    type: 'string',
    value: 'X|auto',
    description: 'lambda >= 0 shrinking log q toward uniform; auto = 5-fold cross-validation',
    default: '0',
  },
  'target-marginal': {
    type: 'string',
    value: 'uniform|P.npy',
    description: 'label-free prior matching: unlabelled logits whose label distribution is P',
  },
  tolerance: { type: 'number', description: 'stop at max-abs gradient <= tolerance (> 0)', default: 1e-9, min: 0, exclusiveMin: true },
  'max-iterations': { type: 'integer', description: 'iteration cap (>= 1)', default: 500, min: 1 },
  out: { type: 'string', value: 'Q.npy', description: 'output: q (C probabilities, float64); Q.npy.json holds T and the solver report' },
  log: { type: 'flag', description: 'write log q instead of q' },
  json: { type: 'flag', description: 'print the report as JSON on stdout' },
};

function wrap<T>(what: string, fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    if (error instanceof CliError) throw error;
    const e = error as { code?: string; message: string };
    throw new CliError('data', `${what}: ${e.message}${e.code ? ` [${e.code}]` : ''}`);
  }
}

function parseTemperature(raw: string | undefined): number | 'nll' | 'match-confidence' {
  if (raw === undefined || raw === 'nll' || raw === 'match-confidence') return raw ?? 'nll';
  const t = Number(raw);
  if (!Number.isFinite(t) || t <= 0)
    throw new CliError('bad-value', `--temperature: expected nll, match-confidence or a positive number, got '${raw}'`);
  return t;
}

export interface PriorReport {
  temperature: number;
  regularization: number;
  objective: number;
  gradientNorm: number;
  iterations: number;
  converged: boolean;
  solver: string;
  classes: number;
  examples: number;
  prior: number[];
}

export async function priorCommand(options: Options, print: Print): Promise<PriorReport> {
  const logitsPath = userPath(requireString(options, 'logits'));
  const outPath = userPath(requireString(options, 'out'));
  await assertWritableFile(outPath);
  await assertWritableFile(`${outPath}.json`, '--out sidecar');
  const logits = await readMatrix(logitsPath, 'logits');
  const labelsPath = optionalString(options, 'labels');
  const targetRaw = optionalString(options, 'target-marginal');
  if (!labelsPath && !targetRaw)
    throw new CliError('missing-option', 'prior: give --labels Y.npy, or --target-marginal for label-free prior matching');
  const labels = labelsPath ? await readLabels(userPath(labelsPath), logits.cols) : undefined;
  if (labels && labels.length !== logits.rows)
    throw new CliError('data', `${labelsPath} has ${labels.length} labels but ${logitsPath} has ${logits.rows} rows`);
  let targetMarginal: Float64Array | undefined;
  if (targetRaw) {
    targetMarginal =
      targetRaw === 'uniform'
        ? new Float64Array(logits.cols).fill(1 / logits.cols)
        : await readVector(userPath(targetRaw), 'target marginal');
    if (targetMarginal.length !== logits.cols)
      throw new CliError('data', `--target-marginal has ${targetMarginal.length} entries, logits have ${logits.cols} classes`);
  }
  let temperatureSpec = parseTemperature(optionalString(options, 'temperature'));
  if (typeof temperatureSpec !== 'number' && !labels) {
    if (optionalString(options, 'temperature') !== undefined && options.temperature !== 'nll')
      throw new CliError('usage', 'prior: a calibrated temperature needs --labels; pass a number with --target-marginal');
    temperatureSpec = 1;
  }
  const temperature =
    typeof temperatureSpec === 'number'
      ? temperatureSpec
      : wrap('calibrateTemperature', () =>
          calibrateTemperature(logits, labels!, { method: temperatureSpec as 'nll' | 'match-confidence' }),
        );
  const regRaw = optionalString(options, 'regularization') ?? '0';
  let regularization: number;
  if (regRaw === 'auto') {
    if (!labels) throw new CliError('usage', '--regularization auto needs --labels');
    regularization = wrap('selectRegularization', () => selectRegularization(logits, labels, { temperature }).regularization);
  } else {
    regularization = Number(regRaw);
    if (!Number.isFinite(regularization) || regularization < 0)
      throw new CliError('bad-value', `--regularization: expected a number >= 0 or 'auto', got '${regRaw}'`);
  }
  const estimate = wrap('estimatePrior', () =>
    estimatePrior(logits, targetMarginal ? undefined : labels, {
      temperature,
      regularization,
      ...(targetMarginal ? { targetMarginal } : {}),
      tolerance: optionalNumber(options, 'tolerance') ?? 1e-9,
      maxIterations: optionalNumber(options, 'max-iterations') ?? 500,
    }),
  );
  const report: PriorReport = {
    temperature,
    regularization,
    objective: estimate.objective,
    gradientNorm: estimate.gradientNorm,
    iterations: estimate.iterations,
    converged: estimate.converged,
    solver: estimate.solver,
    classes: logits.cols,
    examples: logits.rows,
    prior: Array.from(estimate.prior),
  };
  // q is a probability vector with positive entries (the README promises it). The estimator works
  // in log space, so log q stays finite where q underflows to exact zeros (e.g. T = 1e-300):
  // such a q is refused, while --log writes the finite log q.
  const writeLog = flag(options, 'log');
  for (let c = 0; c < estimate.prior.length; c++) {
    const bad = writeLog ? !Number.isFinite(estimate.logPrior[c]!) : !(estimate.prior[c]! > 0);
    if (bad) {
      throw new CliError(
        'data',
        `estimatePrior: q[${c}] = ${estimate.prior[c]} (log q = ${estimate.logPrior[c]}) at T = ${temperature}: q must be positive, and this one underflows float64; write log q with --log, or use a larger --temperature (or nll)`,
      );
    }
  }
  // Q.npy and Q.npy.json are written together or not at all; the sidecar names Q.npy's sha256,
  // so a pair mixed by a crash between the two renames is detected when it is read.
  const qBytes = vectorNpy(flag(options, 'log') ? estimate.logPrior : estimate.prior);
  const sidecar = { ...report, values: flag(options, 'log') ? 'log q' : 'q', logits: logitsPath, sha256: sha256Hex(qBytes) };
  await writeAtomicSet([
    { path: `${outPath}.json`, data: `${JSON.stringify(sidecar, null, 2)}\n` },
    { path: outPath, data: qBytes },
  ]);
  if (flag(options, 'json')) print(JSON.stringify(report));
  else {
    print(`estimated q on ${logits.rows} x ${logits.cols} logits${targetMarginal ? ' (label-free prior matching)' : ''}`);
    print(`  temperature T = ${temperature.toPrecision(6)}${typeof temperatureSpec === 'number' ? ' (given)' : ` (${temperatureSpec})`}`);
    print(`  regularization = ${regularization}${regRaw === 'auto' ? ' (cross-validated)' : ''}`);
    print(
      `  objective = ${estimate.objective.toPrecision(10)} nats, max-abs gradient = ${estimate.gradientNorm.toExponential(2)}, ${estimate.iterations} iterations (${estimate.solver}), ${estimate.converged ? 'converged' : 'NOT converged'}`,
    );
    const sorted = Array.from(estimate.prior)
      .map((q, c) => [q, c] as const)
      .sort((a, b) => b[0] - a[0]);
    print(
      `  q: max ${sorted[0]![0].toFixed(4)} (class ${sorted[0]![1]}), min ${sorted[sorted.length - 1]![0].toFixed(4)} (class ${sorted[sorted.length - 1]![1]}), uniform ${(1 / logits.cols).toFixed(4)}`,
    );
    print(`wrote ${outPath} (${flag(options, 'log') ? 'log q' : 'q'}, float64) and ${outPath}.json`);
  }
  return report;
}

export const DEBIAS_OPTIONS: OptionSpecs = {
  logits: { type: 'string', value: 'Z.npy', description: 'zero-shot logits, N x C' },
  prior: { type: 'string', value: 'Q.npy', description: 'q from `gla prior` (probabilities; --log-prior if it holds log q)' },
  'log-prior': { type: 'flag', description: 'the prior file holds log q' },
  temperature: {
    type: 'number',
    description: 'T > 0 dividing the logits (default: from Q.npy.json if present, else 1)',
    min: 0,
    exclusiveMin: true,
  },
  out: { type: 'string', value: 'OUT.npy', description: 'output: z / T - log q (float32 or float64 as the input)' },
};

/** What `gla prior` writes beside Q.npy. */
interface PriorSidecar {
  temperature?: number;
  values?: 'q' | 'log q';
  sha256?: string;
}

/**
 * Reads Q.npy.json if it exists. A missing sidecar is fine (T then comes from the options or is
 * 1); a sidecar that is unreadable, not JSON, holds a non-positive or non-finite temperature, an
 * unknown `values`, or a sha256 that does not match Q.npy is a data error (never T = 1 silently).
 */
async function readSidecar(path: string): Promise<PriorSidecar | undefined> {
  const file = `${path}.json`;
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new CliError('io', `cannot read ${file}: ${(error as Error).message}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new CliError('data', `${file}: corrupt sidecar (not JSON: ${(error as Error).message}); rerun gla prior or delete it`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new CliError('data', `${file}: corrupt sidecar (not a JSON object); rerun gla prior or delete it`);
  const { temperature, values, sha256: hash } = value as Record<string, unknown>;
  if (temperature !== undefined && !(typeof temperature === 'number' && Number.isFinite(temperature) && temperature > 0))
    throw new CliError('data', `${file}: temperature ${JSON.stringify(temperature)} is not a positive finite number`);
  if (values !== undefined && values !== 'q' && values !== 'log q')
    throw new CliError('data', `${file}: values ${JSON.stringify(values)} must be 'q' or 'log q'`);
  if (hash !== undefined && typeof hash !== 'string') throw new CliError('data', `${file}: sha256 must be a string`);
  return {
    ...(temperature !== undefined ? { temperature: temperature as number } : {}),
    ...(values !== undefined ? { values: values as 'q' | 'log q' } : {}),
    ...(hash !== undefined ? { sha256: hash as string } : {}),
  };
}

async function readPrior(path: string, isLog: boolean): Promise<{ logPrior: Float64Array; temperature?: number }> {
  const sidecar = await readSidecar(path);
  if (sidecar?.sha256 !== undefined) {
    let bytes: Uint8Array;
    try {
      bytes = await readFile(path);
    } catch (error) {
      throw cliErrorFrom(error, path);
    }
    if (sha256Hex(bytes) !== sidecar.sha256)
      throw new CliError('data', `${path}.json does not belong to ${path} (sha256 differs): rerun gla prior, or delete the sidecar`);
  }
  const p = await readVector(path, 'prior');
  const log = isLog || sidecar?.values === 'log q';
  if (!log) {
    for (let c = 0; c < p.length; c++)
      if (!(p[c]! > 0)) throw new CliError('data', `${path}: q[${c}] = ${p[c]} is not positive (pass --log-prior if the file holds log q)`);
  }
  return {
    logPrior: log ? p : Float64Array.from(p, Math.log),
    ...(sidecar?.temperature !== undefined ? { temperature: sidecar.temperature } : {}),
  };
}

export async function debiasCommand(options: Options, print: Print): Promise<Matrix> {
  const logitsPath = userPath(requireString(options, 'logits'));
  const priorPath = userPath(requireString(options, 'prior'));
  const outPath = userPath(requireString(options, 'out'));
  await assertWritableFile(outPath);
  const logits = await readMatrix(logitsPath, 'logits');
  const prior = await readPrior(priorPath, flag(options, 'log-prior'));
  if (prior.logPrior.length !== logits.cols)
    throw new CliError('data', `${priorPath} has ${prior.logPrior.length} classes, ${logitsPath} has ${logits.cols}`);
  const temperature = optionalNumber(options, 'temperature') ?? prior.temperature ?? 1;
  if (!(temperature > 0)) throw new CliError('bad-value', `--temperature must be > 0, got ${temperature}`);
  const out = wrap('debias', () => debias(logits, prior.logPrior, { temperature }));
  await writeMatrix(outPath, out, logits.data instanceof Float32Array ? 'float32' : 'float64');
  print(
    `debiased ${logits.rows} x ${logits.cols} logits: z / ${temperature.toPrecision(6)} - log q${optionalNumber(options, 'temperature') === undefined && prior.temperature !== undefined ? ' (T from the prior sidecar)' : ''}`,
  );
  print(`wrote ${outPath}`);
  return out;
}

export const ENSEMBLE_OPTIONS: OptionSpecs = {
  finetuned: { type: 'string', value: 'F.npy', description: 'fine-tuned model logits f, N x C' },
  'zero-shot': { type: 'string', value: 'Z.npy', description: 'zero-shot logits z, N x C' },
  prior: { type: 'string', value: 'Q.npy', description: 'q from `gla prior` (omit for the plain output ensemble f/T_f + z/T_z)' },
  'log-prior': { type: 'flag', description: 'the prior file holds log q' },
  'finetuned-temperature': {
    type: 'number',
    description: 'T_f > 0 (default 1; use held-out logits to calibrate)',
    min: 0,
    exclusiveMin: true,
  },
  'zero-shot-temperature': { type: 'number', description: 'T_z > 0 (default: from Q.npy.json, else 1)', min: 0, exclusiveMin: true },
  'train-prior': { type: 'string', value: 'P.npy', description: 'pi_s, the label distribution f was trained on (adds -log pi_s)' },
  'target-prior': { type: 'string', value: 'P.npy', description: 'pi_t, the target label distribution (adds +log pi_t)' },
  out: { type: 'string', value: 'OUT.npy', description: 'output logits' },
};

export async function ensembleCommand(options: Options, print: Print): Promise<Matrix> {
  const fPath = userPath(requireString(options, 'finetuned'));
  const zPath = userPath(requireString(options, 'zero-shot'));
  const outPath = userPath(requireString(options, 'out'));
  await assertWritableFile(outPath);
  const f = await readMatrix(fPath, 'finetuned logits');
  const z = await readMatrix(zPath, 'zero-shot logits');
  if (f.rows !== z.rows || f.cols !== z.cols)
    throw new CliError('data', `${fPath} is ${f.rows} x ${f.cols} but ${zPath} is ${z.rows} x ${z.cols}`);
  const priorPath = optionalString(options, 'prior');
  const prior = priorPath ? await readPrior(userPath(priorPath), flag(options, 'log-prior')) : undefined;
  const Tf = optionalNumber(options, 'finetuned-temperature') ?? 1;
  const Tz = optionalNumber(options, 'zero-shot-temperature') ?? prior?.temperature ?? 1;
  for (const [name, T] of [
    ['finetuned-temperature', Tf],
    ['zero-shot-temperature', Tz],
  ] as const) {
    if (!(Number.isFinite(T) && T > 0)) throw new CliError('bad-value', `--${name} must be a positive number, got ${T}`);
  }
  const trainPath = optionalString(options, 'train-prior');
  const targetPath = optionalString(options, 'target-prior');
  const trainPrior = trainPath ? await readVector(userPath(trainPath), 'train prior') : undefined;
  const targetPrior = targetPath ? await readVector(userPath(targetPath), 'target prior') : undefined;
  let out: Matrix;
  if (prior) {
    out = wrap('glaLogits', () =>
      glaLogits({
        finetuned: f,
        zeroShot: z,
        logPrior: prior.logPrior,
        finetunedTemperature: Tf,
        zeroShotTemperature: Tz,
        ...(trainPrior ? { trainPrior } : {}),
        ...(targetPrior ? { targetPrior } : {}),
      }),
    );
    print(
      `GLA ensemble of ${f.rows} x ${f.cols} logits: f / ${Tf} + z / ${Tz.toPrecision(6)} - log q${trainPrior ? ' - log pi_s' : ''}${targetPrior ? ' + log pi_t' : ''}`,
    );
  } else {
    if (trainPrior || targetPrior)
      throw new CliError(
        'usage',
        'ensemble: --train-prior / --target-prior need --prior (GLA); without it the plain output ensemble is computed',
      );
    out = wrap('outputEnsemble', () => outputEnsemble(f, z, { weights: [1 / Tf, 1 / Tz] }));
    print(`output ensemble of ${f.rows} x ${f.cols} logits: f / ${Tf} + z / ${Tz}`);
  }
  await writeMatrix(outPath, out, 'float64');
  print(`wrote ${outPath}`);
  return out;
}
