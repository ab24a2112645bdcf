import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as strata from '../../src/index.ts';
import { Tensor } from '../../src/tensor/tensor.ts';
import { kerasFileBytes, loadKerasBytes } from '../../src/saving/keras-file.ts';
import { readZip, writeZip } from '../../src/saving/io/zip.ts';
import { assertClose } from '../helpers/close.ts';

const { ops, layers } = strata;
const dir = new URL('../fixtures/keras/', import.meta.url);

interface Fixture {
  keras_version: string;
  input: unknown;
  input_dtype: string;
  expected: unknown;
}

function fixture(name: string): { bytes: Uint8Array; ref: Fixture } {
  return { bytes: new Uint8Array(readFileSync(new URL(`${name}.keras`, dir))), ref: JSON.parse(readFileSync(new URL(`${name}.json`, dir), 'utf8')) };
}

const toTensor = (x: unknown, dtype: string) => strata.tensor(x as number[][], undefined, dtype === 'int32' ? 'int32' : 'float32');

/** The Python side's custom layer, written in TypeScript and registered under the same name (MyPkg>Scale). */
class Scale extends layers.Layer {
  static override readonly className = 'Scale';
  factor: number;
  kernel!: strata.Variable;
  constructor(options: { factor?: number } & strata.layers.LayerOptions = {}) {
    super(options);
    this.factor = options.factor ?? 2;
  }
  override build(shape: strata.Shape) {
    this.kernel = this.addWeight({ name: 'kernel', shape: [shape.at(-1) as number], initializer: 'random_normal' });
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

describe('files written by Python Keras load in Strata with the same predictions', () => {
  for (const name of ['sequential_mlp', 'functional_cnn_bn', 'branched_shared']) {
    it(name, async () => {
      const { bytes, ref } = fixture(name);
      const model = (await loadKerasBytes(bytes, `${name}.keras`)) as strata.Model;
      assertClose(model.apply(toTensor(ref.input, ref.input_dtype)) as unknown as Tensor, strata.tensor(ref.expected as number[][]), { rtol: 1e-5, atol: 1e-6 });
    });
  }

  it('the compiled MLP keeps its optimizer state and trains on', async () => {
    const { bytes } = fixture('sequential_mlp');
    const model = (await loadKerasBytes(bytes, 'sequential_mlp.keras')) as strata.Sequential;
    assert.ok(model.compiled);
    assert.equal(model.optimizer!.constructor.name, 'Adam');
    assert.equal(model.optimizer!.iterations.value.item(), 4, 'two epochs of two batches were run in Python');
    const x = strata.ones([8, 6]);
    const y = strata.zeros([8], 'int32');
    const before = (await model.evaluate(x, y, { verbose: 0, returnDict: true })) as Record<string, number>;
    await model.fit(x, y, { epochs: 5, verbose: 0 });
    const after = (await model.evaluate(x, y, { verbose: 0, returnDict: true })) as Record<string, number>;
    assert.ok(after.loss < before.loss, `${before.loss} -> ${after.loss}`);
  });

  it('branched_shared: layers in Keras depth order, optimizer slots restored in that order', async () => {
    const { bytes } = fixture('branched_shared');
    const model = (await loadKerasBytes(bytes, 'branched_shared.keras')) as strata.Model;
    assert.deepEqual(model.layers.map((l) => l.name), ['x', 'a1', 'a2', 'shared', 'join', 'out']);
    assert.equal(model.optimizer!.iterations.value.item(), 4);
    // Adam's first moment of each weight has that weight's shape: slots matched to the right weights.
    const slots = model.optimizer!.variables.slice(2);
    model.trainableWeights.forEach((w, i) => assert.deepEqual(slots[2 * i].shape, w.shape, w.path));
  });

  it('masked_lstm: the mask Keras records as a NotEqual op node reaches the LSTM', async () => {
    const { bytes, ref } = fixture('masked_lstm');
    const model = (await loadKerasBytes(bytes, 'masked_lstm.keras')) as strata.Model;
    assert.ok(model.layers.some((l) => l.constructor.name === 'NotEqual'));
    const x = toTensor(ref.input, ref.input_dtype);
    assertClose(model.apply(x) as unknown as Tensor, strata.tensor(ref.expected as number[][]), { rtol: 1e-5, atol: 1e-6 });
    // And it saves and loads again, mask node included.
    const again = (await loadKerasBytes(await kerasFileBytes(model), 'again.keras')) as strata.Model;
    assertClose(again.apply(x) as unknown as Tensor, strata.tensor(ref.expected as number[][]), { rtol: 1e-5, atol: 1e-6 });
  });

  it('nested_model (two inputs, two outputs, a Sequential inside)', async () => {
    const { bytes, ref } = fixture('nested_model');
    const model = (await loadKerasBytes(bytes, 'nested_model.keras')) as strata.Model;
    const [a, b] = ref.input as number[][][];
    const outs = model.apply([strata.tensor(a), strata.tensor(b)]) as unknown as Tensor[];
    (ref.expected as number[][][]).forEach((e, i) => assertClose(outs[i], strata.tensor(e), { rtol: 1e-5, atol: 1e-6 }));
    assert.deepEqual(model.layers.map((l) => l.name), ['a', 'b', 'concatenate', 'inner', 'aux']);
  });

  it('custom_layer (a registered custom layer)', async () => {
    const { bytes, ref } = fixture('custom_layer');
    await assert.rejects(loadKerasBytes(bytes, 'custom_layer.keras'), /'MyPkg>Scale'.*registerSerializable\(Scale, \{package: 'MyPkg'\}\)/s);
    const model = (await loadKerasBytes(bytes, 'custom_layer.keras', { customObjects: { 'MyPkg>Scale': Scale } })) as strata.Model;
    assertClose(model.apply(toTensor(ref.input, ref.input_dtype)) as unknown as Tensor, strata.tensor(ref.expected as number[][]), { rtol: 1e-5, atol: 1e-6 });
  });

  it('bfloat16_model (bfloat16 weights, computed in float32 by Strata)', async () => {
    const { bytes, ref } = fixture('bfloat16_model');
    const model = (await loadKerasBytes(bytes, 'bfloat16_model.keras')) as strata.Model;
    assert.equal(model.layers[0].dtypePolicy.name, 'bfloat16');
    // Keras computes in bfloat16 (8 bits of mantissa): agreement is at that precision.
    assertClose(model.apply(toTensor(ref.input, ref.input_dtype)) as unknown as Tensor, strata.tensor(ref.expected as number[][]), { rtol: 3e-2, atol: 3e-2 });
  });

  it('Keras 3.0–3.3 configs (dtype as a plain string) load too', async () => {
    const { bytes, ref } = fixture('sequential_mlp');
    const entries = readZip(bytes, 'sequential_mlp.keras');
    const config = JSON.parse(new TextDecoder().decode(entries.get('config.json')!));
    // Rewrite every DTypePolicy dict as the plain string older Keras 3 wrote.
    const downgrade = (x: unknown): unknown => {
      if (Array.isArray(x)) return x.map(downgrade);
      if (x && typeof x === 'object') {
        const o = x as Record<string, unknown>;
        if (o.class_name === 'DTypePolicy') return (o.config as { name: string }).name;
        return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, downgrade(v)]));
      }
      return x;
    };
    const old = writeZip([...entries].map(([n, d]) => ({ name: n, data: n === 'config.json' ? new TextEncoder().encode(JSON.stringify(downgrade(config))) : d })));
    const model = (await loadKerasBytes(old, 'old.keras')) as strata.Model;
    assertClose(model.apply(toTensor(ref.input, ref.input_dtype)) as unknown as Tensor, strata.tensor(ref.expected as number[][]), { rtol: 1e-5, atol: 1e-6 });
  });
});
