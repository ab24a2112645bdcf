import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as strata from '../../src/index.ts';
import type { Tensor } from '../../src/tensor/tensor.ts';
import type { Layer } from '../../src/layers/layer.ts';
import { runLayerTest } from '../helpers/layer-test.ts';
import { assertClose, randomTensor } from '../helpers/close.ts';

const { layers, ops } = strata;

const DTYPE = { module: 'keras', class_name: 'DTypePolicy', config: { name: 'float32' }, registered_name: null };
const rand = (shape: number[], seed: number) => randomTensor(shape, seed, -1, 1, 'float32');
const maskOf = (t: Tensor) => [...strata.layers.getMask(t)!.dataSync()];

/** Runs a two-input layer in a graph traced with the batch dim unknown and compares with the eager result. */
async function matchesWithUnknownBatch(layer: Layer, xs: Tensor[]): Promise<void> {
  const eager = layer.apply(xs) as Tensor;
  const specs = xs.map((x) => new strata.TensorSpec([null, ...x.shape.slice(1)]));
  const traced = strata.fn((...ts: Tensor[]) => layer.apply(ts) as Tensor, { inputSignature: specs, name: `${layer.name}_unknown_batch` });
  assertClose((await traced(...xs)) as Tensor, eager, {}, `${layer.name} with an unknown batch`);
}

describe('layer test harness: merging layers', () => {
  it('Add', () => runLayerTest({ name: 'Add', make: () => new layers.Add(), inputShape: [[2, 3, 4], [2, 3, 4], [2, 3, 4]], expectedOutputShape: [2, 3, 4], expectedTrainableWeights: 0 }));
  it('Add with broadcasting', () => runLayerTest({ name: 'AddBroadcast', make: () => new layers.Add(), inputShape: [[2, 3, 4], [2, 1, 4]], expectedOutputShape: [2, 3, 4] }));
  it('Subtract', () => runLayerTest({ name: 'Subtract', make: () => new layers.Subtract(), inputShape: [[2, 5], [2, 5]], expectedOutputShape: [2, 5] }));
  it('Multiply', () => runLayerTest({ name: 'Multiply', make: () => new layers.Multiply(), inputShape: [[2, 5], [2, 5]], expectedOutputShape: [2, 5] }));
  it('Average', () => runLayerTest({ name: 'Average', make: () => new layers.Average(), inputShape: [[2, 5], [2, 5], [2, 5]], expectedOutputShape: [2, 5] }));
  it('Maximum', () => runLayerTest({ name: 'Maximum', make: () => new layers.Maximum(), inputShape: [[2, 5], [2, 5]], expectedOutputShape: [2, 5] }));
  it('Minimum', () => runLayerTest({ name: 'Minimum', make: () => new layers.Minimum(), inputShape: [[2, 5], [2, 5]], expectedOutputShape: [2, 5] }));
  it('Concatenate', () => runLayerTest({ name: 'Concatenate', make: () => new layers.Concatenate(), inputShape: [[2, 3, 4], [2, 3, 2]], expectedOutputShape: [2, 3, 6] }));
  it('Concatenate axis 1', () => runLayerTest({ name: 'Concatenate1', make: () => new layers.Concatenate({ axis: 1 }), inputShape: [[2, 3, 4], [2, 1, 4], [2, 2, 4]], expectedOutputShape: [2, 6, 4] }));
  it('Dot', () => runLayerTest({ name: 'Dot', make: () => new layers.Dot(1), inputShape: [[2, 4], [2, 4]], expectedOutputShape: [2, 1] }));
  it('Dot rank 3 with normalize', () => runLayerTest({ name: 'DotNorm', make: () => new layers.Dot([2, 2], { normalize: true }), inputShape: [[2, 3, 4], [2, 5, 4]], expectedOutputShape: [2, 3, 5] }));
});

