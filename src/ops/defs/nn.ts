/**
 * Convolution and pooling primitives, all 2-D and channels_last (NHWC), as
 * in Keras's default data format:
 *
 *   conv2d                x[N,H,W,C], w[kh,kw,C/groups,O] -> [N,Ho,Wo,O]
 *   conv2dBackpropInput   dy, w -> dx[N,H,W,C]   (also serves convTranspose)
 *   conv2dBackpropFilter  x, dy -> dw[kh,kw,C/groups,O]
 *   maxPool2d / maxPool2dGrad, avgPool2d / avgPool2dGrad
 *
 * The three convolution ops are bilinear and each one's gradient is written
 * with the others. Depthwise convolution is conv2d with groups = C. 1-D
 * convolutions and pools, channels_first, depthwise and transposed
 * convolutions, batch normalization and moments are composites in ../api/nn.ts.
 *
 * Lowerings transpose to NCHW around the ONNX op (ONNX Runtime removes
 * back-to-back transposes) and use explicit pads, so 'same' matches
 * TensorFlow (the extra padding goes at the end). ONNX Runtime's CPU Conv,
 * ConvTranspose and AveragePool are float32 only: float64 conv2d and
 * conv2dBackpropFilter lower through im2col + MatMul instead, and the
 * others raise a clear error.
 */
import { type DType, isFloat } from '../../tensor/dtype.ts';
import { type Dim, type Shape, formatShape } from '../../tensor/shape.ts';
import type { Tensor } from '../../tensor/tensor.ts';
import { defineOps, nonDifferentiable, OpError, type TensorType } from '../../engine/op.ts';
import type { OnnxAttrs, OnnxEmitter } from '../../engine/onnx-types.ts';
import { dispatch1 } from '../../engine/dispatch.ts';
import {
  type Padding, conv2dBackpropFilterValues, conv2dBackpropInputValues, conv2dValues, convGeometry, windowOutputSize, windowPads,
} from '../kernels/conv.ts';
import { avgPool2dGradValues, avgPool2dValues, maxPool2dGradValues, maxPool2dValues, poolGeometry } from '../kernels/pool.ts';

export type { Padding } from '../kernels/conv.ts';

export interface Conv2dAttrs {
  /** [strideH, strideW] */
  readonly strides: readonly number[];
  readonly padding: Padding;
  /** [dilationH, dilationW] */
  readonly dilations: readonly number[];
  /** Input channels are split into `groups` groups, each convolved with O/groups filters. */
  readonly groups: number;
}
export interface Conv2dBackpropInputAttrs extends Conv2dAttrs {
  /** [H, W] of the forward convolution's input (the result). */
  readonly inputSize: readonly number[];
}
export interface Conv2dBackpropFilterAttrs extends Conv2dAttrs {
  /** [kh, kw] of the kernel (the result). */
  readonly filterSize: readonly number[];
}
export interface Pool2dAttrs {
  readonly poolSize: readonly number[];
  readonly strides: readonly number[];
  readonly padding: Padding;
}
export interface Pool2dGradAttrs extends Pool2dAttrs {
  /** [H, W] of the pooled input (the result). */
  readonly inputSize: readonly number[];
}

export interface NnOpsAttrs {
  conv2d: Conv2dAttrs;
  conv2dBackpropInput: Conv2dBackpropInputAttrs;
  conv2dBackpropFilter: Conv2dBackpropFilterAttrs;
  maxPool2d: Pool2dAttrs;
  maxPool2dGrad: Pool2dAttrs;
  avgPool2d: Pool2dAttrs;
  avgPool2dGrad: Pool2dGradAttrs;
}

// ------------------------------------------------------------ validation

function checkFloat(op: string, t: TensorType, arg: string): void {
  if (!isFloat(t.dtype)) throw new OpError(op, `Received: ${arg} with dtype ${t.dtype}; expected float32 or float64.`);
}

function checkSameDType(op: string, a: TensorType, b: TensorType, an: string, bn: string): void {
  if (a.dtype !== b.dtype) {
    throw new OpError(op, `Received: ${an} with dtype ${a.dtype} and ${bn} with dtype ${b.dtype}; both must have the same dtype.`);
  }
}

function checkRank4(op: string, t: TensorType, arg: string, layout: string): void {
  if (t.shape.length !== 4) {
    throw new OpError(op, `Received: ${arg} of shape ${formatShape(t.shape)}; expected a rank-4 tensor ${layout}.`);
  }
}

function checkPositiveInts(op: string, name: string, v: readonly number[], n = 2): void {
  if (!Array.isArray(v) || v.length !== n || v.some((x) => !Number.isInteger(x) || x < 1)) {
    throw new OpError(op, `Received: ${name}=${JSON.stringify(v)}; expected ${n} positive integers.`);
  }
}

function checkPadding(op: string, padding: string): void {
  if (padding !== 'valid' && padding !== 'same') {
    throw new OpError(op, `Received: padding=${JSON.stringify(padding)}; expected 'valid' or 'same'.`);
  }
}

function checkConvAttrs(op: string, { strides, padding, dilations, groups }: Conv2dAttrs): void {
  checkPositiveInts(op, 'strides', strides);
  checkPositiveInts(op, 'dilations', dilations);
  checkPadding(op, padding);
  if (!Number.isInteger(groups) || groups < 1) throw new OpError(op, `Received: groups=${groups}; expected a positive integer.`);
}

