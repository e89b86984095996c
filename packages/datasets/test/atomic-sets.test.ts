import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import type * as fsPromises from 'node:fs/promises';
import { basename, join } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import {
  assertWritableFile,
  assertWritableFolder,
  createNpyWriter,
  DatasetError,
  pendingTemporaryCount,
  removePendingTemporaries,
  removeStaleTemporaries,
  TEMPORARY_NAME,
  temporaryPathFor,
  writeFileAtomic,
  writeFileSetAtomic,
  writeFolderSet,
} from '../src/index';
import { makeTempDir } from './helpers';

// Every rename of the module under test goes through this spy, so a test can see the order of
// the renames or make one of them fail; by default it is the real rename.
const renames: string[] = [];
let failRenameTo: string | undefined;
vi.mock('node:fs/promises', async (importOriginal) => {
  const real = await importOriginal<typeof fsPromises>();
  return {
    ...real,
    rename: async (from: string, to: string) => {
      renames.push(to);
      if (to === failRenameTo) throw Object.assign(new Error(`EIO: injected failure, rename '${from}' -> '${to}'`), { code: 'EIO' });
      return real.rename(from, to);
    },
  };
});

const tmp = makeTempDir('gla-atomic-sets-');
afterAll(tmp.cleanup);
afterEach(() => {
  renames.length = 0;
  failRenameTo = undefined;
  const left = pendingTemporaryCount();
  removePendingTemporaries();
  expect(left).toBe(0);
});

let folderCount = 0;
function folder(): string {
  const dir = join(tmp.dir, `case-${folderCount++}`);
  mkdirSync(dir);
  return dir;
}
const temporariesIn = (dir: string) => readdirSync(dir).filter((name) => TEMPORARY_NAME.test(name));
const snapshot = (dir: string) => Object.fromEntries(readdirSync(dir).map((name) => [name, readFileSync(join(dir, name), 'utf8')]));

/** A character device in `dir` (mknod, as root) or /dev/null (where a non-root process cannot rename anyway). */
function characterDevice(dir: string): string {
  const device = join(dir, 'null-device');
  if (spawnSync('mknod', [device, 'c', '1', '3']).status === 0) return device;
  if (process.getuid?.() === 0) throw new Error('mknod failed as root');
  return '/dev/null';
}

describe('temporary names', () => {
  it('one pattern: temporaryPathFor names and the 4-byte names older CLI runs left both match, with the pid in group 1', () => {
    const name = basename(temporaryPathFor('/x/results.json'));
    expect(name).toMatch(/^\.results\.json\.\d+\.[0-9a-f]{12}\.tmp$/);
    expect(TEMPORARY_NAME.exec(name)?.[1]).toBe(String(process.pid));
    expect(TEMPORARY_NAME.exec('.results.md.4242.0a1b2c3d.tmp')?.[1]).toBe('4242');
    expect(TEMPORARY_NAME.test('.results.4242.deadbeef.tmp')).toBe(true);
    for (const other of ['results.json', '.results.json.tmp', '.a.12.xyz.tmp', '.a.12.ab.tmp.bak', 'a.12.ab.tmp'])
      expect(TEMPORARY_NAME.test(other)).toBe(false);
  });
});

describe('writeFileSetAtomic: several files together or not at all', () => {
  it('writes every file, then renames them in the given order', async () => {
    const dir = folder();
    writeFileSync(join(dir, 'b.txt'), 'old b');
    await writeFileSetAtomic([
      { path: join(dir, 'b.txt'), data: 'new b' },
      { path: join(dir, 'sub', 'a.bin'), data: [new Uint8Array([1, 2]), new Uint8Array([3])] },
    ]);
    expect(renames).toEqual([join(dir, 'b.txt'), join(dir, 'sub', 'a.bin')]);
    expect(readFileSync(join(dir, 'b.txt'), 'utf8')).toBe('new b');
    expect([...readFileSync(join(dir, 'sub', 'a.bin'))]).toEqual([1, 2, 3]);
    expect(temporariesIn(dir)).toEqual([]);
  });

  it('a later target that cannot be written: no target replaced, no rename made, no temporary left', async () => {
    const dir = folder();
    writeFileSync(join(dir, 'a.txt'), 'old a');
    mkdirSync(join(dir, 'b.json')); // a folder where a file should go
    const error = await writeFileSetAtomic([
      { path: join(dir, 'a.txt'), data: 'new a' },
      { path: join(dir, 'b.json'), data: '{}' },
    ]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DatasetError);
    expect(error).toMatchObject({ code: 'invalid-argument', file: join(dir, 'b.json'), details: { kind: 'a folder' } });
    expect(renames).toEqual([]);
    expect(readFileSync(join(dir, 'a.txt'), 'utf8')).toBe('old a');
    expect(temporariesIn(dir)).toEqual([]);
  });

  it('a rename that fails removes the temporaries not yet renamed and names the file', async () => {
    const dir = folder();
    failRenameTo = join(dir, 'b.txt');
    await expect(
      writeFileSetAtomic([
        { path: join(dir, 'a.txt'), data: 'a' },
        { path: join(dir, 'b.txt'), data: 'b' },
      ]),
    ).rejects.toMatchObject({ code: 'io', file: join(dir, 'b.txt') });
    expect(readdirSync(dir)).toEqual(['a.txt']);
  });
});

