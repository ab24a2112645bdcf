import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as initializers from '../../src/initializers/index.ts';
import { householderQR } from '../../src/initializers/orthogonal.ts';
import * as random from '../../src/ops/api/random.ts';
import * as ops from '../../src/ops/index.ts';
import { Tensor } from '../../src/tensor/tensor.ts';
import { tensor, eye as identity } from '../../src/tensor/create.ts';
import '../../src/regularizers/index.ts';
import { registerSerializable } from '../../src/serialization/registry.ts';
import { deserializeObject, serializeObject } from '../../src/serialization/keras-object.ts';
import { assertClose, testRandom } from '../helpers/close.ts';

const values = (t: Tensor) => [...t.dataSync()];

function stats(t: Tensor): { mean: number; std: number; min: number; max: number } {
  const v = t.dataSync();
  let s = 0;
  let min = Infinity;
  let max = -Infinity;
  for (const x of v) {
    s += x;
    min = Math.min(min, x);
    max = Math.max(max, x);
  }
  const mean = s / v.length;
  let ss = 0;
  for (const x of v) ss += (x - mean) ** 2;
  return { mean, std: Math.sqrt(ss / v.length), min, max };
}

/** |actual - expected| <= rel * expected (for positive expected values). */
function assertRel(actual: number, expected: number, rel: number, label: string): void {
  assert.ok(Math.abs(actual - expected) <= rel * Math.abs(expected), `${label}: ${actual} vs expected ${expected} (±${rel * 100}%)`);
}

/** M^T M for a 2D tensor, in float64 (or M M^T when `rows`). */
function gram(m: Tensor, rows = false): Tensor {
  const x = ops.cast(m, 'float64');
  return rows ? ops.matmul(x, ops.transpose(x)) : ops.matmul(ops.transpose(x), x);
}

const eye = (n: number, scale = 1) => ops.multiply(identity(n, n, 'float64'), scale);

describe('initializers: constant initializers', () => {
  it('Zeros, Ones and Constant fill the shape in the requested dtype', () => {
    const z = new initializers.Zeros().call([2, 3]);
    assert.deepEqual(z.shape, [2, 3]);
    assert.equal(z.dtype, 'float32');
    assert.deepEqual(values(z), [0, 0, 0, 0, 0, 0]);
    const o = new initializers.Ones().call([4], 'int32');
    assert.equal(o.dtype, 'int32');
    assert.deepEqual(values(o), [1, 1, 1, 1]);
    const b = new initializers.Ones().call([2], 'bool');
    assert.equal(b.dtype, 'bool');
    assert.deepEqual(values(b), [1, 1]);
    const c = new initializers.Constant(3.5).call([2, 2], 'float64');
    assert.equal(c.dtype, 'float64');
    assert.deepEqual(values(c), [3.5, 3.5, 3.5, 3.5]);
    assert.deepEqual(values(new initializers.Constant({ value: -2 }).call([3])), [-2, -2, -2]);
    assert.deepEqual(values(new initializers.Constant().call([2])), [0, 0]);
    assert.deepEqual(new initializers.Zeros().call([]).shape, []);
  });

  it('Identity gives gain * I, also for rectangular 2D shapes, and refuses other ranks', () => {
    assert.deepEqual(values(new initializers.Identity().call([3, 3])), [1, 0, 0, 0, 1, 0, 0, 0, 1]);
    const r = new initializers.Identity({ gain: 2 }).call([2, 3]);
    assert.deepEqual(r.shape, [2, 3]);
    assert.deepEqual(values(r), [2, 0, 0, 0, 2, 0]);
    assert.deepEqual(values(new initializers.Identity({ gain: 0.5 }).call([3, 2], 'float64')), [0.5, 0, 0, 0.5, 0, 0]);
    assert.throws(() => new initializers.Identity().call([3]), /can only make 2D matrices. Received: shape=\(3,\) of rank 1/);
    assert.throws(() => new initializers.Identity().call([2, 2, 2]), /rank 3/);
  });

  it('checks the shape and dtype arguments', () => {
    assert.throws(() => new initializers.Zeros().call([2, -1]), /Zeros: Received: shape=\[2, -1\]/);
    assert.throws(() => new initializers.Ones().call([1.5]), /shape=\[1.5\]/);
    assert.throws(() => new initializers.Zeros().call([2], 'float16' as never), /unknown dtype "float16"/);
    assert.throws(() => new initializers.Constant({ value: Number.NaN }), /Constant: Received: value=NaN/);
  });
});

