import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as ops from '../../src/ops/index.ts';
import { fill, tensor } from '../../src/tensor/create.ts';
import type { Tensor } from '../../src/tensor/tensor.ts';
import { elementwiseOps } from '../../src/ops/defs/elementwise.ts';
import type { OpDef } from '../../src/engine/op.ts';
import { assertClose, randomTensor } from '../helpers/close.ts';
import { checkGradients } from '../helpers/gradcheck.ts';
import { refMap } from '../helpers/reference.ts';
import { runLowered } from '../helpers/onnx.ts';

interface Case {
  name: keyof typeof elementwiseOps;
  fn: (...xs: Tensor[]) => Tensor;
  ref: (...xs: number[]) => number;
  /** Input ranges (lo, hi) per operand. */
  ranges: [number, number][];
  /** Shapes per operand for the broadcasting case. */
  shapes?: number[][];
  grad?: boolean;
}

/** erf by Simpson's rule on 2/sqrt(pi) exp(-t^2): independent of the kernel's rational approximation. */
const erfRef = (x: number) => {
  const n = 2000;
  const h = x / n;
  let s = 1 + Math.exp(-x * x);
  for (let i = 1; i < n; i++) s += (i % 2 ? 4 : 2) * Math.exp(-(i * h) * (i * h));
  return (2 / Math.sqrt(Math.PI)) * (s * h) / 3;
};

const unaryCases: Case[] = [
  { name: 'negative', fn: ops.negative, ref: (x) => -x, ranges: [[-2, 2]], grad: true },
  { name: 'abs', fn: ops.abs, ref: Math.abs, ranges: [[0.1, 2]], grad: true },
  { name: 'sign', fn: ops.sign, ref: Math.sign, ranges: [[-2, 2]] },
  { name: 'sqrt', fn: ops.sqrt, ref: Math.sqrt, ranges: [[0.1, 3]], grad: true },
  { name: 'exp', fn: ops.exp, ref: Math.exp, ranges: [[-2, 2]], grad: true },
  { name: 'expm1', fn: ops.expm1, ref: Math.expm1, ranges: [[-2, 2]], grad: true },
  { name: 'log', fn: ops.log, ref: Math.log, ranges: [[0.1, 3]], grad: true },
  { name: 'log1p', fn: ops.log1p, ref: Math.log1p, ranges: [[-0.5, 2]], grad: true },
  { name: 'sin', fn: ops.sin, ref: Math.sin, ranges: [[-3, 3]], grad: true },
  { name: 'cos', fn: ops.cos, ref: Math.cos, ranges: [[-3, 3]], grad: true },
  { name: 'tanh', fn: ops.tanh, ref: Math.tanh, ranges: [[-2, 2]], grad: true },
  { name: 'erf', fn: ops.erf, ref: erfRef, ranges: [[-2, 2]], grad: true },
  { name: 'floor', fn: ops.floor, ref: Math.floor, ranges: [[-3, 3]] },
  { name: 'ceil', fn: ops.ceil, ref: Math.ceil, ranges: [[-3, 3]] },
  { name: 'round', fn: ops.round, ref: (x) => (Math.abs(x % 1) === 0.5 ? 2 * Math.round(x / 2) : Math.round(x)), ranges: [[-3, 3]] },
  { name: 'reciprocal', fn: ops.reciprocal, ref: (x) => 1 / x, ranges: [[0.5, 2]], grad: true },
  { name: 'sigmoid', fn: ops.sigmoid, ref: (x) => 1 / (1 + Math.exp(-x)), ranges: [[-4, 4]], grad: true },
];

