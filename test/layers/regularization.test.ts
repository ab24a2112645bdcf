import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as strata from '../../src/index.ts';
import type { Tensor } from '../../src/tensor/tensor.ts';
import { runLayerTest } from '../helpers/layer-test.ts';
import { randomTensor } from '../helpers/close.ts';

const { layers } = strata;

const DTYPE = { module: 'keras', class_name: 'DTypePolicy', config: { name: 'float32' }, registered_name: null };

function stats(values: ArrayLike<number>): { mean: number; std: number } {
  let s = 0;
  for (let i = 0; i < values.length; i++) s += values[i];
  const mean = s / values.length;
  let v = 0;
  for (let i = 0; i < values.length; i++) v += (values[i] - mean) ** 2;
  return { mean, std: Math.sqrt(v / values.length) };
}

/** For each (batch, channel) pair, the set of distinct values over the spatial positions. */
function channelValues(y: Tensor, channelsFirst: boolean): Set<number>[] {
  const [b, ...rest] = y.shape as number[];
  const c = channelsFirst ? rest[0] : rest[rest.length - 1];
  const spatial = rest.reduce((p, d) => p * d, 1) / c;
  const v = y.dataSync();
  const out: Set<number>[] = [];
  for (let i = 0; i < b; i++) {
    for (let k = 0; k < c; k++) {
      const set = new Set<number>();
      for (let s = 0; s < spatial; s++) set.add(v[channelsFirst ? i * c * spatial + k * spatial + s : i * c * spatial + s * c + k]);
      out.push(set);
    }
  }
  return out;
}

describe('layer test harness: regularization layers', () => {
  it('SpatialDropout1D', () => runLayerTest({ name: 'SpatialDropout1D', make: () => new layers.SpatialDropout1D(0.5, { seed: 1 }), inputShape: [2, 3, 4], expectedOutputShape: [2, 3, 4], expectedTrainableWeights: 0, expectedNonTrainableWeights: 0, randomInTraining: true }));
  it('SpatialDropout2D', () => runLayerTest({ name: 'SpatialDropout2D', make: () => new layers.SpatialDropout2D(0.3, { seed: 2 }), inputShape: [2, 3, 3, 4], expectedOutputShape: [2, 3, 3, 4], randomInTraining: true }));
  it('SpatialDropout2D channels_first', () => runLayerTest({ name: 'SpatialDropout2DCF', make: () => new layers.SpatialDropout2D(0.3, { dataFormat: 'channels_first' }), inputShape: [2, 4, 3, 3], expectedOutputShape: [2, 4, 3, 3], randomInTraining: true }));
  it('GaussianNoise', () => runLayerTest({ name: 'GaussianNoise', make: () => new layers.GaussianNoise(0.2, { seed: 3 }), inputShape: [3, 5], expectedOutputShape: [3, 5], expectedTrainableWeights: 0, randomInTraining: true }));
  it('GaussianDropout', () => runLayerTest({ name: 'GaussianDropout', make: () => new layers.GaussianDropout(0.4, { seed: 4 }), inputShape: [3, 5], expectedOutputShape: [3, 5], expectedTrainableWeights: 0, randomInTraining: true }));
});

describe('SpatialDropout', () => {
  it('1D drops whole channels in training, scaling the rest by 1 / (1 - rate), and is the identity in inference', () => {
    const layer = new layers.SpatialDropout1D(0.5, { seed: 7 });
    const x = strata.ones([8, 6, 10]);
    assert.deepEqual([...layer.apply(x).dataSync()], [...x.dataSync()]);
    const y = layer.apply(x, { training: true });
    const channels = channelValues(y, false);
    assert.ok(channels.every((s) => s.size === 1), 'each channel is dropped or kept as a whole');
    const kept = channels.filter((s) => s.has(2)).length;
    assert.ok(channels.every((s) => s.has(0) || s.has(2)));
    assert.ok(kept > 20 && kept < 60, `kept ${kept} of 80 channels`);
  });

  it('2D drops whole feature maps in both data formats', () => {
    for (const dataFormat of ['channels_last', 'channels_first'] as const) {
      const layer = new layers.SpatialDropout2D(0.5, { seed: 9, dataFormat });
      const shape = dataFormat === 'channels_last' ? [4, 3, 5, 6] : [4, 6, 3, 5];
      const y = layer.apply(strata.ones(shape), { training: true });
      const channels = channelValues(y, dataFormat === 'channels_first');
      assert.equal(channels.length, 24);
      assert.ok(channels.every((s) => s.size === 1 && (s.has(0) || s.has(2))), dataFormat);
      assert.ok(channels.some((s) => s.has(0)) && channels.some((s) => s.has(2)), dataFormat);
    }
  });

  it('works with an unknown batch size inside strata.fn', async () => {
    const layer = new layers.SpatialDropout1D(0.5, { seed: 5 });
    const f = strata.fn((t: Tensor) => layer.apply(t, { training: true }), { inputSignature: [new strata.TensorSpec([null, 6, 10])] });
    const y = (await f(strata.ones([8, 6, 10]))) as Tensor;
    assert.deepEqual(y.shape, [8, 6, 10]);
    assert.ok(channelValues(y, false).every((s) => s.size === 1));
  });

  it('writes the config Keras writes (no trainable key; the dtype by name)', () => {
    assert.deepEqual(new layers.SpatialDropout1D(0.2, { name: 'sd1', seed: 3 }).getConfig(), { name: 'sd1', dtype: 'float32', rate: 0.2, seed: 3 });
    assert.deepEqual(new layers.SpatialDropout2D(0.2, { name: 'sd2' }).getConfig(), { name: 'sd2', dtype: 'float32', rate: 0.2, seed: null, data_format: 'channels_last' });
    const loaded = layers.SpatialDropout2D.fromConfig({ name: 'sd', dtype: 'float32', rate: 0.1, seed: null, data_format: 'channels_first' });
    assert.equal(loaded.dataFormat, 'channels_first');
  });

  it('rejects bad arguments and inputs of the wrong rank', () => {
    assert.throws(() => new layers.SpatialDropout1D(1, { name: 'sd' }), /SpatialDropout1D 'sd': rate must be a number in \[0, 1\). Received: rate=1/);
    assert.throws(() => new layers.SpatialDropout2D(0.1, { name: 'sd', dataFormat: 'nhwc' as never }), /SpatialDropout2D 'sd': dataFormat must be 'channels_last' or 'channels_first'/);
    assert.throws(() => new layers.SpatialDropout1D(0.1, { name: 'sd', seed: 1.5 }), /SpatialDropout1D 'sd': seed must be an integer or null/);
    assert.throws(() => new layers.SpatialDropout1D(0.1, { name: 'sd1d' }).apply(strata.ones([2, 3])), /Input 0 of layer 'sd1d' is incompatible with the layer: expected ndim=3, found ndim=2/);
  });
});