describe('initializers: seeding', () => {
  const classes: [string, () => initializers.Initializer, (seed?: number | random.SeedGenerator | null) => initializers.Initializer][] = [
    ['RandomUniform', () => new initializers.RandomUniform(), (seed) => new initializers.RandomUniform({ seed })],
    ['RandomNormal', () => new initializers.RandomNormal(), (seed) => new initializers.RandomNormal({ seed })],
    ['TruncatedNormal', () => new initializers.TruncatedNormal(), (seed) => new initializers.TruncatedNormal({ seed })],
    ['VarianceScaling', () => new initializers.VarianceScaling(), (seed) => new initializers.VarianceScaling({ seed })],
    ['GlorotUniform', () => new initializers.GlorotUniform(), (seed) => new initializers.GlorotUniform({ seed })],
    ['HeNormal', () => new initializers.HeNormal(), (seed) => new initializers.HeNormal({ seed })],
    ['Orthogonal', () => new initializers.Orthogonal(), (seed) => new initializers.Orthogonal({ seed })],
  ];

  for (const [name, , make] of classes) {
    it(`${name}: an integer seed gives identical values on every call and for every instance`, () => {
      const a = make(42);
      const first = values(a.call([6, 5]));
      assert.deepEqual(values(a.call([6, 5])), first);
      assert.deepEqual(values(make(42).call([6, 5])), first);
      assert.notDeepEqual(values(make(43).call([6, 5])), first, 'another seed gives other values');
      assert.equal(new Set(first).size, first.length, 'the values are not constant');
    });

    it(`${name}: unseeded draws change between calls and are reproduced after setRandomSeed`, () => {
      const init = make();
      const a = values(init.call([4, 4]));
      const b = values(init.call([4, 4]));
      assert.notDeepEqual(a, b);
      random.setRandomSeed(1234);
      const c = values(init.call([4, 4]));
      const d = values(init.call([4, 4]));
      random.setRandomSeed(1234);
      assert.deepEqual(values(init.call([4, 4])), c);
      assert.deepEqual(values(init.call([4, 4])), d);
      assert.notDeepEqual(c, d);
    });

    it(`${name}: a SeedGenerator seed advances on each call, reproducibly`, () => {
      const init = make(new random.SeedGenerator(7));
      const a = values(init.call([3, 3]));
      const b = values(init.call([3, 3]));
      assert.notDeepEqual(a, b);
      const again = make(new random.SeedGenerator(7));
      assert.deepEqual(values(again.call([3, 3])), a);
      assert.deepEqual(values(again.call([3, 3])), b);
    });
  }

  it('building a model twice after setRandomSeed gives the same weights', () => {
    const build = () => {
      const kernel = initializers.get('glorot_uniform').call([8, 4]);
      const recurrent = initializers.get('orthogonal').call([4, 4]);
      const embedding = initializers.get('uniform').call([10, 3]);
      return [kernel, recurrent, embedding].map(values);
    };
    random.setRandomSeed(99);
    const first = build();
    random.setRandomSeed(99);
    assert.deepEqual(build(), first);
    random.setRandomSeed(100);
    assert.notDeepEqual(build()[0], first[0]);
  });

  it('rejects seeds that are not integers, SeedGenerators or null', () => {
    assert.throws(() => new initializers.RandomNormal({ seed: 1.5 }), /RandomNormal: Received: seed=1.5; expected an integer/);
    assert.throws(() => new initializers.GlorotUniform({ seed: '3' as never }), /GlorotUniform: Received: seed="3"/);
  });
});

