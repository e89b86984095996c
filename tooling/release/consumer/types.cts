// Type check from a CommonJS module (node16): the require() types.
import { estimatePrior, GlaError, isGlaError, matrix, type PriorEstimate } from '@gla/core';
import { type DatasetError, decodeNpy, isDatasetError } from '@gla/datasets';
import { EncoderError } from '@gla/encoders';
import { readImageFile } from '@gla/encoders/node';
import { GraphBuilder } from '@gla/onnx-builder';
import { createNodeRuntime } from '@gla/onnx-node';
import { createWebRuntime } from '@gla/onnx-web';
import { RuntimeError, type Runtime } from '@gla/runtime';
import { runConformance } from '@gla/runtime/conformance';
import { ConversionError, convertGraphModel } from '@gla/tfjs-to-onnx';
import { ensureConvertedModel } from '@gla/tfjs-to-onnx/node';

const est: PriorEstimate = estimatePrior(matrix(new Float64Array(4), 2, 2), new Int32Array([0, 1]));
const q: Float64Array = est.prior;
// @ts-expect-error a string is not a matrix
estimatePrior('logits');
const e: unknown = new GlaError('empty-input', 'x', { cause: 1 });
if (isGlaError(e, 'empty-input')) e.code satisfies 'empty-input' | string;
if (isDatasetError(e)) e.file satisfies string | undefined;
const d: DatasetError | undefined = undefined;
const r: Runtime = createNodeRuntime();
void [q, d, r, decodeNpy, EncoderError, readImageFile, GraphBuilder, createWebRuntime, RuntimeError, runConformance, ConversionError, convertGraphModel, ensureConvertedModel];
