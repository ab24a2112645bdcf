import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as constraints from '../../src/constraints/index.ts';
import * as ops from '../../src/ops/index.ts';
import { tensor } from '../../src/tensor/create.ts';
import type { Tensor } from '../../src/tensor/tensor.ts';
import { registerSerializable } from '../../src/serialization/registry.ts';
import { deserializeObject, serializeObject } from '../../src/serialization/keras-object.ts';
import { assertClose, randomTensor } from '../helpers/close.ts';
import { assertGraphMatchesEager } from '../helpers/graph.ts';

const EPS = 1e-7;

describe('constraints: values by hand', () => {
  // Columns (axis 0 norms): (3, 4) has norm 5, (0.3, 0.4) has norm 0.5.
  const w = () => tensor([[3, 0.3], [4, 0.4]], [2, 2], 'float64');

  it('MaxNorm rescales only the columns whose norm exceeds maxValue', () => {
    const out = new constraints.MaxNorm({ maxValue: 2 }).call(w());
    assertClose(out, tensor([[(3 * 2) / (5 + EPS), (0.3 * 0.5) / (0.5 + EPS)], [(4 * 2) / (5 + EPS), (0.4 * 0.5) / (0.5 + EPS)]], [2, 2], 'float64'), { rtol: 1e-12 });
    assertClose(new constraints.MaxNorm().call(w()), out, { rtol: 1e-12 }, 'default maxValue 2, axis 0');
  });

  it('MaxNorm along axis 1 and along several axes', () => {
    // Rows: (3, 0.3) norm sqrt(9.09), (4, 0.4) norm sqrt(16.16).
    const out = new constraints.MaxNorm({ maxValue: 1, axis: 1 }).call(w()).arraySync() as number[][];
    assert.ok(Math.abs(Math.hypot(...out[0]) - 1) < 1e-6 && Math.abs(Math.hypot(...out[1]) - 1) < 1e-6);
    const k = randomTensor([2, 2, 3, 4], 5, -3, 3);
    const all = new constraints.MaxNorm({ maxValue: 0.5, axis: [0, 1, 2] }).call(k);
    const norms = ops.sqrt(ops.sum(ops.square(all), { axis: [0, 1, 2] }));
    assertClose(norms, tensor([0.5, 0.5, 0.5, 0.5], [4], 'float64'), { rtol: 1e-6 }, 'each of the 4 filters has norm 0.5');
  });

  it('MinMaxNorm clips norms into [minValue, maxValue], partially with rate < 1', () => {
    const out = new constraints.MinMaxNorm({ minValue: 1, maxValue: 2 }).call(w());
    assertClose(out, tensor([[(3 * 2) / (5 + EPS), (0.3 * 1) / (0.5 + EPS)], [(4 * 2) / (5 + EPS), (0.4 * 1) / (0.5 + EPS)]], [2, 2], 'float64'), { rtol: 1e-12 });
    const half = new constraints.MinMaxNorm({ minValue: 1, maxValue: 2, rate: 0.5 }).call(w());
    const d0 = 0.5 * 2 + 0.5 * 5; // desired norm of column 0
    const d1 = 0.5 * 1 + 0.5 * 0.5;
    assertClose(half, tensor([[(3 * d0) / (5 + EPS), (0.3 * d1) / (0.5 + EPS)], [(4 * d0) / (5 + EPS), (0.4 * d1) / (0.5 + EPS)]], [2, 2], 'float64'), { rtol: 1e-12 });
    // Defaults [0, 1], rate 1: column 0 is scaled to norm 1, column 1 (norm 0.5) kept.
    const d = new constraints.MinMaxNorm().call(w());
    assertClose(d, tensor([[3 / (5 + EPS), (0.3 * 0.5) / (0.5 + EPS)], [4 / (5 + EPS), (0.4 * 0.5) / (0.5 + EPS)]], [2, 2], 'float64'), { rtol: 1e-12 });
  });

  it('NonNeg zeroes negative weights', () => {
    const out = new constraints.NonNeg().call(tensor([[-1, 0, 2], [3, -0.5, 0.25]]));
    assert.deepEqual([...out.dataSync()].map((v) => v + 0), [0, 0, 2, 3, 0, 0.25]); // (-1 * 0 is -0)
    assert.equal(out.dtype, 'float32');
  });

  it('UnitNorm divides by the norm (plus epsilon)', () => {
    assertClose(new constraints.UnitNorm().call(w()), tensor([[3 / (5 + EPS), 0.3 / (0.5 + EPS)], [4 / (5 + EPS), 0.4 / (0.5 + EPS)]], [2, 2], 'float64'), { rtol: 1e-12 });
    const rows = new constraints.UnitNorm({ axis: 1 }).call(w()).arraySync() as number[][];
    for (const r of rows) assert.ok(Math.abs(Math.hypot(...r) - 1) < 1e-6);
  });

  it('the base Constraint returns the weight unchanged', () => {
    const x = tensor([1, -2]);
    assert.deepEqual([...new constraints.Constraint().call(x).dataSync()], [1, -2]);
  });

  it('bad arguments name the argument and the value', () => {
    assert.throws(() => new constraints.MaxNorm({ maxValue: -1 }), /MaxNorm: Received: maxValue=-1; expected a number >= 0/);
    assert.throws(() => new constraints.MinMaxNorm({ minValue: 3, maxValue: 2 }), /MinMaxNorm: Received: minValue=3, maxValue=2; expected minValue <= maxValue/);
    assert.throws(() => new constraints.MinMaxNorm({ rate: 2 }), /MinMaxNorm: Received: rate=2; expected a number in \[0, 1\]/);
    assert.throws(() => new constraints.UnitNorm({ axis: 'rows' as never }), /UnitNorm: Received: axis="rows"; expected an integer or a non-empty list of integers/);
    assert.throws(() => new constraints.MaxNorm({ axis: [] }), /axis=\[\]/);
  });

  it('runs inside traced functions with the eager values', async () => {
    const k = randomTensor([3, 4], 2, -2, 2, 'float32');
    await assertGraphMatchesEager((t: Tensor) => new constraints.MaxNorm({ maxValue: 1 }).call(t), [k], {}, 'max_norm');
    await assertGraphMatchesEager((t: Tensor) => new constraints.MinMaxNorm({ minValue: 0.5, maxValue: 1, rate: 0.7, axis: 1 }).call(t), [k], {}, 'min_max_norm');
    await assertGraphMatchesEager((t: Tensor) => new constraints.NonNeg().call(t), [k], {}, 'non_neg');
    await assertGraphMatchesEager((t: Tensor) => new constraints.UnitNorm().call(t), [k], {}, 'unit_norm');
  });
});

