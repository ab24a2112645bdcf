import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as strata from '../../src/index.ts';
import { Tensor } from '../../src/tensor/tensor.ts';
import { captureWarnings } from '../../src/engine/warnings.ts';
import { registerSerializable } from '../../src/serialization/registry.ts';
import { runLayerTest } from '../helpers/layer-test.ts';
import { assertClose, randomTensor } from '../helpers/close.ts';

const { layers, ops } = strata;

const intTensor = (values: number[], shape: number[]) => strata.tensor(values, shape, 'int32');

function cube(x: Tensor): Tensor {
  return ops.multiply(ops.square(x), x);
}
registerSerializable(cube, { package: 'core_test' });

function scaleBy(x: Tensor, extras: { factor?: unknown }): Tensor {
  return ops.multiply(x, extras.factor as number);
}
registerSerializable(scaleBy, { package: 'core_test' });

const DTYPE = { module: 'keras', class_name: 'DTypePolicy', config: { name: 'float32' }, registered_name: null };

describe('layer test harness: core layers', () => {
  it('Identity', () => runLayerTest({ name: 'Identity', make: () => new layers.Identity(), inputShape: [2, 3], expectedOutputShape: [2, 3], expectedTrainableWeights: 0 }));
  it('Lambda (registered function)', () => runLayerTest({ name: 'Lambda', make: () => new layers.Lambda(cube), inputShape: [2, 3, 4], expectedOutputShape: [2, 3, 4], expectedTrainableWeights: 0 }));
  it('Lambda with arguments', () => runLayerTest({ name: 'LambdaArgs', make: () => new layers.Lambda(scaleBy, { arguments: { factor: 3 } }), inputShape: [2, 5], expectedOutputShape: [2, 5] }));
  it('Masking', () => runLayerTest({ name: 'Masking', make: () => new layers.Masking({ maskValue: 0.5 }), inputShape: [2, 3, 4], expectedOutputShape: [2, 3, 4] }));
  it('Embedding', () =>
    runLayerTest({
      name: 'Embedding',
      make: () => new layers.Embedding(10, 4),
      inputShape: [2, 3],
      input: () => intTensor([1, 2, 3, 0, 9, 4], [2, 3]),
      expectedOutputShape: [2, 3, 4],
      expectedTrainableWeights: 1,
      expectedWeightShapes: [[10, 4]],
    }));
  it('Embedding with maskZero on rank-3 indices', () =>
    runLayerTest({
      name: 'EmbeddingMask',
      make: () => new layers.Embedding(6, 2, { maskZero: true }),
      inputShape: [2, 2, 2],
      input: () => intTensor([0, 1, 2, 3, 4, 5, 0, 0], [2, 2, 2]),
      expectedOutputShape: [2, 2, 2, 2],
      expectedWeightShapes: [[6, 2]],
    }));
  it('EinsumDense ab,bc->ac', () => runLayerTest({ name: 'EinsumDense', make: () => new layers.EinsumDense('ab,bc->ac', 5, { biasAxes: 'c', activation: 'tanh' }), inputShape: [2, 3], expectedOutputShape: [2, 5], expectedWeightShapes: [[3, 5], [5]] }));
  it('EinsumDense abc,cd->abd', () => runLayerTest({ name: 'EinsumDenseSeq', make: () => new layers.EinsumDense('abc,cd->abd', [null, 4], { biasAxes: 'd' }), inputShape: [2, 3, 6], expectedOutputShape: [2, 3, 4], expectedWeightShapes: [[6, 4], [4]] }));
  it('EinsumDense ...x,xy->...y', () => runLayerTest({ name: 'EinsumDenseEllipsis', make: () => new layers.EinsumDense('...x,xy->...y', 3, { biasAxes: 'y' }), inputShape: [2, 4, 5], expectedOutputShape: [2, 4, 3], expectedWeightShapes: [[5, 3], [3]] }));
  it('EinsumDense abc,cde->abde (multi-head projection)', () =>
    runLayerTest({ name: 'EinsumDenseHeads', make: () => new layers.EinsumDense('abc,cde->abde', [null, 2, 3], { biasAxes: 'de' }), inputShape: [2, 4, 5], expectedOutputShape: [2, 4, 2, 3], expectedWeightShapes: [[5, 2, 3], [2, 3]] }));
  it('ActivityRegularization', () => runLayerTest({ name: 'ActivityRegularization', make: () => new layers.ActivityRegularization({ l1: 0.1, l2: 0.01 }), inputShape: [2, 3], expectedOutputShape: [2, 3] }));
  it('Rescaling', () => runLayerTest({ name: 'Rescaling', make: () => new layers.Rescaling(1 / 127.5, { offset: -1 }), inputShape: [2, 4, 4, 3], expectedOutputShape: [2, 4, 4, 3] }));
  it('Rescaling per channel', () => runLayerTest({ name: 'RescalingChannels', make: () => new layers.Rescaling([1, 2, 3], { offset: [0, 0.5, 1] }), inputShape: [2, 3], expectedOutputShape: [2, 3] }));
});

