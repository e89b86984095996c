/**
 * A row-major matrix of numbers: element (i, j) is `data[i * cols + j]`; `data` is Float32Array
 * or Float64Array. Re-exported from `@gla/core` so matrices cross package borders unchanged.
 */
export type { Matrix } from '@gla/core';
