import { describe, expect, it } from 'vitest';
import { parseOptions, splitCommand } from '../src/args';
import { RUN_OPTIONS, settingsFrom } from '../src/commands/run';
import { CliError } from '../src/errors';
import { capture } from './capture';

describe('argument parsing', () => {
  it('splits the command from its options', () => {
    expect(splitCommand(['prior', '--out', 'q.npy'])).toEqual({ command: 'prior', rest: ['--out', 'q.npy'] });
    expect(splitCommand(['--help'])).toEqual({ command: undefined, rest: ['--help'] });
  });

  it('parses values, --name=value, flags, --no-flag and number lists', () => {
    const { options } = parseOptions('run', ['--shots', '1,2,4', '--seeds=3', '--no-long-tail', '--out', 'dir'], RUN_OPTIONS);
    expect(options.shots).toEqual([1, 2, 4]);
    expect(options.seeds).toBe(3);
    expect(options['long-tail']).toBe(false);
    expect(options.out).toBe('dir');
    expect(options.dataset).toBe('fortunes');
    const s = settingsFrom(options);
    expect(s.seeds).toEqual([1, 2, 3]);
    expect(s.longTail).toBe(false);
  });

  it('rejects unknown options, missing values and bad numbers with named errors', () => {
    expect(() => parseOptions('run', ['--bogus'], RUN_OPTIONS)).toThrow(/unknown option '--bogus'/);
    expect(() => parseOptions('run', ['--seeds'], RUN_OPTIONS)).toThrow(/--seeds needs a value/);
    expect(() => parseOptions('run', ['--seeds', 'two'], RUN_OPTIONS)).toThrow(/--seeds: expected a number, got 'two'/);
    expect(() => parseOptions('run', ['--seeds', '1.5'], RUN_OPTIONS)).toThrow(/expected an integer/);
    expect(() => parseOptions('run', ['--shots', '1,x'], RUN_OPTIONS)).toThrow(/--shots: expected a number/);
    expect(() => parseOptions('run', ['-x'], RUN_OPTIONS)).toThrow(CliError);
    expect(() => settingsFrom(parseOptions('run', ['--shots', '0'], RUN_OPTIONS).options)).toThrow(/positive integer/);
  });
});

describe('gla main()', () => {
  it('prints help with exit 0', async () => {
    const r = await capture(['--help']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/usage: gla <command>/);
    for (const c of ['run', 'prior', 'debias', 'ensemble', 'speed', 'export-features']) expect(r.out).toContain(c);
    const p = await capture(['prior', '--help']);
    expect(p.code).toBe(0);
    expect(p.out).toMatch(/--regularization/);
  });

  it('exits 2 with a one-line message on usage errors', async () => {
    const unknown = await capture(['frobnicate']);
    expect(unknown.code).toBe(2);
    expect(unknown.err).toMatch(/unknown command 'frobnicate'/);
    const missing = await capture(['prior', '--logits', 'z.npy']);
    expect(missing.code).toBe(2);
    expect(missing.err).toMatch(/missing required option --out/);
    const badOpt = await capture(['debias', '--wat', '1']);
    expect(badOpt.code).toBe(2);
    expect(badOpt.err).toMatch(/unknown option '--wat'/);
    const positional = await capture(['prior', 'z.npy']);
    expect(positional.code).toBe(2);
  });

  it('exits 1 naming the file when an input is missing', async () => {
    const r = await capture(['prior', '--logits', '/nonexistent/z.npy', '--labels', '/nonexistent/y.npy', '--out', '/tmp/q.npy']);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/\/nonexistent\/z\.npy/);
  });
});
