/// <reference lib="webworker" />
/**
 * The sentence encoder runs here, off the page's thread (onnxruntime-web runs a model
 * synchronously on the thread that calls it, which would freeze the page while texts are
 * embedded). Messages: `load` → model info; `encode` → `progress` events, then the embeddings
 * (transferred).
 */
import { describeError } from './errors';
import { type LoadedModel, loadModel } from './model';

export type EncoderRequest =
  | { id: number; kind: 'load'; baseUrl: string }
  | { id: number; kind: 'encode'; texts: string[]; batchSize: number };

export interface ModelInfo {
  executionProvider: string;
  threads: number;
  fromCache: boolean;
  loadMs: number;
  bytes: number;
}

export type EncoderResponse =
  | { id: number; kind: 'loaded'; info: ModelInfo }
  | { id: number; kind: 'progress'; done: number; total: number }
  | { id: number; kind: 'encoded'; data: Float32Array; rows: number; cols: number }
  | { id: number; kind: 'error'; message: string };

const scope = self as unknown as DedicatedWorkerGlobalScope;
let model: Promise<LoadedModel> | undefined;

scope.onmessage = (event: MessageEvent<EncoderRequest>) => {
  const msg = event.data;
  const post = (response: EncoderResponse, transfer: Transferable[] = []) => scope.postMessage(response, transfer);
  void (async () => {
    try {
      if (msg.kind === 'load') {
        model ??= loadModel({ baseUrl: msg.baseUrl });
        const m = await model.catch((error) => {
          model = undefined;
          throw error;
        });
        post({
          id: msg.id,
          kind: 'loaded',
          info: {
            executionProvider: m.executionProvider,
            threads: m.threads,
            fromCache: m.fromCache,
            loadMs: m.loadMs,
            bytes: m.manifest.bytes,
          },
        });
      } else {
        if (!model) throw new Error('the model is not loaded');
        const m = await model;
        const out = await m.encoder.encode(msg.texts, {
          batchSize: msg.batchSize,
          onProgress: (p: { done: number; total: number }) => post({ id: msg.id, kind: 'progress', done: p.done, total: p.total }),
        });
        post({ id: msg.id, kind: 'encoded', data: out.data, rows: out.rows, cols: out.cols }, [out.data.buffer]);
      }
    } catch (error) {
      post({ id: msg.id, kind: 'error', message: describeError(error) });
    }
  })();
};
