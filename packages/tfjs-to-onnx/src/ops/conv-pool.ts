/** Convolution and pooling (TF NHWC transposed to ONNX NCHW around the op; 1x1 convolutions become MatMul) and inference batch norm. */
import type { Dim } from '../context';
import { ConversionError } from '../errors';
import { attrs } from '../model-json';
import { input, type LowerArgs, type Lowering } from './lowering';

function spatialAttributes(a: LowerArgs, kernel: number[] | undefined): Record<string, unknown> {
  const format = attrs.string(a.node, 'data_format', 'NHWC');
  const nhwc = format === 'NHWC';
  const pick = (list: number[] | undefined) => (list && list.length === 4 ? (nhwc ? [list[1]!, list[2]!] : [list[2]!, list[3]!]) : [1, 1]);
  const padding = attrs.string(a.node, 'padding', 'VALID');
  const result: Record<string, unknown> = { strides: pick(attrs.ints(a.node, 'strides')) };
  if (kernel) result.kernel_shape = kernel;
  if (padding === 'SAME') result.auto_pad = 'SAME_UPPER';
  else if (padding === 'VALID') result.auto_pad = 'VALID';
  else if (padding === 'EXPLICIT') {
    const p = attrs.ints(a.node, 'explicit_paddings') ?? [];
    const [t, b, l, r] = nhwc ? [p[2], p[3], p[4], p[5]] : [p[4], p[5], p[6], p[7]];
    result.pads = [t ?? 0, l ?? 0, b ?? 0, r ?? 0];
  } else {
    throw new ConversionError('unsupported-attribute', `node '${a.node.name}' has padding '${padding}'`);
  }
  return result;
}

function convOutputShape(
  x: Dim[] | undefined,
  outChannels: Dim,
  nhwc: boolean,
  attributes: Record<string, unknown>,
  kernel: number[],
  dilations: number[],
): Dim[] | undefined {
  if (x?.length !== 4) return undefined;
  const strides = attributes.strides as number[];
  const spatial = nhwc ? [x[1]!, x[2]!] : [x[2]!, x[3]!];
  const out = spatial.map((d, i) => {
    if (d === null) return null;
    const k = (kernel[i]! - 1) * dilations[i]! + 1;
    const s = strides[i]!;
    if (attributes.auto_pad === 'SAME_UPPER') return Math.ceil(d / s);
    if (attributes.auto_pad === 'VALID') return Math.floor((d - k) / s) + 1;
    const pads = attributes.pads as number[];
    return Math.floor((d + pads[i]! + pads[i + 2]! - k) / s) + 1;
  });
  return nhwc ? [x[0]!, out[0]!, out[1]!, outChannels] : [x[0]!, outChannels, out[0]!, out[1]!];
}

function convLowering(depthwise: boolean): Lowering {
  return (a) => {
    const x = input(a, 0);
    const w = input(a, 1);
    const nhwc = attrs.string(a.node, 'data_format', 'NHWC') === 'NHWC';
    const wShape = w.constant?.shape ?? (w.shape?.every((d) => d !== null) ? (w.shape as number[]) : undefined);
    if (wShape?.length !== 4) {
      throw new ConversionError('dynamic-attribute', `node '${a.node.name}' (${a.node.op}) needs a constant 4-D filter`, {
        node: a.node.name,
      });
    }
    const [kh, kw, cin, mult] = wShape as [number, number, number, number];
    const dil = attrs.ints(a.node, 'dilations');
    const dilations = dil && dil.length === 4 ? (nhwc ? [dil[1]!, dil[2]!] : [dil[2]!, dil[3]!]) : [1, 1];
    const attributes = spatialAttributes(a, [kh, kw]);
    const strides = attributes.strides as number[];
    const outChannels = depthwise ? cin * mult : mult;
    const shape = convOutputShape(x.shape, outChannels, nhwc, attributes, [kh, kw], dilations);
    // 1x1, stride 1, no padding effects, NHWC: a dense layer over the channel axis (exact same sums)
    if (!depthwise && nhwc && kh === 1 && kw === 1 && strides[0] === 1 && strides[1] === 1 && w.constant && attributes.pads === undefined) {
      const kernel = a.ctx.addInitializer(a.ctx.fresh('kernel'), 'float32', [cin, mult], w.constant.data);
      a.define({ name: a.ctx.op('MatMul', [a.ctx.name(x), kernel], {}, a.out()), dtype: x.dtype, shape });
      return;
    }
    // filter HWIO → OIHW (depthwise: HW C M → (C*M) 1 H W)
    let filter: string;
    if (w.constant) {
      const src = w.constant.data as Float32Array;
      const out = new Float32Array(src.length);
      if (depthwise) {
        for (let h = 0; h < kh; h++)
          for (let q = 0; q < kw; q++)
            for (let c = 0; c < cin; c++)
              for (let m = 0; m < mult; m++) out[((c * mult + m) * kh + h) * kw + q] = src[((h * kw + q) * cin + c) * mult + m]!;
        filter = a.ctx.addInitializer(a.ctx.fresh('filter'), 'float32', [cin * mult, 1, kh, kw], out);
      } else {
        for (let h = 0; h < kh; h++)
          for (let q = 0; q < kw; q++)
            for (let c = 0; c < cin; c++)
              for (let o = 0; o < mult; o++) out[((o * cin + c) * kh + h) * kw + q] = src[((h * kw + q) * cin + c) * mult + o]!;
        filter = a.ctx.addInitializer(a.ctx.fresh('filter'), 'float32', [mult, cin, kh, kw], out);
      }
    } else {
      const t = a.ctx.op('Transpose', [a.ctx.name(w)], { perm: [3, 2, 0, 1] });
      filter = depthwise ? a.ctx.op('Reshape', [t, a.ctx.small('int64', [cin * mult, 1, kh, kw])]) : t;
    }
    const convAttributes: Record<string, unknown> = { ...attributes, dilations };
    if (depthwise) convAttributes.group = cin;
    const xin = nhwc ? a.ctx.op('Transpose', [a.ctx.name(x)], { perm: [0, 3, 1, 2] }) : a.ctx.name(x);
    const conv = a.ctx.op('Conv', [xin, filter], convAttributes as never, nhwc ? undefined : a.out());
    const name = nhwc ? a.ctx.op('Transpose', [conv], { perm: [0, 2, 3, 1] }, a.out()) : conv;
    a.define({ name, dtype: x.dtype, shape });
  };
}