describe('constraints: configs, get, serialize, deserialize', () => {
  const kerasDefaults: [string, () => constraints.Constraint, Record<string, unknown>][] = [
    ['MaxNorm', () => new constraints.MaxNorm(), { max_value: 2, axis: 0 }],
    ['MinMaxNorm', () => new constraints.MinMaxNorm(), { min_value: 0, max_value: 1, rate: 1, axis: 0 }],
    ['NonNeg', () => new constraints.NonNeg(), {}],
    ['UnitNorm', () => new constraints.UnitNorm(), { axis: 0 }],
  ];
  for (const [className, make, config] of kerasDefaults) {
    it(`${className}: Keras keys and defaults, round trip`, () => {
      const c = make();
      const s = constraints.serialize(c);
      assert.deepEqual(s, { module: 'keras.constraints', class_name: className, config, registered_name: null });
      assert.deepEqual(Object.keys(c.getConfig()), Object.keys(config));
      const back = constraints.deserialize(JSON.parse(JSON.stringify(s)));
      assert.equal(back.constructor, c.constructor);
      assert.deepEqual(back.getConfig(), config);
      assert.deepEqual(deserializeObject<constraints.Constraint>(serializeObject(c), 'keras.constraints').getConfig(), config);
    });
  }

  it('non-default values round-trip (axis lists included)', () => {
    for (const c of [new constraints.MaxNorm({ maxValue: 3, axis: [0, 1, 2] }), new constraints.MinMaxNorm({ minValue: 0.5, maxValue: 4, rate: 0.25, axis: 1 }), new constraints.UnitNorm({ axis: -1 })]) {
      const cls = c.constructor as unknown as { fromConfig(x: unknown): constraints.Constraint };
      const copy = cls.fromConfig(JSON.parse(JSON.stringify(c.getConfig())));
      assert.deepEqual(copy.getConfig(), c.getConfig());
    }
    assert.deepEqual(constraints.MaxNorm.fromConfig({ max_value: 3, axis: [0, 1, 2] }).axis, [0, 1, 2]);
    assert.throws(() => constraints.MaxNorm.fromConfig({ max_value: 3, maxValue: 4 }), /MaxNorm.fromConfig: unknown config key 'maxValue'. Expected keys: 'max_value', 'axis'/);
  });

  it('get: Keras names and class names', () => {
    const expected: [string, Function][] = [
      ['max_norm', constraints.MaxNorm],
      ['MaxNorm', constraints.MaxNorm],
      ['min_max_norm', constraints.MinMaxNorm],
      ['MinMaxNorm', constraints.MinMaxNorm],
      ['non_neg', constraints.NonNeg],
      ['NonNeg', constraints.NonNeg],
      ['unit_norm', constraints.UnitNorm],
      ['UnitNorm', constraints.UnitNorm],
    ];
    for (const [name, cls] of expected) assert.equal(constraints.get(name).constructor, cls, name);
    assert.throws(() => constraints.get('nonneg'), (e: Error) => /unknown constraint 'nonneg'/.test(e.message) && /'non_neg'/.test(e.message) && /'max_norm'/.test(e.message));
    assert.throws(() => constraints.get('maxNorm'), /Did you mean 'max_norm'\?/);
  });

  it('get: serialized objects, instances, classes, functions, null', () => {
    const k2 = constraints.get({ class_name: 'MaxNorm', config: { max_value: 3, axis: 0 } });
    assert.ok(k2 instanceof constraints.MaxNorm);
    assert.equal((k2 as constraints.MaxNorm).maxValue, 3);
    const c = new constraints.UnitNorm();
    assert.equal(constraints.get(c), c);
    assert.ok(constraints.get(constraints.NonNeg) instanceof constraints.NonNeg);
    assert.equal(constraints.get(null), null);
    const clip01 = (x: Tensor) => ops.clip(x, 0, 1);
    const f = constraints.get(clip01);
    assert.ok(f instanceof constraints.FunctionConstraint);
    assert.deepEqual([...f.call(tensor([-1, 0.5, 2])).dataSync()], [0, 0.5, 1]);
    registerSerializable(clip01, { package: 'constraint_test' });
    const s = constraints.serialize(f);
    assert.deepEqual(s, { module: null, class_name: 'function', config: 'clip01', registered_name: 'constraint_test>clip01' });
    assert.equal((constraints.deserialize(s) as constraints.FunctionConstraint).fn, clip01);
  });
});
