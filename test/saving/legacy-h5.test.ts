/**
 * Legacy Keras HDF5 (.h5): files written by Keras 3 and in tf.keras 2's
 * layouts (test/fixtures/legacy, made by make_fixtures.py, with their
 * expected predictions), Strata round trips, weights files, and broken files.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as strata from '../../src/index.ts';
import { captureWarnings } from '../../src/engine/warnings.ts';
import { readH5, writeH5, type H5WriteGroup } from '../../src/saving/io/h5.ts';
import type { Layer } from '../../src/layers/layer.ts';
import { legacyH5Tree } from '../../src/saving/legacy-h5.ts';
import { kerasLayerOrder } from '../../src/saving/keras-order.ts';
import { assertClose } from '../helpers/close.ts';
import { type TensorJson, tensorOf, branchedInputs, branchedModel, convModel, floats, functionalInputs, functionalModel, predict, sequentialModel, train } from './models.ts';

const FIXTURES = new URL('../fixtures/legacy/', import.meta.url).pathname;

interface Expected {
  inputs: TensorJson[];
  outputs: TensorJson[];
  optimizer?: { iterations: number; slot_path: string; slot: TensorJson };
}

function expected(name: string): Expected {
  return JSON.parse(readFileSync(join(FIXTURES, `${name}.expected.json`), 'utf8')) as Expected;
}


function checkPredictions(model: Layer, exp: Expected, tol = { rtol: 1e-4, atol: 1e-5 }): void {
  const inputs = exp.inputs.map(tensorOf);
  const out = predict(model, inputs.length === 1 ? inputs[0] : inputs);
  assert.equal(out.length, exp.outputs.length, 'number of outputs');
  out.forEach((y, i) => assertClose(y, tensorOf(exp.outputs[i]), tol, `output ${i}`));
}

function checkOptimizer(model: strata.Model, exp: Expected): void {
  assert.ok(model.compileOptions, 'the model is compiled');
  const opt = model.optimizer!;
  assert.equal(opt.iterations.value.dataSync()[0], exp.optimizer!.iterations, 'iterations');
  const slot = opt.variables.find((v) => v.path === exp.optimizer!.slot_path);
  assert.ok(slot, `optimizer variable ${exp.optimizer!.slot_path} (has ${opt.variables.map((v) => v.path).join(', ')})`);
  assertClose(slot.value, tensorOf(exp.optimizer!.slot), { rtol: 1e-6, atol: 1e-7 }, exp.optimizer!.slot_path);
}

function weightsOf(model: Layer): Float32Array[] {
  return model.weights.map((w) => Float32Array.from(w.value.dataSync() as ArrayLike<number>));
}

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'strata-legacy-h5-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

describe('legacy .h5 written by Python Keras', () => {
  it('reads a Keras 3 Sequential (BatchNormalization, Dropout) with its Adam state', async () => {
    const exp = expected('keras3_sequential');
    const model = (await strata.saving.loadModel(join(FIXTURES, 'keras3_sequential.h5'))) as strata.Model;
    assert.ok(model instanceof strata.Sequential);
    assert.equal(model.name, 'seqx');
    assert.deepEqual(model.layers.map((l) => l.constructor.name), ['Dense', 'BatchNormalization', 'Dropout', 'Dense']);
    checkPredictions(model, exp);
    checkOptimizer(model, exp);
    assert.equal(model.optimizer!.constructor.name, 'Adam');
    assertClose(model.optimizer!.learningRate, 0.01, { rtol: 1e-6 });
  });

  it('reads a Keras 3 functional model: 2 inputs, 3 outputs, Conv2D, BatchNormalization, Embedding, nested Sequential and functional', async () => {
    const exp = expected('keras3_functional');
    const model = (await strata.saving.loadModel(join(FIXTURES, 'keras3_functional.h5'))) as strata.Model;
    assert.ok(model instanceof strata.Functional);
    assert.deepEqual(model.layers.map((l) => l.name).sort(), ['aux', 'bn', 'cat', 'conv', 'emb', 'flat_img', 'flat_tok', 'head', 'img', 'sub', 'tok'].sort());
    checkPredictions(model, exp);
    checkOptimizer(model, exp);
  });

  it('reads a tf.keras 2.13-style Sequential (Keras 2 config, Custom>Adam, new-optimizer slot names)', async () => {
    const exp = expected('keras2_sequential');
    const model = (await strata.saving.loadModel(join(FIXTURES, 'keras2_sequential.h5'))) as strata.Model;
    checkPredictions(model, exp);
    checkOptimizer(model, exp);
  });

  it('reads a Keras 2.0-era functional model (fixed-length strings, class Model, shared layer, nested Sequential at node 1, optimizer_v2 slots)', async () => {
    const exp = expected('keras2_functional');
    const model = (await strata.saving.loadModel(join(FIXTURES, 'keras2_functional.h5'))) as strata.Model;
    assert.ok(model instanceof strata.Functional);
    assert.equal(model.getLayer('shared').inboundNodes.length, 2);
    checkPredictions(model, exp);
    checkOptimizer(model, exp);
  });

  it('loads a Keras 2 save_weights file into a model built in code (by order, skipping weightless layers)', async () => {
    const exp = expected('keras2_weights');
    const L = strata.layers;
    const build = () => new strata.Sequential([strata.Input({ shape: [4] }), new L.Dense(3, { activation: 'relu', name: 'fc1' }), new L.Dropout(0.5), new L.Dense(2, { name: 'fc2' })]);
    const model = build();
    await model.loadWeights(join(FIXTURES, 'keras2_weights.h5'));
    checkPredictions(model, exp);
    // Other layer names: paired by order, as Keras does.
    const renamed = new strata.Sequential([strata.Input({ shape: [4] }), new L.Dense(3, { activation: 'relu' }), new L.Dense(2)]);
    await renamed.loadWeights(join(FIXTURES, 'keras2_weights.h5'));
    checkPredictions(renamed, exp);
  });

  it('loadModel on a weights-only file says so', async () => {
    await assert.rejects(strata.saving.loadModel(join(FIXTURES, 'keras2_weights.h5')), /keras2_weights\.h5: this file holds only weights \(Keras save_weights\), not a model/);
  });
});

describe('legacy .h5 round trips', () => {
  it('Sequential: architecture, weights, compile config, optimizer state', async () => {
    const model = sequentialModel();
    await train(model, floats([8, 4], 1), floats([8, 3], 2), new strata.optimizers.Adam({ learningRate: 0.01 }));
    const file = join(dir, 'seq.h5');
    await model.save(file);
    const loaded = (await strata.saving.loadModel(file)) as strata.Model;
    assert.deepEqual(strata.saving.serialize(loaded).config, strata.saving.serialize(model).config);
    const x = floats([3, 4], 3);
    assertClose(predict(loaded, x)[0], predict(model, x)[0], { rtol: 0, atol: 0 });
    assert.deepEqual(loaded.optimizer!.variables.map((v) => v.path), model.optimizer!.variables.map((v) => v.path));
    loaded.optimizer!.variables.forEach((v, i) => assertClose(v.value, model.optimizer!.variables[i].value, { rtol: 0, atol: 0 }, v.path));
  });

  it('training goes on from a restored optimizer state exactly as in the original', async () => {
    const L = strata.layers;
    const make = () => new strata.Sequential([strata.Input({ shape: [4] }), new L.Dense(5, { activation: 'relu' }), new L.BatchNormalization(), new L.Dense(3)], { name: 'cont' });
    const model = make();
    await train(model, floats([8, 4], 1), floats([8, 3], 2), new strata.optimizers.Adam({ learningRate: 0.01 }));
    const file = join(dir, 'cont.h5');
    await model.save(file);
    const loaded = (await strata.saving.loadModel(file)) as strata.Model;
    await model.fit(floats([4, 4], 4), floats([4, 3], 5), { epochs: 1, batchSize: 4, verbose: 0 });
    await loaded.fit(floats([4, 4], 4), floats([4, 3], 5), { epochs: 1, batchSize: 4, verbose: 0 });
    const x = floats([3, 4], 3);
    assertClose(predict(loaded, x)[0], predict(model, x)[0], { rtol: 1e-5, atol: 1e-6 });
  });

  it('writes the layout Keras 3 writes (attributes, layer_names in Keras order, weight paths, training_config)', async () => {
    const model = branchedModel();
    model.compile({ optimizer: 'adam', loss: 'mse', metrics: ['mae'] });
    const file = join(dir, 'layout.h5');
    await model.save(file);
    const root = await readH5(new Uint8Array(readFileSync(file)), 'layout.h5');
    assert.equal(root.attrs.keras_version, '3.15.1');
    assert.equal(root.attrs.backend, 'tensorflow');
    const config = JSON.parse(root.attrs.model_config as string);
    assert.equal(config.class_name, 'Functional');
    assert.equal(config.config.layers[2].module, undefined, 'layer entries have no module');
    assert.ok('inbound_nodes' in config.config.layers[2]);
    const training = JSON.parse(root.attrs.training_config as string);
    assert.equal(training.loss, 'mean_squared_error', 'short names spelled out (Keras 3 cannot read "mse" there)');
    assert.deepEqual(training.metrics, ['mean_absolute_error']);
    assert.equal(training.optimizer_config.class_name, 'Adam');
    const weights = root.groups.get('model_weights')!;
    // Keras sorts the layers by depth: the token branch is deeper.
    assert.deepEqual(weights.attrs.layer_names, ['tok', 'emb', 'a', 'flatten', 'dense', 'tok_dense', 'shared', 'concatenate', 'out_a', 'out_b']);
    assert.deepEqual(kerasLayerOrder(model).map((l) => l.name), weights.attrs.layer_names);
    assert.deepEqual(weights.groups.get('emb')!.attrs.weight_names, ['emb/embeddings']);
    assert.deepEqual(weights.groups.get('flatten')!.attrs.weight_names, []);
    assert.ok(weights.groups.get('dense')!.groups.get('dense')!.datasets.has('kernel'));
    assert.ok(weights.groups.has('top_level_model_weights'));
  });

  for (const configFormat of ['keras3', 'keras2'] as const) {
    it(`functional model with several inputs/outputs, nested models, Conv2D, BatchNormalization, Embedding (${configFormat} config)`, async () => {
      const model = functionalModel();
      await train(model, functionalInputs(8, 7), [floats([8, 2], 8), floats([8, 1], 9), floats([8, 2], 10)], new strata.optimizers.SGD({ learningRate: 0.05, momentum: 0.9 }));
      const file = join(dir, `fn_${configFormat}.h5`);
      await model.save(file, { configFormat });
      const loaded = (await strata.saving.loadModel(file)) as strata.Model;
      const x = functionalInputs(3, 11);
      const a = predict(loaded, x);
      const b = predict(model, x);
      assert.equal(a.length, 3);
      a.forEach((t, i) => assertClose(t, b[i], { rtol: 0, atol: 0 }, `output ${i}`));
      for (const v of model.optimizer!.variables) {
        const w = loaded.optimizer!.variables.find((u) => u.path === v.path);
        assert.ok(w, v.path);
        assertClose(w.value, v.value, { rtol: 0, atol: 0 }, v.path);
      }
    });
  }

  it('Conv2D Sequential in Keras 2 form (string dtypes, batch_input_shape, name:0 weights)', async () => {
    const model = convModel();
    const file = join(dir, 'conv_k2.h5');
    await model.save(file, { configFormat: 'keras2' });
    const root = await readH5(new Uint8Array(readFileSync(file)), 'conv_k2.h5');
    const config = JSON.parse(root.attrs.model_config as string);
    assert.equal(config.config.layers[0].config.batch_input_shape[1], 8);
    assert.equal(config.config.layers[1].config.dtype, 'float32');
    assert.deepEqual(root.groups.get('model_weights')!.groups.get('conv2d')!.attrs.weight_names, ['conv2d/kernel:0', 'conv2d/bias:0']);
    const loaded = await strata.saving.loadModel(file);
    const x = floats([2, 8, 8, 1], 3);
    assertClose(predict(loaded, x)[0], predict(model, x)[0], { rtol: 0, atol: 0 });
  });

  it('model.loadWeights reads a full legacy .h5 model file and Keras 3 .weights.h5 files', async () => {
    const model = branchedModel();
    const file = join(dir, 'branched.h5');
    await model.save(file);
    const fresh = branchedModel('other');
    await fresh.loadWeights(file);
    const x = branchedInputs(2, 4);
    predict(fresh, x).forEach((t, i) => assertClose(t, predict(model, x)[i], { rtol: 0, atol: 0 }));
    const weightsFile = join(dir, 'branched.weights.h5');
    await model.saveWeights(weightsFile);
    const again = branchedModel('again');
    await again.loadWeights(weightsFile);
    predict(again, x).forEach((t, i) => assertClose(t, predict(model, x)[i], { rtol: 0, atol: 0 }));
  });

  it('a registered custom layer is written under its registered name and read back through the registry', async () => {
    class LegacyScale extends strata.layers.Layer {
      static override readonly className = 'LegacyScale';
      kernel!: strata.Variable;
      override build(shape: strata.Shape) {
        this.kernel = this.addWeight({ name: 'kernel', shape: [shape.at(-1) as number], initializer: 'ones' });
      }
      override call(x: unknown) {
        return strata.ops.multiply(x as strata.Tensor, this.kernel);
      }
    }
    strata.saving.registerSerializable(LegacyScale, { package: 'LegacyPkg' });
    const input = strata.Input({ shape: [3] });
    const scale = new LegacyScale({ name: 'scale' });
    const model = new strata.Model({ inputs: input, outputs: scale.apply(new strata.layers.Dense(3).apply(input)) });
    scale.kernel.assign(strata.tensor([1, 2, 3]));
    const file = join(dir, 'custom.h5');
    await model.save(file);
    const root = await readH5(new Uint8Array(readFileSync(file)), 'custom.h5');
    assert.match(root.attrs.model_config as string, /"class_name":"LegacyPkg>LegacyScale"/);
    const loaded = await strata.saving.loadModel(file);
    const x = floats([2, 3], 1);
    assertClose(predict(loaded, x)[0], predict(model, x)[0], { rtol: 0, atol: 0 });
  });

  it('reads attributes that Keras split into chunks (name0, name1, ...)', async () => {
    const model = sequentialModel('chunky');
    const tree = legacyH5Tree(model);
    const weights = (tree.groups as Map<string, H5WriteGroup>).get('model_weights')!;
    const names = weights.attrs!.layer_names as string[];
    delete weights.attrs!.layer_names;
    weights.attrs!.layer_names0 = names.slice(0, 2);
    weights.attrs!.layer_names1 = names.slice(2);
    const file = join(dir, 'chunked.h5');
    writeFileSync(file, await writeH5(tree));
    const loaded = await strata.saving.loadModel(file);
    const x = floats([2, 4], 9);
    assertClose(predict(loaded, x)[0], predict(model, x)[0], { rtol: 0, atol: 0 });
  });
});

describe('legacy .h5 errors', () => {
  it('a weights file that does not fit changes nothing and says what differs', async () => {
    const L = strata.layers;
    const model = new strata.Sequential([strata.Input({ shape: [4] }), new L.Dense(5), new L.Dense(2)]);
    const before = weightsOf(model);
    await assert.rejects(model.loadWeights(join(FIXTURES, 'keras2_weights.h5')), (e: Error) => {
      assert.match(e.message, /keras2_weights\.h5: the weights do not match the model \(nothing was loaded\)/);
      assert.match(e.message, /has shape \(4, 5\), but the file has \(4, 3\)/);
      return true;
    });
    weightsOf(model).forEach((w, i) => assert.deepEqual(w, before[i]));
  });

  it('a layer count mismatch is reported with both lists of layers', async () => {
    const model = new strata.Sequential([strata.Input({ shape: [4] }), new strata.layers.Dense(3)]);
    await assert.rejects(model.loadWeights(join(FIXTURES, 'keras2_weights.h5')), /layer count mismatch: the model has 1 layers with weights \(dense.*\), the file has 2 \(fc1, fc2\)/);
  });

  it('truncated, empty and non-HDF5 files name the file', async () => {
    const bytes = readFileSync(join(FIXTURES, 'keras3_sequential.h5'));
    const truncated = join(dir, 'truncated.h5');
    writeFileSync(truncated, bytes.subarray(0, 3000));
    await assert.rejects(strata.saving.loadModel(truncated), /truncated\.h5: .*(truncated|corrupt)/);
    const empty = join(dir, 'empty.h5');
    writeFileSync(empty, '');
    await assert.rejects(strata.saving.loadModel(empty), /empty\.h5: is not an HDF5 file \(it is empty\)/);
    const text = join(dir, 'text.h5');
    writeFileSync(text, 'not hdf5 at all');
    await assert.rejects(strata.saving.loadModel(text), /text\.h5: is not an HDF5 file/);
    await assert.rejects(strata.saving.loadModel(join(dir, 'missing.h5')), /missing\.h5: no such file or folder/);
  });

  async function withConfig(name: string, edit: (root: H5WriteGroup, model: strata.Sequential) => void): Promise<string> {
    const model = sequentialModel();
    const tree = legacyH5Tree(model);
    edit(tree, model);
    const file = join(dir, name);
    writeFileSync(file, await writeH5(tree));
    return file;
  }

  it('corrupt or ill-typed model_config gives a clear error', async () => {
    const badJson = await withConfig('bad_json.h5', (t) => {
      t.attrs!.model_config = '{"class_name": "Sequential", "config": {';
    });
    await assert.rejects(strata.saving.loadModel(badJson), /bad_json\.h5 \(model_config\): invalid JSON/);
    const badLayers = await withConfig('bad_layers.h5', (t) => {
      t.attrs!.model_config = JSON.stringify({ class_name: 'Sequential', config: { name: 's', layers: 'dense' } });
    });
    await assert.rejects(strata.saving.loadModel(badLayers), /bad_layers\.h5: invalid model_config: s: 'layers' must be a list/);
    const badUnits = await withConfig('bad_units.h5', (t) => {
      const c = JSON.parse(t.attrs!.model_config as string);
      c.config.layers[1].config.units = 'five';
      t.attrs!.model_config = JSON.stringify(c);
    });
    await assert.rejects(strata.saving.loadModel(badUnits), /bad_units\.h5: cannot rebuild the model from its config: .*units/);
    const notString = await withConfig('number_config.h5', (t) => {
      t.attrs!.model_config = 42;
    });
    await assert.rejects(strata.saving.loadModel(notString), /number_config\.h5: the model_config attribute should be a string/);
  });

  it('weights that do not fit the config, or a dataset that weight_names lists but the file lacks', async () => {
    const wrongShape = await withConfig('wrong_shape.h5', (t) => {
      const c = JSON.parse(t.attrs!.model_config as string);
      c.config.layers[1].config.units = 6;
      t.attrs!.model_config = JSON.stringify(c);
    });
    await assert.rejects(strata.saving.loadModel(wrongShape), /wrong_shape\.h5: the weights do not match the model \(nothing was loaded\)/);
    let denseName = '';
    const missing = await withConfig('missing_dataset.h5', (t, model) => {
      denseName = model.layers[0].name;
      const layers = (t.groups as Map<string, H5WriteGroup>).get('model_weights')!.groups as Map<string, H5WriteGroup>;
      layers.get(denseName)!.attrs!.weight_names = [`seqx/${denseName}/kernel`, `seqx/${denseName}/nothing`];
    });
    await assert.rejects(strata.saving.loadModel(missing), new RegExp(`missing_dataset\\.h5: group /model_weights/${denseName} lists the weight 'seqx/${denseName}/nothing', but has no such dataset`));
  });

  it('an optimizer state that does not fit is skipped with a warning (the weights still load)', async () => {
    const model = sequentialModel();
    await train(model, floats([8, 4], 1), floats([8, 3], 2), new strata.optimizers.Adam());
    const tree = legacyH5Tree(model);
    const opt = (tree.groups as Map<string, H5WriteGroup>).get('optimizer_weights')!;
    (opt.attrs!.weight_names as string[]).pop();
    const file = join(dir, 'short_optimizer.h5');
    writeFileSync(file, await writeH5(tree));
    const { result, warnings } = await captureWarnings(() => strata.saving.loadModel(file));
    assert.ok(warnings.some((w) => /short_optimizer\.h5: the optimizer state was not restored/.test(w)), warnings.join('\n'));
    const x = floats([2, 4], 3);
    assertClose(predict(result, x)[0], predict(model, x)[0], { rtol: 0, atol: 0 });
  });

  it('save refuses a .weights.h5 name and a missing folder', async () => {
    const model = sequentialModel();
    await assert.rejects(model.save(join(dir, 'x.weights.h5')), /names a weights file; use model\.saveWeights/);
    await assert.rejects(model.save(join(dir, 'no', 'such', 'x.h5')), /the folder '.*no\/such' does not exist/);
  });

  it('a Keras 3 .weights.h5 file given to loadModel says what it is', async () => {
    const file = join(dir, 'w.weights.h5');
    await sequentialModel().saveWeights(file);
    await assert.rejects(strata.saving.loadModel(file), /w\.weights\.h5: this is a Keras 3 weights file/);
  });
});

