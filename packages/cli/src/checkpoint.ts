import { createHash } from 'node:crypto';
import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { CellRecord } from '@gla/protocols';
import { writeAtomic } from './atomic';
import type { FeatureDataset } from './dataset';
import { updateHash } from './hash';

/**
 * Per-cell checkpoints of `gla run`: every finished cell (few-shot (seed, k), many-shot and
 * long-tail seeds) is written atomically to OUT/.gla-checkpoint/FINGERPRINT/KEY.json, where the
 * fingerprint hashes the settings, the results schema and package versions, the protocols and the
 * data (features, labels, text features, logit scale). A rerun with the same fingerprint reuses those cells and computes only the
 * others; cells are deterministic, so the result equals an uninterrupted run. The folder is
 * removed once the results are written.
 */
export interface Checkpoint {
  dir: string;
  /** Records of earlier runs, by cell key. */
  completed: Map<string, CellRecord<unknown>>;
  save(key: string, record: CellRecord<unknown>): Promise<void>;
  remove(): Promise<void>;
}

/** sha256 of the data and the settings that determine every cell. */
export function runFingerprint(ds: FeatureDataset, settings: unknown, protocols: readonly string[]): string {
  const h = createHash('sha256');
  h.update(
    JSON.stringify({ settings, protocols, classes: ds.classNames, logitScale: ds.logitScale, shape: [ds.features.rows, ds.features.cols] }),
  );
  updateHash(h, ds.features.data);
  updateHash(h, ds.labels);
  updateHash(h, ds.textFeatures.data);
  return h.digest('hex').slice(0, 32);
}

/** JSON that round-trips every number exactly, including ±Infinity and NaN. */
function encode(value: unknown): string {
  return JSON.stringify(value, (_k, v) => {
    if (typeof v === 'number' && !Number.isFinite(v)) return { $number: String(v) };
    if (ArrayBuffer.isView(v) && !(v instanceof DataView)) return Array.from(v as unknown as ArrayLike<number>);
    return v;
  });
}

function decode(text: string): unknown {
  return JSON.parse(text, (_k, v) =>
    v !== null && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length === 1 && typeof v.$number === 'string'
      ? Number(v.$number)
      : v,
  );
}

const fileOf = (key: string) => `${key.replace(/[^A-Za-z0-9=.-]+/g, '_')}.json`;

/** Opens (and reads) the checkpoint folder of this run's fingerprint under `outDir`. */
export async function openCheckpoint(outDir: string, fingerprint: string): Promise<Checkpoint> {
  const root = join(outDir, '.gla-checkpoint');
  const dir = join(root, fingerprint);
  const completed = new Map<string, CellRecord<unknown>>();
  let names: string[] = [];
  try {
    names = await readdir(dir);
  } catch {
    names = [];
  }
  for (const name of names) {
    if (!name.endsWith('.json') || name.startsWith('.')) continue;
    try {
      const entry = decode(await readFile(join(dir, name), 'utf8')) as { key: string; record: CellRecord<unknown> };
      if (typeof entry?.key === 'string' && fileOf(entry.key) === name && entry.record) completed.set(entry.key, entry.record);
    } catch {
      // an unreadable checkpoint file is recomputed
    }
  }
  return {
    dir,
    completed,
    save: (key, record) => writeAtomic(join(dir, fileOf(key)), encode({ key, record })),
    remove: () => rm(root, { recursive: true, force: true }),
  };
}
