import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as ops from '../../src/ops/index.ts';
import { tensor } from '../../src/tensor/create.ts';
import { Tensor } from '../../src/tensor/tensor.ts';
import { addOpHook } from '../../src/engine/hooks.ts';
import { GradientTape } from '../../src/autodiff/tape.ts';
import { assertClose, randomTensor, testRandom } from '../helpers/close.ts';
import { checkGradients } from '../helpers/gradcheck.ts';
import { refMap } from '../helpers/reference.ts';

/** erf by Simpson's rule on 2/sqrt(pi) exp(-t^2) (independent of the kernel's approximation). */
const erfRef = (x: number) => {
  const n = 2000;
  const h = x / n;
  let s = 1 + Math.exp(-x * x);
  for (let i = 1; i < n; i++) s += (i % 2 ? 4 : 2) * Math.exp(-(i * h) * (i * h));
  return ((2 / Math.sqrt(Math.PI)) * (s * h)) / 3;
};
const sigmoidRef = (x: number) => 1 / (1 + Math.exp(-x));
const softplusRef = (x: number) => Math.log(1 + Math.exp(x));
const SELU_ALPHA = 1.6732632423543772;
const SELU_SCALE = 1.0507009873554805;

interface Case {
  name: string;
  fn: (x: Tensor) => Tensor;
  ref: (x: number) => number;
  /** Points where the function or its derivative is not smooth: gradient checks stay away from them. */
  kinks?: number[];
}

const cases: Case[] = [
  { name: 'relu', fn: ops.relu, ref: (x) => (x > 0 ? x : 0), kinks: [0] },
  { name: 'relu6', fn: ops.relu6, ref: (x) => Math.min(Math.max(x, 0), 6), kinks: [0, 6] },
  { name: 'leakyRelu (default slope 0.2)', fn: (x) => ops.leakyRelu(x), ref: (x) => (x >= 0 ? x : 0.2 * x), kinks: [0] },
  { name: 'leakyRelu (slope 1.5, options)', fn: (x) => ops.leakyRelu(x, { negativeSlope: 1.5 }), ref: (x) => (x >= 0 ? x : 1.5 * x), kinks: [0] },
  { name: 'leakyRelu (negative slope -0.5)', fn: (x) => ops.leakyRelu(x, -0.5), ref: (x) => (x >= 0 ? x : -0.5 * x), kinks: [0] },
  { name: 'elu', fn: (x) => ops.elu(x), ref: (x) => (x > 0 ? x : Math.exp(x) - 1), kinks: [0] },
  { name: 'elu (alpha 0.5)', fn: (x) => ops.elu(x, { alpha: 0.5 }), ref: (x) => (x > 0 ? x : 0.5 * (Math.exp(x) - 1)), kinks: [0] },
  { name: 'selu', fn: ops.selu, ref: (x) => SELU_SCALE * (x > 0 ? x : SELU_ALPHA * (Math.exp(x) - 1)), kinks: [0] },
  { name: 'celu (alpha 2)', fn: (x) => ops.celu(x, 2), ref: (x) => Math.max(x, 0) + 2 * Math.min(0, Math.exp(x / 2) - 1), kinks: [0] },
  {
    name: 'gelu (tanh approximation, the default)',
    fn: (x) => ops.gelu(x),
    ref: (x) => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3))),
  },
  { name: 'gelu (exact)', fn: (x) => ops.gelu(x, { approximate: false }), ref: (x) => (x / 2) * (1 + erfRef(x / Math.SQRT2)) },
  { name: 'hardSigmoid', fn: ops.hardSigmoid, ref: (x) => Math.min(Math.max(x + 3, 0), 6) / 6, kinks: [-3, 3] },
  { name: 'hardSilu', fn: ops.hardSilu, ref: (x) => (x * Math.min(Math.max(x + 3, 0), 6)) / 6, kinks: [-3, 3] },
  { name: 'silu', fn: ops.silu, ref: (x) => x * sigmoidRef(x) },
  { name: 'softplus', fn: ops.softplus, ref: softplusRef },
  { name: 'logSigmoid', fn: ops.logSigmoid, ref: (x) => Math.log(sigmoidRef(x)) },
  { name: 'softsign', fn: ops.softsign, ref: (x) => x / (1 + Math.abs(x)), kinks: [0] },
  { name: 'mish', fn: ops.mish, ref: (x) => x * Math.tanh(softplusRef(x)) },
  { name: 'hardTanh', fn: ops.hardTanh, ref: (x) => Math.min(Math.max(x, -1), 1), kinks: [-1, 1] },
  { name: 'tanhShrink', fn: ops.tanhShrink, ref: (x) => x - Math.tanh(x) },
  { name: 'hardShrink', fn: (x) => ops.hardShrink(x), ref: (x) => (Math.abs(x) > 0.5 ? x : 0), kinks: [-0.5, 0.5] },
  { name: 'softShrink (threshold 1)', fn: (x) => ops.softShrink(x, 1), ref: (x) => (x > 1 ? x - 1 : x < -1 ? x + 1 : 0), kinks: [-1, 1] },
  { name: 'squareplus', fn: (x) => ops.squareplus(x), ref: (x) => (x + Math.sqrt(x * x + 4)) / 2 },
  { name: 'sparsePlus', fn: ops.sparsePlus, ref: (x) => (x <= -1 ? 0 : x >= 1 ? x : (x + 1) ** 2 / 4), kinks: [-1, 1] },
  { name: 'sparseSigmoid', fn: ops.sparseSigmoid, ref: (x) => (x <= -1 ? 0 : x >= 1 ? 1 : (x + 1) / 2), kinks: [-1, 1] },
  { name: 'threshold (0.3, default -2)', fn: (x) => ops.threshold(x, 0.3, -2), ref: (x) => (x > 0.3 ? x : -2), kinks: [0.3] },
];

