import { join } from 'node:path';
import { writeAtomic } from './atomic';
import {
  FEW_SHOT_METHODS,
  type FewShotResults,
  LONG_TAIL_METHODS,
  type LongTailResults,
  type ProtocolSettings,
  type Stat,
} from './protocol';
import { barChart, lineChart } from './svg';

export const RESULTS_SCHEMA = 'gla-bench/results@1';

export interface DatasetReport {
  name: string;
  source: string;
  model: string;
  classes: string[];
  promptNames: string[];
  templates: string[];
  classCounts: number[];
  examples: number;
  dim: number;
  fewShot: FewShotResults;
  longTail?: LongTailResults;
}

export interface ResultsDocument {
  schema: typeof RESULTS_SCHEMA;
  createdAt: string;
  command: string;
  settings: ProtocolSettings;
  versions: Record<string, string>;
  timing: Record<string, number | boolean | string>;
  dataset: DatasetReport;
  plots: string[];
}

export function pct(v: number, digits = 1): string {
  return Number.isFinite(v) ? (v * 100).toFixed(digits) : 'n/a';
}

export function pm(s: Stat | undefined): string {
  if (!s) return 'n/a';
  return `${pct(s.mean)} ± ${pct(s.std)}`;
}

/** Markdown table of the few-shot accuracies (method x k); the best mean per column in bold. */
export function fewShotTable(fs: FewShotResults, shots: readonly number[]): string {
  const methods = FEW_SHOT_METHODS.filter((m) => fs.methods[m]);
  const best = shots.map((k) => Math.max(...methods.map((m) => fs.methods[m]?.[String(k)]?.mean ?? Number.NEGATIVE_INFINITY)));
  const lines = [`| method | ${shots.map((k) => `k=${k}`).join(' | ')} |`, `|---|${shots.map(() => '---:').join('|')}|`];
  for (const m of methods) {
    const cells = shots.map((k, j) => {
      const s = fs.methods[m]?.[String(k)];
      const text = pm(s);
      return s && Math.abs(s.mean - best[j]!) < 1e-12 ? `**${text}**` : text;
    });
    lines.push(`| ${m} | ${cells.join(' | ')} |`);
  }
  return lines.join('\n');
}

export function longTailTable(lt: LongTailResults): string {
  const lines = ['| method | overall | head | medium | tail |', '|---|---:|---:|---:|---:|'];
  for (const m of LONG_TAIL_METHODS) {
    const r = lt.methods[m];
    if (!r) continue;
    lines.push(`| ${m} | ${pm(r.overall)} | ${pm(r.head)} | ${pm(r.medium)} | ${pm(r.tail)} |`);
  }
  return lines.join('\n');
}

/** Checks of the issue's claims, computed from the means (never used to choose anything). */
export function claimChecks(fs: FewShotResults, shots: readonly number[]): string[] {
  const out: string[] = [];
  for (const k of shots) {
    const key = String(k);
    const zs = fs.methods['zero-shot']?.[key]?.mean ?? Number.NaN;
    const deb = fs.methods['zero-shot-debiased']?.[key]?.mean ?? Number.NaN;
    const gla = fs.methods.gla?.[key]?.mean ?? Number.NaN;
    const others = FEW_SHOT_METHODS.filter((m) => !m.startsWith('gla')).map((m) => [m, fs.methods[m]?.[key]?.mean ?? Number.NaN] as const);
    const beaten = others.filter(([, v]) => v > gla + 1e-12).map(([m, v]) => `${m} ${pct(v)}`);
    out.push(
      `- k=${k}: debiased ${deb > zs ? '>' : '<='} zero-shot (${pct(deb)} vs ${pct(zs)}); gla ${pct(gla)} ${beaten.length ? `is beaten by ${beaten.join(', ')}` : 'is >= every baseline'}${glaChoices(fs, k)}`,
    );
  }
  return out;
}

