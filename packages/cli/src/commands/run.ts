import { createRequire } from 'node:module';
import { join } from 'node:path';
import { type OptionSpecs, type OptionValue, optionalNumber, optionalString } from '../args';
import { assertWritableFolder, removeStaleTemporaries, writeFolderSet } from '../atomic';
import { type FeatureDataset, loadFeatureDir, saveFeatureDir } from '../dataset';
import { type EncoderChoice, fortuneFeatures, loadEncoder } from '../embed';
import { CliError } from '../errors';
import { FORTUNE_TASKS, FORTUNES_MAIN } from '../fortunes';
import { defaultOutDir, userPath } from '../paths';
import { log, Progress } from '../progress';
import { DEFAULT_SETTINGS, type ProtocolSettings, prepare, runFewShot, runLongTail } from '../protocol';
import { fewShotTable, longTailTable, type ResultsDocument, writeReport } from '../report';

type Options = Record<string, OptionValue>;

export const RUN_OPTIONS: OptionSpecs = {
  dataset: {
    type: 'string',
    value: 'NAME',
    description: `built-in data set: ${Object.keys(FORTUNE_TASKS).join(' | ')}`,
    default: FORTUNES_MAIN.name,
  },
  features: {
    type: 'string',
    value: 'DIR',
    description: 'run on a feature directory instead (features.npy, labels.npy, meta.json, text_features.npy)',
  },
  out: { type: 'string', value: 'DIR', description: 'output folder (default results/ at the repo root; results/NAME for other data sets)' },
  shots: { type: 'number-list', value: 'K,K,...', description: 'shots per class', default: DEFAULT_SETTINGS.shots },
  seeds: { type: 'integer', description: 'number of seeds (seeds 1..N)', default: DEFAULT_SETTINGS.seeds.length },
  'first-seed': { type: 'integer', description: 'first seed', default: 1 },
  'test-per-class': { type: 'integer', description: 'balanced test examples per class', default: DEFAULT_SETTINGS.testPerClass },
  'val-per-class': { type: 'integer', description: 'few-shot validation examples per class', default: DEFAULT_SETTINGS.valPerClass },
  folds: { type: 'integer', description: 'cross-fitting folds on train + val', default: DEFAULT_SETTINGS.folds },
  temperature: {
    type: 'string',
    value: 'nll|match-confidence',
    description: 'temperature calibration of both models',
    default: DEFAULT_SETTINGS.temperatureMethod,
  },
  'long-tail': { type: 'flag', description: 'also run the long-tailed protocol (--no-long-tail to skip)', default: true },
  'long-tail-seeds': {
    type: 'integer',
    description: 'seeds of the long-tailed protocol (the first N seeds)',
    default: DEFAULT_SETTINGS.longTailSeeds,
  },
  encoder: { type: 'string', value: 'onnx|tfjs', description: 'text encoder for built-in data sets', default: 'onnx' },
  threads: { type: 'integer', description: 'onnxruntime intra-op threads (default: runtime default)' },
};

export function settingsFrom(options: Options): ProtocolSettings {
  const shots = (options.shots as number[] | undefined) ?? DEFAULT_SETTINGS.shots;
  for (const k of shots)
    if (!Number.isInteger(k) || k < 1) throw new CliError('bad-value', `--shots: each value must be a positive integer, got ${k}`);
  const seedCount = optionalNumber(options, 'seeds') ?? 5;
  if (seedCount < 1) throw new CliError('bad-value', `--seeds must be >= 1, got ${seedCount}`);
  const first = optionalNumber(options, 'first-seed') ?? 1;
  const temperature = optionalString(options, 'temperature') ?? 'nll';
  if (temperature !== 'nll' && temperature !== 'match-confidence')
    throw new CliError('bad-value', `--temperature: expected nll or match-confidence, got '${temperature}'`);
  const positive = (name: string, fallback: number, min = 1) => {
    const v = optionalNumber(options, name) ?? fallback;
    if (v < min) throw new CliError('bad-value', `--${name} must be >= ${min}, got ${v}`);
    return v;
  };
  return {
    ...DEFAULT_SETTINGS,
    shots: [...new Set(shots)].sort((a, b) => a - b),
    seeds: Array.from({ length: seedCount }, (_, i) => first + i),
    testPerClass: positive('test-per-class', DEFAULT_SETTINGS.testPerClass),
    valPerClass: positive('val-per-class', DEFAULT_SETTINGS.valPerClass, 1),
    folds: positive('folds', DEFAULT_SETTINGS.folds, 2),
    temperatureMethod: temperature,
    longTail: options['long-tail'] !== false,
    longTailSeeds: positive('long-tail-seeds', DEFAULT_SETTINGS.longTailSeeds),
  };
}