/** Checks a known kernel [kh, kw, cg, O] against the groups. */
function checkKernel(op: string, w: TensorType, groups: number, arg = 'kernel'): [number, number, number, number] {
  checkRank4(op, w, arg, '(kernel_height, kernel_width, in_channels / groups, out_channels)');
  if (w.shape.some((d) => d === null)) throw new OpError(op, `Received: ${arg} of shape ${formatShape(w.shape)}; the kernel shape must be fully known.`);
  const [kh, kw, cg, o] = w.shape as number[];
  if (kh < 1 || kw < 1 || cg < 1) throw new OpError(op, `Received: ${arg} of shape ${formatShape(w.shape)}; kernel sizes and channel counts must be positive.`);
  if (o % groups !== 0) {
    throw new OpError(op, `Received: ${arg} of shape ${formatShape(w.shape)} with groups=${groups}; the number of output channels (${o}) must be divisible by groups.`);
  }
  return [kh, kw, cg, o];
}

/** Output spatial size of a convolution or pool; errors when a 'valid' window does not fit. */
function spatialOut(op: string, input: Shape, arg: string, k: readonly number[], strides: readonly number[], dilations: readonly number[], padding: Padding): [Dim, Dim] {
  return [0, 1].map((i) => {
    const size = input[1 + i];
    const dk = (k[i] - 1) * dilations[i] + 1;
    if (padding === 'valid' && size !== null && size < dk) {
      const axis = i === 0 ? 'height' : 'width';
      throw new OpError(
        op,
        `Received: ${arg} of shape ${formatShape(input)} with a window ${axis} of ${k[i]}${dilations[i] > 1 ? ` (dilated to ${dk})` : ''} and padding='valid'; the input ${axis} ${size} is smaller than the window.`,
      );
    }
    return windowOutputSize(size, k[i], strides[i], dilations[i], padding);
  }) as [Dim, Dim];
}

function checkInputSize(op: string, inputSize: readonly number[]): void {
  if (!Array.isArray(inputSize) || inputSize.length !== 2 || inputSize.some((x) => !Number.isInteger(x) || x < 0)) {
    throw new OpError(op, `Received: inputSize=${JSON.stringify(inputSize)}; expected [height, width] as non-negative integers.`);
  }
}

/** dy's spatial dims must be what the forward op gives for `inputSize`. */
function checkGradSpatial(op: string, dy: TensorType, inputSize: readonly number[], k: readonly number[], strides: readonly number[], dilations: readonly number[], padding: Padding): void {
  const expected = spatialOut(op, [null, inputSize[0], inputSize[1], null], 'inputSize', k, strides, dilations, padding);
  for (let i = 0; i < 2; i++) {
    const d = dy.shape[1 + i];
    if (d !== null && d !== expected[i]) {
      throw new OpError(
        op,
        `Received: dy of shape ${formatShape(dy.shape)}; the forward op on an input of size ${inputSize[0]}x${inputSize[1]} (window ${k.join('x')}, strides ${strides.join('x')}, padding='${padding}') gives ${expected[0]}x${expected[1]}.`,
      );
    }
  }
}

function checkPoolAttrs(op: string, { poolSize, strides, padding }: Pool2dAttrs): void {
  checkPositiveInts(op, 'poolSize', poolSize);
  checkPositiveInts(op, 'strides', strides);
  checkPadding(op, padding);
}

// ------------------------------------------------------------ helpers for gradient rules

const convAttrs = ({ strides, padding, dilations, groups }: Conv2dAttrs): Conv2dAttrs => ({ strides, padding, dilations, groups });
const poolAttrs = ({ poolSize, strides, padding }: Pool2dAttrs): Pool2dAttrs => ({ poolSize, strides, padding });

function knownSpatial(op: string, x: Tensor, what: string): number[] {
  const [h, w] = [x.shape[1], x.shape[2]];
  if (h === null || w === null) {
    throw new OpError(op, `the gradient needs the ${what}'s height and width, but its shape is ${formatShape(x.shape)}. Trace with known spatial dimensions.`);
  }
  return [h, w];
}

const conv2d = (x: Tensor, w: Tensor, attrs: Conv2dAttrs): Tensor => dispatch1(nnOps.conv2d, [x, w], convAttrs(attrs));
const backpropInput = (dy: Tensor, w: Tensor, attrs: Conv2dAttrs, inputSize: number[]): Tensor =>
  dispatch1(nnOps.conv2dBackpropInput, [dy, w], { ...convAttrs(attrs), inputSize });
const backpropFilter = (x: Tensor, dy: Tensor, attrs: Conv2dAttrs, filterSize: number[]): Tensor =>
  dispatch1(nnOps.conv2dBackpropFilter, [x, dy], { ...convAttrs(attrs), filterSize });
const maxPoolGrad = (x: Tensor, dy: Tensor, attrs: Pool2dAttrs): Tensor => dispatch1(nnOps.maxPool2dGrad, [x, dy], poolAttrs(attrs));
const avgPool = (x: Tensor, attrs: Pool2dAttrs): Tensor => dispatch1(nnOps.avgPool2d, [x], poolAttrs(attrs));
const avgPoolGrad = (dy: Tensor, attrs: Pool2dAttrs, inputSize: number[]): Tensor =>
  dispatch1(nnOps.avgPool2dGrad, [dy], { ...poolAttrs(attrs), inputSize });

