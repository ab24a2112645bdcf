import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as strata from '../../src/index.ts';
import type { Tensor } from '../../src/tensor/tensor.ts';
import { runLayerTest } from '../helpers/layer-test.ts';
import { assertClose, randomTensor } from '../helpers/close.ts';

const { layers, ops } = strata;

/** Mean and biased variance of `values` grouped by `key(i)`. */
function groupedStats(values: ArrayLike<number>, groups: number, key: (i: number) => number): { mean: number[]; variance: number[] } {
  const sum = new Array<number>(groups).fill(0);
  const count = new Array<number>(groups).fill(0);
  for (let i = 0; i < values.length; i++) {
    sum[key(i)] += values[i];
    count[key(i)]++;
  }
  const mean = sum.map((s, g) => s / count[g]);
  const sq = new Array<number>(groups).fill(0);
  for (let i = 0; i < values.length; i++) sq[key(i)] += (values[i] - mean[key(i)]) ** 2;
  return { mean, variance: sq.map((s, g) => s / count[g]) };
}

describe('layer test harness: Normalization', () => {
  it('Normalization with a given mean and variance', () =>
    runLayerTest({ name: 'NormalizationGiven', make: () => new layers.Normalization({ mean: [1, 2, 3], variance: [4, 0.5, 2] }), inputShape: [2, 3], expectedOutputShape: [2, 3], expectedTrainableWeights: 0, expectedNonTrainableWeights: 0 }));
  it('Normalization adapted', () =>
    runLayerTest({
      name: 'NormalizationAdapted',
      make: () => {
        const n = new layers.Normalization();
        n.adapt(randomTensor([10, 3], 1, -2, 5, 'float32'));
        return n;
      },
      inputShape: [2, 3],
      expectedOutputShape: [2, 3],
      expectedTrainableWeights: 0,
      expectedNonTrainableWeights: 3,
      expectedWeightShapes: [[3], [3], []],
    }));
  it('Normalization axis null', () => runLayerTest({ name: 'NormalizationScalar', make: () => new layers.Normalization({ axis: null }), inputShape: [2, 3, 2], expectedOutputShape: [2, 3, 2], expectedWeightShapes: [[], [], []] }));
  it('Normalization over two axes, inverted', () => runLayerTest({ name: 'NormalizationInvert', make: () => new layers.Normalization({ axis: [1, 2], invert: true }), inputShape: [2, 3, 4], expectedOutputShape: [2, 3, 4], expectedWeightShapes: [[3, 4], [3, 4], []] }));
});

