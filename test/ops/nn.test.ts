import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as ops from '../../src/ops/index.ts';
import { tensor } from '../../src/tensor/create.ts';
import { Tensor } from '../../src/tensor/tensor.ts';
import type { Shape } from '../../src/tensor/shape.ts';
import type { DType } from '../../src/tensor/dtype.ts';
import { dispatch1 } from '../../src/engine/dispatch.ts';
import { type Tracer, withTracer } from '../../src/engine/tracing.ts';
import type { OpDef } from '../../src/engine/op.ts';
import { ONNX_TYPE } from '../../src/engine/onnx-types.ts';
import { GradientTape } from '../../src/autodiff/tape.ts';
import { nnOps, type Conv2dAttrs, type Pool2dAttrs } from '../../src/ops/defs/nn.ts';
import { OnnxGraphBuilder } from '../../src/graph/onnx/builder.ts';
import { encodeModel, type ValueInfoProtoObject } from '../../src/graph/onnx/proto.ts';
import { createSession, fromOrtTensor, loadOrt, toOrtTensor } from '../../src/graph/executors/ort.ts';
import { assertClose, randomTensor } from '../helpers/close.ts';
import { checkGradients } from '../helpers/gradcheck.ts';
import { runLowered } from '../helpers/onnx.ts';
import { assertGraphMatchesEager } from '../helpers/graph.ts';

const f64 = (shape: number[], seed: number, lo = -1, hi = 1) => randomTensor(shape, seed, lo, hi, 'float64');
const f32 = (shape: number[], seed: number) => randomTensor(shape, seed, -1, 1, 'float32');

// ------------------------------------------------------------ naive references (NHWC, written independently)

/** TensorFlow's padding before/after along one axis. */
function refPads(size: number, k: number, s: number, d: number, padding: string): [number, number] {
  if (padding === 'valid') return [0, 0];
  const eff = (k - 1) * d + 1;
  const out = Math.ceil(size / s);
  const total = Math.max(0, (out - 1) * s + eff - size);
  return [Math.floor(total / 2), total - Math.floor(total / 2)];
}
function refOutSize(size: number, k: number, s: number, d: number, padding: string): number {
  return padding === 'same' ? Math.ceil(size / s) : Math.floor((size - ((k - 1) * d + 1)) / s) + 1;
}

interface Geo { strides: number[]; padding: string; dilations: number[] }

/** y[n, oh, ow, o] = sum x[n, oh*s + ki*d - pad, ...] * w[ki, kj, c, o] within o's group. */
function refConv2d(x: Tensor, w: Tensor, { strides, padding, dilations }: Geo): { shape: number[]; values: number[] } {
  const [N, H, W, C] = x.shape as number[];
  const [kh, kw, cg, O] = w.shape as number[];
  const groups = C / cg, og = O / groups;
  const [pt] = refPads(H, kh, strides[0], dilations[0], padding);
  const [pl] = refPads(W, kw, strides[1], dilations[1], padding);
  const Ho = refOutSize(H, kh, strides[0], dilations[0], padding), Wo = refOutSize(W, kw, strides[1], dilations[1], padding);
  const xv = x.dataSync(), wv = w.dataSync();
  const values: number[] = [];
  for (let n = 0; n < N; n++) for (let oh = 0; oh < Ho; oh++) for (let ow = 0; ow < Wo; ow++) for (let o = 0; o < O; o++) {
    const g = Math.floor(o / og);
    let s = 0;
    for (let i = 0; i < kh; i++) for (let j = 0; j < kw; j++) {
      const h = oh * strides[0] + i * dilations[0] - pt, ww = ow * strides[1] + j * dilations[1] - pl;
      if (h < 0 || h >= H || ww < 0 || ww >= W) continue;
      for (let c = 0; c < cg; c++) s += xv[((n * H + h) * W + ww) * C + g * cg + c] * wv[((i * kw + j) * cg + c) * O + o];
    }
    values.push(s);
  }
  return { shape: [N, Ho, Wo, O], values };
}

/** Transposed conv by scattering: out[n, h*s + i*d - pad, ...] += x[n, h, ...] * w[i, j, oc, ic]. */
function refConvTranspose2d(x: Tensor, w: Tensor, outSize: number[], { strides, padding, dilations }: Geo): { shape: number[]; values: number[] } {
  const [N, H, W, Cin] = x.shape as number[];
  const [kh, kw, Cout] = w.shape as number[];
  const [Ho, Wo] = outSize;
  const [pt] = refPads(Ho, kh, strides[0], dilations[0], padding);
  const [pl] = refPads(Wo, kw, strides[1], dilations[1], padding);
  const out = new Array<number>(N * Ho * Wo * Cout).fill(0);
  const xv = x.dataSync(), wv = w.dataSync();
  for (let n = 0; n < N; n++) for (let h = 0; h < H; h++) for (let ww = 0; ww < W; ww++) for (let ic = 0; ic < Cin; ic++) {
    for (let i = 0; i < kh; i++) for (let j = 0; j < kw; j++) {
      const oh = h * strides[0] + i * dilations[0] - pt, ow = ww * strides[1] + j * dilations[1] - pl;
      if (oh < 0 || oh >= Ho || ow < 0 || ow >= Wo) continue;
      for (let oc = 0; oc < Cout; oc++) out[((n * Ho + oh) * Wo + ow) * Cout + oc] += xv[((n * H + h) * W + ww) * Cin + ic] * wv[((i * kw + j) * Cout + oc) * Cin + ic];
    }
  }
  return { shape: [N, Ho, Wo, Cout], values: out };
}

function refPool2d(x: Tensor, pool: number[], strides: number[], padding: string, mode: 'max' | 'avg'): { shape: number[]; values: number[] } {
  const [N, H, W, C] = x.shape as number[];
  const [pt] = refPads(H, pool[0], strides[0], 1, padding);
  const [pl] = refPads(W, pool[1], strides[1], 1, padding);
  const Ho = refOutSize(H, pool[0], strides[0], 1, padding), Wo = refOutSize(W, pool[1], strides[1], 1, padding);
  const xv = x.dataSync();
  const values: number[] = [];
  for (let n = 0; n < N; n++) for (let oh = 0; oh < Ho; oh++) for (let ow = 0; ow < Wo; ow++) for (let c = 0; c < C; c++) {
    let best = -Infinity, sum = 0, count = 0;
    for (let i = 0; i < pool[0]; i++) for (let j = 0; j < pool[1]; j++) {
      const h = oh * strides[0] + i - pt, ww = ow * strides[1] + j - pl;
      if (h < 0 || h >= H || ww < 0 || ww >= W) continue;
      const v = xv[((n * H + h) * W + ww) * C + c];
      best = Math.max(best, v);
      sum += v;
      count++;
    }
    values.push(mode === 'max' ? best : sum / count);
  }
  return { shape: [N, Ho, Wo, C], values };
}