export function versions(): Record<string, string> {
  const require = createRequire(import.meta.url);
  const out: Record<string, string> = { node: process.version };
  for (const name of ['@gla/core', '@gla/datasets', '@gla/encoders', '@gla/onnx-node', '@gla/tfjs-to-onnx', 'onnxruntime-node']) {
    try {
      out[name] = (require(`${name}/package.json`) as { version: string }).version;
    } catch {
      out[name] = 'not installed';
    }
  }
  return out;
}

export interface RunOutcome {
  document: ResultsDocument;
  outDir: string;
}

/** Loads (or embeds) the data set named by the options. */
export async function datasetFor(
  options: Options,
  signal?: AbortSignal,
): Promise<{ dataset: FeatureDataset; timing: Record<string, number | boolean | string> }> {
  const featuresDir = optionalString(options, 'features');
  const t0 = performance.now();
  if (featuresDir) {
    const dataset = await loadFeatureDir(userPath(featuresDir));
    return { dataset, timing: { loadSeconds: (performance.now() - t0) / 1000 } };
  }
  const name = optionalString(options, 'dataset') ?? FORTUNES_MAIN.name;
  const task = FORTUNE_TASKS[name];
  if (!task)
    throw new CliError(
      'bad-value',
      `--dataset: unknown data set '${name}' (known: ${Object.keys(FORTUNE_TASKS).join(', ')}; or use --features DIR)`,
    );
  const choice = (optionalString(options, 'encoder') ?? 'onnx') as EncoderChoice;
  if (choice !== 'onnx' && choice !== 'tfjs') throw new CliError('bad-value', `--encoder: expected onnx or tfjs, got '${choice}'`);
  const threads = optionalNumber(options, 'threads');
  const encoder = await loadEncoder(choice, threads);
  const tLoaded = performance.now();
  try {
    const { dataset, fromCache, computed } = await fortuneFeatures(task, encoder, signal);
    return {
      dataset,
      timing: {
        encoderLoadSeconds: (tLoaded - t0) / 1000,
        embeddingSeconds: (performance.now() - tLoaded) / 1000,
        embeddingsFromCache: fromCache,
        embeddingsComputed: computed,
        encoder: encoder.describe,
      },
    };
  } finally {
    await encoder.release();
  }
}