describe('Identity', () => {
  it('returns its input and passes the mask through', () => {
    const x = strata.tensor([[1, 0], [0, 0]]);
    const masked = new layers.Masking().apply(x);
    const y = new layers.Identity().apply(masked);
    assert.deepEqual([...y.dataSync()], [1, 0, 0, 0]);
    assert.deepEqual([...strata.layers.getMask(y)!.dataSync()], [1, 0]);
  });
});

describe('Lambda', () => {
  it('computes its function, passing arguments, mask and training', async () => {
    const x = strata.tensor([[1, -2, 3]]);
    assertClose(new layers.Lambda(cube).apply(x), [1, -8, 27]);
    assertClose(new layers.Lambda(scaleBy, { arguments: { factor: -2 } }).apply(x), [-2, 4, -6]);
    const seen: unknown[] = [];
    const { result: probe } = await captureWarnings(() =>
      new layers.Lambda((t: Tensor, extras) => {
        seen.push(extras.training, extras.mask);
        return t;
      }),
    );
    probe.apply(x, { training: true });
    assert.deepEqual(seen, [true, null]);
  });

  it('stores a registered function by name and loads it back', () => {
    const layer = new layers.Lambda(cube, { name: 'cuber', outputShape: [3] });
    const config = layer.getConfig();
    assert.deepEqual(config, {
      name: 'cuber',
      trainable: true,
      dtype: DTYPE,
      function: { module: null, class_name: 'function', config: 'cube', registered_name: 'core_test>cube' },
      output_shape: [3],
      arguments: {},
    });
    const clone = layers.Lambda.fromConfig(JSON.parse(JSON.stringify(config)));
    assert.equal(clone.function, cube);
    assert.deepEqual(clone.computeOutputShape([null, 3]), [null, 3]);
  });

  it('warns once per unregistered function; stores its source, which loads only outside safe mode', async () => {
    const double = (t: Tensor) => strata.ops.multiply(t, 2);
    const { result: layer, warnings } = await captureWarnings(() => {
      const first = new layers.Lambda(double, { name: 'doubler' });
      new layers.Lambda(double);
      return first;
    });
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], /Lambda 'doubler': a Lambda layer is saved with its function only when the function is registered .*prefer writing a Layer subclass/);
    const config = layer.getConfig();
    const fnConfig = config.function as { class_name: string; config: { code: string; defaults: null; closure: null } };
    assert.equal(fnConfig.class_name, '__lambda__');
    assert.match(fnConfig.config.code, /multiply\(t,\s?2\)/);
    assert.equal(fnConfig.config.defaults, null);
    const json = JSON.parse(JSON.stringify(config));
    assert.throws(() => layers.Lambda.fromConfig(json), /Lambda 'doubler' function: the function was saved as source code .* refused in safe mode/);
    // Outside safe mode the source is evaluated; this one only uses its argument and a global.
    (globalThis as Record<string, unknown>).strata = strata;
    try {
      const clone = (await captureWarnings(() => layers.Lambda.fromConfig(json, { safeMode: false }))).result;
      assertClose(clone.apply(strata.tensor([1, 2])), [2, 4]);
    } finally {
      delete (globalThis as Record<string, unknown>).strata;
    }
  });

  it('an unregistered name in a config is an UnknownObjectError', () => {
    const config = { name: 'l', trainable: true, dtype: DTYPE, function: { module: null, class_name: 'function', config: 'nowhere', registered_name: 'pkg>nowhere' }, arguments: {} };
    assert.throws(() => layers.Lambda.fromConfig(config), /Unknown object at Lambda 'l' function: 'pkg>nowhere \(class nowhere\)'/);
  });

  it('computes a mask with its mask function and works in a functional model', () => {
    const keepPositive = (x: unknown) => ops.greater(ops.sum(x as Tensor, -1), 0);
    registerSerializable(keepPositive, { package: 'core_test' });
    const input = strata.Input({ shape: [2, 2] });
    const out = new layers.Lambda(cube, { mask: keepPositive }).apply(input);
    assert.deepEqual(out.shape, [null, 2, 2]);
    const model = new strata.Model({ inputs: input, outputs: out });
    const y = model.apply(strata.tensor([[[1, 1], [-1, -2]]]));
    assertClose(y, [1, 1, -1, -8]);
    const direct = new layers.Lambda(cube, { mask: keepPositive }).apply(strata.tensor([[[1, 1], [-1, -2]]]));
    assert.deepEqual([...strata.layers.getMask(direct)!.dataSync()], [1, 0]);
  });

  it('rejects bad arguments', () => {
    assert.throws(() => new layers.Lambda(42 as never, { name: 'bad' }), /Lambda 'bad': the first argument must be a function/);
    assert.throws(() => new layers.Lambda(cube, { name: 'bad2', outputShape: [2.5] }), /Lambda 'bad2': outputShape must be a list of dims/);
  });
});

