import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as strata from '../../src/index.ts';
import { Tensor, TensorSpec } from '../../src/tensor/tensor.ts';
import { captureWarnings } from '../../src/engine/warnings.ts';
import { runLayerTest } from '../helpers/layer-test.ts';
import { assertClose, randomTensor } from '../helpers/close.ts';
import { checkGradients } from '../helpers/gradcheck.ts';

const { layers, ops } = strata;
const TIGHT = { rtol: 1e-10, atol: 1e-12 };

/** Per-feature batch mean and biased variance of a (N, C) array. */
function columnStats(x: Tensor): { mean: number[]; variance: number[] } {
  const [n, c] = x.shape as number[];
  const v = x.dataSync();
  const mean = Array.from({ length: c }, (_, j) => {
    let s = 0;
    for (let i = 0; i < n; i++) s += v[i * c + j];
    return s / n;
  });
  const variance = mean.map((m, j) => {
    let s = 0;
    for (let i = 0; i < n; i++) s += (v[i * c + j] - m) ** 2;
    return s / n;
  });
  return { mean, variance };
}

/** (x - mean) / sqrt(var + eps) * gamma + beta per column. */
function normalizeColumns(x: Tensor, mean: number[], variance: number[], gamma: ArrayLike<number>, beta: ArrayLike<number>, eps: number): Float64Array {
  const c = x.shape[1] as number;
  const v = x.dataSync();
  return Float64Array.from(v, (e, i) => {
    const j = i % c;
    return ((e - mean[j]) / Math.sqrt(variance[j] + eps)) * gamma[j] + beta[j];
  });
}

describe('layer test harness: normalization layers', () => {
  it('BatchNormalization', () => runLayerTest({ name: 'BatchNormalization', make: () => new layers.BatchNormalization(), inputShape: [4, 3], expectedOutputShape: [4, 3], expectedTrainableWeights: 2, expectedNonTrainableWeights: 2, expectedWeightShapes: [[3], [3], [3], [3]] }));
  it('BatchNormalization axis 1 (channels_first)', () => runLayerTest({ name: 'BatchNormalizationCF', make: () => new layers.BatchNormalization({ axis: 1, momentum: 0.9 }), inputShape: [2, 3, 2, 2], expectedOutputShape: [2, 3, 2, 2], expectedWeightShapes: [[3], [3], [3], [3]] }));
  it('BatchNormalization without center and scale', () => runLayerTest({ name: 'BatchNormalizationPlain', make: () => new layers.BatchNormalization({ center: false, scale: false }), inputShape: [3, 2, 4], expectedOutputShape: [3, 2, 4], expectedTrainableWeights: 0, expectedNonTrainableWeights: 2 }));
  it('LayerNormalization', () => runLayerTest({ name: 'LayerNormalization', make: () => new layers.LayerNormalization(), inputShape: [2, 3, 4], expectedOutputShape: [2, 3, 4], expectedTrainableWeights: 2, expectedWeightShapes: [[4], [4]] }));
  it('LayerNormalization over two axes', () => runLayerTest({ name: 'LayerNormalization2', make: () => new layers.LayerNormalization({ axis: [1, 2], epsilon: 1e-5 }), inputShape: [2, 3, 4], expectedOutputShape: [2, 3, 4], expectedWeightShapes: [[3, 4], [3, 4]] }));
  it('LayerNormalization rms_scaling', async () => {
    const { warnings } = await captureWarnings(() => runLayerTest({ name: 'LayerNormalizationRMS', make: () => new layers.LayerNormalization({ rmsScaling: true }), inputShape: [2, 5], expectedOutputShape: [2, 5], expectedWeightShapes: [[5]] }));
    assert.ok(warnings.length <= 1 && warnings.every((w) => /rmsScaling=true is deprecated/.test(w)));
  });
  it('GroupNormalization', () => runLayerTest({ name: 'GroupNormalization', make: () => new layers.GroupNormalization({ groups: 2 }), inputShape: [2, 3, 3, 4], expectedOutputShape: [2, 3, 3, 4], expectedTrainableWeights: 2, expectedWeightShapes: [[4], [4]] }));
  it('GroupNormalization groups -1, axis 1', () => runLayerTest({ name: 'GroupNormalizationInstance', make: () => new layers.GroupNormalization({ groups: -1, axis: 1 }), inputShape: [2, 4, 3], expectedOutputShape: [2, 4, 3], expectedWeightShapes: [[4], [4]] }));
  it('UnitNormalization', () => runLayerTest({ name: 'UnitNormalization', make: () => new layers.UnitNormalization(), inputShape: [2, 5], expectedOutputShape: [2, 5], expectedTrainableWeights: 0 }));
  it('UnitNormalization over two axes', () => runLayerTest({ name: 'UnitNormalization2', make: () => new layers.UnitNormalization({ axis: [1, 2] }), inputShape: [2, 3, 4], expectedOutputShape: [2, 3, 4] }));
});

