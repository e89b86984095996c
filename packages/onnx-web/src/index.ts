export { RuntimeError, type RuntimeErrorCode } from '@gla/runtime';
export {
  createWebRuntime,
  defaultExecutionProviders,
  resolveThreads,
  type WebExecutionProvider,
  type WebRuntimeOptions,
} from './web-runtime';
