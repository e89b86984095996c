import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { freemem } from 'node:os';
import { join } from 'node:path';
import { kernelBackends } from '@gla/core';
import { openNpy } from '@gla/datasets';
import { registerOnnxKernels } from '@gla/kernels-onnx';
import { createNodeRuntime, loadOrt } from '@gla/onnx-node';
import { type CellRecord, estimateProtocolBytes } from '@gla/protocols';
import { type OptionSpecs, type OptionValue, optionalNumber, optionalString } from '../args';
import { assertWritableFolder, removeStaleTemporaries, writeFolderSet } from '../atomic';
import { openCheckpoint, runFingerprint } from '../checkpoint';
import { type FeatureDataset, loadFeatureDir, saveFeatureDir } from '../dataset';
import { type EncoderChoice, fortuneFeatures, loadEncoder } from '../embed';
import { CliError } from '../errors';
import { FORTUNE_TASKS, FORTUNES_MAIN } from '../fortunes';
import { defaultOutDir, userPath } from '../paths';
import { log, Progress } from '../progress';
import {
  asCliErrors,
  DEFAULT_SETTINGS,
  type ProtocolSettings,
  prepareData,
  runFewShot,
  runLongTail,
  runManyShot,
  type TestLogits,
} from '../protocol';
import { comparisonTable, fewShotTable, longTailTable, manyShotTable, RESULTS_SCHEMA, type ResultsDocument, writeReport } from '../report';
import { saveTestLogits } from '../save-logits';

type Options = Record<string, OptionValue>;

/** Protocols `gla run --protocol` accepts. */
export const PROTOCOLS = ['few-shot', 'many-shot', 'long-tail'] as const;
export type ProtocolName = (typeof PROTOCOLS)[number];

/** The protocols named by --protocol (validated, in the canonical order; --no-long-tail drops long-tail). */
export function protocolsFrom(options: Options): ProtocolName[] {
  const text = optionalString(options, 'protocol') ?? 'few-shot,long-tail';
  const names = text
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean);
  for (const n of names)
    if (!(PROTOCOLS as readonly string[]).includes(n))
      throw new CliError('bad-value', `--protocol: unknown protocol '${n}' (known: ${PROTOCOLS.join(', ')})`);
  if (names.length === 0) throw new CliError('bad-value', '--protocol: name at least one protocol');
  return PROTOCOLS.filter((p) => names.includes(p) && !(p === 'long-tail' && options['long-tail'] === false));
}

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
  protocol: {
    type: 'string',
    value: 'P,P,...',
    description: `protocols to run: ${PROTOCOLS.join(', ')}`,
    default: 'few-shot,long-tail',
  },
  temperature: {
    type: 'string',
    value: 'nll|match-confidence',
    description: "temperature rule of both models (T_z, T_f); match-confidence is the reference's",
    default: DEFAULT_SETTINGS.temperatureMethod,
  },
  'long-tail': {
    type: 'flag',
    description: 'run the long-tailed protocol when --protocol includes it (--no-long-tail to skip)',
    default: true,
  },
  'save-logits': {
    type: 'string',
    value: 'DIR',
    description: "write every cell's test logits f, z, labels, log q (and pi_s) as .npy with cell.json, for `gla ensemble`",
  },
  resume: {
    type: 'flag',
    description: 'reuse the finished cells of an interrupted run with the same data and settings (--no-resume to recompute)',
    default: true,
  },
  'long-tail-seeds': {
    type: 'integer',
    description: 'seeds of the long-tailed and many-shot protocols (the first N seeds)',
    default: DEFAULT_SETTINGS.longTailSeeds,
  },
  encoder: { type: 'string', value: 'onnx|tfjs', description: 'text encoder for built-in data sets', default: 'onnx' },
  threads: { type: 'integer', description: 'onnxruntime intra-op threads (default: runtime default)' },
  backend: {
    type: 'string',
    value: 'NAME',
    description: 'kernel backend of the probe and of applying heads: auto (onnxruntime when installed) | reference | a registered backend',
    default: 'auto',
  },
  'memory-limit': {
    type: 'integer',
    value: 'BYTES',
    description: 'memory a --features run may use (default: the memory available now); larger estimates stop before loading',
    min: 1,
  },
};