/** Random values in [-5, 5), pushed at least 0.05 away from the kinks. */
function inputsAwayFromKinks(shape: number[], seed: number, kinks: number[] = []): Tensor {
  const rand = testRandom(seed);
  const n = shape.reduce((p, d) => p * d, 1);
  const v = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let x = -5 + 10 * rand();
    for (const k of kinks) if (Math.abs(x - k) < 0.05) x = k + (x < k ? -0.05 : 0.05) * (1 + rand());
    v[i] = x;
  }
  return new Tensor(shape, 'float64', v);
}

describe('activations: forward values against naive references', () => {
  for (const c of cases) {
    it(c.name, () => {
      const x = inputsAwayFromKinks([4, 6], 11, []);
      assertClose(c.fn(x), refMap([x], c.ref), { rtol: 1e-10, atol: 1e-12 }, c.name);
      // At the kinks themselves too (values are continuous or defined by the reference's convention).
      if (c.kinks) {
        const k = tensor(Float64Array.from(c.kinks));
        assertClose(c.fn(k), c.kinks.map(c.ref), { rtol: 1e-12, atol: 1e-12 }, `${c.name} at kinks`);
      }
    });
  }
  it('float32 inputs give float32 outputs; integer inputs are computed as float32', () => {
    const x = tensor([-1.5, 0.25, 2]);
    for (const c of cases) assert.equal(c.fn(x).dtype, 'float32', c.name);
    const i = tensor([-2, 0, 3], undefined, 'int32');
    assert.deepEqual([...ops.relu(i).dataSync()], [0, 0, 3]);
    assert.equal(ops.relu(i).dtype, 'int32');
    assertClose(ops.silu(i), [-2 * sigmoidRef(-2), 0, 3 * sigmoidRef(3)], { rtol: 1e-6 });
    assert.equal(ops.gelu(i).dtype, 'float32');
  });
  it('hand-computed values', () => {
    assertClose(ops.relu6(tensor([-1, 3, 7])), [0, 3, 6]);
    assertClose(ops.hardSigmoid(tensor([-4, 0, 1.5, 4])), [0, 0.5, 0.75, 1]);
    assertClose(ops.leakyRelu(tensor([-10, 10])), [-2, 10]);
    assertClose(ops.softsign(tensor([-3, 1])), [-0.75, 0.5]);
    assertClose(ops.softplus(tensor([0])), [Math.LN2]);
    assertClose(ops.gelu(tensor([1]), false), [0.8413447460685429], { rtol: 1e-6 }); // 1 * Phi(1)
    assertClose(ops.swish(tensor([0, 1])), [0, sigmoidRef(1)]);
    assertClose(ops.hardSwish(tensor([1])), [4 / 6]);
  });
});