describe('BatchNormalization', () => {
  const f64 = { dtype: 'float64' as const };

  it('training uses the batch statistics and moves the moving statistics by momentum', () => {
    const bn = new layers.BatchNormalization({ momentum: 0.8, epsilon: 1e-3, ...f64 });
    const x1 = randomTensor([5, 3], 1, -2, 3, 'float64');
    const x2 = randomTensor([5, 3], 2, -1, 1, 'float64');
    bn.buildFromShape([null, 3]);
    const gamma = [1.5, -0.5, 2];
    const beta = [0.1, 0.2, -0.3];
    bn.setWeights([gamma, beta, [0, 0, 0], [1, 1, 1]]);
    assert.deepEqual(bn.weights.map((w) => w.name), ['gamma', 'beta', 'moving_mean', 'moving_variance']);
    assert.deepEqual(bn.nonTrainableWeights.map((w) => w.name), ['moving_mean', 'moving_variance']);

    const s1 = columnStats(x1);
    assertClose(bn.apply(x1, { training: true }), normalizeColumns(x1, s1.mean, s1.variance, gamma, beta, 1e-3), TIGHT);
    let mm = s1.mean.map((m) => 0 * 0.8 + m * 0.2);
    let mv = s1.variance.map((v) => 1 * 0.8 + v * 0.2);
    assertClose(bn.movingMean.value, mm, TIGHT);
    assertClose(bn.movingVariance.value, mv, TIGHT);

    const s2 = columnStats(x2);
    bn.apply(x2, { training: true });
    mm = mm.map((m, j) => m * 0.8 + s2.mean[j] * 0.2);
    mv = mv.map((v, j) => v * 0.8 + s2.variance[j] * 0.2);
    assertClose(bn.movingMean.value, mm, TIGHT);
    assertClose(bn.movingVariance.value, mv, TIGHT);

    // Inference uses the moving statistics and leaves them alone.
    assertClose(bn.apply(x1), normalizeColumns(x1, mm, mv, gamma, beta, 1e-3), TIGHT);
    assertClose(bn.apply(x1, { training: false }), normalizeColumns(x1, mm, mv, gamma, beta, 1e-3), TIGHT);
    assertClose(bn.movingMean.value, mm, TIGHT);
  });

  it('a frozen layer runs in inference mode even when training', () => {
    const bn = new layers.BatchNormalization(f64);
    const x = randomTensor([4, 2], 3, -1, 1, 'float64');
    bn.apply(x);
    bn.setWeights([[2, 3], [1, -1], [0.5, -0.5], [4, 0.25]]);
    bn.trainable = false;
    assert.equal(bn.trainableWeights.length, 0);
    assertClose(bn.apply(x, { training: true }), normalizeColumns(x, [0.5, -0.5], [4, 0.25], [2, 3], [1, -1], 1e-3), TIGHT);
    assertClose(bn.movingMean.value, [0.5, -0.5]);
    assertClose(bn.movingVariance.value, [4, 0.25]);
  });

  it('normalizes along axis 1 of channels_first feature maps', () => {
    const bn = new layers.BatchNormalization({ axis: 1, center: false, ...f64 });
    const x = randomTensor([2, 3, 2, 2], 4, -1, 1, 'float64');
    bn.apply(x);
    bn.setWeights([[1, 2, 3], [0, 0, 0], [1, 1, 1]]);
    // Channels last, flattened to (N*H*W, C), normalized per column.
    const flat = ops.reshape(ops.transpose(x, [0, 2, 3, 1]), [8, 3]);
    const s = columnStats(flat);
    const expected = new Tensor([2, 2, 2, 3], 'float64', normalizeColumns(flat, s.mean, s.variance, [1, 2, 3], [0, 0, 0], 1e-3));
    assertClose(bn.apply(x, { training: true }), ops.transpose(expected, [0, 3, 1, 2]), TIGHT);
    assertClose(bn.movingMean.value, s.mean.map((m) => m * 0.01), TIGHT);
  });

  it('masked positions are left out of the batch statistics', () => {
    const bn = new layers.BatchNormalization({ scale: false, center: false, ...f64 });
    const x = strata.tensor([[[1], [3], [100]], [[5], [-50], [7]]], undefined, 'float64'); // (2, 3, 1)
    const mask = strata.tensor([[true, true, false], [true, false, true]]);
    const y = bn.apply(x, { training: true, mask });
    // Kept values 1, 3, 5, 7: mean 4, variance 5 (up to Keras's 1e-7 in the denominators).
    const mean = 16 / (4 + 1e-7);
    const variance = [1, 3, 5, 7].reduce((s, v) => s + (v - mean) ** 2, 0) / (4 + 1e-7);
    assertClose(bn.movingMean.value, [mean * 0.01], TIGHT);
    assertClose(bn.movingVariance.value, [0.99 + variance * 0.01], TIGHT);
    assertClose(ops.slice(y, [0, 0, 0], [1, 1, 1]), [(1 - mean) / Math.sqrt(variance + 1e-3)], TIGHT);
    assert.throws(() => bn.apply(x, { training: true, mask: strata.tensor([true, false]) }), /BatchNormalization '.*': the mask must have one dimension less than the inputs/);
  });

  it('a compiled training step updates weights and moving statistics exactly like an eager one', async () => {
    const makeStep = (bn: strata.layers.BatchNormalization) => (x: Tensor) => {
      const tape = new strata.GradientTape();
      const loss = tape.record(() => ops.sum(ops.square(ops.subtract(bn.apply(x, { training: true }), 0.5))));
      const grads = tape.gradient(loss, bn.trainableWeights);
      bn.trainableWeights.forEach((w, i) => w.assign(ops.subtract(w.value, ops.multiply(grads[i]!, 0.1))));
      return loss;
    };
    const eager = new layers.BatchNormalization({ momentum: 0.5 });
    const compiled = new layers.BatchNormalization({ momentum: 0.5 });
    for (const bn of [eager, compiled]) bn.buildFromShape([null, 4]);
    compiled.setWeights(eager.getWeights());
    const compiledStep = strata.fn(makeStep(compiled), { name: 'bn_train_step' });
    const eagerStep = makeStep(eager);
    for (const seed of [5, 6, 7]) {
      const x = randomTensor([6, 4], seed, -2, 2, 'float32');
      const a = eagerStep(x);
      const b = (await compiledStep(x)) as Tensor;
      assertClose(b, a, { rtol: 1e-5, atol: 1e-5 }, `loss ${seed}`);
      compiled.weights.forEach((w, i) => assertClose(w.value, eager.weights[i].value, { rtol: 1e-5, atol: 1e-6 }, `${w.name} after step ${seed}`));
    }
    // The statistics did move, and gamma and beta were trained.
    assert.ok(compiled.movingMean.value.dataSync().some((v) => Math.abs(v) > 1e-3));
    assert.ok(compiled.gamma!.value.dataSync().some((v) => Math.abs(v - 1) > 1e-3));
  });

  it('gradients match finite differences in training mode (float64)', () => {
    const bn = new layers.BatchNormalization(f64);
    const x = randomTensor([4, 2], 8, -1, 1, 'float64');
    bn.apply(x);
    bn.setWeights([[1.5, 0.5], [0.1, -0.2], [0, 0], [1, 1]]);
    checkGradients((t) => bn.apply(t, { training: true }), [x], {}, 'BatchNormalization');
  });

  it('works with an unknown batch dim', async () => {
    const bn = new layers.BatchNormalization();
    const f = strata.fn((x: Tensor) => bn.apply(x, { training: true }), { inputSignature: [new TensorSpec([null, null, 3])] });
    const x = randomTensor([3, 4, 3], 9, -1, 1, 'float32');
    const y = (await f(x)) as Tensor;
    assertClose(ops.mean(y, [0, 1]), [0, 0, 0], { atol: 1e-5 });
  });

  it('configs and errors', () => {
    const c = new layers.BatchNormalization().getConfig();
    assert.equal(c.axis, -1);
    assert.equal(c.momentum, 0.99);
    assert.equal(c.epsilon, 0.001);
    assert.equal(c.center, true);
    assert.equal(c.synchronized, false);
    assert.equal(c.renorm, false);
    assert.equal(c.renorm_clipping, null);
    assert.equal(c.renorm_momentum, 0.99);
    assert.equal((c.moving_variance_initializer as { class_name: string }).class_name, 'Ones');
    assert.match(new layers.BatchNormalization().name, /^batch_normalization(_\d+)?$/);
    assert.throws(() => new layers.BatchNormalization({ name: 'bn', renorm: true }), /BatchNormalization 'bn': renorm=true \(batch renormalization\) is not supported/);
    assert.throws(() => new layers.BatchNormalization({ name: 'bn', axis: 1.5 }), /BatchNormalization 'bn': axis must be an integer/);
    assert.throws(() => new layers.BatchNormalization({ name: 'bn', axis: 3 }).apply(strata.ones([2, 3])), /BatchNormalization 'bn': axis 3 is out of range for an input of rank 2/);
    assert.throws(() => new layers.BatchNormalization({ name: 'bn' }).apply(strata.Input({ shape: [null] })), /BatchNormalization 'bn': the dimension along axis -1 must be known/);
    const bn = new layers.BatchNormalization({ name: 'bn_built' });
    bn.apply(strata.ones([2, 3]));
    assert.throws(() => bn.apply(strata.ones([2, 4])), /Input 0 of layer 'bn_built' is incompatible with the layer: expected axis -1 of input shape to have value 3/);
  });
});