describe('Normalization', () => {
  it('adapt on a tensor stores the per-feature mean and variance of the data', () => {
    const data = randomTensor([20, 3], 2, -3, 7, 'float64');
    const norm = new layers.Normalization({ dtype: 'float64' });
    norm.adapt(data);
    const { mean, variance } = groupedStats(data.dataSync(), 3, (i) => i % 3);
    assertClose(norm.adaptMean!.value, mean, { rtol: 1e-12 });
    assertClose(norm.adaptVariance!.value, variance, { rtol: 1e-12 });
    assert.deepEqual(norm.weights.map((w) => w.name), ['mean', 'variance', 'count']);
    assert.equal(norm.trainableWeights.length, 0);
    // Normalized data has mean 0 and variance 1 per feature.
    const y = norm.apply(data);
    assertClose(ops.mean(y, 0), [0, 0, 0], { atol: 1e-12 });
    assertClose(ops.variance(y, 0), [1, 1, 1], { rtol: 1e-12 });
    const xv = data.dataSync();
    assertClose(y, Float64Array.from(xv, (v, i) => (v - mean[i % 3]) / Math.sqrt(variance[i % 3])), { rtol: 1e-12, atol: 1e-12 });
  });

  it('adapt on an array of batches equals adapt on all the data at once', () => {
    const batches = [randomTensor([3, 2, 4], 3, -1, 4, 'float64'), randomTensor([5, 2, 4], 4, 0, 10, 'float64'), randomTensor([1, 2, 4], 5, -5, 0, 'float64')];
    const all = ops.concatenate(batches, 0);
    for (const axis of [-1, [1, 2], null] as const) {
      const byBatch = new layers.Normalization({ axis: axis as never, dtype: 'float64' });
      byBatch.adapt(batches);
      const whole = new layers.Normalization({ axis: axis as never, dtype: 'float64' });
      whole.adapt(all);
      assertClose(byBatch.adaptMean!.value, whole.adaptMean!.value, { rtol: 1e-12, atol: 1e-12 }, `mean axis=${JSON.stringify(axis)}`);
      assertClose(byBatch.adaptVariance!.value, whole.adaptVariance!.value, { rtol: 1e-12, atol: 1e-12 }, `variance axis=${JSON.stringify(axis)}`);
    }
    // axis null: one mean and variance over every element.
    const scalar = new layers.Normalization({ axis: null, dtype: 'float64' });
    scalar.adapt(batches);
    const { mean, variance } = groupedStats(all.dataSync(), 1, () => 0);
    assert.deepEqual(scalar.adaptMean!.shape, []);
    assertClose(scalar.adaptMean!.value, mean, { rtol: 1e-12 });
    assertClose(scalar.adaptVariance!.value, variance, { rtol: 1e-12 });
  });

  it("Keras's documented examples", () => {
    const adapted = new layers.Normalization({ axis: -1 });
    adapted.adapt([[0, 7, 4], [2, 9, 6], [0, 7, 4], [2, 9, 6]]);
    assertClose(adapted.apply(strata.tensor([[0, 7, 4]])), [-1, -1, -1], { atol: 1e-6 });
    const inverted = new layers.Normalization({ axis: -1, invert: true });
    inverted.adapt(strata.tensor([[0, 7, 4], [2, 9, 6], [0, 7, 4], [2, 9, 6]]));
    assertClose(inverted.apply(strata.tensor([[1, 2, 3]])), [2, 10, 8], { atol: 1e-6 });
    const given = new layers.Normalization({ mean: 3, variance: 2 });
    assertClose(given.apply(strata.tensor([[1], [2], [3]])), [-Math.SQRT2, -Math.SQRT1_2, 0], { rtol: 1e-6 });
    const scalar = new layers.Normalization({ axis: null });
    scalar.adapt(strata.tensor([1, 2, 3, 4, 5]));
    assertClose(scalar.apply(strata.tensor([1, 2, 3])), [-Math.SQRT2, -Math.SQRT1_2, 0], { rtol: 1e-6 });
  });

  it('given values broadcast over the kept axes from the right; invert undoes the normalization; integers are cast', () => {
    const norm = new layers.Normalization({ axis: [1, 2], mean: [1, 2], variance: [4, 16] });
    const x = strata.tensor([[[1, 2], [3, 6], [5, 10]]]); // (1, 3, 2): the mean and variance apply along the last axis
    assertClose(norm.apply(x), [0, 0, 1, 1, 2, 2]);
    const inverse = new layers.Normalization({ axis: [1, 2], mean: [1, 2], variance: [4, 16], invert: true });
    assertClose(inverse.apply(norm.apply(x)), x);
    const ints = strata.tensor([[1, 2, 3]], undefined, 'int32');
    const y = new layers.Normalization({ mean: 2, variance: 1 }).apply(ints);
    assert.equal(y.dtype, 'float32');
    assertClose(y, [-1, 0, 1]);
    // A zero variance divides by the epsilon floor instead of zero.
    const flat = new layers.Normalization();
    flat.adapt(strata.tensor([[1, 5], [1, 7]]));
    assertClose(flat.apply(strata.tensor([[1, 6]])), [0, 0]);
  });

  it('the adapted statistics are weights: they round-trip through getWeights/setWeights and feed compiled functions', async () => {
    const norm = new layers.Normalization();
    norm.adapt(randomTensor([8, 2], 6, 0, 10, 'float32'));
    const clone = layers.Normalization.fromConfig(JSON.parse(JSON.stringify(norm.getConfig())));
    clone.buildFromShape([null, 2]);
    clone.setWeights(norm.getWeights());
    const x = randomTensor([3, 2], 7, 0, 10, 'float32');
    assertClose(clone.apply(x), norm.apply(x));
    const f = strata.fn((t: Tensor) => norm.apply(t));
    const before = (await f(x)) as Tensor;
    assertClose(before, norm.apply(x), { rtol: 1e-6, atol: 1e-6 });
    norm.adapt(randomTensor([8, 2], 8, 100, 200, 'float32'));
    const after = (await f(x)) as Tensor;
    assertClose(after, norm.apply(x), { rtol: 1e-6, atol: 1e-6 });
    assert.ok(after.dataSync()[0] < before.dataSync()[0] - 1, 're-adapting changed the compiled function');
  });

  it("configs use Keras's keys", () => {
    assert.deepEqual(
      (({ axis, invert, mean, variance }) => ({ axis, invert, mean, variance }))(new layers.Normalization().getConfig()),
      { axis: [-1], invert: false, mean: null, variance: null },
    );
    const c = new layers.Normalization({ axis: null, mean: strata.tensor(2), variance: 3 }).getConfig();
    assert.deepEqual([c.axis, c.mean, c.variance], [[], 2, 3]);
    assert.deepEqual(new layers.Normalization({ axis: [1, 2], mean: [[1, 2]], variance: [[3, 4]] }).getConfig().mean, [[1, 2]]);
    assert.match(new layers.Normalization().name, /^normalization(_\d+)?$/);
  });

  it('bad arguments and data get clear errors', () => {
    assert.throws(() => new layers.Normalization({ name: 'n', mean: 1 }), /Normalization 'n': when setting values directly, both mean and variance must be set/);
    assert.throws(() => new layers.Normalization({ name: 'n', mean: [1, 2], variance: [1] }), /Normalization 'n': when setting values directly, mean and variance must have the same shape/);
    assert.throws(() => new layers.Normalization({ name: 'n', mean: [[1]], variance: [[1]] }), /Normalization 'n': the rank of mean must be at most the number of axes \(1\)/);
    assert.throws(() => new layers.Normalization({ name: 'n', axis: 'x' as never }), /Normalization 'n': axis must be an integer, a list of integers or null/);
    assert.throws(() => new layers.Normalization({ name: 'n', mean: [1, 2], variance: [1, 2] }).apply(strata.ones([2, 3])), /Normalization 'n': mean of shape \(2,\) cannot be broadcast to the kept axes \[-1\] of an input of shape \(2, 3\)/);
    assert.throws(() => new layers.Normalization({ name: 'n', mean: 0, variance: 1 }).adapt(strata.ones([2, 2])), /Normalization 'n': adapt\(\) learns the mean and variance, but they were given to the constructor/);
    assert.throws(() => new layers.Normalization({ name: 'n' }).adapt([]), /Normalization 'n': adapt\(\) received no data/);
    assert.throws(() => new layers.Normalization({ name: 'n', axis: 2 }).adapt(strata.ones([2, 2])), /Normalization 'n': all axis values must be in the range \[-ndim, ndim\)/);
    assert.throws(() => new layers.Normalization({ name: 'n' }).apply(strata.Input({ shape: [null] })), /Normalization 'n': the dimensions of the kept axes must be known/);
    const norm = new layers.Normalization({ name: 'n3' });
    norm.adapt(strata.ones([4, 3]));
    assert.throws(() => norm.adapt([strata.ones([2, 3]), strata.ones([2, 4])]), /Normalization 'n3': the layer was built with input shape \(4, 3\), but adapt\(\) received data of shape \(2, 4\)/);
    assert.throws(() => norm.apply(strata.ones([2, 4])), /Input 0 of layer 'n3' is incompatible with the layer: expected axis 1 of input shape to have value 3/);
  });
});