/** Which weights the gla row used at k over the seeds, with the range of the significance statistic z. */
function glaChoices(fs: FewShotResults, k: number): string {
  const cells = fs.details.filter((d) => d.shots === k);
  if (cells.length === 0) return '';
  const n = (w: string) => cells.filter((d) => d.glaWeights === w).length;
  const zs = cells.map((d) => d.glaZ).filter((z) => Number.isFinite(z));
  const range = zs.length ? `; held-out NLL z ${Math.min(...zs).toFixed(2)}..${Math.max(...zs).toFixed(2)}` : '';
  return ` (gla weights: joint ${n('joint')}, paper ${n('paper')}, probe alone ${n('probe')} of ${cells.length} seeds${range})`;
}

export function markdownReport(doc: ResultsDocument): string {
  const ds = doc.dataset;
  const s = doc.settings;
  const lines: string[] = [];
  lines.push(`# GLA results: ${ds.name}`);
  lines.push('');
  lines.push(
    `${ds.examples} examples, ${ds.classes.length} classes (sizes ${Math.min(...ds.classCounts)}..${Math.max(...ds.classCounts)}), features: ${ds.model} (${ds.dim}-d). Generated ${doc.createdAt} by \`${doc.command}\`.`,
  );
  lines.push('');
  lines.push(
    `Few-shot protocol: k in {${s.shots.join(', ')}}, seeds ${s.seeds.join(', ')}, balanced test split of ${s.testPerClass} per class, ${s.valPerClass} val per class; q, temperatures, l2 (out-of-fold accuracy, ${s.folds}-fold cross-fitting), prior regularisation (k-fold held-out cross-entropy) and WiSE alpha are all chosen on train + val. Accuracy in %, mean ± std over seeds.`,
  );
  lines.push('');
  lines.push('## Few-shot accuracy');
  lines.push('');
  lines.push(fewShotTable(ds.fewShot, s.shots));
  lines.push('');
  lines.push(...claimChecks(ds.fewShot, s.shots));
  lines.push('');
  if (ds.longTail) {
    lines.push('## Long-tailed training, balanced test');
    lines.push('');
    lines.push(
      `Train on the natural class sizes (${Math.min(...ds.longTail.trainCounts)}..${Math.max(...ds.longTail.trainCounts)} per class) minus the test split and ${s.longTailValPerClass} val per class; head/medium/tail = thirds of the classes by training count.`,
    );
    lines.push('');
    lines.push(longTailTable(ds.longTail));
    lines.push('');
    lines.push(
      `Head: ${ds.longTail.groups.head.join(', ')}. Medium: ${ds.longTail.groups.medium.join(', ')}. Tail: ${ds.longTail.groups.tail.join(', ')}.`,
    );
    lines.push('');
    lines.push(
      `gla weights per seed: ${ds.longTail.details.map((d) => `${d.glaWeights} (held-out NLL z ${Number.isFinite(d.glaZ) ? d.glaZ.toFixed(2) : String(d.glaZ)})`).join(', ')}.`,
    );
    lines.push('');
  }
  const d = ds.fewShot.diagnostics;
  if (d) {
    lines.push(`## Zero-shot bias (seed ${d.seed}, k=${d.shots})`);
    lines.push('');
    lines.push(
      `Zero-shot temperature T=${d.zeroShotTemperature.toFixed(4)}; ECE on test before debiasing ${pct(d.eceZeroShot)}%, after ${pct(d.eceDebiased)}%.`,
    );
    lines.push('');
    lines.push('| class | prompt | q | test true | predicted zero-shot | predicted debiased | predicted gla |');
    lines.push('|---|---|---:|---:|---:|---:|---:|');
    ds.classes.forEach((c, i) => {
      lines.push(
        `| ${c} | ${ds.promptNames[i]} | ${d.prior[i]!.toFixed(4)} | ${d.testCountsTrue[i]} | ${d.testCountsZeroShot[i]} | ${d.testCountsDebiased[i]} | ${d.testCountsGla[i]} |`,
      );
    });
    lines.push('');
  }
  lines.push('## Timing');
  lines.push('');
  for (const [k, v] of Object.entries(doc.timing)) lines.push(`- ${k}: ${typeof v === 'number' ? v.toFixed(2) : String(v)}`);
  lines.push('');
  if (doc.plots.length) {
    lines.push('## Plots');
    lines.push('');
    for (const p of doc.plots) lines.push(`![${p}](${p})`);
    lines.push('');
  }
  return `${lines.join('\n')}\n`;
}