const B = [[2, 1, 3], [4, 1]]; // broadcasts to [2, 4, 3]
const binaryCases: Case[] = [
  { name: 'add', fn: ops.add, ref: (a, b) => a + b, ranges: [[-2, 2], [-2, 2]], grad: true },
  { name: 'subtract', fn: ops.subtract, ref: (a, b) => a - b, ranges: [[-2, 2], [-2, 2]], grad: true },
  { name: 'multiply', fn: ops.multiply, ref: (a, b) => a * b, ranges: [[-2, 2], [-2, 2]], grad: true },
  { name: 'divide', fn: ops.divide, ref: (a, b) => a / b, ranges: [[-2, 2], [0.5, 2]], grad: true },
  { name: 'floorDivide', fn: ops.floorDivide, ref: (a, b) => Math.floor(a / b), ranges: [[-5, 5], [0.7, 2]] },
  { name: 'mod', fn: ops.mod, ref: (a, b) => a - Math.floor(a / b) * b, ranges: [[-5, 5], [0.7, 2]], grad: true },
  { name: 'power', fn: ops.power, ref: Math.pow, ranges: [[0.5, 2], [-1.5, 1.5]], grad: true },
  { name: 'maximum', fn: ops.maximum, ref: Math.max, ranges: [[-2, 2], [-2, 2]], grad: true },
  { name: 'minimum', fn: ops.minimum, ref: Math.min, ranges: [[-2, 2], [-2, 2]], grad: true },
  { name: 'less', fn: ops.less, ref: (a, b) => +(a < b), ranges: [[-1, 1], [-1, 1]] },
  { name: 'lessEqual', fn: ops.lessEqual, ref: (a, b) => +(a <= b), ranges: [[-1, 1], [-1, 1]] },
  { name: 'greater', fn: ops.greater, ref: (a, b) => +(a > b), ranges: [[-1, 1], [-1, 1]] },
  { name: 'greaterEqual', fn: ops.greaterEqual, ref: (a, b) => +(a >= b), ranges: [[-1, 1], [-1, 1]] },
];

function inputsFor(c: Case, shapes: number[][], dtype: 'float32' | 'float64'): Tensor[] {
  return c.ranges.map(([lo, hi], i) => randomTensor(shapes[i], 17 + i * 31, lo, hi, dtype));
}

describe('elementwise ops: forward values against a naive reference', () => {
  for (const c of [...unaryCases, ...binaryCases]) {
    it(c.name, () => {
      const shapes = c.ranges.length === 1 ? [[3, 4]] : B;
      const xs = inputsFor(c, shapes, 'float64');
      assertClose(c.fn(...xs), refMap(xs, c.ref), { rtol: 1e-12, atol: 1e-12 }, c.name);
    });
  }
});

describe('elementwise ops: gradients against finite differences (float64, broadcasting)', () => {
  for (const c of [...unaryCases, ...binaryCases].filter((c) => c.grad)) {
    it(c.name, () => {
      const shapes = c.ranges.length === 1 ? [[2, 3]] : B;
      checkGradients(c.fn, inputsFor(c, shapes, 'float64'), {}, c.name);
    });
  }
  it('where (both branches, broadcast condition)', () => {
    const cond = tensor([true, false, true]);
    checkGradients((a, b) => ops.where(cond, a, b), [randomTensor([2, 3], 1), randomTensor([2, 1], 2)]);
  });
  it('cast float64 -> float32 -> float64 passes the gradient', () => {
    checkGradients((a) => ops.cast(ops.multiply(ops.cast(a, 'float32'), 2), 'float64'), [randomTensor([3], 5)], { rtol: 1e-4, atol: 1e-5, eps: 1e-3 });
  });
});

