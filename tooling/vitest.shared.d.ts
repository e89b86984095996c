import type { UserConfig } from 'vitest/config';

/**
 * Shared vitest settings: tests run against package sources through the `source`
 * export condition, so nothing needs to be built before `pnpm test`.
 */
export declare function packageTestConfig(options?: { testTimeout?: number }): UserConfig;
