import { packageTestConfig } from '@gla/tooling/vitest';

export default packageTestConfig();
