import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as ops from '../../src/ops/index.ts';
import * as random from '../../src/ops/api/random.ts';
import { tensor } from '../../src/tensor/create.ts';
import type { Tensor } from '../../src/tensor/tensor.ts';
import { dispatch } from '../../src/engine/dispatch.ts';
import { randomOps, type RandomUniformAttrs } from '../../src/ops/defs/random.ts';
import type { OpDef } from '../../src/engine/op.ts';
import { GradientTape } from '../../src/autodiff/tape.ts';
import { assertClose, randomTensor } from '../helpers/close.ts';
import { checkGradients } from '../helpers/gradcheck.ts';
import { runLowered } from '../helpers/onnx.ts';
import { fn } from '../../src/graph/function.ts';
import { TensorSpec } from '../../src/tensor/tensor.ts';

const i32 = (v: number) => tensor(v, [], 'int32');
const values = (t: Tensor) => [...t.dataSync()];

// ---------------------------------------------------------------------------
// An independent reference of the documented hash, in BigInt arithmetic.

const MASK = (1n << 32n) - 1n;
function mixRef(x: bigint): bigint {
  x ^= x >> 16n;
  x = (x * 0x7feb352dn) & MASK;
  x ^= x >> 15n;
  x = (x * 0x846ca68bn) & MASK;
  x ^= x >> 16n;
  return x;
}
function wordRef(seed: number, counter: number, j: number): bigint {
  const s = BigInt.asUintN(32, BigInt(seed));
  const c = BigInt.asUintN(32, BigInt(counter));
  const k1 = mixRef(mixRef(s ^ 0x9e3779b9n) ^ c);
  const k2 = mixRef(k1 ^ mixRef(s ^ 0x85ebca6bn));
  return mixRef(mixRef(BigInt(j) ^ k1) ^ k2);
}
const uniform32Ref = (seed: number, counter: number, j: number) => Number(wordRef(seed, counter, j) >> 8n) / 2 ** 24;
const uniform64Ref = (seed: number, counter: number, j: number) =>
  (Number(wordRef(seed, counter, 2 * j) >> 5n) * 2 ** 26 + Number(wordRef(seed, counter, 2 * j + 1) >> 6n)) / 2 ** 53;

function primitive(seed: number, counter: number, attrs: Partial<RandomUniformAttrs> & { shape: RandomUniformAttrs['shape'] }, like?: Tensor): Tensor[] {
  const inputs = like ? [i32(seed), i32(counter), like] : [i32(seed), i32(counter)];
  return dispatch(randomOps.randomUniform, inputs, { dtype: 'float32', count: 1, ...attrs });
}

