/**
 * Public convolution, pooling and normalization functions with Keras 3's
 * arguments (keras.ops.conv, depthwise_conv, separable_conv, conv_transpose,
 * max_pool, average_pool, batch_normalization, moments). Keyword arguments
 * go in an options object: `ops.conv(x, kernel, {strides: 2, padding: 'same'})`.
 *
 * The primitives are 2-D and channels_last; here 1-D inputs get a unit
 * height axis, channels_first inputs are transposed around the primitive,
 * and a depthwise kernel becomes a grouped convolution kernel.
 */
import { floatTypeFor } from '../../tensor/dtype.ts';
import { formatShape, normalizeAxes, normalizeAxis } from '../../tensor/shape.ts';
import type { Tensor } from '../../tensor/tensor.ts';
import { dispatch1 } from '../../engine/dispatch.ts';
import { OpError } from '../../engine/op.ts';
import { nnOps as N, type Padding } from '../defs/nn.ts';
import { windowOutputSize } from '../kernels/conv.ts';
import { type TensorLike, promoteOperands, toTensor } from '../convert.ts';
import * as m from './math.ts';
import * as a from './array.ts';
import * as r from './reduce.ts';

export type DataFormat = 'channels_last' | 'channels_first';
export type PaddingName = 'valid' | 'same' | 'VALID' | 'SAME';

export interface ConvOptions {
  /** An integer or one per spatial dimension (default 1). */
  strides?: number | readonly number[];
  /** 'valid' (default): no padding; 'same': output size ceil(input / stride). */
  padding?: PaddingName;
  /** Default 'channels_last' (batch, ..., channels). */
  dataFormat?: DataFormat | null;
  /** An integer or one per spatial dimension (default 1). */
  dilationRate?: number | readonly number[];
}

export interface ConvTransposeOptions extends ConvOptions {
  /** Extra rows/columns at the end of the output, each less than the stride (default: none). */
  outputPadding?: number | readonly number[] | null;
}

export interface PoolOptions {
  /** Default: the pool size. */
  strides?: number | readonly number[] | null;
  padding?: PaddingName;
  dataFormat?: DataFormat | null;
}

// ------------------------------------------------------------ argument handling

function tuple(op: string, name: string, v: number | readonly number[] | null | undefined, n: number, fallback: readonly number[]): number[] {
  if (v === undefined || v === null) return [...fallback];
  const list = typeof v === 'number' ? new Array<number>(n).fill(v) : [...v];
  if (list.length !== n || list.some((x) => !Number.isInteger(x) || x < 1)) {
    throw new OpError(op, `Received: ${name}=${JSON.stringify(v)}; expected a positive integer or ${n} of them (one per spatial dimension).`);
  }
  return list;
}

function paddingOf(op: string, padding: string | undefined): Padding {
  const p = (padding ?? 'valid').toLowerCase();
  if (p !== 'valid' && p !== 'same') {
    throw new OpError(op, `Received: padding=${JSON.stringify(padding)}; expected 'valid' or 'same'.`);
  }
  return p;
}

function formatOf(op: string, dataFormat: DataFormat | null | undefined): DataFormat {
  const f = dataFormat ?? 'channels_last';
  if (f !== 'channels_last' && f !== 'channels_first') {
    throw new OpError(op, `Received: dataFormat=${JSON.stringify(dataFormat)}; expected 'channels_last' or 'channels_first'.`);
  }
  return f;
}

/** Number of spatial dims (1 or 2) of a (batch, spatial..., channels) input. */
function spatialRank(op: string, x: Tensor): 1 | 2 {
  if (x.rank !== 3 && x.rank !== 4) {
    throw new OpError(op, `Received: inputs of shape ${formatShape(x.shape)}; expected a rank-3 (1-D: batch, length, channels) or rank-4 (2-D: batch, height, width, channels) tensor.`);
  }
  return (x.rank - 2) as 1 | 2;
}

function floatOperands(op: string, xs: readonly TensorLike[]): Tensor[] {
  const ts = promoteOperands(op, xs, m.cast);
  const target = floatTypeFor(ts[0].dtype);
  return ts.map((t) => (t.dtype === target ? t : m.cast(t, target)));
}

/** Moves channels last (for channels_first inputs). */
function toChannelsLast(x: Tensor, format: DataFormat): Tensor {
  if (format === 'channels_last') return x;
  const perm = [0, ...Array.from({ length: x.rank - 2 }, (_, i) => i + 2), 1];
  return a.transpose(x, perm);
}

function fromChannelsLast(y: Tensor, format: DataFormat): Tensor {
  if (format === 'channels_last') return y;
  const perm = [0, y.rank - 1, ...Array.from({ length: y.rank - 2 }, (_, i) => i + 1)];
  return a.transpose(y, perm);
}

