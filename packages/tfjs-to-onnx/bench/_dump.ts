import { readFileSync } from 'node:fs';
import { decodeModel } from '@gla/onnx-builder';
const m = decodeModel(new Uint8Array(readFileSync(process.argv[2]!)));
const short = (s: string) => s.replace(/module_apply_default\/Encoder_en\/KonaTransformer\/Encode\/TransformerStack\//g, '').replace(/TransformerLayer\//g, '').replace(/MultiheadAttention\//g, 'MHA/').replace(/DotProductAttention\/BaseDotProductAttention\//g, 'DPA/');
for (const n of (m as any).graph.nodes) console.log(n.opType, n.domain ?? '', short(n.inputs.join(',')), '->', short(n.outputs.join(',')), JSON.stringify(n.attributes ?? {}).slice(0, 100));