describe('Masking', () => {
  it('masks timesteps where every feature equals maskValue and zeroes them', () => {
    const x = strata.tensor([[[1, 2], [7, 7], [0, 7]], [[7, 7], [3, 7], [7, 7]]]);
    const layer = new layers.Masking({ maskValue: 7 });
    const y = layer.apply(x);
    assert.deepEqual([...y.dataSync()], [1, 2, 0, 0, 0, 7, 0, 0, 3, 7, 0, 0]);
    assert.deepEqual([...strata.layers.getMask(y)!.dataSync()], [1, 0, 1, 0, 1, 0]);
    assert.deepEqual(layer.getConfig(), { name: layer.name, trainable: true, dtype: DTYPE, mask_value: 7 });
  });

  it('propagates its mask through a functional model', () => {
    const input = strata.Input({ shape: [3, 2] });
    const masked = new layers.Masking().apply(input);
    assert.deepEqual(masked.mask?.shape, [null, 3]);
    const out = new layers.Dense(2).apply(masked);
    assert.ok(out.mask, 'Dense passes the mask on');
  });
});

describe('Embedding', () => {
  it('looks up rows of the embedding matrix (float indices are cast)', () => {
    const layer = new layers.Embedding(4, 2, { weights: [[0, 1], [2, 3], [4, 5], [6, 7]] });
    assert.ok(layer.built);
    const y = layer.apply(intTensor([3, 0, 1, 1], [2, 2]));
    assert.deepEqual(y.shape, [2, 2, 2]);
    assert.deepEqual([...y.dataSync()], [6, 7, 0, 1, 2, 3, 2, 3]);
    assert.equal(y.dtype, 'float32');
    assert.deepEqual([...layer.apply(strata.tensor([[2]])).dataSync()], [4, 5]);
    assert.equal(layer.computeMask(intTensor([0, 1], [1, 2])), null);
  });

  it('with maskZero, index 0 is masked and the mask reaches the next layer', () => {
    const layer = new layers.Embedding(5, 3, { maskZero: true });
    const ids = intTensor([0, 2, 4, 0], [2, 2]);
    const y = layer.apply(ids);
    assert.deepEqual([...strata.layers.getMask(y)!.dataSync()], [0, 1, 1, 0]);
    const input = strata.Input({ shape: [4], dtype: 'int32' });
    const emb = layer.apply(input);
    assert.deepEqual(emb.mask?.shape, [null, 4]);
  });

  it('a gradient reaches only the looked-up rows', () => {
    const layer = new layers.Embedding(4, 2);
    const ids = intTensor([1, 1, 3], [1, 3]);
    layer.apply(ids);
    const tape = new strata.GradientTape();
    const loss = tape.record(() => ops.sum(layer.apply(ids)));
    const [g] = tape.gradient(loss, layer.trainableWeights);
    assert.deepEqual([...g!.dataSync()], [0, 0, 2, 2, 0, 0, 1, 1]);
  });

  it('writes Keras config keys', () => {
    const layer = new layers.Embedding(10, 3, { name: 'emb' });
    assert.deepEqual(layer.getConfig(), {
      name: 'emb',
      trainable: true,
      dtype: DTYPE,
      input_dim: 10,
      output_dim: 3,
      embeddings_initializer: { module: 'keras.initializers', class_name: 'RandomUniform', config: { seed: null, minval: -0.05, maxval: 0.05 }, registered_name: null },
      embeddings_regularizer: null,
      activity_regularizer: null,
      embeddings_constraint: null,
      mask_zero: false,
      quantization_config: null,
    });
  });

  it('rejects bad arguments and quantized configs', () => {
    assert.throws(() => new layers.Embedding(0, 3, { name: 'e0' }), /Embedding 'e0': inputDim must be a positive integer. Received: inputDim=0/);
    assert.throws(() => new layers.Embedding(3, 1.5, { name: 'e1' }), /Embedding 'e1': outputDim must be a positive integer/);
    assert.throws(() => layers.Embedding.fromConfig({ name: 'q', input_dim: 2, output_dim: 2, quantization_config: { mode: 'int8' } }), /Embedding 'q': quantized embeddings/);
    const layer = new layers.Embedding(3, 2);
    assert.throws(() => layer.apply(intTensor([5], [1, 1])), /take/);
  });
});