describe('randomUniform primitive', () => {
  it('computes the documented hash (checked against a BigInt reference)', () => {
    for (const [seed, counter] of [[0, 0], [42, 3], [-7, 2147483647], [123456789, -1]]) {
      const [u32] = primitive(seed, counter, { shape: [2, 5] });
      assert.deepEqual(values(u32), Array.from({ length: 10 }, (_, j) => Math.fround(uniform32Ref(seed, counter, j))));
      const [u64] = primitive(seed, counter, { shape: [7], dtype: 'float64' });
      assert.deepEqual(values(u64), Array.from({ length: 7 }, (_, j) => uniform64Ref(seed, counter, j)));
    }
  });
  it('count > 1 splits one [n, count] draw into independent outputs', () => {
    const outs = primitive(5, 9, { shape: [2, 3], count: 3 });
    assert.equal(outs.length, 3);
    outs.forEach((o, t) => {
      assert.deepEqual(o.shape, [2, 3]);
      assert.deepEqual(values(o), Array.from({ length: 6 }, (_, i) => Math.fround(uniform32Ref(5, 9, i * 3 + t))));
    });
    const o64 = primitive(5, 9, { shape: [4], count: 2, dtype: 'float64' });
    assert.deepEqual(values(o64[1]), Array.from({ length: 4 }, (_, i) => uniform64Ref(5, 9, i * 2 + 1)));
  });
  it('element i depends only on (seed, counter, i): a longer draw extends a shorter one', () => {
    const [short] = primitive(3, 1, { shape: [10] });
    const [long] = primitive(3, 1, { shape: [4, 5] });
    assert.deepEqual(values(short), values(long).slice(0, 10));
  });
  it('takes unknown dims from the like input', () => {
    const like = tensor(new Float32Array(12), [3, 4]);
    const [u] = primitive(1, 2, { shape: [null, 1, null] }, tensor(new Float32Array(105), [3, 7, 5]));
    assert.deepEqual(u.shape, [3, 1, 5]);
    const [v] = primitive(1, 2, { shape: [null, 4] }, like);
    assert.deepEqual(v.shape, [3, 4]);
  });
  it('is not stateful and has no gradient', () => {
    assert.notEqual((randomOps.randomUniform as OpDef<RandomUniformAttrs>).stateful, true);
    assert.ok('nonDifferentiable' in randomOps.randomUniform.grad);
  });
  it('validates its inputs and attributes', () => {
    const run = (inputs: Tensor[], attrs: Partial<RandomUniformAttrs>) =>
      dispatch(randomOps.randomUniform, inputs, { shape: [2], dtype: 'float32', count: 1, ...attrs } as RandomUniformAttrs);
    assert.throws(() => run([tensor(1), i32(0)], {}), /ops\.randomUniform: Received: seed with dtype float32 and shape \(\); expected an int32 scalar/);
    assert.throws(() => run([i32(1), tensor([0, 1], undefined, 'int32')], {}), /Received: counter with dtype int32 and shape \(2,\); expected an int32 scalar/);
    assert.throws(() => run([i32(1), i32(0)], { dtype: 'int32' }), /Received: dtype=int32; expected float32 or float64/);
    assert.throws(() => run([i32(1), i32(0)], { shape: [null] }), /Received: shape=\(None,\); expected non-negative integer dimensions \(null only when/);
    assert.throws(() => run([i32(1), i32(0)], { shape: [2.5] }), /Received: shape=\(2\.5,\)/);
    assert.throws(() => run([i32(1), i32(0)], { count: 0 }), /Received: count=0; expected a positive integer/);
    assert.throws(() => run([i32(1), i32(0), tensor([1, 2])], { shape: [null, 2] }), /expected the same rank/);
  });
});

describe('randomUniform primitive: ONNX lowering is bit-identical to the eager kernel', () => {
  const cases: { seed: number; counter: number; attrs: RandomUniformAttrs; like?: Tensor }[] = [
    { seed: 0, counter: 0, attrs: { shape: [3, 5], dtype: 'float32', count: 1 } },
    { seed: 42, counter: 7, attrs: { shape: [1000], dtype: 'float32', count: 1 } },
    { seed: -5, counter: 2147483647, attrs: { shape: [2, 3, 4], dtype: 'float64', count: 1 } },
    { seed: 123456789, counter: -1, attrs: { shape: [257], dtype: 'float64', count: 3 } },
    { seed: 2147483647, counter: -2147483648, attrs: { shape: [4, 2], dtype: 'float32', count: 8 } },
    { seed: 9, counter: 4, attrs: { shape: [], dtype: 'float32', count: 1 } },
    { seed: 9, counter: 4, attrs: { shape: [0, 3], dtype: 'float64', count: 2 } },
    // Unknown dims resolved at run time from the like input (the Shape path of the lowering).
    { seed: 17, counter: 3, attrs: { shape: [null, 2, null], dtype: 'float32', count: 2 }, like: tensor(new Float32Array(30), [3, 2, 5]) },
    { seed: 17, counter: 3, attrs: { shape: [null, 1], dtype: 'float64', count: 1 }, like: tensor(new Float32Array(12), [6, 2]) },
  ];
  for (const c of cases) {
    it(`seed ${c.seed}, counter ${c.counter}, shape ${JSON.stringify(c.attrs.shape)}, ${c.attrs.dtype}, count ${c.attrs.count}`, async () => {
      const inputs = c.like ? [i32(c.seed), i32(c.counter), c.like] : [i32(c.seed), i32(c.counter)];
      const eager = dispatch(randomOps.randomUniform, inputs, c.attrs);
      const graph = await runLowered(randomOps.randomUniform, inputs, c.attrs);
      assert.equal(graph.length, eager.length);
      graph.forEach((g, k) => {
        assert.deepEqual(g.shape, eager[k].shape);
        assert.equal(g.dtype, eager[k].dtype);
        const gv = g.dataSync(), ev = eager[k].dataSync();
        for (let i = 0; i < ev.length; i++) assert.ok(Object.is(gv[i], ev[i]), `output ${k} [${i}]: graph ${gv[i]} vs eager ${ev[i]}`);
      });
    });
  }
});

describe('compiled functions draw from the same stream as eager code', () => {
  it('the global generator\'s counter is a graph input and its increment an output', async () => {
    const f = fn((x: Tensor) => ops.add(random.uniform([2, 3]), ops.multiply(x, 0)), { name: 'draw' });
    const x = tensor(new Float32Array(6), [2, 3]);
    random.setRandomSeed(10);
    const eager = [random.uniform([2, 3]), random.uniform([2, 3]), random.uniform([2, 3])].map(values);
    random.setRandomSeed(10);
    const first = values((await f(x)) as Tensor);
    const second = values(random.uniform([2, 3]));
    const third = values((await f(x)) as Tensor);
    assert.deepEqual([first, second, third], eager);
  });
  it('dropout with an unknown batch dim matches eager dropout bit for bit', async () => {
    const g = fn((x: Tensor) => random.dropout(x, 0.5), { inputSignature: [new TensorSpec([null, 4])] });
    const x = tensor(new Float32Array(12).fill(1), [3, 4]);
    random.setRandomSeed(3);
    const compiled = values((await g(x)) as Tensor);
    random.setRandomSeed(3);
    assert.deepEqual(compiled, values(random.dropout(x, 0.5)));
    assert.ok(compiled.includes(0) && compiled.includes(2));
  });
});

// ---------------------------------------------------------------------------

function mean(v: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i];
  return s / v.length;
}
function variance(v: ArrayLike<number>): number {
  const mu = mean(v);
  let s = 0;
  for (let i = 0; i < v.length; i++) s += (v[i] - mu) ** 2;
  return s / v.length;
}
/** Standard normal CDF (Abramowitz-Stegun 26.2.17, |error| < 7.5e-8). */
function normalCdf(x: number): number {
  const t = 1 / (1 + 0.2316419 * Math.abs(x));
  const poly = t * (0.31938153 + t * (-0.356563782 + t * (1.781477937 + t * (-1.821255978 + t * 1.330274429))));
  const tail = (Math.exp((-x * x) / 2) / Math.sqrt(2 * Math.PI)) * poly;
  return x >= 0 ? 1 - tail : tail;
}
/** Kolmogorov-Smirnov statistic of a sample against `cdf`. */
function ksStatistic(sample: ArrayLike<number>, cdf: (x: number) => number): number {
  const s = Float64Array.from(sample).sort();
  const n = s.length;
  let d = 0;
  for (let i = 0; i < n; i++) {
    const f = cdf(s[i]);
    d = Math.max(d, Math.abs(f - i / n), Math.abs((i + 1) / n - f));
  }
  return d;
}
/** 99.9% critical value of the KS statistic for n samples. */
const ksCritical = (n: number) => 1.95 / Math.sqrt(n);