/** Registers the onnxruntime kernels with @gla/core once per process, when onnxruntime-node loads. */
let onnxKernels: Promise<boolean> | undefined;
function registerProbeKernels(threads: number | undefined): Promise<boolean> {
  onnxKernels ??= loadOrt().then(
    () => {
      registerOnnxKernels(createNodeRuntime(threads ? { threads } : {}));
      return true;
    },
    () => false,
  );
  return onnxKernels;
}

/** The --backend choice, validated against the registered kernel backends (after registration). */
function backendFrom(options: Options): string {
  const name = optionalString(options, 'backend') ?? 'auto';
  const known = ['auto', ...kernelBackends().map((b) => b.name)];
  if (!known.includes(name)) throw new CliError('bad-value', `--backend: unknown backend '${name}' (known: ${known.join(', ')})`);
  return name;
}

/**
 * Up-front memory check of a feature directory: reads only the .npy header of features.npy and
 * meta.json's class count, estimates the protocols' peak (estimateProtocolBytes) and throws a
 * `data` CliError (exit 1) naming the file and the needed vs available bytes when it does not fit.
 */
async function checkFeatureMemory(
  dir: string,
  settings: ProtocolSettings,
  protocols: readonly ProtocolName[],
  available: number,
): Promise<void> {
  const file = join(dir, 'features.npy');
  let shape: number[];
  try {
    const reader = await openNpy(file);
    shape = reader.header.shape;
    await reader.close();
  } catch {
    return; // unreadable files get their own error from the loader
  }
  let classes = 0;
  try {
    const meta = JSON.parse(await readFile(join(dir, 'meta.json'), 'utf8')) as { classNames?: unknown };
    classes = Array.isArray(meta.classNames) ? meta.classNames.length : 0;
  } catch {
    return;
  }
  if (shape.length !== 2 || classes < 2) return;
  const needed = estimateProtocolBytes({ rows: shape[0]!, dim: shape[1]!, classes }, settings, protocols);
  if (needed > available)
    throw new CliError(
      'data',
      `${file}: ${shape[0]} x ${shape[1]} features, ${classes} classes need about ${needed} bytes (${gib(needed)}) for ${protocols.join(', ')}; ${available} bytes (${gib(available)}) are available (--memory-limit, fewer protocols or a smaller feature set)`,
    );
}

