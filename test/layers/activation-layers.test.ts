import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as strata from '../../src/index.ts';
import type { Tensor } from '../../src/tensor/tensor.ts';
import { runLayerTest } from '../helpers/layer-test.ts';
import { assertClose, randomTensor } from '../helpers/close.ts';

const { layers, ops } = strata;

const DTYPE = { module: 'keras', class_name: 'DTypePolicy', config: { name: 'float32' }, registered_name: null };
const values = (t: Tensor) => [...t.dataSync()];

describe('layer test harness: activation layers', () => {
  it('ReLU', () => runLayerTest({ name: 'ReLU', make: () => new layers.ReLU(), inputShape: [2, 5], expectedOutputShape: [2, 5], expectedTrainableWeights: 0 }));
  it('ReLU with maxValue, negativeSlope and threshold', () => runLayerTest({ name: 'ReLUOptions', make: () => new layers.ReLU({ maxValue: 0.5, negativeSlope: 0.1, threshold: 0.2 }), inputShape: [2, 5], expectedOutputShape: [2, 5] }));
  it('LeakyReLU', () => runLayerTest({ name: 'LeakyReLU', make: () => new layers.LeakyReLU({ negativeSlope: 0.2 }), inputShape: [2, 3, 4], expectedOutputShape: [2, 3, 4] }));
  it('PReLU', () => runLayerTest({ name: 'PReLU', make: () => new layers.PReLU({ alphaInitializer: 'ones' }), inputShape: [2, 3, 4], expectedOutputShape: [2, 3, 4], expectedTrainableWeights: 1, expectedWeightShapes: [[3, 4]] }));
  it('PReLU with shared axes', () => runLayerTest({ name: 'PReLUShared', make: () => new layers.PReLU({ sharedAxes: [1, 2], alphaInitializer: { class_name: 'Constant', config: { value: 0.25 } } }), inputShape: [2, 3, 3, 4], expectedOutputShape: [2, 3, 3, 4], expectedWeightShapes: [[1, 1, 4]] }));
  it('ELU', () => runLayerTest({ name: 'ELU', make: () => new layers.ELU({ alpha: 0.5 }), inputShape: [2, 5], expectedOutputShape: [2, 5] }));
  it('Softmax', () => runLayerTest({ name: 'Softmax', make: () => new layers.Softmax(), inputShape: [2, 3, 4], expectedOutputShape: [2, 3, 4] }));
  it('Softmax over several axes', () => runLayerTest({ name: 'SoftmaxAxes', make: () => new layers.Softmax({ axis: [1, 2] }), inputShape: [2, 3, 4], expectedOutputShape: [2, 3, 4] }));
});

describe('ReLU and LeakyReLU', () => {
  it('ReLU follows Keras formula (docstring example)', () => {
    const x = strata.tensor([-10, -5, 0, 5, 10]);
    assert.deepEqual(values(new layers.ReLU().apply(x)), [0, 0, 0, 5, 10]);
    assert.deepEqual(values(new layers.ReLU({ maxValue: 10, negativeSlope: 0.5 }).apply(x)), [-5, -2.5, 0, 5, 10]);
    assert.deepEqual(values(new layers.ReLU({ maxValue: 6 }).apply(strata.tensor([-1, 3, 7]))), [0, 3, 6]);
    // Below the threshold: negativeSlope * (x - threshold); at or above: x (clipped at maxValue).
    assertClose(new layers.ReLU({ threshold: 2, negativeSlope: 0.5, maxValue: 4 }).apply(strata.tensor([0, 1, 3, 5])), [-1, -0.5, 3, 4]);
  });

  it('LeakyReLU defaults to slope 0.3 (Keras 3) and reads Keras 2 alpha', () => {
    const layer = new layers.LeakyReLU({ name: 'lr' });
    assertClose(layer.apply(strata.tensor([-10, 0, 4])), [-3, 0, 4]);
    assert.deepEqual(layer.getConfig(), { name: 'lr', trainable: true, dtype: DTYPE, negative_slope: 0.3 });
    assert.equal(layers.LeakyReLU.fromConfig({ name: 'old', alpha: 0.1 }).negativeSlope, 0.1);
  });

  it('write Keras configs and reject bad arguments', () => {
    assert.deepEqual(new layers.ReLU({ name: 'r' }).getConfig(), { name: 'r', trainable: true, dtype: DTYPE, max_value: null, negative_slope: 0, threshold: 0 });
    assert.throws(() => new layers.ReLU({ name: 'r1', maxValue: -1 }), /ReLU 'r1': maxValue cannot be a negative value/);
    assert.throws(() => new layers.ReLU({ name: 'r2', negativeSlope: -0.1 }), /ReLU 'r2': negativeSlope cannot be None or a negative value. Received: negativeSlope=-0.1/);
    assert.throws(() => new layers.ReLU({ name: 'r3', threshold: -1 }), /ReLU 'r3': threshold cannot be None or a negative value/);
    assert.throws(() => new layers.LeakyReLU({ name: 'l', negativeSlope: -1 }), /LeakyReLU 'l': the negativeSlope value cannot be None or negative/);
  });
});

