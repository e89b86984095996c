import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pendingTemporaryCount, removePendingTemporaries, writeAtomic } from '../src/atomic';
import { CliError } from '../src/errors';
import { barChart, escapeXml, lineChart, niceTicks } from '../src/svg';
import { checkWellFormed } from './xml';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gla-report-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('svg writer', () => {
  it('line chart: well-formed, axes, ticks, labels, legend, one path per series', () => {
    const svg = lineChart({
      title: 'acc <vs> shots & more',
      xLabel: 'k',
      yLabel: 'accuracy',
      xScale: 'log2',
      xTicks: [1, 2, 4, 8, 16],
      yPercent: true,
      series: [
        {
          name: 'gla',
          points: [
            [1, 0.5],
            [2, 0.6],
            [4, 0.7],
            [8, 0.75],
            [16, 0.8],
          ],
          errors: [0.01, 0.02, 0.01, 0.01, 0.01],
        },
        {
          name: 'zero-shot',
          points: [
            [1, 0.4],
            [2, 0.4],
            [4, 0.4],
            [8, 0.4],
            [16, Number.NaN],
          ],
        },
      ],
    });
    const { elements } = checkWellFormed(svg);
    expect(svg.startsWith('<?xml')).toBe(true);
    expect(elements.get('svg')).toBe(1);
    expect(elements.get('path')).toBe(2);
    expect(elements.get('circle')).toBe(9);
    expect(svg).toContain('acc &lt;vs&gt; shots &amp; more');
    expect(svg).toContain('class="legend"');
    expect(svg).toMatch(/>16</);
    expect(svg).toMatch(/>80%</);
    expect(svg).not.toMatch(/NaN/);
  });

  it('bar chart: one rect per finite value, rotated category labels', () => {
    const svg = barChart({
      title: 'prior',
      yLabel: 'q',
      categories: ['a', 'b', 'c&d'],
      series: [
        { name: 'q', values: [0.5, 0.3, 0.2] },
        { name: 'freq', values: [0.2, Number.NaN, 0.5] },
      ],
    });
    const { elements } = checkWellFormed(svg);
    // background + 5 finite bars + 2 legend swatches
    expect(elements.get('rect')).toBe(1 + 5 + 2);
    expect(svg).toContain('c&amp;d');
    expect(svg).toMatch(/rotate\(-45/);
  });

  it('nice ticks and escaping', () => {
    expect(niceTicks(0, 1, 5)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(niceTicks(0.31, 0.78, 5)).toEqual([0.4, 0.5, 0.6, 0.7]);
    expect(escapeXml(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&apos;&amp;&apos;&lt;/a&gt;');
  });
});

describe('atomic writes', () => {
  it('writes the whole file, leaves no temporary file, overwrites atomically', async () => {
    const path = join(dir, 'sub', 'out.json');
    await writeAtomic(path, '{"a":1}\n');
    await writeAtomic(path, '{"a":2}\n');
    expect(await readFile(path, 'utf8')).toBe('{"a":2}\n');
    expect((await readdir(join(dir, 'sub'))).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    expect(pendingTemporaryCount()).toBe(0);
  });

  it('fails with a CliError naming the path and cleans up', async () => {
    await writeAtomic(join(dir, 'file'), 'x');
    await expect(writeAtomic(join(dir, 'file', 'child.json'), 'y')).rejects.toBeInstanceOf(CliError);
    expect(pendingTemporaryCount()).toBe(0);
    expect(removePendingTemporaries()).toBe(0);
  });

  it('a write in flight is registered and removable (what SIGINT does)', async () => {
    const path = join(dir, 'big.bin');
    const promise = writeAtomic(path, new Uint8Array(32 << 20));
    expect(pendingTemporaryCount()).toBe(1);
    await promise;
    expect(pendingTemporaryCount()).toBe(0);
    expect((await readdir(dir)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });
});
