import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as strata from '../../src/index.ts';
import { Tensor, TensorSpec } from '../../src/tensor/tensor.ts';
import { runLayerTest } from '../helpers/layer-test.ts';
import { assertClose, randomTensor } from '../helpers/close.ts';
import { checkGradients } from '../helpers/gradcheck.ts';

const { layers, ops } = strata;

// ---------------------------------------------------------------------------
// Naive references (channels_last, float64), written from the definitions.

interface Window {
  strides?: number[];
  dilation?: number[];
  padding?: 'valid' | 'same';
}

function outSize(n: number, k: number, s: number, d: number, padding: 'valid' | 'same'): { size: number; before: number } {
  const dk = (k - 1) * d + 1;
  if (padding === 'valid') return { size: Math.floor((n - dk) / s) + 1, before: 0 };
  const size = Math.ceil(n / s);
  return { size, before: Math.floor(Math.max((size - 1) * s + dk - n, 0) / 2) };
}

/** y[n, oh, ow, f] = sum over the window and the group's channels of x * w. Kernel (kh, kw, C / groups, F). */
function naiveConv2d(x: Tensor, w: Tensor, { strides = [1, 1], dilation = [1, 1], padding = 'valid' }: Window = {}, groups = 1): Tensor {
  const [N, H, W, C] = x.shape as number[];
  const [KH, KW, CG, F] = w.shape as number[];
  const xv = x.dataSync();
  const wv = w.dataSync();
  const oh = outSize(H, KH, strides[0], dilation[0], padding);
  const ow = outSize(W, KW, strides[1], dilation[1], padding);
  assert.equal(CG * groups, C);
  const fpg = F / groups;
  const out = new Float64Array(N * oh.size * ow.size * F);
  for (let n = 0; n < N; n++)
    for (let i = 0; i < oh.size; i++)
      for (let j = 0; j < ow.size; j++)
        for (let f = 0; f < F; f++) {
          const g = Math.floor(f / fpg);
          let acc = 0;
          for (let a = 0; a < KH; a++)
            for (let b = 0; b < KW; b++) {
              const ih = i * strides[0] + a * dilation[0] - oh.before;
              const iw = j * strides[1] + b * dilation[1] - ow.before;
              if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
              for (let c = 0; c < CG; c++) acc += xv[((n * H + ih) * W + iw) * C + g * CG + c] * wv[((a * KW + b) * CG + c) * F + f];
            }
          out[((n * oh.size + i) * ow.size + j) * F + f] = acc;
        }
  return new Tensor([N, oh.size, ow.size, F], 'float64', out);
}

/** Depthwise: y[..., c * M + m] = sum over the window of x[..., c] * w[kh, kw, c, m]. */
function naiveDepthwise2d(x: Tensor, w: Tensor, win: Window = {}): Tensor {
  const [KH, KW, C, M] = w.shape as number[];
  // As a grouped convolution with one input channel per group: kernel (kh, kw, 1, C * M).
  const wv = w.dataSync();
  const g = new Float64Array(KH * KW * C * M);
  for (let a = 0; a < KH * KW; a++) for (let c = 0; c < C; c++) for (let m = 0; m < M; m++) g[a * C * M + c * M + m] = wv[(a * C + c) * M + m];
  return naiveConv2d(x, new Tensor([KH, KW, 1, C * M], 'float64', g), win, C);
}

