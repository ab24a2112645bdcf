import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as strata from '../../src/index.ts';
import { Tensor } from '../../src/tensor/tensor.ts';
import { kerasFileBytes, loadKerasBytes } from '../../src/saving/keras-file.ts';
import { readZip } from '../../src/saving/io/zip.ts';
import { readH5 } from '../../src/saving/io/h5.ts';
import { assertClose, randomTensor } from '../helpers/close.ts';

const { layers, ops } = strata;
const tmp = () => mkdtempSync(join(tmpdir(), 'strata-save-'));

async function roundTrip(model: strata.Model): Promise<strata.Model> {
  const path = join(tmp(), 'model.keras');
  await model.save(path);
  return (await strata.saving.loadModel(path)) as strata.Model;
}

/** A model containing `layer`, on inputs of `shape` (batch excluded), as a functional graph. */
function wrap(layer: strata.layers.Layer, shape: number[], dtype: 'float32' | 'int32' = 'float32'): strata.Functional {
  const x = strata.Input({ shape, dtype });
  return new strata.Model({ inputs: x, outputs: layer.apply(x) as never }) as strata.Functional;
}

const catalog: [string, () => strata.Functional, number[], 'float32' | 'int32'][] = [
  ['Dense', () => wrap(new layers.Dense(3, { activation: 'relu' }), [4]), [4], 'float32'],
  ['Conv2D', () => wrap(new layers.Conv2D(2, 3, { padding: 'same', strides: 2 }), [6, 6, 3]), [6, 6, 3], 'float32'],
  ['Conv1D', () => wrap(new layers.Conv1D(2, 3, { dilationRate: 2 }), [9, 2]), [9, 2], 'float32'],
  ['Conv2DTranspose', () => wrap(new layers.Conv2DTranspose(2, 3, { strides: 2 }), [3, 3, 2]), [3, 3, 2], 'float32'],
  ['DepthwiseConv2D', () => wrap(new layers.DepthwiseConv2D(3, { depthMultiplier: 2 }), [5, 5, 2]), [5, 5, 2], 'float32'],
  ['SeparableConv2D', () => wrap(new layers.SeparableConv2D(3, 3), [5, 5, 2]), [5, 5, 2], 'float32'],
  ['MaxPooling2D', () => wrap(new layers.MaxPooling2D(2), [4, 4, 1]), [4, 4, 1], 'float32'],
  ['AveragePooling1D', () => wrap(new layers.AveragePooling1D(2), [6, 2]), [6, 2], 'float32'],
  ['GlobalAveragePooling2D', () => wrap(new layers.GlobalAveragePooling2D(), [3, 3, 2]), [3, 3, 2], 'float32'],
  ['BatchNormalization', () => wrap(new layers.BatchNormalization(), [5]), [5], 'float32'],
  ['LayerNormalization', () => wrap(new layers.LayerNormalization(), [5]), [5], 'float32'],
  ['GroupNormalization', () => wrap(new layers.GroupNormalization({ groups: 2 }), [4]), [4], 'float32'],
  ['Embedding', () => wrap(new layers.Embedding(10, 3), [4], 'int32'), [4], 'int32'],
  ['EinsumDense', () => wrap(new layers.EinsumDense('ab,bc->ac', [3], { biasAxes: 'c' }), [4]), [4], 'float32'],
  ['PReLU', () => wrap(new layers.PReLU(), [4]), [4], 'float32'],
  ['Reshape+Flatten', () => { const x = strata.Input({ shape: [6] }); return new strata.Model({ inputs: x, outputs: new layers.Flatten().apply(new layers.Reshape([2, 3]).apply(x)) }) as strata.Functional; }, [6], 'float32'],
  ['Concatenate', () => { const a = strata.Input({ shape: [2] }); const b = strata.Input({ shape: [3] }); return new strata.Model({ inputs: [a, b], outputs: new layers.Concatenate().apply([a, b]) }) as strata.Functional; }, [2], 'float32'],
];