describe('activations: gradients against finite differences (float64)', () => {
  for (const c of cases) {
    it(c.name, () => {
      checkGradients(c.fn, [inputsAwayFromKinks([3, 5], 29, c.kinks)], {}, c.name);
    });
  }
  it('gradients at the kinks follow TensorFlow/JAX: relu\'(0) = 0, relu6\'(6) = 0, softplus\'(0) = 1/2', () => {
    const grad = (f: (x: Tensor) => Tensor, values: number[]) => {
      const x = tensor(Float64Array.from(values));
      const tape = new GradientTape();
      const y = tape.record(() => ops.sum(f(x)));
      return [...tape.gradient(y, x)!.dataSync()];
    };
    assert.deepEqual(grad(ops.relu, [0, 1, -1]), [0, 1, 0]);
    assert.deepEqual(grad(ops.relu6, [6, 0, 3]), [0, 0, 1]);
    assertClose(grad(ops.softplus, [0]), [0.5], { rtol: 1e-12 });
  });
  it('elu and selu gradients stay finite for huge inputs (the exp branch is clamped)', () => {
    const x = tensor(Float64Array.from([1000, -1000, 800]));
    for (const f of [ops.elu, ops.selu, ops.celu, ops.softplus, ops.mish, ops.silu]) {
      const tape = new GradientTape();
      const y = tape.record(() => ops.sum(f(x)));
      const g = tape.gradient(y, x)!.dataSync();
      assert.ok([...g].every(Number.isFinite), `${f.name}: ${[...g]}`);
    }
  });
});

/** Naive softmax along the last axis of a [rows, cols] array (float64). */
function softmaxRows(values: ArrayLike<number>, rows: number, cols: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < rows; i++) {
    let peak = -Infinity;
    for (let j = 0; j < cols; j++) peak = Math.max(peak, values[i * cols + j]);
    let s = 0;
    for (let j = 0; j < cols; j++) s += Math.exp(values[i * cols + j] - peak);
    for (let j = 0; j < cols; j++) out.push(Math.exp(values[i * cols + j] - peak) / s);
  }
  return out;
}

