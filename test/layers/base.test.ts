import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as strata from '../../src/index.ts';
import { Tensor } from '../../src/tensor/tensor.ts';
import { captureWarnings } from '../../src/engine/warnings.ts';
import { runLayerTest } from '../helpers/layer-test.ts';
import { assertClose, randomTensor } from '../helpers/close.ts';

const { layers, ops } = strata;

describe('layer test harness: core layers', () => {
  it('Dense', () => runLayerTest({ name: 'Dense', make: () => new layers.Dense(3, { activation: 'tanh' }), inputShape: [2, 4], expectedOutputShape: [2, 3], expectedTrainableWeights: 2, expectedNonTrainableWeights: 0, expectedWeightShapes: [[4, 3], [3]] }));
  it('Dense without bias on a rank-3 input', () => runLayerTest({ name: 'Dense3d', make: () => new layers.Dense(5, { useBias: false }), inputShape: [2, 3, 4], expectedOutputShape: [2, 3, 5], expectedWeightShapes: [[4, 5]] }));
  it('Activation', () => runLayerTest({ name: 'Activation', make: () => new layers.Activation('softmax'), inputShape: [2, 5], expectedOutputShape: [2, 5], expectedTrainableWeights: 0 }));
  it('Dropout', () => runLayerTest({ name: 'Dropout', make: () => new layers.Dropout(0.3, { seed: 1 }), inputShape: [4, 6], expectedOutputShape: [4, 6], expectedTrainableWeights: 0, expectedNonTrainableWeights: 0, randomInTraining: true }));
  it('Flatten', () => runLayerTest({ name: 'Flatten', make: () => new layers.Flatten(), inputShape: [2, 3, 4], expectedOutputShape: [2, 12] }));
  it('Flatten channels_first', () => runLayerTest({ name: 'FlattenCF', make: () => new layers.Flatten({ dataFormat: 'channels_first' }), inputShape: [2, 3, 2, 2], expectedOutputShape: [2, 12] }));
});