describe('writeFolderSet: a result set staged in a folder, manifest last', () => {
  it('renames the staged files first and the manifest last, removes stale files of the old set, keeps others', async () => {
    const dir = folder();
    writeFileSync(join(dir, 'results.json'), JSON.stringify({ files: ['old.svg', 'kept.svg'] }));
    writeFileSync(join(dir, 'old.svg'), 'old');
    writeFileSync(join(dir, 'kept.svg'), 'old kept');
    writeFileSync(join(dir, 'notes.txt'), 'mine');
    const result = await writeFolderSet(
      dir,
      'results.json',
      async (staging) => {
        expect(TEMPORARY_NAME.test(basename(staging))).toBe(true);
        expect(pendingTemporaryCount()).toBe(1); // the staging folder
        writeFileSync(join(staging, 'results.json'), JSON.stringify({ files: ['kept.svg', 'results.md'] }));
        writeFileSync(join(staging, 'kept.svg'), 'new kept');
        writeFileSync(join(staging, 'results.md'), '# new');
        return 42;
      },
      (text) => (JSON.parse(text) as { files: string[] }).files,
    );
    expect(result).toBe(42);
    expect(renames.at(-1)).toBe(join(dir, 'results.json'));
    expect([...renames].sort()).toEqual([join(dir, 'kept.svg'), join(dir, 'results.json'), join(dir, 'results.md')]);
    expect(snapshot(dir)).toEqual({
      'kept.svg': 'new kept',
      'notes.txt': 'mine',
      'results.json': JSON.stringify({ files: ['kept.svg', 'results.md'] }),
      'results.md': '# new',
    });
  });

  it('a failure while staging leaves the old set exactly as it was, and rethrows the error of `write`', async () => {
    const dir = folder();
    writeFileSync(join(dir, 'results.json'), '{"v":1}');
    writeFileSync(join(dir, 'plot.svg'), 'v1');
    const before = snapshot(dir);
    const full = new Error('disk full');
    await expect(
      writeFolderSet(dir, 'results.json', async (staging) => {
        writeFileSync(join(staging, 'plot.svg'), 'v2');
        throw full;
      }),
    ).rejects.toBe(full);
    expect(snapshot(dir)).toEqual(before);
    expect(renames).toEqual([]);
  });

  it('a staged set without its manifest is refused before any rename', async () => {
    const dir = folder();
    writeFileSync(join(dir, 'results.json'), '{"v":1}');
    await expect(
      writeFolderSet(dir, 'results.json', async (staging) => writeFileSync(join(staging, 'plot.svg'), 'v2')),
    ).rejects.toMatchObject({
      code: 'invalid-meta',
    });
    expect(snapshot(dir)).toEqual({ 'results.json': '{"v":1}' });
  });

  it('a crash between the renames leaves no manifest (an incomplete set), never an old manifest over new files', async () => {
    const dir = folder();
    writeFileSync(join(dir, 'results.json'), '{"v":1}');
    writeFileSync(join(dir, 'a.svg'), 'v1');
    writeFileSync(join(dir, 'b.svg'), 'v1');
    failRenameTo = join(dir, 'b.svg');
    await expect(
      writeFolderSet(dir, 'results.json', async (staging) => {
        for (const name of ['a.svg', 'b.svg']) writeFileSync(join(staging, name), 'v2');
        writeFileSync(join(staging, 'results.json'), '{"v":2}');
      }),
    ).rejects.toMatchObject({ code: 'io', file: join(dir, 'b.svg') });
    const after = snapshot(dir);
    expect(after['results.json']).toBeUndefined();
    expect(Object.keys(after).sort()).toEqual(['a.svg', 'b.svg']);
    expect(temporariesIn(dir)).toEqual([]); // the staging folder is removed
  });
});