describe('softmax and logSoftmax', () => {
  it('match a naive reference along the last axis', () => {
    const x = randomTensor([4, 7], 3, -3, 3);
    const ref = softmaxRows(x.dataSync(), 4, 7);
    assertClose(ops.softmax(x), ref, { rtol: 1e-12, atol: 1e-15 });
    assertClose(ops.logSoftmax(x), ref.map(Math.log), { rtol: 1e-12, atol: 1e-14 });
  });
  it('along axis 0 and over several axes', () => {
    const x = randomTensor([3, 4], 5, -2, 2);
    const v = x.dataSync();
    // Axis 0 = softmax of the transpose's rows.
    const t = new Float64Array(12);
    for (let i = 0; i < 3; i++) for (let j = 0; j < 4; j++) t[j * 3 + i] = v[i * 4 + j];
    const refT = softmaxRows(t, 4, 3);
    const ref = new Array<number>(12);
    for (let i = 0; i < 3; i++) for (let j = 0; j < 4; j++) ref[i * 4 + j] = refT[j * 3 + i];
    assertClose(ops.softmax(x, 0), ref, { rtol: 1e-12 });
    assertClose(ops.logSoftmax(x, { axis: 0 }), ref.map(Math.log), { rtol: 1e-12 });
    // Both axes: one distribution over all 12 values.
    assertClose(ops.softmax(x, [0, 1]), softmaxRows(v, 1, 12), { rtol: 1e-12 });
  });
  it('rows sum to 1', () => {
    const s = ops.sum(ops.softmax(randomTensor([5, 9], 8, -10, 10)), -1);
    assertClose(s, new Array(5).fill(1), { rtol: 1e-12 });
  });
  it('are stable for logits of +-1000', () => {
    const x = tensor([[1000, 0, -1000], [-1000, -1000, -999], [1000, 1000, 1000]]);
    const s = ops.softmax(x).dataSync();
    const ls = ops.logSoftmax(x).dataSync();
    assert.ok([...s, ...ls].every(Number.isFinite), `${[...s]} / ${[...ls]}`);
    const e = Math.E;
    assertClose(s, [1, 0, 0, 1 / (2 + e), 1 / (2 + e), e / (2 + e), 1 / 3, 1 / 3, 1 / 3], { rtol: 1e-6, atol: 1e-7 });
    const lse = Math.log(2 + e);
    assertClose(ls, [0, -1000, -2000, -lse, -lse, 1 - lse, -Math.log(3), -Math.log(3), -Math.log(3)], { rtol: 1e-6, atol: 1e-5 });
  });
  it('gradients (float64, several axes)', () => {
    checkGradients((x) => ops.softmax(x), [randomTensor([3, 4], 12, -2, 2)], {}, 'softmax');
    checkGradients((x) => ops.softmax(x, 0), [randomTensor([3, 4], 13, -2, 2)], {}, 'softmax axis 0');
    checkGradients((x) => ops.logSoftmax(x), [randomTensor([3, 4], 14, -2, 2)], {}, 'logSoftmax');
    checkGradients((x) => ops.logSoftmax(x, [1, 2]), [randomTensor([2, 3, 2], 15, -2, 2)], {}, 'logSoftmax axes 1,2');
  });
  it('softmax on [512, 1000] runs 6 ops (max, stopGradient, subtract, exp, sum, divide) in reasonable time', () => {
    const x = randomTensor([512, 1000], 4, -5, 5, 'float32');
    ops.softmax(x); // warm up
    const names: string[] = [];
    const remove = addOpHook({ afterOp: (e) => names.push(e.def.name) });
    const start = performance.now();
    try {
      ops.softmax(x);
    } finally {
      remove();
    }
    const ms = performance.now() - start;
    assert.deepEqual(names.sort(), ['divide', 'exp', 'max', 'stopGradient', 'subtract', 'sum']);
    assert.ok(ms < 1000, `softmax on [512, 1000] took ${ms.toFixed(1)} ms`);
  });
});

describe('sigmoid and softplus at +-1000', () => {
  it('are finite and correct', () => {
    const x = tensor([-1000, 1000, -50, 50]);
    assertClose(ops.sigmoid(x), [0, 1, Math.exp(-50), 1], { rtol: 1e-5, atol: 0 });
    assertClose(ops.softplus(x), [0, 1000, Math.exp(-50), 50], { rtol: 1e-6, atol: 0 });
    assertClose(ops.logSigmoid(x), [-1000, 0, -50, -Math.exp(-50)], { rtol: 1e-6, atol: 0 });
    const x64 = tensor(Float64Array.from([-1000, 1000]));
    assertClose(ops.softplus(x64), [0, 1000], { rtol: 1e-15, atol: 0 });
  });
});

describe('activations: bad input', () => {
  it('rejects bad keyword values', () => {
    assert.throws(() => ops.leakyRelu(tensor([1]), { negativeSlope: NaN }), /ops\.leakyRelu: Received: negativeSlope=NaN; expected a finite number/);
    assert.throws(() => ops.elu(tensor([1]), 'a' as never), /ops\.elu: Received: alpha=a/);
    assert.throws(() => ops.celu(tensor([1]), -1), /ops\.celu: Received: alpha=-1; expected alpha > 0/);
    assert.throws(() => ops.squareplus(tensor([1]), -4), /ops\.squareplus: Received: b=-4; expected b >= 0/);
  });
  it('rejects bad axes and scalars for softmax', () => {
    assert.throws(() => ops.softmax(tensor([[1, 2]]), 2), /ops\.softmax: Received: axis=2 for a tensor of rank 2/);
    assert.throws(() => ops.logSoftmax(tensor(3)), /ops\.logSoftmax: Received: a scalar/);
    assert.throws(() => ops.relu('x' as never), /ops\.relu: expected a tensor/);
  });
});

