// Plain JavaScript (with types in vitest.shared.d.ts): vitest loads each package's
// vitest.config.ts through Node, which imports `@gla/tooling/vitest` without a TypeScript loader.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

/**
 * Shared vitest settings: tests run against package sources through the `source`
 * export condition, so nothing needs to be built before `pnpm test`.
 *
 * @param {{ testTimeout?: number }} [options]
 */
export function packageTestConfig(options = {}) {
  return defineConfig({
    resolve: { conditions: ['source'] },
    ssr: { resolve: { conditions: ['source'] } },
    test: {
      include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
      testTimeout: options.testTimeout ?? 30_000,
      hookTimeout: 120_000,
      pool: 'forks',
      // onnxruntime-node's telemetry off in every test process, including tests that import it
      // directly (@gla/onnx-node sets this itself; ORT_DISABLE_TELEMETRY=0 opts back in).
      env: { ORT_DISABLE_TELEMETRY: process.env['ORT_DISABLE_TELEMETRY'] || '1' },
      setupFiles: [fileURLToPath(new URL('./vitest.fast-check.ts', import.meta.url))],
    },
  });
}
