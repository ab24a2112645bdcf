/**
 * The TF.js training config and optimizer state: a model Strata trained and
 * saved in the TF.js format loads in tfjs-layers 4.22 compiled, with the
 * same optimizer state, and its next training step there matches the next
 * step in Strata. Reading the file back into Strata continues the same way.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import * as strata from '../../src/index.ts';
import { captureWarnings } from '../../src/engine/warnings.ts';
import { assertClose } from '../helpers/close.ts';

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'strata-tfjs-training-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** As tfjs-node's file:// handler would read it, training config included. */
async function loadInTfjs(folder: string): Promise<tf.LayersModel> {
  const modelJson = JSON.parse(readFileSync(join(folder, 'model.json'), 'utf8'));
  const group = modelJson.weightsManifest[0];
  const bytes = Buffer.concat(group.paths.map((p: string) => readFileSync(join(folder, p))));
  const weightData = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  return tf.loadLayersModel(tf.io.fromMemory({ modelTopology: modelJson.modelTopology, weightSpecs: group.weights, weightData, trainingConfig: modelJson.trainingConfig }));
}

const x = strata.tensor(Array.from({ length: 8 }, (_, i) => [Math.sin(i), Math.cos(i * 0.7), (i % 3) - 1]));
const labels = [0, 1, 2, 1, 0, 2, 2, 1];
const y = strata.tensor(labels.map((l) => [0, 1, 2].map((k) => (k === l ? 1 : 0))));

function model(optimizer: strata.optimizers.Optimizer, name: string): strata.Model {
  strata.random.setRandomSeed(7);
  const m = new strata.Sequential([strata.Input({ shape: [3] }), new strata.layers.Dense(5, { activation: 'tanh', name: 'hidden' }), new strata.layers.Dense(3, { activation: 'softmax', name: 'probs' })], { name });
  m.compile({ optimizer, loss: 'categorical_crossentropy', metrics: ['accuracy'], runEagerly: true });
  return m;
}

const CASES: [string, () => strata.optimizers.Optimizer, string][] = [
  ['SGD', () => new strata.optimizers.SGD({ learningRate: 0.1 }), 'SGD'],
  ['SGD with Nesterov momentum', () => new strata.optimizers.SGD({ learningRate: 0.1, momentum: 0.8, nesterov: true }), 'Momentum'],
  ['Adam', () => new strata.optimizers.Adam({ learningRate: 0.05 }), 'Adam'],
  // Centered, tfjs computes sqrt(ms - mg² - eps) where Keras has sqrt(ms - mg² + eps); a small
  // epsilon keeps that difference out of the comparison (ms - mg² is tiny after a few steps).
  ['centered RMSprop with momentum', () => new strata.optimizers.RMSprop({ learningRate: 0.02, momentum: 0.5, centered: true, epsilon: 1e-10 }), 'RMSProp'],
  ['RMSprop', () => new strata.optimizers.RMSprop({ learningRate: 0.02 }), 'RMSProp'],
  ['Adagrad', () => new strata.optimizers.Adagrad({ learningRate: 0.1 }), 'Adagrad'],
];

