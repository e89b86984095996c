import { fail } from './errors';
import { type BackendChoice, checkBackendChoice, type KernelArray, resolveKernel } from './kernels';
import { checkFinite, checkMatrix, checkNonEmpty, checkPositiveInteger, type Matrix } from './matrix';

/** A linear classifier: logits = features W^T + bias. */
export interface LinearHead {
  /** W: C x D (one row per class). */
  weights: Matrix;
  /** Length C. */
  bias: Float64Array | Float32Array;
}

/** Validates a head; returns [C, D]. */
export function checkHead(head: LinearHead, name = 'head'): [number, number] {
  if (head === null || typeof head !== 'object') fail('invalid-option', `${name}: expected { weights, bias }`);
  checkMatrix(head.weights, `${name}.weights`);
  checkNonEmpty(head.weights, `${name}.weights`);
  checkFinite(head.weights, `${name}.weights`, false);
  const C = head.weights.rows;
  if (!(head.bias instanceof Float64Array || head.bias instanceof Float32Array))
    fail('invalid-dtype', `${name}.bias must be a Float64Array or Float32Array`);
  if (head.bias.length !== C) fail('length-mismatch', `${name}.bias has length ${head.bias.length}, expected ${C}`);
  for (let c = 0; c < C; c++) if (!Number.isFinite(head.bias[c]!)) fail('non-finite', `${name}.bias[${c}] is not finite`);
  return [C, head.weights.cols];
}

function checkFeatures(features: Matrix, D: number, name = 'features'): void {
  checkMatrix(features, name);
  checkNonEmpty(features, name);
  checkFinite(features, name, false);
  if (features.cols !== D) fail('shape-mismatch', `${name} is ${features.rows} x ${features.cols}, expected ${D} columns`);
}

/**
 * out (N x C) = X (N x D) W^T (C x D) + bias; rows of X and W are contiguous (internal). The GEMM
 * runs on the fastest registered `gemmABt` kernel (the reference sums each output over d in order).
 */
export function linearLogits(
  X: KernelArray,
  N: number,
  D: number,
  W: KernelArray,
  bias: ArrayLike<number>,
  C: number,
  out: Float64Array,
): void {
  resolveKernel('gemmABt').gemmABt!(X, N, W, C, D, out);
  for (let i = 0; i < N; i++) {
    const o = i * C;
    for (let c = 0; c < C; c++) out[o + c]! += bias[c]!;
  }
}

/**
 * Logits of a linear head: features W^T + bias.
 * @param features N x D @returns N x C Float64 matrix
 */
export function applyHead(head: LinearHead, features: Matrix): Matrix {
  const [C, D] = checkHead(head);
  checkFeatures(features, D);
  const out = new Float64Array(features.rows * C);
  linearLogits(features.data, features.rows, D, head.weights.data, head.bias, C, out);
  return { data: out, rows: features.rows, cols: C };
}

/** Validates `rows` against `total` feature rows (internal); undefined stays undefined. */
export function checkRowIndex(rows: ArrayLike<number> | undefined, total: number, name: string): Int32Array | undefined {
  if (rows === undefined) return undefined;
  if (rows === null || typeof rows !== 'object' || typeof rows.length !== 'number')
    fail('invalid-option', `${name}: rows must be an array of row indices`);
  if (rows.length === 0) fail('empty-input', `${name}: rows is empty`);
  const out = new Int32Array(rows.length);
  for (let t = 0; t < rows.length; t++) {
    const r = rows[t]!;
    if (typeof r !== 'number' || !Number.isInteger(r) || r < 0 || r >= total)
      fail('invalid-option', `${name}: rows[${t}] = ${String(r)} is not a row index in [0, ${total})`);
    out[t] = r;
  }
  return out;
}

/**
 * Logits of a linear head on an asynchronous backend's GEMM (`applyHeadGemm`, e.g. onnxruntime's
 * MLAS via @gla/kernels-onnx) when one is registered (or named by `backend`), else {@link applyHead}
 * (Float64 sums). Precision on such a backend: the features' dtype (Float32 features give Float32
 * products, relative error ~1e-6 of the logits' scale; see the backend's README).
 * @param features N x D @param options.rows only these rows (indices in [0, N), read in place)
 * @returns rows.length (or N) x C Float64 matrix, row t for feature row rows[t]
 */
export async function applyHeadAsync(
  head: LinearHead,
  features: Matrix,
  options: { backend?: BackendChoice; rows?: ArrayLike<number> } = {},
): Promise<Matrix> {
  const [C, D] = checkHead(head);
  checkFeatures(features, D);
  if (options === null || typeof options !== 'object') fail('invalid-option', 'applyHeadAsync: options must be an object');
  const rowIndex = checkRowIndex(options.rows, features.rows, 'applyHeadAsync');
  const n = rowIndex ? rowIndex.length : features.rows;
  const out = new Float64Array(n * C);
  const X = features.data as KernelArray;
  const backend = resolveKernel('applyHeadGemm', checkBackendChoice(options.backend, 'applyHeadAsync'));
  if (backend.applyHeadGemm && (X instanceof Float32Array || X instanceof Float64Array)) {
    await backend.applyHeadGemm(X, features.rows, D, rowIndex, head.weights.data as KernelArray, C, head.bias, out);
    return { data: out, rows: n, cols: C };
  }
  if (!rowIndex) {
    linearLogits(X, n, D, head.weights.data as KernelArray, head.bias, C, out);
    return { data: out, rows: n, cols: C };
  }
  // Gathered blocks of rows (scratch of at most 1 MiB of features).
  const block = Math.max(1, Math.min(n, Math.floor((1 << 20) / (8 * D))));
  const Xb = new Float64Array(block * D);
  const ob = new Float64Array(block * C);
  for (let t0 = 0; t0 < n; t0 += block) {
    const m = Math.min(block, n - t0);
    for (let i = 0; i < m; i++) {
      const o = rowIndex[t0 + i]! * D;
      for (let d = 0; d < D; d++) Xb[i * D + d] = X[o + d]!;
    }
    linearLogits(Xb, m, D, head.weights.data as KernelArray, head.bias, C, ob);
    out.set(ob.subarray(0, m * C), t0 * C);
  }
  return { data: out, rows: n, cols: C };
}