describe('GaussianNoise and GaussianDropout', () => {
  it('GaussianNoise adds zero-mean noise of the given stddev in training only', () => {
    const layer = new layers.GaussianNoise(0.5, { seed: 11 });
    const x = randomTensor([100, 200], 1, -1, 1, 'float32');
    assert.deepEqual([...layer.apply(x).dataSync()], [...x.dataSync()]);
    const y = layer.apply(x, { training: true });
    const diff = strata.ops.subtract(y, x).dataSync();
    const { mean, std } = stats(diff);
    assert.ok(Math.abs(mean) < 0.01, `mean ${mean}`);
    assert.ok(Math.abs(std - 0.5) < 0.01, `std ${std}`);
  });

  it('GaussianDropout multiplies by noise of mean 1 and stddev sqrt(rate / (1 - rate)) in training only', () => {
    const layer = new layers.GaussianDropout(0.2, { seed: 12 });
    assert.equal(layer.stddev, Math.sqrt(0.2 / 0.8));
    const x = strata.fill([100, 200], 3);
    assert.deepEqual([...layer.apply(x).dataSync()], [...x.dataSync()]);
    const factors = strata.ops.divide(layer.apply(x, { training: true }), 3).dataSync();
    const { mean, std } = stats(factors);
    assert.ok(Math.abs(mean - 1) < 0.01, `mean ${mean}`);
    assert.ok(Math.abs(std - 0.5) < 0.01, `std ${std}`);
  });

  it('seeded layers draw the same noise, and successive calls draw new noise', () => {
    const x = strata.zeros([4, 4]);
    const a = new layers.GaussianNoise(0.3, { seed: 21 });
    const b = new layers.GaussianNoise(0.3, { seed: 21 });
    const first = a.apply(x, { training: true }).dataSync();
    assert.deepEqual([...b.apply(x, { training: true }).dataSync()], [...first]);
    assert.notDeepEqual([...a.apply(x, { training: true }).dataSync()], [...first]);
  });

  it('works with an unknown batch size inside strata.fn', async () => {
    const noise = new layers.GaussianDropout(0.5, { seed: 1 });
    const f = strata.fn((t: Tensor) => noise.apply(t, { training: true }), { inputSignature: [new strata.TensorSpec([null, 5])] });
    const y = (await f(strata.ones([3, 5]))) as Tensor;
    assert.deepEqual(y.shape, [3, 5]);
    assert.ok(y.dataSync().some((v) => v !== 1));
  });

  it('write Keras configs and reject bad arguments', () => {
    assert.deepEqual(new layers.GaussianNoise(0.1, { name: 'gn' }).getConfig(), { name: 'gn', trainable: true, dtype: DTYPE, stddev: 0.1, seed: null });
    assert.deepEqual(new layers.GaussianDropout(0.1, { name: 'gd', seed: 2 }).getConfig(), { name: 'gd', trainable: true, dtype: DTYPE, rate: 0.1, seed: 2 });
    assert.throws(() => new layers.GaussianNoise(-0.1, { name: 'gn' }), /GaussianNoise 'gn': stddev must be a finite number in \[0, 1\]. Received: stddev=-0.1/);
    assert.throws(() => new layers.GaussianDropout(1, { name: 'gd' }), /GaussianDropout 'gd': rate must be a number in \[0, 1\)/);
  });
});