// ------------------------------------------------------------ lowering helpers

/**
 * maxPool2dGrad for windows that tile the input (strides = poolSize, 'valid'
 * padding, or 'same' where the size divides). Each of the ph*pw positions of
 * a window is one strided slice of the input; the first maximum in the
 * window's row-major order takes dy (as the eager kernel does on ties, and
 * skipping NaNs after the first position as it does), and the pieces are
 * interleaved back. ONNX Runtime's MaxPool with an Indices output
 * plus ScatterElements, the general path, cost about a third of a small
 * CNN's training step; this is a few passes of elementwise ops, with no
 * transposes. Needs known height, width and channels (the batch may be
 * unknown); null otherwise.
 */
function maxPoolGradByWindows(b: OnnxEmitter, x: string, dy: string, { shape, dtype }: TensorType, { poolSize, strides, padding }: Pool2dAttrs): string | null {
  const [, h, w, c] = shape;
  const [ph, pw] = poolSize;
  if (h === null || w === null || c === null || strides[0] !== ph || strides[1] !== pw || ph * pw > 16) return null;
  if (padding === 'same' && (h % ph !== 0 || w % pw !== 0)) return null;
  const [ho, wo] = [Math.floor(h / ph), Math.floor(w / pw)];
  if (ho === 0 || wo === 0) return null;
  const [hc, wc] = [ho * ph, wo * pw];
  // Window position (a, b) of every window: x[:, a::ph, b::pw, :] over the covered rows and columns.
  const slices: string[] = [];
  for (let a = 0; a < ph; a++) {
    for (let bb = 0; bb < pw; bb++) slices.push(b.op('Slice', [x, b.int64s([a, bb]), b.int64s([hc, wc]), b.int64s([1, 2]), b.int64s([ph, pw])]));
  }
  // The eager kernel's scan: position k takes over only where it is strictly greater than the
  // best so far, so a NaN never takes over (and a NaN at position 0 keeps dy there). ONNX's Max
  // propagates NaN and Equal(NaN, NaN) is false, so "first slice equal to Max" gave a window
  // holding any NaN no gradient at all.
  let best = slices[0];
  const overtakes = slices.slice(1).map((slice) => {
    const gt = b.op('Greater', [slice, best]);
    best = b.op('Where', [gt, slice, best]);
    return gt;
  });
  // Position k wins where it overtook and no later position did; position 0 where none did.
  const wins: (string | null)[] = slices.map(() => null);
  let later: string | null = null;
  for (let k = slices.length - 1; k >= 1; k--) {
    const gt = overtakes[k - 1];
    wins[k] = later === null ? gt : b.op('And', [gt, b.op('Not', [later])]);
    later = later === null ? gt : b.op('Or', [later, gt]);
  }
  // A 1x1 window has no choice to make (and no zero constant, which would be left unused).
  const zero = later === null ? null : b.scalar(0, dtype);
  const pieces = slices.map((_, k) => {
    const win = k > 0 ? wins[k] : later === null ? null : b.op('Not', [later]);
    return b.op('Reshape', [win === null || zero === null ? dy : b.op('Where', [win, dy, zero]), b.int64s([-1, ho, 1, wo, 1, c])]);
  });
  const rows = Array.from({ length: ph }, (_, a) => (pw === 1 ? pieces[a] : b.op('Concat', pieces.slice(a * pw, (a + 1) * pw), { axis: 4 })));
  const tiled = ph === 1 ? rows[0] : b.op('Concat', rows, { axis: 2 });
  const back = b.op('Reshape', [tiled, b.int64s([-1, hc, wc, c])]);
  // 'valid' drops the rows and columns that no window covers; their gradient is zero.
  return hc < h || wc < w ? b.op('Pad', [back, b.int64s([0, 0, 0, 0, 0, h - hc, w - wc, 0])]) : back;
}


const NHWC_TO_NCHW = [0, 3, 1, 2];
const NCHW_TO_NHWC = [0, 2, 3, 1];
/** [kh, kw, cg, O] -> [O, cg, kh, kw] (ONNX Conv's weight; also ConvTranspose's [C_in, C_out/group, kh, kw]). */
const HWIO_TO_OIHW = [3, 2, 0, 1];

const toNCHW = (b: OnnxEmitter, x: string) => b.op('Transpose', [x], { perm: NHWC_TO_NCHW });
const toNHWC = (b: OnnxEmitter, x: string) => b.op('Transpose', [x], { perm: NCHW_TO_NHWC });

/**
 * ONNX pads [top, left, bottom, right] for known spatial sizes (and for
 * unknown ones where the padding does not depend on the size).
 */
function onnxPadding(size: Shape, k: readonly number[], strides: readonly number[], dilations: readonly number[], padding: Padding): OnnxAttrs {
  const pads: number[][] = [];
  for (let i = 0; i < 2; i++) {
    const s = size[1 + i];
    if (s === null) {
      if (padding === 'valid') pads.push([0, 0]);
      else if (strides[i] === 1) {
        const total = (k[i] - 1) * dilations[i];
        pads.push([Math.floor(total / 2), total - Math.floor(total / 2)]);
      } else throw new Error('Internal error: size-dependent padding needs padForWindow.');
    } else pads.push(windowPads(s, k[i], strides[i], dilations[i], padding));
  }
  return { pads: [pads[0][0], pads[1][0], pads[0][1], pads[1][1]] };
}

