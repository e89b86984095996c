/**
 * A row-major matrix of numbers: element (i, j) is `data[i * cols + j]`.
 * Structurally the same type as `Matrix` in `@gla/core`.
 */
export interface Matrix {
  data: Float32Array | Float64Array;
  rows: number;
  cols: number;
}
