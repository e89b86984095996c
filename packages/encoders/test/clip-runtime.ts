import { createNodeRuntime } from '@gla/onnx-node';
import type { Runtime } from '@gla/runtime';

/** The Node runtime the CLIP tests and benchmark use (onnxruntime-node, one thread per session). */
export async function createTestRuntime(): Promise<Runtime> {
  return createNodeRuntime({ threads: 1 });
}
