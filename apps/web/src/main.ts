/**
 * The page: data in → classes and prompts → zero-shot → the bias → q estimated in a Web Worker →
 * debiased predictions, metrics, plots and exports; plus the results.json viewer.
 * Every loader validates into a new object first: a bad file shows a message and changes nothing.
 */
import type { Matrix } from '@gla/core';
import { encodeNpy } from '@gla/datasets';
import { SENTENCE_TEMPLATES } from '@gla/encoders';
import './styles.css';
import type { EncoderRequest, EncoderResponse, ModelInfo } from './encoder-worker';
import { AppError, describeError } from './errors';
import { readFeatureFiles } from './feature-dir';
import { type EstimateRequest, type EstimateResult, type Evaluation, parseMarginal, zeroShotLogits } from './flow';
import { distinctLabels, labelIndices, parseTextFile } from './parse';
import { barChart, draw, esc, lineChart } from './plots';
import { renderResults } from './viewer';
import type { WorkerRequest, WorkerResponse } from './worker';

// ---------- state ----------

interface TextData {
  kind: 'texts';
  name: string;
  texts: string[];
  labelNames?: string[];
  /** Embeddings of `texts` (computed once per data set). */
  features?: Matrix;
  embedMs?: number;
}

interface FeatureData {
  kind: 'features';
  name: string;
  features: Matrix;
  labels: Int32Array;
  classNames: string[];
  templates: string[];
  textFeatures: Matrix;
  logitScale: number;
  model: string;
}

type Data = TextData | FeatureData;

interface ZeroShot {
  logits: Matrix;
  labels?: Int32Array;
  classNames: string[];
  templates: string[];
  logitScale: number;
  predictions: Int32Array;
  embed?: { texts: number; ms: number; prompts: number; promptMs: number };
}

interface PriorState {
  request: EstimateRequest;
  estimate: EstimateResult;
  evaluation: Evaluation;
  workerRoundTripMs: number;
}

const state: { data?: Data; zeroShot?: ZeroShot; prior?: PriorState; busy: boolean } = { busy: false };

const $ = <T extends HTMLElement>(id: string) => {
  const el = document.getElementById(id);
  if (!el) throw new Error(`#${id} missing`);
  return el as T;
};

// ---------- messages ----------

function showMessage(text: string, kind: 'error' | 'info' = 'error'): void {
  const box = $('message');
  box.hidden = false;
  box.className = `message ${kind}`;
  box.innerHTML = `<p>${esc(text)}</p><button type="button" id="message-close" aria-label="Dismiss message">×</button>`;
  $('message-close').addEventListener('click', () => {
    box.hidden = true;
  });
}

function clearMessage(): void {
  $('message').hidden = true;
}

function announce(text: string): void {
  $('live').textContent = text;
}

async function guarded(what: string, fn: () => Promise<void>): Promise<void> {
  if (state.busy) {
    showMessage('Still working on the previous step; please wait.', 'info');
    return;
  }
  state.busy = true;
  document.body.setAttribute('aria-busy', 'true');
  try {
    clearMessage();
    await fn();
  } catch (error) {
    showMessage(`${what}: ${describeError(error)}`);
  } finally {
    state.busy = false;
    document.body.removeAttribute('aria-busy');
  }
}

// ---------- model ----------

let encoderWorker: Worker | undefined;
let encoderId = 1;