describe('Layer base', () => {
  it('computes Dense forward values independently: x @ kernel + bias', () => {
    const layer = new layers.Dense(2);
    const x = strata.tensor([[1, 2, 3]]);
    layer.apply(x);
    layer.setWeights([strata.tensor([[1, 0], [0, 1], [1, 1]]), strata.tensor([0.5, -0.5])]);
    assert.deepEqual([...layer.apply(x).dataSync()], [1 + 3 + 0.5, 2 + 3 - 0.5]);
  });

  it('builds lazily on the first call and names layers uniquely by class', () => {
    const a = new layers.Dense(2);
    const b = new layers.Dense(2);
    assert.match(a.name, /^dense(_\d+)?$/);
    assert.notEqual(a.name, b.name);
    assert.equal(a.built, false);
    assert.equal(a.weights.length, 0);
    a.apply(strata.ones([1, 3]));
    assert.equal(a.built, true);
    assert.deepEqual(a.weights.map((w) => w.path), [`${a.name}/kernel`, `${a.name}/bias`]);
  });

  it('a built layer called with the wrong last dimension names the layer, the expectation and the shape', () => {
    const d = new layers.Dense(2, { name: 'proj' });
    d.apply(strata.ones([1, 3]));
    assert.throws(() => d.apply(strata.ones([1, 4])), /Input 0 of layer 'proj' is incompatible with the layer: expected axis -1 of input shape to have value 3, but received input with shape \(1, 4\)/);
    assert.throws(() => d.apply(strata.ones([3])), /Input 0 of layer 'proj' is incompatible with the layer: expected min_ndim=2, found ndim=1/);
  });

  it('setWeights with a wrong shape names the layer and changes nothing', () => {
    const d = new layers.Dense(2, { name: 'setw' });
    d.apply(strata.ones([1, 3]));
    const before = d.getWeights().map((t) => [...t.dataSync()]);
    assert.throws(() => d.setWeights([strata.ones([3, 2]), strata.ones([3])]), /Layer 'setw' weight 1 \('setw\/bias'\) has shape \(2,\), but the value given has shape \(3,\)/);
    assert.throws(() => d.setWeights([strata.ones([3, 2])]), /Layer 'setw' expected 2 weights/);
    assert.deepEqual(d.getWeights().map((t) => [...t.dataSync()]), before);
  });

  it('tracks sublayers and variables held in fields, arrays and plain objects', () => {
    class Block extends layers.Layer {
      dense = new layers.Dense(4);
      heads = [new layers.Dense(2), new layers.Dense(3)];
      extras = { scale: new strata.Variable(strata.ones([4]), { name: 'scale' }) };
      call(x: Tensor) {
        const h = ops.multiply(this.dense.apply(x), this.extras.scale);
        return ops.concatenate([this.heads[0].apply(h), this.heads[1].apply(h)], -1);
      }
    }
    const block = new Block();
    const y = block.apply(strata.ones([2, 5]));
    assert.deepEqual(y.shape, [2, 5]);
    assert.equal(block.layers.length, 3);
    // The field-held variable is tracked, and weights of sublayers follow own variables.
    assert.equal(block.weights.length, 7);
    assert.ok(block.weights.includes(block.extras.scale));
    assert.equal(block.countParams(), 4 + (5 * 4 + 4) + (4 * 2 + 2) + (4 * 3 + 3));
  });

  it('warns, naming the layer and property, about a variable kept where it cannot be tracked', async () => {
    class Hidden extends layers.Layer {
      cache = new Map([['w', new strata.Variable(strata.ones([2]), { name: 'hidden_w' })]]);
      call(x: Tensor) {
        return ops.multiply(x, this.cache.get('w')!);
      }
    }
    const layer = new Hidden({ name: 'hider' });
    const { warnings } = await captureWarnings(() => {
      layer.apply(strata.ones([1, 2]));
      return layer.weights;
    });
    assert.equal(layer.weights.length, 0);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], /Layer 'hider' keeps Variable 'hidden_w' in property 'cache' inside a Map, where Strata cannot track it: it will not be trained, saved or counted/);
  });

  it('trainable = false freezes recursively; BatchNorm-style non-trainable weights stay non-trainable', () => {
    const inner = new strata.Sequential([strata.Input({ shape: [3] }), new layers.Dense(2)]);
    const outer = new strata.Sequential([strata.Input({ shape: [3] }), inner, new layers.Dense(1)]);
    assert.equal(outer.trainableWeights.length, 4);
    outer.trainable = false;
    assert.equal(inner.trainable, false);
    assert.equal(inner.layers[0].trainable, false);
    assert.equal(outer.trainableWeights.length, 0);
    assert.equal(outer.nonTrainableWeights.length, 4);
    outer.trainable = true;
    assert.equal(outer.trainableWeights.length, 4);
  });

  it('frozen weights get no gradient from a tape (they are not watched), with the reason', () => {
    const d = new layers.Dense(2);
    const x = strata.ones([1, 3]);
    d.apply(x);
    d.trainable = false;
    const tape = new strata.GradientTape();
    const loss = tape.record(() => ops.sum(d.apply(x)));
    assert.equal(tape.gradient(loss, d.weights[0]), null);
    assert.match(tape.whyNull(d.weights[0])!.message, /not trainable/);
  });

  it('collects weight regularization and activity regularization losses', () => {
    const d = new layers.Dense(2, { kernelRegularizer: new strata.regularizers.L2(0.5), activityRegularizer: new strata.regularizers.L1(0.1) });
    const x = strata.tensor([[1, -2, 3], [0, 1, 1]]);
    const y = d.apply(x);
    const kernel = d.weights[0].value;
    // Keras's order: the losses of the last call (activity) first, then weight regularizers.
    const [activityLoss, weightLoss] = d.losses;
    assertClose(weightLoss, ops.multiply(ops.sum(ops.square(kernel)), 0.5));
    // Keras divides the activity penalty by the batch size.
    assertClose(activityLoss, ops.divide(ops.multiply(ops.sum(ops.abs(y)), 0.1), 2));
  });

  it('inherits the training flag from the enclosing call', () => {
    class Net extends strata.Model {
      drop = new layers.Dropout(0.99, { seed: 3 });
      override call(x: Tensor) {
        return this.drop.apply(x);
      }
    }
    const net = new Net();
    const x = strata.ones([1, 200]);
    assert.deepEqual([...net.apply(x).dataSync()], [...x.dataSync()]);
    const trained = net.apply(x, { training: true }).dataSync();
    assert.ok(trained.filter((v) => v === 0).length > 150);
  });

  it('getConfig uses Keras keys and defaults', () => {
    const config = new layers.Dense(7, { name: 'cfg' }).getConfig();
    assert.deepEqual(config, {
      name: 'cfg',
      trainable: true,
      dtype: { module: 'keras', class_name: 'DTypePolicy', config: { name: 'float32' }, registered_name: null },
      units: 7,
      activation: 'linear',
      use_bias: true,
      kernel_initializer: { module: 'keras.initializers', class_name: 'GlorotUniform', config: { seed: null }, registered_name: null },
      bias_initializer: { module: 'keras.initializers', class_name: 'Zeros', config: {}, registered_name: null },
      kernel_regularizer: null,
      bias_regularizer: null,
      kernel_constraint: null,
      bias_constraint: null,
      quantization_config: null,
    });
  });

  it('a seeded model is built with the same weights every time', () => {
    const build = () => {
      strata.random.setRandomSeed(123);
      const m = new strata.Sequential([strata.Input({ shape: [4] }), new layers.Dense(3), new layers.Dense(2)]);
      return m.getWeights().map((t) => [...t.dataSync()]);
    };
    assert.deepEqual(build(), build());
  });
});