describe('initializers: random distributions', () => {
  it('RandomUniform: values in [minval, maxval) with the uniform mean and std', () => {
    const t = new initializers.RandomUniform({ minval: -0.2, maxval: 0.6, seed: 1 }).call([200, 250]);
    const s = stats(t);
    assert.ok(s.min >= -0.2 && s.max < 0.6, `range [${s.min}, ${s.max}]`);
    assert.ok(s.min < -0.19 && s.max > 0.59, 'the draws fill the range');
    assert.ok(Math.abs(s.mean - 0.2) < 0.005, `mean ${s.mean}`);
    assertRel(s.std, 0.8 / Math.sqrt(12), 0.015, 'std');
    const d = new initializers.RandomUniform().call([1000]);
    assert.ok(stats(d).min >= -0.05 && stats(d).max < 0.05, 'defaults: [-0.05, 0.05)');
  });

  it('RandomNormal: mean and stddev', () => {
    const s = stats(new initializers.RandomNormal({ mean: 1, stddev: 0.5, seed: 2 }).call([200, 250]));
    assert.ok(Math.abs(s.mean - 1) < 0.01, `mean ${s.mean}`);
    assertRel(s.std, 0.5, 0.02, 'std');
    const d = stats(new initializers.RandomNormal({ seed: 3 }).call([50000], 'float64'));
    assertRel(d.std, 0.05, 0.02, 'default stddev 0.05');
  });

  it('TruncatedNormal: values within 2 stddev of the mean, with the truncated std', () => {
    const s = stats(new initializers.TruncatedNormal({ mean: 0.5, stddev: 2, seed: 3 }).call([200, 250]));
    assert.ok(s.min >= 0.5 - 4 - 1e-5 && s.max <= 0.5 + 4 + 1e-5, `range [${s.min}, ${s.max}]`);
    assert.ok(s.min < 0.5 - 3.9 && s.max > 0.5 + 3.9, 'the draws reach the truncation points');
    assert.ok(Math.abs(s.mean - 0.5) < 0.03, `mean ${s.mean}`);
    assertRel(s.std, 2 * initializers.TRUNCATED_NORMAL_STDDEV, 0.02, 'std');
  });

  it('random initializers give the requested float dtype and refuse integer dtypes', () => {
    assert.equal(new initializers.RandomNormal({ seed: 1 }).call([2], 'float64').dtype, 'float64');
    assert.equal(new initializers.GlorotUniform({ seed: 1 }).call([2, 2], 'float64').dtype, 'float64');
    assert.equal(new initializers.Orthogonal({ seed: 1 }).call([2, 2], 'float64').dtype, 'float64');
    assert.throws(() => new initializers.RandomUniform().call([2], 'int32'), /RandomUniform: Received: dtype=int32; expected a float dtype/);
    assert.throws(() => new initializers.HeNormal().call([2, 2], 'bool'), /HeNormal: Received: dtype=bool/);
  });

  it('bad arguments name the argument and the value', () => {
    assert.throws(() => new initializers.RandomNormal({ stddev: -1 }), /RandomNormal: Received: stddev=-1; expected a number >= 0/);
    assert.throws(() => new initializers.TruncatedNormal({ stddev: -0.1 }), /TruncatedNormal: Received: stddev=-0.1/);
    assert.throws(() => new initializers.RandomUniform({ minval: 1, maxval: 0 }), /minval=1, maxval=0; expected minval <= maxval/);
    assert.throws(() => new initializers.VarianceScaling({ scale: 0 }), /VarianceScaling: Received: scale=0; expected a number > 0/);
    assert.throws(() => new initializers.VarianceScaling({ mode: 'fan_bad' as never }), /Received: mode="fan_bad"; expected one of 'fan_in', 'fan_out', 'fan_avg'/);
    assert.throws(() => new initializers.VarianceScaling({ distribution: 'gamma' as never }), /distribution="gamma"; expected one of 'truncated_normal', 'untruncated_normal', 'uniform'/);
    assert.throws(() => new initializers.Orthogonal({ gain: Infinity }), /Orthogonal: Received: gain=Infinity/);
  });
});