/** Transposed convolution: every x[i] scatters x[i, c] * w[k, f, c] to y[i * s + k * d - pad]. Kernel (kh, kw, F, C). */
function naiveConvTranspose2d(x: Tensor, w: Tensor, outH: number, outW: number, { strides = [1, 1], dilation = [1, 1], padding = 'valid' }: Window = {}): Tensor {
  const [N, H, W, C] = x.shape as number[];
  const [KH, KW, F] = w.shape as number[];
  const xv = x.dataSync();
  const wv = w.dataSync();
  const pad = (inSize: number, out: number, k: number, s: number, d: number) => (padding === 'valid' ? 0 : Math.floor(Math.max((inSize - 1) * s + (k - 1) * d + 1 - out, 0) / 2));
  const pt = pad(H, outH, KH, strides[0], dilation[0]);
  const pl = pad(W, outW, KW, strides[1], dilation[1]);
  const out = new Float64Array(N * outH * outW * F);
  for (let n = 0; n < N; n++)
    for (let i = 0; i < H; i++)
      for (let j = 0; j < W; j++)
        for (let a = 0; a < KH; a++)
          for (let b = 0; b < KW; b++) {
            const y = i * strides[0] + a * dilation[0] - pt;
            const z = j * strides[1] + b * dilation[1] - pl;
            if (y < 0 || y >= outH || z < 0 || z >= outW) continue;
            for (let f = 0; f < F; f++) {
              let acc = 0;
              for (let c = 0; c < C; c++) acc += xv[((n * H + i) * W + j) * C + c] * wv[((a * KW + b) * F + f) * C + c];
              out[((n * outH + y) * outW + z) * F + f] += acc;
            }
          }
  return new Tensor([N, outH, outW, F], 'float64', out);
}

const addBias = (y: Tensor, b: Tensor) => ops.add(y, b);
const toChannelsFirst = (x: Tensor) => ops.transpose(x, x.rank === 4 ? [0, 3, 1, 2] : [0, 2, 1]);
const toChannelsLast = (x: Tensor) => ops.transpose(x, x.rank === 4 ? [0, 2, 3, 1] : [0, 2, 1]);
/** A 1-D input (N, L, C) as (N, 1, L, C). */
const seq2d = (x: Tensor) => ops.expandDims(x, 1);
/** A 1-D kernel (k, ...) as (1, k, ...). */
const kernel2d = (w: Tensor) => ops.expandDims(w, 0);

/** Builds a float64 layer on `x` and gives it seeded random weights. */
function withRandomWeights<L extends strata.layers.Layer>(layer: L, x: Tensor, seed = 11): { layer: L; weights: Tensor[] } {
  layer.apply(x);
  const weights = layer.weights.map((w, i) => randomTensor(w.shape as number[], seed + i, -1, 1, 'float64'));
  layer.setWeights(weights);
  return { layer, weights };
}

// ---------------------------------------------------------------------------