describe('models', () => {
  it('Sequential built from an Input, with add/pop, and lazily from its first call', () => {
    const m = new strata.Sequential([strata.Input({ shape: [4] }), new layers.Dense(3)]);
    m.add(new layers.Dense(2));
    assert.equal(m.layers.length, 2);
    assert.deepEqual(m.apply(strata.ones([5, 4])).shape, [5, 2]);
    m.pop();
    assert.deepEqual(m.apply(strata.ones([5, 4])).shape, [5, 3]);
    const lazy = new strata.Sequential([new layers.Dense(3), new layers.Dense(1)]);
    assert.equal(lazy.built, false);
    assert.deepEqual(lazy.apply(strata.ones([2, 6])).shape, [2, 1]);
    assert.equal(lazy.countParams(), 6 * 3 + 3 + 3 + 1);
  });

  it('functional models: multiple inputs and outputs, shared layers, nested models, getLayer', () => {
    const a = strata.Input({ shape: [4], name: 'a' });
    const b = strata.Input({ shape: [4], name: 'b' });
    const shared = new layers.Dense(3, { name: 'shared' });
    const ha = shared.apply(a);
    const hb = shared.apply(b);
    const inner = new strata.Sequential([strata.Input({ shape: [3] }), new layers.Dense(2, { name: 'inner_dense' })], { name: 'inner' });
    const out1 = inner.apply(ha);
    const out2 = new layers.Dense(1, { name: 'head' }).apply(hb);
    const model = new strata.Model({ inputs: [a, b], outputs: [out1, out2], name: 'two_heads' });
    assert.deepEqual(model.layers.map((l) => l.name), ['a', 'b', 'shared', 'inner', 'head']);
    assert.equal(model.getLayer('inner'), inner);
    // Parameters worked out by hand: shared 4*3+3, inner 3*2+2, head 3*1+1 (shared counted once).
    assert.equal(model.countParams(), 15 + 8 + 4);
    const xa = randomTensor([2, 4], 1, -1, 1, 'float32');
    const xb = randomTensor([2, 4], 2, -1, 1, 'float32');
    const [y1, y2] = model.apply([xa, xb]) as unknown as Tensor[];
    assertClose(y1, inner.apply(shared.apply(xa)));
    assertClose(y2, model.getLayer('head').apply(shared.apply(xb)));
  });

  it('the Keras MNIST convnet reports 34,826 parameters', () => {
    const model = new strata.Sequential([
      strata.Input({ shape: [28, 28, 1] }),
      new layers.Conv2D(32, 3, { activation: 'relu' }),
      new layers.MaxPooling2D(2),
      new layers.Conv2D(64, 3, { activation: 'relu' }),
      new layers.MaxPooling2D(2),
      new layers.Flatten(),
      new layers.Dropout(0.5),
      new layers.Dense(10, { activation: 'softmax' }),
    ]);
    assert.equal(model.countParams(), 34826);
    const lines: string[] = [];
    model.summary({ printFn: (l) => lines.push(l) });
    const text = lines.join('\n');
    assert.match(text, /conv2d(_\d+)? \(Conv2D\)\s+│ \(None, 26, 26, 32\)\s+│\s+320 │/);
    assert.match(text, /flatten(_\d+)? \(Flatten\)\s+│ \(None, 1600\)/);
    assert.match(text, /Total params: 34,826 \(136\.04 KB\)/);
    assert.match(text, /Trainable params: 34,826/);
    assert.match(text, /Non-trainable params: 0 \(0\.00 B\)/);
  });

  it('subclassed models track layers in fields and run call()', () => {
    class TwoLayer extends strata.Model {
      hidden = new layers.Dense(4, { activation: 'relu' });
      out = new layers.Dense(1);
      override call(x: Tensor) {
        return this.out.apply(this.hidden.apply(x));
      }
    }
    const m = new TwoLayer();
    assert.deepEqual(m.apply(strata.ones([3, 2])).shape, [3, 1]);
    assert.equal(m.layers.length, 2);
    assert.equal(m.countParams(), 2 * 4 + 4 + 4 + 1);
    assert.match(m.name, /^two_layer/);
  });

  it('connecting incompatible layers in a functional model fails at construction, naming the layer', () => {
    const x = strata.Input({ shape: [4] });
    const h = new layers.Dense(3, { name: 'first' }).apply(x);
    const second = new layers.Dense(2, { name: 'second' });
    second.apply(strata.Input({ shape: [5] }));
    assert.throws(() => second.apply(h), /Input 0 of layer 'second' is incompatible with the layer: expected axis -1 of input shape to have value 5, but received input with shape \(None, 3\)/);
  });

  it('duplicate layer names and disconnected graphs are clear errors', () => {
    const x = strata.Input({ shape: [2] });
    const y = new layers.Dense(2, { name: 'twin' }).apply(new layers.Dense(2, { name: 'twin' }).apply(x));
    assert.throws(() => new strata.Model({ inputs: x, outputs: y }), /all layer names should be unique, but the name 'twin' is used by two layers/);
    const other = strata.Input({ shape: [2], name: 'other_input' });
    const z = new layers.Dense(1).apply(other);
    assert.throws(() => new strata.Model({ inputs: x, outputs: z }), /Graph disconnected in model '.*': cannot obtain value for KerasTensor\(shape=\(None, 2\), dtype=float32, name=other_input/);
  });

  it('calling a model with the wrong input shape names the model and the input', () => {
    const x = strata.Input({ shape: [4], name: 'feat' });
    const model = new strata.Model({ inputs: x, outputs: new layers.Dense(1).apply(x), name: 'm1' });
    assert.throws(() => model.apply(strata.ones([2, 5])), /Input 0 of model 'm1' \(input layer 'feat'\) is incompatible: expected shape \(None, 4\), received \(2, 5\)/);
    assert.throws(() => model.apply(strata.ones([2, 4, 1])), /expected shape \(None, 4\), received \(2, 4, 1\)/);
  });

  it('a model runs inside strata.fn with the same result as eagerly, and is differentiable', async () => {
    const x = strata.Input({ shape: [3] });
    const model = new strata.Model({ inputs: x, outputs: new layers.Dense(2, { activation: 'sigmoid' }).apply(new layers.Dense(4, { activation: 'relu' }).apply(x)) });
    const data = randomTensor([5, 3], 4, -1, 1, 'float32');
    const compiled = strata.fn((t: Tensor) => model.apply(t));
    assertClose(await compiled(data), model.apply(data));
    const tape = new strata.GradientTape();
    const loss = tape.record(() => ops.sum(model.apply(data)));
    const grads = tape.gradient(loss, model.trainableWeights);
    assert.equal(grads.filter((g) => g !== null).length, 4);
  });
});

describe('computeOutputShape', () => {
  it('works for one shape and for several', () => {
    assert.deepEqual(new layers.Dense(3).computeOutputShape([null, 4]), [null, 3]);
    assert.deepEqual(new layers.Concatenate().computeOutputShape([[null, 2], [null, 5]]), [null, 7]);
  });
});