describe('elementwise merges', () => {
  it('compute the elementwise result of their inputs', () => {
    const a = rand([2, 3], 1), b = rand([2, 3], 2), c = rand([2, 3], 3);
    assertClose(new layers.Add().apply([a, b, c]), ops.add(ops.add(a, b), c));
    assertClose(new layers.Subtract().apply([a, b]), ops.subtract(a, b));
    assertClose(new layers.Multiply().apply([a, b, c]), ops.multiply(ops.multiply(a, b), c));
    assertClose(new layers.Average().apply([a, b, c]), ops.divide(ops.add(ops.add(a, b), c), 3));
    assertClose(new layers.Maximum().apply([a, b, c]), ops.maximum(ops.maximum(a, b), c));
    assertClose(new layers.Minimum().apply([a, b]), ops.minimum(a, b));
  });

  it('insert size-1 dims after the batch dim for inputs of lower rank', () => {
    const a = strata.tensor([[1, 2]]); // [1, 2]
    const b = strata.tensor([[[10, 20], [30, 40]]]); // [1, 2, 2]
    const y = new layers.Add().apply([a, b]);
    assert.deepEqual(y.shape, [1, 2, 2]);
    assert.deepEqual([...y.dataSync()], [11, 22, 31, 42]);
  });

  it('work with an unknown batch dim and in functional models', async () => {
    await matchesWithUnknownBatch(new layers.Add(), [rand([3, 4], 1), rand([3, 4], 2)]);
    await matchesWithUnknownBatch(new layers.Maximum(), [rand([3, 4], 1), rand([3, 1], 2)]);
    const i1 = strata.Input({ shape: [4] });
    const i2 = strata.Input({ shape: [4] });
    const out = new layers.Average().apply([i1, i2]);
    assert.deepEqual(out.shape, [null, 4]);
    const model = new strata.Model({ inputs: [i1, i2], outputs: out });
    assertClose(model.apply([strata.ones([2, 4]), strata.zeros([2, 4])]), strata.fill([2, 4], 0.5));
  });

  it('pass a shared mask through, OR different masks, and drop the mask when an input has none', () => {
    const x1 = strata.tensor([[[1, 1], [2, 2], [0, 0]]]);
    const x2 = strata.tensor([[[3, 3], [0, 0], [4, 4]]]);
    const m1 = new layers.Masking().apply(x1);
    const m2 = new layers.Masking().apply(x2);
    const shared = new layers.Add().apply([m1, new layers.Identity().apply(m1)]);
    assert.deepEqual(maskOf(shared), [1, 1, 0]);
    assert.deepEqual(maskOf(new layers.Add().apply([m1, m2])), [1, 1, 1]);
    assert.equal(strata.layers.getMask(new layers.Add().apply([m1, x2])), null);
  });

  it('Maximum and Minimum ignore masked positions; Multiply counts them as 1 and zeroes positions masked everywhere', () => {
    const x1 = strata.tensor([[[-5, -5], [-2, -2], [0, 0]]]);
    const x2 = strata.tensor([[[0, 0], [-1, -1], [0, 0]]]);
    const m1 = new layers.Masking().apply(x1); // mask [1, 1, 0]
    const m2 = new layers.Masking().apply(x2); // mask [0, 1, 0]
    // Step 0: only x1 is valid (-5, where an unmasked maximum would give 0); step 1: both; step 2: neither.
    assert.deepEqual([...new layers.Maximum().apply([m1, m2]).dataSync()], [-5, -5, -1, -1, 0, 0]);
    assert.deepEqual([...new layers.Minimum().apply([m1, m2]).dataSync()], [-5, -5, -2, -2, 0, 0]);
    assert.deepEqual([...new layers.Multiply().apply([m1, m2]).dataSync()], [-5, -5, 2, 2, 0, 0]);
    assert.deepEqual(maskOf(new layers.Maximum().apply([m1, m2])), [1, 1, 0]);
  });

  it('reject non-lists, incompatible shapes and the wrong number of inputs', () => {
    assert.throws(() => new layers.Add({ name: 'add1' }).apply(strata.ones([2, 3])), /Add 'add1': a merge layer should be called on a list of inputs/);
    assert.throws(() => new layers.Add({ name: 'add2' }).apply([strata.ones([2, 3]), strata.ones([2, 4])]), /Add 'add2': inputs have incompatible shapes. Received shapes \(3,\) and \(4,\)/);
    assert.throws(() => new layers.Add({ name: 'add3' }).apply([strata.ones([2, 3]), strata.ones([3, 3])]), /Add 'add3': cannot merge tensors with different batch sizes/);
    assert.throws(() => new layers.Subtract({ name: 'sub' }).apply([strata.ones([2, 3]), strata.ones([2, 3]), strata.ones([2, 3])]), /Subtract 'sub': expected exactly 2 inputs, received 3/);
  });

  it('write the base config only', () => {
    assert.deepEqual(new layers.Maximum({ name: 'mx' }).getConfig(), { name: 'mx', trainable: true, dtype: DTYPE });
  });
});

