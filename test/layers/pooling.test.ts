import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as strata from '../../src/index.ts';
import { Tensor, TensorSpec } from '../../src/tensor/tensor.ts';
import { setMask } from '../../src/layers/layer.ts';
import { runLayerTest } from '../helpers/layer-test.ts';
import { assertClose, randomTensor } from '../helpers/close.ts';

const { layers, ops } = strata;

/** Max or mean over each window of a (N, H, W, C) input; 'same' pads as TensorFlow and leaves padding out. */
function naivePool2d(x: Tensor, mode: 'max' | 'avg', pool: number[], strides: number[], padding: 'valid' | 'same'): Tensor {
  const [N, H, W, C] = x.shape as number[];
  const xv = x.dataSync();
  const dims = [H, W].map((n, i) => {
    if (padding === 'valid') return { size: Math.floor((n - pool[i]) / strides[i]) + 1, before: 0 };
    const size = Math.ceil(n / strides[i]);
    return { size, before: Math.floor(Math.max((size - 1) * strides[i] + pool[i] - n, 0) / 2) };
  });
  const out = new Float64Array(N * dims[0].size * dims[1].size * C);
  let k = 0;
  for (let n = 0; n < N; n++)
    for (let i = 0; i < dims[0].size; i++)
      for (let j = 0; j < dims[1].size; j++)
        for (let c = 0; c < C; c++) {
          let acc = mode === 'max' ? -Infinity : 0;
          let count = 0;
          for (let a = 0; a < pool[0]; a++)
            for (let b = 0; b < pool[1]; b++) {
              const h = i * strides[0] + a - dims[0].before;
              const w = j * strides[1] + b - dims[1].before;
              if (h < 0 || h >= H || w < 0 || w >= W) continue;
              const v = xv[((n * H + h) * W + w) * C + c];
              acc = mode === 'max' ? Math.max(acc, v) : acc + v;
              count++;
            }
          out[k++] = mode === 'max' ? acc : acc / count;
        }
  return new Tensor([N, dims[0].size, dims[1].size, C], 'float64', out);
}

describe('layer test harness: pooling layers', () => {
  it('MaxPooling1D', () => runLayerTest({ name: 'MaxPooling1D', make: () => new layers.MaxPooling1D(), inputShape: [2, 6, 3], expectedOutputShape: [2, 3, 3], expectedTrainableWeights: 0, expectedNonTrainableWeights: 0 }));
  it('MaxPooling2D', () => runLayerTest({ name: 'MaxPooling2D', make: () => new layers.MaxPooling2D(2), inputShape: [2, 4, 5, 3], expectedOutputShape: [2, 2, 2, 3], expectedTrainableWeights: 0 }));
  it('MaxPooling2D same, strides 1', () => runLayerTest({ name: 'MaxPooling2DSame', make: () => new layers.MaxPooling2D([2, 3], { strides: 1, padding: 'same' }), inputShape: [2, 3, 4, 2], expectedOutputShape: [2, 3, 4, 2] }));
  it('AveragePooling1D channels_first', () => runLayerTest({ name: 'AveragePooling1DCF', make: () => new layers.AveragePooling1D(3, { strides: 2, dataFormat: 'channels_first' }), inputShape: [2, 3, 7], expectedOutputShape: [2, 3, 3] }));
  it('AveragePooling2D same, strides 2', () => runLayerTest({ name: 'AveragePooling2DSame', make: () => new layers.AveragePooling2D(3, { strides: 2, padding: 'same' }), inputShape: [1, 5, 5, 2], expectedOutputShape: [1, 3, 3, 2] }));
  it('GlobalAveragePooling1D', () => runLayerTest({ name: 'GlobalAveragePooling1D', make: () => new layers.GlobalAveragePooling1D(), inputShape: [2, 5, 3], expectedOutputShape: [2, 3] }));
  it('GlobalAveragePooling2D keepdims', () => runLayerTest({ name: 'GlobalAveragePooling2DKeep', make: () => new layers.GlobalAveragePooling2D({ keepdims: true }), inputShape: [2, 4, 3, 3], expectedOutputShape: [2, 1, 1, 3] }));
  it('GlobalAveragePooling2D channels_first', () => runLayerTest({ name: 'GlobalAveragePooling2DCF', make: () => new layers.GlobalAveragePooling2D({ dataFormat: 'channels_first' }), inputShape: [2, 3, 4, 4], expectedOutputShape: [2, 3] }));
  it('GlobalAveragePooling3D', () => runLayerTest({ name: 'GlobalAveragePooling3D', make: () => new layers.GlobalAveragePooling3D(), inputShape: [1, 2, 3, 2, 4], expectedOutputShape: [1, 4] }));
  it('GlobalMaxPooling1D channels_first keepdims', () => runLayerTest({ name: 'GlobalMaxPooling1D', make: () => new layers.GlobalMaxPooling1D({ dataFormat: 'channels_first', keepdims: true }), inputShape: [2, 3, 5], expectedOutputShape: [2, 3, 1] }));
  it('GlobalMaxPooling2D', () => runLayerTest({ name: 'GlobalMaxPooling2D', make: () => new layers.GlobalMaxPooling2D(), inputShape: [2, 4, 4, 3], expectedOutputShape: [2, 3] }));
  it('GlobalMaxPooling3D', () => runLayerTest({ name: 'GlobalMaxPooling3D', make: () => new layers.GlobalMaxPooling3D({ keepdims: true }), inputShape: [1, 2, 2, 3, 2], expectedOutputShape: [1, 1, 1, 1, 2] }));
});