describe('.keras round trips', () => {
  for (const [name, make, shape, dtype] of catalog) {
    it(`${name}: same config, weights and predictions after save and load`, async () => {
      strata.random.setRandomSeed(1);
      const model = make();
      const multi = model.inputTensors.length > 1;
      const inputs = model.inputTensors.map((k, i) =>
        dtype === 'int32' ? strata.tensor(Int32Array.from({ length: 2 * shape.reduce((p, d) => p * d, 1) }, (_, j) => (j * 3 + i) % 10), [2, ...shape], 'int32') : randomTensor([2, ...(k.shape.slice(1) as number[])], 5 + i, -1, 1, 'float32'),
      );
      // Give normalization layers non-trivial statistics first.
      if (name === 'BatchNormalization') model.apply(inputs[0], { training: true });
      const loaded = await roundTrip(model);
      assert.deepEqual(strata.saving.serialize(loaded).config, strata.saving.serialize(model).config);
      const before = model.apply((multi ? inputs : inputs[0]) as never) as unknown as Tensor;
      const after = loaded.apply((multi ? inputs : inputs[0]) as never) as unknown as Tensor;
      assertClose(after, before, { rtol: 1e-6, atol: 1e-6 });
    });
  }

  it('a Sequential with nested models keeps Keras weight paths', async () => {
    const inner = new strata.Sequential([strata.Input({ shape: [3] }), new layers.Dense(2, { name: 'inner_dense' })], { name: 'inner' });
    const model = new strata.Sequential([strata.Input({ shape: [3] }), inner, new layers.Dense(1)], { name: 'outer' });
    const bytes = await kerasFileBytes(model);
    const zip = readZip(bytes, 'test.keras');
    assert.deepEqual([...zip.keys()], ['metadata.json', 'config.json', 'model.weights.h5']);
    const h5 = await readH5(zip.get('model.weights.h5')!, 'model.weights.h5');
    const groupNames = (g: typeof h5): string[] => [...g.groups.keys()];
    assert.deepEqual(groupNames(h5.groups.get('layers')!), ['sequential', 'dense']);
    assert.deepEqual(groupNames(h5.groups.get('layers')!.groups.get('sequential')!.groups.get('layers')!), ['dense']);
    assert.equal(h5.groups.get('layers')!.groups.get('sequential')!.groups.get('vars')!.attrs.name, 'inner');
    const loaded = (await loadKerasBytes(bytes, 'test.keras')) as strata.Model;
    const x = randomTensor([2, 3], 1, -1, 1, 'float32');
    assertClose(loaded.apply(x), model.apply(x));
  });

  for (const opt of ['sgd', 'adam', 'rmsprop', 'adagrad', 'adadelta', 'adamax', 'nadam', 'lion', 'adamw']) {
    it(`${opt}: training after a reload continues exactly as without the reload`, async () => {
      const make = () => {
        strata.random.setRandomSeed(4);
        const m = new strata.Sequential([strata.Input({ shape: [3] }), new layers.Dense(4, { activation: 'tanh' }), new layers.Dense(1)]);
        m.compile({ optimizer: opt === 'sgd' ? new strata.optimizers.SGD({ momentum: 0.9 }) : opt, loss: 'mse' });
        return m;
      };
      const x = randomTensor([16, 3], 2, -1, 1, 'float32');
      const y = randomTensor([16, 1], 3, -1, 1, 'float32');
      const a = make();
      await a.fit(x, y, { epochs: 2, batchSize: 8, shuffle: false, verbose: 0 });
      const b = (await roundTrip(a)) as strata.Sequential;
      assert.equal(b.optimizer!.iterations.value.item(), 4);
      await a.fit(x, y, { epochs: 2, batchSize: 8, shuffle: false, verbose: 0 });
      await b.fit(x, y, { epochs: 2, batchSize: 8, shuffle: false, verbose: 0 });
      a.getWeights().forEach((w, i) => assertClose(b.getWeights()[i], w, { rtol: 1e-6, atol: 1e-7 }, `weight ${i}`));
    });
  }

  it('restores the compile config: loss, metrics, optimizer and its learning rate', async () => {
    const m = new strata.Sequential([strata.Input({ shape: [2] }), new layers.Dense(2)]);
    m.compile({ optimizer: new strata.optimizers.Adam({ learningRate: 0.005 }), loss: 'sparse_categorical_crossentropy', metrics: ['accuracy'] });
    await m.fit(strata.ones([4, 2]), strata.tensor([0, 1, 0, 1], undefined, 'int32'), { verbose: 0 });
    const loaded = (await roundTrip(m)) as strata.Sequential;
    assert.ok(loaded.compiled);
    assert.ok(Math.abs(loaded.learningRate! - 0.005) < 1e-9);
    const r = (await loaded.evaluate(strata.ones([4, 2]), strata.tensor([0, 1, 0, 1], undefined, 'int32'), { verbose: 0, returnDict: true })) as Record<string, number>;
    assert.deepEqual(Object.keys(r), ['loss', 'accuracy']);
  });
});

