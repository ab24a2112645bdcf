/**
 * TensorFlow.js layers format: Strata-written models load in tfjs-layers
 * 4.22 (in this process) and predict the same; models saved by tfjs-layers
 * (and the converter's form, quantized weights) load in Strata; broken
 * files give clear errors.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import * as strata from '../../src/index.ts';
import { assertClose } from '../helpers/close.ts';
import { captureWarnings } from '../../src/engine/warnings.ts';
import { type TensorJson, branchedInputs, branchedModel, convModel, floats, functionalInputs, functionalModel, predict, sequentialModel, tensorOf, train } from './models.ts';

const FIXTURES = new URL('../fixtures/legacy/', import.meta.url).pathname;

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'strata-tfjs-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** Loads a model.json (+ weights) from disk into tfjs-layers. */
async function loadInTfjs(folder: string, json = 'model.json'): Promise<tf.LayersModel> {
  const modelJson = JSON.parse(readFileSync(join(folder, json), 'utf8'));
  const group = modelJson.weightsManifest[0];
  const bytes = Buffer.concat(group.paths.map((p: string) => readFileSync(join(folder, p))));
  const weightData = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  return tf.loadLayersModel(tf.io.fromMemory({ modelTopology: modelJson.modelTopology, weightSpecs: group.weights, weightData }));
}

function toTf(t: strata.Tensor): tf.Tensor {
  return tf.tensor(Array.from(t.dataSync() as ArrayLike<number>), t.shape as number[], t.dtype === 'int32' ? 'int32' : 'float32');
}

function fromTf(t: tf.Tensor): strata.Tensor {
  return new strata.Tensor(t.shape, 'float32', Float32Array.from(t.dataSync()));
}

function tfPredict(model: tf.LayersModel, x: strata.Tensor[]): strata.Tensor[] {
  const out = model.predict(x.length === 1 ? toTf(x[0]) : x.map(toTf)) as tf.Tensor | tf.Tensor[];
  return (Array.isArray(out) ? out : [out]).map(fromTf);
}

/** Saves a tfjs-layers model as tfjs-node's file:// handler does: model.json + weights.bin. */
async function saveTfjsModel(model: tf.LayersModel, folder: string, includeOptimizer = false): Promise<tf.io.ModelArtifacts> {
  let artifacts: tf.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      artifacts = a;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
    { includeOptimizer },
  );
  const a = artifacts!;
  mkdirSync(folder, { recursive: true });
  const data = a.weightData as ArrayBuffer;
  writeFileSync(join(folder, 'weights.bin'), new Uint8Array(data));
  const modelJson: Record<string, unknown> = {
    modelTopology: a.modelTopology,
    format: a.format,
    generatedBy: a.generatedBy,
    convertedBy: a.convertedBy,
    weightsManifest: [{ paths: ['./weights.bin'], weights: a.weightSpecs }],
  };
  if (a.trainingConfig) modelJson.trainingConfig = a.trainingConfig;
  writeFileSync(join(folder, 'model.json'), JSON.stringify(modelJson));
  return a;
}

function compare(a: strata.Tensor[], b: strata.Tensor[], tol = { rtol: 1e-4, atol: 1e-5 }): void {
  assert.equal(a.length, b.length, 'number of outputs');
  a.forEach((t, i) => assertClose(t, b[i], tol, `output ${i}`));
}