/**
 * Runs a 2-D channels_last primitive on 1-D or 2-D inputs in either data
 * format: 1-D inputs get a unit height axis (and kernels a unit kh).
 */
function spatial(x: Tensor, format: DataFormat, run: (x4: Tensor, oneD: boolean) => Tensor): Tensor {
  let xl = toChannelsLast(x, format);
  const oneD = xl.rank === 3;
  if (oneD) xl = a.expandDims(xl, 1);
  let y = run(xl, oneD);
  if (oneD) y = a.squeeze(y, 1);
  return fromChannelsLast(y, format);
}

/** Spatial params for the 2-D primitive: 1-D values get 1 for the height. */
const as2d = (v: number[], oneD: boolean): number[] => (oneD ? [1, v[0]] : v);

// ------------------------------------------------------------ convolutions

/**
 * N-D convolution (1-D and 2-D). `kernel` has shape (spatial..., in_channels,
 * out_channels); when `in_channels` divides the input's channels, the input
 * channels are split into groups (a grouped convolution), as in Keras.
 */
export function conv(inputs: TensorLike, kernel: TensorLike, options: ConvOptions = {}): Tensor {
  const op = 'conv';
  const [x, w] = floatOperands(op, [inputs, kernel]);
  const nd = spatialRank(op, x);
  const format = formatOf(op, options.dataFormat);
  if (w.rank !== nd + 2) {
    throw new OpError(op, `Received: kernel of shape ${formatShape(w.shape)} for ${nd}-D inputs of shape ${formatShape(x.shape)}; expected a rank-${nd + 2} kernel (spatial..., in_channels, out_channels).`);
  }
  const strides = tuple(op, 'strides', options.strides, nd, new Array(nd).fill(1));
  const dilations = tuple(op, 'dilationRate', options.dilationRate, nd, new Array(nd).fill(1));
  const padding = paddingOf(op, options.padding);
  const c = x.shape[format === 'channels_last' ? x.rank - 1 : 1];
  const cg = w.shape[nd];
  let groups = 1;
  if (c !== null && cg !== null) {
    if (cg === 0 || c % cg !== 0) {
      throw new OpError(op, `Received: inputs with ${c} channels (shape ${formatShape(x.shape)}) and a kernel of shape ${formatShape(w.shape)}; the kernel's in_channels (${cg}) must equal the input channels or divide them (grouped convolution).`);
    }
    groups = c / cg;
  }
  return spatial(x, format, (x4, oneD) => {
    const w4 = oneD ? a.expandDims(w, 0) : w;
    return dispatch1(N.conv2d, [x4, w4], { strides: as2d(strides, oneD), padding, dilations: as2d(dilations, oneD), groups });
  });
}

/**
 * Depthwise convolution (1-D and 2-D): each input channel is convolved with
 * its own `multiplier` filters. `kernel` has shape (spatial..., in_channels,
 * multiplier); output channel c * multiplier + m comes from input channel c.
 */
export function depthwiseConv(inputs: TensorLike, kernel: TensorLike, options: ConvOptions = {}): Tensor {
  const op = 'depthwiseConv';
  const [x, w] = floatOperands(op, [inputs, kernel]);
  const nd = spatialRank(op, x);
  const format = formatOf(op, options.dataFormat);
  if (w.rank !== nd + 2) {
    throw new OpError(op, `Received: kernel of shape ${formatShape(w.shape)} for ${nd}-D inputs of shape ${formatShape(x.shape)}; expected a rank-${nd + 2} kernel (spatial..., in_channels, channel_multiplier).`);
  }
  const strides = tuple(op, 'strides', options.strides, nd, new Array(nd).fill(1));
  const dilations = tuple(op, 'dilationRate', options.dilationRate, nd, new Array(nd).fill(1));
  const padding = paddingOf(op, options.padding);
  const c = x.shape[format === 'channels_last' ? x.rank - 1 : 1];
  const [kc, mult] = [w.shape[nd], w.shape[nd + 1]];
  if (kc === null || mult === null) throw new OpError(op, `Received: kernel of shape ${formatShape(w.shape)}; the kernel shape must be fully known.`);
  if (c !== null && c !== kc) {
    throw new OpError(op, `Received: inputs with ${c} channels (shape ${formatShape(x.shape)}) and a kernel of shape ${formatShape(w.shape)}; the kernel's in_channels (${kc}) must equal the input channels.`);
  }
  // (spatial..., C, mult) -> (spatial..., 1, C * mult): a grouped kernel with one input channel per group.
  const spatialDims = w.shape.slice(0, nd) as number[];
  const wg = a.reshape(w, [...spatialDims, 1, kc * mult]);
  return spatial(x, format, (x4, oneD) => {
    const w4 = oneD ? a.expandDims(wg, 0) : wg;
    return dispatch1(N.conv2d, [x4, w4], { strides: as2d(strides, oneD), padding, dilations: as2d(dilations, oneD), groups: kc });
  });
}

