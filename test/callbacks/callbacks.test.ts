import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as strata from '../../src/index.ts';
import type { Tensor } from '../../src/tensor/tensor.ts';
import type { Logs } from '../../src/callbacks/callback.ts';
import { randomTensor } from '../helpers/close.ts';

const { layers, callbacks } = strata;

/** A stand-in model for callback unit tests: weights are plain numbers. */
function fakeModel() {
  let weights = [strata.tensor([0])];
  return {
    name: 'fake',
    stopTraining: false,
    learningRate: 0.1,
    getWeights: () => weights,
    setWeights: (w: readonly Tensor[]) => {
      weights = [...w];
    },
  };
}

async function feed(cb: InstanceType<typeof callbacks.Callback>, model: ReturnType<typeof fakeModel>, values: number[], key = 'val_loss') {
  cb.setModel(model);
  await cb.onTrainBegin();
  let last = -1;
  for (let epoch = 0; epoch < values.length && !model.stopTraining; epoch++) {
    model.setWeights([strata.tensor([epoch])]);
    await cb.onEpochEnd(epoch, { [key]: values[epoch] } as Logs);
    last = epoch;
  }
  await cb.onTrainEnd();
  return last;
}

describe('EarlyStopping', () => {
  it('stops after `patience` epochs without improvement and restores the best weights', async () => {
    const model = fakeModel();
    const es = new callbacks.EarlyStopping({ monitor: 'val_loss', patience: 2, restoreBestWeights: true });
    const last = await feed(es, model, [1.0, 0.8, 0.9, 0.85, 0.7, 0.6]);
    assert.equal(last, 3, 'stops at epoch 3 (two epochs after the best, epoch 1)');
    assert.equal(es.stoppedEpoch, 3);
    assert.equal(es.bestEpoch, 1);
    assert.deepEqual([...model.getWeights()[0].dataSync()], [1], 'weights from epoch 1');
  });
  it('maximizes accuracy-like metrics in auto mode and honours minDelta and baseline', async () => {
    const model = fakeModel();
    const es = new callbacks.EarlyStopping({ monitor: 'val_accuracy', patience: 1, minDelta: 0.05 });
    assert.equal(es.mode, 'max');
    assert.equal(await feed(es, model, [0.5, 0.53, 0.9], 'val_accuracy'), 1, 'a gain below minDelta does not count');
    // An improvement that does not beat the baseline does not restart the wait (Keras's rule).
    const withBaseline = new callbacks.EarlyStopping({ monitor: 'val_loss', patience: 2, baseline: 0.5 });
    assert.equal(await feed(withBaseline, fakeModel(), [0.9, 0.95, 0.97, 0.99]), 1);
  });
  it('startFromEpoch ignores the first epochs', async () => {
    const es = new callbacks.EarlyStopping({ patience: 1, startFromEpoch: 3 });
    assert.equal(await feed(es, fakeModel(), [1, 2, 3, 4, 5, 6]), 4);
  });
  it('stops a real fit at the right epoch', async () => {
    strata.random.setRandomSeed(1);
    const model = new strata.Sequential([strata.Input({ shape: [2] }), new layers.Dense(1)]);
    model.compile({ optimizer: new strata.optimizers.SGD({ learningRate: 0 }), loss: 'mse' });
    // With a zero learning rate the loss never improves after the first epoch.
    const h = await model.fit(strata.ones([8, 2]), strata.zeros([8, 1]), { epochs: 10, verbose: 0, callbacks: [new callbacks.EarlyStopping({ monitor: 'loss', patience: 2 })] });
    assert.deepEqual(h.epoch, [0, 1, 2]);
  });
});

describe('ReduceLROnPlateau and LearningRateScheduler', () => {
  it('reduces the learning rate after patience epochs, honouring cooldown and minLr', async () => {
    // lr 0.1; a plateau from epoch 1: reduce at 1 (0.05), 2 (0.025, cooldown ended), 3 (0.02 = minLr), then stay.
    const expected = [0.1, 0.05, 0.025, 0.02, 0.02, 0.02];
    for (let epochs = 1; epochs <= 6; epochs++) {
      const model = fakeModel();
      await feed(new callbacks.ReduceLROnPlateau({ monitor: 'val_loss', factor: 0.5, patience: 1, cooldown: 1, minLr: 0.02 }), model, Array(epochs).fill(1));
      assert.ok(Math.abs(model.learningRate - expected[epochs - 1]) < 1e-12, `after ${epochs} epochs: ${model.learningRate}`);
    }
  });
  it('LearningRateScheduler sets the optimizer learning rate each epoch', async () => {
    strata.random.setRandomSeed(2);
    const model = new strata.Sequential([strata.Input({ shape: [2] }), new layers.Dense(1)]);
    model.compile({ optimizer: new strata.optimizers.SGD({ learningRate: 1 }), loss: 'mse' });
    const seen: number[] = [];
    await model.fit(strata.ones([4, 2]), strata.zeros([4, 1]), {
      epochs: 3,
      verbose: 0,
      callbacks: [new callbacks.LearningRateScheduler((epoch) => 0.1 / (epoch + 1)), new callbacks.LambdaCallback({ onEpochEnd: () => { seen.push(model.learningRate!); } })],
    });
    seen.forEach((lr, i) => assert.ok(Math.abs(lr - 0.1 / (i + 1)) < 1e-7, `${lr}`));
  });
});

describe('CSVLogger, LambdaCallback, ProgbarLogger', () => {
  it('CSVLogger writes a header and one row per epoch', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'strata-csv-'));
    const file = join(dir, 'log.csv');
    strata.random.setRandomSeed(3);
    const model = new strata.Sequential([strata.Input({ shape: [2] }), new layers.Dense(1)]);
    model.compile({ optimizer: 'sgd', loss: 'mse', metrics: ['mae'] });
    await model.fit(randomTensor([8, 2], 1, -1, 1, 'float32'), strata.zeros([8, 1]), { epochs: 3, verbose: 0, callbacks: [new callbacks.CSVLogger(file)] });
    // Keras's format: CRLF rows, and val_ columns reserved (NA) when the first epoch has no validation.
    const lines = readFileSync(file, 'utf8').trim().split('\r\n');
    assert.equal(lines[0], 'epoch,loss,mae,val_loss,val_mae');
    assert.equal(lines.length, 4);
    assert.match(lines[3], /^2,\d/);
  });
  it('ProgbarLogger prints Keras-style lines, one per epoch when not a terminal', async () => {
    let out = '';
    const stream = { write: (s: string) => { out += s; }, isTTY: false };
    const cb = new callbacks.ProgbarLogger({ stream });
    cb.setParams({ epochs: 2, steps: 3, verbose: 1 });
    for (let e = 0; e < 2; e++) {
      await cb.onEpochBegin(e);
      for (let b = 0; b < 3; b++) await cb.onTrainBatchEnd(b, { loss: 0.5 });
      await cb.onEpochEnd(e, { loss: 0.25, val_loss: 0.5, accuracy: 0.75 });
    }
    const lines = out.trim().split('\n');
    assert.equal(lines.length, 4);
    assert.equal(lines[0], 'Epoch 1/2');
    // Keras's order: keys as they first appear (batch logs, then the epoch's).
    assert.match(lines[1], /^3\/3 ━{20} \d+s \d+(us|ms)\/step - loss: 0\.2500 - val_loss: 0\.5000 - accuracy: 0\.7500$/);
  });
});