describe('EinsumDense', () => {
  it('matches ops.einsum with the same weights', () => {
    const layer = new layers.EinsumDense('abc,cde->abde', [null, 2, 3], { biasAxes: 'e' });
    const x = randomTensor([2, 4, 5], 3, -1, 1, 'float32');
    const y = layer.apply(x);
    assert.deepEqual(layer.weights.map((w) => w.shape), [[5, 2, 3], [3]]);
    layer.setWeights([randomTensor([5, 2, 3], 4, -1, 1, 'float32'), strata.tensor([1, 2, 3])]);
    const [k, b] = layer.getWeights();
    assertClose(layer.apply(x), ops.add(ops.einsum('abc,cde->abde', x, k), b));
    assert.deepEqual(y.shape, [2, 4, 2, 3]);
  });

  it('derives Keras kernel and bias shapes from the equation', () => {
    const shapes = (eq: string, out: number | (number | null)[], bias: string | null, input: (number | null)[]) => {
      const l = new layers.EinsumDense(eq, out, { biasAxes: bias });
      l.buildFromShape(input);
      return { weights: l.weights.map((w) => [...w.shape]), output: l.fullOutputShape };
    };
    assert.deepEqual(shapes('ab,bc->ac', 64, 'c', [null, 32]), { weights: [[32, 64], [64]], output: [null, 64] });
    // Keras's full output shape keeps the nulls of outputShape.
    assert.deepEqual(shapes('abc,cd->abd', [null, 64], 'd', [null, 32, 128]), { weights: [[128, 64], [64]], output: [null, null, 64] });
    assert.deepEqual(shapes('...x,xy->...y', 64, 'y', [null, 32, 128]), { weights: [[128, 64], [64]], output: [null, 32, 64] });
    // Bias spans from the first bias label to the end; right-elided dims get 1s.
    assert.deepEqual(shapes('abc,cde->abde', [null, 4, 8], 'd', [null, 3, 16]), { weights: [[16, 4, 8], [4, 1]], output: [null, null, 4, 8] });
    assert.deepEqual(shapes('ab...,bc->ac...', 6, 'c', [null, 5, 7]), { weights: [[5, 6], [6, 1]], output: [null, 6, 7] });
  });

  it('works in a functional model with an unknown sequence length', () => {
    const input = strata.Input({ shape: [null, 6] });
    const out = new layers.EinsumDense('abc,cd->abd', [null, 4], { biasAxes: 'd' }).apply(input);
    assert.deepEqual(out.shape, [null, null, 4]);
    const model = new strata.Model({ inputs: input, outputs: out });
    assert.deepEqual(model.apply(strata.ones([2, 5, 6])).shape, [2, 5, 4]);
  });

  it('gives the eager result in a graph traced with unknown batch and sequence dims', async () => {
    const cases: [string, (number | null)[], string | null][] = [
      ['abc,cde->abde', [null, 2, 3], 'de'],
      ['...x,xy->...y', [3], 'y'],
      ['abc,dc->adb', [4, null], null],
      ['abcd,cde->abe', [null, 3], 'e'],
    ];
    for (const [eq, out, bias] of cases) {
      const layer = new layers.EinsumDense(eq, out, { biasAxes: bias, biasInitializer: 'ones' });
      const rank = eq.startsWith('abcd') ? 4 : 3;
      const shape = rank === 4 ? [2, 3, 4, 2] : [2, 3, 5];
      const x = randomTensor(shape, 11, -1, 1, 'float32');
      const eager = layer.apply(x);
      const spec = new strata.TensorSpec(shape.map((d, i) => (i < 2 ? null : d)));
      const traced = strata.fn((t: Tensor) => layer.apply(t), { inputSignature: [spec], name: `einsum_dense_${eq.replace(/\W/g, '_')}` });
      assertClose(await traced(x), eager, { rtol: 1e-5, atol: 1e-5 }, eq);
    }
  });

  it('writes Keras config keys', () => {
    const config = new layers.EinsumDense('ab,bc->ac', 4, { name: 'ed', biasAxes: 'c' }).getConfig();
    assert.deepEqual(Object.keys(config).sort(), [
      'activation', 'activity_regularizer', 'bias_axes', 'bias_constraint', 'bias_initializer', 'bias_regularizer', 'dtype', 'equation',
      'kernel_constraint', 'kernel_initializer', 'kernel_regularizer', 'name', 'output_shape', 'quantization_config', 'trainable',
    ]);
    assert.deepEqual(config.output_shape, [4]);
    assert.equal(config.bias_axes, 'c');
    assert.equal(config.activation, 'linear');
  });

  it('rejects bad equations, bias axes and shapes with clear errors', () => {
    assert.throws(() => new layers.EinsumDense('ab,bc', 4, { name: 'e1' }), /EinsumDense 'e1': equation must be an einsum string/);
    assert.throws(() => new layers.EinsumDense('a1,bc->ac', 4, { name: 'e2' }), /EinsumDense 'e2': invalid einsum equation 'a1,bc->ac'/);
    assert.throws(() => new layers.EinsumDense('ab,bc->ac', 4, { name: 'e3', biasAxes: 'x' }), /EinsumDense 'e3': bias dimension 'x' was requested, but is not part of the output spec 'ac'/);
    assert.throws(() => new layers.EinsumDense('ab,bc->ac', [4, 5], { name: 'e4' }).apply(strata.ones([2, 3])), /EinsumDense 'e4': outputShape \[4,5\] has 2 dims, but the output 'ac' of equation 'ab,bc->ac' needs 1/);
    assert.throws(() => new layers.EinsumDense('ab,bd->ac', 4, { name: 'e5' }).apply(strata.ones([2, 3])), /EinsumDense 'e5': dimension 'c' was specified in the output 'ac' but has no corresponding dim/);
    assert.throws(() => new layers.EinsumDense('abc,cd->abd', [3, 4], { name: 'e6' }).apply(strata.ones([2, 5, 6])), /EinsumDense 'e6': input shape and output shape do not match at shared dimension 'b'/);
    const built = new layers.EinsumDense('ab,bc->ac', 4, { name: 'e7' });
    built.apply(strata.ones([2, 3]));
    assert.throws(() => built.apply(strata.ones([2, 3, 1])), /Input 0 of layer 'e7' is incompatible with the layer: expected ndim=2, found ndim=3/);
    assert.throws(() => new layers.EinsumDense('abc,cd->abd', [null, 4], { name: 'e8' }).buildFromShape([null, 3, null]), /EinsumDense 'e8': the kernel shape \(None, 4\) .* has unknown dims/);
  });
});

