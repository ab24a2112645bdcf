import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as strata from '../../src/index.ts';
import { data } from '../../src/index.ts';
import { captureWarnings } from '../../src/engine/warnings.ts';
import { randomTensor } from '../helpers/close.ts';

const { layers, ops } = strata;
const { Dataset } = data;

/** label = whether x·w > 0 */
function toyData(n: number, seed: number) {
  const x = randomTensor([n, 4], seed, -1, 1, 'float32');
  const y = ops.reshape(ops.cast(ops.greater(ops.matmul(x, strata.tensor([[1], [-2], [0.5], [3]])), 0), 'int32'), [-1]);
  return { x, y };
}

function mlp(seed: number) {
  strata.random.setRandomSeed(seed);
  const model = new strata.Sequential([strata.Input({ shape: [4] }), new layers.Dense(8, { activation: 'relu' }), new layers.Dense(2)]);
  model.compile({ optimizer: 'adam', loss: new strata.losses.SparseCategoricalCrossentropy({ fromLogits: true }), metrics: ['accuracy'] });
  return model;
}

class Recorder extends strata.callbacks.Callback {
  steps: unknown[] = [];
  batchesPerEpoch: number[] = [];
  private count = 0;
  override async onTrainBegin(): Promise<void> {
    this.steps.push((this.params as { steps?: unknown }).steps);
  }
  override async onEpochBegin(): Promise<void> {
    this.count = 0;
  }
  override async onTrainBatchEnd(): Promise<void> {
    this.count++;
  }
  override async onEpochEnd(): Promise<void> {
    this.batchesPerEpoch.push(this.count);
  }
}

describe('datasets in fit / evaluate / predict', () => {
  it('model.fit(ds) learns; evaluate(ds) and predict(ds) agree with the array path; progress knows the cardinality', async () => {
    const { x, y } = toyData(256, 1);
    const ds = Dataset.fromTensorSlices([x, y]).shuffle(256, { seed: 3 }).batch(32).prefetch(data.AUTOTUNE);
    const model = mlp(1);
    const rec = new Recorder();
    const h = await model.fit(ds, { epochs: 8, verbose: 0, callbacks: [rec] });
    assert.ok(h.history.loss[7] < h.history.loss[0], `loss ${h.history.loss[0]} -> ${h.history.loss[7]}`);
    assert.deepEqual(rec.steps, [8], 'steps per epoch from the dataset cardinality');
    assert.deepEqual(rec.batchesPerEpoch, Array(8).fill(8));
    const fromDs = (await model.evaluate(Dataset.fromTensorSlices([x, y]).batch(64), { verbose: 0, returnDict: true })) as Record<string, number>;
    // The Keras-like two-argument form and the explicit (ds, undefined, options) form are the same call.
    const explicit = (await model.evaluate(Dataset.fromTensorSlices([x, y]).batch(64), undefined, { verbose: 0, returnDict: true })) as Record<string, number>;
    assert.deepEqual(explicit, fromDs);
    const fromArrays = (await model.evaluate(x, y, { verbose: 0, returnDict: true, batchSize: 64 })) as Record<string, number>;
    assert.ok(Math.abs(fromDs.loss - fromArrays.loss) < 1e-5 && fromDs.accuracy === fromArrays.accuracy);
    const p1 = (await model.predict(Dataset.fromTensorSlices(x).batch(50))) as strata.Tensor;
    const p2 = (await model.predict(x, { batchSize: 50 })) as strata.Tensor;
    assert.deepEqual(p1.shape, [256, 2]);
    assert.deepEqual(Array.from(p1.dataSync()), Array.from(p2.dataSync()));
  });

  it('stepsPerEpoch with an infinite dataset: one pass continues across epochs', async () => {
    const { x, y } = toyData(64, 2);
    const taken: number[] = [];
    const ds = Dataset.fromTensorSlices([x, y])
      .batch(16)
      .enumerate()
      .map(([i, batch]) => {
        taken.push(i.item());
        return batch;
      })
      .repeat();
    assert.equal(ds.cardinality(), data.INFINITE_CARDINALITY);
    const model = mlp(2);
    const rec = new Recorder();
    await model.fit(ds, undefined, { epochs: 3, stepsPerEpoch: 3, verbose: 0, callbacks: [rec] });
    assert.deepEqual(rec.batchesPerEpoch, [3, 3, 3]);
    assert.deepEqual(rec.steps, [3]);
    // Epoch 2 starts at batch 3, not back at batch 0 (4 batches per pass, repeated).
    assert.deepEqual(taken.slice(0, 9), [0, 1, 2, 3, 0, 1, 2, 3, 0]);
    // A finite dataset with too few batches ends the epoch early with a warning, then starts a new pass.
    const short = Dataset.fromTensorSlices([x, y]).batch(16);
    const rec2 = new Recorder();
    const { warnings } = await captureWarnings(() => mlp(2).fit(short, undefined, { epochs: 2, stepsPerEpoch: 3, verbose: 0, callbacks: [rec2] }));
    assert.deepEqual(rec2.batchesPerEpoch, [3, 1]);
    assert.ok(warnings.some((w) => /ran out of data/.test(w)));
    // A pass used up exactly at the end of an epoch: the next epoch starts a new pass, without a warning (as Keras).
    const exact = Dataset.fromTensorSlices([x, y]).batch(16);
    const rec3 = new Recorder();
    const third = await captureWarnings(() => mlp(2).fit(exact, { epochs: 3, stepsPerEpoch: 4, verbose: 0, callbacks: [rec3] }));
    assert.deepEqual(rec3.batchesPerEpoch, [4, 4, 4]);
    assert.ok(!third.warnings.some((w) => /ran out of data/.test(w)), third.warnings.join('; '));
  });

  it('validationData as a dataset; dictionaries of inputs from a dataset', async () => {
    const { x, y } = toyData(128, 3);
    const model = mlp(3);
    const h = await model.fit(Dataset.fromTensorSlices([x, y]).batch(32), undefined, { epochs: 2, verbose: 0, validationData: Dataset.fromTensorSlices([x, y]).take(64).batch(32) });
    assert.equal(h.history.val_loss.length, 2);
    assert.ok(h.history.val_accuracy.every((v) => v >= 0 && v <= 1));
    const inA = strata.Input({ shape: [2], name: 'a' });
    const inB = strata.Input({ shape: [2], name: 'b' });
    const out = new layers.Dense(2).apply(new layers.Concatenate().apply([inA, inB]) as never);
    const fm = new strata.Model({ inputs: { a: inA, b: inB }, outputs: out as never });
    fm.compile({ optimizer: 'sgd', loss: new strata.losses.SparseCategoricalCrossentropy({ fromLogits: true }) });
    const dictDs = Dataset.fromTensorSlices({ x: { a: ops.slice(x, [0, 0], [128, 2]), b: ops.slice(x, [0, 2], [128, 2]) }, y }).batch(32);
    const h2 = await fm.fit(dictDs, undefined, { epochs: 1, verbose: 0 });
    assert.ok(Number.isFinite(h2.history.loss[0]));
  });

  it('determinism: the same seeds give the same order and the same training, run after run', async () => {
    const { x, y } = toyData(200, 4);
    const run = async () => {
      const ds = Dataset.fromTensorSlices([x, y]).shuffle(200, { seed: 11 }).batch(20);
      const model = mlp(5);
      const h = await model.fit(ds, undefined, { epochs: 3, verbose: 0 });
      return { loss: h.history.loss, weights: Array.from(model.trainableWeights[0].value.dataSync()) };
    };
    const a = await run();
    const b = await run();
    assert.deepEqual(a, b);
  });
});
