import { packageTestConfig } from '@gla/tooling/vitest';

export default packageTestConfig({ testTimeout: 120_000 });
