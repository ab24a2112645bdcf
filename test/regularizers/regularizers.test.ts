import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as regularizers from '../../src/regularizers/index.ts';
import * as ops from '../../src/ops/index.ts';
import { tensor } from '../../src/tensor/create.ts';
import type { Tensor } from '../../src/tensor/tensor.ts';
import { registerSerializable } from '../../src/serialization/registry.ts';
import { deserializeObject, serializeObject } from '../../src/serialization/keras-object.ts';
import { assertClose, randomTensor } from '../helpers/close.ts';
import { checkGradients } from '../helpers/gradcheck.ts';
import { assertGraphMatchesEager } from '../helpers/graph.ts';

const w = () => tensor([[1, -2], [3, -4]]);

/** Keras's OrthogonalRegularizer, written out by hand on plain arrays. */
function orthogonalPenaltyRef(m: number[][], factor: number, mode: 'rows' | 'columns'): number {
  const vectors = mode === 'rows' ? m : m[0].map((_, j) => m.map((row) => row[j]));
  const unit = vectors.map((v) => {
    const n = Math.hypot(...v);
    return v.map((x) => x / n);
  });
  let sum = 0;
  for (let i = 0; i < unit.length; i++) {
    for (let j = 0; j < unit.length; j++) if (i !== j) sum += Math.abs(unit[i].reduce((s, x, k) => s + x * unit[j][k], 0));
  }
  const n = unit.length;
  return (factor * 0.5 * sum) / ((n * (n - 1)) / 2);
}

describe('regularizers: values', () => {
  it('L1, L2 and L1L2 by hand', () => {
    // sum |w| = 10, sum w^2 = 30
    assertClose(new regularizers.L1(0.1).call(w()), 1);
    assertClose(new regularizers.L1({ l1: 0.3 }).call(w()), 3);
    assertClose(new regularizers.L2(0.1).call(w()), 3);
    assertClose(new regularizers.L2({ l2: 0.5 }).call(w()), 15);
    assertClose(new regularizers.L1L2({ l1: 0.1, l2: 0.2 }).call(w()), 1 + 6);
    assertClose(new regularizers.L1L2({ l2: 0.1 }).call(w()), 3);
    assertClose(new regularizers.L1L2({ l1: 0.1 }).call(w()), 1);
  });

  it('defaults: L1 and L2 0.01; L1L2 0 and 0 (its value is then 0)', () => {
    assertClose(new regularizers.L1().call(w()), 0.1);
    assertClose(new regularizers.L2().call(w()), 0.3);
    const zero = new regularizers.L1L2().call(w());
    assert.deepEqual(zero.shape, []);
    assert.equal(zero.item(), 0);
  });

  it('the penalty is a scalar of the weight dtype', () => {
    const x = randomTensor([3, 4], 1);
    for (const r of [new regularizers.L1(), new regularizers.L2(), new regularizers.L1L2({ l1: 0.1, l2: 0.1 }), new regularizers.OrthogonalRegularizer()]) {
      const p = r.call(x);
      assert.deepEqual(p.shape, []);
      assert.equal(p.dtype, 'float64');
    }
    assert.equal(new regularizers.L2().call(tensor([1, 2])).dtype, 'float32');
  });

  it('OrthogonalRegularizer by hand, rows and columns', () => {
    // rows (1, 0) and (1, 1)/sqrt(2): |cos| = 1/sqrt(2), one pair.
    assertClose(new regularizers.OrthogonalRegularizer().call(tensor([[1, 0], [1, 1]])), (0.01 * 0.5 * 2 * Math.SQRT1_2) / 1);
    const m = [[1, 2, 0.5], [-1, 0.3, 2], [0.4, -2, 1], [2, 1, 1]];
    const x = tensor(m, [4, 3], 'float64');
    assertClose(new regularizers.OrthogonalRegularizer({ factor: 0.2 }).call(x), orthogonalPenaltyRef(m, 0.2, 'rows'), { rtol: 1e-10 });
    assertClose(new regularizers.OrthogonalRegularizer({ factor: 0.2, mode: 'columns' }).call(x), orthogonalPenaltyRef(m, 0.2, 'columns'), { rtol: 1e-10 });
    // Orthogonal rows give 0.
    assertClose(new regularizers.OrthogonalRegularizer({ factor: 1 }).call(tensor([[3, 0, 0], [0, 0, -2]])), 0);
  });

  it('OrthogonalRegularizer refuses what it cannot compare', () => {
    assert.throws(() => new regularizers.OrthogonalRegularizer().call(tensor([1, 2])), /OrthogonalRegularizer: inputs must have rank 2. Received: inputs.shape=\(2,\)/);
    assert.throws(() => new regularizers.OrthogonalRegularizer().call(tensor([[1, 2, 3]])), /mode='rows' needs at least 2 rows/);
    assert.throws(() => new regularizers.OrthogonalRegularizer({ mode: 'columns' }).call(tensor([[1], [2]])), /mode='columns' needs at least 2 columns/);
  });

  it('bad factors and modes name the argument and the value', () => {
    assert.throws(() => new regularizers.L1(-1), /L1: Received: l1=-1; expected a number >= 0/);
    assert.throws(() => new regularizers.L2({ l2: Number.NaN }), /L2: Received: l2=NaN; expected a finite number/);
    assert.throws(() => new regularizers.L1L2({ l1: 0.1, l2: -0.5 }), /L1L2: Received: l2=-0.5/);
    assert.throws(() => new regularizers.OrthogonalRegularizer({ factor: -2 }), /factor=-2/);
    assert.throws(() => new regularizers.OrthogonalRegularizer({ mode: 'diagonal' as never }), /OrthogonalRegularizer: Received: mode="diagonal"; expected one of 'rows', 'columns'/);
  });
});