describe('seeds: reproducible, stateless with an integer seed, advancing otherwise', () => {
  it('setRandomSeed makes a sequence of calls reproduce exactly', () => {
    const run = () => {
      random.setRandomSeed(1234);
      return [random.uniform([5]), random.normal([3, 2]), random.randint([4], 0, 100), random.uniform([5])].map(values);
    };
    const first = run();
    const second = run();
    assert.deepEqual(second, first);
    // Consecutive unseeded calls differ.
    assert.notDeepEqual(first[0], first[3]);
    random.setRandomSeed(1235);
    assert.notDeepEqual(values(random.uniform([5])), first[0]);
    random.setSeed(1234);
    assert.deepEqual(values(random.uniform([5])), first[0]);
  });
  it('an integer seed gives the same values every call and leaves the global generator alone', () => {
    random.setRandomSeed(1);
    const g = random.getGlobalSeedGenerator();
    const before = g.counter.value.item();
    const a = values(random.uniform([6], { seed: 7 }));
    const b = values(random.uniform([6], { seed: 7 }));
    assert.deepEqual(a, b);
    assert.notDeepEqual(values(random.uniform([6], { seed: 8 })), a);
    assert.equal(g.counter.value.item(), before);
    // The integer seed s draws from stream (s, 0), as Keras's draw_seed does.
    assert.deepEqual(a, Array.from({ length: 6 }, (_, j) => Math.fround(uniform32Ref(7, 0, j))));
    random.uniform([2]);
    assert.equal(g.counter.value.item(), before + 1);
  });
  it('a pair [seed, counter] selects a stream position statelessly', () => {
    const a = values(random.uniform([4], { seed: [3, 5] }));
    assert.deepEqual(a, Array.from({ length: 4 }, (_, j) => Math.fround(uniform32Ref(3, 5, j))));
    assert.deepEqual(values(random.uniform([4], { seed: [i32(3), i32(5)] })), a);
  });
  it('a SeedGenerator advances; two generators with the same seed give the same sequence', () => {
    const g1 = new random.SeedGenerator(99);
    const g2 = new random.SeedGenerator(99);
    const a1 = values(random.uniform([4], { seed: g1 }));
    const a2 = values(random.uniform([4], { seed: g1 }));
    assert.notDeepEqual(a1, a2);
    assert.deepEqual(values(random.uniform([4], { seed: g2 })), a1);
    assert.deepEqual(values(random.uniform([4], { seed: g2 })), a2);
    assert.equal(g1.counter.value.item(), 2);
    assert.equal(g1.counter.value.dtype, 'int32');
    assert.equal(g1.counter.trainable, false);
    assert.deepEqual(g1.getConfig().seed, 99);
    // next() returns the (seed, counter) scalars and increments the counter.
    const [s, c] = g1.next();
    assert.deepEqual([s.dtype, c.dtype, s.rank, c.rank, c.item()], ['int32', 'int32', 0, 0, 2]);
    assert.equal(g1.counter.value.item(), 3);
  });
  it('SeedGenerators created without a seed are reproducible after setRandomSeed', () => {
    random.setRandomSeed(5);
    const a = values(random.uniform([3], { seed: new random.SeedGenerator() }));
    const seedA = random.makeDefaultSeed();
    random.setRandomSeed(5);
    const b = values(random.uniform([3], { seed: new random.SeedGenerator() }));
    assert.deepEqual(b, a);
    assert.equal(random.makeDefaultSeed(), seedA);
    assert.notEqual(random.makeDefaultSeed(), seedA);
  });
  it('reseeding the global generator in place restarts its counter', () => {
    const g = random.getGlobalSeedGenerator();
    random.setRandomSeed(77);
    assert.equal(random.getGlobalSeedGenerator(), g);
    assert.equal(g.counter.value.item(), 0);
    assert.equal(g.seed, 77);
    assert.deepEqual(values(random.uniform([3])), Array.from({ length: 3 }, (_, j) => Math.fround(uniform32Ref(77, 0, j))));
  });
  it('rejects bad seeds', () => {
    assert.throws(() => random.uniform([2], { seed: 1.5 }), /random\.uniform: Received: seed=1\.5; expected an integer/);
    assert.throws(() => random.uniform([2], { seed: 'a' as never }), /random\.uniform: Received: seed="a"; expected an integer, a SeedGenerator, a pair/);
    assert.throws(() => random.uniform([2], { seed: [tensor(1), i32(0)] }), /expected an int32 scalar/);
    assert.throws(() => new random.SeedGenerator(0.5), /random\.SeedGenerator: Received: seed=0\.5; expected an integer/);
    assert.throws(() => random.setRandomSeed(NaN), /setRandomSeed: Received: seed=NaN/);
  });
});