describe('custom objects and safe loading', () => {
  class Scale extends layers.Layer {
    static override readonly className = 'Scale';
    factor: number;
    kernel!: strata.Variable;
    constructor(options: { factor?: number } & strata.layers.LayerOptions = {}) {
      super(options);
      this.factor = options.factor ?? 2;
    }
    override build(shape: strata.Shape) {
      this.kernel = this.addWeight({ name: 'kernel', shape: [shape.at(-1) as number], initializer: 'ones' });
    }
    override call(x: Tensor) {
      return ops.multiply(ops.multiply(x, this.kernel), this.factor);
    }
    override getConfig() {
      return { ...super.getConfig(), factor: this.factor };
    }
    static override fromConfig(config: Record<string, unknown>) {
      return new Scale({ name: config.name as string, factor: config.factor as number });
    }
  }

  it('an unknown class is an error listing every unknown name, where it is, and how to register it', async () => {
    const x = strata.Input({ shape: [3] });
    const model = new strata.Model({ inputs: x, outputs: new Scale({ name: 'scaler' }).apply(x) });
    const path = join(tmp(), 'custom.keras');
    await model.save(path);
    await assert.rejects(strata.saving.loadModel(path), /the model uses classes Strata does not know:\n  - 'Scale' at layer 'scaler': register it with strata\.saving\.registerSerializable\(Scale\)/);
    const loaded = (await strata.saving.loadModel(path, { customObjects: { Scale } })) as strata.Model;
    assertClose(loaded.apply(strata.ones([1, 3])), strata.tensor([[2, 2, 2]]));
    strata.saving.registerSerializable(Scale, { package: 'MyPkg' });
    const config = strata.saving.serialize(model).config as { layers: { registered_name: string }[] };
    assert.equal(config.layers[1].registered_name, 'MyPkg>Scale');
  });

  it('a Lambda layer storing JavaScript source is refused in safe mode, with the opt-out', async () => {
    const x = strata.Input({ shape: [2] });
    const model = new strata.Model({ inputs: x, outputs: new layers.Lambda((t: Tensor) => ops.multiply(t, 3)).apply(x) });
    const path = join(tmp(), 'lambda.keras');
    await model.save(path);
    await assert.rejects(strata.saving.loadModel(path), /safeMode/);
    const loaded = (await strata.saving.loadModel(path, { safeMode: false })) as strata.Model;
    assertClose(loaded.apply(strata.ones([1, 2])), strata.tensor([[3, 3]]));
  });
});

