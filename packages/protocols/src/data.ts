import { applyHead, type LinearHead, type Matrix, zeroShotHead } from '@gla/core';
import { ProtocolError } from './errors';

/**
 * What a protocol runs on: frozen features of labelled examples and the class text embeddings of
 * the zero-shot head. Structurally compatible with the bench's FeatureDataset.
 */
export interface ProtocolDataset {
  /** N x D image or text features (normalised by the protocol). */
  features: Matrix;
  /** N labels in [0, C). */
  labels: Int32Array;
  /** C class names. */
  classNames: readonly string[];
  /** Templates x C x D prompt embeddings, template-major (row t * C + c). */
  textFeatures: { data: Float32Array | Float64Array; templates: number; classes: number; dim: number };
  /** Zero-shot logit scale s (logits = s * cos). */
  logitScale: number;
}

/** The normalised data every split of a protocol shares. */
export interface PreparedData {
  /** Number of classes C. */
  classes: number;
  /** N x D L2-normalised features, Float32 (norms accumulated in Float64; 4 bytes per entry). */
  x: Matrix;
  y: Int32Array;
  /** The zero-shot head (C x D, s * normalised mean prompt embedding, bias 0). */
  zeroShotHead: LinearHead;
  /** N x C zero-shot logits s * cos(x_i, t_c). */
  z: Matrix;
}

/** Options of {@link prepareData}. */
export interface PrepareOptions {
  /**
   * Normalise Float32 `features` in place (default false): the data set's feature buffer becomes
   * the protocols' `x`, so no second N x D copy is held (the caller must not need the raw
   * features afterwards, e.g. fingerprint them first).
   */
  inPlace?: boolean;
}

/**
 * Validates a data set and computes the normalised features (Float32), the zero-shot head and logits.
 */
export function prepareData(ds: ProtocolDataset, options: PrepareOptions = {}): PreparedData {
  const C = ds.classNames.length;
  if (C < 2) throw new ProtocolError('invalid-data', `the data set has ${C} classes; a protocol needs at least 2`);
  const t = ds.textFeatures;
  if (t.dim !== ds.features.cols) throw new ProtocolError('invalid-data', `text features have ${t.dim} dims, features ${ds.features.cols}`);
  if (t.classes !== C) throw new ProtocolError('invalid-data', `text features have ${t.classes} classes, classNames ${C}`);
  if (ds.labels.length !== ds.features.rows)
    throw new ProtocolError('invalid-data', `${ds.labels.length} labels for ${ds.features.rows} feature rows`);
  for (let i = 0; i < ds.labels.length; i++) {
    const y = ds.labels[i]!;
    if (!Number.isInteger(y) || y < 0 || y >= C)
      throw new ProtocolError('invalid-data', `labels[${i}] = ${y} is not a class index in [0, ${C})`);
  }
  const x = normalizeRows(ds.features, options.inPlace === true);
  const head = zeroShotHead({ data: t.data, rows: t.templates * C, cols: t.dim }, { classes: C, scale: ds.logitScale });
  const bias = head.bias instanceof Float64Array ? head.bias : Float64Array.from(head.bias);
  const zeroShot = { weights: head.weights, bias };
  return { classes: C, x, y: ds.labels, zeroShotHead: zeroShot, z: applyHead(zeroShot, x) };
}

/** Per-class counts of a label vector. */
export function classCounts(labels: ArrayLike<number>, classes: number): Int32Array {
  const out = new Int32Array(classes);
  for (let i = 0; i < labels.length; i++) out[labels[i]!]!++;
  return out;
}

/**
 * Row-wise L2 normalisation into Float32 (core's l2Normalize rule: sums of squares in Float64, an
 * all-zero row stays zero), into the input's own buffer when `inPlace` and it is a Float32Array.
 * @param m N x D @returns N x D Float32
 */
function normalizeRows(m: Matrix, inPlace: boolean): Matrix {
  const { data, rows, cols } = m;
  const out = inPlace && data instanceof Float32Array ? data : new Float32Array(rows * cols);
  for (let i = 0; i < rows; i++) {
    const o = i * cols;
    let s = 0;
    for (let j = 0; j < cols; j++) {
      const v = data[o + j]!;
      if (!Number.isFinite(v)) throw new ProtocolError('invalid-data', `features[${i}, ${j}] = ${v} is not finite`);
      s += v * v;
    }
    const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
    for (let j = 0; j < cols; j++) out[o + j] = data[o + j]! * inv;
  }
  return { data: out, rows, cols };
}