describe('Concatenate', () => {
  it('joins along the axis and checks the other dims', async () => {
    const a = rand([2, 3], 1), b = rand([2, 2], 2);
    assertClose(new layers.Concatenate().apply([a, b]), ops.concatenate([a, b], 1));
    await matchesWithUnknownBatch(new layers.Concatenate({ axis: 1 }), [rand([2, 3, 4], 3), rand([2, 1, 4], 4)]);
    assert.throws(() => new layers.Concatenate({ axis: -1, name: 'cat' }).apply([strata.ones([2, 3, 4]), strata.ones([2, 2, 4])]), /Concatenate 'cat': a Concatenate layer requires inputs with matching shapes except for the concatenation axis \(axis 1 differs\). Received: input_shape=\[\(2, 3, 4\), \(2, 2, 4\)\]/);
    assert.throws(() => new layers.Concatenate({ axis: -1, name: 'cat2' }).apply([strata.ones([2, 3]), strata.ones([2, 2, 4])]), /Concatenate 'cat2': .*the ranks differ/);
    assert.deepEqual(new layers.Concatenate({ axis: 1, name: 'c' }).getConfig(), { name: 'c', trainable: true, dtype: DTYPE, axis: 1 });
  });

  it('concatenates masks (all-true for unmasked inputs) and reduces the last axis, as Keras does', () => {
    const x1 = strata.tensor([[[1, 1], [0, 0]]]);
    const x2 = strata.tensor([[[0, 0], [0, 0], [3, 3]]]);
    const m1 = new layers.Masking().apply(x1); // [1, 0]
    const m2 = new layers.Masking().apply(x2); // [0, 0, 1]
    assert.deepEqual(maskOf(new layers.Concatenate({ axis: 1 }).apply([m1, m2])), [1, 0, 0, 0, 1]);
    assert.deepEqual(maskOf(new layers.Concatenate({ axis: 1 }).apply([m1, x2])), [1, 0, 1, 1, 1]);
    // Along the features, a timestep is kept when any input keeps it.
    const m3 = new layers.Masking().apply(strata.tensor([[[0, 0], [5, 5]]])); // [0, 1]
    assert.deepEqual(maskOf(new layers.Concatenate().apply([m1, m3])), [1, 1]);
  });
});

describe('Dot', () => {
  it('computes batchwise dot products along the given axes', () => {
    const x = rand([2, 3, 4], 1), y = rand([2, 5, 3], 2);
    const z = new layers.Dot([1, 2]).apply([x, y]);
    assert.deepEqual(z.shape, [2, 4, 5]);
    assertClose(z, ops.einsum('bij,bkj->bik', ops.transpose(x, [0, 2, 1]), y));
    // Keras docstring example: x [1, 5, 2], y [1, 2, 5], axes (1, 2) → [[[260, 360], [320, 445]]].
    const kx = strata.tensor(Array.from({ length: 10 }, (_, i) => i), [1, 5, 2]);
    const ky = strata.tensor(Array.from({ length: 10 }, (_, i) => i + 10), [1, 2, 5]);
    assert.deepEqual([...new layers.Dot([1, 2]).apply([kx, ky]).dataSync()], [260, 360, 320, 445]);
  });

  it('gives [batch, 1] for two vectors and cosine similarities with normalize', async () => {
    const a = strata.tensor([[3, 4], [1, 0]]), b = strata.tensor([[3, 4], [0, 2]]);
    assert.deepEqual([...new layers.Dot(-1).apply([a, b]).dataSync()], [25, 0]);
    const cos = new layers.Dot(1, { normalize: true }).apply([a, strata.tensor([[4, 3], [2, 2]])]);
    assert.deepEqual(cos.shape, [2, 1]);
    assertClose(cos, [24 / 25, Math.SQRT1_2]);
    await matchesWithUnknownBatch(new layers.Dot([2, 1]), [rand([2, 3, 4], 5), rand([2, 4, 6], 6)]);
  });

  it('has no output mask, writes Keras keys and rejects bad axes and shapes', () => {
    const m = new layers.Masking().apply(strata.tensor([[[1, 1], [0, 0]]]));
    assert.equal(strata.layers.getMask(new layers.Dot(2).apply([m, m])), null);
    assert.deepEqual(new layers.Dot([1, 2], { name: 'd' }).getConfig(), { name: 'd', trainable: true, dtype: DTYPE, axes: [1, 2], normalize: false });
    assert.throws(() => new layers.Dot([1, 2, 3] as never, { name: 'd1' }), /Dot 'd1': axes must be an integer or a list of two integers/);
    assert.throws(() => new layers.Dot(1, { name: 'd2' }).apply([strata.ones([2, 3]), strata.ones([2, 4])]), /Dot 'd2': incompatible input shapes: axis values 3 \(at axis 1\) != 4 \(at axis 1\)/);
    assert.throws(() => new layers.Dot(0, { name: 'd3' }).apply([strata.ones([2, 3]), strata.ones([2, 3])]), /Dot 'd3': invalid axes 0 .* the batch axis 0 cannot be summed over/);
    assert.throws(() => new layers.Dot(1, { name: 'd4' }).apply([strata.ones([2, 3]), strata.ones([2, 3]), strata.ones([2, 3])]), /Dot 'd4': expected exactly 2 inputs, received 3/);
  });
});
