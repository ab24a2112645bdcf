import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as strata from '../../src/index.ts';
import { Tensor } from '../../src/tensor/tensor.ts';
import { captureWarnings } from '../../src/engine/warnings.ts';
import { loadData } from '../../src/datasets/mnist.ts';
import type { Structure } from '../../src/training/data-adapter.ts';
import { assertClose, randomTensor } from '../helpers/close.ts';

const { layers, ops } = strata;

/** A small classification problem: label = whether x·w > 0. */
function toyData(n: number, seed: number) {
  const x = randomTensor([n, 4], seed, -1, 1, 'float32');
  const y = ops.cast(ops.greater(ops.matmul(x, strata.tensor([[1], [-2], [0.5], [3]])), 0), 'int32');
  return { x, y: ops.reshape(y, [-1]) };
}

function mlp(seed: number, withDropout = false) {
  strata.random.setRandomSeed(seed);
  return new strata.Sequential([
    strata.Input({ shape: [4] }),
    new layers.Dense(8, { activation: 'relu' }),
    ...(withDropout ? [new layers.Dropout(0.3)] : []),
    new layers.Dense(2),
  ]);
}

const sparseLogits = () => new strata.losses.SparseCategoricalCrossentropy({ fromLogits: true });

describe('fit / evaluate / predict', () => {
  it('learns: the MNIST CNN on a subset reaches a reasonable test accuracy', async () => {
    strata.random.setRandomSeed(3);
    const { train, test } = loadData({ trainCount: 2000, testCount: 500 });
    const model = new strata.Sequential([
      strata.Input({ shape: [28, 28, 1] }),
      new layers.Conv2D(16, 3, { activation: 'relu' }),
      new layers.MaxPooling2D(2),
      new layers.Flatten(),
      new layers.Dense(10, { activation: 'softmax' }),
    ]);
    model.compile({ optimizer: 'adam', loss: 'sparse_categorical_crossentropy', metrics: ['accuracy'] });
    const history = await model.fit(train.images, train.labels, { epochs: 2, batchSize: 32, verbose: 0 });
    assert.ok(history.history.loss[1] < history.history.loss[0], 'loss falls');
    const result = (await model.evaluate(test.images, test.labels, { verbose: 0, returnDict: true })) as Record<string, number>;
    assert.ok(result.accuracy > 0.85, `test accuracy ${result.accuracy}`);
  });

  it('History records every epoch with validation metrics', async () => {
    const { x, y } = toyData(200, 1);
    const model = mlp(1);
    model.compile({ optimizer: 'adam', loss: sparseLogits(), metrics: ['accuracy'] });
    const h = await model.fit(x, y, { epochs: 3, batchSize: 32, validationSplit: 0.25, verbose: 0 });
    assert.deepEqual(h.epoch, [0, 1, 2]);
    assert.deepEqual(Object.keys(h.history).sort(), ['accuracy', 'loss', 'val_accuracy', 'val_loss']);
    assert.ok(h.history.val_loss.every(Number.isFinite));
  });

  it('evaluate matches a hand computation of the loss and accuracy on the same weights', async () => {
    const { x, y } = toyData(64, 2);
    const model = mlp(2);
    model.compile({ optimizer: 'sgd', loss: sparseLogits(), metrics: ['accuracy'] });
    const result = (await model.evaluate(x, y, { verbose: 0, returnDict: true, batchSize: 16 })) as Record<string, number>;
    const logits = model.apply(x);
    const expectedLoss = ops.mean(ops.sparseCategoricalCrossentropy(y, logits, { fromLogits: true })).item();
    const expectedAcc = ops.mean(ops.cast(ops.equal(ops.argmax(logits, -1), y), 'float32')).item();
    assert.ok(Math.abs(result.loss - expectedLoss) < 1e-5, `${result.loss} vs ${expectedLoss}`);
    assert.ok(Math.abs(result.accuracy - expectedAcc) < 1e-6);
  });

  it('predict concatenates batches and equals the eager forward pass (dropout off)', async () => {
    const { x } = toyData(70, 3);
    const model = mlp(3, true);
    model.compile({ optimizer: 'sgd', loss: sparseLogits() });
    const p1 = (await model.predict(x, { batchSize: 16 })) as Tensor;
    const p2 = (await model.predict(x, { batchSize: 32 })) as Tensor;
    assert.deepEqual(p1.shape, [70, 2]);
    assertClose(p1, model.apply(x), { rtol: 1e-5, atol: 1e-6 });
    assertClose(p2, p1, { rtol: 1e-6, atol: 1e-7 });
  });

  it('eager and compiled training give the same weights after the same steps, for every optimizer', async () => {
    const { x, y } = toyData(96, 4);
    for (const opt of ['sgd', 'adam', 'adamw', 'rmsprop', 'adagrad', 'adadelta', 'adamax', 'nadam', 'lion']) {
      const run = async (runEagerly: boolean) => {
        const model = mlp(4);
        model.compile({ optimizer: opt, loss: sparseLogits(), runEagerly });
        await model.fit(x, y, { epochs: 1, batchSize: 16, shuffle: false, verbose: 0, stepsPerEpoch: 5 });
        return model.getWeights();
      };
      const eager = await run(true);
      const compiled = await run(false);
      eager.forEach((w, i) => assertClose(compiled[i], w, { rtol: 1e-4, atol: 1e-6 }, `${opt} weight ${i}`));
    }
  });

  it('the same seed gives bit-identical weights, eager and compiled (shuffling and dropout included)', async () => {
    const { x, y } = toyData(128, 5);
    for (const runEagerly of [false, true]) {
      const run = async () => {
        const model = mlp(11, true);
        model.compile({ optimizer: 'adam', loss: sparseLogits(), runEagerly });
        await model.fit(x, y, { epochs: 2, batchSize: 16, verbose: 0 });
        return model.getWeights().map((w) => [...w.dataSync()]);
      };
      assert.deepEqual(await run(), await run());
    }
  });

  it('stepsPerExecution runs several steps per compiled call with the same result', async () => {
    const { x, y } = toyData(100, 6);
    const run = async (stepsPerExecution: number) => {
      const model = mlp(6);
      model.compile({ optimizer: 'adam', loss: sparseLogits(), stepsPerExecution });
      await model.fit(x, y, { epochs: 1, batchSize: 10, shuffle: false, verbose: 0 });
      return model.getWeights();
    };
    const one = await run(1);
    const four = await run(4);
    one.forEach((w, i) => assertClose(four[i], w, { rtol: 1e-5, atol: 1e-6 }));
  });

  it('sample weights and class weights change the loss as Keras defines it', async () => {
    const x = strata.tensor([[1, 0, 0, 0], [0, 1, 0, 0]]);
    const y = strata.tensor([0, 1], undefined, 'int32');
    const model = mlp(7);
    model.compile({ optimizer: 'sgd', loss: sparseLogits() });
    const perSample = ops.sparseCategoricalCrossentropy(y, model.apply(x), { fromLogits: true }).dataSync();
    const weighted = (await model.evaluate(x, y, { sampleWeight: strata.tensor([3, 1]), verbose: 0 })) as number;
    assert.ok(Math.abs(weighted - (3 * perSample[0] + perSample[1]) / 2) < 1e-5);
    const sw = strata.callbacks; void sw;
    const { classWeightsToSampleWeights } = await import('../../src/training/trainer.ts');
    assert.deepEqual([...classWeightsToSampleWeights(y, { 0: 2, 1: 0.5 }).dataSync()], [2, 0.5]);
  });

  it('multi-output functional models: per-output losses, loss weights and metric names', async () => {
    const inp = strata.Input({ shape: [4] });
    const h = new layers.Dense(6, { activation: 'relu' }).apply(inp);
    const a = new layers.Dense(1, { name: 'reg' }).apply(h);
    const b = new layers.Dense(3, { name: 'cls' }).apply(h);
    const model = new strata.Model({ inputs: inp, outputs: [a, b] });
    model.compile({ optimizer: 'adam', loss: { reg: 'mse', cls: sparseLogits() }, lossWeights: { reg: 0.5, cls: 1 }, metrics: { reg: ['mae'], cls: ['accuracy'] } });
    const x = randomTensor([32, 4], 8, -1, 1, 'float32');
    const yReg = randomTensor([32, 1], 9, -1, 1, 'float32');
    const yCls = strata.tensor(Int32Array.from({ length: 32 }, (_, i) => i % 3));
    const h1 = await model.fit(x, [yReg, yCls], { epochs: 1, batchSize: 8, verbose: 0 });
    assert.deepEqual(Object.keys(h1.history).sort(), ['cls_accuracy', 'cls_loss', 'loss', 'reg_loss', 'reg_mae']);
    const r = (await model.evaluate(x, [yReg, yCls], { verbose: 0, returnDict: true, batchSize: 32 })) as Record<string, number>;
    assert.ok(Math.abs(r.loss - (0.5 * r.reg_loss + r.cls_loss)) < 1e-5, JSON.stringify(r));
  });

  it('batches of varying sequence length (paddedBatch) train compiled like eagerly, widening the signature instead of failing', async () => {
    const { Dataset } = strata.data;
    // Batch k holds sequences of length 2 + k (so every batch has another length); the label is whether token 1 occurs.
    const sequences = Array.from({ length: 48 }, (_, i) => Array.from({ length: 2 + Math.floor(i / 8) }, (_, k) => 1 + ((i * 7 + k * 3) % 9)));
    const labels = sequences.map((q) => (q.includes(1) ? 1 : 0));
    const dataset = () =>
      Dataset.fromGenerator(function* () {
        for (let i = 0; i < sequences.length; i++) yield [strata.tensor(sequences[i], undefined, 'int32'), strata.tensor(labels[i], undefined, 'int32')];
      }, { outputSignature: [new strata.TensorSpec([null], 'int32'), new strata.TensorSpec([], 'int32')] }).paddedBatch(8);
    const make = (runEagerly: boolean) => {
      strata.random.setRandomSeed(9);
      const m = new strata.Sequential([strata.Input({ shape: [null], dtype: 'int32' }), new layers.Embedding(12, 4), new layers.GlobalAveragePooling1D(), new layers.Dense(2)]);
      m.compile({ optimizer: 'adam', loss: sparseLogits(), metrics: ['accuracy'], runEagerly });
      return m;
    };
    const compiled = make(false);
    const eager = make(true);
    await compiled.fit(dataset(), { epochs: 2, verbose: 0 });
    await eager.fit(dataset(), { epochs: 2, verbose: 0 });
    compiled.getWeights().forEach((w, i) => assertClose(w, eager.getWeights()[i], { rtol: 1e-5, atol: 1e-6 }, `weight ${i}`));
    // predict and evaluate on lengths never seen in training.
    const long = strata.tensor([Array.from({ length: 15 }, (_, k) => 1 + (k % 9))], undefined, 'int32');
    const short = strata.tensor([[1]], undefined, 'int32');
    for (const x of [long, short]) {
      assertClose((await compiled.predict(x, { verbose: 0 })) as Tensor, compiled.apply(x) as Tensor, { rtol: 1e-5, atol: 1e-6 });
    }
    const evaluated = (await compiled.evaluate(dataset(), { verbose: 0, returnDict: true })) as Record<string, number>;
    assert.ok(Number.isFinite(evaluated.loss));
  });

  it('batches that alternate between structures (with and without sample weights) trace each structure once, not on every call', async () => {
    // WideningFunction kept one function: a batch of another structure replaced it, so
    // trainOnBatch / testOnBatch alternating with and without sampleWeight retraced every call.
    class Counting extends strata.Sequential {
      trains = 0;
      tests = 0;
      override trainStep(batch: Parameters<strata.Sequential['trainStep']>[0]) {
        this.trains++;
        return super.trainStep(batch);
      }
      override testStep(batch: Parameters<strata.Sequential['testStep']>[0]) {
        this.tests++;
        return super.testStep(batch);
      }
    }
    const model = new Counting([strata.Input({ shape: [4] }), new layers.Dense(1)]);
    model.compile({ optimizer: 'sgd', loss: 'mse' });
    const { x } = toyData(8, 21);
    const y = randomTensor([8, 1], 22, -1, 1, 'float32');
    const sampleWeight = strata.tensor(new Float32Array(8).fill(0.5));
    for (let i = 0; i < 6; i++) {
      await model.trainOnBatch(x, y, i % 2 ? { sampleWeight } : {});
      await model.testOnBatch(x, y, i % 2 ? { sampleWeight } : {});
    }
    assert.deepEqual([model.trains, model.tests], [2, 2], 'one trace with and one without sample weights');
  });

  it('trainOnBatch without targets (a loss computed from x alone) runs compiled like eagerly', async () => {
    // The compiled step's signature held `undefined` for the missing y, which strata.fn's
    // inputSignature refuses ("expected TensorSpecs ... Received: undefined").
    class AutoEncoder extends strata.Sequential {
      override computeLoss(x: Structure, _y: Structure | undefined, yPred: Structure) {
        return ops.mean(ops.square(ops.subtract(yPred as Tensor, x as Tensor)));
      }
    }
    const make = (runEagerly: boolean) => {
      strata.random.setRandomSeed(4);
      const m = new AutoEncoder([strata.Input({ shape: [4] }), new layers.Dense(2), new layers.Dense(4)]);
      m.compile({ optimizer: 'sgd', runEagerly });
      return m;
    };
    const { x } = toyData(16, 23);
    const [compiled, eager] = [make(false), make(true)];
    for (let i = 0; i < 3; i++) {
      const [c, e] = [await compiled.trainOnBatch(x), await eager.trainOnBatch(x)];
      assert.ok(Math.abs((c as number) - (e as number)) < 1e-5, `step ${i}: loss ${c} compiled, ${e} eagerly`);
    }
    compiled.getWeights().forEach((w, i) => assertClose(w, eager.getWeights()[i], { rtol: 1e-5, atol: 1e-6 }, `weight ${i}`));
  });

  it('compile() again resets the predict function too: runEagerly applies to predict', async () => {
    const model = mlp(4);
    const x = toyData(8, 4).x;
    await model.predict(x, { verbose: 0 });
    model.compile({ optimizer: 'sgd', loss: sparseLogits(), runEagerly: true });
    let eagerCalls = 0;
    const original = model.predictStep.bind(model);
    model.predictStep = (data) => {
      // Traced, the step sees symbolic tensors; run eagerly, real ones.
      if (!(data.x as Tensor).isSymbolic) eagerCalls++;
      return original(data);
    };
    await model.predict(x, { verbose: 0 });
    assert.ok(eagerCalls > 0, 'predict ran the step eagerly after compile({runEagerly: true})');
  });

  it('an overridden trainStep runs compiled', async () => {
    class Custom extends strata.Sequential {
      calls = 0;
      override trainStep(batch: Parameters<strata.Sequential['trainStep']>[0]) {
        this.calls++;
        return { ...super.trainStep(batch), custom: ops.multiply(strata.tensor(2), 1) };
      }
    }
    const model = new Custom([strata.Input({ shape: [4] }), new layers.Dense(1)]);
    model.compile({ optimizer: 'sgd', loss: 'mse' });
    const { x } = toyData(40, 9);
    const h = await model.fit(x, randomTensor([40, 1], 10, -1, 1, 'float32'), { epochs: 2, batchSize: 8, verbose: 0 });
    assert.deepEqual(h.history.custom, [2, 2]);
    assert.equal(model.calls, 1, 'traced once, then run as a graph');
  });

  it('warns once, after the first step, about weights that receive no gradient, with the reason', async () => {
    class Partly extends strata.Model {
      used = new layers.Dense(2);
      unused = new layers.Dense(2);
      override call(x: Tensor) {
        this.unused.apply(x);
        return this.used.apply(x);
      }
    }
    const model = new Partly();
    model.compile({ optimizer: 'sgd', loss: 'mse' });
    const { x } = toyData(16, 12);
    const { warnings } = await captureWarnings(() => model.fit(x, randomTensor([16, 2], 1, -1, 1, 'float32'), { epochs: 2, batchSize: 4, verbose: 0 }));
    const relevant = warnings.filter((w) => w.includes('Gradients do not exist'));
    assert.equal(relevant.length, 1);
    assert.ok(relevant[0].includes(`${model.unused.name}/kernel`), relevant[0]);
    assert.ok(!relevant[0].includes(`${model.used.name}/kernel`), relevant[0]);
    assert.match(relevant[0], /the target does not depend on it/);
  });
});

