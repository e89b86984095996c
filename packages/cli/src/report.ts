import { join } from 'node:path';
import type { BaselineComparison, FailedCell } from '@gla/protocols';
import { writeAtomic } from './atomic';
import {
  FEW_SHOT_METHODS,
  type FewShotResults,
  GLA_METHODS,
  LONG_TAIL_METHODS,
  type LongTailResults,
  MANY_SHOT_METHODS,
  type ManyShotResults,
  type ProtocolSettings,
  type Stat,
} from './protocol';
import { barChart, lineChart } from './svg';

export const RESULTS_SCHEMA = 'gla-bench/results@2';

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
  fewShot?: FewShotResults;
  manyShot?: ManyShotResults;
  longTail?: LongTailResults;
}

export interface ResultsDocument {
  schema: typeof RESULTS_SCHEMA;
  createdAt: string;
  command: string;
  settings: ProtocolSettings;
  /** Protocols run, in order. */
  protocols: string[];
  versions: Record<string, string>;
  timing: Record<string, number | boolean | string>;
  dataset: DatasetReport;
  plots: string[];
}

export function pct(v: number, digits = 1): string {
  return Number.isFinite(v) ? (v * 100).toFixed(digits) : 'n/a';
}

export function pm(s: Stat | undefined): string {
  if (!s || s.values.length === 0) return 'n/a';
  return `${pct(s.mean)} ± ${pct(s.std)}`;
}

