import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import { ensureConvertedModel } from '../src/index';
import { loadReference, ragged, realTexts } from '../bench/reference';
const conv = await ensureConvertedModel({ resolveFrom: import.meta.url });
const ref = await loadReference();
const texts = realTexts(128);
const f = ragged(texts.slice(0, 64).map((t) => ref.model.tokenizer.encode(t)));
console.log('tokens', f.values.length, 'max', Math.max(...texts.slice(0,64).map(t=>ref.model.tokenizer.encode(t).length)));
const s = await ort.InferenceSession.create(conv.path, { intraOpNumThreads: 2, enableProfiling: true, profileFilePrefix: '/tmp/ortprof' });
const feeds = { indices: new ort.Tensor('int32', f.indices, [f.values.length, 2]), values: new ort.Tensor('int32', f.values, [f.values.length]) };
for (let i = 0; i < 3; i++) { const t0 = performance.now(); await s.run(feeds); console.log('run ms', performance.now() - t0); }
s.endProfiling();
