export { type BatchOptions, type BatchProgress, encodeInBatches } from './batching';
export * from './clip/index';
export * from './use/index';
