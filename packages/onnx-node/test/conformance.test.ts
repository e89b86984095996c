import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { registerConformanceSuite } from '@gla/fixtures/conformance-vitest';
import { conformanceFixtures } from '@gla/runtime/conformance';
import { afterAll } from 'vitest';
import { createNodeRuntime } from '../src/index';

const dir = mkdtempSync(join(tmpdir(), 'gla-onnx-node-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function fixturesWithFiles() {
  const fixtures = conformanceFixtures(); // as shipped with @gla/runtime, as a third-party adapter would run it
  const path = join(dir, 'affine.onnx');
  writeFileSync(path, fixtures.affine.bytes);
  return { ...fixtures, affineLocation: path, missingLocation: join(dir, 'missing', 'no-such-model.onnx') };
}

registerConformanceSuite('onnxruntime-node (default options)', () => createNodeRuntime(), fixturesWithFiles);
registerConformanceSuite(
  'onnxruntime-node (1 thread, basic optimisation)',
  () => createNodeRuntime({ threads: 1, interOpThreads: 1, graphOptimizationLevel: 'basic' }),
  fixturesWithFiles,
);