describe('layer test harness: convolution layers', () => {
  it('Conv1D', () => runLayerTest({ name: 'Conv1D', make: () => new layers.Conv1D(4, 3, { activation: 'relu' }), inputShape: [2, 7, 3], expectedOutputShape: [2, 5, 4], expectedTrainableWeights: 2, expectedNonTrainableWeights: 0, expectedWeightShapes: [[3, 3, 4], [4]] }));
  it('Conv1D causal, dilated', () => runLayerTest({ name: 'Conv1DCausal', make: () => new layers.Conv1D(3, 2, { padding: 'causal', dilationRate: 2 }), inputShape: [2, 6, 2], expectedOutputShape: [2, 6, 3], expectedWeightShapes: [[2, 2, 3], [3]] }));
  it('Conv1D channels_first, strides 2, same', () => runLayerTest({ name: 'Conv1DCF', make: () => new layers.Conv1D(4, 3, { dataFormat: 'channels_first', strides: 2, padding: 'same' }), inputShape: [2, 3, 7], expectedOutputShape: [2, 4, 4], expectedWeightShapes: [[3, 3, 4], [4]] }));
  it('Conv2D', () => runLayerTest({ name: 'Conv2D', make: () => new layers.Conv2D(3, 3, { activation: 'tanh' }), inputShape: [2, 5, 5, 2], expectedOutputShape: [2, 3, 3, 3], expectedTrainableWeights: 2, expectedNonTrainableWeights: 0, expectedWeightShapes: [[3, 3, 2, 3], [3]] }));
  it('Conv2D same padding, strides 2', () => runLayerTest({ name: 'Conv2DSame', make: () => new layers.Conv2D(3, [3, 2], { strides: 2, padding: 'same' }), inputShape: [2, 5, 6, 2], expectedOutputShape: [2, 3, 3, 3], expectedWeightShapes: [[3, 2, 2, 3], [3]] }));
  it('Conv2D dilated', () => runLayerTest({ name: 'Conv2DDilated', make: () => new layers.Conv2D(2, 2, { dilationRate: 2, useBias: false }), inputShape: [1, 6, 5, 2], expectedOutputShape: [1, 4, 3, 2], expectedTrainableWeights: 1, expectedWeightShapes: [[2, 2, 2, 2]] }));
  it('Conv2D channels_first', () => runLayerTest({ name: 'Conv2DCF', make: () => new layers.Conv2D(3, [3, 2], { dataFormat: 'channels_first' }), inputShape: [2, 2, 5, 4], expectedOutputShape: [2, 3, 3, 3], expectedWeightShapes: [[3, 2, 2, 3], [3]] }));
  it('Conv2D groups', () => runLayerTest({ name: 'Conv2DGroups', make: () => new layers.Conv2D(6, 2, { groups: 2 }), inputShape: [2, 4, 4, 4], expectedOutputShape: [2, 3, 3, 6], expectedWeightShapes: [[2, 2, 2, 6], [6]] }));
  it('Conv1DTranspose', () => runLayerTest({ name: 'Conv1DTranspose', make: () => new layers.Conv1DTranspose(3, 3), inputShape: [2, 4, 2], expectedOutputShape: [2, 6, 3], expectedWeightShapes: [[3, 3, 2], [3]] }));
  it('Conv2DTranspose, strides 2', () => runLayerTest({ name: 'Conv2DTranspose', make: () => new layers.Conv2DTranspose(3, 3, { strides: 2 }), inputShape: [2, 3, 3, 2], expectedOutputShape: [2, 7, 7, 3], expectedWeightShapes: [[3, 3, 3, 2], [3]] }));
  it('Conv2DTranspose same, outputPadding, channels_first', () => runLayerTest({ name: 'Conv2DTransposeOP', make: () => new layers.Conv2DTranspose(3, 3, { strides: 2, padding: 'same', outputPadding: 1, dataFormat: 'channels_first' }), inputShape: [1, 2, 3, 3], expectedOutputShape: [1, 3, 6, 6], expectedWeightShapes: [[3, 3, 3, 2], [3]] }));
  it('DepthwiseConv1D', () => runLayerTest({ name: 'DepthwiseConv1D', make: () => new layers.DepthwiseConv1D(3, { depthMultiplier: 2 }), inputShape: [2, 6, 3], expectedOutputShape: [2, 4, 6], expectedWeightShapes: [[3, 3, 2], [6]] }));
  it('DepthwiseConv2D', () => runLayerTest({ name: 'DepthwiseConv2D', make: () => new layers.DepthwiseConv2D(3, { depthMultiplier: 2, padding: 'same', strides: 2 }), inputShape: [2, 5, 5, 3], expectedOutputShape: [2, 3, 3, 6], expectedWeightShapes: [[3, 3, 3, 2], [6]] }));
  it('SeparableConv1D', () => runLayerTest({ name: 'SeparableConv1D', make: () => new layers.SeparableConv1D(4, 3), inputShape: [2, 6, 3], expectedOutputShape: [2, 4, 4], expectedWeightShapes: [[3, 3, 1], [1, 3, 4], [4]] }));
  it('SeparableConv2D', () => runLayerTest({ name: 'SeparableConv2D', make: () => new layers.SeparableConv2D(4, 3, { depthMultiplier: 2, padding: 'same', activation: 'relu' }), inputShape: [2, 4, 4, 3], expectedOutputShape: [2, 4, 4, 4], expectedTrainableWeights: 3, expectedWeightShapes: [[3, 3, 3, 2], [1, 1, 6, 4], [4]] }));
});