/** Depthwise convolution followed by a pointwise (1x1) convolution. */
export function separableConv(inputs: TensorLike, depthwiseKernel: TensorLike, pointwiseKernel: TensorLike, options: ConvOptions = {}): Tensor {
  const depthwise = depthwiseConv(inputs, depthwiseKernel, options);
  return conv(depthwise, pointwiseKernel, { dataFormat: options.dataFormat });
}

/**
 * Transposed convolution (the gradient of `conv` with respect to its input),
 * 1-D and 2-D. `kernel` has shape (spatial..., out_channels, in_channels).
 * The output length is Keras's: with no outputPadding, input * stride for
 * 'same' and input * stride + max(k - stride, 0) for 'valid'; with
 * outputPadding, (input - 1) * stride + k - 2 * pad + outputPadding with
 * pad = 0 ('valid') or floor(k / 2) ('same'), k being the dilated kernel size.
 */
export function convTranspose(inputs: TensorLike, kernel: TensorLike, options: ConvTransposeOptions = {}): Tensor {
  const op = 'convTranspose';
  const [x, w] = floatOperands(op, [inputs, kernel]);
  const nd = spatialRank(op, x);
  const format = formatOf(op, options.dataFormat);
  if (w.rank !== nd + 2) {
    throw new OpError(op, `Received: kernel of shape ${formatShape(w.shape)} for ${nd}-D inputs of shape ${formatShape(x.shape)}; expected a rank-${nd + 2} kernel (spatial..., out_channels, in_channels).`);
  }
  if (w.shape.some((d) => d === null)) throw new OpError(op, `Received: kernel of shape ${formatShape(w.shape)}; the kernel shape must be fully known.`);
  const strides = tuple(op, 'strides', options.strides, nd, new Array(nd).fill(1));
  const dilations = tuple(op, 'dilationRate', options.dilationRate, nd, new Array(nd).fill(1));
  const padding = paddingOf(op, options.padding);
  let outputPadding: number[] | null = null;
  if (options.outputPadding !== undefined && options.outputPadding !== null) {
    const v = options.outputPadding;
    outputPadding = typeof v === 'number' ? new Array<number>(nd).fill(v) : [...v];
    if (outputPadding.length !== nd || outputPadding.some((p, i) => !Number.isInteger(p) || p < 0 || p >= strides[i])) {
      throw new OpError(op, `Received: outputPadding=${JSON.stringify(v)} with strides=${JSON.stringify(strides)}; expected non-negative integers smaller than the strides, one per spatial dimension.`);
    }
  }
  const c = x.shape[format === 'channels_last' ? x.rank - 1 : 1];
  const kin = w.shape[nd + 1] as number;
  if (c !== null && c !== kin) {
    throw new OpError(op, `Received: inputs with ${c} channels (shape ${formatShape(x.shape)}) and a kernel of shape ${formatShape(w.shape)}; the kernel's last dimension (in_channels, ${kin}) must equal the input channels.`);
  }
  const xl = toChannelsLast(x, format);
  const inSizes = xl.shape.slice(1, 1 + nd);
  const outSizes = inSizes.map((len, i) => {
    if (len === null) throw new OpError(op, `Received: inputs of shape ${formatShape(x.shape)}; the spatial dimensions must be known.`);
    const dk = ((w.shape[i] as number) - 1) * dilations[i] + 1;
    if (outputPadding === null) return padding === 'valid' ? len * strides[i] + Math.max(dk - strides[i], 0) : len * strides[i];
    const pad = padding === 'valid' ? 0 : Math.floor(dk / 2);
    return (len - 1) * strides[i] + dk - 2 * pad + outputPadding[i];
  });
  outSizes.forEach((size, i) => {
    const back = windowOutputSize(size, w.shape[i] as number, strides[i], dilations[i], padding);
    if (size < 0 || back !== inSizes[i]) {
      throw new OpError(op, `Received: inputs of shape ${formatShape(x.shape)}, kernel ${formatShape(w.shape)}, strides=${JSON.stringify(strides)}, padding='${padding}', outputPadding=${JSON.stringify(outputPadding)}; the output size ${size} is not consistent with the input size ${inSizes[i]}.`);
    }
  });
  return spatial(x, format, (x4, oneD) => {
    const w4 = oneD ? a.expandDims(w, 0) : w;
    return dispatch1(N.conv2dBackpropInput, [x4, w4], {
      strides: as2d(strides, oneD), padding, dilations: as2d(dilations, oneD), groups: 1, inputSize: as2d(outSizes, oneD),
    });
  });
}