/** One request to the encoder worker; resolves with its final message (progress messages go to `onProgress`). */
function askEncoder(
  request: EncoderRequest extends infer R ? (R extends unknown ? Omit<R, 'id'> : never) : never,
  onProgress?: (done: number, total: number) => void,
): Promise<EncoderResponse> {
  encoderWorker ??= new Worker(new URL('./encoder-worker.ts', import.meta.url), { type: 'module' });
  const w = encoderWorker;
  const id = encoderId++;
  return new Promise((resolve, reject) => {
    const onMessage = (event: MessageEvent<EncoderResponse>) => {
      const r = event.data;
      if (r.id !== id) return;
      if (r.kind === 'progress') {
        onProgress?.(r.done, r.total);
        return;
      }
      w.removeEventListener('message', onMessage);
      w.removeEventListener('error', onError);
      if (r.kind === 'error') reject(new AppError('model-unavailable', r.message));
      else resolve(r);
    };
    const onError = (event: ErrorEvent) => {
      w.removeEventListener('message', onMessage);
      w.removeEventListener('error', onError);
      reject(new AppError('model-unavailable', `the encoder worker failed: ${event.message}`));
    };
    w.addEventListener('message', onMessage);
    w.addEventListener('error', onError);
    w.postMessage({ ...request, id } as EncoderRequest);
  });
}

let modelPromise: Promise<ModelInfo> | undefined;

function model(): Promise<ModelInfo> {
  modelPromise ??= askEncoder({ kind: 'load', baseUrl: location.href }).then(
    (r) => {
      if (r.kind !== 'loaded') throw new Error(`unexpected answer ${r.kind}`);
      const m = r.info;
      $('model-status').textContent =
        `Sentence encoder ready: Universal Sentence Encoder lite on ${m.executionProvider}${m.executionProvider === 'wasm' ? ` (${m.threads} thread${m.threads > 1 ? 's' : ''}${globalThis.crossOriginIsolated ? '' : ', page not cross-origin isolated'})` : ''}, ${(m.bytes / 2 ** 20).toFixed(1)} MB ${m.fromCache ? 'from the browser cache' : 'downloaded once, now cached'}, loaded in ${(m.loadMs / 1000).toFixed(1)} s, running in a Web Worker.`;
      document.body.dataset['model'] = 'ready';
      return m;
    },
    (error) => {
      modelPromise = undefined;
      $('model-status').textContent = `The sentence encoder could not be loaded: ${describeError(error)} Feature directories still work.`;
      document.body.dataset['model'] = 'failed';
      throw error;
    },
  );
  return modelPromise;
}

async function embed(texts: string[], batchSize: number, onProgress?: (done: number, total: number) => void): Promise<Matrix> {
  await model();
  const r = await askEncoder({ kind: 'encode', texts, batchSize }, onProgress);
  if (r.kind !== 'encoded') throw new Error(`unexpected answer ${r.kind}`);
  return { data: r.data, rows: r.rows, cols: r.cols };
}

// ---------- data in ----------

function setData(data: Data, summary: string): void {
  state.data = data;
  state.zeroShot = undefined;
  state.prior = undefined;
  $('data-summary').textContent = summary;
  $('step-classes').hidden = false;
  $('step-bias').hidden = true;
  $('step-prior').hidden = true;
  $('step-results').hidden = true;
  const names = $<HTMLTextAreaElement>('class-names');
  const templates = $<HTMLTextAreaElement>('templates');
  if (data.kind === 'texts') {
    names.readOnly = false;
    templates.readOnly = false;
    if (data.labelNames) names.value = distinctLabels(data.labelNames).join('\n');
    if (templates.value.trim() === '' || templates.dataset['auto'] === '1') {
      templates.value = SENTENCE_TEMPLATES.join('\n');
      templates.dataset['auto'] = '1';
    }
    $('classes-note').textContent = data.labelNames
      ? 'These names fill the prompts; every label in the file must be one of them.'
      : 'The file has no labels: type the class names. Without labels, q is estimated by prior matching.';
  } else {
    names.value = data.classNames.join('\n');
    templates.value = data.templates.join('\n');
    names.readOnly = true;
    templates.readOnly = true;
    $('classes-note').textContent =
      `Fixed by the feature directory: text_features.npy holds ${data.templates.length} template(s) x ${data.classNames.length} classes from ${data.model}; logit scale ${data.logitScale}.`;
  }
  announce(summary);
}