describe('convolution layers: forward values against naive loops', () => {
  const f64 = { dtype: 'float64' as const };

  it('Conv2D valid, same + strides, dilation, groups', () => {
    const x = randomTensor([2, 6, 5, 4], 1, -1, 1, 'float64');
    const cases: { options: strata.layers.Conv2DOptions; win: Window; groups?: number }[] = [
      { options: {}, win: {} },
      { options: { strides: 2, padding: 'same' }, win: { strides: [2, 2], padding: 'same' } },
      { options: { strides: [1, 2], padding: 'same' }, win: { strides: [1, 2], padding: 'same' } },
      { options: { dilationRate: [2, 1] }, win: { dilation: [2, 1] } },
      { options: { groups: 2 }, win: {}, groups: 2 },
    ];
    for (const { options, win, groups = 1 } of cases) {
      const { layer, weights } = withRandomWeights(new layers.Conv2D(4, [3, 2], { ...options, ...f64 }), x);
      const expected = addBias(naiveConv2d(x, weights[0], win, groups), weights[1]);
      assertClose(layer.apply(x), expected, { rtol: 1e-10, atol: 1e-12 }, JSON.stringify(options));
    }
  });

  it('Conv2D channels_first equals channels_last on transposed inputs', () => {
    const x = randomTensor([2, 5, 5, 3], 2, -1, 1, 'float64');
    const { layer, weights } = withRandomWeights(new layers.Conv2D(2, 3, { dataFormat: 'channels_first', padding: 'same', ...f64 }), toChannelsFirst(x));
    const expected = addBias(naiveConv2d(x, weights[0], { padding: 'same' }), weights[1]);
    assertClose(toChannelsLast(layer.apply(toChannelsFirst(x))), expected, { rtol: 1e-10, atol: 1e-12 });
  });

  it('Conv1D valid and strided, through the 2-D reference', () => {
    const x = randomTensor([2, 9, 3], 3, -1, 1, 'float64');
    const { layer, weights } = withRandomWeights(new layers.Conv1D(4, 3, { strides: 2, ...f64 }), x);
    const expected = ops.squeeze(naiveConv2d(seq2d(x), kernel2d(weights[0]), { strides: [1, 2] }), 1);
    assertClose(layer.apply(x), addBias(expected, weights[1]), { rtol: 1e-10, atol: 1e-12 });
  });

  it("Conv1D padding 'causal': output[t] depends only on inputs up to t", () => {
    const x = randomTensor([1, 7, 2], 4, -1, 1, 'float64');
    const k = 3;
    const d = 2;
    const { layer, weights } = withRandomWeights(new layers.Conv1D(2, k, { padding: 'causal', dilationRate: d, useBias: false, ...f64 }), x);
    const xv = x.dataSync();
    const wv = weights[0].dataSync();
    const expected = new Float64Array(7 * 2);
    for (let t = 0; t < 7; t++)
      for (let f = 0; f < 2; f++)
        for (let j = 0; j < k; j++) {
          const src = t - (k - 1 - j) * d;
          if (src >= 0) for (let c = 0; c < 2; c++) expected[t * 2 + f] += xv[src * 2 + c] * wv[(j * 2 + c) * 2 + f];
        }
    const y = layer.apply(x);
    assertClose(y, expected, { rtol: 1e-10, atol: 1e-12 });
    // Changing the last input step changes only the last output step.
    const x2 = x.dataSync().slice();
    x2[6 * 2] += 1;
    const y2 = layer.apply(new Tensor([1, 7, 2], 'float64', x2)).dataSync();
    const yv = y.dataSync();
    for (let i = 0; i < 12; i++) assert.equal(y2[i], yv[i], `step ${Math.floor(i / 2)} changed`);
    assert.notEqual(y2[12], yv[12]);
  });

  it('Conv2DTranspose valid, same, outputPadding', () => {
    const x = randomTensor([2, 3, 4, 2], 5, -1, 1, 'float64');
    const cases: { options: strata.layers.Conv2DTransposeOptions; win: Window; out: [number, number] }[] = [
      { options: { strides: 2 }, win: { strides: [2, 2] }, out: [7, 9] },
      { options: { strides: 2, padding: 'same' }, win: { strides: [2, 2], padding: 'same' }, out: [6, 8] },
      { options: { strides: 2, padding: 'same', outputPadding: [1, 0] }, win: { strides: [2, 2], padding: 'same' }, out: [6, 7] },
      { options: { strides: 3, outputPadding: 2 }, win: { strides: [3, 3] }, out: [11, 14] },
      { options: { dilationRate: 2 }, win: { dilation: [2, 2] }, out: [7, 8] },
    ];
    for (const { options, win, out } of cases) {
      const { layer, weights } = withRandomWeights(new layers.Conv2DTranspose(3, 3, { ...options, ...f64 }), x);
      const y = layer.apply(x);
      assert.deepEqual(y.shape, [2, ...out, 3], JSON.stringify(options));
      assertClose(y, addBias(naiveConvTranspose2d(x, weights[0], out[0], out[1], win), weights[1]), { rtol: 1e-10, atol: 1e-12 }, JSON.stringify(options));
    }
  });

  it('DepthwiseConv2D: output channel c * multiplier + m comes from input channel c', () => {
    const x = randomTensor([2, 5, 4, 3], 6, -1, 1, 'float64');
    const { layer, weights } = withRandomWeights(new layers.DepthwiseConv2D([3, 2], { depthMultiplier: 2, strides: [2, 1], padding: 'same', ...f64 }), x);
    const expected = addBias(naiveDepthwise2d(x, weights[0], { strides: [2, 1], padding: 'same' }), weights[1]);
    assertClose(layer.apply(x), expected, { rtol: 1e-10, atol: 1e-12 });
    // Input channel 1 alone feeds output channels 2 and 3.
    const only1 = ops.multiply(x, strata.tensor([0, 1, 0], undefined, 'float64'));
    const y = ops.subtract(layer.apply(only1), weights[1]).dataSync();
    for (let i = 0; i < y.length; i++) if (i % 6 !== 2 && i % 6 !== 3) assert.equal(y[i], 0);
  });

  it('SeparableConv2D is the depthwise convolution followed by a 1x1 convolution', () => {
    const x = randomTensor([1, 5, 5, 2], 7, -1, 1, 'float64');
    const { layer, weights } = withRandomWeights(new layers.SeparableConv2D(3, 3, { depthMultiplier: 2, ...f64 }), x);
    const depthwise = naiveDepthwise2d(x, weights[0]);
    const expected = addBias(naiveConv2d(depthwise, weights[1]), weights[2]);
    assertClose(layer.apply(x), expected, { rtol: 1e-10, atol: 1e-12 });
  });

  it('SeparableConv1D and DepthwiseConv1D through the 2-D references', () => {
    const x = randomTensor([2, 6, 2], 8, -1, 1, 'float64');
    const sep = withRandomWeights(new layers.SeparableConv1D(3, 2, { padding: 'same', ...f64 }), x);
    const dw = naiveDepthwise2d(seq2d(x), kernel2d(sep.weights[0]), { padding: 'same' });
    assertClose(sep.layer.apply(x), addBias(ops.squeeze(naiveConv2d(dw, kernel2d(sep.weights[1])), 1), sep.weights[2]), { rtol: 1e-10, atol: 1e-12 });
    const depth = withRandomWeights(new layers.DepthwiseConv1D(3, { depthMultiplier: 3, ...f64 }), x);
    assertClose(depth.layer.apply(x), addBias(ops.squeeze(naiveDepthwise2d(seq2d(x), kernel2d(depth.weights[0])), 1), depth.weights[1]), { rtol: 1e-10, atol: 1e-12 });
  });

  it('gradients with respect to the input match finite differences (float64)', () => {
    const conv = new layers.Conv2D(2, 2, { strides: 2, padding: 'same', activation: 'tanh', ...f64 });
    const x = randomTensor([1, 3, 3, 2], 9, -1, 1, 'float64');
    withRandomWeights(conv, x);
    checkGradients((t) => conv.apply(t), [x], {}, 'Conv2D');
    const transpose = new layers.Conv2DTranspose(2, 2, { strides: 2, ...f64 });
    const x2 = randomTensor([1, 2, 2, 2], 10, -1, 1, 'float64');
    withRandomWeights(transpose, x2);
    checkGradients((t) => transpose.apply(t), [x2], {}, 'Conv2DTranspose');
  });
});

