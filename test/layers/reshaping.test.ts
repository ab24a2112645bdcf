import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as strata from '../../src/index.ts';
import type { Tensor } from '../../src/tensor/tensor.ts';
import type { Layer } from '../../src/layers/layer.ts';
import { runLayerTest } from '../helpers/layer-test.ts';
import { assertClose, randomTensor } from '../helpers/close.ts';

const { layers, ops } = strata;

const DTYPE = { module: 'keras', class_name: 'DTypePolicy', config: { name: 'float32' }, registered_name: null };
const arange = (shape: number[]) => strata.tensor(Array.from({ length: shape.reduce((p, d) => p * d, 1) }, (_, i) => i), shape);

/** Runs the layer in a graph traced with the given dims unknown and compares with the eager result. */
async function matchesWithUnknownDims(layer: Layer, x: Tensor, unknown: number[]): Promise<void> {
  const eager = layer.apply(x) as Tensor;
  const spec = new strata.TensorSpec(x.shape.map((d, i) => (unknown.includes(i) ? null : d)));
  const traced = strata.fn((t: Tensor) => layer.apply(t) as Tensor, { inputSignature: [spec], name: `${layer.name}_unknown` });
  assertClose((await traced(x)) as Tensor, eager, {}, `${layer.name} with unknown dims ${JSON.stringify(unknown)}`);
}

/** TensorFlow's half-pixel bilinear resize of an [h, w] image (the reference for UpSampling2D 'bilinear'). */
function bilinearReference(img: number[][], outH: number, outW: number): number[] {
  const h = img.length, w = img[0].length;
  const weights = (o: number, n: number, out: number) => {
    const src = ((o + 0.5) * n) / out - 0.5;
    const f = Math.floor(src);
    return { lo: Math.max(f, 0), hi: Math.min(Math.ceil(src), n - 1), t: src - f };
  };
  const out: number[] = [];
  for (let i = 0; i < outH; i++) {
    const r = weights(i, h, outH);
    for (let j = 0; j < outW; j++) {
      const c = weights(j, w, outW);
      const top = img[r.lo][c.lo] + (img[r.lo][c.hi] - img[r.lo][c.lo]) * c.t;
      const bottom = img[r.hi][c.lo] + (img[r.hi][c.hi] - img[r.hi][c.lo]) * c.t;
      out.push(top + (bottom - top) * r.t);
    }
  }
  return out;
}

describe('layer test harness: reshaping layers', () => {
  it('Reshape', () => runLayerTest({ name: 'Reshape', make: () => new layers.Reshape([3, 4]), inputShape: [2, 12], expectedOutputShape: [2, 3, 4] }));
  it('Reshape with -1', () => runLayerTest({ name: 'ReshapeInfer', make: () => new layers.Reshape([-1, 2]), inputShape: [2, 3, 4], expectedOutputShape: [2, 6, 2] }));
  it('Permute', () => runLayerTest({ name: 'Permute', make: () => new layers.Permute([2, 1]), inputShape: [2, 3, 4], expectedOutputShape: [2, 4, 3] }));
  it('Permute rank 4', () => runLayerTest({ name: 'Permute3', make: () => new layers.Permute([3, 1, 2]), inputShape: [2, 3, 4, 5], expectedOutputShape: [2, 5, 3, 4] }));
  it('RepeatVector', () => runLayerTest({ name: 'RepeatVector', make: () => new layers.RepeatVector(3), inputShape: [2, 4], expectedOutputShape: [2, 3, 4] }));
  it('ZeroPadding1D', () => runLayerTest({ name: 'ZeroPadding1D', make: () => new layers.ZeroPadding1D({ padding: [1, 2] }), inputShape: [2, 3, 4], expectedOutputShape: [2, 6, 4] }));
  it('ZeroPadding1D channels_first', () => runLayerTest({ name: 'ZeroPadding1DCF', make: () => new layers.ZeroPadding1D({ padding: 2, dataFormat: 'channels_first' }), inputShape: [2, 3, 4], expectedOutputShape: [2, 3, 8] }));
  it('ZeroPadding2D', () => runLayerTest({ name: 'ZeroPadding2D', make: () => new layers.ZeroPadding2D({ padding: [[1, 0], [2, 1]] }), inputShape: [2, 3, 4, 2], expectedOutputShape: [2, 4, 7, 2] }));
  it('ZeroPadding2D channels_first', () => runLayerTest({ name: 'ZeroPadding2DCF', make: () => new layers.ZeroPadding2D({ padding: [1, 2], dataFormat: 'channels_first' }), inputShape: [2, 2, 3, 4], expectedOutputShape: [2, 2, 5, 8] }));
  it('Cropping1D', () => runLayerTest({ name: 'Cropping1D', make: () => new layers.Cropping1D({ cropping: [1, 2] }), inputShape: [2, 5, 3], expectedOutputShape: [2, 2, 3] }));
  it('Cropping2D', () => runLayerTest({ name: 'Cropping2D', make: () => new layers.Cropping2D({ cropping: [[1, 1], [0, 2]] }), inputShape: [2, 5, 6, 3], expectedOutputShape: [2, 3, 4, 3] }));
  it('Cropping2D channels_first', () => runLayerTest({ name: 'Cropping2DCF', make: () => new layers.Cropping2D({ cropping: 1, dataFormat: 'channels_first' }), inputShape: [2, 3, 5, 6], expectedOutputShape: [2, 3, 3, 4] }));
  it('UpSampling1D', () => runLayerTest({ name: 'UpSampling1D', make: () => new layers.UpSampling1D({ size: 3 }), inputShape: [2, 3, 4], expectedOutputShape: [2, 9, 4] }));
  it('UpSampling2D', () => runLayerTest({ name: 'UpSampling2D', make: () => new layers.UpSampling2D({ size: [2, 3] }), inputShape: [2, 2, 3, 2], expectedOutputShape: [2, 4, 9, 2] }));
  it('UpSampling2D bilinear', () => runLayerTest({ name: 'UpSampling2DBilinear', make: () => new layers.UpSampling2D({ size: 2, interpolation: 'bilinear' }), inputShape: [2, 3, 3, 2], expectedOutputShape: [2, 6, 6, 2] }));
  it('UpSampling2D bilinear channels_first', () =>
    runLayerTest({ name: 'UpSampling2DBilinearCF', make: () => new layers.UpSampling2D({ size: [3, 2], interpolation: 'bilinear', dataFormat: 'channels_first' }), inputShape: [1, 2, 2, 3], expectedOutputShape: [1, 2, 6, 6] }));
});