describe('uniform', () => {
  it('lies in [minval, maxval) with the right mean and variance', () => {
    const n = 100000;
    const v = random.uniform([n], { minval: -2, maxval: 3, seed: 11 }).dataSync();
    assert.ok(v.every((x) => x >= -2 && x < 3));
    // Mean 0.5, variance 25/12; 5-sigma bounds from the sample size.
    assert.ok(Math.abs(mean(v) - 0.5) < 5 * Math.sqrt(25 / 12 / n), `mean ${mean(v)}`);
    assert.ok(Math.abs(variance(v) - 25 / 12) < 5 * Math.sqrt((5 ** 4 / 180) / n), `variance ${variance(v)}`);
    assert.ok(ksStatistic(v, (x) => Math.min(Math.max((x + 2) / 5, 0), 1)) < ksCritical(n));
  });
  it('float64 draws have 53-bit resolution', () => {
    const v = random.uniform([1000], { dtype: 'float64', seed: 3 }).dataSync();
    assert.ok(v.every((x) => x >= 0 && x < 1));
    // With 24 bits every value times 2^24 would be an integer.
    assert.ok(v.some((x) => !Number.isInteger(x * 2 ** 24)));
  });
  it('tensor bounds broadcast', () => {
    const u = random.uniform([2, 3], { minval: tensor([[0], [10]]), maxval: tensor([[1], [11]]), seed: 1 });
    const v = u.dataSync();
    assert.ok([0, 1, 2].every((i) => v[i] >= 0 && v[i] < 1) && [3, 4, 5].every((i) => v[i] >= 10 && v[i] < 11));
  });
  it('unknown dims need a like tensor; bad shapes and dtypes are rejected', () => {
    assert.throws(() => random.uniform([null, 2]), /random\.uniform: Received: shape=\(None, 2\) with unknown \(null\) dims; pass `like`/);
    assert.throws(() => random.uniform([-1]), /random\.uniform: Received: shape=\[-1\]; expected an array of non-negative integers/);
    assert.throws(() => random.uniform([2], { dtype: 'int32' }), /random\.uniform: Received: dtype=int32; expected a float dtype/);
    assert.deepEqual(random.uniform([null, 2], { like: tensor(new Float32Array(8), [4, 2]), seed: 1 }).shape, [4, 2]);
  });
});