describe('initializers: fans and variance scaling', () => {
  it('computeFans follows Keras for scalars, vectors, dense and conv kernels', () => {
    assert.deepEqual(initializers.computeFans([]), [1, 1]);
    assert.deepEqual(initializers.computeFans([7]), [7, 7]);
    assert.deepEqual(initializers.computeFans([3, 4]), [3, 4]);
    assert.deepEqual(initializers.computeFans([5, 7, 9]), [35, 45]); // Conv1D (k, in, out)
    assert.deepEqual(initializers.computeFans([3, 3, 16, 32]), [144, 288]); // Conv2D (kh, kw, in, out)
    assert.deepEqual(initializers.computeFans([2, 3, 3, 4, 5]), [72, 90]); // Conv3D
  });

  it('computeFans with explicit input/output axes (einsum kernels)', () => {
    assert.deepEqual(initializers.computeFans([4, 6, 8], [0], [1, 2]), [4, 48]);
    assert.deepEqual(initializers.computeFans([4, 6, 8], [0, 1], [-1]), [24, 8]);
    assert.deepEqual(initializers.computeFans([4, 6, 8], [0]), [4, 48], 'the output axes default to the rest');
    assert.deepEqual(initializers.computeFans([4, 6, 8], null, [2]), [24, 8], 'the input axes default to the rest');
    assert.throws(() => initializers.computeFans([4, 6], [2]), /inputAxes=\[2\] for a shape of rank 2/);
  });

  const shape = [300, 200];
  for (const [mode, n] of [['fan_in', 300], ['fan_out', 200], ['fan_avg', 250]] as const) {
    for (const distribution of ['truncated_normal', 'untruncated_normal', 'uniform'] as const) {
      it(`VarianceScaling(scale=2, ${mode}, ${distribution}) has variance 2 / ${n}`, () => {
        const t = new initializers.VarianceScaling({ scale: 2, mode, distribution, seed: 11 }).call(shape);
        const s = stats(t);
        const std = Math.sqrt(2 / n);
        assertRel(s.std, std, 0.02, 'std');
        assert.ok(Math.abs(s.mean) < 0.05 * std, `mean ${s.mean}`);
        if (distribution === 'uniform') {
          const limit = Math.sqrt(3 * (2 / n));
          assert.ok(s.max <= limit && s.min >= -limit, `within ±${limit}`);
          assert.ok(s.max > 0.99 * limit, 'reaches the limit');
        } else if (distribution === 'truncated_normal') {
          const bound = (2 * std) / initializers.TRUNCATED_NORMAL_STDDEV;
          assert.ok(s.max <= bound * (1 + 1e-6) && s.min >= -bound * (1 + 1e-6), `within 2 stddev (${bound})`);
        } else {
          assert.ok(s.max > (2.5 * std), 'untruncated: some values beyond 2.5 stddev');
        }
      });
    }
  }

  it("distribution 'normal' means truncated_normal, case-insensitively", () => {
    assert.equal(new initializers.VarianceScaling({ distribution: 'normal' }).distribution, 'truncated_normal');
    assert.equal(new initializers.VarianceScaling({ distribution: 'UNIFORM' as never }).distribution, 'uniform');
  });

  it('the presets use the Glorot / He / LeCun limits and stddevs on a conv kernel', () => {
    const kernel = [3, 3, 16, 32]; // fan_in 144, fan_out 288
    const uniform: [string, initializers.Initializer, number][] = [
      ['GlorotUniform', new initializers.GlorotUniform({ seed: 5 }), Math.sqrt(6 / (144 + 288))],
      ['HeUniform', new initializers.HeUniform({ seed: 5 }), Math.sqrt(6 / 144)],
      ['LecunUniform', new initializers.LecunUniform({ seed: 5 }), Math.sqrt(3 / 144)],
    ];
    for (const [name, init, limit] of uniform) {
      const s = stats(init.call(kernel));
      assert.ok(s.max <= limit && s.min >= -limit, `${name}: within ±${limit}, got [${s.min}, ${s.max}]`);
      assert.ok(s.max > 0.99 * limit && s.min < -0.99 * limit, `${name}: reaches ±${limit}`);
    }
    const normal: [string, initializers.Initializer, number][] = [
      ['GlorotNormal', new initializers.GlorotNormal({ seed: 6 }), Math.sqrt(2 / (144 + 288))],
      ['HeNormal', new initializers.HeNormal({ seed: 6 }), Math.sqrt(2 / 144)],
      ['LecunNormal', new initializers.LecunNormal({ seed: 6 }), Math.sqrt(1 / 144)],
    ];
    for (const [name, init, std] of normal) {
      const s = stats(init.call(kernel));
      assertRel(s.std, std, 0.05, `${name} std`);
      const bound = (2 * std) / initializers.TRUNCATED_NORMAL_STDDEV;
      assert.ok(s.max <= bound * (1 + 1e-6) && s.min >= -bound * (1 + 1e-6), `${name}: truncated at 2 stddev`);
    }
  });

  it('a preset equals VarianceScaling with the same parameters and seed', () => {
    const a = new initializers.HeUniform({ seed: 9 }).call([20, 10]);
    const b = new initializers.VarianceScaling({ scale: 2, mode: 'fan_in', distribution: 'uniform', seed: 9 }).call([20, 10]);
    assert.deepEqual(values(a), values(b));
  });

  it('input/output axes change the fans', () => {
    const init = new initializers.VarianceScaling({ scale: 1, mode: 'fan_in', distribution: 'uniform', seed: 3, inputAxes: [0, 1] });
    const s = stats(init.call([10, 20, 30])); // fan_in = 200 instead of Keras's default 20 * 10
    const limit = Math.sqrt(3 / 200);
    assert.ok(s.max <= limit && s.max > 0.99 * limit, `limit ${limit}, max ${s.max}`);
  });
});