async function loadSample(): Promise<void> {
  const response = await fetch(new URL('sample/fortunes.json', location.href));
  if (!response.ok) throw new AppError('missing-file', `sample/fortunes.json: HTTP ${response.status}; rebuild the app with pnpm web.`);
  const sample = (await response.json()) as {
    available: boolean;
    message?: string;
    classNames?: string[];
    texts?: string[];
    labels?: number[];
    source?: string;
  };
  if (!sample.available || !sample.texts || !sample.labels || !sample.classNames)
    throw new AppError('missing-file', sample.message ?? 'The sample is not available.');
  const labelNames = sample.labels.map((l) => sample.classNames![l]!);
  setData(
    { kind: 'texts', name: 'fortunes sample', texts: sample.texts, labelNames },
    `Sample: ${sample.texts.length} texts, ${sample.classNames.length} classes (${sample.source}). Next: check the classes and prompts, then run zero-shot.`,
  );
  $<HTMLTextAreaElement>('class-names').value = sample.classNames.join('\n');
}

async function loadTextFile(file: File): Promise<void> {
  const table = parseTextFile(file.name, await file.text());
  setData(
    { kind: 'texts', name: file.name, texts: table.texts, ...(table.labels ? { labelNames: table.labels } : {}) },
    `${file.name}: ${table.texts.length} texts from column "${table.textColumn}"${table.labelColumn ? `, labels from "${table.labelColumn}" (${distinctLabels(table.labels!).length} classes)` : ', no label column'}.`,
  );
}

async function loadFeatureFiles(list: FileList): Promise<void> {
  const files = new Map<string, Uint8Array>();
  for (const f of Array.from(list)) files.set(f.name.split('/').pop()!, new Uint8Array(await f.arrayBuffer()));
  const fd = readFeatureFiles(files);
  setData(
    {
      kind: 'features',
      name: fd.name,
      features: fd.features,
      labels: fd.labels,
      classNames: fd.classNames,
      templates: fd.templates,
      textFeatures: fd.textFeatures,
      logitScale: fd.logitScale,
      model: fd.model,
    },
    `Feature directory "${fd.name}": ${fd.features.rows} x ${fd.features.cols} features, ${fd.classNames.length} classes, ${fd.templates.length} template(s), model ${fd.model}.`,
  );
}

// ---------- zero-shot ----------