// ---------------------------------------------------------------------------
// Crossentropy

const EPS = 1e-7;
const clipP = (p: number) => Math.min(Math.max(p, EPS), 1 - EPS);

describe('binaryCrossentropy', () => {
  it('matches the Keras formula elementwise (probabilities, with clipping)', () => {
    const t = tensor(Float64Array.from([1, 0, 1, 0, 0.3, 1]), [2, 3]);
    const o = tensor(Float64Array.from([0.9, 0.2, 0, 1, 0.6, 0.5]), [2, 3]);
    const ref = refMap([t, o], (ti, oi) => -(ti * Math.log(clipP(oi)) + (1 - ti) * Math.log(1 - clipP(oi))));
    const y = ops.binaryCrossentropy(t, o);
    assert.deepEqual(y.shape, [2, 3]);
    assertClose(y, ref, { rtol: 1e-12 });
    assertClose(ops.binaryCrossentropy([1, 0], [0.9, 0.2]), [-Math.log(0.9), -Math.log(0.8)], { rtol: 1e-6 });
    // Clipping: a certain wrong prediction costs -log(epsilon) (epsilon as float32).
    assertClose(ops.binaryCrossentropy([1], [0]), [-Math.log(Math.fround(1e-7))], { rtol: 1e-6 });
  });
  it('fromLogits equals the probability form on sigmoid(logits)', () => {
    const t = randomTensor([3, 4], 21, 0, 1);
    const logits = randomTensor([3, 4], 22, -6, 6);
    const ref = refMap([t, logits], (ti, li) => {
      const p = 1 / (1 + Math.exp(-li));
      return -(ti * Math.log(p) + (1 - ti) * Math.log(1 - p));
    });
    assertClose(ops.binaryCrossentropy(t, logits, true), ref, { rtol: 1e-10 });
    assertClose(ops.binaryCrossentropy(t, logits, { fromLogits: true }), ops.binaryCrossentropy(t, ops.sigmoid(logits)), { rtol: 1e-9 });
  });
  it('is stable for logits of +-1000', () => {
    const y = ops.binaryCrossentropy(tensor([1, 0, 1, 0]), tensor([1000, -1000, -1000, 1000]), true);
    assertClose(y, [0, 0, 1000, 1000], { rtol: 1e-6, atol: 1e-6 });
  });
  it('gradients (float64) for both forms, wrt output and target', () => {
    checkGradients((t, o) => ops.binaryCrossentropy(t, o), [randomTensor([2, 3], 31, 0, 1), randomTensor([2, 3], 32, 0.05, 0.95)], {}, 'bce');
    checkGradients((t, o) => ops.binaryCrossentropy(t, o, true), [randomTensor([2, 3], 33, 0, 1), randomTensor([2, 3], 34, -4, 4)], {}, 'bce logits');
  });
  it('rejects different shapes', () => {
    assert.throws(() => ops.binaryCrossentropy(tensor([1, 0]), tensor([[0.5, 0.5]])), /ops\.binaryCrossentropy: Received: target\.shape=\(2,\), output\.shape=\(1, 2\); expected target and output with the same rank/);
    assert.throws(() => ops.binaryCrossentropy(tensor([1, 0]), tensor([0.5, 0.5, 0.5])), /same shape/);
  });
});

/** Naive categorical crossentropy over the last axis of [rows, cols] arrays. */
function cceRows(target: ArrayLike<number>, output: ArrayLike<number>, rows: number, cols: number, logits: boolean): number[] {
  const p = logits ? softmaxRows(output, rows, cols) : Array.from(output);
  const out: number[] = [];
  for (let i = 0; i < rows; i++) {
    let s = 0;
    if (!logits) for (let j = 0; j < cols; j++) s += p[i * cols + j];
    let loss = 0;
    for (let j = 0; j < cols; j++) {
      const q = logits ? p[i * cols + j] : clipP(p[i * cols + j] / s);
      loss -= target[i * cols + j] * Math.log(q);
    }
    out.push(loss);
  }
  return out;
}

