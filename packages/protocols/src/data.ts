import { applyHead, type LinearHead, l2Normalize, type Matrix, zeroShotHead } from '@gla/core';
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
  /** N x D L2-normalised features. */
  x: Matrix;
  y: Int32Array;
  /** The zero-shot head (C x D, s * normalised mean prompt embedding, bias 0). */
  zeroShotHead: LinearHead;
  /** N x C zero-shot logits s * cos(x_i, t_c). */
  z: Matrix;
}

/** Validates a data set and computes the normalised features, the zero-shot head and logits. */
export function prepareData(ds: ProtocolDataset): PreparedData {
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
  const x = l2Normalize(ds.features);
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