/** Signed percentage points with one decimal. */
function pp(v: number): string {
  if (!Number.isFinite(v)) return 'n/a';
  const t = (v * 100).toFixed(1);
  return v > 0 && t !== '0.0' ? `+${t}` : t;
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

/** One comparison as text: `+1.2 [-0.3, +2.7], 4/5 wins`. */
export function comparisonText(c: BaselineComparison | undefined): string {
  if (!c) return 'n/a';
  const ci = c.n > 1 ? ` [${pp(c.low)}, ${pp(c.high)}]` : '';
  return `${pp(c.mean)}${ci}, ${c.wins}/${c.n} wins`;
}

/**
 * Per column: each GLA row minus the best baseline of that column (named), paired over seeds:
 * mean difference in percentage points, 95 % Student-t interval, wins.
 */
export function comparisonTable(columns: [string, BaselineComparison[]][]): string {
  const lines = [`| row | ${columns.map(([c]) => c).join(' | ')} |`, `|---|${columns.map(() => '---:').join('|')}|`];
  lines.push(`| best baseline | ${columns.map(([, cs]) => cs[0]?.baseline ?? 'n/a').join(' | ')} |`);
  for (const m of GLA_METHODS)
    lines.push(`| ${m} − best baseline (pp) | ${columns.map(([, cs]) => comparisonText(cs.find((c) => c.method === m))).join(' | ')} |`);
  return lines.join('\n');
}

export function manyShotTable(ms: ManyShotResults): string {
  const lines = ['| method | accuracy |', '|---|---:|'];
  for (const m of MANY_SHOT_METHODS) if (ms.methods[m]) lines.push(`| ${m} | ${pm(ms.methods[m])} |`);
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

function failedLines(failed: readonly FailedCell[]): string[] {
  if (failed.length === 0) return [];
  return [
    '',
    `**${failed.length} cell(s) failed and are left out of the means above:**`,
    ...failed.map((f) => `- ${f.key}: ${f.code}: ${f.message}`),
  ];
}

/** Which ensemble weights the extension rows used at k over the seeds. */
function choiceSummary(fs: FewShotResults, k: number): string {
  const cells = fs.details.filter((d) => d.shots === k);
  if (cells.length === 0) return '';
  const n = (pick: (d: (typeof cells)[number]) => string, w: string) => cells.filter((d) => pick(d) === w).length;
  return `- k=${k}: gla-weighted used fitted weights in ${n((d) => d.gla.weighted, 'joint')}/${cells.length} seeds; gla-gated fell back to the probe in ${n((d) => d.gla.gated, 'probe')}/${cells.length}; output-ensemble-weighted fitted in ${n((d) => d.outputEnsemble.weighted, 'joint')}/${cells.length}, output-ensemble-gated fell back in ${n((d) => d.outputEnsemble.gated, 'probe')}/${cells.length}.`;
}

const NAMES_NOTE =
  "`gla` is the paper's formula f/T_f + z/T_z − log q (− log π_s when the probe trained on an imbalanced split), with T_z, q (λ by held-out cross-entropy) and T_f (cross-fitted or validation logits) from labelled data only: no fitted weights, no fallback. Our extensions: `gla-weighted` (weights of a·f + w·(z/T_z − log q) fitted jointly by NLL on out-of-fold logits, kept only if a second-level cross-validation prefers them to the paper's), `gla-gated` (gla-weighted, replaced by the probe alone unless its held-out NLL gain is significant, z > 1.645). The output ensemble gets exactly the same tuning (`output-ensemble-weighted`, `output-ensemble-gated`); `wise-ft` uses α = 0.5, `wise-ft-tuned` α chosen on cross-fitted logits like the probe's l2.";

export function markdownReport(doc: ResultsDocument): string {
  const ds = doc.dataset;
  const s = doc.settings;
  const lines: string[] = [];
  lines.push(`# GLA results: ${ds.name}`);
  lines.push('');
  lines.push(
    `${ds.examples} examples, ${ds.classes.length} classes (sizes ${Math.min(...ds.classCounts)}..${Math.max(...ds.classCounts)}), features: ${ds.model} (${ds.dim}-d). Generated ${doc.createdAt} by \`${doc.command}\`. Temperature rule: ${s.temperatureMethod}.`,
  );
  lines.push('');
  lines.push(NAMES_NOTE);
  lines.push('');
  if (ds.fewShot) {
    lines.push('## Few-shot accuracy');
    lines.push('');
    lines.push(
      `k in {${s.shots.join(', ')}}, seeds ${s.seeds.join(', ')}, balanced test split of ${s.testPerClass} per class, ${s.valPerClass} val per class; q, temperatures, l2 (out-of-fold accuracy, ${s.folds}-fold cross-fitting), λ (k-fold held-out cross-entropy), α and ensemble weights are all chosen on train + val. Accuracy in %, mean ± std over seeds.`,
    );
    lines.push('');
    lines.push(fewShotTable(ds.fewShot, s.shots));
    lines.push(...failedLines(ds.fewShot.failed));
    lines.push('');
    lines.push('### GLA rows against the best baseline (paired over seeds, 95 % t interval)');
    lines.push('');
    lines.push(comparisonTable(s.shots.map((k) => [`k=${k}`, ds.fewShot!.comparisons[String(k)] ?? []])));
    lines.push('');
    lines.push(...s.shots.map((k) => choiceSummary(ds.fewShot!, k)).filter(Boolean));
    lines.push('');
  }
  if (ds.manyShot) {
    lines.push('## Many-shot (full training split; q and temperatures on a validation split)');
    lines.push('');
    lines.push(
      `Train on every example outside the test split (${s.testPerClass} per class) and the validation split (${s.manyShotValPerClass} per class); ${ds.manyShot.details.length} seeds.`,
    );
    lines.push('');
    lines.push(manyShotTable(ds.manyShot));
    lines.push(...failedLines(ds.manyShot.failed));
    lines.push('');
    lines.push(comparisonTable([['many-shot', ds.manyShot.comparisons]]));
    lines.push('');
  }
  if (ds.longTail) {
    lines.push('## Long-tailed training, balanced test');
    lines.push('');
    lines.push(
      `Train on the natural class sizes (${Math.min(...ds.longTail.trainCounts)}..${Math.max(...ds.longTail.trainCounts)} per class) minus the test split and ${s.longTailValPerClass} val per class; head/medium/tail = thirds of the classes by training count (cut at round(C/3), round(2C/3)).`,
    );
    lines.push('');
    lines.push(longTailTable(ds.longTail));
    lines.push(...failedLines(ds.longTail.failed));
    lines.push('');
    lines.push(comparisonTable([['long-tail (overall)', ds.longTail.comparisons]]));
    lines.push('');
    lines.push(
      `Head: ${ds.longTail.groups.head.join(', ')}. Medium: ${ds.longTail.groups.medium.join(', ')}. Tail: ${ds.longTail.groups.tail.join(', ')}.`,
    );
    lines.push('');
  }
  const d = ds.fewShot?.diagnostics;
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

/** Rows drawn in the accuracy plot (the table has all of them). */
const PLOTTED_METHODS = [
  'zero-shot',
  'zero-shot-debiased',
  'linear-probe',
  'output-ensemble',
  'output-ensemble-weighted',
  'wise-ft-tuned',
  'gla',
  'gla-weighted',
] as const;

/** The SVG plots of a dataset report, as [file name, content]. */
export function plots(ds: DatasetReport, shots: readonly number[]): [string, string][] {
  const out: [string, string][] = [];
  const fewShot = ds.fewShot;
  if (!fewShot) return out;
  const methods = PLOTTED_METHODS.filter((m) => fewShot.methods[m]);
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
        points: shots.map((k) => [k, fewShot.methods[m]?.[String(k)]?.mean ?? Number.NaN] as const),
        errors: shots.map((k) => fewShot.methods[m]?.[String(k)]?.std ?? 0),
        dashed: !GLA_METHODS.includes(m) && m !== 'linear-probe',
      })),
    }),
  ]);
  const d = fewShot.diagnostics;
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