/** 'same' padding with a stride > 1 along an axis of unknown size: the padding depends on the size. */
function needsDynamicPad(size: Shape, strides: readonly number[], padding: Padding): boolean {
  return padding === 'same' && [0, 1].some((i) => size[1 + i] === null && strides[i] > 1);
}

/**
 * The input (NHWC) and pads attribute for an ONNX Conv, MaxPool or
 * AveragePool. Where the padding depends on an unknown size, a Pad node
 * computes it at run time (TensorFlow's formula; auto_pad SAME_UPPER is
 * not used because ONNX Runtime rejects it with dilations and with a window
 * smaller than the stride) and the ONNX op gets no pads.
 */
function padForWindow(b: OnnxEmitter, x: string, size: Shape, k: readonly number[], strides: readonly number[], dilations: readonly number[], padding: Padding, padValue: number, dtype: DType): { input: string; attrs: OnnxAttrs } {
  if (!needsDynamicPad(size, strides, padding)) return { input: x, attrs: onnxPadding(size, k, strides, dilations, padding) };
  const shape = b.op('Shape', [x]);
  const before: string[] = [], after: string[] = [];
  for (let i = 0; i < 2; i++) {
    const s = size[1 + i];
    const dk = (k[i] - 1) * dilations[i] + 1;
    if (s !== null) {
      const [p0, p1] = windowPads(s, k[i], strides[i], dilations[i], padding);
      before.push(b.int64s([p0]));
      after.push(b.int64s([p1]));
      continue;
    }
    const len = b.op('Gather', [shape, b.int64s([1 + i])], { axis: 0 });
    const stride = b.int64s([strides[i]]);
    const out = b.op('Div', [b.op('Add', [len, b.int64s([strides[i] - 1])]), stride]);
    const needed = b.op('Sub', [b.op('Add', [b.op('Mul', [b.op('Sub', [out, b.int64s([1])]), stride]), b.int64s([dk])]), len]);
    const total = b.op('Max', [needed, b.int64s([0])]);
    const first = b.op('Div', [total, b.int64s([2])]);
    before.push(first);
    after.push(b.op('Sub', [total, first]));
  }
  const zero = b.int64s([0]);
  const pads = b.op('Concat', [zero, before[0], before[1], zero, zero, after[0], after[1], zero], { axis: 0 });
  return { input: b.op('Pad', [x, pads, b.scalar(padValue, dtype)], { mode: 'constant' }), attrs: { pads: [0, 0, 0, 0] } };
}

function requireFloat32(op: string, dtype: DType, onnxOp: string): void {
  if (dtype !== 'float32') {
    throw new OpError(
      op,
      `cannot lower a ${dtype} ${op} to ONNX: ONNX Runtime's CPU ${onnxOp} kernel supports float32 only. Cast the inputs to float32 (ops.cast) or run the function eagerly.`,
    );
  }
}

/** im2col patches [N, Ho, Wo, kh*kw*C] (order ki, kj, c) of a NHWC tensor, from Pad + strided Slices. */
function onnxPatches(b: OnnxEmitter, x: string, xShape: Shape, kh: number, kw: number, attrs: Conv2dAttrs, ho: number, wo: number): string {
  const [H, W] = [xShape[1] as number, xShape[2] as number];
  const [sh, sw] = attrs.strides;
  const [dh, dw] = attrs.dilations;
  const [pt, pb] = windowPads(H, kh, sh, dh, attrs.padding);
  const [pl, pr] = windowPads(W, kw, sw, dw, attrs.padding);
  const padded = pt + pb + pl + pr > 0 ? b.op('Pad', [x, b.int64s([0, pt, pl, 0, 0, pb, pr, 0])], { mode: 'constant' }) : x;
  const slices: string[] = [];
  for (let ki = 0; ki < kh; ki++) {
    for (let kj = 0; kj < kw; kj++) {
      const starts = [ki * dh, kj * dw];
      const ends = [ki * dh + (ho - 1) * sh + 1, kj * dw + (wo - 1) * sw + 1];
      slices.push(b.op('Slice', [padded, b.int64s(starts), b.int64s(ends), b.int64s([1, 2]), b.int64s([sh, sw])]));
    }
  }
  return slices.length === 1 ? slices[0] : b.op('Concat', slices, { axis: 3 });
}

/** conv2d as im2col patches times the kernel: one (batched, for groups) MatMul. Needs known spatial dims. */
function lowerConvIm2col(b: OnnxEmitter, x: string, w: string, attrs: Conv2dAttrs, xShape: Shape, [kh, kw, cg, o]: number[], outShape: Shape): string {
  const [ho, wo] = [outShape[1], outShape[2]];
  if (xShape[1] === null || xShape[2] === null || ho === null || wo === null) {
    throw new OpError('conv2d', `cannot lower a float64 conv2d with unknown spatial dimensions (inputs ${formatShape(xShape)}): ONNX Runtime has no float64 Conv, and the im2col lowering needs known sizes.`);
  }
  const G = attrs.groups, og = o / G, kg = kh * kw * cg;
  const patches = onnxPatches(b, x, xShape, kh, kw, attrs, ho, wo);
  if (G === 1) {
    return b.op('MatMul', [patches, b.op('Reshape', [w, b.int64s([kg, o])])]);
  }
  // patches [N, Ho, Wo, kh*kw*C] -> [N, Ho, Wo, G, 1, kh*kw*cg]; kernel -> [G, kh*kw*cg, og].
  const p = b.op('Transpose', [b.op('Reshape', [patches, b.int64s([-1, ho, wo, kh * kw, G, cg])])], { perm: [0, 1, 2, 4, 3, 5] });
  const p6 = b.op('Reshape', [p, b.int64s([-1, ho, wo, G, 1, kg])]);
  const k3 = b.op('Transpose', [b.op('Reshape', [w, b.int64s([kg, G, og])])], { perm: [1, 0, 2] });
  const y = b.op('MatMul', [p6, k3]);
  return b.op('Reshape', [y, b.int64s([-1, ho, wo, o])]);
}