describe('initializers: Orthogonal', () => {
  it('square: W^T W = I and W W^T = I', () => {
    const w = new initializers.Orthogonal({ seed: 1 }).call([6, 6]);
    assertClose(gram(w), eye(6), { atol: 1e-5 });
    assertClose(gram(w, true), eye(6), { atol: 1e-5 });
  });

  it('tall: orthonormal columns; wide: orthonormal rows; gain scales by gain^2', () => {
    assertClose(gram(new initializers.Orthogonal({ seed: 2 }).call([10, 4])), eye(4), { atol: 1e-5 });
    const wide = new initializers.Orthogonal({ seed: 3 }).call([4, 10]);
    assert.deepEqual(wide.shape, [4, 10]);
    assertClose(gram(wide, true), eye(4), { atol: 1e-5 });
    assertClose(gram(new initializers.Orthogonal({ gain: 2, seed: 4 }).call([7, 7])), eye(7, 4), { atol: 1e-4 });
    assertClose(gram(new initializers.Orthogonal({ gain: 0.5, seed: 4 }).call([9, 3], 'float64')), eye(3, 0.25), { atol: 1e-12 });
  });

  it('conv kernels are orthogonal as (prod(shape[:-1]), shape[-1]) matrices', () => {
    const w = new initializers.Orthogonal({ seed: 5 }).call([3, 3, 4, 8]);
    assert.deepEqual(w.shape, [3, 3, 4, 8]);
    assertClose(gram(ops.reshape(w, [36, 8])), eye(8), { atol: 1e-5 });
  });

  it('is the Q factor of a seeded normal matrix, with signs making diag(R) positive', () => {
    // A seeded initializer draws the same (stateless) normal matrix as random.normal with that seed.
    const q = new initializers.Orthogonal({ seed: 8 }).call([7, 4], 'float64');
    const a = random.normal([7, 4], { seed: 8, dtype: 'float64' });
    const r = ops.matmul(ops.transpose(q), a).arraySync() as number[][]; // R = Q^T A
    for (let i = 0; i < 4; i++) {
      assert.ok(r[i][i] > 0, `diag(R)[${i}] = ${r[i][i]} must be positive`);
      for (let j = 0; j < i; j++) assert.ok(Math.abs(r[i][j]) < 1e-12, `R[${i}][${j}] = ${r[i][j]} must be 0`);
    }
    assertClose(ops.matmul(q, tensor(r, [4, 4], 'float64')), a, { atol: 1e-12 }, 'Q R = A');
  });

  it('householderQR reconstructs A = QR', () => {
    const rand = testRandom(3);
    const a = Float64Array.from({ length: 15 }, () => rand() * 2 - 1);
    const { q, rDiag } = householderQR(a, 5, 3);
    const qt = tensor(q, [5, 3], 'float64');
    assertClose(gram(qt), eye(3), { atol: 1e-13 });
    const r = ops.matmul(ops.transpose(qt), tensor(a, [5, 3], 'float64'));
    assertClose(ops.matmul(qt, r), tensor(a, [5, 3], 'float64'), { atol: 1e-13 });
    const rv = r.arraySync() as number[][];
    for (let i = 0; i < 3; i++) assert.ok(Math.abs(Math.abs(rv[i][i]) - Math.abs(rDiag[i])) < 1e-12, 'rDiag is the diagonal of R');
  });

  it('needs a rank >= 2 shape', () => {
    assert.throws(() => new initializers.Orthogonal().call([5]), /Orthogonal: the tensor to initialize must be at least two-dimensional. Received: shape=\(5,\) of rank 1/);
  });
});