describe('Strata -> TF.js', () => {
  it('a Conv2D/BatchNormalization Sequential loads in tfjs-layers and predicts the same', async () => {
    const model = convModel();
    await train(model, floats([8, 8, 8, 1], 1), floats([8, 3], 2), new strata.optimizers.Adam({ learningRate: 0.01 }));
    const folder = join(dir, 'conv');
    await model.save(folder);
    const json = JSON.parse(readFileSync(join(folder, 'model.json'), 'utf8'));
    assert.equal(json.format, 'layers-model');
    assert.deepEqual(json.weightsManifest[0].paths, ['group1-shard1of1.bin']);
    const entries = json.weightsManifest[0].weights as { name: string; group?: string }[];
    assert.deepEqual(entries.filter((w) => w.group !== 'optimizer').map((w) => w.name), [
      'conv2d/kernel', 'conv2d/bias', 'batch_normalization/gamma', 'batch_normalization/beta', 'dense/kernel', 'dense/bias', 'batch_normalization/moving_mean', 'batch_normalization/moving_variance',
    ]);
    // The compiled model's Adam state follows, as tfjs-layers writes it (test/saving/tfjs-training.test.ts checks it trains on).
    const trainable = ['conv2d/kernel', 'conv2d/bias', 'batch_normalization/gamma', 'batch_normalization/beta', 'dense/kernel', 'dense/bias'];
    assert.deepEqual(entries.filter((w) => w.group === 'optimizer').map((w) => w.name), ['iter', ...trainable.map((n) => `${n}/m`), ...trainable.map((n) => `${n}/v`)]);
    assert.equal(json.modelTopology.config.layers[0].config.batch_input_shape[1], 8);
    const tfModel = await loadInTfjs(folder);
    const x = [floats([3, 8, 8, 1], 3)];
    compare(tfPredict(tfModel, x), predict(model, x[0]));
  });

  it('a functional model with 2 inputs (int32 tokens), 3 outputs, Embedding, nested Sequential and functional models', async () => {
    const model = functionalModel();
    const folder = join(dir, 'functional');
    mkdirSync(folder);
    await model.save(join(folder, 'model.json'));
    const tfModel = await loadInTfjs(folder);
    assert.equal(tfModel.outputs.length, 3);
    const x = functionalInputs(2, 5);
    compare(tfPredict(tfModel, x), predict(model, x));
  });

  it('a branched model with a shared layer (written to name.json with its own weight file)', async () => {
    const model = branchedModel();
    await model.save(join(dir, 'branched.json'));
    const json = JSON.parse(readFileSync(join(dir, 'branched.json'), 'utf8'));
    assert.deepEqual(json.weightsManifest[0].paths, ['branched.group1-shard1of1.bin']);
    const tfModel = await loadInTfjs(dir, 'branched.json');
    const x = branchedInputs(3, 6);
    compare(tfPredict(tfModel, x), predict(model, x));
    // And back into Strata.
    const loaded = await strata.saving.loadModel(join(dir, 'branched.json'));
    compare(predict(loaded, x), predict(model, x), { rtol: 0, atol: 0 });
  });

  it('more layer kinds: LeakyReLU (alpha), DepthwiseConv2D (depthwise_kernel), SeparableConv2D, LayerNormalization, pooling, merges', async () => {
    const L = strata.layers;
    const img = strata.Input({ shape: [8, 8, 3], name: 'pic' });
    let x = new L.DepthwiseConv2D(3, { name: 'dw' }).apply(img);
    x = new L.LeakyReLU({ negativeSlope: 0.1 }).apply(x);
    x = new L.SeparableConv2D(4, 3, { padding: 'same', name: 'sep' }).apply(x);
    x = new L.LayerNormalization({ name: 'ln' }).apply(x);
    const p = new L.GlobalAveragePooling2D().apply(x);
    const q = new L.GlobalMaxPooling2D().apply(x);
    const merged = new L.Concatenate().apply([new L.Add().apply([p, q]), new L.Multiply().apply([p, q]), new L.Maximum().apply([p, q])]);
    const model = new strata.Model({ inputs: img, outputs: new L.Dense(2, { activation: 'softmax' }).apply(merged), name: 'kinds' });
    const folder = join(dir, 'kinds');
    await model.save(folder);
    const tfModel = await loadInTfjs(folder);
    const input = [floats([2, 8, 8, 3], 9)];
    compare(tfPredict(tfModel, input), predict(model, input[0]));
    // A single output comes back as a single tensor, as in Keras.
    const loaded = await strata.saving.loadModel(folder);
    assert.ok(loaded.apply(input[0], { training: false }) instanceof strata.Tensor);
  });

  it('an Embedding + LSTM model from Keras (.keras fixture): tfjs names the cell weights after the LSTM layer', async () => {
    const model = (await strata.saving.loadModel(join(FIXTURES, '..', 'keras', 'embedding_lstm.keras'))) as strata.Model;
    const folder = join(dir, 'lstm');
    await model.save(folder);
    const names = JSON.parse(readFileSync(join(folder, 'model.json'), 'utf8')).weightsManifest[0].weights.map((w: { name: string }) => w.name);
    assert.ok(names.includes('lstm/recurrent_kernel'), names.join(', '));
    const tfModel = await loadInTfjs(folder);
    const tokens = new strata.Tensor([2, 5], 'int32', Int32Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 0]));
    compare(tfPredict(tfModel, [tokens]), predict(model, tokens));
    compare(predict(await strata.saving.loadModel(folder), tokens), predict(model, tokens), { rtol: 0, atol: 0 });
  });

  it('Bidirectional GRU and LSTM: tfjs names the weights bidirectional/forward_gru/... and predicts the same', async () => {
    const { layers } = strata;
    const model = new strata.Sequential([
      strata.Input({ shape: [5, 3] }),
      new layers.Bidirectional(new layers.GRU(4, { returnSequences: true, resetAfter: false })),
      new layers.Bidirectional(new layers.LSTM(3), { mergeMode: 'sum' }),
      new layers.Dense(2),
    ]);
    const folder = join(dir, 'bidirectional');
    const { warnings } = await captureWarnings(() => model.save(folder));
    assert.deepEqual(warnings, []);
    const json = JSON.parse(readFileSync(join(folder, 'model.json'), 'utf8'));
    const names = json.weightsManifest[0].weights.map((w: { name: string }) => w.name);
    assert.ok(names.includes('bidirectional/forward_gru/recurrent_kernel') && names.includes('bidirectional_1/backward_lstm/bias'), names.join(', '));
    const x = floats([2, 5, 3], 11);
    compare(tfPredict(await loadInTfjs(folder), [x]), predict(model, x));
    compare(predict(await strata.saving.loadModel(folder), x), predict(model, x), { rtol: 0, atol: 0 });
  });

  it('a GRU with resetAfter: true (the Keras default) is saved with a warning that tfjs-layers cannot load it', async () => {
    const model = new strata.Sequential([strata.Input({ shape: [5, 3] }), new strata.layers.Bidirectional(new strata.layers.GRU(2, { name: 'gru_default' }))]);
    const folder = join(dir, 'gru_reset_after');
    const { warnings } = await captureWarnings(() => model.save(folder));
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], /resetAfter: true.*'gru_default'/);
    await assert.rejects(loadInTfjs(folder), /reset_after/);
    const x = floats([2, 5, 3], 13);
    compare(predict(await strata.saving.loadModel(folder), x), predict(model, x), { rtol: 0, atol: 0 });
  });

  it('a tfjs-layers LSTM with its default hard_sigmoid gates loads with a warning naming the layer', async () => {
    const model = tf.sequential({ layers: [tf.layers.lstm({ units: 3, inputShape: [4, 2], name: 'gates' })] });
    const folder = join(dir, 'from_tfjs_hard_sigmoid');
    await saveTfjsModel(model, folder);
    const { warnings } = await captureWarnings(() => strata.saving.loadModel(join(folder, 'model.json')));
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], /'gates'.*hard_sigmoid.*0\.2x \+ 0\.5/);
  });

  it('a tfjs-layers Bidirectional LSTM model (sigmoid gates, since tfjs and Keras 3 define hard_sigmoid differently) loads in Strata and predicts the same', async () => {
    const model = tf.sequential({
      layers: [tf.layers.bidirectional({ layer: tf.layers.lstm({ units: 4, returnSequences: true, recurrentActivation: 'sigmoid' }) as tf.RNN, inputShape: [5, 3] }), tf.layers.globalAveragePooling1d(), tf.layers.dense({ units: 2 })],
    });
    const folder = join(dir, 'from_tfjs_bidirectional');
    await saveTfjsModel(model, folder);
    const loaded = await strata.saving.loadModel(join(folder, 'model.json'));
    const x = floats([2, 5, 3], 12);
    compare(predict(loaded, x), tfPredict(model, [x]));
  });

  it('an unbuilt model cannot be saved, and the existing files stay as they were', async () => {
    const folder = join(dir, 'keep');
    await sequentialModel().save(folder);
    const before = readFileSync(join(folder, 'model.json'), 'utf8');
    const unbuilt = new strata.Sequential([new strata.layers.Dense(2)]);
    await assert.rejects(unbuilt.save(folder), /model 'sequential.*' is not built/);
    assert.equal(readFileSync(join(folder, 'model.json'), 'utf8'), before);
  });
});