describe('elementwise ops: ONNX lowering matches the eager kernel', () => {
  for (const c of [...unaryCases, ...binaryCases]) {
    it(c.name, async () => {
      const shapes = c.ranges.length === 1 ? [[3, 4]] : B;
      const xs = inputsFor(c, shapes, 'float32');
      const eager = c.fn(...xs);
      const def = elementwiseOps[c.name] as OpDef<any>;
      const [graph] = await runLowered(def, xs, {} as never);
      assertClose(graph, eager, { rtol: 2e-6, atol: 1e-6 }, c.name);
    });
  }
  it('expm1 and log1p stay accurate near zero', async () => {
    const x = tensor([1e-7, -1e-6, 1e-4, 0.3, -0.4, 0, 3]);
    for (const name of ['expm1', 'log1p'] as const) {
      const [graph] = await runLowered(elementwiseOps[name], [x], {} as never);
      assertClose(graph, ops[name](x), { rtol: 1e-6, atol: 0 }, name);
    }
  });
  it('integer floorDivide and mod follow Python semantics', async () => {
    const a = tensor([7, -7, 7, -7, 0], undefined, 'int32');
    const b = tensor([2, 2, -2, -2, 3], undefined, 'int32');
    assert.deepEqual([...ops.floorDivide(a, b).dataSync()], [3, -4, -4, 3, 0]);
    assert.deepEqual([...ops.mod(a, b).dataSync()], [1, 1, -1, -1, 0]);
    const [fd] = await runLowered(elementwiseOps.floorDivide, [a, b], {} as never);
    const [md] = await runLowered(elementwiseOps.mod, [a, b], {} as never);
    assert.deepEqual([...fd.dataSync()], [3, -4, -4, 3, 0]);
    assert.deepEqual([...md.dataSync()], [1, 1, -1, -1, 0]);
  });
});

describe('dtype promotion and bad input', () => {
  it('filling or casting to bool: any non-zero value is true (NaN too), for known and unknown shapes alike', () => {
    const values = [0.5, -2, Number.NaN, 0];
    const first = (t: Tensor) => (t.arraySync() as boolean[])[0];
    assert.deepEqual(values.map((v) => first(fill([1], v, 'bool'))), [true, true, true, false]);
    assert.deepEqual(values.map((v) => first(ops.cast(tensor([v]), 'bool'))), [true, true, true, false]);
    assert.deepEqual(values.map((v) => first(ops.fullLike(tensor([1]), v, 'bool'))), [true, true, true, false]);
  });
  it('weak JavaScript numbers keep the tensor dtype', () => {
    assert.equal(ops.add(tensor([1, 2], undefined, 'int32'), 1).dtype, 'int32');
    assert.equal(ops.multiply(tensor([1, 2], undefined, 'int32'), 0.5).dtype, 'float32');
    assert.equal(ops.multiply(tensor(new Float64Array([1, 2])), 0.5).dtype, 'float64');
    assert.equal(ops.divide(tensor([1, 2], undefined, 'int32'), tensor([2, 2], undefined, 'int32')).dtype, 'float32');
    assert.equal(ops.add(tensor([1], undefined, 'int32'), tensor([1.5])).dtype, 'float32');
  });
  it('int32 multiplication wraps like int32 arithmetic', () => {
    const big = tensor([2 ** 30], undefined, 'int32');
    assert.equal(ops.multiply(big, 4).item(), 0);
  });
  it('shape mismatch names the op, both shapes and the axis', () => {
    assert.throws(() => ops.add(tensor([[1, 2, 3]]), tensor([[1, 2]])), /ops\.add: shapes \(1, 3\) and \(1, 2\) cannot be broadcast together \(dimension -1 is 3 in one and 2 in the other/);
  });
  it('NaN and Inf flow through arithmetic', () => {
    const y = ops.multiply(tensor([NaN, Infinity, 1]), 2).dataSync();
    assert.ok(Number.isNaN(y[0]));
    assert.equal(y[1], Infinity);
    assert.deepEqual([...ops.isFinite(tensor([NaN, Infinity, 1])).dataSync()], [0, 0, 1]);
  });
  it('round is half to even', () => {
    const rounded = [...ops.round(tensor([0.5, 1.5, 2.5, -0.5, -1.5])).dataSync()].map((v) => v + 0); // -0 + 0 is 0
    assert.deepEqual(rounded, [0, 2, 2, 0, -2]);
  });
  it('empty tensors and scalars', () => {
    const e = ops.add(tensor(new Float32Array(0), [0, 3]), tensor([1, 2, 3]));
    assert.deepEqual(e.shape, [0, 3]);
    assert.equal(ops.add(2, tensor(3)).item(), 5);
  });
});
