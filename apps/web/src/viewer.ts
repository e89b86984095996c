/**
 * The results.json viewer: the document `gla run` writes (schema gla-bench/results@2, and the older
 * @1; see packages/cli/src/report.ts) as tables and plots. Unknown or damaged documents throw
 * AppError('bad-results') naming what is missing.
 */
import { AppError } from './errors';
import { barChart, esc, lineChart } from './plots';

// biome-ignore lint/suspicious/noExplicitAny: untrusted JSON, read field by field with fallbacks
type Json = any;

interface Stat {
  mean: number;
  std: number;
}
interface Bin {
  count: number;
  confidence: number;
  accuracy: number;
}

function pct(v: unknown, digits = 1): string {
  return typeof v === 'number' && Number.isFinite(v) ? (v * 100).toFixed(digits) : 'n/a';
}

function pm(s: Stat | undefined): string {
  return s ? `${pct(s.mean)} ± ${pct(s.std)}` : 'n/a';
}

function need<T>(value: T | undefined | null, what: string, file: string): T {
  if (value === undefined || value === null)
    throw new AppError('bad-results', `${file}: ${what} is missing; is this a results.json written by gla run?`);
  return value;
}

/** The results.json schemas this viewer reads. */
const RESULTS_SCHEMAS = ['gla-bench/results@2', 'gla-bench/results@1'];

/** HTML (tables + SVG plots) for a results.json written by `gla run`. */
export function renderResults(doc: unknown, file: string, width = 640): string {
  if (doc === null || typeof doc !== 'object') throw new AppError('bad-results', `${file} does not hold a JSON object.`);
  const d = doc as Record<string, Json>;
  if (!RESULTS_SCHEMAS.includes(d['schema']))
    throw new AppError(
      'bad-results',
      `${file}: schema is ${JSON.stringify(d['schema'])}, expected one of ${RESULTS_SCHEMAS.map((x) => `"${x}"`).join(', ')} (the file gla run writes).`,
    );
  const ds = need(d['dataset'], 'dataset', file) as Record<string, Json>;
  if (!ds['fewShot'] && !ds['manyShot'] && !ds['longTail'])
    throw new AppError(
      'bad-results',
      `${file}: dataset holds no fewShot, manyShot or longTail results; is this a results.json written by gla run?`,
    );
  const fs = ds['fewShot'] as Record<string, Json> | undefined;
  const classes: string[] = Array.isArray(ds['classes']) ? ds['classes'] : [];
  const out: string[] = [];
  out.push(`<h3>${esc(String(ds['name'] ?? 'data set'))}</h3>`);
  out.push(
    `<p>${esc(String(ds['examples'] ?? '?'))} examples, ${classes.length} classes, ${esc(String(ds['dim'] ?? '?'))}-d features from ${esc(String(ds['model'] ?? '?'))}; written ${esc(String(d['createdAt'] ?? '?'))} by <code>${esc(String(d['command'] ?? 'gla run'))}</code>.</p>`,
  );
  if (fs) out.push(...fewShotSection(fs, d, file, width));
  const ms = ds['manyShot'] as Record<string, Json> | undefined;
  if (ms?.['methods']) {
    out.push(
      '<div class="table-scroll"><table class="metrics" data-testid="viewer-many-shot"><caption>Many-shot protocol: accuracy % ± std over seeds</caption>',
    );
    out.push('<thead><tr><th scope="col">method</th><th scope="col">accuracy</th></tr></thead><tbody>');
    for (const [m, st] of Object.entries(ms['methods'] as Record<string, Stat>))
      out.push(`<tr><th scope="row">${esc(m)}</th><td>${pm(st)}</td></tr>`);
    out.push('</tbody></table></div>');
  }
  const lt = ds['longTail'] as Record<string, Json> | undefined;
  if (lt?.['methods']) {
    const groups = ['overall', 'head', 'medium', 'tail'];
    out.push(
      '<div class="table-scroll"><table class="metrics" data-testid="viewer-long-tail"><caption>Long-tailed protocol: accuracy % ± std</caption>',
    );
    out.push(`<thead><tr><th scope="col">method</th>${groups.map((g) => `<th scope="col">${g}</th>`).join('')}</tr></thead><tbody>`);
    for (const [m, g] of Object.entries(lt['methods'] as Record<string, Record<string, Stat>>))
      out.push(`<tr><th scope="row">${esc(m)}</th>${groups.map((k) => `<td>${pm(g[k])}</td>`).join('')}</tr>`);
    out.push('</tbody></table></div>');
  }
  const diag = fs?.['diagnostics'] as Record<string, Json> | undefined;
  if (diag && Array.isArray(diag['prior']) && classes.length === diag['prior'].length) {
    const prior = diag['prior'] as number[];
    const countsAll: number[] = Array.isArray(ds['classCounts']) ? ds['classCounts'] : classes.map(() => 0);
    const total = countsAll.reduce((a, b) => a + b, 0) || 1;
    const order = prior.map((_, c) => c).sort((a, b) => prior[b]! - prior[a]! || a - b);
    out.push(
      barChart({
        width,
        title: `Prior q vs class frequency (k=${diag['shots']})`,
        categories: order.map((c) => classes[c]!),
        series: [
          { name: 'q', values: order.map((c) => prior[c]!) },
          { name: 'class frequency', values: order.map((c) => countsAll[c]! / total) },
          { name: 'uniform', values: order.map(() => 1 / classes.length) },
        ],
        percent: true,
        colors: ['#1f5fa8', '#475569', '#a3a3a3'],
      }),
    );
    const rel = (bins: Bin[] | undefined) => (bins ?? []).filter((b) => b.count > 0).map((b) => [b.confidence, b.accuracy] as const);
    out.push(
      lineChart({
        width,
        title: 'Reliability before/after debiasing',
        xLabel: 'confidence (max softmax)',
        yLabel: 'accuracy',
        xMin: 0,
        xMax: 1,
        yMin: 0,
        yMax: 1,
        percent: true,
        diagonal: true,
        square: true,
        series: [
          { name: `zero-shot /T (ECE ${pct(diag['eceZeroShot'])}%)`, points: rel(diag['reliabilityZeroShot']) },
          { name: `debiased (ECE ${pct(diag['eceDebiased'])}%)`, points: rel(diag['reliabilityDebiased']) },
          { name: 'GLA', points: rel(diag['reliabilityGla']) },
        ],
        colors: ['#c2410c', '#1f5fa8', '#4d7c0f'],
      }),
    );
    if (Array.isArray(diag['testCountsTrue']))
      out.push(
        barChart({
          width,
          title: `Predicted vs true test counts (k=${diag['shots']})`,
          categories: classes,
          series: [
            { name: 'true', values: diag['testCountsTrue'] },
            { name: 'zero-shot', values: diag['testCountsZeroShot'] ?? [] },
            { name: 'debiased', values: diag['testCountsDebiased'] ?? [] },
            { name: 'GLA', values: diag['testCountsGla'] ?? [] },
          ],
          colors: ['#475569', '#c2410c', '#1f5fa8', '#4d7c0f'],
        }),
      );
  }
  return out.join('\n');
}