/** Runs a channels_last 2-D reference on 1-D or channels_first inputs (the test's own layout plumbing). */
function asNHWC(x: Tensor, channelsFirst: boolean): Tensor {
  const t = channelsFirst ? ops.transpose(x, x.rank === 3 ? [0, 2, 1] : [0, 2, 3, 1]) : x;
  return t.rank === 3 ? ops.expandDims(t, 1) : t;
}
function fromNHWC(ref: { shape: number[]; values: number[] }, rank: number, channelsFirst: boolean): Tensor {
  let t = tensor(Float64Array.from(ref.values), ref.shape);
  if (rank === 3) t = ops.squeeze(t, 1);
  if (channelsFirst) t = ops.transpose(t, rank === 3 ? [0, 2, 1] : [0, 3, 1, 2]);
  return t;
}
const pad2 = (v: readonly number[], rank: number): number[] => (rank === 3 ? [1, v[0]] : [...v]);

// ------------------------------------------------------------ cases

interface ConvCase {
  label: string;
  x: number[];
  k: number[];
  strides?: number[];
  padding?: 'valid' | 'same';
  dilation?: number[];
  channelsFirst?: boolean;
  /** Too large for a finite-difference check. */
  big?: boolean;
}

const convCases: ConvCase[] = [
  { label: '2-D valid', x: [2, 5, 6, 3], k: [3, 3, 3, 4] },
  { label: "'same' odd input, stride 2", x: [1, 7, 7, 2], k: [3, 3, 2, 3], strides: [2, 2], padding: 'same' },
  { label: "'same' even input, even kernel, stride 2", x: [1, 6, 8, 2], k: [3, 2, 2, 3], strides: [2, 2], padding: 'same' },
  { label: "dilation 2 'same'", x: [1, 7, 6, 2], k: [3, 3, 2, 2], dilation: [2, 2], padding: 'same' },
  { label: 'stride 2 and dilation 2, valid', x: [1, 9, 8, 2], k: [2, 3, 2, 2], strides: [2, 1], dilation: [2, 2] },
  { label: 'groups 2', x: [1, 5, 5, 4], k: [3, 3, 2, 6], padding: 'same' },
  { label: 'single input channel (depthwise path)', x: [2, 5, 5, 1], k: [3, 3, 1, 3], strides: [2, 2], padding: 'same' },
  { label: '1x1', x: [2, 3, 3, 5], k: [1, 1, 5, 7] },
  { label: "'same' with a kernel larger than the input", x: [1, 2, 3, 2], k: [5, 4, 2, 2], padding: 'same' },
  { label: "'same' with a kernel smaller than the stride (no padding)", x: [1, 8, 7, 2], k: [1, 2, 2, 3], strides: [3, 3], padding: 'same' },
  { label: '1-D same stride 2', x: [2, 9, 3], k: [3, 3, 4], strides: [2], padding: 'same' },
  { label: '1-D dilation 3', x: [1, 10, 2], k: [3, 2, 2], dilation: [3] },
  { label: 'channels_first', x: [1, 3, 5, 6], k: [3, 3, 3, 2], strides: [2, 2], padding: 'same', channelsFirst: true },
  { label: 'several im2col chunks, blocked matmul', x: [4, 20, 20, 8], k: [3, 3, 8, 16], padding: 'same', big: true },
  { label: 'large grouped', x: [2, 9, 9, 16], k: [3, 3, 4, 12], strides: [2, 2], padding: 'same', big: true },
];

function convArgs(c: ConvCase, seed = 1, make = f64) {
  return { x: make(c.x, seed), w: make(c.k, seed + 1), opts: { strides: c.strides ?? 1, padding: c.padding ?? 'valid', dilationRate: c.dilation ?? 1, dataFormat: c.channelsFirst ? 'channels_first' as const : undefined } };
}

function geo(c: { strides?: number[]; padding?: string; dilation?: number[] }, rank: number): Geo {
  return { strides: pad2(c.strides ?? (rank === 3 ? [1] : [1, 1]), rank), padding: c.padding ?? 'valid', dilations: pad2(c.dilation ?? (rank === 3 ? [1] : [1, 1]), rank) };
}

/** The primitive attrs of a (2-D, channels_last) conv case. */
function convAttrs(c: ConvCase): Conv2dAttrs {
  const g = geo(c, 4);
  return { strides: g.strides, padding: g.padding as 'valid' | 'same', dilations: g.dilations, groups: c.x[3] / c.k[2] };
}

interface DepthwiseCase { label: string; x: number[]; k: number[]; strides?: number[]; padding?: 'valid' | 'same'; dilation?: number[] }
const depthwiseCases: DepthwiseCase[] = [
  { label: 'multiplier 2, same, stride 2', x: [1, 6, 6, 3], k: [3, 3, 3, 2], strides: [2, 2], padding: 'same' },
  { label: 'multiplier 1, dilation 2', x: [2, 7, 6, 4], k: [2, 3, 4, 1], dilation: [2, 2] },
  { label: '1-D', x: [2, 8, 3], k: [3, 3, 2], padding: 'same' },
];

/** Depthwise reference: a grouped conv with the kernel reshaped to (kh, kw, 1, C * mult). */
function refDepthwise(x: Tensor, w: Tensor, c: DepthwiseCase): Tensor {
  const rank = x.rank;
  const w4 = rank === 3 ? ops.expandDims(w, 0) : w;
  const [kh, kw, C, mult] = w4.shape as number[];
  return fromNHWC(refConv2d(asNHWC(x, false), ops.reshape(w4, [kh, kw, 1, C * mult]), geo(c, rank)), rank, false);
}