describe('training errors', () => {
  it('fit before compile', async () => {
    await assert.rejects(mlp(1).fit(strata.ones([4, 4]), strata.zeros([4])), /You must call compile\(\) before fit\(\)/);
  });
  it('x and y with different numbers of samples', async () => {
    const model = mlp(1);
    model.compile({ optimizer: 'sgd', loss: 'mse' });
    await assert.rejects(model.fit(strata.ones([10, 4]), strata.zeros([9, 2])), /Data cardinality is ambiguous: x \(10, 4\) has 10 samples but y \(9, 2\) has 9/);
  });
  it('unknown loss, metric and optimizer names list the valid ones', () => {
    assert.throws(() => mlp(1).compile({ optimizer: 'adamm', loss: 'mse' }), /adamm.*adam/s);
    const model = mlp(1);
    model.compile({ optimizer: 'sgd', loss: 'mse_typo' as never });
    return assert.rejects(model.fit(strata.ones([4, 4]), strata.zeros([4, 2]), { verbose: 0 }), /mse_typo/);
  });
  it('labels of the wrong shape for the loss name the loss and suggest the right one', async () => {
    const model = mlp(1);
    model.compile({ optimizer: 'sgd', loss: 'sparse_categorical_crossentropy' });
    await assert.rejects(model.fit(strata.ones([4, 4]), strata.zeros([4, 2]), { verbose: 0 }), /sparse_categorical_crossentropy.*use CategoricalCrossentropy/s);
  });
  it('a NaN loss stops training cleanly with TerminateOnNaN', async () => {
    const model = mlp(1);
    model.compile({ optimizer: 'sgd', loss: 'mse' });
    const stop = new strata.callbacks.TerminateOnNaN();
    const x = strata.tensor([[NaN, 0, 0, 0], [1, 1, 1, 1]]);
    const h = await model.fit(x, strata.zeros([2, 2]), { epochs: 5, batchSize: 1, shuffle: false, verbose: 0, callbacks: [stop] });
    assert.deepEqual(stop.stoppedAt, { epoch: 0, batch: 0 });
    assert.equal(h.epoch.length, 1);
  });
});