describe('initializers: configs (Keras keys and defaults)', () => {
  // The dicts Keras 3 writes for default-constructed initializers.
  const kerasDefaults: [string, () => initializers.Initializer, Record<string, unknown>][] = [
    ['Zeros', () => new initializers.Zeros(), {}],
    ['Ones', () => new initializers.Ones(), {}],
    ['Constant', () => new initializers.Constant(), { value: 0 }],
    ['RandomUniform', () => new initializers.RandomUniform(), { seed: null, minval: -0.05, maxval: 0.05 }],
    ['RandomNormal', () => new initializers.RandomNormal(), { seed: null, mean: 0, stddev: 0.05 }],
    ['TruncatedNormal', () => new initializers.TruncatedNormal(), { seed: null, mean: 0, stddev: 0.05 }],
    ['VarianceScaling', () => new initializers.VarianceScaling(), { seed: null, scale: 1, mode: 'fan_in', distribution: 'truncated_normal' }],
    ['GlorotUniform', () => new initializers.GlorotUniform(), { seed: null }],
    ['GlorotNormal', () => new initializers.GlorotNormal(), { seed: null }],
    ['HeUniform', () => new initializers.HeUniform(), { seed: null }],
    ['HeNormal', () => new initializers.HeNormal(), { seed: null }],
    ['LecunUniform', () => new initializers.LecunUniform(), { seed: null }],
    ['LecunNormal', () => new initializers.LecunNormal(), { seed: null }],
    ['Orthogonal', () => new initializers.Orthogonal(), { seed: null, gain: 1 }],
    ['Identity', () => new initializers.Identity(), { gain: 1 }],
  ];

  for (const [className, make, config] of kerasDefaults) {
    it(`${className}: serializes as Keras does, with keys in Keras's order, and round-trips`, () => {
      const init = make();
      const s = initializers.serialize(init);
      assert.deepEqual(s, { module: 'keras.initializers', class_name: className, config, registered_name: null });
      assert.deepEqual(Object.keys(init.getConfig()), Object.keys(config));
      const back = initializers.deserialize(s);
      assert.equal(back.constructor, init.constructor);
      assert.deepEqual(back.getConfig(), config);
      assert.equal((init.constructor as typeof initializers.Initializer).className, className);
      const viaRegistry = deserializeObject<initializers.Initializer>(serializeObject(init), 'keras.initializers');
      assert.equal(viaRegistry.constructor, init.constructor);
      assert.deepEqual(viaRegistry.getConfig(), config);
    });
  }

  it('non-default values round-trip through getConfig/fromConfig with the same values drawn', () => {
    const cases: initializers.Initializer[] = [
      new initializers.Constant(2.5),
      new initializers.RandomUniform({ minval: -1, maxval: 2, seed: 3 }),
      new initializers.RandomNormal({ mean: 1, stddev: 0.3, seed: 4 }),
      new initializers.TruncatedNormal({ mean: -1, stddev: 2, seed: 5 }),
      new initializers.VarianceScaling({ scale: 2, mode: 'fan_avg', distribution: 'uniform', seed: 6 }),
      new initializers.GlorotNormal({ seed: 7 }),
      new initializers.Orthogonal({ gain: 3, seed: 8 }),
      new initializers.Identity({ gain: 4 }),
    ];
    for (const init of cases) {
      const cls = init.constructor as unknown as { fromConfig(c: unknown): initializers.Initializer; className: string };
      const copy = cls.fromConfig(JSON.parse(JSON.stringify(init.getConfig())));
      assert.deepEqual(copy.getConfig(), init.getConfig(), cls.className);
      assert.deepEqual(values(copy.call([4, 4])), values(init.call([4, 4])), `${cls.className} values`);
      assert.deepEqual(init.clone().getConfig(), init.getConfig());
    }
    assert.deepEqual(new initializers.VarianceScaling({ scale: 2, mode: 'fan_in', distribution: 'truncated_normal', seed: 1 }).getConfig(), {
      seed: 1,
      scale: 2,
      mode: 'fan_in',
      distribution: 'truncated_normal',
    });
  });

  it("reads Keras 3.15's input_axes/output_axes and writes them only when set", () => {
    const init = initializers.deserialize({
      module: 'keras.initializers',
      class_name: 'GlorotUniform',
      config: { seed: null, input_axes: null, output_axes: null },
      registered_name: null,
    });
    assert.ok(init instanceof initializers.GlorotUniform);
    assert.deepEqual(init.getConfig(), { seed: null });
    const withAxes = initializers.GlorotUniform.fromConfig({ seed: 2, input_axes: [0], output_axes: [1, 2] });
    assert.deepEqual(withAxes.inputAxes, [0]);
    assert.deepEqual(withAxes.getConfig(), { seed: 2, input_axes: [0], output_axes: [1, 2] });
    const vs = initializers.VarianceScaling.fromConfig({ seed: null, scale: 1, mode: 'fan_in', distribution: 'uniform', input_axes: [0, 1], output_axes: null });
    assert.deepEqual(vs.getConfig(), { seed: null, scale: 1, mode: 'fan_in', distribution: 'uniform', input_axes: [0, 1] });
  });

  it('a SeedGenerator seed serializes as Keras does and is rebuilt', () => {
    const init = new initializers.RandomNormal({ seed: new random.SeedGenerator(5) });
    const config = init.getConfig();
    assert.deepEqual(config.seed, { module: 'keras.random', class_name: 'SeedGenerator', config: { seed: 5 }, registered_name: null });
    const back = initializers.RandomNormal.fromConfig(JSON.parse(JSON.stringify(config)));
    assert.ok(back.seed instanceof random.SeedGenerator);
    assert.deepEqual(values(back.call([3])), values(new initializers.RandomNormal({ seed: new random.SeedGenerator(5) }).call([3])));
  });

  it('unknown config keys and bad values are errors naming them', () => {
    assert.throws(() => initializers.GlorotUniform.fromConfig({ seed: null, gain: 1 }), /GlorotUniform.fromConfig: unknown config key 'gain'. Expected keys: 'seed', 'input_axes', 'output_axes'/);
    assert.throws(() => initializers.Zeros.fromConfig({ value: 1 }), /Zeros.fromConfig: unknown config key 'value'. Zeros takes no config keys/);
    assert.throws(() => initializers.RandomNormal.fromConfig({ stddev: -2 }), /RandomNormal: Received: stddev=-2/);
    assert.throws(() => initializers.VarianceScaling.fromConfig({ mode: 'fan_middle' }), /mode="fan_middle"/);
    assert.throws(() => initializers.RandomUniform.fromConfig({ seed: 'x' }), /seed="x"/);
  });

  it('reads TF 1.x-era Keras configs, which carry a dtype key, and drops it', () => {
    const legacy = initializers.get({ class_name: 'VarianceScaling', config: { scale: 1.0, mode: 'fan_avg', distribution: 'uniform', seed: null, dtype: 'float32' } });
    assert.ok(legacy instanceof initializers.VarianceScaling);
    assert.deepEqual(legacy.getConfig(), { seed: null, scale: 1, mode: 'fan_avg', distribution: 'uniform' });
    assert.deepEqual(initializers.get({ class_name: 'Zeros', config: { dtype: 'float32' } }).getConfig(), {});
  });

  it('Constant accepts a NumPy scalar value, as Keras writes for np.float32(3)', () => {
    const c = initializers.deserialize({
      module: 'keras.initializers',
      class_name: 'Constant',
      config: { value: { class_name: '__numpy__', config: { value: 3, dtype: 'float32' } } },
      registered_name: null,
    });
    assert.deepEqual(values(c.call([2])), [3, 3]);
  });
});