interface TransposeCase { label: string; x: number[]; k: number[]; strides: number[]; padding: 'valid' | 'same'; outputPadding?: number[]; dilation?: number[]; out: number[] }
const transposeCases: TransposeCase[] = [
  { label: 'stride 2 valid', x: [1, 3, 3, 2], k: [3, 3, 4, 2], strides: [2, 2], padding: 'valid', out: [7, 7] },
  { label: 'stride 2 same', x: [2, 3, 4, 2], k: [3, 3, 3, 2], strides: [2, 2], padding: 'same', out: [6, 8] },
  { label: 'stride 2 same, outputPadding 1', x: [1, 3, 3, 2], k: [3, 3, 2, 2], strides: [2, 2], padding: 'same', outputPadding: [1, 1], out: [6, 6] },
  { label: 'stride 3 valid, kernel 2, outputPadding [0, 2]', x: [1, 2, 3, 1], k: [2, 2, 2, 1], strides: [3, 3], padding: 'valid', outputPadding: [0, 2], out: [5, 10] },
  { label: 'dilation 2', x: [1, 4, 4, 2], k: [3, 3, 2, 2], strides: [1, 1], padding: 'valid', dilation: [2, 2], out: [8, 8] },
];

interface PoolCase { label: string; x: number[]; pool: number[]; strides?: number[]; padding?: 'valid' | 'same'; channelsFirst?: boolean }
const poolCases: PoolCase[] = [
  { label: '2x2 stride 2 valid', x: [2, 4, 6, 3], pool: [2, 2] },
  { label: "3x3 stride 2 'same', odd input", x: [1, 7, 5, 2], pool: [3, 3], strides: [2, 2], padding: 'same' },
  { label: "2x2 stride 1 'same', even input", x: [1, 4, 4, 2], pool: [2, 2], strides: [1, 1], padding: 'same' },
  { label: 'overlapping 3x3 stride 1', x: [1, 5, 5, 2], pool: [3, 3], strides: [1, 1] },
  { label: '(2, 3) pool, (1, 2) strides', x: [1, 5, 7, 2], pool: [2, 3], strides: [1, 2], padding: 'same' },
  { label: '1-D', x: [2, 9, 3], pool: [3], strides: [2], padding: 'same' },
  { label: "pool smaller than the stride, 'same'", x: [1, 8, 7, 2], pool: [2, 1], strides: [3, 3], padding: 'same' },
  { label: 'channels_first', x: [1, 2, 5, 5], pool: [2, 2], padding: 'same', channelsFirst: true },
];

function poolAttrs(c: PoolCase): Pool2dAttrs {
  return { poolSize: c.pool, strides: c.strides ?? c.pool, padding: c.padding ?? 'valid' };
}
const poolOpts = (c: PoolCase) => ({ strides: c.strides, padding: c.padding, dataFormat: c.channelsFirst ? 'channels_first' as const : undefined });

// ------------------------------------------------------------ forward values

describe('conv: forward values against naive loops', () => {
  for (const c of convCases) {
    it(c.label, () => {
      const { x, w, opts } = convArgs(c);
      const expected = fromNHWC(refConv2d(asNHWC(x, !!c.channelsFirst), x.rank === 3 ? ops.expandDims(w, 0) : w, geo(c, x.rank)), x.rank, !!c.channelsFirst);
      assertClose(ops.conv(x, w, opts), expected, { rtol: 1e-12, atol: 1e-12 }, c.label);
      const y32 = ops.conv(ops.cast(x, 'float32'), ops.cast(w, 'float32'), opts);
      assert.equal(y32.dtype, 'float32');
      assertClose(y32, expected, { rtol: 1e-4, atol: 1e-5 }, `${c.label} float32`);
    });
  }
  it('hand-computed 1-D case', () => {
    // x = [1, 2, 3, 4], kernel [1, 0, -1]: valid gives x[i] - x[i + 2].
    const y = ops.conv(tensor([1, 2, 3, 4], [1, 4, 1]), tensor([1, 0, -1], [3, 1, 1]));
    assert.deepEqual([...y.dataSync()], [-2, -2]);
    const same = ops.conv(tensor([1, 2, 3, 4], [1, 4, 1]), tensor([1, 0, -1], [3, 1, 1]), { padding: 'same' });
    assert.deepEqual([...same.dataSync()], [-2, -2, -2, 3]);
  });
  for (const c of depthwiseCases) {
    it(`depthwiseConv ${c.label}`, () => {
      const x = f64(c.x, 3), w = f64(c.k, 4);
      const y = ops.depthwiseConv(x, w, { strides: c.strides, padding: c.padding, dilationRate: c.dilation });
      assertClose(y, refDepthwise(x, w, c), { rtol: 1e-12, atol: 1e-12 }, c.label);
    });
  }
  it('separableConv is depthwise then pointwise', () => {
    const x = f64([1, 5, 5, 2], 1), dw = f64([3, 3, 2, 2], 2), pw = f64([1, 1, 4, 3], 3);
    const y = ops.separableConv(x, dw, pw, { padding: 'same' });
    const expected = refConv2d(refDepthwise(x, dw, { label: '', x: [], k: [], padding: 'same' }), pw, { strides: [1, 1], padding: 'valid', dilations: [1, 1] });
    assertClose(y, expected.values, { rtol: 1e-12, atol: 1e-12 });
  });
  for (const c of transposeCases) {
    it(`convTranspose ${c.label}`, () => {
      const x = f64(c.x, 5), w = f64(c.k, 6);
      const y = ops.convTranspose(x, w, { strides: c.strides, padding: c.padding, outputPadding: c.outputPadding, dilationRate: c.dilation });
      assert.deepEqual(y.shape.slice(1, 3), c.out, 'Keras output length');
      const expected = refConvTranspose2d(x, w, c.out, { strides: c.strides, padding: c.padding, dilations: c.dilation ?? [1, 1] });
      assertClose(y, expected.values, { rtol: 1e-12, atol: 1e-12 }, c.label);
    });
  }
  it('convTranspose hand-computed 1-D cases', () => {
    const x = tensor([1, 2], [1, 2, 1]), w = tensor([1, 1, 1], [3, 1, 1]);
    assert.deepEqual([...ops.convTranspose(x, w, { strides: 2 }).dataSync()], [1, 1, 3, 2, 2]);
    assert.deepEqual([...ops.convTranspose(x, w, { strides: 2, padding: 'same' }).dataSync()], [1, 1, 3, 2]);
    // channels_first: (batch, channels, length)
    const y = ops.convTranspose(tensor([1, 2], [1, 1, 2]), w, { strides: 2, dataFormat: 'channels_first' });
    assert.deepEqual(y.shape, [1, 1, 5]);
  });
  it('empty batch', () => {
    assert.deepEqual(ops.conv(f64([0, 5, 5, 2], 1), f64([3, 3, 2, 4], 2), { padding: 'same', strides: 2 }).shape, [0, 3, 3, 4]);
    assert.deepEqual(ops.depthwiseConv(f64([0, 5, 5, 2], 1), f64([3, 3, 2, 1], 2)).shape, [0, 3, 3, 2]);
    assert.deepEqual(ops.maxPool(f64([0, 4, 4, 2], 1), 2).shape, [0, 2, 2, 2]);
  });
});

