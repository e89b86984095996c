import { join } from 'node:path';
import type { TestLogits } from '@gla/protocols';
import { writeAtomic } from './atomic';
import { writeLabels, writeMatrix, writeVector } from './npyio';

/** Folder of one cell under the --save-logits directory: few-shot/seed-1-k-16, many-shot/seed-2, ... */
export function logitsFolder(root: string, t: Pick<TestLogits, 'protocol' | 'seed' | 'shots'>): string {
  return join(root, t.protocol, t.shots === undefined ? `seed-${t.seed}` : `seed-${t.seed}-k-${t.shots}`);
}

/**
 * Writes one cell's test logits and fitted parameters (float64, so `gla ensemble` recomputes the
 * `gla` row bit for bit): finetuned.npy (f), zero-shot.npy (z), labels.npy, log-prior.npy (log q),
 * train-prior.npy (pi_s, held-out protocols) and cell.json with T_f, T_z, the `gla` accuracy and
 * the `gla ensemble` command that reproduces it.
 */
export async function saveTestLogits(root: string, t: TestLogits): Promise<void> {
  const dir = logitsFolder(root, t);
  await writeMatrix(join(dir, 'finetuned.npy'), t.finetuned, 'float64');
  await writeMatrix(join(dir, 'zero-shot.npy'), t.zeroShot, 'float64');
  await writeLabels(join(dir, 'labels.npy'), t.labels);
  await writeVector(join(dir, 'log-prior.npy'), t.logPrior, 'float64');
  if (t.trainPrior) await writeVector(join(dir, 'train-prior.npy'), t.trainPrior, 'float64');
  const command = [
    'gla ensemble',
    `--finetuned ${join(dir, 'finetuned.npy')}`,
    `--zero-shot ${join(dir, 'zero-shot.npy')}`,
    `--prior ${join(dir, 'log-prior.npy')} --log-prior`,
    `--finetuned-temperature ${t.finetunedTemperature}`,
    `--zero-shot-temperature ${t.zeroShotTemperature}`,
    ...(t.trainPrior ? [`--train-prior ${join(dir, 'train-prior.npy')}`] : []),
    `--out ${join(dir, 'gla.npy')}`,
  ].join(' ');
  const cell = {
    protocol: t.protocol,
    seed: t.seed,
    ...(t.shots === undefined ? {} : { shots: t.shots }),
    finetunedTemperature: t.finetunedTemperature,
    zeroShotTemperature: t.zeroShotTemperature,
    glaAccuracy: t.glaAccuracy,
    command,
  };
  await writeAtomic(join(dir, 'cell.json'), `${JSON.stringify(cell, null, 2)}\n`);
}