function lines(text: string): string[] {
  return text
    .split('\n')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

async function runZeroShot(): Promise<void> {
  const data = state.data;
  if (!data) throw new AppError('missing-file', 'Load some data first.');
  if (data.kind === 'features') {
    const logits = zeroShotLogits(data.features, data.textFeatures, data.classNames.length, data.logitScale);
    showZeroShot({
      logits,
      labels: data.labels,
      classNames: data.classNames,
      templates: data.templates,
      logitScale: data.logitScale,
      predictions: argmax(logits),
    });
    return;
  }
  const classNames = lines($<HTMLTextAreaElement>('class-names').value);
  const templates = lines($<HTMLTextAreaElement>('templates').value);
  if (classNames.length < 2) throw new AppError('bad-option', 'Give at least two class names, one per line.');
  if (new Set(classNames).size !== classNames.length) throw new AppError('bad-option', 'The class names have duplicates.');
  if (templates.length === 0) throw new AppError('bad-option', 'Give at least one prompt template.');
  const bad = templates.find((t) => !t.includes('{}'));
  if (bad !== undefined) throw new AppError('bad-option', `The template "${bad}" has no {} for the class name.`);
  const labels = data.labelNames ? labelIndices(data.labelNames, classNames, data.name) : undefined;
  await model();
  const progress = $<HTMLProgressElement>('embed-progress');
  progress.hidden = false;
  try {
    let features = data.features;
    let embedMs = data.embedMs ?? 0;
    if (!features) {
      const t0 = performance.now();
      features = await embed(data.texts, 32, (done, total) => {
        progress.value = done / total;
        announce(`Embedding texts: ${done} of ${total}`);
      });
      embedMs = performance.now() - t0;
    }
    const prompts = templates.flatMap((t) => classNames.map((c) => t.split('{}').join(c)));
    const t1 = performance.now();
    const text = await embed(prompts, 64);
    const promptMs = performance.now() - t1;
    const logits = zeroShotLogits(features, { data: text.data, rows: text.rows, cols: text.cols }, classNames.length, 100);
    // commit only now that everything succeeded
    data.features = features;
    data.embedMs = embedMs;
    showZeroShot({
      logits,
      ...(labels ? { labels } : {}),
      classNames,
      templates,
      logitScale: 100,
      predictions: argmax(logits),
      embed: { texts: data.texts.length, ms: embedMs, prompts: prompts.length, promptMs },
    });
  } finally {
    progress.hidden = true;
  }
}

function argmax(m: Matrix): Int32Array {
  const out = new Int32Array(m.rows);
  for (let i = 0; i < m.rows; i++) {
    let best = 0;
    for (let j = 1; j < m.cols; j++) if (m.data[i * m.cols + j]! > m.data[i * m.cols + best]!) best = j;
    out[i] = best;
  }
  return out;
}

function counts(values: ArrayLike<number>, C: number): number[] {
  const out = new Array<number>(C).fill(0);
  for (let i = 0; i < values.length; i++) out[values[i]!]!++;
  return out;
}

function pct(v: number, digits = 1): string {
  return Number.isFinite(v) ? `${(v * 100).toFixed(digits)}%` : 'n/a';
}

function showZeroShot(z: ZeroShot): void {
  state.zeroShot = z;
  state.prior = undefined;
  const C = z.classNames.length;
  const N = z.logits.rows;
  const predicted = counts(z.predictions, C);
  const plot = $('bias-plot');
  let summary: string;
  if (z.labels) {
    const truth = counts(z.labels, C);
    let correct = 0;
    for (let i = 0; i < N; i++) if (z.predictions[i] === z.labels[i]) correct++;
    const ratios = predicted.map((p, c) => (p + 0.5) / (truth[c]! + 0.5));
    const over = ratios.indexOf(Math.max(...ratios));
    const under = ratios.indexOf(Math.min(...ratios));
    summary = `Zero-shot accuracy ${pct(correct / N)} on ${N} texts. The model predicts "${z.classNames[over]}" ${predicted[over]} times for ${truth[over]} true examples, and "${z.classNames[under]}" ${predicted[under]} times for ${truth[under]}: that skew is the label bias.`;
    draw(plot, (width) =>
      barChart({
        width,
        title: 'Predicted vs true count (zero-shot)',
        categories: z.classNames,
        series: [
          { name: 'true', values: truth },
          { name: 'predicted (zero-shot)', values: predicted },
        ],
        colors: ['#475569', '#c2410c'],
      }),
    );
  } else {
    const share = predicted.map((p) => p / N);
    const top = share.indexOf(Math.max(...share));
    summary = `No labels: the model puts ${pct(share[top]!)} of the ${N} texts in "${z.classNames[top]}" (uniform would be ${pct(1 / C)} each).`;
    draw(plot, (width) =>
      barChart({
        width,
        title: 'Predicted share (zero-shot)',
        categories: z.classNames,
        series: [
          { name: 'predicted share', values: share },
          { name: 'uniform', values: share.map(() => 1 / C) },
        ],
        percent: true,
        colors: ['#c2410c', '#475569'],
      }),
    );
  }
  if (z.embed)
    summary += ` Embedded ${z.embed.texts} texts in ${(z.embed.ms / 1000).toFixed(2)} s (${(z.embed.texts / (z.embed.ms / 1000)).toFixed(0)} texts/s) and ${z.embed.prompts} prompts.`;
  $('bias-summary').textContent = summary;
  $('step-bias').hidden = false;
  $('step-prior').hidden = false;
  $('step-results').hidden = true;
  const hasLabels = z.labels !== undefined;
  for (const id of ['mode-k', 'mode-all', 't-nll']) $<HTMLInputElement>(id).disabled = !hasLabels;
  if (!hasLabels) {
    $<HTMLInputElement>('mode-free').checked = true;
    $<HTMLInputElement>('t-fixed').checked = true;
  }
  announce(summary);
}

// ---------- prior (in a worker) ----------

let worker: Worker | undefined;
let nextId = 1;

function solveInWorker(request: EstimateRequest): Promise<{ response: Extract<WorkerResponse, { ok: true }>; ms: number }> {
  worker ??= new Worker(new URL('./worker.ts', import.meta.url), { type: 'module' });
  const w = worker;
  const id = nextId++;
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const onMessage = (event: MessageEvent<WorkerResponse>) => {
      if (event.data.id !== id) return;
      w.removeEventListener('message', onMessage);
      w.removeEventListener('error', onError);
      if (event.data.ok) resolve({ response: event.data, ms: performance.now() - t0 });
      else reject(new Error(event.data.message));
    };
    const onError = (event: ErrorEvent) => {
      w.removeEventListener('message', onMessage);
      w.removeEventListener('error', onError);
      reject(new Error(`the worker failed: ${event.message}`));
    };
    w.addEventListener('message', onMessage);
    w.addEventListener('error', onError);
    const message: WorkerRequest = { id, request };
    w.postMessage(message);
  });
}