describe('pooling: forward values against naive loops', () => {
  for (const c of poolCases) {
    for (const mode of ['max', 'avg'] as const) {
      it(`${mode} ${c.label}`, () => {
        const x = f64(c.x, 7);
        const fn = mode === 'max' ? ops.maxPool : ops.averagePool;
        const y = fn(x, c.pool, poolOpts(c));
        const a = poolAttrs(c);
        const expected = fromNHWC(refPool2d(asNHWC(x, !!c.channelsFirst), pad2(a.poolSize, x.rank), pad2(a.strides, x.rank), a.padding, mode), x.rank, !!c.channelsFirst);
        assertClose(y, expected, { rtol: 1e-12, atol: 1e-12 }, c.label);
      });
    }
  }
  it("hand-computed 'same' average excludes the padding", () => {
    const x = tensor([1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 3, 3, 1]);
    const y = ops.averagePool(x, 2, { strides: 1, padding: 'same' });
    assert.deepEqual([...y.dataSync()], [3, 4, 4.5, 6, 7, 7.5, 7.5, 8.5, 9]);
    assert.deepEqual([...ops.maxPool(x, 2, { strides: 1, padding: 'same' }).dataSync()], [5, 6, 6, 8, 9, 9, 8, 9, 9]);
    assert.deepEqual([...ops.maxPool(tensor([-5, -3, -4, -1], [1, 4, 1]), 3, { strides: 2, padding: 'same' }).dataSync()], [-3, -1]);
  });
  it('int32 inputs are pooled as float32', () => {
    const y = ops.averagePool(tensor([1, 2, 3, 4], [1, 4, 1], 'int32'), 2);
    assert.equal(y.dtype, 'float32');
    assert.deepEqual([...y.dataSync()], [1.5, 3.5]);
  });
});

describe('batchNormalization and moments', () => {
  it('batchNormalization applies the inference formula along the axis', () => {
    const x = f64([2, 3, 4], 1);
    const [mean, variance, offset, scale] = [f64([3], 2), f64([3], 3, 0.5, 2), f64([3], 4), f64([3], 5)];
    const y = ops.batchNormalization(x, mean, variance, 1, { offset, scale, epsilon: 0.01 });
    const xv = x.dataSync(), mv = mean.dataSync(), vv = variance.dataSync(), ov = offset.dataSync(), sv = scale.dataSync();
    const expected = [...xv].map((v, i) => {
      const c = Math.floor(i / 4) % 3;
      return ((v - mv[c]) / Math.sqrt(vv[c] + 0.01)) * sv[c] + ov[c];
    });
    assertClose(y, expected, { rtol: 1e-12, atol: 1e-12 });
    const plain = ops.batchNormalization(x, mean, variance, 1);
    assertClose(plain, [...xv].map((v, i) => (v - mv[Math.floor(i / 4) % 3]) / Math.sqrt(vv[Math.floor(i / 4) % 3] + 1e-3)), { rtol: 1e-12, atol: 1e-12 });
    const last = ops.batchNormalization(ops.transpose(x, [0, 2, 1]), mean, variance, -1, { offset, scale, epsilon: 0.01 });
    assertClose(last, ops.transpose(y, [0, 2, 1]), { rtol: 1e-12, atol: 1e-12 });
  });
  it('moments gives the mean and the population variance', () => {
    const x = f64([3, 4, 2], 9, -3, 5);
    const [mean, variance] = ops.moments(x, [0, 2]);
    assert.deepEqual(mean.shape, [4]);
    const xv = x.dataSync();
    for (let j = 0; j < 4; j++) {
      const vals: number[] = [];
      for (let i = 0; i < 3; i++) for (let k = 0; k < 2; k++) vals.push(xv[(i * 4 + j) * 2 + k]);
      const mu = vals.reduce((p, v) => p + v, 0) / vals.length;
      const v2 = vals.reduce((p, v) => p + (v - mu) ** 2, 0) / vals.length;
      assertClose(mean.dataSync()[j], mu, { rtol: 1e-12 });
      assertClose(variance.dataSync()[j], v2, { rtol: 1e-12 });
    }
    const [mk, vk] = ops.moments(x, -1, true);
    assert.deepEqual(mk.shape, [3, 4, 1]);
    assert.deepEqual(vk.shape, [3, 4, 1]);
    // Stable for a large offset.
    const [, vBig] = ops.moments(ops.add(tensor(new Float32Array([1, 2, 3, 4])), 1e4), 0);
    assertClose(vBig, 1.25, { rtol: 1e-6 });
  });
});

// ------------------------------------------------------------ gradients