describe('LayerNormalization, GroupNormalization, UnitNormalization', () => {
  const f64 = { dtype: 'float64' as const };

  it('LayerNormalization normalizes each example over the given axes', () => {
    const x = randomTensor([2, 3, 4], 10, -2, 2, 'float64');
    const xv = x.dataSync();
    for (const axis of [[-1], [1, 2]]) {
      const ln = new layers.LayerNormalization({ axis, epsilon: 1e-3, ...f64 });
      ln.apply(x);
      const [gamma, beta] = ln.weights.map((w, i) => randomTensor(w.shape as number[], 20 + i, -1, 1, 'float64'));
      ln.setWeights([gamma, beta]);
      const gv = gamma.dataSync();
      const bv = beta.dataSync();
      // Groups of values normalized together: the last axis (4 values) or the last two (12 values).
      const size = axis.length === 1 ? 4 : 12;
      const expected = new Float64Array(xv.length);
      for (let g = 0; g < xv.length / size; g++) {
        const part = Array.from(xv.slice(g * size, (g + 1) * size));
        const mean = part.reduce((s, v) => s + v, 0) / size;
        const variance = part.reduce((s, v) => s + (v - mean) ** 2, 0) / size;
        part.forEach((v, i) => (expected[g * size + i] = ((v - mean) / Math.sqrt(variance + 1e-3)) * gv[i] + bv[i]));
      }
      assertClose(ln.apply(x), expected, TIGHT, JSON.stringify(axis));
    }
  });

  it('LayerNormalization rmsScaling scales by 1 / sqrt(variance + epsilon) and gamma, as Keras', async () => {
    const { result: ln } = await captureWarnings(() => new layers.LayerNormalization({ rmsScaling: true, ...f64 }));
    const x = strata.tensor([[1, 2, 3, 6]], undefined, 'float64');
    ln.apply(x);
    assert.deepEqual(ln.weights.map((w) => w.name), ['gamma']);
    ln.setWeights([[1, 2, 1, 0.5]]);
    const inv = 1 / Math.sqrt(3.5 + 1e-3); // mean 3, variance (4 + 1 + 0 + 9) / 4
    assertClose(ln.apply(x), [inv, 4 * inv, 3 * inv, 3 * inv], TIGHT);
  });

  it('GroupNormalization normalizes each group of channels with the spatial dims', () => {
    const x = randomTensor([2, 3, 2, 6], 11, -2, 2, 'float64');
    const gn = new layers.GroupNormalization({ groups: 3, epsilon: 1e-3, ...f64 });
    gn.apply(x);
    const [gamma, beta] = gn.weights.map((w, i) => randomTensor(w.shape as number[], 30 + i, -1, 1, 'float64'));
    gn.setWeights([gamma, beta]);
    const xv = x.dataSync();
    const gv = gamma.dataSync();
    const bv = beta.dataSync();
    const expected = new Float64Array(xv.length);
    for (let n = 0; n < 2; n++)
      for (let g = 0; g < 3; g++) {
        const idx: number[] = [];
        for (let p = 0; p < 6; p++) for (let c = 2 * g; c < 2 * g + 2; c++) idx.push(n * 36 + p * 6 + c);
        const mean = idx.reduce((s, i) => s + xv[i], 0) / idx.length;
        const variance = idx.reduce((s, i) => s + (xv[i] - mean) ** 2, 0) / idx.length;
        for (const i of idx) expected[i] = ((xv[i] - mean) / Math.sqrt(variance + 1e-3)) * gv[i % 6] + bv[i % 6];
      }
    assertClose(gn.apply(x), expected, TIGHT);
    checkGradients((t) => gn.apply(t), [randomTensor([1, 2, 2, 6], 12, -1, 1, 'float64')], {}, 'GroupNormalization');
  });

  it('GroupNormalization works with unknown batch and spatial dims', async () => {
    const gn = new layers.GroupNormalization({ groups: 2 });
    const f = strata.fn((x: Tensor) => gn.apply(x), { inputSignature: [new TensorSpec([null, null, null, 4])] });
    for (const shape of [[1, 3, 2, 4], [2, 2, 5, 4]]) {
      const x = randomTensor(shape, 13, -1, 1, 'float32');
      assertClose((await f(x)) as Tensor, gn.apply(x), { rtol: 1e-5, atol: 1e-5 });
    }
    assert.deepEqual(new layers.GroupNormalization({ groups: 2 }).apply(strata.Input({ shape: [null, 4] })).shape, [null, null, 4]);
  });

  it('UnitNormalization gives unit L2 norms', () => {
    const y = new layers.UnitNormalization().apply(strata.tensor([[3, 4], [0, 0]]));
    assertClose(y, [0.6, 0.8, 0, 0]);
    const z = new layers.UnitNormalization({ axis: [1, 2] }).apply(strata.tensor([[[1, 1], [1, 1]]]));
    assertClose(z, [0.5, 0.5, 0.5, 0.5]);
    assert.equal(new layers.UnitNormalization({ axis: [1, 2] }).getConfig().axis instanceof Array, true);
    assert.equal(new layers.UnitNormalization().getConfig().axis, -1);
  });

  it('configs and errors', () => {
    const c = new layers.LayerNormalization().getConfig();
    assert.deepEqual(c.axis, [-1]);
    assert.equal(c.epsilon, 0.001);
    assert.equal(c.rms_scaling, false);
    const g = new layers.GroupNormalization().getConfig();
    assert.equal(g.groups, 32);
    assert.equal(g.axis, -1);
    assert.throws(() => new layers.LayerNormalization({ name: 'ln', axis: 'last' as never }), /LayerNormalization 'ln': axis must be an integer or a non-empty list of integers/);
    assert.throws(() => new layers.LayerNormalization({ name: 'ln', axis: 2 }).apply(strata.ones([2, 2])), /LayerNormalization 'ln': axis 2 is out of range for an input of rank 2/);
    const ln = new layers.LayerNormalization({ name: 'ln_built' });
    ln.apply(strata.ones([2, 3]));
    assert.throws(() => ln.apply(strata.ones([2, 5])), /Input 0 of layer 'ln_built' is incompatible with the layer: expected axis -1 of input shape to have value 3/);
    assert.throws(() => new layers.GroupNormalization({ name: 'gn', groups: 0 }), /GroupNormalization 'gn': groups must be a positive integer or -1/);
    assert.throws(() => new layers.GroupNormalization({ name: 'gn', groups: 4 }).apply(strata.ones([1, 6])), /GroupNormalization 'gn': the number of channels \(6\) must be a multiple of the number of groups \(4\)/);
    assert.throws(() => new layers.GroupNormalization({ name: 'gn', groups: 8 }).apply(strata.ones([1, 6])), /GroupNormalization 'gn': the number of groups \(8\) cannot be more than the number of channels \(6\)/);
    assert.throws(() => new layers.UnitNormalization({ name: 'un', axis: [] }), /UnitNormalization 'un': axis must be an integer or a non-empty list of integers/);
    assert.throws(() => new layers.UnitNormalization({ name: 'un', axis: 2 }).apply(strata.ones([2, 2])), /UnitNormalization 'un': axis 2 is out of range/);
  });
});