describe('pooling layers: values', () => {
  it('max and average pooling match naive loops (valid, same, uneven strides)', () => {
    const x = randomTensor([2, 5, 6, 3], 1, -1, 1, 'float64');
    const cases: { pool: number[]; strides: number[]; padding: 'valid' | 'same' }[] = [
      { pool: [2, 2], strides: [2, 2], padding: 'valid' },
      { pool: [3, 3], strides: [2, 2], padding: 'same' },
      { pool: [2, 3], strides: [1, 2], padding: 'same' },
      { pool: [3, 2], strides: [1, 1], padding: 'valid' },
    ];
    for (const { pool, strides, padding } of cases) {
      const label = JSON.stringify({ pool, strides, padding });
      const max = new layers.MaxPooling2D(pool, { strides, padding, dtype: 'float64' });
      const avg = new layers.AveragePooling2D(pool, { strides, padding, dtype: 'float64' });
      assertClose(max.apply(x), naivePool2d(x, 'max', pool, strides, padding), { rtol: 1e-12, atol: 0 }, `max ${label}`);
      assertClose(avg.apply(x), naivePool2d(x, 'avg', pool, strides, padding), { rtol: 1e-12, atol: 1e-15 }, `avg ${label}`);
    }
  });

  it('1-D pooling and channels_first match the 2-D reference', () => {
    const x = randomTensor([2, 7, 3], 2, -1, 1, 'float64');
    const y = new layers.AveragePooling1D(3, { strides: 2, padding: 'same', dtype: 'float64' }).apply(x);
    assertClose(y, ops.squeeze(naivePool2d(ops.expandDims(x, 1), 'avg', [1, 3], [1, 2], 'same'), 1), { rtol: 1e-12 });
    const xcf = ops.transpose(x, [0, 2, 1]);
    const m = new layers.MaxPooling1D(2, { dataFormat: 'channels_first', dtype: 'float64' }).apply(xcf);
    assertClose(ops.transpose(m, [0, 2, 1]), ops.squeeze(naivePool2d(ops.expandDims(x, 1), 'max', [1, 2], [1, 2], 'valid'), 1), { rtol: 1e-12 });
  });

  it('global pooling reduces every spatial dim', () => {
    const x = strata.tensor([[[[1, -1], [2, 5]], [[3, 0], [6, -2]]]]); // (1, 2, 2, 2)
    assert.deepEqual([...new layers.GlobalAveragePooling2D().apply(x).dataSync()], [3, 0.5]);
    assert.deepEqual([...new layers.GlobalMaxPooling2D().apply(x).dataSync()], [6, 5]);
    assert.deepEqual([...new layers.GlobalMaxPooling2D({ dataFormat: 'channels_first' }).apply(x).dataSync()], [5, 6]);
    assert.deepEqual(new layers.GlobalAveragePooling1D({ keepdims: true }).apply(strata.ones([3, 4, 2])).shape, [3, 1, 2]);
  });

  it('GlobalAveragePooling1D leaves masked steps out and outputs no mask', () => {
    const x = strata.tensor([
      [[1, 10], [3, 30], [100, 100]],
      [[2, 4], [6, 8], [7, 9]],
    ]);
    const mask = strata.tensor([[true, true, false], [true, true, true]]);
    const gap = new layers.GlobalAveragePooling1D();
    assertClose(gap.apply(x, { mask }), [2, 20, 5, 7]);
    assertClose(gap.apply(x), [104 / 3, 140 / 3, 5, 7]);
    // channels_first with the mask attached to the input (as a masking layer leaves it).
    const xcf = ops.transpose(x, [0, 2, 1]);
    setMask(xcf, mask);
    const out = new layers.GlobalAveragePooling1D({ dataFormat: 'channels_first', keepdims: true }).apply(xcf);
    assert.deepEqual(out.shape, [2, 2, 1]);
    assertClose(out, [2, 20, 5, 7]);
    assert.equal(strata.layers.getMask(out), null);
    assert.equal(gap.computeMask(), null);
  });

  it('work with unknown batch and spatial dims', async () => {
    const pool = new layers.MaxPooling2D(2, { padding: 'same' });
    const gap = new layers.GlobalAveragePooling2D();
    const f = strata.fn((x: Tensor) => gap.apply(pool.apply(x)), { inputSignature: [new TensorSpec([null, null, null, 3])] });
    for (const shape of [[2, 5, 3, 3], [1, 4, 4, 3]]) {
      const x = randomTensor(shape, 3, -1, 1, 'float32');
      assertClose((await f(x)) as Tensor, gap.apply(pool.apply(x)), { rtol: 1e-6, atol: 1e-6 });
    }
    assert.deepEqual(new layers.AveragePooling1D(2).apply(strata.Input({ shape: [null, 4] })).shape, [null, null, 4]);
  });
});