describe('Reshape', () => {
  it('reshapes each sample, keeping the batch dim, and infers -1', () => {
    const x = arange([2, 6]);
    assert.deepEqual(new layers.Reshape([3, 2]).apply(x).shape, [2, 3, 2]);
    const y = new layers.Reshape([-1, 3]).apply(x);
    assert.deepEqual(y.shape, [2, 2, 3]);
    assert.deepEqual([...y.dataSync()], [...x.dataSync()]);
    assert.deepEqual(new layers.Reshape([-1, 2, 2]).apply(strata.Input({ shape: [12] })).shape, [null, 3, 2, 2]);
  });

  it('works with an unknown batch dim and an unknown sample dim', async () => {
    await matchesWithUnknownDims(new layers.Reshape([2, -1]), arange([3, 2, 4]), [0]);
    await matchesWithUnknownDims(new layers.Reshape([4, 2]), arange([3, 2, 4]), [0, 1]);
    // Splitting heads and merging them back: [batch, time, 8] <-> [batch, time, 2, 4].
    await matchesWithUnknownDims(new layers.Reshape([-1, 2, 4]), arange([2, 3, 8]), [0, 1]);
    await matchesWithUnknownDims(new layers.Reshape([-1, 8]), arange([2, 3, 2, 4]), [0, 1]);
    // The -1 entry is 3 times the unknown dim, elsewhere in the target.
    await matchesWithUnknownDims(new layers.Reshape([2, -1]), arange([2, 5, 6]), [0, 1]);
    assert.deepEqual(new layers.Reshape([-1, 2]).apply(strata.Input({ shape: [null, 4] })).shape, [null, null, 2]);
  });

  it('reports a size mismatch instead of absorbing it in the batch dim', () => {
    assert.throws(() => new layers.Reshape([5], { name: 'rs' }).apply(strata.ones([2, 10])), /Reshape 'rs': the total size of each sample must be unchanged. Received: input shape \(2, 10\) \(10 values per sample\), targetShape=\[5\]/);
    assert.throws(() => new layers.Reshape([3, -1], { name: 'rs2' }).apply(strata.ones([2, 10])), /Reshape 'rs2': the total size of each sample must be unchanged/);
    assert.throws(() => new layers.Reshape([-1, -1], { name: 'rs3' }), /Reshape 'rs3': the targetShape argument must not contain more than one -1 value/);
    assert.throws(() => new layers.Reshape([2, -3], { name: 'rs4' }), /Reshape 'rs4': targetShape must be a list of non-negative integers/);
    assert.throws(() => new layers.Reshape([-1, 2], { name: 'rs5' }).apply(strata.Input({ shape: [null, 3] })), /Reshape 'rs5': cannot infer the -1 entry of targetShape=\[-1,2\] for an input of shape \(None, None, 3\)/);
  });

  it('writes target_shape', () => {
    assert.deepEqual(new layers.Reshape([2, -1], { name: 'r' }).getConfig(), { name: 'r', trainable: true, dtype: DTYPE, target_shape: [2, -1] });
  });
});