describe('PReLU', () => {
  it('computes x for x >= 0 and alpha * x below, with a learned alpha', () => {
    const layer = new layers.PReLU();
    const x = strata.tensor([[-2, 3], [4, -1]]);
    assert.deepEqual(values(layer.apply(x)), [0, 3, 4, 0]); // alpha starts at 0
    layer.setWeights([strata.tensor([0.5, 2])]);
    assert.deepEqual(values(layer.apply(x)), [-1, 3, 4, -2]);
    const tape = new strata.GradientTape();
    const loss = tape.record(() => ops.sum(layer.apply(x)));
    assert.deepEqual(values(tape.gradient(loss, layer.trainableWeights)[0]!), [-2, -1]);
  });

  it('shares alpha along sharedAxes, and checks the other dims', () => {
    const layer = new layers.PReLU({ sharedAxes: 1, name: 'pr' });
    const x = randomTensor([2, 5, 3], 1, -1, 1, 'float32');
    layer.apply(x);
    assert.deepEqual(layer.weights[0].shape, [1, 3]);
    layer.setWeights([strata.tensor([[0.1, 0.2, 0.3]])]);
    assertClose(layer.apply(x), ops.where(ops.greaterEqual(x, 0), x, ops.multiply(x, strata.tensor([0.1, 0.2, 0.3]))));
    // The shared axis may change size; the others may not.
    assert.deepEqual(layer.apply(strata.ones([1, 7, 3])).shape, [1, 7, 3]);
    assert.throws(() => layer.apply(strata.ones([1, 5, 4])), /Input 0 of layer 'pr' is incompatible with the layer: expected axis 2 of input shape to have value 3/);
    assert.deepEqual(layer.getConfig().shared_axes, [1]);
  });

  it('writes Keras keys and rejects bad arguments', () => {
    assert.deepEqual(new layers.PReLU({ name: 'p' }).getConfig(), {
      name: 'p',
      trainable: true,
      dtype: DTYPE,
      alpha_initializer: { module: 'keras.initializers', class_name: 'Zeros', config: {}, registered_name: null },
      alpha_regularizer: null,
      alpha_constraint: null,
      shared_axes: null,
    });
    assert.throws(() => new layers.PReLU({ name: 'p0', sharedAxes: [0] }), /PReLU 'p0': sharedAxes must be an axis or a list of axes >= 1/);
    assert.throws(() => new layers.PReLU({ name: 'p3', sharedAxes: [3] }).apply(strata.ones([2, 3])), /PReLU 'p3': sharedAxes \[3\] has axis 3, but the input has rank 2/);
    assert.throws(() => new layers.PReLU({ name: 'pn' }).apply(strata.Input({ shape: [null, 3] })), /PReLU 'pn': every non-shared dim of the input must be known/);
  });
});

describe('ELU', () => {
  it('computes x above 0 and alpha * (exp(x) - 1) below, and keeps alpha in its config', () => {
    const layer = new layers.ELU({ alpha: 0.5, name: 'e' });
    assertClose(layer.apply(strata.tensor([-1, 0, 2])), [0.5 * (Math.exp(-1) - 1), 0, 2]);
    assert.deepEqual(layer.getConfig(), { name: 'e', trainable: true, dtype: DTYPE, alpha: 0.5 });
    assert.equal(layers.ELU.fromConfig({ name: 'keras_elu', trainable: true }).alpha, 1);
    assert.throws(() => new layers.ELU({ name: 'bad', alpha: Number.NaN }), /ELU 'bad': alpha must be a finite number/);
  });
});

describe('Softmax', () => {
  it('normalizes along the axis (Keras docstring example) and over several axes', () => {
    assertClose(new layers.Softmax().apply(strata.tensor([[1, 2, 1]])), [0.21194157, 0.5761169, 0.21194157]);
    const x = randomTensor([2, 3, 4], 3, -2, 2, 'float32');
    const y = new layers.Softmax({ axis: [1, 2] }).apply(x);
    assertClose(ops.sum(y, [1, 2]), [1, 1]);
    assertClose(y, ops.exp(ops.subtract(x, ops.logsumexp(x, [1, 2], true))));
  });

  it('gives masked positions (almost) zero probability', () => {
    const x = strata.tensor([[1, 2, 3, 4]]);
    const mask = strata.tensor([[true, false, true, false]], undefined, 'bool');
    const y = new layers.Softmax().apply(x, { mask });
    const e1 = Math.exp(1), e3 = Math.exp(3);
    assertClose(y, [e1 / (e1 + e3), 0, e3 / (e1 + e3), 0]);
  });

  it('applies a propagated [batch, time] mask to whole timesteps', () => {
    const input = strata.tensor([[[1, 2], [0, 0], [3, 1]]]);
    const masked = new layers.Masking().apply(input);
    const y = new layers.Softmax({ axis: 1 }).apply(masked);
    const e1 = Math.exp(1), e3 = Math.exp(3), e2 = Math.exp(2);
    assertClose(y, [e1 / (e1 + e3), e2 / (e2 + e1), 0, 0, e3 / (e1 + e3), e1 / (e2 + e1)]);
    assert.deepEqual(values(strata.layers.getMask(y)!), [1, 0, 1]);
  });

  it('writes axis and rejects bad axes', () => {
    assert.deepEqual(new layers.Softmax({ name: 's', axis: [1, 2] }).getConfig(), { name: 's', trainable: true, dtype: DTYPE, axis: [1, 2] });
    assert.throws(() => new layers.Softmax({ name: 'sx', axis: 1.5 }), /Softmax 'sx': axis must be an integer or a non-empty list of integers/);
  });
});