function radio(name: string): string {
  return (document.querySelector(`input[name="${name}"]:checked`) as HTMLInputElement | null)?.value ?? '';
}

async function estimate(): Promise<void> {
  const z = state.zeroShot;
  if (!z) throw new AppError('missing-file', 'Run zero-shot first.');
  const mode = radio('mode');
  const C = z.classNames.length;
  let request: EstimateRequest;
  const tMode = radio('temperature');
  const fixed = Number($<HTMLInputElement>('t-value').value);
  if (tMode === 'fixed' && !(fixed > 0))
    throw new AppError('bad-option', `The fixed temperature must be a positive number, got "${$<HTMLInputElement>('t-value').value}".`);
  if (mode === 'label-free') {
    request = {
      logits: z.logits,
      ...(z.labels ? { labels: z.labels } : {}),
      mode: { kind: 'label-free', targetMarginal: parseMarginal($<HTMLInputElement>('marginal').value, C) },
      temperature: tMode === 'nll' ? 1 : fixed,
    };
  } else {
    const k = Number($<HTMLInputElement>('shots').value);
    if (mode === 'per-class' && (!Number.isInteger(k) || k < 1))
      throw new AppError('bad-option', `k must be a whole number >= 1, got "${$<HTMLInputElement>('shots').value}".`);
    request = {
      logits: z.logits,
      ...(z.labels ? { labels: z.labels } : {}),
      mode: { kind: 'labelled', selection: mode === 'all' ? { kind: 'all' } : { kind: 'per-class', k, seed: 1 } },
      temperature: tMode === 'nll' ? 'nll' : fixed,
    };
  }
  announce('Estimating q in a Web Worker…');
  const { response, ms } = await solveInWorker(request);
  state.prior = { request, estimate: response.estimate, evaluation: response.evaluation, workerRoundTripMs: ms };
  showPrior();
}

