import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as activations from '../../src/activations/index.ts';
import * as ops from '../../src/ops/index.ts';
import { tensor } from '../../src/tensor/create.ts';
import type { Tensor } from '../../src/tensor/tensor.ts';
import { registerSerializable } from '../../src/serialization/registry.ts';
import { assertClose, randomTensor } from '../helpers/close.ts';
import { assertGraphMatchesEager } from '../helpers/graph.ts';

const x = () => tensor([-3, -1, -0.25, 0.5, 2, 7], [6], 'float64');
const v = (t: Tensor) => [...t.dataSync()];

/** erf by Simpson's rule (independent of the kernel). */
const erfRef = (z: number) => {
  const n = 2000;
  const h = z / n;
  let s = 1 + Math.exp(-z * z);
  for (let i = 1; i < n; i++) s += (i % 2 ? 4 : 2) * Math.exp(-(i * h) * (i * h));
  return ((2 / Math.sqrt(Math.PI)) * (s * h)) / 3;
};
const sigmoidRef = (z: number) => 1 / (1 + Math.exp(-z));
const softplusRef = (z: number) => Math.log1p(Math.exp(z));

describe('activations.get: Keras names to functions', () => {
  // Elementwise references, by name.
  const refs: [string, (z: number) => number][] = [
    ['relu', (z) => Math.max(z, 0)],
    ['leaky_relu', (z) => (z >= 0 ? z : 0.2 * z)],
    ['relu6', (z) => Math.min(Math.max(z, 0), 6)],
    ['elu', (z) => (z > 0 ? z : Math.exp(z) - 1)],
    ['selu', (z) => 1.0507009873554805 * (z > 0 ? z : 1.6732632423543772 * (Math.exp(z) - 1))],
    ['celu', (z) => Math.max(z, 0) + Math.min(0, Math.exp(z) - 1)],
    ['gelu', (z) => (z / 2) * (1 + erfRef(z / Math.SQRT2))],
    ['softplus', softplusRef],
    ['softsign', (z) => z / (1 + Math.abs(z))],
    ['silu', (z) => z * sigmoidRef(z)],
    ['swish', (z) => z * sigmoidRef(z)],
    ['tanh', Math.tanh],
    ['sigmoid', sigmoidRef],
    ['exponential', Math.exp],
    ['hard_sigmoid', (z) => Math.min(Math.max(z + 3, 0), 6) / 6],
    ['hard_silu', (z) => (z * Math.min(Math.max(z + 3, 0), 6)) / 6],
    ['hard_swish', (z) => (z * Math.min(Math.max(z + 3, 0), 6)) / 6],
    ['linear', (z) => z],
    ['mish', (z) => z * Math.tanh(softplusRef(z))],
    ['log_sigmoid', (z) => Math.log(sigmoidRef(z))],
    ['hard_tanh', (z) => Math.min(Math.max(z, -1), 1)],
    ['tanh_shrink', (z) => z - Math.tanh(z)],
    ['hard_shrink', (z) => (Math.abs(z) > 0.5 ? z : 0)],
    ['soft_shrink', (z) => (z > 0.5 ? z - 0.5 : z < -0.5 ? z + 0.5 : 0)],
    ['squareplus', (z) => (z + Math.sqrt(z * z + 4)) / 2],
    ['sparse_plus', (z) => (z <= -1 ? 0 : z >= 1 ? z : (z + 1) ** 2 / 4)],
    ['sparse_sigmoid', (z) => (z <= -1 ? 0 : z >= 1 ? 1 : (z + 1) / 2)],
  ];
  for (const [name, ref] of refs) {
    it(`'${name}'`, () => {
      const fn = activations.get(name);
      assert.equal(typeof fn, 'function');
      assertClose(fn(x()), v(x()).map(ref), { rtol: 1e-6, atol: 1e-7 }, name);
    });
  }

  it("'softmax' and 'log_softmax' normalize over the last axis", () => {
    const logits = tensor([[1, 2, 3], [0, 0, 0]], [2, 3], 'float64');
    const e = [Math.exp(1), Math.exp(2), Math.exp(3)];
    const s = e.reduce((a, b) => a + b, 0);
    const expected = [...e.map((z) => z / s), 1 / 3, 1 / 3, 1 / 3];
    assertClose(activations.get('softmax')(logits), expected, { rtol: 1e-12 });
    assertClose(activations.get('log_softmax')(logits), expected.map(Math.log), { rtol: 1e-12 });
    assertClose(activations.softmax(logits, 0), [Math.exp(1) / (Math.exp(1) + 1), Math.exp(2) / (Math.exp(2) + 1), Math.exp(3) / (Math.exp(3) + 1), 1 / (Math.exp(1) + 1), 1 / (Math.exp(2) + 1), 1 / (Math.exp(3) + 1)], { rtol: 1e-12 });
  });

  it("'glu' gates the first half with the sigmoid of the second", () => {
    const out = activations.get('glu')(tensor([[1, 2, 0, -1]], [1, 4], 'float64'));
    assert.deepEqual(out.shape, [1, 2]);
    assertClose(out, [1 * sigmoidRef(0), 2 * sigmoidRef(-1)], { rtol: 1e-12 });
    assert.throws(() => activations.glu(tensor([1, 2, 3])), /activations.glu: the size of axis 0 must be known and divisible by 2. Received: x.shape=\(3,\)/);
  });

  it("'sparsemax' projects onto the simplex", () => {
    assertClose(activations.get('sparsemax')(tensor([1, 2, 3], [3], 'float64')), [0, 0, 1], { atol: 1e-12 });
    assertClose(activations.sparsemax(tensor([[0.5, 0.6, 0.1], [0, 0, 0]], [2, 3], 'float64')), [0.5 - 0.2 / 3, 0.6 - 0.2 / 3, 0.1 - 0.2 / 3, 1 / 3, 1 / 3, 1 / 3], { atol: 1e-12 });
  });

  it("'threshold' needs its two arguments, as in Keras", () => {
    assert.deepEqual(v(activations.threshold(tensor([-1, 0, 1, 2]), 1, 0)), [0, 0, 0, 2]);
    assert.throws(() => activations.get('threshold')(tensor([1])), /activations.threshold: needs `threshold` and `default_value`/);
  });

  it('relu options follow keras.activations.relu (the docstring examples)', () => {
    const t = tensor([-10, -5, 0, 5, 10]);
    assert.deepEqual(v(activations.relu(t)), [0, 0, 0, 5, 10]);
    assert.deepEqual(v(activations.relu(t, { negativeSlope: 0.5 })), [-5, -2.5, 0, 5, 10]);
    assert.deepEqual(v(activations.relu(t, { maxValue: 5 })), [0, 0, 0, 5, 5]);
    assert.deepEqual(v(activations.relu(t, { threshold: 5 })).map((z) => z + 0), [0, 0, 0, 0, 10]);
    assert.deepEqual(v(activations.relu(t, { maxValue: 6 })), [0, 0, 0, 5, 6]);
    // All three: x above the threshold (clipped), slope * (x - threshold) below it.
    assert.deepEqual(v(activations.relu(t, { negativeSlope: 0.1, maxValue: 8, threshold: 2 })), [-1.2000000476837158, -0.699999988079071, -0.20000000298023224, 5, 8]);
    assert.throws(() => activations.relu(t, { negativeSlope: Number.NaN }), /activations.relu: Received: negativeSlope=NaN/);
  });

  it('gelu is exact by default (keras.activations), unlike ops.gelu', () => {
    const t = tensor([1.5], [1], 'float64');
    assertClose(activations.gelu(t), [0.75 * (1 + erfRef(1.5 / Math.SQRT2))], { rtol: 1e-7 });
    assertClose(activations.gelu(t, true), ops.gelu(t), { rtol: 1e-12 });
    assert.notEqual(activations.gelu(t).item(), ops.gelu(t).item());
  });

  it('null and undefined give linear; functions pass through', () => {
    assert.equal(activations.get(null), activations.linear);
    assert.equal(activations.get(undefined), activations.linear);
    const t = tensor([1, -2]);
    assert.deepEqual(v(activations.get(null)(t)), [1, -2]);
    const double = (z: Tensor) => ops.multiply(z, 2);
    assert.equal(activations.get(double), double);
    assert.equal(activations.get('swish'), activations.get('silu'), 'swish is silu');
    assert.equal(activations.get('hard_swish'), activations.hardSilu);
  });

  it('unknown names list the valid ones', () => {
    assert.throws(
      () => activations.get('rellu'),
      (e: Error) => /unknown activation 'rellu'/.test(e.message) && /'relu'/.test(e.message) && /'softmax'/.test(e.message) && /'hard_swish'/.test(e.message),
    );
    assert.throws(() => activations.get('leakyRelu'), /Did you mean 'leaky_relu'\?/);
    assert.throws(() => activations.get(3 as never), /could not interpret activation identifier 3/);
  });

  it('activations run inside traced functions', async () => {
    const t = randomTensor([2, 5], 4, -3, 3, 'float32');
    for (const name of ['relu', 'gelu', 'softmax', 'hard_silu', 'selu']) {
      await assertGraphMatchesEager(activations.get(name), [t], { rtol: 1e-5, atol: 1e-6 }, name);
    }
  });
});