describe('TF.js -> Strata', () => {
  it('a tfjs-layers Sequential (Conv2D, BatchNormalization, Dense) with its Adam state', async () => {
    const model = tf.sequential({
      layers: [
        tf.layers.conv2d({ inputShape: [6, 6, 1], filters: 2, kernelSize: 3, activation: 'relu' }),
        tf.layers.batchNormalization(),
        tf.layers.flatten(),
        tf.layers.dense({ units: 3, activation: 'softmax' }),
      ],
    });
    model.compile({ optimizer: tf.train.adam(0.01), loss: 'categoricalCrossentropy' });
    const xs = tf.randomNormal([8, 6, 6, 1], 0, 1, 'float32', 1);
    const ys = tf.oneHot(tf.tensor1d([0, 1, 2, 0, 1, 2, 0, 1], 'int32'), 3);
    await model.fit(xs, ys, { epochs: 2, batchSize: 4, verbose: 0 });
    const folder = join(dir, 'from_tfjs_seq');
    const artifacts = await saveTfjsModel(model, folder, true);
    const loaded = (await strata.saving.loadModel(folder)) as strata.Model;
    const x = [fromTf(tf.randomNormal([2, 6, 6, 1], 0, 1, 'float32', 2))];
    compare(predict(loaded, x[0]), tfPredict(model, x));
    // The training config and optimizer state came along: Adam, 4 steps, first moments of the first kernel.
    assert.equal(loaded.optimizer!.constructor.name, 'Adam');
    assert.equal(loaded.optimizer!.iterations.value.dataSync()[0], 4);
    const kernelName = (artifacts.weightSpecs ?? []).find((s) => s.name.endsWith('/kernel'))!.name;
    const [specs, data] = [artifacts.weightSpecs!, new Float32Array(artifacts.weightData as ArrayBuffer)];
    let offset = 0;
    let m: Float32Array | null = null;
    for (const s of specs) {
      const n = s.shape.reduce((p, d) => p * d, 1);
      if (s.name === `${kernelName}/m`) m = data.slice(offset, offset + n);
      offset += n;
    }
    assert.ok(m, 'tfjs saved the first moments');
    const slot = loaded.optimizer!.variables.find((v) => v.name.endsWith('kernel_momentum'))!;
    assertClose(slot.value, m, { rtol: 1e-6, atol: 1e-7 });
  });

  it('a tfjs-layers functional model: two inputs, a shared layer, a nested Sequential, Embedding, two outputs', async () => {
    const a = tf.input({ shape: [5], name: 'a' });
    const tok = tf.input({ shape: [4], name: 'tok', dtype: 'int32' });
    const d = tf.layers.dense({ units: 6, activation: 'relu', name: 'dense_a' }).apply(a) as tf.SymbolicTensor;
    const e = tf.layers.flatten().apply(tf.layers.embedding({ inputDim: 12, outputDim: 3, name: 'emb' }).apply(tok)) as tf.SymbolicTensor;
    const t = tf.layers.dense({ units: 6, activation: 'tanh', name: 'dense_t' }).apply(e) as tf.SymbolicTensor;
    const shared = tf.layers.dense({ units: 6, name: 'shared' });
    const s0 = shared.apply(d) as tf.SymbolicTensor;
    const s1 = shared.apply(t) as tf.SymbolicTensor;
    const head = tf.sequential({ name: 'head', layers: [tf.layers.dense({ inputShape: [6], units: 2, activation: 'sigmoid', name: 'head_dense' })] });
    const outA = tf.layers.dense({ units: 2, name: 'out_a' }).apply(tf.layers.concatenate().apply([s0, s1])) as tf.SymbolicTensor;
    const model = tf.model({ inputs: [a, tok], outputs: [outA, head.apply(s1) as tf.SymbolicTensor] });
    const folder = join(dir, 'from_tfjs_fn');
    await saveTfjsModel(model, folder);
    const loaded = await strata.saving.loadModel(join(folder, 'model.json'));
    const x = branchedInputs(3, 7);
    compare(predict(loaded, x), tfPredict(model, x));
  });

  it('reads the converter form (modelTopology.model_config, Keras 2 names) with its training config', async () => {
    const exp = JSON.parse(readFileSync(join(FIXTURES, 'tfjs_converted', 'model.expected.json'), 'utf8')) as { inputs: TensorJson[]; outputs: TensorJson[] };
    const loaded = (await strata.saving.loadModel(join(FIXTURES, 'tfjs_converted'))) as strata.Model;
    compare(predict(loaded, tensorOf(exp.inputs[0])), [tensorOf(exp.outputs[0])]);
    assert.equal(loaded.optimizer?.constructor.name, 'Adam');
  });

  it('decodes quantized weights (uint8, uint16 with scale and min; float16) spread over two shards', async () => {
    const exp = JSON.parse(readFileSync(join(FIXTURES, 'tfjs_quantized', 'model.expected.json'), 'utf8')) as { inputs: TensorJson[]; outputs: TensorJson[] };
    const loaded = await strata.saving.loadModel(join(FIXTURES, 'tfjs_quantized', 'model.json'));
    compare(predict(loaded, tensorOf(exp.inputs[0])), [tensorOf(exp.outputs[0])]);
  });

  it('reads a camelCase topology (tfjs-layers getConfig form)', async () => {
    const model = tf.sequential({
      layers: [
        tf.layers.conv2d({ inputShape: [4, 4, 1], filters: 2, kernelSize: 2, padding: 'same', dataFormat: 'channelsLast', activation: 'softplus', name: 'c1' }),
        tf.layers.flatten(),
        tf.layers.dense({ units: 2, name: 'd2' }),
      ],
    });
    const folder = join(dir, 'camel');
    await saveTfjsModel(model, folder);
    const json = JSON.parse(readFileSync(join(folder, 'model.json'), 'utf8'));
    json.modelTopology = { className: model.getClassName(), config: model.getConfig() };
    assert.ok(JSON.stringify(json.modelTopology).includes('"batchInputShape"'));
    assert.ok(JSON.stringify(json.modelTopology).includes('"channelsLast"'));
    writeFileSync(join(folder, 'model.json'), JSON.stringify(json));
    const loaded = await strata.saving.loadModel(folder);
    const x = [floats([2, 4, 4, 1], 8)];
    compare(predict(loaded, x[0]), tfPredict(model, x));
  });
});