describe('TF.js format: training config and optimizer state', () => {
  for (const [label, makeOptimizer, tfjsClass] of CASES) {
    it(`${label}: tfjs-layers loads it compiled (${tfjsClass}) and its next step matches Strata's; so does Strata reading it back`, async () => {
      const m = model(makeOptimizer(), `net_${tfjsClass.toLowerCase()}`);
      for (let i = 0; i < 3; i++) await m.trainOnBatch(x, y);
      const folder = join(dir, label.replace(/\W+/g, '_'));
      await m.save(folder, { format: 'tfjs' });
      const json = JSON.parse(readFileSync(join(folder, 'model.json'), 'utf8'));
      assert.equal(json.trainingConfig.optimizer_config.class_name, tfjsClass);
      assert.equal(json.trainingConfig.loss, 'categorical_crossentropy');

      const inTfjs = await loadInTfjs(folder);
      assert.equal(inTfjs.optimizer.getClassName(), tfjsClass);
      assert.equal((inTfjs.optimizer as unknown as { iterations: number }).iterations, 3, 'tfjs restored the iteration count');
      const again = (await strata.saving.loadModel(folder)) as strata.Model;

      // One more step in each: Strata in memory, tfjs-layers, and Strata from the file.
      await m.trainOnBatch(x, y);
      await inTfjs.trainOnBatch(tf.tensor(Array.from(x.dataSync()), [8, 3]), tf.tensor(Array.from(y.dataSync()), [8, 3]));
      await again.trainOnBatch(x, y);
      const expected = m.getWeights();
      const fromTfjs = inTfjs.getWeights().map((w) => new strata.Tensor(w.shape, 'float32', Float32Array.from(w.dataSync())));
      // tfjs adds epsilon at slightly different places (Adam, RMSprop): a few parts in 1e5.
      fromTfjs.forEach((w, i) => assertClose(w, expected[i], { rtol: 2e-4, atol: 2e-5 }, `tfjs weight ${i} after the next step`));
      again.getWeights().forEach((w, i) => assertClose(w, expected[i], { rtol: 1e-6, atol: 1e-7 }, `Strata (re-read) weight ${i} after the next step`));
    });
  }

  it('what TF.js cannot represent is left out with a warning that says why; the model still loads', async () => {
    const fromLogits = model(new strata.optimizers.Adam(), 'logits');
    fromLogits.compile({ optimizer: 'adam', loss: new strata.losses.CategoricalCrossentropy({ fromLogits: true }) });
    const folder = join(dir, 'logits');
    const { warnings } = await captureWarnings(() => fromLogits.save(folder, { format: 'tfjs' }));
    assert.ok(warnings.some((w) => /no training config.*from_logits=true/.test(w)), warnings.join('\n'));
    assert.equal(JSON.parse(readFileSync(join(folder, 'model.json'), 'utf8')).trainingConfig, undefined);
    assert.equal((await loadInTfjs(folder)).optimizer, undefined);

    const clipped = model(new strata.optimizers.Adam({ clipnorm: 1 }), 'clipped');
    const second = await captureWarnings(() => clipped.save(join(dir, 'clipped'), { format: 'tfjs' }));
    assert.ok(second.warnings.some((w) => /no clipnorm/.test(w)), second.warnings.join('\n'));

    const lion = model(new strata.optimizers.Lion(), 'lion');
    lion.compile({ optimizer: new strata.optimizers.Lion(), loss: 'mse', metrics: ['accuracy', new strata.metrics.AUC()] });
    const third = await captureWarnings(() => lion.save(join(dir, 'lion'), { format: 'tfjs' }));
    assert.ok(third.warnings.some((w) => /TF\.js has no Lion optimizer/.test(w)), third.warnings.join('\n'));

    const auc = model(new strata.optimizers.SGD(), 'auc');
    auc.compile({ optimizer: 'sgd', loss: 'mse', metrics: ['accuracy', new strata.metrics.AUC()] });
    const fourth = await captureWarnings(() => auc.save(join(dir, 'auc'), { format: 'tfjs' }));
    assert.ok(fourth.warnings.some((w) => /cannot compile the metric auc/.test(w)), fourth.warnings.join('\n'));
    const json = JSON.parse(readFileSync(join(dir, 'auc', 'model.json'), 'utf8'));
    assert.deepEqual(json.trainingConfig.metrics, ['accuracy']);
    assert.equal(json.trainingConfig.loss, 'mean_squared_error');
    assert.equal((await loadInTfjs(join(dir, 'auc'))).optimizer.getClassName(), 'SGD');
  });

  it("metrics are written under names tfjs-layers compiles (its metricsMap has no 'recall', 'meanSquaredError'...); the rest are left out", async () => {
    const m = model(new strata.optimizers.SGD(), 'metric_names');
    m.compile({ optimizer: 'sgd', loss: 'categorical_crossentropy', metrics: ['mean_squared_error', 'mae', 'mean_absolute_percentage_error', 'recall', 'sparse_categorical_accuracy', 'binary_crossentropy', 'categorical_accuracy'] });
    const folder = join(dir, 'metric_names');
    const { warnings } = await captureWarnings(() => m.save(folder, { format: 'tfjs' }));
    assert.ok(warnings.some((w) => /cannot compile the metrics 'recall', 'sparse_categorical_accuracy', 'binary_crossentropy'/.test(w)), warnings.join('\n'));
    assert.deepEqual(JSON.parse(readFileSync(join(folder, 'model.json'), 'utf8')).trainingConfig.metrics, ['mse', 'mae', 'mape', 'categorical_accuracy']);
    const inTfjs = await loadInTfjs(folder);
    assert.deepEqual(inTfjs.metricsNames, ['loss', 'mse', 'mae', 'mape', 'categoricalAccuracy']);
  });

  it('includeOptimizer: false writes no training config', async () => {
    const m = model(new strata.optimizers.Adam(), 'plain');
    await m.trainOnBatch(x, y);
    const folder = join(dir, 'plain');
    await m.save(folder, { format: 'tfjs', includeOptimizer: false });
    const json = JSON.parse(readFileSync(join(folder, 'model.json'), 'utf8'));
    assert.equal(json.trainingConfig, undefined);
    assert.ok(json.weightsManifest[0].weights.every((w: { group?: string }) => w.group !== 'optimizer'));
  });
});