function gib(bytes: number): string {
  return `${(bytes / 2 ** 30).toFixed(2)} GiB`;
}

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
  const protocols = protocolsFrom(options);
  // Results writing (1/2): refuse an unwritable --out before any work.
  const outOption = optionalString(options, 'out');
  await assertWritableFolder(outOption ? userPath(outOption) : defaultOutDir());
  const featuresOption = optionalString(options, 'features');
  if (featuresOption)
    await checkFeatureMemory(userPath(featuresOption), settings, protocols, optionalNumber(options, 'memory-limit') ?? freemem());
  const onnx = await registerProbeKernels(optionalNumber(options, 'threads'));
  const backend = backendFrom(options);
  const { dataset, timing } = await datasetFor(options, signal);
  const outDir = outOption
    ? userPath(outOption)
    : optionalString(options, 'features') || dataset.name !== FORTUNES_MAIN.name
      ? join(defaultOutDir(), dataset.name)
      : defaultOutDir();
  log(
    `${dataset.name}: ${dataset.features.rows} examples x ${dataset.features.cols} dims, ${dataset.classNames.length} classes; ${settings.seeds.length} seeds x k in {${settings.shots.join(', ')}}`,
  );
  // The fingerprint reads the raw features; then a loaded feature directory is normalised in place
  // (one N x D Float32 copy instead of two). The built-in data sets' features stay untouched.
  const fingerprint = runFingerprint(dataset, { settings, schema: RESULTS_SCHEMA, versions: versions() }, protocols);
  const prepared = await asCliErrors(async () => prepareData(dataset, { inPlace: featuresOption !== undefined }));
  log(`probe kernels: ${backend === 'auto' ? (onnx ? 'onnxruntime (auto)' : 'auto (onnxruntime-node not installed)') : backend}`);
  const saveDir = optionalString(options, 'save-logits');
  const saveRoot = saveDir ? userPath(saveDir) : undefined;
  const onTestLogits = saveRoot ? (t: TestLogits) => saveTestLogits(saveRoot, t) : undefined;
  // Finished cells are checkpointed under the output folder, so an interrupted run resumes.
  const checkpoint = await openCheckpoint(outDir, fingerprint);
  if (options.resume === false) checkpoint.completed.clear();
  else if (checkpoint.completed.size > 0) log(`resuming: ${checkpoint.completed.size} finished cell(s) from ${checkpoint.dir}`);
  // Progress per cell: one line per newly computed cell with its time and the protocol's elapsed time.
  let protocolStart = performance.now();
  let cellStart = performance.now();
  const hooks = <Cell>() => ({
    ...(signal ? { signal } : {}),
    backend,
    completed: checkpoint.completed as Map<string, CellRecord<Cell>>,
    onCell: async (key: string, record: CellRecord<Cell>) => {
      await checkpoint.save(key, record);
      const now = performance.now();
      log(
        `cell ${key}: ${record.status === 'ok' ? 'done' : `failed (${record.failure.code})`} in ${((now - cellStart) / 1000).toFixed(1)}s, ${((now - protocolStart) / 1000).toFixed(1)}s elapsed`,
      );
      cellStart = now;
    },
    ...(onTestLogits ? { onTestLogits } : {}),
  });
  const seconds: Record<string, number> = {};
  let fewShot: Awaited<ReturnType<typeof runFewShot>> | undefined;
  let manyShot: Awaited<ReturnType<typeof runManyShot>> | undefined;
  let longTail: Awaited<ReturnType<typeof runLongTail>> | undefined;
  const heldOutSeeds = Math.min(settings.seeds.length, settings.longTailSeeds);
  for (const protocol of protocols) {
    const t = performance.now();
    protocolStart = t;
    cellStart = t;
    if (protocol === 'few-shot') {
      const bar = new Progress('few-shot protocol', settings.seeds.length * settings.shots.length);
      fewShot = await asCliErrors(() => runFewShot(prepared, settings, { ...hooks(), onProgress: (d, n) => bar.update(d, n) }));
      bar.finish();
    } else if (protocol === 'many-shot') {
      const bar = new Progress('many-shot protocol', heldOutSeeds);
      manyShot = await asCliErrors(() => runManyShot(prepared, settings, { ...hooks(), onProgress: (d, n) => bar.update(d, n) }));
      bar.finish();
    } else {
      const bar = new Progress('long-tailed protocol', heldOutSeeds);
      longTail = await asCliErrors(() =>
        runLongTail(prepared, settings, dataset.classNames, { ...hooks(), onProgress: (d, n) => bar.update(d, n) }),
      );
      bar.finish();
    }
    seconds[`${protocol.replace(/-(.)/g, (_m, c: string) => c.toUpperCase())}Seconds`] = (performance.now() - t) / 1000;
  }
  const counts = Array.from({ length: dataset.classNames.length }, () => 0);
  for (const y of dataset.labels) counts[y]!++;
  const document = await writeResultSet(outDir, {
    schema: RESULTS_SCHEMA,
    createdAt: new Date().toISOString(),
    command: ['gla', ...argv].join(' '),
    settings,
    protocols,
    versions: versions(),
    timing: {
      ...timing,
      ...seconds,
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
      ...(fewShot ? { fewShot } : {}),
      ...(manyShot ? { manyShot } : {}),
      ...(longTail ? { longTail } : {}),
    },
  });
  await checkpoint.remove();
  if (fewShot) {
    print(`# ${dataset.name}: few-shot accuracy (%), mean ± std over ${settings.seeds.length} seeds`);
    print(fewShotTable(fewShot, settings.shots));
    print('');
    print(comparisonTable(settings.shots.map((k) => [`k=${k}`, fewShot!.comparisons[String(k)] ?? []])));
    for (const f of fewShot.failed) print(`failed cell ${f.key}: ${f.code}: ${f.message}`);
  }
  if (manyShot) {
    print('');
    print('# many-shot (full training split, q and temperatures on a validation split) (%)');
    print(manyShotTable(manyShot));
    print('');
    print(comparisonTable([['many-shot', manyShot.comparisons]]));
  }
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