describe('nn: gradients against finite differences (float64)', () => {
  for (const c of convCases.filter((c) => !c.big)) {
    it(`conv ${c.label}`, () => {
      const { x, w, opts } = convArgs(c);
      checkGradients((a, b) => ops.conv(a, b, opts), [x, w], {}, c.label);
    });
  }
  for (const c of depthwiseCases) {
    it(`depthwiseConv ${c.label}`, () => {
      checkGradients((a, b) => ops.depthwiseConv(a, b, { strides: c.strides, padding: c.padding, dilationRate: c.dilation }), [f64(c.x, 3), f64(c.k, 4)], {}, c.label);
    });
  }
  for (const c of transposeCases.slice(0, 4)) {
    it(`convTranspose ${c.label}`, () => {
      checkGradients((a, b) => ops.convTranspose(a, b, { strides: c.strides, padding: c.padding, outputPadding: c.outputPadding, dilationRate: c.dilation }), [f64(c.x, 5), f64(c.k, 6)], {}, c.label);
    });
  }
  // The backward primitives are bilinear; their own gradient rules use each other.
  const bwd: ConvCase[] = [convCases[1], convCases[2], convCases[4], convCases[5], convCases[6]];
  for (const c of bwd) {
    it(`conv2dBackpropInput and conv2dBackpropFilter (second order): ${c.label}`, () => {
      const attrs = convAttrs(c);
      const x = f64(c.x, 1), w = f64(c.k, 2);
      const dy = f64(ops.conv(x, w, { strides: attrs.strides, padding: attrs.padding, dilationRate: attrs.dilations }).shape as number[], 3);
      checkGradients((g, k) => dispatch1(nnOps.conv2dBackpropInput, [g, k], { ...attrs, inputSize: [c.x[1], c.x[2]] }), [dy, w], {}, `${c.label} input`);
      checkGradients((a, g) => dispatch1(nnOps.conv2dBackpropFilter, [a, g], { ...attrs, filterSize: [c.k[0], c.k[1]] }), [x, dy], {}, `${c.label} filter`);
    });
  }
  for (const c of poolCases) {
    it(`maxPool and averagePool ${c.label}`, () => {
      checkGradients((a) => ops.maxPool(a, c.pool, poolOpts(c)), [f64(c.x, 8)], {}, `max ${c.label}`);
      checkGradients((a) => ops.averagePool(a, c.pool, poolOpts(c)), [f64(c.x, 8)], {}, `avg ${c.label}`);
    });
  }
  it('avgPool2dGrad (second order)', () => {
    for (const c of [poolCases[1], poolCases[4]]) {
      const attrs = poolAttrs(c);
      const dy = f64(ops.averagePool(f64(c.x, 1), c.pool, poolOpts(c)).shape as number[], 2);
      checkGradients((g) => dispatch1(nnOps.avgPool2dGrad, [g], { ...attrs, inputSize: [c.x[1], c.x[2]] }), [dy], {}, c.label);
    }
  });
  it('maxPool2dGrad has no gradient, with a reason', () => {
    const x = f64([1, 4, 4, 1], 1), dy = f64([1, 2, 2, 1], 2);
    const tape = new GradientTape();
    const loss = tape.record(() => ops.sum(dispatch1(nnOps.maxPool2dGrad, [x, dy], { poolSize: [2, 2], strides: [2, 2], padding: 'valid' })));
    assert.equal(tape.gradient(loss, [dy])[0], null);
    assert.match(tape.whyNull(dy)?.message ?? '', /non-differentiable op 'maxPool2dGrad' .*second-order gradient of maxPool is not implemented/);
  });
  it('batchNormalization with respect to every input', () => {
    checkGradients(
      (x, mean, variance, offset, scale) => ops.batchNormalization(x, mean, variance, 1, { offset, scale }),
      [f64([2, 3, 2], 1), f64([3], 2), f64([3], 3, 0.5, 2), f64([3], 4), f64([3], 5)],
    );
  });
  it('moments (both outputs)', () => {
    checkGradients((x) => ops.moments(x, [0, 2]), [f64([3, 2, 4], 1)]);
    checkGradients((x) => ops.moments(x, 1, true), [f64([2, 5], 2)]);
  });
  it('the first layer needs no input gradient', () => {
    const x = f64([1, 5, 5, 2], 1), w = f64([3, 3, 2, 2], 2);
    const tape = new GradientTape();
    const loss = tape.record(() => ops.sum(ops.conv(x, w)));
    const [gw] = tape.gradient(loss, [w]);
    assert.deepEqual(gw?.shape, [3, 3, 2, 2]);
  });
});

// ------------------------------------------------------------ ONNX lowering

/** runLowered with explicit (possibly unknown) input dims in the graph's signature. */
async function runLoweredWithTypes<A>(def: OpDef<A>, inputs: Tensor[], types: { shape: Shape; dtype: DType }[], attrs: A): Promise<Tensor[]> {
  const outTypes = def.infer(types, attrs);
  const b = new OnnxGraphBuilder();
  const names = inputs.map((_, i) => `in${i}`);
  const outs = def.toOnnx(b, names, attrs, { inputs: types, outputs: outTypes });
  outs.forEach((o, i) => b.nodes.push({ input: [o], output: [`out${i}`], name: `out${i}`, opType: 'Identity', attribute: [] }));
  const info = (name: string, t: { shape: Shape; dtype: DType }): ValueInfoProtoObject => ({
    name,
    type: { tensorType: { elemType: ONNX_TYPE[t.dtype], shape: { dim: t.shape.map((d, i) => (d === null ? { dimParam: `${name}_d${i}` } : { dimValue: d })) } } },
  });
  const bytes = encodeModel({ name: def.name, node: b.nodes, initializer: b.initializers, input: types.map((t, i) => info(names[i], t)), output: outTypes.map((t, i) => info(`out${i}`, t)) });
  const ort = await loadOrt();
  const session = await createSession(bytes);
  const feeds = Object.fromEntries(inputs.map((t, i) => [names[i], toOrtTensor(ort, t.dataSync(), t.shape as number[], t.dtype)]));
  const results = await session.run(feeds);
  await session.release();
  return outs.map((_, i) => fromOrtTensor(results[`out${i}`]));
}

const conv2dCases = convCases.filter((c) => c.x.length === 4 && !c.channelsFirst);
const tol32 = { rtol: 1e-4, atol: 1e-5 };