// ------------------------------------------------------------ pooling

function pool(op: 'maxPool' | 'averagePool', inputs: TensorLike, poolSize: number | readonly number[], options: PoolOptions): Tensor {
  const x = toTensor(inputs, op);
  const xf = x.dtype === floatTypeFor(x.dtype) ? x : m.cast(x, floatTypeFor(x.dtype));
  const nd = spatialRank(op, xf);
  const format = formatOf(op, options.dataFormat);
  const size = tuple(op, 'poolSize', poolSize, nd, []);
  const strides = tuple(op, 'strides', options.strides, nd, size);
  const padding = paddingOf(op, options.padding);
  const def = op === 'maxPool' ? N.maxPool2d : N.avgPool2d;
  return spatial(xf, format, (x4, oneD) => dispatch1(def, [x4], { poolSize: as2d(size, oneD), strides: as2d(strides, oneD), padding }));
}

/** Max pooling (1-D and 2-D); padded positions never win. */
export function maxPool(inputs: TensorLike, poolSize: number | readonly number[], options: PoolOptions = {}): Tensor {
  return pool('maxPool', inputs, poolSize, options);
}

/** Average pooling (1-D and 2-D); with 'same' padding each window averages only its real elements. */
export function averagePool(inputs: TensorLike, poolSize: number | readonly number[], options: PoolOptions = {}): Tensor {
  return pool('averagePool', inputs, poolSize, options);
}

// ------------------------------------------------------------ normalization

export interface BatchNormalizationOptions {
  offset?: TensorLike | null;
  scale?: TensorLike | null;
  epsilon?: number;
}

/**
 * (x - mean) / sqrt(variance + epsilon) * scale + offset, with the 1-D
 * statistics and parameters applied along `axis` (the inference formula).
 */
export function batchNormalization(x: TensorLike, mean: TensorLike, variance: TensorLike, axis: number, options: BatchNormalizationOptions = {}): Tensor {
  const op = 'batchNormalization';
  const t = toTensor(x, op);
  const xf = t.dtype === floatTypeFor(t.dtype) ? t : m.cast(t, floatTypeFor(t.dtype));
  const ax = normalizeAxis(axis, xf.rank, `ops.${op}`);
  const { offset = null, scale = null, epsilon = 1e-3 } = options;
  if (typeof epsilon !== 'number' || !(epsilon >= 0)) throw new OpError(op, `Received: epsilon=${String(epsilon)}; expected a non-negative number.`);
  const shaped = (v: TensorLike, name: string): Tensor => {
    const p = toTensor(v, op);
    if (p.rank !== 1) {
      if (p.rank === xf.rank) return p;
      throw new OpError(op, `Received: ${name} of shape ${formatShape(p.shape)}; expected a 1-D tensor with one value per channel along axis ${axis}.`);
    }
    const c = xf.shape[ax];
    if (c !== null && p.shape[0] !== null && p.shape[0] !== c) {
      throw new OpError(op, `Received: ${name} of shape ${formatShape(p.shape)} for x of shape ${formatShape(xf.shape)} and axis=${axis}; expected ${c} values.`);
    }
    if (ax === xf.rank - 1) return p;
    const shape = xf.shape.map((_, i) => (i === ax ? -1 : 1));
    return a.reshape(p, shape);
  };
  let inv = m.rsqrt(m.add(shaped(variance, 'variance'), epsilon));
  if (scale !== null) inv = m.multiply(inv, shaped(scale, 'scale'));
  const y = m.multiply(m.subtract(xf, shaped(mean, 'mean')), inv);
  return offset === null ? y : m.add(y, shaped(offset, 'offset'));
}

/**
 * Mean and (population) variance of `x` over `axes`: `[mean, variance]`.
 * The variance is the mean squared deviation from a gradient-stopped mean,
 * which leaves its gradient unchanged and is stable for large means.
 */
export function moments(x: TensorLike, axes: number | readonly number[], keepdims: boolean | { keepdims?: boolean } = false): [Tensor, Tensor] {
  const op = 'moments';
  const t = toTensor(x, op);
  const xf = t.dtype === floatTypeFor(t.dtype) ? t : m.cast(t, floatTypeFor(t.dtype));
  const keep = typeof keepdims === 'boolean' ? keepdims : (keepdims.keepdims ?? false);
  const list = normalizeAxes(axes, xf.rank, `ops.${op}`);
  const mean = r.mean(xf, { axis: list, keepdims: true });
  const variance = r.mean(m.square(m.subtract(xf, m.stopGradient(mean))), { axis: list, keepdims: true });
  if (keep) return [mean, variance];
  return [a.squeeze(mean, list), a.squeeze(variance, list)];
}
