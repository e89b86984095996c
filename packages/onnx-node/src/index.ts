export { RuntimeError, type RuntimeErrorCode } from '@gla/runtime';
export { createNodeRuntime, type GraphOptimizationLevel, type NodeLoadOptions, type NodeRuntimeOptions } from './node-runtime';
export { disableOrtTelemetry, loadOrt, type OrtModule, TELEMETRY_VARIABLE, type TelemetrySetting } from './telemetry';