describe('convolution layers: unknown dims, configs and errors', () => {
  it('work with unknown batch and spatial dims in a traced function and in functional models', async () => {
    const conv = new layers.Conv2D(4, 3, { strides: 2, padding: 'same' });
    const depthwise = new layers.DepthwiseConv2D(3, { padding: 'same' });
    const causal = new layers.Conv1D(2, 3, { padding: 'causal' });
    const f = strata.fn((x: Tensor) => depthwise.apply(conv.apply(x)), { inputSignature: [new TensorSpec([null, null, null, 2])] });
    for (const shape of [[1, 5, 7, 2], [3, 4, 4, 2]]) {
      const x = randomTensor(shape, 12, -1, 1, 'float32');
      const eager = depthwise.apply(conv.apply(x));
      assert.deepEqual(eager.shape, [shape[0], Math.ceil(shape[1] / 2), Math.ceil(shape[2] / 2), 4]);
      assertClose((await f(x)) as Tensor, eager, { rtol: 1e-5, atol: 1e-5 });
    }
    const seq = strata.Input({ shape: [null, 3] });
    assert.deepEqual(causal.apply(seq).shape, [null, null, 2]);
    const img = strata.Input({ shape: [null, null, 2] });
    assert.deepEqual(new layers.Conv2D(5, 3).apply(img).shape, [null, null, null, 5]);
    assert.deepEqual(new layers.SeparableConv2D(5, 3, { padding: 'same' }).apply(img).shape, [null, null, null, 5]);
  });

  it("configs use Keras's keys and values", () => {
    const conv = new layers.Conv2D(8, 3, { padding: 'SAME', strides: [2, 1] });
    const c = conv.getConfig();
    assert.equal(c.filters, 8);
    assert.deepEqual(c.kernel_size, [3, 3]);
    assert.deepEqual(c.strides, [2, 1]);
    assert.equal(c.padding, 'same');
    assert.equal(c.data_format, 'channels_last');
    assert.deepEqual(c.dilation_rate, [1, 1]);
    assert.equal(c.groups, 1);
    assert.equal(c.activation, 'linear');
    assert.equal(c.use_bias, true);
    assert.deepEqual(c.kernel_initializer, strata.initializers.serialize(strata.initializers.get('glorot_uniform')));
    assert.equal((c.kernel_initializer as { class_name: string }).class_name, 'GlorotUniform');
    assert.equal((c.bias_initializer as { class_name: string }).class_name, 'Zeros');
    assert.equal(c.activity_regularizer, null);
    assert.equal(c.kernel_constraint, null);
    const t = new layers.Conv2DTranspose(4, [2, 3], { strides: 2, outputPadding: 1 }).getConfig();
    assert.deepEqual(t.output_padding, [1, 1]);
    assert.equal('groups' in t, false);
    const d = new layers.DepthwiseConv2D(3).getConfig();
    assert.equal(d.depth_multiplier, 1);
    assert.ok('depthwise_initializer' in d && !('filters' in d));
    const s = new layers.SeparableConv2D(4, 3).getConfig();
    assert.ok('pointwise_initializer' in s && 'depthwise_constraint' in s && s.depth_multiplier === 1);
    // A Keras config builds the same layer.
    const clone = layers.Conv2D.fromConfig(JSON.parse(JSON.stringify(c)));
    assert.ok(clone instanceof layers.Conv2D);
    assert.deepEqual({ ...clone.getConfig(), name: 'x' }, { ...c, name: 'x' });
  });

  it('the layer names follow Keras', () => {
    assert.match(new layers.Conv2D(1, 1).name, /^conv2d(_\d+)?$/);
    assert.match(new layers.Conv2DTranspose(1, 1).name, /^conv2d_transpose(_\d+)?$/);
    assert.match(new layers.DepthwiseConv2D(1).name, /^depthwise_conv2d(_\d+)?$/);
    assert.match(new layers.SeparableConv1D(1, 1).name, /^separable_conv1d(_\d+)?$/);
  });

  it('bad constructor arguments name the layer and the argument', () => {
    assert.throws(() => new layers.Conv2D(0, 3, { name: 'c' }), /Conv2D 'c': filters must be a positive integer\. Received: filters=0/);
    assert.throws(() => new layers.Conv2D(4, [3], { name: 'c' }), /Conv2D 'c': kernelSize must be a positive integer or a list of 2 positive integers .*Received: kernelSize=\[3\]/);
    assert.throws(() => new layers.Conv2D(4, 0, { name: 'c' }), /kernelSize must be a positive integer/);
    assert.throws(() => new layers.Conv2D(4, 3, { name: 'c', padding: 'causal' as never }), /Conv2D 'c': padding must be 'valid' or 'same'\. Received: padding='causal'/);
    assert.throws(() => new layers.Conv1D(4, 3, { name: 'c', padding: 'full' as never }), /Conv1D 'c': padding must be 'valid', 'same' or 'causal'/);
    assert.throws(() => new layers.Conv2D(4, 3, { name: 'c', strides: 2, dilationRate: 2 }), /Conv2D 'c': strides > 1 is not supported together with dilationRate > 1/);
    assert.throws(() => new layers.Conv2D(5, 3, { name: 'c', groups: 2 }), /Conv2D 'c': filters must be divisible by groups\. Received: groups=2, filters=5/);
    assert.throws(() => new layers.Conv2D(4, 3, { name: 'c', dataFormat: 'nhwc' as never }), /Conv2D 'c': dataFormat must be 'channels_last' or 'channels_first'/);
    assert.throws(() => new layers.Conv2DTranspose(4, 3, { name: 't', strides: 2, outputPadding: 2 }), /Conv2DTranspose 't': outputPadding must be smaller than strides/);
    assert.throws(() => new layers.DepthwiseConv2D(3, { name: 'd', depthMultiplier: 0 }), /DepthwiseConv2D 'd': depthMultiplier must be a positive integer/);
  });

  it('bad inputs get clear errors naming the layer', () => {
    const conv = new layers.Conv2D(2, 3, { name: 'img_conv' });
    assert.throws(() => conv.apply(strata.ones([2, 5, 3])), /Input 0 of layer 'img_conv' is incompatible with the layer: expected ndim=4, found ndim=3/);
    conv.apply(strata.ones([1, 5, 5, 3]));
    assert.throws(() => conv.apply(strata.ones([1, 5, 5, 4])), /Input 0 of layer 'img_conv' is incompatible with the layer: expected axis -1 of input shape to have value 3, but received input with shape \(1, 5, 5, 4\)/);
    assert.throws(() => new layers.Conv2D(2, 5, { name: 'big' }).apply(strata.ones([1, 3, 8, 1])), /Conv2D 'big': the input of shape \(1, 3, 8, 1\) is too small for kernelSize=\[5,5\]/);
    assert.throws(() => new layers.Conv2D(2, 2, { name: 'grp', groups: 2 }).apply(strata.ones([1, 3, 3, 3])), /Conv2D 'grp': the number of input channels must be divisible by groups/);
    assert.throws(() => new layers.Conv1D(2, 2, { name: 'nochan' }).apply(strata.Input({ shape: [4, null] })), /Conv1D 'nochan': the channel dimension of the input \(axis -1, data format 'channels_last'\) must be known/);
    assert.throws(() => new layers.Conv2DTranspose(2, 2, { name: 'tr' }).apply(strata.Input({ shape: [null, 4, 2] })), /Conv2DTranspose 'tr': the spatial dimensions of the input must be known/);
  });
});