describe('initializers.get / serialize / deserialize', () => {
  it('strings: class names, snake_case names and Keras aliases', () => {
    const expected: [string, Function][] = [
      ['glorot_uniform', initializers.GlorotUniform],
      ['GlorotUniform', initializers.GlorotUniform],
      ['glorot_normal', initializers.GlorotNormal],
      ['he_normal', initializers.HeNormal],
      ['he_uniform', initializers.HeUniform],
      ['lecun_normal', initializers.LecunNormal],
      ['lecun_uniform', initializers.LecunUniform],
      ['zeros', initializers.Zeros],
      ['zero', initializers.Zeros],
      ['ones', initializers.Ones],
      ['one', initializers.Ones],
      ['constant', initializers.Constant],
      ['uniform', initializers.RandomUniform],
      ['random_uniform', initializers.RandomUniform],
      ['normal', initializers.RandomNormal],
      ['random_normal', initializers.RandomNormal],
      ['truncated_normal', initializers.TruncatedNormal],
      ['variance_scaling', initializers.VarianceScaling],
      ['orthogonal', initializers.Orthogonal],
      ['Orthogonal', initializers.Orthogonal],
      ['OrthogonalInitializer', initializers.Orthogonal],
      ['identity', initializers.Identity],
      ['IdentityInitializer', initializers.Identity],
    ];
    for (const [name, cls] of expected) {
      const init = initializers.get(name);
      assert.equal(init.constructor, cls, name);
    }
    assert.deepEqual(initializers.get('uniform').getConfig(), { seed: null, minval: -0.05, maxval: 0.05 });
    assert.equal(initializers.get('glorot_uniform') === initializers.get('glorot_uniform'), false, 'each get builds a new instance');
  });

  it('unknown names list the valid names (and suggest the snake_case form)', () => {
    assert.throws(() => initializers.get('glorot'), (e: Error) => /unknown initializer 'glorot'/.test(e.message) && /'glorot_uniform'/.test(e.message) && /'he_normal'/.test(e.message));
    assert.throws(() => initializers.get('heNormal'), /Did you mean 'he_normal'\?/);
    assert.throws(() => initializers.get(42 as never), /could not interpret initializer identifier 42/);
  });

  it('serialized objects: Keras 3 and Keras 2 forms, snake_case class names, legacy class names', () => {
    const k3 = initializers.get({ module: 'keras.initializers', class_name: 'HeNormal', config: { seed: 12 }, registered_name: null });
    assert.ok(k3 instanceof initializers.HeNormal);
    assert.equal((k3 as initializers.HeNormal).seed, 12);
    const k2 = initializers.get({ class_name: 'RandomUniform', config: { minval: -1, maxval: 1, seed: null } });
    assert.ok(k2 instanceof initializers.RandomUniform);
    assert.equal((k2 as initializers.RandomUniform).maxval, 1);
    assert.ok(initializers.get({ class_name: 'glorot_uniform', config: {} }) instanceof initializers.GlorotUniform);
    const legacy = initializers.deserialize({ module: 'keras.initializers', class_name: 'OrthogonalInitializer', config: { gain: 2, seed: null }, registered_name: null });
    assert.ok(legacy instanceof initializers.Orthogonal);
    assert.equal(initializers.serialize(legacy).class_name, 'Orthogonal');
    const id = initializers.deserialize({ module: 'keras.initializers', class_name: 'IdentityInitializer', config: {}, registered_name: null });
    assert.ok(id instanceof initializers.Identity);
    assert.equal(initializers.serialize(id).class_name, 'Identity');
    assert.throws(() => initializers.deserialize({ module: 'keras.initializers', class_name: 'Glorot', config: {}, registered_name: null }), /unknown initializer class 'Glorot'.*GlorotUniform/);
  });

  it('instances pass through, classes are instantiated, null gives null', () => {
    const init = new initializers.RandomNormal({ seed: 1 });
    assert.equal(initializers.get(init), init);
    assert.ok(initializers.get(initializers.HeUniform) instanceof initializers.HeUniform);
    assert.equal(initializers.get(null), null);
    assert.equal(initializers.get(undefined), null);
    assert.equal(initializers.serialize(null), null);
  });

  it('functions are wrapped; registered ones serialize in Keras function form and come back', () => {
    const twos = (shape: number[], dtype: 'float32' | 'float64' | 'int32' | 'bool') => ops.fullLike(ops.zerosLike(new initializers.Zeros().call(shape, dtype)), 2);
    const init = initializers.get(twos);
    assert.ok(init instanceof initializers.FunctionInitializer);
    assert.deepEqual(values(init.call([3])), [2, 2, 2]);
    assert.throws(() => initializers.serialize(init), /cannot serialize the function 'twos'.*registerSerializable/);
    registerSerializable(twos, { package: 'init_test' });
    const s = initializers.serialize(init);
    assert.deepEqual(s, { module: null, class_name: 'function', config: 'twos', registered_name: 'init_test>twos' });
    const back = initializers.deserialize(s);
    assert.ok(back instanceof initializers.FunctionInitializer);
    assert.equal((back as initializers.FunctionInitializer).fn, twos);
    assert.equal((initializers.get('init_test>twos') as initializers.FunctionInitializer).fn, twos);
    const bad = initializers.get(() => 3 as never);
    assert.throws(() => bad.call([2]), /returned 3; expected a Tensor of shape \(2,\)/);
  });

  it('custom Initializer subclasses: registered, or passed as customObjects', () => {
    class Halves extends initializers.Initializer {
      static override readonly className = 'Halves';
      constructor(readonly options: { scale?: number } = {}) {
        super();
      }
      call(shape: readonly number[], dtype: 'float32' | 'float64' = 'float32'): Tensor {
        return ops.multiply(new initializers.Ones().call(shape, dtype), 0.5 * (this.options.scale ?? 1));
      }
      override getConfig() {
        return { scale: this.options.scale ?? 1 };
      }
    }
    const s = initializers.serialize(new Halves({ scale: 4 }));
    assert.deepEqual(s, { module: null, class_name: 'Halves', config: { scale: 4 }, registered_name: 'Halves' });
    assert.throws(() => initializers.deserialize(s), /unknown initializer class 'Halves'/);
    const viaScope = initializers.deserialize(s, { Halves });
    assert.ok(viaScope instanceof Halves);
    assert.deepEqual(values(viaScope.call([2])), [2, 2]);
    registerSerializable(Halves, { package: 'init_test' });
    const registered = initializers.serialize(new Halves());
    assert.deepEqual(registered, { module: null, class_name: 'Halves', config: { scale: 1 }, registered_name: 'init_test>Halves' });
    assert.ok(initializers.deserialize(registered) instanceof Halves);
    assert.ok(initializers.get('init_test>Halves') instanceof Halves);
  });

  it('a non-initializer class is refused', () => {
    assert.throws(
      () => initializers.deserialize({ module: 'keras.regularizers', class_name: 'L2', config: { l2: 0.1 }, registered_name: null }),
      /'L2' is not an initializer/,
    );
  });
});