describe('Permute and RepeatVector', () => {
  it('Permute transposes the sample dims (1-based)', () => {
    const x = arange([2, 3, 4, 5]);
    assertClose(new layers.Permute([3, 1, 2]).apply(x), ops.transpose(x, [0, 3, 1, 2]));
    assert.throws(() => new layers.Permute([1, 3], { name: 'p' }), /Permute 'p': invalid permutation argument dims. The set of indices in dims must be consecutive and start from 1/);
    assert.throws(() => new layers.Permute([0, 1], { name: 'p0' }), /Permute 'p0': invalid permutation/);
    assert.throws(() => new layers.Permute([2, 1], { name: 'p2' }).apply(strata.ones([2, 3])), /Input 0 of layer 'p2' is incompatible with the layer: expected ndim=3, found ndim=2/);
    assert.deepEqual(new layers.Permute([2, 1], { name: 'pc' }).getConfig().dims, [2, 1]);
  });

  it('RepeatVector repeats each sample n times', async () => {
    const y = new layers.RepeatVector(2).apply(strata.tensor([[1, 2], [3, 4]]));
    assert.deepEqual(y.shape, [2, 2, 2]);
    assert.deepEqual([...y.dataSync()], [1, 2, 1, 2, 3, 4, 3, 4]);
    await matchesWithUnknownDims(new layers.RepeatVector(3), arange([2, 4]), [0]);
    assert.throws(() => new layers.RepeatVector(0, { name: 'rv' }), /RepeatVector 'rv': n must be a positive integer. Received: n=0/);
    assert.throws(() => new layers.RepeatVector(2, { name: 'rv3' }).apply(strata.ones([2, 3, 4])), /Input 0 of layer 'rv3' is incompatible with the layer: expected ndim=3|expected ndim=2, found ndim=3/);
  });
});

