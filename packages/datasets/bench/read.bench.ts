/**
 * Read throughput of the IDX and .npy readers against a raw fs.readFile of the same bytes in
 * the same run, and peak RSS while streaming a 1 GiB feature .npy file.
 *
 *   pnpm --filter @gla/datasets bench            (add -- --quick for smaller files)
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { createNpyWriter, encodeIdx, readIdx, readNpy, streamIdx, streamNpyRows, writeNpy } from '../src/index';

const self = fileURLToPath(import.meta.url);
const MB = 1 << 20;

/**
 * Peak resident memory of this process in MB: VmHWM from /proc (Linux; a fresh high-water
 * mark per exec'd process, unlike getrusage's maxRSS, which a spawned child inherits from
 * its parent), else the larger of the sampled peak and getrusage.
 */
function peakRssMB(sampled: number): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m) return Number(m[1]) / 1024;
  } catch {
    // not Linux
  }
  return Math.max(sampled, process.resourceUsage().maxRSS * 1024) / MB;
}

if (process.argv[2] === '--child-stream') {
  // Child: stream the file, report peak RSS. Runs alone so its RSS is only the streaming.
  const started = performance.now();
  let rows = 0;
  let checksum = 0;
  let sampled = process.memoryUsage.rss();
  for await (const batch of streamNpyRows(process.argv[3]!, { batchRows: Number(process.argv[4] ?? 4096) })) {
    rows += batch.array.shape[0]!;
    checksum += (batch.array.data as Float32Array)[0]!;
    sampled = Math.max(sampled, process.memoryUsage.rss());
  }
  const seconds = (performance.now() - started) / 1000;
  process.stdout.write(JSON.stringify({ rows, seconds, checksum, maxRssMB: peakRssMB(sampled), sampledMB: sampled / MB }));
  process.exit(0);
}
if (process.argv[2] === '--child-idle') {
  process.stdout.write(JSON.stringify({ maxRssMB: peakRssMB(process.memoryUsage.rss()) }));
  process.exit(0);
}

const quick = process.argv.includes('--quick');
const dir = mkdtempSync(join(tmpdir(), 'gla-bench-'));

const REPEATS = 5;

async function seconds(fn: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await fn();
  return (performance.now() - t) / 1000;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const rows: string[][] = [['what', 'MB', 'baseline MB/s', 'reader MB/s', 'ratio (reader / baseline)']];
async function compare(what: string, file: string, baseline: () => Promise<unknown>, reader: () => Promise<unknown>) {
  const mb = statSync(file).size / MB;
  // Interleave baseline and reader runs so machine load affects both alike; report medians.
  const baseTimes: number[] = [];
  const ourTimes: number[] = [];
  for (let r = 0; r < REPEATS; r++) {
    baseTimes.push(await seconds(baseline));
    ourTimes.push(await seconds(reader));
  }
  const base = median(baseTimes);
  const ours = median(ourTimes);
  rows.push([what, mb.toFixed(0), (mb / base).toFixed(0), (mb / ours).toFixed(0), (base / ours).toFixed(2)]);
}

try {
  // IDX: a plain uint8 image file, MNIST layout.
  const n = quick ? 20_000 : 250_000;
  const images = new Uint8Array(n * 784).map((_, i) => (i * 2654435761) >>> 24);
  const idxFile = join(dir, 'images-idx3-ubyte');
  writeFileSync(idxFile, encodeIdx({ dtype: 'uint8', shape: [n, 28, 28], data: images }));
  await compare(
    'IDX uint8, readIdx',
    idxFile,
    () => readFile(idxFile),
    () => readIdx(idxFile),
  );
  await compare(
    'IDX uint8, streamIdx (8192 items)',
    idxFile,
    () => readFile(idxFile),
    async () => {
      for await (const _ of streamIdx(idxFile, { batchSize: 8192 }));
    },
  );
  const fashion = '/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz';
  if (existsSync(fashion)) {
    await compare(
      'IDX gzip (Fashion-MNIST train), readIdx vs readFile+gunzipSync',
      fashion,
      async () => gunzipSync(await readFile(fashion)),
      () => readIdx(fashion),
    );
  }

  // .npy: float32 features, little-endian (native), big-endian (byte swap) and float16 (decode).
  const r = quick ? 20_000 : 131_072;
  const feats = Float32Array.from({ length: r * 512 }, (_, i) => Math.sin(i));
  const npyFile = join(dir, 'features.npy');
  await writeNpy(npyFile, { dtype: 'float32', shape: [r, 512], data: feats });
  await compare(
    'npy float32 <f4, readNpy',
    npyFile,
    () => readFile(npyFile),
    () => readNpy(npyFile),
  );
  await compare(
    'npy float32 <f4, streamNpyRows (4096 rows)',
    npyFile,
    () => readFile(npyFile),
    async () => {
      for await (const _ of streamNpyRows(npyFile, { batchRows: 4096 }));
    },
  );
  const beFile = join(dir, 'features-be.npy');
  await writeNpy(beFile, { dtype: 'float32', shape: [r, 512], data: feats }, { byteOrder: 'big' });
  await compare(
    'npy float32 >f4 (byte swap), readNpy',
    beFile,
    () => readFile(beFile),
    () => readNpy(beFile),
  );
  const f16File = join(dir, 'features-f16.npy');
  await writeNpy(f16File, { dtype: 'float16', shape: [r, 512], data: feats });
  await compare(
    'npy float16 (decode to f32), readNpy',
    f16File,
    () => readFile(f16File),
    () => readNpy(f16File),
  );
  rmSync(idxFile);
  rmSync(npyFile);
  rmSync(beFile);
  rmSync(f16File);

  console.log(`\nRead throughput (median of ${REPEATS} interleaved runs; page cache warm for both sides)\n`);
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((row) => row[c]!.length)));
  for (const row of rows) console.log(row.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  '));

  // Streaming memory: a 1 GiB feature file (N × 512 float32), streamed in a child process.
  const bigRows = quick ? 65_536 : 524_288;
  const bigFile = join(dir, 'big-features.npy');
  const writer = await createNpyWriter(bigFile, { dtype: 'float32', rowShape: [512] });
  const chunk = Float32Array.from({ length: 4096 * 512 }, (_, i) => i % 1000);
  for (let done = 0; done < bigRows; done += 4096) await writer.append(chunk);
  await writer.close();
  const gib = statSync(bigFile).size / 2 ** 30;
  const child = (args: string[]) =>
    JSON.parse(
      spawnSync(process.execPath, ['--conditions=source', '--import', 'tsx', self, ...args], { encoding: 'utf8', maxBuffer: MB }).stdout,
    ) as {
      maxRssMB: number;
      seconds?: number;
      rows?: number;
    };
  const idle = child(['--child-idle']);
  const streamed = child(['--child-stream', bigFile, '4096']);
  rmSync(bigFile);
  console.log(
    `\nStreaming ${gib.toFixed(2)} GiB .npy (${streamed.rows} × 512 float32, batches of 4096 rows = 8 MiB): ` +
      `${((gib * 1024) / streamed.seconds!).toFixed(0)} MB/s, peak RSS ${streamed.maxRssMB.toFixed(0)} MB ` +
      `(node + tsx doing nothing: ${idle.maxRssMB.toFixed(0)} MB; file size ${(gib * 1024).toFixed(0)} MB)`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