/**
 * WiSE-style weight-space interpolation of two heads: (1 - alpha) * zs + alpha * ft (weights and
 * biases). alpha = 0 gives the zero-shot head, 1 the fine-tuned one; exact for linear heads on
 * frozen features. @param alpha in [0, 1]
 */
export function interpolateHeads(zeroShotHead: LinearHead, finetunedHead: LinearHead, alpha: number): LinearHead {
  const [C, D] = checkHead(zeroShotHead, 'zeroShotHead');
  const [C2, D2] = checkHead(finetunedHead, 'finetunedHead');
  if (C !== C2 || D !== D2) fail('shape-mismatch', `interpolateHeads: heads are ${C} x ${D} and ${C2} x ${D2}`);
  if (typeof alpha !== 'number' || !(alpha >= 0 && alpha <= 1))
    fail('invalid-option', `interpolateHeads: alpha must be in [0, 1], got ${String(alpha)}`);
  const w = new Float64Array(C * D);
  const a = zeroShotHead.weights.data;
  const b = finetunedHead.weights.data;
  for (let i = 0; i < w.length; i++) w[i] = (1 - alpha) * a[i]! + alpha * b[i]!;
  const bias = new Float64Array(C);
  for (let c = 0; c < C; c++) bias[c] = (1 - alpha) * zeroShotHead.bias[c]! + alpha * finetunedHead.bias[c]!;
  return { weights: { data: w, rows: C, cols: D }, bias };
}

/**
 * Row-wise L2 normalisation (each row divided by its Euclidean norm; all-zero rows stay zero).
 * @returns new Float64 matrix of the same shape
 */
export function l2Normalize(m: Matrix): Matrix {
  checkMatrix(m, 'matrix');
  checkFinite(m, 'matrix', false);
  const { data, rows, cols } = m;
  const out = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) {
    const o = i * cols;
    let s = 0;
    for (let j = 0; j < cols; j++) s += data[o + j]! * data[o + j]!;
    const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
    for (let j = 0; j < cols; j++) out[o + j] = data[o + j]! * inv;
  }
  return { data: out, rows, cols };
}

/**
 * CLIP-style logits: scale * cos(feature_i, class_c).
 * @param features N x D @param classEmbeddings C x D @param scale default 100 (CLIP's logit scale)
 * @returns N x C Float64 matrix
 */
export function cosineLogits(features: Matrix, classEmbeddings: Matrix, scale = 100): Matrix {
  checkMatrix(classEmbeddings, 'classEmbeddings');
  checkNonEmpty(classEmbeddings, 'classEmbeddings');
  checkFeatures(features, classEmbeddings.cols);
  if (typeof scale !== 'number' || !Number.isFinite(scale))
    fail('invalid-option', `cosineLogits: scale must be finite, got ${String(scale)}`);
  const f = l2Normalize(features);
  const e = l2Normalize(classEmbeddings);
  const C = e.rows;
  const out = new Float64Array(f.rows * C);
  linearLogits(f.data, f.rows, f.cols, e.data, new Float64Array(C), C, out);
  for (let i = 0; i < out.length; i++) out[i]! *= scale;
  return { data: out, rows: f.rows, cols: C };
}

/**
 * Zero-shot head from text embeddings with prompt ensembling. `textEmbeddings` holds
 * templates x C rows in TEMPLATE-MAJOR order: row t * C + c is template t for class c (embed all
 * class names with template 0, then template 1, ...). Each class embedding is the mean of its
 * L2-normalised template embeddings, renormalised; the head is W = scale * that (C x D), bias 0,
 * so applyHead(head, l2Normalize(imageFeatures)) = scale * cos.
 * @param options.classes C (default: rows, i.e. one template)
 * @param options.scale default 100
 */
export function zeroShotHead(textEmbeddings: Matrix, options: { classes?: number; scale?: number } = {}): LinearHead {
  checkMatrix(textEmbeddings, 'textEmbeddings');
  checkNonEmpty(textEmbeddings, 'textEmbeddings');
  checkFinite(textEmbeddings, 'textEmbeddings', false);
  const C = checkPositiveInteger(options.classes ?? textEmbeddings.rows, 'classes');
  if (textEmbeddings.rows % C !== 0)
    fail('shape-mismatch', `zeroShotHead: ${textEmbeddings.rows} rows is not a multiple of ${C} classes (templates x classes)`);
  const scale = options.scale ?? 100;
  if (typeof scale !== 'number' || !Number.isFinite(scale)) fail('invalid-option', `zeroShotHead: scale must be finite`);
  const templates = textEmbeddings.rows / C;
  const D = textEmbeddings.cols;
  const normalised = l2Normalize(textEmbeddings).data;
  const w = new Float64Array(C * D);
  for (let t = 0; t < templates; t++) {
    for (let c = 0; c < C; c++) {
      const src = (t * C + c) * D;
      for (let d = 0; d < D; d++) w[c * D + d]! += normalised[src + d]!;
    }
  }
  const mean = l2Normalize({ data: w, rows: C, cols: D }).data;
  for (let i = 0; i < mean.length; i++) mean[i]! *= scale;
  return {
    weights: { data: mean, rows: C, cols: D },
    bias: new Float64Array(C),
  };
}