describe('activations.serialize / deserialize', () => {
  it('built-ins serialize to their Keras names (aliases to the function name)', () => {
    assert.equal(activations.serialize(activations.relu), 'relu');
    assert.equal(activations.serialize(activations.get('leaky_relu')), 'leaky_relu');
    assert.equal(activations.serialize(activations.swish), 'silu');
    assert.equal(activations.serialize(activations.hardSwish), 'hard_silu');
    assert.equal(activations.serialize(activations.exponential), 'exponential');
    assert.equal(activations.serialize(activations.linear), 'linear');
    assert.equal(activations.serialize(null), 'linear');
    assert.equal(activations.serialize(undefined), 'linear');
    for (const name of activations.names) {
      const canonical = name === 'swish' ? 'silu' : name === 'hard_swish' ? 'hard_silu' : name;
      assert.equal(activations.serialize(activations.get(name)), canonical, name);
      assert.equal(activations.deserialize(canonical), activations.get(name), name);
    }
  });

  it('the equivalent ops functions serialize under the same names', () => {
    assert.equal(activations.serialize(ops.relu), 'relu');
    assert.equal(activations.serialize(ops.sigmoid), 'sigmoid');
    assert.equal(activations.serialize(ops.softmax), 'softmax');
    assert.equal(activations.serialize(ops.exp), 'exponential');
    assert.equal(activations.serialize(ops.leakyRelu), 'leaky_relu');
  });

  it('registered custom functions use the Keras function form and come back', () => {
    const scaledTanh = (z: Tensor) => ops.multiply(ops.tanh(z), 1.7159);
    assert.throws(() => activations.serialize(scaledTanh), /cannot serialize the function 'scaledTanh': it is not registered. Register it first with registerSerializable/);
    registerSerializable(scaledTanh, { package: 'act_test' });
    const s = activations.serialize(scaledTanh);
    assert.deepEqual(s, { module: null, class_name: 'function', config: 'scaledTanh', registered_name: 'act_test>scaledTanh' });
    assert.equal(activations.deserialize(s as never), scaledTanh);
    assert.equal(activations.get(JSON.parse(JSON.stringify(s))), scaledTanh);
    // Keras 3 itself writes the registered name as the config too.
    assert.equal(activations.deserialize({ module: '__main__', class_name: 'function', config: 'act_test>scaledTanh', registered_name: 'act_test>scaledTanh' }), scaledTanh);
    assert.equal(activations.get('act_test>scaledTanh'), scaledTanh);
  });

  it("reads Keras's function form for built-ins and reports unknown functions", () => {
    assert.equal(activations.deserialize({ module: 'keras.activations', class_name: 'function', config: 'relu', registered_name: 'relu' }), activations.relu);
    assert.equal(activations.deserialize({ module: 'keras.src.activations.activations', class_name: 'function', config: 'gelu', registered_name: null }), activations.gelu);
    assert.throws(
      () => activations.deserialize({ module: null, class_name: 'function', config: 'myAct', registered_name: 'pkg>myAct' }),
      /unknown activation function 'pkg>myAct \(function myAct\)'. Register it before loading with registerSerializable\(myAct, \{package: 'pkg'\}\)/,
    );
  });

  it('customObjects resolve functions by name', () => {
    const cube = (z: Tensor) => ops.power(z, 3);
    assert.throws(() => activations.deserialize('cube'), /unknown activation 'cube'/);
    assert.equal(activations.deserialize('cube', { cube }), cube);
    assert.equal(activations.deserialize({ module: null, class_name: 'function', config: 'cube', registered_name: 'cube' }, { cube }), cube);
  });
});
