/**
 * Strata's callbacks against Keras 3 references (test/fixtures/callbacks/
 * keras_reference.json, from make_fixtures.py): the same scripted logs, the
 * same outcomes.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AsyncLocalStorage } from 'node:async_hooks';
import * as strata from '../../src/index.ts';
import type { Logs } from '../../src/callbacks/callback.ts';
import { formatFilepath } from '../../src/callbacks/checkpoint.ts';
import { captureWarnings } from '../../src/engine/warnings.ts';

const { layers, callbacks } = strata;

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Any = any;
const fx: Any = JSON.parse(readFileSync(new URL('../fixtures/callbacks/keras_reference.json', import.meta.url), 'utf8'), (_k, v) =>
  v && typeof v === 'object' && '$f' in v ? ({ nan: NaN, inf: Infinity, '-inf': -Infinity } as Record<string, number>)[v.$f] : v,
);

const camel = (o: Record<string, unknown>) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k.replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase()), v]));

function tinyModel(lr = 0.1, metrics: string[] = []) {
  strata.random.setRandomSeed(0);
  const model = new strata.Sequential([strata.Input({ shape: [1] }), new layers.Dense(1)]);
  model.compile({ optimizer: new strata.optimizers.SGD({ learningRate: lr }), loss: 'mse', metrics });
  return model;
}

async function builtModel(lr = 0.1, metrics: string[] = []) {
  const model = tinyModel(lr, metrics);
  // Compiled metrics exist after the first step (as in Keras).
  if (metrics.length) await model.fit(strata.zeros([2, 1]), strata.zeros([2, 1]), { epochs: 1, verbose: 0 });
  model.learningRate = lr;
  return model;
}

function mark(model: strata.Sequential, epoch: number) {
  model.setWeights(model.getWeights().map((w) => strata.fill(w.shape as number[], epoch)));
}

const capturing = new AsyncLocalStorage<{ text: string }>();
const originalWrite = process.stdout.write.bind(process.stdout);
// Only writes made from inside captureStdout's async context are captured;
// the test reporter's own writes (other contexts) pass through.
process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
  const store = capturing.getStore();
  if (store && typeof chunk === 'string') {
    store.text += chunk;
    return true;
  }
  return (originalWrite as (...a: unknown[]) => boolean)(chunk, ...rest);
}) as typeof process.stdout.write;

async function captureStdout<T>(fn: () => Promise<T>): Promise<{ result: T; stdout: string; warnings: string[] }> {
  const store = { text: '' };
  const { result, warnings } = await capturing.run(store, () => captureWarnings(fn));
  return { result, stdout: store.text, warnings };
}

async function drive(cb: InstanceType<typeof callbacks.Callback>, model: strata.Sequential, seq: (number | null)[], key: string) {
  return captureStdout(async () => {
    cb.setModel(model as never);
    cb.setParams({ epochs: seq.length, steps: 1, verbose: 0 });
    model.stopTraining = false;
    await cb.onTrainBegin({});
    const ran: number[] = [];
    const lr: number[] = [];
    const logsLr: (number | null)[] = [];
    for (let epoch = 0; epoch < seq.length; epoch++) {
      if (model.stopTraining) break;
      mark(model, epoch);
      await cb.onEpochBegin(epoch, {});
      const logs: Logs = seq[epoch] === null ? { other: 1 } : { [key]: seq[epoch]! };
      await cb.onEpochEnd(epoch, logs);
      ran.push(epoch);
      lr.push(model.learningRate!);
      logsLr.push(logs.learning_rate ?? null);
    }
    await cb.onTrainEnd({});
    return { ran, lr, logsLr, stop: model.stopTraining, weightsEpoch: model.getWeights()[0].dataSync()[0] };
  });
}

describe('Keras reference: EarlyStopping', () => {
  for (const c of fx.early_stopping) {
    it(c.name, async () => {
      const model = await builtModel(0.1, c.key === 'val_accuracy' ? ['accuracy'] : []);
      const cb = new callbacks.EarlyStopping(camel(c.options) as never);
      const { result, stdout } = await drive(cb, model, c.seq, c.key);
      assert.deepEqual(result.ran, c.ran, 'epochs run');
      assert.equal(result.stop, c.stop_training);
      assert.equal(cb.stoppedEpoch, c.stopped_epoch);
      assert.equal(cb.bestEpoch, c.best_epoch);
      assert.equal(cb.wait, c.wait);
      assert.equal(result.weightsEpoch, c.final_weights_epoch, 'weights at the end (restored epoch)');
      assert.equal(stdout, c.stdout);
    });
  }
});

describe("Keras reference: mode 'auto'", () => {
  const sets: Record<string, string[] | null> = { none: [], accuracy: ['accuracy'], acc: ['acc'], mae: ['mae'], mse_name: ['mean_squared_error'], auc: ['auc'], precision: ['precision'], rmse: ['root_mean_squared_error'], cosine: ['cosine_similarity'], bce: ['binary_crossentropy'] };
  for (const c of fx.auto_mode) {
    it(`${c.monitor} with metrics ${c.metrics}`, async () => {
      const model = await builtModel(0.1, sets[c.metrics]!);
      const cb = new callbacks.EarlyStopping({ monitor: c.monitor, patience: 100 });
      cb.setModel(model as never);
      await cb.onTrainBegin();
      if (c.error) {
        await assert.rejects(captureWarnings(() => cb.onEpochEnd(0, { [c.monitor]: 1 })), /isn't able to automatically determine/);
      } else {
        await captureWarnings(() => cb.onEpochEnd(0, { [c.monitor]: 1 }));
        assert.equal(cb.mode, c.direction);
      }
    });
  }
});

describe('Keras reference: ReduceLROnPlateau', () => {
  for (const c of fx.reduce_lr) {
    it(c.name, async () => {
      const model = await builtModel(c.initial_lr, c.key === 'val_accuracy' ? ['accuracy'] : []);
      const { result, stdout } = await drive(new callbacks.ReduceLROnPlateau(camel(c.options) as never), model, c.seq, c.key);
      assert.deepEqual(result.ran, c.ran);
      assert.deepEqual(result.lr, c.lr, 'learning rate after each epoch');
      assert.deepEqual(result.logsLr, c.logs_learning_rate.map((v: number | null) => v ?? null), 'logs.learning_rate');
      assert.equal(stdout, c.stdout);
    });
  }
});

describe('Keras reference: LearningRateScheduler', () => {
  const fns: Record<string, (e: number, lr: number) => number> = {
    'halve each epoch, verbose': (_e, lr) => lr * 0.5,
    'by epoch': (e) => 0.1 / (e + 1),
    'step decay': (e, lr) => (e < 2 ? lr : lr * 0.1),
  };
  for (const c of fx.lr_scheduler) {
    it(c.name, async () => {
      const model = await builtModel(0.1);
      const { result, stdout } = await drive(new callbacks.LearningRateScheduler(fns[c.name], c.verbose), model, [1, 1, 1, 1], 'loss');
      assert.deepEqual(result.lr, c.lr);
      assert.deepEqual(result.logsLr, c.logs_learning_rate);
      assert.equal(stdout, c.stdout);
    });
  }
});

describe('Keras reference: ModelCheckpoint filepath formatting', () => {
  for (const c of fx.filepath_format) {
    it(`${c.template} ${JSON.stringify(c.logs)}`, () => {
      const hasBatchLog = 'batch' in c.logs;
      const values = { ...c.logs, epoch: c.epoch + 1, ...(c.batch === null || hasBatchLog ? {} : { batch: c.batch + 1 }) };
      const ints = new Set(['epoch', ...(c.batch === null || hasBatchLog ? [] : ['batch'])]);
      if (c.error) assert.throws(() => formatFilepath(c.template, values, ints));
      else assert.equal(formatFilepath(c.template, values, ints), c.path);
    });
  }
});

describe('Keras reference: ModelCheckpoint', () => {
  for (const c of fx.model_checkpoint) {
    it(c.name, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'strata-kref-ckpt-'));
      const model = await builtModel(0.1, c.key === 'val_accuracy' ? ['accuracy'] : []);
      const cb = new callbacks.ModelCheckpoint(join(dir, c.template), camel(c.options) as never);
      const written: string[][] = [];
      const { stdout } = await captureStdout(async () => {
        cb.setModel(model as never);
        cb.setParams({ epochs: c.seq.length, steps: c.steps ?? 1, verbose: 0 });
        await cb.onTrainBegin({});
        const diff = async (f: () => Promise<void>) => {
          const before = new Set(readdirSync(dir));
          await f();
          written.push(readdirSync(dir).filter((n) => !before.has(n)).sort());
        };
        for (let epoch = 0; epoch < c.seq.length; epoch++) {
          await cb.onEpochBegin(epoch);
          for (let b = 0; b < (c.steps ?? 0); b++) await diff(() => cb.onTrainBatchEnd(b, { ...(c.batch_logs ?? { loss: 1 }) }));
          await diff(() => cb.onEpochEnd(epoch, c.seq[epoch] === null ? {} : { [c.key]: c.seq[epoch] }));
        }
        await cb.onTrainEnd({});
      });
      assert.deepEqual(written, c.written, 'files written at each hook');
      assert.deepEqual(readdirSync(dir).sort(), c.files);
      assert.equal(stdout.split(dir).join('<dir>'), c.stdout);
    });
  }
  it('accepts and rejects the same file names', () => {
    for (const c of fx.model_checkpoint_ctor) {
      const options = camel(c.options) as Any;
      if (options.saveFreq === 0) continue; // Strata requires a positive saveFreq (Keras accepts 0: save every batch).
      const make = () => new callbacks.ModelCheckpoint(c.path, options);
      if (c.ok) assert.doesNotThrow(make, c.path);
      else assert.throws(make, c.path);
    }
  });
});

describe('Keras reference: CSVLogger', () => {
  for (const c of fx.csv_logger) {
    it(c.name, async () => {
      const file = join(mkdtempSync(join(tmpdir(), 'strata-kref-csv-')), 'log.csv');
      if (c.preexisting !== null) writeFileSync(file, c.preexisting);
      for (const run of c.runs) {
        const cb = new callbacks.CSVLogger(file, camel(c.options) as never);
        await cb.onTrainBegin();
        for (let e = 0; e < run.length; e++) await cb.onEpochEnd(e, { ...run[e] });
        await cb.onTrainEnd({});
      }
      assert.equal(readFileSync(file, 'utf8'), c.text);
    });
  }
});

describe('Keras reference: TerminateOnNaN', () => {
  for (const c of fx.terminate_on_nan) {
    it(c.name, async () => {
      const model = tinyModel();
      const cb = new callbacks.TerminateOnNaN();
      cb.setModel(model as never);
      model.stopTraining = false;
      const seen: number[] = [];
      const { stdout } = await captureStdout(async () => {
        await cb.onEpochBegin(0);
        for (let b = 0; b < c.seq.length && !model.stopTraining; b++) {
          await cb.onTrainBatchEnd(b, c.seq[b] === null ? {} : { loss: c.seq[b] });
          seen.push(b);
        }
      });
      assert.deepEqual(seen, c.batches);
      assert.equal(model.stopTraining, c.stop_training);
      assert.equal(stdout, c.stdout);
    });
  }
  it('raiseError', async () => {
    const cb = new callbacks.TerminateOnNaN({ raiseError: true });
    cb.setModel(tinyModel() as never);
    await assert.rejects(cb.onTrainBatchEnd(3, { loss: NaN }), (e: Error) => e.message === fx.terminate_on_nan_raise);
  });
});

describe('Keras reference: History, LambdaCallback, BackupAndRestore, ProgbarLogger', () => {
  it('History keeps history across train runs, resets epoch', async () => {
    const h = new callbacks.History();
    await h.onTrainBegin();
    await h.onEpochEnd(0, { loss: 1 });
    await h.onEpochEnd(1, { loss: 0.5, val_loss: 0.75 });
    assert.deepEqual({ epoch: h.epoch, history: h.history }, fx.history.after_first);
    await h.onTrainBegin();
    await h.onEpochEnd(0, { loss: 0.25 });
    assert.deepEqual({ epoch: h.epoch, history: h.history }, fx.history.after_second);
  });
  it('LambdaCallback takes any hook', async () => {
    const calls: unknown[][] = [];
    const lc = new callbacks.LambdaCallback({
      onEpochEnd: (e) => void calls.push(['on_epoch_end', e]),
      onTestEnd: () => void calls.push(['on_test_end']),
      onPredictBatchEnd: (b) => void calls.push(['on_predict_batch_end', b]),
    });
    await lc.onEpochBegin(0, {});
    await lc.onEpochEnd(0, {});
    await lc.onTestEnd({});
    await lc.onPredictBatchEnd(2, {});
    await lc.onTrainEnd({});
    assert.deepEqual(calls, fx.lambda_callback);
  });
  it('BackupAndRestore writes Keras’s files and resumes from them', async () => {
    const ref = fx.backup_and_restore;
    const dir = join(mkdtempSync(join(tmpdir(), 'strata-kref-bak-')), 'backup');
    const model = tinyModel();
    const cb = new callbacks.BackupAndRestore(dir, { deleteCheckpoint: false });
    cb.setModel(model as never);
    await cb.onTrainBegin();
    for (let e = 0; e < 3; e++) {
      await cb.onEpochBegin(e);
      await cb.onEpochEnd(e);
      assert.deepEqual(readdirSync(dir).sort(), ref.states[e].files);
      const meta = JSON.parse(readFileSync(join(dir, 'training_metadata.json'), 'utf8'));
      const kerasMeta = JSON.parse(ref.states[e].metadata_text);
      assert.equal(meta.epoch, kerasMeta.epoch);
      assert.equal(meta.batch, kerasMeta.batch);
      assert.ok(readFileSync(join(dir, 'training_metadata.json'), 'utf8').startsWith(ref.states[e].metadata_text.slice(0, -1)));
    }
    await cb.onTrainEnd();
    assert.equal(existsSync(dir), ref.kept_without_delete);
    // A Keras-written metadata file resumes Strata at the same epoch.
    writeFileSync(join(dir, 'training_metadata.json'), ref.states[2].metadata_text);
    const model2 = tinyModel();
    const cb2 = new callbacks.BackupAndRestore(dir);
    cb2.setModel(model2 as never);
    await cb2.onTrainBegin();
    assert.equal(model2.initialEpochOverride, ref.resumed_initial_epoch);
    await cb2.onTrainEnd();
    assert.equal(!existsSync(dir), ref.deleted_after_train_end);
  });
  for (const c of fx.progbar) {
    it(`ProgbarLogger: ${c.name}`, async () => {
      let out = '';
      const cb = new callbacks.ProgbarLogger({ stream: { write: (s: string) => void (out += s), isTTY: false } });
      cb.setParams({ epochs: c.epochs, steps: c.steps, verbose: c.verbose });
      await cb.onTrainBegin({});
      for (let e = 0; e < c.epochs; e++) {
        await cb.onEpochBegin(e);
        for (let b = 0; b < c.batch_logs.length; b++) await cb.onTrainBatchEnd(b, { ...c.batch_logs[b] });
        await cb.onEpochEnd(e, { ...c.epoch_logs });
      }
      // Keras redraws the bar in place with ANSI codes (it always does on
      // Linux); Strata writes one plain line per epoch when not a terminal.
      // Compare the final line of each epoch with colours and timings removed.
      const norm = (s: string) =>
        s
          .replace(/\x1b\[[0-9;]*m/g, '')
          .replace(/[^\n]*\x08+\r/g, '')
          .replace(/\r/g, '')
          .replace(/─/g, '━')
          .replace(/\d+(s|ms|us)\/step/g, 'T/step')
          .replace(/ \d+s /g, ' Ts ')
          .replace(/- \d+s -/g, '- Ts -');
      assert.equal(norm(out), norm(c.stdout));
    });
  }
});
