// No network and no files outside the user's folders (issue 11, item 1): onnxruntime-node ≥ 1.29
// starts a telemetry system unless ORT_DISABLE_TELEMETRY=1 is set before its first session. Each
// case runs a real model in a child process with a fresh HOME and TMPDIR (and without the variable
// in its environment) and inspects both folders afterwards; where strace exists, it also records
// every socket() / connect() of the child and its threads.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildClipVisionModel, expectedImageEmbeds, samplePixelValues } from '@gla/fixtures/clip';
import { maxAbsDifference } from '@gla/runtime/conformance';
import { afterAll, describe, expect, it } from 'vitest';
import { disableOrtTelemetry } from '../src/index';

const packageDir = fileURLToPath(new URL('..', import.meta.url));
const child = fileURLToPath(new URL('./telemetry/child.ts', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'gla-telemetry-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const batch = 2;
const pixels = samplePixelValues(batch, 5);
const modelPath = join(work, 'vision_model.onnx');
const pixelsPath = join(work, 'pixels.bin');
writeFileSync(modelPath, buildClipVisionModel());
writeFileSync(pixelsPath, new Uint8Array(pixels.buffer));
const expected = expectedImageEmbeds(pixels, batch);

const strace = ['/usr/bin/strace', '/bin/strace'].find((p) => existsSync(p));

/** Every file and folder under `dir`, relative to it. */
function listTree(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    out.push(relative(dir, join(entry.parentPath, entry.name)));
  }
  return out.sort();
}

/**
 * The socket() and connect() calls of an strace log that could reach a network: everything except
 * tsx's own local IPC (an AF_UNIX socket connecting to `$TMPDIR/tsx-<uid>/<pid>.pipe`, which it
 * probes on start-up for its watch mode).
 */
function networkCalls(log: string): string[] {
  return log
    .split('\n')
    .filter((l) => /\b(socket|connect)\(/.test(l))
    .filter((l) => !/\bsocket\(AF_UNIX,/.test(l) && !/\bconnect\(\d+, \{sa_family=AF_UNIX, sun_path="[^"]*\/tsx-\d+\/\d+\.pipe"\}/.test(l));
}

interface ChildRun {
  status: number | null;
  stdout: string;
  stderr: string;
  home: string[];
  tmp: string[];
  embeds: number[];
  sockets?: string[];
}

/** Variables the child processes do not inherit (see runChild). */
const CHILD_ENV_DROPPED = new Set([
  'ORT_DISABLE_TELEMETRY',
  'CI',
  'CONTINUOUS_INTEGRATION',
  'GITHUB_ACTIONS',
  'TF_BUILD',
  'BUILD_NUMBER',
  'RUN_ID',
]);

let runCount = 0;
function runChild(mode: string, options: { durationMs?: number; env?: Record<string, string>; traced?: boolean } = {}): ChildRun {
  const id = `${mode}-${runCount++}`;
  const home = join(work, id, 'home');
  const tmp = join(work, id, 'tmp');
  mkdirSync(home, { recursive: true });
  mkdirSync(tmp, { recursive: true });
  // The child sees the environment of a user's shell: no ORT_DISABLE_TELEMETRY, and no CI marker
  // (ONNX Runtime keeps its telemetry off when CI is set, which would make these checks vacuous).
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !CHILD_ENV_DROPPED.has(k)) env[k] = v;
  Object.assign(env, { HOME: home, TMPDIR: tmp, TMP: tmp, TEMP: tmp, TSX_DISABLE_CACHE: '1', NODE_OPTIONS: '' }, options.env ?? {});
  const node = [
    process.execPath,
    '--conditions=source',
    '--import',
    'tsx',
    child,
    mode,
    modelPath,
    pixelsPath,
    String(options.durationMs ?? 0),
  ];
  const traceFile = join(work, id, 'strace.txt');
  const [command, ...args] = options.traced ? [strace!, '-f', '-qq', '-e', 'trace=socket,connect', '-o', traceFile, ...node] : node;
  const result = spawnSync(command!, args, { cwd: packageDir, env, encoding: 'utf8', timeout: 120_000 });
  const last = result.stdout.trim().split('\n').pop() ?? '';
  const run: ChildRun = {
    status: result.status,
    stdout: result.stdout,
    stderr: result.stderr,
    home: listTree(home),
    tmp: listTree(tmp),
    embeds: last.startsWith('{') ? (JSON.parse(last) as { embeds: number[] }).embeds : [],
  };
  if (options.traced) run.sockets = networkCalls(readFileSync(traceFile, 'utf8'));
  if (run.status !== 0) throw new Error(`child ${mode} exited with ${run.status}: ${run.stderr}`);
  return run;
}

describe('ONNX Runtime telemetry is off by default (@gla/onnx-node)', { timeout: 150_000 }, () => {
  it('disableOrtTelemetry sets the variable once and respects a value the user chose', () => {
    const env: Record<string, string | undefined> = {};
    expect(disableOrtTelemetry(env)).toBe('disabled');
    expect(env['ORT_DISABLE_TELEMETRY']).toBe('1');
    expect(disableOrtTelemetry(env)).toBe('user-setting');
    expect(disableOrtTelemetry({ ORT_DISABLE_TELEMETRY: '0' })).toBe('user-setting');
    const empty: Record<string, string | undefined> = { ORT_DISABLE_TELEMETRY: '' };
    expect(disableOrtTelemetry(empty)).toBe('disabled');
    expect(empty['ORT_DISABLE_TELEMETRY']).toBe('1');
  });

  it('a model run through the adapter writes nothing to a fresh HOME or TMPDIR, and gives the reference embeddings', () => {
    const run = runChild('adapter', { durationMs: 1500 });
    expect(run.home).toEqual([]);
    expect(run.tmp).toEqual([]);
    expect(run.embeds).toHaveLength(batch * 32);
    expect(maxAbsDifference(run.embeds, expected)).toBeLessThanOrEqual(1e-5);
    expect(run.stderr).not.toMatch(/GLA_ORT_TELEMETRY/);
  });

  // ORT's first upload comes ≈ 9 s after start under strace (DNS lookup of its events host), so
  // the child keeps running the model for 15 s.
  it.skipIf(strace === undefined)(
    'under strace, 15 s of runs through the adapter open no socket at all (as `gla run` loads it)',
    () => {
      const run = runChild('adapter', { durationMs: 15_000, traced: true });
      expect(run.sockets).toEqual([]);
      // the filter itself: ORT's lookup as strace shows it without the opt-out
      const lookup = [
        '21044 socket(AF_UNIX, SOCK_STREAM|SOCK_CLOEXEC|SOCK_NONBLOCK, 0) = 23',
        '21044 connect(23, {sa_family=AF_UNIX, sun_path="/var/run/nscd/socket"}, 110) = -1 ENOENT (No such file or directory)',
        '21045 socket(AF_INET, SOCK_DGRAM|SOCK_CLOEXEC|SOCK_NONBLOCK, IPPROTO_IP) = 23',
      ].join('\n');
      expect(networkCalls(lookup)).toHaveLength(2);
      expect(run.home).toEqual([]);
      expect(run.tmp).toEqual([]);
      expect(maxAbsDifference(run.embeds, expected)).toBeLessThanOrEqual(1e-5);
    },
    120_000,
  );

  it('an application that imports onnxruntime-node first is still covered, and is warned how to be sure', () => {
    const run = runChild('ort-first', { durationMs: 500 });
    expect(run.home).toEqual([]);
    expect(run.tmp).toEqual([]);
    expect(run.stderr).toMatch(/GLA_ORT_TELEMETRY.*onnxruntime-node was loaded before @gla\/onnx-node/);
    expect(run.stderr).toContain("import '@gla/onnx-node/no-telemetry'");
    expect(maxAbsDifference(run.embeds, expected)).toBeLessThanOrEqual(1e-5);
  });

  it("`import '@gla/onnx-node/no-telemetry'` covers programs that use onnxruntime-node directly", () => {
    const run = runChild('no-telemetry-import', { durationMs: 500 });
    expect(run.home).toEqual([]);
    expect(run.tmp).toEqual([]);
    expect(maxAbsDifference(run.embeds, expected)).toBeLessThanOrEqual(1e-5);
  });

  // The control: with the documented opt-in the same child leaves ORT's files behind, so the
  // checks above can fail. It exits at once, before ORT's first upload.
  it('ORT_DISABLE_TELEMETRY=0 opts back in (ONNX Runtime then writes its files under HOME and TMPDIR)', () => {
    const run = runChild('adapter', { env: { ORT_DISABLE_TELEMETRY: '0' } });
    expect(run.home).toContain(join('.cache', 'Microsoft', 'DeveloperTools', '.onnxruntime'));
    expect(run.tmp.some((f) => /^mat-debug-\d+\.log$/.test(f))).toBe(true);
    expect(maxAbsDifference(run.embeds, expected)).toBeLessThanOrEqual(1e-5);
  });
});