describe('ZeroPadding and Cropping', () => {
  it('ZeroPadding1D pads axis 1 with zeros (Keras docstring example)', () => {
    const y = new layers.ZeroPadding1D({ padding: 2 }).apply(arange([2, 2, 3]));
    assert.deepEqual(y.shape, [2, 6, 3]);
    assert.deepEqual([...y.dataSync()].slice(0, 18), [0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4, 5, 0, 0, 0, 0, 0, 0]);
  });

  it('ZeroPadding2D pads rows and columns (Keras docstring example)', () => {
    const y = new layers.ZeroPadding2D({ padding: 1 }).apply(arange([1, 1, 2, 2]));
    assert.deepEqual(y.shape, [1, 3, 4, 2]);
    assert.deepEqual([...y.dataSync()], [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    assert.deepEqual(new layers.ZeroPadding2D({ padding: 1, name: 'zp' }).getConfig(), { name: 'zp', trainable: true, dtype: DTYPE, padding: [[1, 1], [1, 1]], data_format: 'channels_last' });
    assert.deepEqual(new layers.ZeroPadding1D({ padding: [0, 3], name: 'zp1' }).getConfig(), { name: 'zp1', trainable: true, dtype: DTYPE, padding: [0, 3], data_format: 'channels_last' });
    // Keras 3.0-3.9 configs have no data_format.
    assert.equal(layers.ZeroPadding1D.fromConfig({ name: 'old', padding: [1, 1] }).dataFormat, 'channels_last');
  });

  it('Cropping removes values at both ends, also when the length is unknown', async () => {
    const x = arange([2, 5, 2]);
    const y = new layers.Cropping1D({ cropping: [1, 2] }).apply(x);
    assert.deepEqual(y.shape, [2, 2, 2]);
    assert.deepEqual([...y.dataSync()], [2, 3, 4, 5, 12, 13, 14, 15]);
    await matchesWithUnknownDims(new layers.Cropping1D({ cropping: [1, 2] }), x, [0, 1]);
    await matchesWithUnknownDims(new layers.Cropping2D({ cropping: [[1, 0], [1, 2]] }), arange([2, 4, 5, 2]), [0, 1, 2]);
    const c2 = new layers.Cropping2D({ cropping: [[1, 0], [0, 1]], dataFormat: 'channels_first' }).apply(arange([1, 1, 3, 3]));
    assert.deepEqual([...c2.dataSync()], [3, 4, 6, 7]);
  });

  it('reject bad arguments and over-cropping', () => {
    assert.throws(() => new layers.ZeroPadding1D({ padding: [1, 2, 3] as never, name: 'z' }), /ZeroPadding1D 'z': padding must be a non-negative integer or a list of 2 non-negative integers. Received: padding=\[1, 2, 3\]/);
    assert.throws(() => new layers.ZeroPadding2D({ padding: [1, 2, 3] as never, name: 'z2' }), /ZeroPadding2D 'z2': padding should be an integer, a list of 2 integers/);
    assert.throws(() => new layers.ZeroPadding2D({ padding: [[1, -1], [0, 0]], name: 'z3' }), /ZeroPadding2D 'z3': 1st entry of padding must be a non-negative integer/);
    assert.throws(() => new layers.Cropping1D({ cropping: [3, 3], name: 'c' }).apply(strata.ones([1, 5, 2])), /Cropping1D 'c': the cropping parameter must be smaller than the input length. Received: input shape \(1, 5, 2\), cropping=\[3,3\]/);
    assert.throws(() => new layers.Cropping2D({ cropping: [[2, 2], [0, 0]], name: 'c2' }).apply(strata.ones([1, 4, 4, 1])), /Cropping2D 'c2': values in the cropping argument should be smaller than the corresponding spatial dimension/);
    assert.throws(() => new layers.Cropping1D({ cropping: [1, 1], name: 'c3' }).apply(strata.ones([1, 5])), /Input 0 of layer 'c3' is incompatible with the layer: expected ndim=3, found ndim=2/);
  });
});

describe('UpSampling', () => {
  it('UpSampling1D repeats each step (Keras docstring example)', () => {
    const y = new layers.UpSampling1D({ size: 2 }).apply(arange([2, 2, 3]));
    assert.deepEqual([...y.dataSync()].slice(0, 12), [0, 1, 2, 0, 1, 2, 3, 4, 5, 3, 4, 5]);
    assert.deepEqual(new layers.UpSampling1D({ size: 2, name: 'u' }).getConfig(), { name: 'u', trainable: true, dtype: DTYPE, size: 2 });
  });

  it('UpSampling2D nearest repeats rows and columns (Keras docstring example)', async () => {
    const y = new layers.UpSampling2D({ size: [1, 2] }).apply(arange([2, 2, 1, 3]));
    assert.deepEqual(y.shape, [2, 2, 2, 3]);
    assert.deepEqual([...y.dataSync()].slice(0, 12), [0, 1, 2, 0, 1, 2, 3, 4, 5, 3, 4, 5]);
    await matchesWithUnknownDims(new layers.UpSampling2D({ size: 2 }), arange([2, 2, 3, 1]), [0]);
    assert.deepEqual(new layers.UpSampling2D({ size: 2, name: 'u2' }).getConfig(), { name: 'u2', trainable: true, dtype: DTYPE, size: [2, 2], data_format: 'channels_last', interpolation: 'nearest' });
  });

  it('UpSampling2D bilinear matches a half-pixel bilinear resize', async () => {
    const img = [[1, 5, 2], [0, -3, 4]];
    for (const [sh, sw] of [[2, 2], [3, 2], [1, 4]]) {
      const x = strata.tensor(img.flat(), [1, 2, 3, 1]);
      const y = new layers.UpSampling2D({ size: [sh, sw], interpolation: 'bilinear' }).apply(x);
      assert.deepEqual(y.shape, [1, 2 * sh, 3 * sw, 1]);
      assertClose(y, bilinearReference(img, 2 * sh, 3 * sw), {}, `size ${sh}x${sw}`);
    }
    await matchesWithUnknownDims(new layers.UpSampling2D({ size: 2, interpolation: 'bilinear' }), randomTensor([2, 3, 2, 2], 5, -1, 1, 'float32'), [0]);
  });

  it('rejects bad arguments', () => {
    assert.throws(() => new layers.UpSampling1D({ size: 0, name: 'u' }), /UpSampling1D 'u': size should be a positive integer. Received: size=0/);
    assert.throws(() => new layers.UpSampling2D({ size: [2, 0], name: 'u2' }), /UpSampling2D 'u2': size must be a positive integer or a list of 2 positive integers/);
    assert.throws(() => new layers.UpSampling2D({ size: 2, name: 'u3', interpolation: 'bicubic' as never }), /UpSampling2D 'u3': interpolation must be 'nearest' or 'bilinear'/);
    assert.throws(() => new layers.UpSampling2D({ size: 2, name: 'u4' }).apply(strata.Input({ shape: [null, 3, 2] })), /UpSampling2D 'u4': the spatial dims must be known/);
  });
});
