export { RuntimeError, type RuntimeErrorCode } from '@gla/runtime';
export { createNodeRuntime, type GraphOptimizationLevel, type NodeLoadOptions, type NodeRuntimeOptions } from './node-runtime';