describe('categoricalCrossentropy', () => {
  it('Keras documentation example', () => {
    const y = ops.categoricalCrossentropy([[0, 1, 0], [0, 0, 1]], [[0.05, 0.95, 0], [0.1, 0.8, 0.1]]);
    assertClose(y, [-Math.log(0.95), -Math.log(0.1)], { rtol: 1e-6 });
  });
  it('normalizes and clips probabilities like Keras', () => {
    const t = randomTensor([3, 5], 41, 0, 1);
    const o = randomTensor([3, 5], 42, 0, 2); // unnormalized
    assertClose(ops.categoricalCrossentropy(t, o), cceRows(t.dataSync(), o.dataSync(), 3, 5, false), { rtol: 1e-12 });
    // A zero probability of the true class is clipped to epsilon.
    assertClose(ops.categoricalCrossentropy(tensor(Float64Array.from([1, 0]), [1, 2]), tensor(Float64Array.from([0, 1]), [1, 2])), [-Math.log(1e-7)], { rtol: 1e-9 });
  });
  it('fromLogits equals the probability form on softmax(logits)', () => {
    const t = randomTensor([3, 5], 43, 0, 1);
    const logits = randomTensor([3, 5], 44, -4, 4);
    assertClose(ops.categoricalCrossentropy(t, logits, true), cceRows(t.dataSync(), logits.dataSync(), 3, 5, true), { rtol: 1e-12 });
    assertClose(ops.categoricalCrossentropy(t, logits, { fromLogits: true }), ops.categoricalCrossentropy(t, ops.softmax(logits)), { rtol: 1e-9 });
  });
  it('along axis 0 (options or positional)', () => {
    const t = randomTensor([4, 3], 45, 0, 1);
    const o = randomTensor([4, 3], 46, -3, 3);
    const tt = ops.transpose(t), ot = ops.transpose(o);
    assertClose(ops.categoricalCrossentropy(t, o, { fromLogits: true, axis: 0 }), cceRows(tt.dataSync(), ot.dataSync(), 3, 4, true), { rtol: 1e-12 });
    assertClose(ops.categoricalCrossentropy(t, o, true, 0), cceRows(tt.dataSync(), ot.dataSync(), 3, 4, true), { rtol: 1e-12 });
  });
  it('is stable for logits of +-1000', () => {
    const y = ops.categoricalCrossentropy(tensor([[1, 0, 0], [0, 1, 0]]), tensor([[1000, 0, -1000], [1000, -1000, 0]]), true);
    assertClose(y, [0, 2000], { rtol: 1e-6, atol: 1e-6 });
  });
  it('gradients (float64)', () => {
    checkGradients((o) => ops.categoricalCrossentropy(randomTensor([3, 4], 51, 0, 1), o), [randomTensor([3, 4], 52, 0.1, 1)], {}, 'cce');
    checkGradients((o) => ops.categoricalCrossentropy(randomTensor([3, 4], 53, 0, 1), o, true), [randomTensor([3, 4], 54, -3, 3)], {}, 'cce logits');
    checkGradients((o) => ops.categoricalCrossentropy(randomTensor([3, 4], 55, 0, 1), o, true, 0), [randomTensor([3, 4], 56, -3, 3)], {}, 'cce logits axis 0');
  });
  it('rejects different shapes and scalars', () => {
    assert.throws(() => ops.categoricalCrossentropy(tensor([[1, 0]]), tensor([[0.5, 0.3, 0.2]])), /ops\.categoricalCrossentropy: Received: target\.shape=\(1, 2\), output\.shape=\(1, 3\); expected target and output with the same shape/);
    assert.throws(() => ops.categoricalCrossentropy(tensor(1), tensor(1)), /rank >= 1/);
  });
});