/** The few-shot table and accuracy-vs-shots plot. */
function fewShotSection(fs: Record<string, Json>, d: Record<string, Json>, file: string, width: number): string[] {
  const methodsMap = need(fs['methods'], 'dataset.fewShot.methods', file) as Record<string, Record<string, Stat>>;
  const shots: number[] = Array.isArray(d['settings']?.shots)
    ? d['settings'].shots
    : [...new Set(Object.values(methodsMap).flatMap((m) => Object.keys(m).map(Number)))].sort((a, b) => a - b);
  const methods = Object.keys(methodsMap);
  const out: string[] = [];
  const best = shots.map((k) => Math.max(...methods.map((m) => methodsMap[m]?.[String(k)]?.mean ?? Number.NEGATIVE_INFINITY)));
  out.push(
    '<div class="table-scroll"><table class="metrics" data-testid="viewer-few-shot"><caption>Few-shot: mean accuracy % ± std over seeds (best per column in bold)</caption>',
  );
  out.push(`<thead><tr><th scope="col">method</th>${shots.map((k) => `<th scope="col">k=${k}</th>`).join('')}</tr></thead><tbody>`);
  for (const m of methods) {
    out.push(
      `<tr><th scope="row">${esc(m)}</th>${shots
        .map((k, j) => {
          const s = methodsMap[m]?.[String(k)];
          const text = pm(s);
          return `<td>${s && Math.abs(s.mean - best[j]!) < 1e-12 ? `<strong>${text}</strong>` : text}</td>`;
        })
        .join('')}</tr>`,
    );
  }
  out.push('</tbody></table></div>');
  out.push(
    lineChart({
      width,
      title: 'Accuracy vs labelled examples per class',
      xLabel: 'labelled examples per class (k, log scale)',
      yLabel: 'accuracy',
      xLog2: true,
      xTicks: shots,
      percent: true,
      series: methods.map((m) => ({
        name: m,
        points: shots.map((k) => [k, methodsMap[m]?.[String(k)]?.mean ?? Number.NaN] as const),
        dashed: m.startsWith('zero-shot'),
      })),
    }),
  );
  return out;
}