// ------------------------------------------------------------ the ops

export const nnOps = defineOps<NnOpsAttrs>()({
  conv2d: {
    name: 'conv2d',
    infer: ([x, w], attrs) => {
      const op = 'conv2d';
      checkFloat(op, x, 'inputs');
      checkSameDType(op, x, w, 'inputs', 'kernel');
      checkConvAttrs(op, attrs);
      checkRank4(op, x, 'inputs', '(batch, height, width, channels)');
      const [kh, kw, cg, o] = checkKernel(op, w, attrs.groups);
      const c = x.shape[3];
      if (c !== null && c !== cg * attrs.groups) {
        throw new OpError(
          op,
          `Received: inputs with ${c} channels (shape ${formatShape(x.shape)}) and a kernel of shape ${formatShape(w.shape)} with groups=${attrs.groups}; ` +
            `expected ${cg * attrs.groups} input channels (kernel in_channels ${cg} x groups ${attrs.groups}).`,
        );
      }
      const [ho, wo] = spatialOut(op, x.shape, 'inputs', [kh, kw], attrs.strides, attrs.dilations, attrs.padding);
      return [{ shape: [x.shape[0], ho, wo, o], dtype: x.dtype }];
    },
    kernel: ([x, w], attrs) => {
      const g = convGeometry(x.shape, w.shape, attrs.strides, attrs.dilations, attrs.padding, attrs.groups);
      return [conv2dValues(x.values, w.values, g, x.dtype)];
    },
    grad: ({ inputs: [x, w], dys: [dy], attrs, needsInputGrad }) => [
      needsInputGrad[0] ? backpropInput(dy, w, attrs, knownSpatial('conv2d', x, 'input')) : null,
      needsInputGrad[1] ? backpropFilter(x, dy, attrs, [w.shape[0] as number, w.shape[1] as number]) : null,
    ],
    toOnnx: (b, [x, w], attrs, { inputs: [tx, tw], outputs: [tout] }) => {
      const [kh, kw] = tw.shape as number[];
      // ONNX Runtime's CPU Conv is float32 only: float64 goes through im2col + MatMul.
      if (tx.dtype === 'float64') return [lowerConvIm2col(b, x, w, attrs, tx.shape, tw.shape as number[], tout.shape)];
      const { input, attrs: pads } = padForWindow(b, x, tx.shape, [kh, kw], attrs.strides, attrs.dilations, attrs.padding, 0, tx.dtype);
      const y = b.op('Conv', [toNCHW(b, input), b.op('Transpose', [w], { perm: HWIO_TO_OIHW })], {
        kernel_shape: [kh, kw],
        strides: [...attrs.strides],
        dilations: [...attrs.dilations],
        group: attrs.groups,
        ...pads,
      });
      return [toNHWC(b, y)];
    },
  },

  conv2dBackpropInput: {
    name: 'conv2dBackpropInput',
    infer: ([dy, w], attrs) => {
      const op = 'conv2dBackpropInput';
      checkFloat(op, dy, 'dy');
      checkSameDType(op, dy, w, 'dy', 'kernel');
      checkConvAttrs(op, attrs);
      checkInputSize(op, attrs.inputSize);
      checkRank4(op, dy, 'dy', '(batch, height, width, channels)');
      const [kh, kw, cg, o] = checkKernel(op, w, attrs.groups);
      if (dy.shape[3] !== null && dy.shape[3] !== o) {
        throw new OpError(op, `Received: dy with ${dy.shape[3]} channels (shape ${formatShape(dy.shape)}) and a kernel of shape ${formatShape(w.shape)}; expected ${o} channels (the kernel's last dimension).`);
      }
      checkGradSpatial(op, dy, attrs.inputSize, [kh, kw], attrs.strides, attrs.dilations, attrs.padding);
      return [{ shape: [dy.shape[0], attrs.inputSize[0], attrs.inputSize[1], cg * attrs.groups], dtype: dy.dtype }];
    },
    kernel: ([dy, w], attrs, [out]) => {
      const g = convGeometry(out.shape, w.shape, attrs.strides, attrs.dilations, attrs.padding, attrs.groups);
      return [conv2dBackpropInputValues(dy.values, w.values, g, dy.dtype)];
    },
    // Linear in dy and in w: d(dy) = conv2d(g, w), dw = filter gradient of conv2d(g, .) against dy.
    grad: ({ inputs: [dy, w], dys: [g], attrs, needsInputGrad }) => [
      needsInputGrad[0] ? conv2d(g, w, attrs) : null,
      needsInputGrad[1] ? backpropFilter(g, dy, attrs, [w.shape[0] as number, w.shape[1] as number]) : null,
    ],
    toOnnx: (b, [dy, w], attrs, { inputs: [tdy, tw] }) => {
      requireFloat32('conv2dBackpropInput', tdy.dtype, 'ConvTranspose');
      const [kh, kw] = tw.shape as number[];
      const [H, W] = attrs.inputSize;
      const k = [kh, kw];
      const pads = [0, 1].map((i) => windowPads(attrs.inputSize[i], k[i], attrs.strides[i], attrs.dilations[i], attrs.padding));
      const outSize = [0, 1].map((i) => windowOutputSize(attrs.inputSize[i], k[i], attrs.strides[i], attrs.dilations[i], attrs.padding) as number);
      // ConvTranspose gives s*(in-1) + (k-1)*d + 1 - pads; output_padding adds the rows the forward conv skipped.
      const outputPadding = [H, W].map((size, i) => size - (attrs.strides[i] * (outSize[i] - 1) + (k[i] - 1) * attrs.dilations[i] + 1 - pads[i][0] - pads[i][1]));
      const y = b.op('ConvTranspose', [toNCHW(b, dy), b.op('Transpose', [w], { perm: HWIO_TO_OIHW })], {
        kernel_shape: k,
        strides: [...attrs.strides],
        dilations: [...attrs.dilations],
        group: attrs.groups,
        pads: [pads[0][0], pads[1][0], pads[0][1], pads[1][1]],
        output_padding: outputPadding,
      });
      return [toNHWC(b, y)];
    },
  },

  conv2dBackpropFilter: {
    name: 'conv2dBackpropFilter',
    infer: ([x, dy], attrs) => {
      const op = 'conv2dBackpropFilter';
      checkFloat(op, x, 'inputs');
      checkSameDType(op, x, dy, 'inputs', 'dy');
      checkConvAttrs(op, attrs);
      checkPositiveInts(op, 'filterSize', attrs.filterSize);
      checkRank4(op, x, 'inputs', '(batch, height, width, channels)');
      checkRank4(op, dy, 'dy', '(batch, height, width, channels)');
      const [c, o] = [x.shape[3], dy.shape[3]];
      if (c !== null && c % attrs.groups !== 0) {
        throw new OpError(op, `Received: inputs with ${c} channels and groups=${attrs.groups}; the channels must be divisible by groups.`);
      }
      if (o !== null && o % attrs.groups !== 0) {
        throw new OpError(op, `Received: dy with ${o} channels and groups=${attrs.groups}; the channels must be divisible by groups.`);
      }
      const [ho, wo] = spatialOut(op, x.shape, 'inputs', attrs.filterSize, attrs.strides, attrs.dilations, attrs.padding);
      if ((dy.shape[1] !== null && ho !== null && dy.shape[1] !== ho) || (dy.shape[2] !== null && wo !== null && dy.shape[2] !== wo)) {
        throw new OpError(op, `Received: inputs of shape ${formatShape(x.shape)} and dy of shape ${formatShape(dy.shape)}; the convolution gives spatial size ${ho}x${wo}.`);
      }
      return [{ shape: [attrs.filterSize[0], attrs.filterSize[1], c === null ? null : c / attrs.groups, o], dtype: x.dtype }];
    },
    kernel: ([x, dy], attrs) => {
      const [kh, kw] = attrs.filterSize;
      const g = convGeometry(x.shape, [kh, kw, x.shape[3] / attrs.groups, dy.shape[3]], attrs.strides, attrs.dilations, attrs.padding, attrs.groups);
      return [conv2dBackpropFilterValues(x.values, dy.values, g, x.dtype)];
    },
    // Linear in x and in dy: dx = input gradient of conv2d(., g) at dy, d(dy) = conv2d(x, g).
    grad: ({ inputs: [x, dy], dys: [g], attrs, needsInputGrad }) => [
      needsInputGrad[0] ? backpropInput(dy, g, attrs, knownSpatial('conv2dBackpropFilter', x, 'input')) : null,
      needsInputGrad[1] ? conv2d(x, g, attrs) : null,
    ],
    // im2col (Pad + strided Slices + Concat) and one batched MatMul per group:
    // dw[g] = patches[g]^T dy[g]. Works in float64 too (no Conv kernel involved).
    toOnnx: (b, [x, dy], attrs, { inputs: [tx, tdy], outputs: [tout] }) => {
      const op = 'conv2dBackpropFilter';
      const [kh, kw] = attrs.filterSize;
      const [ho, wo] = spatialOut(op, tx.shape, 'inputs', attrs.filterSize, attrs.strides, attrs.dilations, attrs.padding);
      const [c, o] = [tx.shape[3], tdy.shape[3]];
      if (ho === null || wo === null || c === null || o === null) {
        throw new OpError(op, `cannot lower with unknown spatial or channel dimensions (inputs ${formatShape(tx.shape)}, dy ${formatShape(tdy.shape)}).`);
      }
      const G = attrs.groups, cg = c / G, og = o / G, kg = kh * kw * cg;
      const patches = onnxPatches(b, x, tx.shape, kh, kw, attrs, ho, wo);
      let dw: string;
      if (G === 1) {
        const cols = b.op('Reshape', [patches, b.int64s([-1, kg])]);
        const dy2 = b.op('Reshape', [dy, b.int64s([-1, o])]);
        dw = b.op('MatMul', [b.op('Transpose', [cols], { perm: [1, 0] }), dy2]);
      } else {
        const cols = b.op('Transpose', [b.op('Reshape', [patches, b.int64s([-1, kh * kw, G, cg])])], { perm: [2, 1, 3, 0] });
        const cols3 = b.op('Reshape', [cols, b.int64s([G, kg, -1])]);
        const dy3 = b.op('Transpose', [b.op('Reshape', [dy, b.int64s([-1, G, og])])], { perm: [1, 0, 2] });
        const prod = b.op('MatMul', [cols3, dy3]);
        dw = b.op('Transpose', [b.op('Reshape', [prod, b.int64s([G, kh, kw, cg, og])])], { perm: [1, 2, 3, 0, 4] });
      }
      return [b.op('Reshape', [dw, b.int64s(tout.shape as number[])])];
    },
  },

  maxPool2d: {
    name: 'maxPool2d',
    infer: ([x], attrs) => {
      const op = 'maxPool2d';
      checkFloat(op, x, 'inputs');
      checkPoolAttrs(op, attrs);
      checkRank4(op, x, 'inputs', '(batch, height, width, channels)');
      const [ho, wo] = spatialOut(op, x.shape, 'inputs', attrs.poolSize, attrs.strides, [1, 1], attrs.padding);
      return [{ shape: [x.shape[0], ho, wo, x.shape[3]], dtype: x.dtype }];
    },
    kernel: ([x], attrs) => [maxPool2dValues(x.values, poolGeometry(x.shape, attrs.poolSize, attrs.strides, attrs.padding), x.dtype)],
    grad: ({ inputs: [x], dys: [dy], attrs }) => [maxPoolGrad(x, dy, attrs)],
    toOnnx: (b, [x], attrs, { inputs: [tx] }) => {
      const { input, attrs: pads } = padForWindow(b, x, tx.shape, attrs.poolSize, attrs.strides, [1, 1], attrs.padding, -Infinity, tx.dtype);
      const y = b.op('MaxPool', [toNCHW(b, input)], {
        kernel_shape: [...attrs.poolSize],
        strides: [...attrs.strides],
        ...pads,
      });
      return [toNHWC(b, y)];
    },
  },

  maxPool2dGrad: {
    name: 'maxPool2dGrad',
    infer: ([x, dy], attrs) => {
      const op = 'maxPool2dGrad';
      checkFloat(op, x, 'inputs');
      checkSameDType(op, x, dy, 'inputs', 'dy');
      checkPoolAttrs(op, attrs);
      checkRank4(op, x, 'inputs', '(batch, height, width, channels)');
      checkRank4(op, dy, 'dy', '(batch, height, width, channels)');
      const [ho, wo] = spatialOut(op, x.shape, 'inputs', attrs.poolSize, attrs.strides, [1, 1], attrs.padding);
      const expected = [x.shape[0], ho, wo, x.shape[3]];
      if (dy.shape.some((d, i) => d !== null && expected[i] !== null && d !== expected[i])) {
        throw new OpError(op, `Received: dy of shape ${formatShape(dy.shape)}; pooling inputs of shape ${formatShape(x.shape)} gives ${formatShape(expected)}.`);
      }
      return [{ shape: x.shape, dtype: x.dtype }];
    },
    kernel: ([x, dy], attrs) => [maxPool2dGradValues(x.values, dy.values, poolGeometry(x.shape, attrs.poolSize, attrs.strides, attrs.padding), x.dtype)],
    grad: nonDifferentiable('second-order gradient of maxPool is not implemented'),
    // Non-overlapping windows (the usual pool 2 / stride 2) take the fast path; otherwise
    // MaxPool's Indices index the flattened NCHW input and dy is scatter-added there.
    toOnnx: (b, [x, dy], attrs, { inputs: [tx] }) => {
      const fast = maxPoolGradByWindows(b, x, dy, tx, attrs);
      if (fast !== null) return [fast];
      if (needsDynamicPad(tx.shape, attrs.strides, attrs.padding)) {
        throw new OpError('maxPool2dGrad', `cannot lower with padding='same', strides > 1 and unknown spatial dimensions (inputs ${formatShape(tx.shape)}): the pooling indices would point into a padded copy. Trace with known height and width.`);
      }
      const xn = toNCHW(b, x);
      const [, indices] = b.node('MaxPool', [xn], {
        kernel_shape: [...attrs.poolSize],
        strides: [...attrs.strides],
        ...onnxPadding(tx.shape, attrs.poolSize, attrs.strides, [1, 1], attrs.padding),
      }, { outputs: 2 });
      const flat = b.int64s([-1]);
      const zeros = b.op('Expand', [b.scalar(0, tx.dtype), b.op('Shape', [b.op('Reshape', [xn, flat])])]);
      const summed = b.op('ScatterElements', [zeros, b.op('Reshape', [indices, flat]), b.op('Reshape', [toNCHW(b, dy), flat])], { axis: 0, reduction: 'add' });
      return [toNHWC(b, b.op('Reshape', [summed, b.op('Shape', [xn])]))];
    },
  },

  avgPool2d: {
    name: 'avgPool2d',
    infer: ([x], attrs) => {
      const op = 'avgPool2d';
      checkFloat(op, x, 'inputs');
      checkPoolAttrs(op, attrs);
      checkRank4(op, x, 'inputs', '(batch, height, width, channels)');
      const [ho, wo] = spatialOut(op, x.shape, 'inputs', attrs.poolSize, attrs.strides, [1, 1], attrs.padding);
      return [{ shape: [x.shape[0], ho, wo, x.shape[3]], dtype: x.dtype }];
    },
    kernel: ([x], attrs) => [avgPool2dValues(x.values, poolGeometry(x.shape, attrs.poolSize, attrs.strides, attrs.padding), x.dtype)],
    grad: ({ inputs: [x], dys: [dy], attrs }) => [avgPoolGrad(dy, attrs, knownSpatial('avgPool2d', x, 'input'))],
    toOnnx: (b, [x], attrs, { inputs: [tx] }) => {
      requireFloat32('avgPool2d', tx.dtype, 'AveragePool');
      const pool = (t: string, pads: OnnxAttrs, countPad: number) =>
        b.op('AveragePool', [toNCHW(b, t)], { kernel_shape: [...attrs.poolSize], strides: [...attrs.strides], count_include_pad: countPad, ...pads });
      if (!needsDynamicPad(tx.shape, attrs.strides, attrs.padding)) {
        return [toNHWC(b, pool(x, onnxPadding(tx.shape, attrs.poolSize, attrs.strides, [1, 1], attrs.padding), 0))];
      }
      // Size-dependent padding, added by a Pad node: average with the zeros, then divide by the
      // share of real elements per window (the same pooling of a padded [1, H, W, 1] of ones).
      const window = (t: string) => padForWindow(b, t, tx.shape, attrs.poolSize, attrs.strides, [1, 1], attrs.padding, 0, tx.dtype);
      const padded = window(x);
      const hw = b.op('Slice', [b.op('Shape', [x]), b.int64s([1]), b.int64s([3])]);
      const ones = b.op('Expand', [b.scalar(1, tx.dtype), b.op('Concat', [b.int64s([1]), hw, b.int64s([1])], { axis: 0 })]);
      const share = window(ones);
      const y = b.op('Div', [pool(padded.input, padded.attrs, 1), pool(share.input, share.attrs, 1)]);
      return [toNHWC(b, y)];
    },
  },

  avgPool2dGrad: {
    name: 'avgPool2dGrad',
    infer: ([dy], attrs) => {
      const op = 'avgPool2dGrad';
      checkFloat(op, dy, 'dy');
      checkPoolAttrs(op, attrs);
      checkInputSize(op, attrs.inputSize);
      checkRank4(op, dy, 'dy', '(batch, height, width, channels)');
      checkGradSpatial(op, dy, attrs.inputSize, attrs.poolSize, attrs.strides, [1, 1], attrs.padding);
      return [{ shape: [dy.shape[0], attrs.inputSize[0], attrs.inputSize[1], dy.shape[3]], dtype: dy.dtype }];
    },
    kernel: ([dy], attrs, [out]) => [avgPool2dGradValues(dy.values, poolGeometry(out.shape, attrs.poolSize, attrs.strides, attrs.padding), dy.dtype)],
    // Linear in dy; its adjoint is average pooling itself.
    grad: ({ dys: [g], attrs }) => [avgPool(g, attrs)],
    // dy / count (a constant: the window sizes are known), spread back by a
    // depthwise ConvTranspose with a kernel of ones.
    toOnnx: (b, [dy], attrs, { inputs: [tdy] }) => {
      const op = 'avgPool2dGrad';
      requireFloat32(op, tdy.dtype, 'ConvTranspose');
      const C = tdy.shape[3];
      if (C === null) throw new OpError(op, `cannot lower with an unknown channel count (dy ${formatShape(tdy.shape)}).`);
      const [H, W] = attrs.inputSize;
      const [ph, pw] = attrs.poolSize;
      const [sh, sw] = attrs.strides;
      const [pt, pb] = windowPads(H, ph, sh, 1, attrs.padding);
      const [pl, pr] = windowPads(W, pw, sw, 1, attrs.padding);
      const ho = windowOutputSize(H, ph, sh, 1, attrs.padding) as number;
      const wo = windowOutputSize(W, pw, sw, 1, attrs.padding) as number;
      const inv = new Float32Array(ho * wo);
      for (let i = 0; i < ho; i++) {
        const rows = Math.min(i * sh - pt + ph, H) - Math.max(i * sh - pt, 0);
        for (let j = 0; j < wo; j++) {
          const cols = Math.min(j * sw - pl + pw, W) - Math.max(j * sw - pl, 0);
          inv[i * wo + j] = 1 / (rows * cols);
        }
      }
      const scaled = b.op('Mul', [toNCHW(b, dy), b.constant(inv, [1, 1, ho, wo], 'float32')]);
      const ones = b.constant(new Float32Array(C * ph * pw).fill(1), [C, 1, ph, pw], 'float32');
      const outputPadding = [H - (sh * (ho - 1) + ph - pt - pb), W - (sw * (wo - 1) + pw - pl - pr)];
      const y = b.op('ConvTranspose', [scaled, ones], {
        kernel_shape: [ph, pw],
        strides: [sh, sw],
        group: C,
        pads: [pt, pl, pb, pr],
        output_padding: outputPadding,
      });
      return [toNHWC(b, y)];
    },
  },
});