describe('normal and truncatedNormal', () => {
  for (const dtype of ['float32', 'float64'] as const) {
    it(`normal (${dtype}): mean 0, std 1, Gaussian shape`, () => {
      const n = 100000;
      const v = random.normal([n], { seed: 21, dtype }).dataSync();
      assert.ok(Math.abs(mean(v)) < 5 / Math.sqrt(n), `mean ${mean(v)}`);
      assert.ok(Math.abs(variance(v) - 1) < 5 * Math.sqrt(2 / n), `variance ${variance(v)}`);
      assert.ok(ksStatistic(v, normalCdf) < ksCritical(n), `KS ${ksStatistic(v, normalCdf)}`);
    });
  }
  it('normal with mean and stddev', () => {
    const n = 50000;
    const v = random.normal([n], { mean: 3, stddev: 0.5, seed: 22 }).dataSync();
    assert.ok(Math.abs(mean(v) - 3) < (5 * 0.5) / Math.sqrt(n));
    assert.ok(Math.abs(Math.sqrt(variance(v)) - 0.5) < 5 * 0.5 * Math.sqrt(1 / (2 * n)));
  });
  it('truncatedNormal stays within 2 standard deviations and has the truncated variance', () => {
    const n = 100000;
    const v = random.truncatedNormal([n], { mean: 1, stddev: 2, seed: 23 }).dataSync();
    assert.ok(v.every((x) => x >= 1 - 4 && x <= 1 + 4));
    // Variance of N(0,1) truncated to [-2, 2]: 1 - 2*2*phi(2) / (2 Phi(2) - 1).
    const phi2 = Math.exp(-2) / Math.sqrt(2 * Math.PI);
    const truncatedVar = 1 - (4 * phi2) / (2 * normalCdf(2) - 1);
    const z = Array.from(v, (x) => (x - 1) / 2);
    assert.ok(Math.abs(mean(z)) < 5 * Math.sqrt(truncatedVar / n));
    assert.ok(Math.abs(variance(z) - truncatedVar) < 0.015, `variance ${variance(z)} vs ${truncatedVar}`);
    const cdf = (x: number) => (normalCdf(Math.min(Math.max(x, -2), 2)) - normalCdf(-2)) / (2 * normalCdf(2) - 1);
    assert.ok(ksStatistic(z, cdf) < ksCritical(n), `KS ${ksStatistic(z, cdf)}`);
    // The whole interval is reached.
    assert.ok(Math.max(...z) > 1.99 && Math.min(...z) < -1.99);
  });
  it('truncatedNormal (float64) stays within range too', () => {
    const v = random.truncatedNormal([20000], { dtype: 'float64', seed: 24 }).dataSync();
    assert.ok(v.every((x) => x >= -2 && x <= 2));
    assert.ok(Math.abs(mean(v)) < 0.03);
  });
});