export async function runCommand(
  options: Options,
  print: (line: string) => void,
  signal?: AbortSignal,
  argv: readonly string[] = [],
): Promise<RunOutcome> {
  const tStart = performance.now();
  const settings = settingsFrom(options);
  // Results writing (1/2): refuse an unwritable --out before any work.
  const outOption = optionalString(options, 'out');
  await assertWritableFolder(outOption ? userPath(outOption) : defaultOutDir());
  const { dataset, timing } = await datasetFor(options, signal);
  const outDir = outOption
    ? userPath(outOption)
    : optionalString(options, 'features') || dataset.name !== FORTUNES_MAIN.name
      ? join(defaultOutDir(), dataset.name)
      : defaultOutDir();
  log(
    `${dataset.name}: ${dataset.features.rows} examples x ${dataset.features.cols} dims, ${dataset.classNames.length} classes; ${settings.seeds.length} seeds x k in {${settings.shots.join(', ')}}`,
  );
  const prepared = prepare(dataset);
  const t1 = performance.now();
  const bar = new Progress('few-shot protocol', settings.seeds.length * settings.shots.length);
  const fewShot = await runFewShot(dataset, settings, (d, t) => bar.update(d, t), signal, prepared);
  bar.finish();
  const t2 = performance.now();
  let longTail: Awaited<ReturnType<typeof runLongTail>> | undefined;
  if (settings.longTail) {
    const ltBar = new Progress('long-tailed protocol', Math.min(settings.seeds.length, settings.longTailSeeds));
    longTail = await runLongTail(dataset, settings, (d, t) => ltBar.update(d, t), signal, prepared);
    ltBar.finish();
  }
  const t3 = performance.now();
  const counts = Array.from({ length: dataset.classNames.length }, () => 0);
  for (const y of dataset.labels) counts[y]!++;
  const document = await writeResultSet(outDir, {
    schema: 'gla-bench/results@1',
    createdAt: new Date().toISOString(),
    command: ['gla', ...argv].join(' '),
    settings,
    versions: versions(),
    timing: {
      ...timing,
      fewShotSeconds: (t2 - t1) / 1000,
      longTailSeconds: (t3 - t2) / 1000,
      totalSeconds: (performance.now() - tStart) / 1000,
    },
    dataset: {
      name: dataset.name,
      source: dataset.source,
      model: dataset.model,
      classes: dataset.classNames,
      promptNames: dataset.promptNames,
      templates: dataset.templates,
      classCounts: counts,
      examples: dataset.features.rows,
      dim: dataset.features.cols,
      fewShot,
      ...(longTail ? { longTail } : {}),
    },
  });
  print(`# ${dataset.name}: few-shot accuracy (%), mean ± std over ${settings.seeds.length} seeds`);
  print(fewShotTable(fewShot, settings.shots));
  if (longTail) {
    print('');
    print('# long-tailed training, balanced test (%)');
    print(longTailTable(longTail));
  }
  print('');
  print(
    `wrote ${join(outDir, 'results.json')}, results.md and ${document.plots.length} plots in ${((performance.now() - tStart) / 1000).toFixed(1)}s`,
  );
  return { document, outDir };
}

/**
 * Results writing: the SVGs, results.md and results.json go to a staging folder inside `outDir`
 * and are moved in as a set, results.json (the manifest) last; temporaries that killed runs left
 * in `outDir` are removed first.
 */
async function writeResultSet(outDir: string, doc: Parameters<typeof writeReport>[1]): Promise<ResultsDocument> {
  await removeStaleTemporaries(outDir);
  return writeFolderSet(outDir, 'results.json', (staging) => writeReport(staging, doc), previousPlots);
}

/** The plot files an earlier results.json lists (removed when the new set has no such plot). */
function previousPlots(manifest: string): string[] {
  try {
    const plots = (JSON.parse(manifest) as { plots?: unknown }).plots;
    return Array.isArray(plots) ? plots.filter((p): p is string => typeof p === 'string' && /^[\w.-]+\.svg$/.test(p)) : [];
  } catch {
    return [];
  }
}

export const EXPORT_OPTIONS: OptionSpecs = {
  dataset: RUN_OPTIONS.dataset!,
  out: { type: 'string', value: 'DIR', description: 'feature directory to write (required)' },
  encoder: RUN_OPTIONS.encoder!,
  threads: RUN_OPTIONS.threads!,
};

export async function exportFeaturesCommand(options: Options, print: (line: string) => void, signal?: AbortSignal): Promise<void> {
  const out = optionalString(options, 'out');
  if (!out) throw new CliError('missing-option', 'export-features: missing required option --out DIR');
  const { dataset } = await datasetFor(options, signal);
  const dir = userPath(out);
  await saveFeatureDir(dir, dataset, { source: dataset.source });
  print(
    `wrote ${dataset.features.rows} x ${dataset.features.cols} features, ${dataset.classNames.length} classes, text features ${dataset.textFeatures.templates} x ${dataset.textFeatures.classes} x ${dataset.textFeatures.dim} to ${dir}`,
  );
}
