import { accuracy } from './core';
import { loadFeatureDir, normalizeRows } from './dataset';
import { fitProbe } from './probe';
import { linearLogits, pick, rows } from './linalg';
import { shuffledByClass } from './protocol';
const ds = await loadFeatureDir(process.argv[2]!);
const x = normalizeRows(ds.features);
const C = ds.classNames.length;
const byClass = shuffledByClass(ds.labels, C, 1);
const test = Int32Array.from(byClass.flatMap((m) => m.slice(0, 25)));
const few = Int32Array.from(byClass.flatMap((m) => m.slice(25, 45)));
const lt = Int32Array.from(byClass.flatMap((m) => m.slice(30)));
for (const [name, tr] of [['few20', few], ['lt', lt]] as const) {
  for (const center of [true, false]) {
    for (const l2 of [1e-2, 1e-3, 1e-4]) {
      if (name === 'lt' && !center && l2 < 1e-3) continue;
      const t0 = performance.now();
      const h = fitProbe(rows(x, tr), pick(ds.labels, tr), C, l2, undefined, { center });
      const acc = accuracy(linearLogits(rows(x, test), h.weights, h.bias), pick(ds.labels, test));
      console.log(name, tr.length, 'center', center, 'l2', l2, ((performance.now() - t0) / 1000).toFixed(2), 's acc', acc.toFixed(3));
    }
  }
}