describe('randint and bernoulli', () => {
  it('randint covers [minval, maxval) uniformly', () => {
    const n = 60000;
    const t = random.randint([n], -3, 3, { seed: 31 });
    assert.equal(t.dtype, 'int32');
    const v = t.dataSync();
    const counts = new Map<number, number>();
    for (const x of v) counts.set(x, (counts.get(x) ?? 0) + 1);
    assert.deepEqual([...counts.keys()].sort((a, b) => a - b), [-3, -2, -1, 0, 1, 2]);
    // Chi-square with 5 degrees of freedom: 99.99% quantile is 25.7.
    let chi = 0;
    for (const c of counts.values()) chi += (c - n / 6) ** 2 / (n / 6);
    assert.ok(chi < 25.7, `chi2 ${chi}`);
  });
  it('randint handles a full int32 range and rejects an empty one', () => {
    const v = random.randint([1000], -(2 ** 31), 2 ** 31 - 1, { seed: 4 }).dataSync();
    assert.ok(v.some((x) => x < -(2 ** 30)) && v.some((x) => x > 2 ** 30));
    assert.throws(() => random.randint([2], 5, 5), /random\.randint: Received: minval=5, maxval=5; expected minval < maxval/);
    assert.throws(() => random.randint([2], 0, 1.5), /Received: maxval=1\.5/);
  });
  it('bernoulli is true with probability p', () => {
    const n = 50000;
    const v = random.bernoulli([n], { p: 0.3, seed: 5 }).dataSync();
    const frac = mean(v);
    assert.ok(Math.abs(frac - 0.3) < 5 * Math.sqrt(0.21 / n), `fraction ${frac}`);
  });
});