describe('ActivityRegularization', () => {
  it('is the identity and adds (l1 sum|x| + l2 sum x^2) / batch to the losses', () => {
    const layer = new layers.ActivityRegularization({ l1: 0.5, l2: 0.25 });
    const x = strata.tensor([[1, -2], [3, 0]]);
    const y = layer.apply(x);
    assert.deepEqual([...y.dataSync()], [1, -2, 3, 0]);
    assert.equal(layer.losses.length, 1);
    assertClose(layer.losses[0], (0.5 * 6 + 0.25 * 14) / 2);
    const config = layer.getConfig();
    assert.deepEqual(config, { name: layer.name, trainable: true, dtype: DTYPE, l1: 0.5, l2: 0.25 });
  });

  it('rejects negative factors', () => {
    assert.throws(() => new layers.ActivityRegularization({ name: 'ar', l1: -1 }), /ActivityRegularization 'ar': l1 must be a finite number >= 0. Received: l1=-1/);
  });
});

describe('Rescaling', () => {
  it('computes x * scale + offset, casting integer inputs to float', () => {
    const layer = new layers.Rescaling(1 / 255, { offset: 0.5 });
    const y = layer.apply(intTensor([0, 255, 51], [1, 3]));
    assert.equal(y.dtype, 'float32');
    assertClose(y, [0.5, 1.5, 0.7]);
    const perChannel = new layers.Rescaling([1, 10], { offset: [0, 1] });
    assertClose(perChannel.apply(strata.tensor([[1, 2], [3, 4]])), [1, 21, 3, 41]);
  });

  it('writes numbers and lists as Keras writes Python numbers and lists, keeps NumPy objects read from files, and reads all three', () => {
    const layer = new layers.Rescaling([1, 2], { offset: 0.5, name: 'rs' });
    const config = layer.getConfig();
    assert.deepEqual(config.scale, [1, 2]);
    assert.equal(config.offset, 0.5);
    assert.deepEqual(layers.Rescaling.fromConfig({ name: 'a', scale: [3, 4], offset: 0 }).scale, [3, 4]);
    const numpy = { class_name: '__numpy__', config: { value: [1, 2], dtype: 'float32' } };
    const fromNumpy = layers.Rescaling.fromConfig({ name: 'n', scale: numpy, offset: [0, 1] });
    assert.deepEqual(fromNumpy.scale, [1, 2]);
    assert.deepEqual(fromNumpy.getConfig().scale, numpy);
    assert.deepEqual(fromNumpy.getConfig().offset, [0, 1]);
    assert.throws(() => new layers.Rescaling(Number.NaN, { offset: 0, name: 'nan' }), /Rescaling 'nan': scale must be a finite number or a non-empty list/);
  });
});
