export {
  createWebRuntime,
  defaultExecutionProviders,
  resolveThreads,
  type WebExecutionProvider,
  type WebRuntimeOptions,
} from './web-runtime';
export { RuntimeError, type RuntimeErrorCode } from '@gla/runtime';