describe('dropout', () => {
  it('keeps about 1 - rate of the values and scales them by 1 / (1 - rate)', () => {
    const n = 40000;
    const x = randomTensor([n], 1, 1, 2, 'float32');
    const y = random.dropout(x, 0.25, { seed: 6 });
    const xv = x.dataSync(), yv = y.dataSync();
    let kept = 0;
    for (let i = 0; i < n; i++) {
      if (yv[i] !== 0) {
        kept++;
        assertClose(yv[i], xv[i] / 0.75, { rtol: 1e-6 });
      }
    }
    assert.ok(Math.abs(kept / n - 0.75) < 5 * Math.sqrt(0.1875 / n), `kept ${kept / n}`);
  });
  it('noiseShape broadcasts the mask (null dims take the input dims)', () => {
    const x = tensor(new Float32Array(8 * 50).fill(1), [8, 50]);
    const y = random.dropout(x, 0.5, { noiseShape: [1, null], seed: 7 }).dataSync();
    for (let j = 0; j < 50; j++) {
      const col = Array.from({ length: 8 }, (_, i) => y[i * 50 + j]);
      assert.ok(col.every((v) => v === col[0]) && (col[0] === 0 || col[0] === 2), `column ${j}: ${col}`);
    }
  });
  it('rate 0 returns the input; a bad rate or noiseShape is rejected', () => {
    const x = tensor([1, 2]);
    assert.deepEqual(values(random.dropout(x, 0)), [1, 2]);
    assert.throws(() => random.dropout(x, 1), /random\.dropout: Received: rate=1; expected a number in \[0, 1\)/);
    assert.throws(() => random.dropout(x, 0.5, { noiseShape: [3] }), /each dim must be 1 or the inputs' dim/);
    assert.throws(() => random.dropout(x, 0.5, { noiseShape: [1, 2] }), /expected the same rank/);
  });
  it('gradient (float64, fixed seed) is the mask scaled by 1 / (1 - rate)', () => {
    const x = randomTensor([4, 5], 9, -1, 1);
    checkGradients((v) => random.dropout(v, 0.4, { seed: 12 }), [x], {}, 'dropout');
    const tape = new GradientTape();
    const y = tape.record(() => ops.sum(random.dropout(x, 0.4, { seed: 12 })));
    const g = tape.gradient(y, x)!.dataSync();
    const mask = random.dropout(ops.onesLike(x), 0.4, { seed: 12 }).dataSync();
    assertClose(g, mask, { rtol: 1e-12 });
  });
});

describe('categorical', () => {
  it('sample frequencies follow softmax(logits)', () => {
    const probs = [[0.2, 0.5, 0.3, 0], [0.7, 0.1, 0.1, 0.1]];
    const logits = tensor(probs.map((row) => row.map((p) => (p === 0 ? -Infinity : Math.log(p) + 5))));
    const samples = 20000;
    const s = random.categorical(logits, samples, { seed: 13 });
    assert.deepEqual(s.shape, [2, samples]);
    assert.equal(s.dtype, 'int32');
    const v = s.dataSync();
    probs.forEach((row, b) => {
      const counts = [0, 0, 0, 0];
      for (let k = 0; k < samples; k++) counts[v[b * samples + k]]++;
      row.forEach((p, c) => {
        const tol = 5 * Math.sqrt((p * (1 - p)) / samples) + 1e-12;
        assert.ok(Math.abs(counts[c] / samples - p) <= tol, `row ${b} class ${c}: ${counts[c] / samples} vs ${p}`);
      });
    });
  });
  it('rejects logits that are not 2D', () => {
    assert.throws(() => random.categorical(tensor([1, 2]), 3), /random\.categorical: Received: logits with shape \(2,\); expected a 2D tensor/);
  });
});

describe('shuffle', () => {
  it('permutes rows (axis 0), reproducibly with a seed', () => {
    const x = tensor(Float32Array.from({ length: 20 }, (_, i) => i), [10, 2]);
    const y = random.shuffle(x, { seed: 1 });
    const rows = (y.arraySync() as number[][]).map((r) => r[0]);
    assert.deepEqual([...rows].sort((a, b) => a - b), [0, 2, 4, 6, 8, 10, 12, 14, 16, 18]);
    assert.ok((y.arraySync() as number[][]).every((r) => r[1] === r[0] + 1));
    assert.notDeepEqual(rows, [0, 2, 4, 6, 8, 10, 12, 14, 16, 18]);
    assert.deepEqual(values(random.shuffle(x, { seed: 1 })), values(y));
  });
  it('along axis 1 moves whole columns', () => {
    const x = tensor(Float32Array.from({ length: 12 }, (_, i) => i), [2, 6]);
    const y = random.shuffle(x, { axis: 1, seed: 4 }).arraySync() as number[][];
    assert.deepEqual([...y[0]].sort((a, b) => a - b), [0, 1, 2, 3, 4, 5]);
    assert.deepEqual(y[1], y[0].map((v) => v + 6));
  });
  it('all permutations of 3 elements are about equally likely', () => {
    random.setRandomSeed(3);
    const counts = new Map<string, number>();
    const n = 3000;
    const x = tensor([0, 1, 2]);
    for (let k = 0; k < n; k++) {
      const key = values(random.shuffle(x)).join('');
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    assert.equal(counts.size, 6);
    let chi = 0;
    for (const c of counts.values()) chi += (c - n / 6) ** 2 / (n / 6);
    assert.ok(chi < 25.7, `chi2 ${chi}`); // 5 degrees of freedom, 99.99%
  });
  it('rejects scalars and bad axes', () => {
    assert.throws(() => random.shuffle(tensor(1)), /random\.shuffle: Received: a scalar/);
    assert.throws(() => random.shuffle(tensor([1, 2]), { axis: 1 }), /random\.shuffle: Received: axis=1 for a tensor of rank 1/);
  });
});