describe('nn: ONNX lowering matches the eager kernel', () => {
  for (const c of conv2dCases) {
    it(`conv2d, conv2dBackpropInput, conv2dBackpropFilter: ${c.label}`, async () => {
      const attrs = convAttrs(c);
      const x = f32(c.x, 1), w = f32(c.k, 2);
      const y = dispatch1(nnOps.conv2d, [x, w], attrs);
      const [gy] = await runLowered(nnOps.conv2d, [x, w], attrs);
      assertClose(gy, y, tol32, 'conv2d');
      const dy = f32(y.shape as number[], 3);
      const inAttrs = { ...attrs, inputSize: [c.x[1], c.x[2]] };
      const [gdx] = await runLowered(nnOps.conv2dBackpropInput, [dy, w], inAttrs);
      assertClose(gdx, dispatch1(nnOps.conv2dBackpropInput, [dy, w], inAttrs), tol32, 'input grad');
      const fAttrs = { ...attrs, filterSize: [c.k[0], c.k[1]] };
      const [gdw] = await runLowered(nnOps.conv2dBackpropFilter, [x, dy], fAttrs);
      assertClose(gdw, dispatch1(nnOps.conv2dBackpropFilter, [x, dy], fAttrs), { rtol: 1e-4, atol: 1e-4 }, 'filter grad');
    });
  }
  it('float64 conv2d and conv2dBackpropFilter lower through im2col + MatMul', async () => {
    for (const c of [conv2dCases[1], conv2dCases[4], conv2dCases[5]]) {
      const attrs = convAttrs(c);
      const x = f64(c.x, 1), w = f64(c.k, 2);
      const y = dispatch1(nnOps.conv2d, [x, w], attrs);
      const [gy] = await runLowered(nnOps.conv2d, [x, w], attrs);
      assert.equal(gy.dtype, 'float64');
      assertClose(gy, y, { rtol: 1e-12, atol: 1e-12 }, c.label);
      const dy = f64(y.shape as number[], 3);
      const fAttrs = { ...attrs, filterSize: [c.k[0], c.k[1]] };
      const [gdw] = await runLowered(nnOps.conv2dBackpropFilter, [x, dy], fAttrs);
      assertClose(gdw, dispatch1(nnOps.conv2dBackpropFilter, [x, dy], fAttrs), { rtol: 1e-12, atol: 1e-12 }, c.label);
    }
  });
  it('float64 ops without an ONNX Runtime CPU kernel fail with a clear error', async () => {
    const attrs = { strides: [1, 1], padding: 'valid' as const, dilations: [1, 1], groups: 1, inputSize: [4, 4] };
    await assert.rejects(runLowered(nnOps.conv2dBackpropInput, [f64([1, 2, 2, 1], 1), f64([3, 3, 1, 1], 2)], attrs), /ops\.conv2dBackpropInput: cannot lower a float64 conv2dBackpropInput to ONNX: ONNX Runtime's CPU ConvTranspose kernel supports float32 only/);
    await assert.rejects(runLowered(nnOps.avgPool2d, [f64([1, 4, 4, 1], 1)], { poolSize: [2, 2], strides: [2, 2], padding: 'valid' }), /AveragePool kernel supports float32 only/);
  });
  for (const c of poolCases.filter((c) => c.x.length === 4 && !c.channelsFirst)) {
    it(`maxPool2d, maxPool2dGrad, avgPool2d, avgPool2dGrad: ${c.label}`, async () => {
      const attrs = poolAttrs(c);
      const x = f32(c.x, 4);
      for (const def of [nnOps.maxPool2d, nnOps.avgPool2d]) {
        const [g] = await runLowered(def, [x], attrs);
        assertClose(g, dispatch1(def, [x], attrs), tol32, def.name);
      }
      const dy = f32(dispatch1(nnOps.maxPool2d, [x], attrs).shape as number[], 5);
      const [gm] = await runLowered(nnOps.maxPool2dGrad, [x, dy], attrs);
      assertClose(gm, dispatch1(nnOps.maxPool2dGrad, [x, dy], attrs), tol32, 'maxPool2dGrad');
      const gAttrs = { ...attrs, inputSize: [c.x[1], c.x[2]] };
      const [ga] = await runLowered(nnOps.avgPool2dGrad, [dy], gAttrs);
      assertClose(ga, dispatch1(nnOps.avgPool2dGrad, [dy], gAttrs), tol32, 'avgPool2dGrad');
    });
  }
  it('maxPool2dGrad over tiling windows (pool = strides) lowers without MaxPool indices, and gives the first maximum of each window dy, ties included', async () => {
    // Few distinct values, so most windows hold ties; the eager kernel gives dy to the first maximum (as TensorFlow).
    const tied = (shape: number[], seed: number, dtype: 'float32' | 'float64' = 'float32') => {
      const r = randomTensor(shape, seed, 0, 3, 'float64');
      const values = Array.from(r.dataSync() as ArrayLike<number>, (v) => Math.floor(v));
      return new Tensor(shape, dtype, dtype === 'float64' ? Float64Array.from(values) : Float32Array.from(values));
    };
    const cases: { x: number[]; attrs: Pool2dAttrs; dtype?: 'float32' | 'float64' }[] = [
      { x: [3, 6, 8, 2], attrs: { poolSize: [2, 2], strides: [2, 2], padding: 'valid' } },
      { x: [2, 7, 5, 3], attrs: { poolSize: [2, 2], strides: [2, 2], padding: 'valid' } }, // rows and columns no window covers
      { x: [2, 6, 6, 1], attrs: { poolSize: [3, 3], strides: [3, 3], padding: 'same' } },
      { x: [2, 6, 5, 2], attrs: { poolSize: [2, 1], strides: [2, 1], padding: 'valid' } },
      { x: [1, 4, 4, 2], attrs: { poolSize: [2, 2], strides: [2, 2], padding: 'valid' }, dtype: 'float64' },
    ];
    for (const [i, c] of cases.entries()) {
      const x = tied(c.x, 10 + i, c.dtype);
      const dy = randomTensor(dispatch1(nnOps.maxPool2d, [x], c.attrs).shape as number[], 20 + i, -1, 1, c.dtype ?? 'float32');
      const expected = dispatch1(nnOps.maxPool2dGrad, [x, dy], c.attrs);
      const [g] = await runLowered(nnOps.maxPool2dGrad, [x, dy], c.attrs);
      assert.deepEqual([...g.dataSync()], [...expected.dataSync()], `case ${i}: ${JSON.stringify(c)}`);
      // An unknown batch keeps the fast path.
      const [gb] = await runLoweredWithTypes(nnOps.maxPool2dGrad, [x, dy], [{ shape: [null, ...c.x.slice(1)], dtype: x.dtype }, { shape: [null, ...dy.shape.slice(1)], dtype: x.dtype }], c.attrs);
      assert.deepEqual([...gb.dataSync()], [...expected.dataSync()], `case ${i} with an unknown batch`);
      const b = new OnnxGraphBuilder();
      nnOps.maxPool2dGrad.toOnnx!(b, ['x', 'dy'], c.attrs, { inputs: [x, dy], outputs: [{ shape: x.shape, dtype: x.dtype }] });
      const types = b.nodes.map((n) => n.opType);
      assert.ok(!types.includes('ScatterElements') && !types.includes('MaxPool'), `case ${i}: ${types.join(' ')}`);
    }
  });

  it('maxPool2dGrad over tiling windows skips NaNs as the eager kernel does (a later NaN never takes dy; one at the first position keeps it)', async () => {
    // The first version took "the first slice equal to Max(slices)": ONNX's Max propagates NaN and
    // NaN equals nothing, so every window holding a NaN lost its gradient (zeros instead of dy).
    const attrs: Pool2dAttrs = { poolSize: [2, 3], strides: [2, 3], padding: 'valid' };
    const values = Array.from({ length: 2 * 4 * 6 * 2 }, (_, i) => (i * 7) % 5);
    for (const i of [0, 1, 7, 13, 26, 47, 50, 95]) values[i] = NaN;
    for (const dtype of ['float32', 'float64'] as const) {
      const x = new Tensor([2, 4, 6, 2], dtype, dtype === 'float32' ? Float32Array.from(values) : Float64Array.from(values));
      const dy = randomTensor([2, 2, 2, 2], 3, -1, 1, dtype);
      const expected = dispatch1(nnOps.maxPool2dGrad, [x, dy], attrs);
      const [g] = await runLowered(nnOps.maxPool2dGrad, [x, dy], attrs);
      assert.deepEqual([...g.dataSync()], [...expected.dataSync()], dtype);
    }
    // A 1x1 window: the only position takes dy even where it is NaN.
    const one: Pool2dAttrs = { poolSize: [1, 1], strides: [1, 1], padding: 'valid' };
    const x1 = new Tensor([1, 1, 2, 1], 'float32', Float32Array.from([NaN, 1]));
    const dy1 = new Tensor([1, 1, 2, 1], 'float32', Float32Array.from([2, 3]));
    assert.deepEqual([...(await runLowered(nnOps.maxPool2dGrad, [x1, dy1], one))[0].dataSync()], [2, 3]);
  });

  it('maxPool2d and maxPool2dGrad in float64', async () => {
    const attrs = { poolSize: [3, 3], strides: [2, 2], padding: 'same' as const };
    const x = f64([1, 5, 5, 2], 1), dy = f64([1, 3, 3, 2], 2);
    const [g] = await runLowered(nnOps.maxPool2dGrad, [x, dy], attrs);
    assertClose(g, dispatch1(nnOps.maxPool2dGrad, [x, dy], attrs), { rtol: 1e-12, atol: 1e-12 });
  });
  it("unknown batch and spatial dims: 'same' padding with stride 2 matches TensorFlow's", async () => {
    const x = f32([2, 7, 6, 3], 1), w = f32([3, 3, 3, 4], 2);
    const unknown = { shape: [null, null, null, 3] as Shape, dtype: 'float32' as DType };
    for (const dilations of [[1, 1], [2, 1]]) {
      const attrs = { strides: [2, 2], padding: 'same' as const, dilations, groups: 1 };
      const [g] = await runLoweredWithTypes(nnOps.conv2d, [x, w], [unknown, { shape: [...w.shape], dtype: 'float32' }], attrs);
      assertClose(g, dispatch1(nnOps.conv2d, [x, w], attrs), tol32, `dilations ${dilations}`);
    }
    for (const pAttrs of [{ poolSize: [3, 3], strides: [2, 2], padding: 'same' as const }, { poolSize: [2, 1], strides: [3, 3], padding: 'same' as const }]) {
      for (const def of [nnOps.maxPool2d, nnOps.avgPool2d]) {
        const [g] = await runLoweredWithTypes(def, [x], [unknown], pAttrs);
        assertClose(g, dispatch1(def, [x], pAttrs), tol32, `${def.name} ${JSON.stringify(pAttrs)}`);
      }
    }
    await assert.rejects(
      runLoweredWithTypes(nnOps.maxPool2dGrad, [x, f32([2, 4, 3, 3], 3)], [unknown, { shape: [null, null, null, 3], dtype: 'float32' }], { poolSize: [3, 3], strides: [2, 2], padding: 'same' }),
      /ops\.maxPool2dGrad: cannot lower with padding='same', strides > 1 and unknown spatial dimensions/,
    );
    // Stride 1 'same' and 'valid' keep explicit pads with an unknown batch only.
    const attrs = { strides: [1, 1], padding: 'same' as const, dilations: [1, 1], groups: 1 };
    const [g1] = await runLoweredWithTypes(nnOps.conv2d, [x, w], [{ shape: [null, 7, 6, 3], dtype: 'float32' }, { shape: [...w.shape], dtype: 'float32' }], attrs);
    assertClose(g1, dispatch1(nnOps.conv2d, [x, w], attrs), tol32);
  });
});

describe('nn: compiled functions match eager mode', () => {
  it('a small conv net, forward and gradients (ONNX Runtime and the interpreter)', async () => {
    const f = (x: Tensor, w: Tensor, dw: Tensor, m: Tensor) => {
      const tape = new GradientTape();
      const loss = tape.record(() => {
        let h = ops.conv(x, w, { strides: 2, padding: 'same' });
        h = ops.depthwiseConv(h, dw, { padding: 'same', dilationRate: 2 });
        h = ops.maxPool(h, 2, { padding: 'same' });
        h = ops.averagePool(h, 2, { strides: 1, padding: 'same' });
        h = ops.convTranspose(h, w, { strides: 2, padding: 'same' });
        return ops.sum(ops.matmul(ops.reshape(h, [2, -1]), m));
      });
      return [loss, ...(tape.gradient(loss, [x, w, dw, m]) as Tensor[])];
    };
    await assertGraphMatchesEager(f, [f32([2, 8, 8, 3], 1), f32([3, 3, 3, 4], 2), f32([3, 3, 4, 1], 3), f32([48, 5], 4)], { rtol: 1e-4, atol: 1e-4 }, 'convnet');
  });
});

// ------------------------------------------------------------ shapes and errors

describe('nn: unknown dims and bad input', () => {
  const t = (shape: (number | null)[], dtype: DType = 'float32') => ({ shape, dtype });
  it('infer propagates unknown batch and spatial dims', () => {
    const attrs = { strides: [2, 2], padding: 'same' as const, dilations: [1, 1], groups: 1 };
    assert.deepEqual(nnOps.conv2d.infer([t([null, 28, 28, 1]), t([3, 3, 1, 8])], attrs)[0].shape, [null, 14, 14, 8]);
    assert.deepEqual(nnOps.conv2d.infer([t([null, null, 9, 1]), t([3, 3, 1, 8])], { ...attrs, padding: 'valid' })[0].shape, [null, null, 4, 8]);
    assert.deepEqual(nnOps.maxPool2d.infer([t([null, null, null, 5])], { poolSize: [2, 2], strides: [2, 2], padding: 'valid' })[0].shape, [null, null, null, 5]);
    assert.deepEqual(nnOps.conv2dBackpropInput.infer([t([null, 14, 14, 8]), t([3, 3, 1, 8])], { ...attrs, inputSize: [28, 28] })[0].shape, [null, 28, 28, 1]);
  });
  it('public functions propagate unknown dims while tracing, gradients included', () => {
    const fake: Tracer = {
      name: 'test',
      recordOp: (def, _inputs, _attrs, types) => types.map((ty) => new Tensor(ty.shape, ty.dtype, null, { traceName: 'test', producerName: def.name })),
      readVariable: () => { throw new Error('no variables'); },
      assignVariable: () => { throw new Error('no variables'); },
      variableCreated: () => {},
    };
    const sym = (shape: Shape) => new Tensor(shape, 'float32', null, { traceName: 'test', producerName: 'input' });
    withTracer(fake, () => {
      const x = sym([null, 28, 28, 3]);
      assert.deepEqual(ops.conv(x, sym([3, 3, 3, 8]), { strides: 2, padding: 'same' }).shape, [null, 14, 14, 8]);
      assert.deepEqual(ops.conv(sym([null, 3, null, null]), sym([3, 3, 3, 8]), { dataFormat: 'channels_first' }).shape, [null, 8, null, null]);
      assert.deepEqual(ops.conv(sym([null, null, 4]), sym([3, 4, 2]), { padding: 'same' }).shape, [null, null, 2]);
      assert.deepEqual(ops.depthwiseConv(x, sym([3, 3, 3, 2])).shape, [null, 26, 26, 6]);
      assert.deepEqual(ops.convTranspose(sym([null, 7, 7, 8]), sym([3, 3, 4, 8]), { strides: 2, padding: 'same' }).shape, [null, 14, 14, 4]);
      assert.deepEqual(ops.maxPool(x, 2).shape, [null, 14, 14, 3]);
      assert.deepEqual(ops.averagePool(sym([null, null, 5]), 3, { strides: 2, padding: 'same' }).shape, [null, null, 5]);
      assert.deepEqual(ops.batchNormalization(x, sym([3]), sym([3]), -1).shape, [null, 28, 28, 3]);
      assert.deepEqual(ops.moments(x, [0, 1, 2]).map((m) => m.shape), [[3], [3]]);
      const w = sym([3, 3, 3, 4]);
      const tape = new GradientTape();
      const loss = tape.record(() => ops.sum(ops.averagePool(ops.maxPool(ops.conv(x, w, { strides: 2, padding: 'same' }), 2), 2, { padding: 'same' })));
      const [gx, gw] = tape.gradient(loss, [x, w]);
      assert.deepEqual(gx?.shape, [null, 28, 28, 3]);
      assert.deepEqual(gw?.shape, [3, 3, 3, 4]);
    });
  });
  it('errors name the op, the argument and what was expected', () => {
    const x = f32([1, 5, 5, 3], 1);
    assert.throws(() => ops.conv(x, f32([3, 3, 2, 4], 2)), /ops\.conv: Received: inputs with 3 channels .* the kernel's in_channels \(2\) must equal the input channels or divide them/);
    assert.throws(() => ops.conv(x, f32([3, 3, 3], 2)), /ops\.conv: Received: kernel of shape \(3, 3, 3\) for 2-D inputs .* expected a rank-4 kernel/);
    assert.throws(() => ops.conv(f32([5, 5], 1), f32([3, 3, 1, 1], 2)), /ops\.conv: Received: inputs of shape \(5, 5\); expected a rank-3 .* or rank-4/);
    assert.throws(() => ops.conv(x, f32([3, 3, 3, 4], 2), { padding: 'full' as never }), /ops\.conv: Received: padding="full"; expected 'valid' or 'same'/);
    assert.throws(() => ops.conv(x, f32([3, 3, 3, 4], 2), { strides: 0 }), /ops\.conv: Received: strides=0; expected a positive integer/);
    assert.throws(() => ops.conv(x, f32([3, 3, 3, 4], 2), { dilationRate: [1, 2, 3] }), /dilationRate=\[1,2,3\]/);
    assert.throws(() => ops.conv(x, f32([6, 3, 3, 4], 2)), /ops\.conv2d: Received: inputs of shape \(1, 5, 5, 3\) with a window height of 6 and padding='valid'; the input height 5 is smaller than the window/);
    assert.throws(() => ops.conv(x, f32([3, 3, 3, 4], 2), { dilationRate: 3 }), /dilated to 7/);
    assert.throws(() => ops.conv(f32([1, 5, 5, 4], 1), f32([3, 3, 2, 3], 2)), /ops\.conv2d: .*output channels \(3\) must be divisible by groups/);
    assert.throws(() => dispatch1(nnOps.conv2d, [f32([1, 5, 5, 3], 1), f64([3, 3, 3, 4], 2)], { strides: [1, 1], padding: 'valid', dilations: [1, 1], groups: 1 }), /same dtype/);
    assert.throws(() => dispatch1(nnOps.conv2d, [tensor([1], [1, 1, 1, 1], 'int32'), tensor([1], [1, 1, 1, 1], 'int32')], { strides: [1, 1], padding: 'valid', dilations: [1, 1], groups: 1 }), /ops\.conv2d: Received: inputs with dtype int32; expected float32 or float64/);
    assert.throws(() => ops.depthwiseConv(x, f32([3, 3, 2, 1], 2)), /ops\.depthwiseConv: .*the kernel's in_channels \(2\) must equal the input channels/);
    assert.throws(() => ops.convTranspose(x, f32([3, 3, 4, 3], 2), { strides: 2, outputPadding: 2 }), /ops\.convTranspose: Received: outputPadding=2 with strides=\[2,2\]; expected non-negative integers smaller than the strides/);
    assert.throws(() => ops.convTranspose(x, f32([3, 3, 4, 2], 2)), /ops\.convTranspose: .*the kernel's last dimension \(in_channels, 2\) must equal the input channels/);
    assert.throws(() => ops.maxPool(x, [2, 2, 2]), /ops\.maxPool: Received: poolSize=\[2,2,2\]; expected a positive integer or 2 of them/);
    assert.throws(() => ops.averagePool(x, 6), /ops\.avgPool2d: .*window height of 6 and padding='valid'/);
    assert.throws(() => ops.maxPool(x, 2, { dataFormat: 'NCHW' as never }), /ops\.maxPool: Received: dataFormat="NCHW"/);
    assert.throws(() => ops.batchNormalization(f32([2, 3], 1), f32([4], 2), f32([3], 3), -1), /ops\.batchNormalization: Received: mean of shape \(4,\) for x of shape \(2, 3\) and axis=-1; expected 3 values/);
    assert.throws(() => ops.moments(f32([2, 3], 1), 2), /axis=2/);
    assert.throws(() => dispatch1(nnOps.conv2dBackpropInput, [f32([1, 3, 3, 1], 1), f32([3, 3, 1, 1], 2)], { strides: [1, 1], padding: 'valid', dilations: [1, 1], groups: 1, inputSize: [4, 4] }), /ops\.conv2dBackpropInput: Received: dy of shape \(1, 3, 3, 1\); the forward op on an input of size 4x4 .* gives 2x2/);
  });
});