/** The SVG plots of a dataset report, as [file name, content]. */
export function plots(ds: DatasetReport, shots: readonly number[]): [string, string][] {
  const out: [string, string][] = [];
  const methods = FEW_SHOT_METHODS.filter((m) => ds.fewShot.methods[m]);
  out.push([
    'accuracy-vs-shots.svg',
    lineChart({
      title: `${ds.name}: test accuracy vs shots`,
      xLabel: 'labelled examples per class (k)',
      yLabel: 'accuracy (balanced test)',
      xScale: 'log2',
      xTicks: shots,
      yPercent: true,
      series: methods.map((m) => ({
        name: m,
        points: shots.map((k) => [k, ds.fewShot.methods[m]?.[String(k)]?.mean ?? Number.NaN] as const),
        errors: shots.map((k) => ds.fewShot.methods[m]?.[String(k)]?.std ?? 0),
        dashed: m.startsWith('zero-shot-debiased-') || m === 'zero-shot-em',
      })),
    }),
  ]);
  const d = ds.fewShot.diagnostics;
  if (d) {
    const total = ds.classCounts.reduce((a, b) => a + b, 0);
    const order = d.prior
      .map((q, c) => [q, c] as const)
      .sort((a, b) => b[0] - a[0] || a[1] - b[1])
      .map(([, c]) => c);
    out.push([
      'prior-vs-frequency.svg',
      barChart({
        title: `${ds.name}: estimated prior q (seed ${d.seed}, k=${d.shots}) vs class frequency`,
        yLabel: 'probability',
        categories: order.map((c) => ds.classes[c]!),
        series: [
          { name: 'estimated q', values: order.map((c) => d.prior[c]!) },
          { name: 'class frequency', values: order.map((c) => ds.classCounts[c]! / total) },
          { name: 'uniform', values: order.map(() => 1 / ds.classes.length) },
        ],
      }),
    ]);
    const rel = (bins: typeof d.reliabilityZeroShot) => bins.filter((b) => b.count > 0).map((b) => [b.confidence, b.accuracy] as const);
    out.push([
      'reliability.svg',
      lineChart({
        title: `${ds.name}: reliability before and after debiasing`,
        xLabel: 'confidence (max softmax)',
        yLabel: 'accuracy',
        xMin: 0,
        xMax: 1,
        yMin: 0,
        yMax: 1,
        xPercent: true,
        yPercent: true,
        diagonal: true,
        series: [
          { name: `zero-shot /T (ECE ${pct(d.eceZeroShot)}%)`, points: rel(d.reliabilityZeroShot) },
          { name: `debiased (ECE ${pct(d.eceDebiased)}%)`, points: rel(d.reliabilityDebiased) },
          { name: 'gla', points: rel(d.reliabilityGla) },
        ],
      }),
    ]);
    out.push([
      'predicted-counts.svg',
      barChart({
        title: `${ds.name}: predicted vs true test counts per class (seed ${d.seed}, k=${d.shots})`,
        yLabel: 'test examples',
        categories: ds.classes,
        series: [
          { name: 'true', values: d.testCountsTrue },
          { name: 'zero-shot', values: d.testCountsZeroShot },
          { name: 'debiased zero-shot', values: d.testCountsDebiased },
          { name: 'gla', values: d.testCountsGla },
        ],
      }),
    ]);
  }
  return out;
}

/** Writes results.json, results.md and the SVG plots into `dir` (each file atomic). */
export async function writeReport(dir: string, doc: Omit<ResultsDocument, 'plots'>): Promise<ResultsDocument> {
  const svgs = plots(doc.dataset, doc.settings.shots);
  const full: ResultsDocument = { ...doc, plots: svgs.map(([name]) => name) };
  for (const [name, content] of svgs) await writeAtomic(join(dir, name), content);
  await writeAtomic(join(dir, 'results.md'), markdownReport(full));
  await writeAtomic(join(dir, 'results.json'), `${JSON.stringify(full, jsonReplacer, 2)}\n`);
  return full;
}

function jsonReplacer(_key: string, value: unknown): unknown {
  if (typeof value === 'number' && !Number.isFinite(value)) return null;
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) return Array.from(value as unknown as ArrayLike<number>);
  return value;
}