describe('sparseCategoricalCrossentropy', () => {
  it('equals categoricalCrossentropy with one-hot targets (both forms)', () => {
    const labels = tensor([2, 0, 1, 2], undefined, 'int32');
    const oneHot = tensor(Float64Array.from([0, 0, 1, 1, 0, 0, 0, 1, 0, 0, 0, 1]), [4, 3]);
    const logits = randomTensor([4, 3], 61, -3, 3);
    const probs = randomTensor([4, 3], 62, 0.01, 1);
    assertClose(ops.sparseCategoricalCrossentropy(labels, logits, true), cceRows(oneHot.dataSync(), logits.dataSync(), 4, 3, true), { rtol: 1e-12 });
    assertClose(ops.sparseCategoricalCrossentropy(labels, probs), cceRows(oneHot.dataSync(), probs.dataSync(), 4, 3, false), { rtol: 1e-12 });
    assertClose(ops.sparseCategoricalCrossentropy(labels, logits, { fromLogits: true }), ops.categoricalCrossentropy(oneHot, logits, true), { rtol: 1e-12 });
  });
  it('accepts labels with a trailing size-1 axis and float labels', () => {
    const logits = randomTensor([3, 4], 63, -2, 2);
    const a = ops.sparseCategoricalCrossentropy(tensor([[1], [3], [0]], undefined, 'int32'), logits, true);
    const b = ops.sparseCategoricalCrossentropy(tensor([1, 3, 0]), logits, true);
    assert.deepEqual(a.shape, [3]);
    assertClose(a, b, { rtol: 0, atol: 0 });
    const ref = softmaxRows(logits.dataSync(), 3, 4);
    assertClose(a, [-Math.log(ref[1]), -Math.log(ref[4 + 3]), -Math.log(ref[8])], { rtol: 1e-12 });
  });
  it('classes along axis 1 of a rank-3 output', () => {
    // output [2, 3, 2]: batch 2, 3 classes on axis 1, 2 positions.
    const logits = randomTensor([2, 3, 2], 64, -2, 2);
    const labels = tensor([[0, 2], [1, 1]], undefined, 'int32');
    const v = logits.dataSync();
    const lab = [[0, 2], [1, 1]];
    const ref: number[] = [];
    for (let b = 0; b < 2; b++) {
      for (let p = 0; p < 2; p++) {
        const col = [0, 1, 2].map((c) => v[b * 6 + c * 2 + p]);
        const sm = softmaxRows(col, 1, 3);
        ref.push(-Math.log(sm[lab[b][p]]));
      }
    }
    const y = ops.sparseCategoricalCrossentropy(labels, logits, { fromLogits: true, axis: 1 });
    assert.deepEqual(y.shape, [2, 2]);
    assertClose(y, ref, { rtol: 1e-12 });
  });
  it('labels outside [0, numClasses) select no class (loss 0)', () => {
    assertClose(ops.sparseCategoricalCrossentropy(tensor([5, -1], undefined, 'int32'), tensor([[0.2, 0.8], [0.5, 0.5]])), [0, 0]);
  });
  it('is stable for logits of +-1000', () => {
    const y = ops.sparseCategoricalCrossentropy(tensor([0, 1], undefined, 'int32'), tensor([[1000, -1000], [1000, -1000]]), true);
    assertClose(y, [0, 2000], { rtol: 1e-6, atol: 1e-6 });
  });
  it('gradients (float64)', () => {
    const labels = tensor([1, 0, 2], undefined, 'int32');
    checkGradients((o) => ops.sparseCategoricalCrossentropy(labels, o), [randomTensor([3, 3], 71, 0.1, 1)], {}, 'scce');
    checkGradients((o) => ops.sparseCategoricalCrossentropy(labels, o, true), [randomTensor([3, 3], 72, -3, 3)], {}, 'scce logits');
  });
  it('rejects mismatched label shapes', () => {
    assert.throws(
      () => ops.sparseCategoricalCrossentropy(tensor([1, 0, 1], undefined, 'int32'), tensor([[0.5, 0.5], [0.5, 0.5]])),
      /ops\.sparseCategoricalCrossentropy: Received: target\.shape=\(3,\), output\.shape=\(2, 2\); expected target with the shape of output without axis 1, \(2,\)/,
    );
    assert.throws(() => ops.sparseCategoricalCrossentropy(tensor([1]), tensor(0.5)), /output of rank >= 1/);
  });
});