describe('TF.js errors', () => {
  const source = join(FIXTURES, 'tfjs_converted');
  let n = 0;
  /** A copy of the converted fixture, changed by `edit`; returns the folder. */
  function variant(edit: (json: Record<string, any>, folder: string) => void): string {
    const folder = join(dir, `bad${n++}`);
    cpSync(source, folder, { recursive: true });
    const json = JSON.parse(readFileSync(join(folder, 'model.json'), 'utf8'));
    edit(json, folder);
    if (json !== null) writeFileSync(join(folder, 'model.json'), JSON.stringify(json));
    return folder;
  }

  it('corrupt JSON, a graph model, a missing topology', async () => {
    const corrupt = variant(() => undefined);
    writeFileSync(join(corrupt, 'model.json'), '{"modelTopology": {');
    await assert.rejects(strata.saving.loadModel(corrupt), /model\.json: invalid JSON/);
    await assert.rejects(strata.saving.loadModel(variant((j) => (j.format = 'graph-model'))), /model\.json: this is a TensorFlow\.js graph-model model \(tf\.loadGraphModel\), not a layers model/);
    await assert.rejects(strata.saving.loadModel(variant((j) => delete j.modelTopology)), /model\.json: not a TensorFlow\.js layers model \('modelTopology' is missing\)/);
    await assert.rejects(strata.saving.loadModel(join(dir, 'nothing_here')), /nothing_here: no such file or folder/);
    mkdirSync(join(dir, 'empty_folder'));
    await assert.rejects(strata.saving.loadModel(join(dir, 'empty_folder')), /empty_folder: the folder has no model\.json/);
  });

  it('missing, truncated or oversized weight files', async () => {
    await assert.rejects(strata.saving.loadModel(variant((j) => (j.weightsManifest[0].paths = ['nope.bin']))), /model\.json: the weight file 'nope\.bin' listed in the manifest is missing/);
    await assert.rejects(
      strata.saving.loadModel(variant((_, f) => truncateSync(join(f, 'group1-shard1of1.bin'), 100))),
      /the weight files 'group1-shard1of1\.bin' hold 100 bytes, but the manifest's 8 weights need 340; a file is truncated/,
    );
    await assert.rejects(
      strata.saving.loadModel(variant((_, f) => appendFileSync(join(f, 'group1-shard1of1.bin'), Buffer.alloc(8)))),
      /hold 348 bytes, but the manifest's weights account for only 340/,
    );
  });

  it('manifests that do not match the data or the model, absurd sizes, escaping paths', async () => {
    const started = Date.now();
    await assert.rejects(
      strata.saving.loadModel(variant((j) => (j.weightsManifest[0].weights[0].shape = [1000000, 1000000]))),
      /weight 'conv2d\/kernel': shape \(1000000, 1000000\) claims 1\.000e\+12 elements, more than any weight file can hold/,
    );
    assert.ok(Date.now() - started < 2000, 'no huge allocation');
    await assert.rejects(
      strata.saving.loadModel(variant((j) => (j.weightsManifest[0].weights[0].shape = [3, 3, 2, 1]))),
      /the weights do not match the model \(nothing was loaded\):\n {2}- weight 'conv2d\/kernel': the model's 'sequential\/conv2d\/kernel' has shape \(3, 3, 1, 2\), but the file has \(3, 3, 2, 1\)/,
    );
    await assert.rejects(strata.saving.loadModel(variant((j) => (j.weightsManifest[0].weights[0].shape = [-1, 18]))), /the shape must be a list of non-negative integers/);
    await assert.rejects(strata.saving.loadModel(variant((j) => (j.weightsManifest[0].weights[0].dtype = 'complex64'))), /dtype "complex64" is not supported/);
    await assert.rejects(strata.saving.loadModel(variant((j) => (j.weightsManifest = {}))), /'weightsManifest' must be a list of groups/);
    await assert.rejects(
      strata.saving.loadModel(variant((j) => (j.weightsManifest[0].weights[0].quantization = { dtype: 'uint8' }))),
      /uint8 quantization needs numeric 'scale' and 'min'/,
    );
    await assert.rejects(strata.saving.loadModel(variant((j) => (j.weightsManifest[0].paths = ['../../secret.bin']))), /names '\.\.\/\.\.\/secret\.bin', which is outside the model's folder; refusing to read it/);
  });

  it('wrong types in the topology', async () => {
    const layers = (j: Record<string, any>) => j.modelTopology.model_config.config.layers;
    await assert.rejects(strata.saving.loadModel(variant((j) => (layers(j)[5].config.units = 'three'))), /model\.json: cannot rebuild the model from its topology: Dense 'dense': units must be a positive integer/);
    await assert.rejects(strata.saving.loadModel(variant((j) => (j.modelTopology.model_config.config.layers = 7))), /model\.json: invalid model topology: sequential: 'layers' must be a list of layer configs/);
    await assert.rejects(strata.saving.loadModel(variant((j) => (layers(j)[5].class_name = 'FancyDense'))), /model\.json: the model uses classes Strata does not know:\n {2}- 'FancyDense'/);
    await assert.rejects(strata.saving.loadModel(variant((j) => (layers(j)[1].config = 'conv'))), /'config' must be an object/);
  });
});