describe('regularizers: gradients and graphs', () => {
  const x = randomTensor([4, 3], 7, 0.2, 1.5); // away from 0, where |x| has its kink
  const signed = ops.multiply(x, tensor([[1, -1, 1], [-1, 1, -1], [1, 1, -1], [-1, -1, 1]], [4, 3], 'float64'));

  it('L1, L2 and L1L2 are differentiable (checkGradients, float64)', () => {
    checkGradients((t) => new regularizers.L1(0.3).call(t), [signed], {}, 'L1');
    checkGradients((t) => new regularizers.L2(0.2).call(t), [signed], {}, 'L2');
    checkGradients((t) => new regularizers.L1L2({ l1: 0.1, l2: 0.4 }).call(t), [signed], {}, 'L1L2');
  });

  it('OrthogonalRegularizer is differentiable in both modes', () => {
    const m = randomTensor([4, 3], 11);
    checkGradients((t) => new regularizers.OrthogonalRegularizer({ factor: 0.5 }).call(t), [m], {}, 'orthogonal rows');
    checkGradients((t) => new regularizers.OrthogonalRegularizer({ factor: 0.5, mode: 'columns' }).call(t), [m], {}, 'orthogonal columns');
  });

  it('runs inside traced functions with the eager values', async () => {
    const m = randomTensor([5, 3], 3, -1, 1, 'float32');
    await assertGraphMatchesEager((t: Tensor) => new regularizers.L1L2({ l1: 0.1, l2: 0.2 }).call(t), [m], {}, 'l1l2');
    await assertGraphMatchesEager((t: Tensor) => new regularizers.OrthogonalRegularizer({ factor: 0.3, mode: 'columns' }).call(t), [m], { rtol: 1e-5, atol: 1e-6 }, 'orthogonal');
  });
});