describe('removeStaleTemporaries', () => {
  it('removes the temporaries of dead processes, keeps those of live ones and every other name', async () => {
    const dir = folder();
    const dead = spawnSync(process.execPath, ['-e', 'process.exit(0)']).pid!;
    const sleeper = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
    try {
      const live = sleeper.pid!;
      writeFileSync(join(dir, `.results.md.${dead}.0a1b2c3d.tmp`), 'half');
      mkdirSync(join(dir, `.results.${dead}.deadbeef.tmp`));
      writeFileSync(join(dir, `.results.${dead}.deadbeef.tmp`, 'plot.svg'), 'half');
      writeFileSync(join(dir, `.results.json.${process.pid}.0a1b2c3d.tmp`), 'mine, being written');
      writeFileSync(join(dir, `.results.json.${live}.00ff00ff00ff.tmp`), 'another live run');
      writeFileSync(join(dir, `results.${dead}.tmp`), 'not ours');
      const removed = await removeStaleTemporaries(dir);
      expect(removed.sort()).toEqual([`.results.${dead}.deadbeef.tmp`, `.results.md.${dead}.0a1b2c3d.tmp`]);
      expect(readdirSync(dir).sort()).toEqual(
        [`.results.json.${live}.00ff00ff00ff.tmp`, `.results.json.${process.pid}.0a1b2c3d.tmp`, `results.${dead}.tmp`].sort(),
      );
    } finally {
      sleeper.kill('SIGKILL');
    }
    expect(await removeStaleTemporaries(join(dir, 'missing'))).toEqual([]);
  });
});

describe('pending temporaries (for signal handlers)', () => {
  it('a write in flight is registered before the first await, and unregistered when done', async () => {
    const dir = folder();
    const promise = writeFileSetAtomic([
      { path: join(dir, 'a.bin'), data: new Uint8Array(1 << 20) },
      { path: join(dir, 'b.bin'), data: new Uint8Array(1 << 20) },
    ]);
    expect(pendingTemporaryCount()).toBe(2);
    await promise;
    expect(pendingTemporaryCount()).toBe(0);
    expect(removePendingTemporaries()).toBe(0);
  });

  it('removePendingTemporaries deletes, synchronously, the temporary of an open .npy writer; the target never appears', async () => {
    const dir = folder();
    const target = join(dir, 'x.npy');
    const writer = await createNpyWriter(target, { dtype: 'float32', rowShape: [3] });
    await writer.append(new Float32Array([1, 2, 3]));
    expect(temporariesIn(dir)).toHaveLength(1);
    expect(pendingTemporaryCount()).toBe(1);
    expect(removePendingTemporaries()).toBe(1);
    expect(readdirSync(dir)).toEqual([]);
    await expect(writer.close()).rejects.toBeInstanceOf(DatasetError);
    expect(existsSync(target)).toBe(false);
  });
});

describe('device refusal', () => {
  it('every writer and check refuses a character device (DatasetError, kind named), and the node stays', async () => {
    const dir = folder();
    const device = characterDevice(dir);
    const refused = { code: 'invalid-argument', file: device, details: { kind: 'a character device' } };
    await expect(writeFileAtomic(device, 'x')).rejects.toMatchObject(refused);
    await expect(
      writeFileSetAtomic([
        { path: join(dir, 'a.txt'), data: 'a' },
        { path: device, data: 'x' },
      ]),
    ).rejects.toMatchObject(refused);
    await expect(assertWritableFile(device)).rejects.toMatchObject(refused);
    await expect(assertWritableFolder(device)).rejects.toMatchObject(refused);
    await expect(createNpyWriter(device, { dtype: 'float64', rowShape: [] })).rejects.toMatchObject(refused);
    expect(statSync(device).isCharacterDevice()).toBe(true);
    expect(existsSync(join(dir, 'a.txt'))).toBe(false);
    expect(renames).toEqual([]);
    if (device !== '/dev/null') {
      // a result set whose folder holds a device under a name of the set
      await expect(
        writeFolderSet(dir, 'null-device', async (staging) => writeFileSync(join(staging, 'null-device'), '{}')),
      ).rejects.toMatchObject(refused);
      expect(statSync(device).isCharacterDevice()).toBe(true);
    }
  });

  it('the up-front checks name the ancestor that is not a folder and accept what can be created', async () => {
    const dir = folder();
    writeFileSync(join(dir, 'file'), 'x');
    await expect(assertWritableFile(join(dir, 'file', 'deeper', 'out.npy'))).rejects.toMatchObject({
      code: 'invalid-argument',
      details: { folder: join(dir, 'file'), kind: 'a regular file' },
    });
    await expect(assertWritableFolder(join(dir, 'file'))).rejects.toMatchObject({
      code: 'invalid-argument',
      details: { kind: 'a regular file' },
    });
    await expect(assertWritableFile(join(dir, 'file'))).resolves.toBeUndefined();
    await expect(assertWritableFolder(join(dir, 'new', 'deeper'))).resolves.toBeUndefined();
    expect(existsSync(join(dir, 'new'))).toBe(false); // a check creates nothing
  });
});