describe('pooling layers: configs and errors', () => {
  it("configs use Keras's keys and defaults", () => {
    const c = new layers.MaxPooling2D().getConfig();
    assert.deepEqual(c.pool_size, [2, 2]);
    assert.deepEqual(c.strides, [2, 2]);
    assert.equal(c.padding, 'valid');
    assert.equal(c.data_format, 'channels_last');
    assert.deepEqual(new layers.AveragePooling1D(3, { strides: 1 }).getConfig().strides, [1]);
    const g = new layers.GlobalMaxPooling1D().getConfig();
    assert.equal(g.keepdims, false);
    assert.equal(g.data_format, 'channels_last');
    assert.match(new layers.MaxPooling2D().name, /^max_pooling2d(_\d+)?$/);
    assert.match(new layers.GlobalAveragePooling2D().name, /^global_average_pooling2d(_\d+)?$/);
    assert.equal(layers.MaxPool2D, layers.MaxPooling2D);
  });

  it('bad arguments and inputs get clear errors', () => {
    assert.throws(() => new layers.MaxPooling2D([2], { name: 'p' }), /MaxPooling2D 'p': poolSize must be a positive integer or a list of 2 positive integers .*Received: poolSize=\[2\]/);
    assert.throws(() => new layers.AveragePooling1D(2, { name: 'p', padding: 'causal' as never }), /AveragePooling1D 'p': padding must be 'valid' or 'same'/);
    assert.throws(() => new layers.MaxPooling1D(2, { name: 'p', strides: 0 }), /MaxPooling1D 'p': strides must be a positive integer/);
    assert.throws(() => new layers.GlobalMaxPooling2D({ name: 'g', dataFormat: 'NCHW' as never }), /GlobalMaxPooling2D 'g': dataFormat must be 'channels_last' or 'channels_first'/);
    assert.throws(() => new layers.MaxPooling2D(2, { name: 'pool' }).apply(strata.ones([2, 4, 4])), /Input 0 of layer 'pool' is incompatible with the layer: expected ndim=4, found ndim=3/);
    assert.throws(() => new layers.MaxPooling2D(3, { name: 'small' }).apply(strata.ones([1, 2, 4, 1])), /MaxPooling2D 'small': the input of shape \(1, 2, 4, 1\) is too small for poolSize=\[3,3\]/);
    assert.throws(() => new layers.GlobalAveragePooling1D({ name: 'gap' }).apply(strata.ones([2, 3, 4, 5])), /Input 0 of layer 'gap' is incompatible with the layer: expected ndim=3, found ndim=4/);
  });
});