function showPrior(): void {
  const z = state.zeroShot!;
  const { estimate: e, evaluation: ev, request } = state.prior!;
  const C = z.classNames.length;
  const modeText =
    request.mode.kind === 'label-free'
      ? 'label-free prior matching on every row'
      : request.mode.selection.kind === 'all'
        ? `all ${e.rows.length} labelled rows`
        : `${request.mode.selection.k} labelled examples per class (${e.rows.length} rows, seed ${request.mode.selection.seed})`;
  $('prior-summary').textContent =
    `q estimated from ${modeText}: T = ${e.temperature.toPrecision(6)} (${e.temperatureMethod === 'nll' ? 'NLL-calibrated' : 'given'}), ${e.solver}, ${e.iterations} iterations, max-abs gradient ${e.gradientNorm.toExponential(1)}, ${e.converged ? 'converged' : 'NOT converged'}, solved in ${e.solveMs.toFixed(1)} ms in a Web Worker. ${ev.heldOut ? `Evaluated on the ${ev.rows.length} rows not used for q.` : `Evaluated on all ${ev.rows.length} rows (the same rows q was estimated on).`}`;
  const box = $('accuracy-box');
  if (ev.before && ev.after) {
    const row = (name: string, b: number, a: number, lowerIsBetter = false) => {
      const d = a - b;
      const better = lowerIsBetter ? d < 0 : d > 0;
      return `<tr><th scope="row">${name}</th><td>${pct(b)}</td><td>${pct(a)}</td><td class="${Math.abs(d) < 5e-4 ? '' : better ? 'up' : 'down'}">${d >= 0 ? '+' : '−'}${(Math.abs(d) * 100).toFixed(1)} pp</td></tr>`;
    };
    box.innerHTML = `<table data-testid="accuracy-table" class="metrics"><caption>Before (zero-shot, softmax(z/T)) and after debiasing (z/T − log q)</caption><thead><tr><th scope="col">metric</th><th scope="col">before</th><th scope="col">after</th><th scope="col">change</th></tr></thead><tbody>${row('accuracy', ev.before.accuracy, ev.after.accuracy)}${row('balanced accuracy', ev.before.balancedAccuracy, ev.after.balancedAccuracy)}${row('ECE (15 bins)', ev.before.ece, ev.after.ece, true)}</tbody></table>`;
  } else {
    box.innerHTML = `<table data-testid="accuracy-table" class="metrics"><caption>No labels: predicted share per class before and after</caption><thead><tr><th scope="col">class</th><th scope="col">before</th><th scope="col">after</th></tr></thead><tbody>${z.classNames.map((c, k) => `<tr><th scope="row">${esc(c)}</th><td>${pct(ev.countsBefore[k]! / ev.rows.length)}</td><td>${pct(ev.countsAfter[k]! / ev.rows.length)}</td></tr>`).join('')}</tbody></table>`;
  }
  const order = Array.from(e.prior.keys()).sort((a, b) => e.prior[b]! - e.prior[a]! || a - b);
  const labelShare = z.labels ? counts(z.labels, C).map((n) => n / z.labels!.length) : undefined;
  draw($('prior-plot'), (width) =>
    barChart({
      width,
      title: 'Prior q (sorted) vs label share',
      categories: order.map((c) => z.classNames[c]!),
      series: [
        { name: 'q', values: order.map((c) => e.prior[c]!) },
        ...(labelShare ? [{ name: 'label share in the data', values: order.map((c) => labelShare[c]!) }] : []),
        { name: 'uniform', values: order.map(() => 1 / C), valueLabels: false },
      ],
      percent: true,
      colors: ['#1f5fa8', '#475569', '#a3a3a3'],
    }),
  );
  draw($('counts-plot'), (width) =>
    barChart({
      width,
      title: 'Predicted count: before, after',
      categories: z.classNames,
      series: [
        ...(ev.countsTrue ? [{ name: 'true', values: ev.countsTrue }] : []),
        { name: 'zero-shot', values: ev.countsBefore },
        { name: 'debiased', values: ev.countsAfter },
      ],
      colors: ev.countsTrue ? ['#475569', '#c2410c', '#1f5fa8'] : ['#c2410c', '#1f5fa8'],
    }),
  );
  if (ev.before && ev.after) {
    const evBefore = ev.before;
    const evAfter = ev.after;
    const pts = (bins: typeof ev.before.reliability) => bins.filter((b) => b.count > 0).map((b) => [b.confidence, b.accuracy] as const);
    draw($('reliability-plot'), (width) =>
      lineChart({
        width,
        title: 'Reliability (accuracy vs confidence)',
        xLabel: 'confidence (max softmax)',
        yLabel: 'accuracy',
        series: [
          { name: `zero-shot (ECE ${pct(evBefore.ece)})`, points: pts(evBefore.reliability) },
          { name: `debiased (ECE ${pct(evAfter.ece)})`, points: pts(evAfter.reliability) },
        ],
        xMin: 0,
        xMax: 1,
        yMin: 0,
        yMax: 1,
        percent: true,
        diagonal: true,
        square: true,
        colors: ['#c2410c', '#1f5fa8'],
      }),
    );
    const before = ev.before.recall;
    const after = ev.after.recall;
    draw($('recall-plot'), (width) =>
      barChart({
        width,
        title: 'Recall change per class',
        categories: z.classNames,
        series: [{ name: 'recall change', values: after.map((a, c) => a - before[c]!) }],
        percent: true,
        colors: ['#0f766e'],
      }),
    );
  } else {
    draw($('reliability-plot'), () => '<p class="note">The reliability diagram and recall need labels.</p>');
    draw($('recall-plot'), undefined);
  }
  $('step-results').hidden = false;
  announce(`q estimated. ${ev.after ? `Accuracy ${pct(ev.before!.accuracy)} before, ${pct(ev.after.accuracy)} after.` : ''}`);
}

