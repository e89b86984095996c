import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeFileAtomic } from '../src/index';
import { makeTempDir, PACKAGE_ROOT } from './helpers';

const tmp = makeTempDir();
afterAll(tmp.cleanup);

describe('writeFileAtomic', () => {
  it('replaces the file whole, creates folders, leaves no temporary file', async () => {
    const file = join(tmp.dir, 'a/b/c.txt');
    await writeFileAtomic(file, 'first');
    await writeFileAtomic(file, [new Uint8Array([115, 101]), new Uint8Array([99, 111, 110, 100])]);
    expect(readFileSync(file, 'utf8')).toBe('second'.slice(0, 2) + 'cond');
    expect(readdirSync(join(tmp.dir, 'a/b'))).toEqual(['c.txt']);
  });

  it('never exposes a partial file when the writer is killed mid-write', async () => {
    const file = join(tmp.dir, 'big.bin');
    writeFileSync(file, 'old content');
    // The child writes 512 MB (one 1 MB chunk repeated) atomically; we kill it once its temporary file exists.
    const script = `import { writeFileAtomic } from './src/index.ts'; const c = new Uint8Array(1 << 20).fill(7); await writeFileAtomic(${JSON.stringify(file)}, Array(512).fill(c));`;
    const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: PACKAGE_ROOT,
      stdio: 'ignore',
    });
    const exited = new Promise((resolve) => child.on('exit', resolve));
    let sawTemporary = false;
    for (let i = 0; i < 6000 && child.exitCode === null; i++) {
      if (readdirSync(tmp.dir).some((f) => f.startsWith('.big.bin.') && f.endsWith('.tmp'))) {
        child.kill('SIGKILL');
        sawTemporary = true;
        break;
      }
      await new Promise((r) => setTimeout(r, 5));
    }
    await exited;
    expect(sawTemporary).toBe(true);
    expect(readFileSync(file, 'utf8')).toBe('old content');
    for (const f of readdirSync(tmp.dir)) if (f.endsWith('.tmp')) rmSync(join(tmp.dir, f));
  }, 60_000);

  it('reports the path in typed errors', async () => {
    writeFileSync(join(tmp.dir, 'file'), 'x');
    await expect(writeFileAtomic(join(tmp.dir, 'file/inside.txt'), 'y')).rejects.toMatchObject({
      name: 'DatasetError',
      code: 'io',
      file: join(tmp.dir, 'file/inside.txt'),
    });
  });
});