describe('regularizers: configs, get, serialize, deserialize', () => {
  const kerasDefaults: [string, () => regularizers.Regularizer, Record<string, unknown>][] = [
    ['L1', () => new regularizers.L1(), { l1: 0.01 }],
    ['L2', () => new regularizers.L2(), { l2: 0.01 }],
    ['L1L2', () => new regularizers.L1L2(), { l1: 0, l2: 0 }],
    ['OrthogonalRegularizer', () => new regularizers.OrthogonalRegularizer(), { factor: 0.01, mode: 'rows' }],
  ];
  for (const [className, make, config] of kerasDefaults) {
    it(`${className}: Keras keys and defaults, round trip`, () => {
      const r = make();
      const s = regularizers.serialize(r);
      assert.deepEqual(s, { module: 'keras.regularizers', class_name: className, config, registered_name: null });
      const back = regularizers.deserialize(JSON.parse(JSON.stringify(s)));
      assert.equal(back.constructor, r.constructor);
      assert.deepEqual(back.getConfig(), config);
      const viaRegistry = deserializeObject<regularizers.Regularizer>(serializeObject(r), 'keras.regularizers');
      assert.deepEqual(viaRegistry.getConfig(), config);
    });
  }

  it('non-default values round-trip', () => {
    for (const r of [new regularizers.L1(0.5), new regularizers.L2(2), new regularizers.L1L2({ l1: 0.1, l2: 0.2 }), new regularizers.OrthogonalRegularizer({ factor: 0.3, mode: 'columns' })]) {
      const cls = r.constructor as unknown as { fromConfig(c: unknown): regularizers.Regularizer };
      const copy = cls.fromConfig(r.getConfig());
      assert.deepEqual(copy.getConfig(), r.getConfig());
      assertClose(copy.call(w()), r.call(w()));
    }
  });

  it('reads what Keras writes (float32-rounded factors, null factors)', () => {
    const l2 = regularizers.deserialize({ module: 'keras.regularizers', class_name: 'L2', config: { l2: 0.009999999776482582 }, registered_name: null });
    assert.ok(l2 instanceof regularizers.L2);
    assert.equal((l2 as regularizers.L2).l2, 0.009999999776482582);
    const k2 = regularizers.get({ class_name: 'L1L2', config: { l1: null, l2: 0.5 } });
    assert.deepEqual(k2.getConfig(), { l1: 0, l2: 0.5 });
    assert.throws(() => regularizers.L1.fromConfig({ l1: 0.1, l2: 0.1 }), /L1.fromConfig: unknown config key 'l2'. Expected keys: 'l1'/);
  });

  it('get: names, aliases and their defaults', () => {
    assert.deepEqual(regularizers.get('l1').getConfig(), { l1: 0.01 });
    assert.deepEqual(regularizers.get('L1').getConfig(), { l1: 0.01 });
    assert.deepEqual(regularizers.get('l2').getConfig(), { l2: 0.01 });
    assert.deepEqual(regularizers.get('l1_l2').getConfig(), { l1: 0.01, l2: 0.01 }, "'l1_l2' uses 0.01 for both, as Keras documents");
    assert.deepEqual(regularizers.get('l1l2').getConfig(), { l1: 0, l2: 0 }, "'l1l2' is the class with its defaults");
    assert.deepEqual(regularizers.get('L1L2').getConfig(), { l1: 0, l2: 0 });
    assert.ok(regularizers.get('orthogonal_regularizer') instanceof regularizers.OrthogonalRegularizer);
    assert.ok(regularizers.get('OrthogonalRegularizer') instanceof regularizers.OrthogonalRegularizer);
    assert.throws(() => regularizers.get('l3'), (e: Error) => /unknown regularizer 'l3'/.test(e.message) && /'l1_l2'/.test(e.message) && /'orthogonal_regularizer'/.test(e.message));
    assert.throws(() => regularizers.get('orthogonalRegularizer'), /Did you mean 'orthogonal_regularizer'\?/);
  });

  it('get: instances, classes, functions and null', () => {
    const r = new regularizers.L2(0.3);
    assert.equal(regularizers.get(r), r);
    assert.ok(regularizers.get(regularizers.L1) instanceof regularizers.L1);
    assert.equal(regularizers.get(null), null);
    assert.equal(regularizers.serialize(undefined), null);
    const sumReg = (x: Tensor) => ops.multiply(ops.sum(x), 0.5);
    const f = regularizers.get(sumReg);
    assert.ok(f instanceof regularizers.FunctionRegularizer);
    assertClose(f.call(tensor([1, 2, 3])), 3);
    assert.throws(() => regularizers.serialize(f), /cannot serialize the function 'sumReg'/);
    registerSerializable(sumReg, { package: 'reg_test' });
    const s = regularizers.serialize(f);
    assert.deepEqual(s, { module: null, class_name: 'function', config: 'sumReg', registered_name: 'reg_test>sumReg' });
    assert.equal((regularizers.deserialize(s) as regularizers.FunctionRegularizer).fn, sumReg);
  });

  it('a custom Regularizer subclass without getConfig cannot be saved, with a clear error', () => {
    class Quartic extends regularizers.Regularizer {
      static override readonly className = 'Quartic';
      call(x: Tensor): Tensor {
        return ops.sum(ops.power(x, 4));
      }
    }
    assertClose(new Quartic().call(tensor([1, 2])), 17);
    assert.throws(() => regularizers.serialize(new Quartic()), /Quartic.getConfig: this regularizer does not implement getConfig\(\)/);
  });
});