// ---------- exports ----------

function download(name: string, bytes: Uint8Array | string, type: string): void {
  const blob = new Blob([typeof bytes === 'string' ? bytes : (bytes.slice().buffer as ArrayBuffer)], { type });
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

function priorSidecar(): Record<string, unknown> {
  const { estimate: e, request } = state.prior!;
  const z = state.zeroShot!;
  return {
    temperature: e.temperature,
    regularization: 0,
    objective: e.objective,
    gradientNorm: e.gradientNorm,
    iterations: e.iterations,
    converged: e.converged,
    solver: e.solver,
    classes: z.logits.cols,
    examples: e.rows.length,
    prior: Array.from(e.prior),
    values: 'q',
    mode:
      request.mode.kind === 'label-free' ? 'label-free' : request.mode.selection.kind === 'all' ? 'all' : `k=${request.mode.selection.k}`,
    temperatureMethod: e.temperatureMethod,
  };
}

function resultsDocument(): Record<string, unknown> {
  const z = state.zeroShot!;
  const { estimate: e, evaluation: ev, workerRoundTripMs } = state.prior!;
  const data = state.data!;
  return {
    schema: 'gla-web/results@1',
    createdAt: new Date().toISOString(),
    dataset: {
      name: data.name,
      kind: data.kind,
      examples: z.logits.rows,
      classes: z.classNames,
      templates: z.templates,
      logitScale: z.logitScale,
    },
    prior: priorSidecar(),
    logPrior: Array.from(e.logPrior),
    estimationRows: Array.from(e.rows),
    evaluation: {
      rows: Array.from(ev.rows),
      heldOut: ev.heldOut,
      predictionsBefore: Array.from(ev.predictionsBefore),
      predictionsAfter: Array.from(ev.predictionsAfter),
      countsTrue: ev.countsTrue ?? null,
      countsBefore: ev.countsBefore,
      countsAfter: ev.countsAfter,
      before: ev.before ? { ...ev.before } : null,
      after: ev.after ? { ...ev.after } : null,
    },
    timing: {
      embedTexts: z.embed?.texts ?? null,
      embedMs: z.embed?.ms ?? null,
      textsPerSecond: z.embed ? z.embed.texts / (z.embed.ms / 1000) : null,
      solveMs: e.solveMs,
      kernels: e.kernels,
      workerRoundTripMs,
      crossOriginIsolated: globalThis.crossOriginIsolated === true,
    },
  };
}

function requirePrior(): void {
  if (!state.prior) throw new AppError('missing-file', 'Estimate q first.');
}

// ---------- wiring ----------

function wire(): void {
  $('load-sample').addEventListener('click', () => void guarded('Sample', loadSample));
  $<HTMLInputElement>('text-file').addEventListener('change', (event) => {
    const input = event.target as HTMLInputElement;
    const file = input.files?.[0];
    if (file) void guarded('Texts', () => loadTextFile(file)).finally(() => (input.value = ''));
  });
  $<HTMLInputElement>('feature-files').addEventListener('change', (event) => {
    const input = event.target as HTMLInputElement;
    if (input.files && input.files.length > 0) {
      const files = input.files;
      void guarded('Feature directory', () => loadFeatureFiles(files)).finally(() => (input.value = ''));
    }
  });
  $('templates').addEventListener('input', () => {
    $('templates').dataset['auto'] = '0';
  });
  $('run-zero-shot').addEventListener('click', () => void guarded('Zero-shot', runZeroShot));
  $('estimate-prior').addEventListener('click', () => void guarded('Estimating q', estimate));
  $('download-prior').addEventListener(
    'click',
    () =>
      void guarded('Download', async () => {
        requirePrior();
        download(
          'q.npy',
          encodeNpy({ dtype: 'float64', shape: [state.prior!.estimate.prior.length], data: state.prior!.estimate.prior }),
          'application/octet-stream',
        );
      }),
  );
  $('download-prior-json').addEventListener(
    'click',
    () =>
      void guarded('Download', async () => {
        requirePrior();
        download('q.npy.json', `${JSON.stringify(priorSidecar(), null, 2)}\n`, 'application/json');
      }),
  );
  $('download-logits').addEventListener(
    'click',
    () =>
      void guarded('Download', async () => {
        requirePrior();
        const d = state.prior!.evaluation.debiased;
        download('debiased-logits.npy', encodeNpy({ dtype: 'float64', shape: [d.rows, d.cols], data: d.data }), 'application/octet-stream');
      }),
  );
  $('download-results').addEventListener(
    'click',
    () =>
      void guarded('Download', async () => {
        requirePrior();
        download('results.json', `${JSON.stringify(resultsDocument(), null, 2)}\n`, 'application/json');
      }),
  );
  $<HTMLInputElement>('results-file').addEventListener('change', (event) => {
    const input = event.target as HTMLInputElement;
    const file = input.files?.[0];
    if (file)
      void guarded('Viewer', async () => {
        const text = await file.text();
        let doc: unknown;
        try {
          doc = JSON.parse(text);
        } catch (error) {
          throw new AppError('bad-json', `${file.name} is not valid JSON: ${(error as Error).message}.`);
        }
        draw($('viewer-output'), (width) => renderResults(doc, file.name, width));
        announce(`Showing ${file.name}.`);
      }).finally(() => (input.value = ''));
  });
  const viewer = $('viewer');
  viewer.addEventListener('dragover', (e) => {
    e.preventDefault();
    viewer.classList.add('drop');
  });
  viewer.addEventListener('dragleave', () => viewer.classList.remove('drop'));
  viewer.addEventListener('drop', (e) => {
    e.preventDefault();
    viewer.classList.remove('drop');
    const file = e.dataTransfer?.files[0];
    if (file)
      void guarded('Viewer', async () => {
        const doc: unknown = JSON.parse(await file.text());
        draw($('viewer-output'), (width) => renderResults(doc, file.name, width));
      });
  });
}

wire();
document.body.dataset['ready'] = '1';
void model().catch(() => undefined);
fetch(new URL('sample/fortunes.json', location.href))
  .then((r) => r.json() as Promise<{ available: boolean; message?: string }>)
  .then((s) => {
    if (!s.available) {
      $<HTMLButtonElement>('load-sample').disabled = true;
      const p = document.createElement('p');
      p.className = 'note';
      p.textContent = s.message ?? 'The sample is not available.';
      $('load-sample').after(p);
    }
  })
  .catch(() => undefined);
