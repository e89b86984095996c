import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

/**
 * Shared vitest settings: tests run against package sources through the `source`
 * export condition, so nothing needs to be built before `pnpm test`.
 */
export function packageTestConfig(options: { testTimeout?: number } = {}) {
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