function poolLowering(onnxOp: 'MaxPool' | 'AveragePool'): Lowering {
  return (a) => {
    const x = input(a, 0);
    const nhwc = attrs.string(a.node, 'data_format', 'NHWC') === 'NHWC';
    const ksize = attrs.ints(a.node, 'ksize') ?? [1, 1, 1, 1];
    const kernel = nhwc ? [ksize[1]!, ksize[2]!] : [ksize[2]!, ksize[3]!];
    const attributes = spatialAttributes(a, kernel);
    const channels = x.shape ? x.shape[nhwc ? 3 : 1]! : null;
    const shape = convOutputShape(x.shape, channels, nhwc, attributes, kernel, [1, 1]);
    const xin = nhwc ? a.ctx.op('Transpose', [a.ctx.name(x)], { perm: [0, 3, 1, 2] }) : a.ctx.name(x);
    const pooled = a.ctx.op(onnxOp, [xin], attributes as never, nhwc ? undefined : a.out());
    const name = nhwc ? a.ctx.op('Transpose', [pooled], { perm: [0, 2, 3, 1] }, a.out()) : pooled;
    a.define({ name, dtype: x.dtype, shape });
  };
}

/** Inference-mode batch normalisation over the channel axis (NHWC). */
const fusedBatchNorm: Lowering = (a) => {
  const x = input(a, 0);
  if (attrs.string(a.node, 'data_format', 'NHWC') !== 'NHWC') {
    throw new ConversionError('unsupported-attribute', `node '${a.node.name}' (${a.node.op}) uses data_format NCHW`);
  }
  const epsilon = attrs.float(a.node, 'epsilon', 0.001);
  const [scale, offset, mean, variance] = [1, 2, 3, 4].map((i) => a.ctx.name(input(a, i))) as [string, string, string, string];
  const inv = a.ctx.op('Reciprocal', [a.ctx.op('Sqrt', [a.ctx.op('Add', [variance, a.ctx.scalar('float32', epsilon)])])]);
  const factor = a.ctx.op('Mul', [inv, scale]);
  const centred = a.ctx.op('Sub', [a.ctx.name(x), mean]);
  const scaled = a.ctx.op('Mul', [centred, factor]);
  a.define({ name: a.ctx.op('Add', [scaled, offset], {}, a.out()), dtype: x.dtype, shape: x.shape });
};

/** Conv pool lowerings by TF op type. */
export const CONV_POOL: Readonly<Record<string, Lowering>> = {
  Conv2D: convLowering(false),
  DepthwiseConv2dNative: convLowering(true),
  MaxPool: poolLowering('MaxPool'),
  AvgPool: poolLowering('AveragePool'),
  FusedBatchNorm: fusedBatchNorm,
  FusedBatchNormV2: fusedBatchNorm,
  FusedBatchNormV3: fusedBatchNorm,
};