describe('untrusted files and no data loss', () => {
  it('truncated and corrupted .keras files give errors naming the file', async () => {
    const model = new strata.Sequential([strata.Input({ shape: [2] }), new layers.Dense(2)]);
    const bytes = await kerasFileBytes(model);
    for (const cut of [10, 100, Math.floor(bytes.length / 2), bytes.length - 10]) {
      await assert.rejects(loadKerasBytes(bytes.subarray(0, cut), 'cut.keras'), /cut\.keras/);
    }
    const notZip = new TextEncoder().encode('{"class_name": "Dense"}');
    await assert.rejects(loadKerasBytes(notZip, 'plain.keras'), /plain\.keras/);
  });

  it('a config with wrong types or missing layers is a clear error', async () => {
    const bad = JSON.parse(JSON.stringify(strata.saving.serialize(new strata.Sequential([strata.Input({ shape: [2] }), new layers.Dense(2)]))));
    bad.config.layers[1].config.units = 'many';
    await assert.rejects(async () => strata.saving.deserialize(bad), /units/);
  });

  it('a failed weights load leaves the model unchanged and names each mismatching layer', async () => {
    const dir = tmp();
    const small = new strata.Sequential([strata.Input({ shape: [3] }), new layers.Dense(2), new layers.Dense(1)]);
    await small.saveWeights(join(dir, 'small.weights.h5'));
    const other = new strata.Sequential([strata.Input({ shape: [3] }), new layers.Dense(4), new layers.Dense(1)]);
    const before = other.getWeights().map((w) => [...w.dataSync()]);
    await assert.rejects(other.loadWeights(join(dir, 'small.weights.h5')), (e: Error) => {
      assert.match(e.message, /small\.weights\.h5: the weights do not match the model \(nothing was loaded\)/);
      assert.match(e.message, /layer 'dense(_\d+)?' \(layers\/dense\) weight 0 \('.*kernel'\) has shape \(3, 4\), but the file has \(3, 2\)/);
      assert.match(e.message, /skipMismatch/);
      return true;
    });
    assert.deepEqual(other.getWeights().map((w) => [...w.dataSync()]), before);
    await other.loadWeights(join(dir, 'small.weights.h5'), { skipMismatch: true });
  });

  it('saving writes a temporary file and renames it: a failed save leaves the previous file intact', async () => {
    const dir = tmp();
    const path = join(dir, 'keep.keras');
    const good = new strata.Sequential([strata.Input({ shape: [2] }), new layers.Dense(2)]);
    await good.save(path);
    const original = readFileSync(path);
    class Broken extends layers.Layer {
      override call(x: Tensor) { return x; }
      override getConfig(): never { throw new Error('cannot serialize'); }
    }
    const bad = new strata.Sequential([strata.Input({ shape: [2] }), new Broken()]);
    await assert.rejects(bad.save(path), /cannot serialize/);
    assert.deepEqual(readFileSync(path), original);
    assert.deepEqual(readdirSync(dir), ['keep.keras'], 'no temporary file left behind');
  });

  it('exports ONNX with named inputs and a dynamic batch dimension; a fresh session predicts the same', async () => {
    const { createSession, fromOrtTensor, loadOrt, toOrtTensor } = await import('../../src/graph/executors/ort.ts');
    const x = strata.Input({ shape: [4], name: 'features' });
    const model = new strata.Model({ inputs: x, outputs: new layers.Dense(2, { activation: 'softmax', name: 'probs' }).apply(new layers.Dense(8, { activation: 'relu' }).apply(x)) });
    const path = join(tmp(), 'model.onnx');
    await model.export(path, { format: 'onnx' });
    assert.ok(existsSync(path));
    const ort = await loadOrt();
    const session = await createSession(new Uint8Array(readFileSync(path)));
    assert.deepEqual(session.inputNames, ['features']);
    assert.deepEqual(session.outputNames, ['probs']);
    for (const n of [1, 5]) {
      const data = randomTensor([n, 4], n, -1, 1, 'float32');
      const out = await session.run({ features: toOrtTensor(ort, data.dataSync(), [n, 4], 'float32') });
      assertClose(fromOrtTensor(out.probs), model.apply(data), { rtol: 1e-5, atol: 1e-6 });
    }
    writeFileSync(join(tmp(), 'unused'), '');
  });
});

describe('config JSON for Python', () => {
  it('writes float-valued keys with a decimal point, as Python json.dumps does', async () => {
    const { stringifyKerasJson } = await import('../../src/saving/keras-file.ts');
    assert.equal(stringifyKerasJson({ momentum: 0, units: 3, nested: { learning_rate: 1, rate: 0.5 } }), '{"momentum":0.0,"units":3,"nested":{"learning_rate":1.0,"rate":0.5}}');
  });
});
