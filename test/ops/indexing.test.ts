import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as ops from '../../src/ops/index.ts';
import { tensor } from '../../src/tensor/create.ts';
import { Tensor } from '../../src/tensor/tensor.ts';
import type { DType } from '../../src/tensor/dtype.ts';
import type { Shape } from '../../src/tensor/shape.ts';
import { indexingOps } from '../../src/ops/defs/indexing.ts';
import { dispatch } from '../../src/engine/dispatch.ts';
import type { OpDef, TensorType } from '../../src/engine/op.ts';
import { withTracer, type Tracer } from '../../src/engine/tracing.ts';
import { GradientTape } from '../../src/autodiff/tape.ts';
import { assertClose, randomTensor, testRandom } from '../helpers/close.ts';
import { checkGradients } from '../helpers/gradcheck.ts';
import { refIndices } from '../helpers/reference.ts';
import { runLowered } from '../helpers/onnx.ts';

// ---------------------------------------------------------------------------
// Independent reference helpers: plain multi-index loops over nested data.

type Idx = number[];
const sizeOf = (shape: readonly number[]) => shape.reduce((p, d) => p * d, 1);
const offsetOf = (shape: readonly number[], idx: Idx) => idx.reduce((off, k, i) => off * shape[i] + k, 0);
/** Value of `t` (concrete) at a multi-index. */
const at = (t: Tensor, idx: Idx) => t.dataSync()[offsetOf(t.shape as number[], idx)];
/** Values of a tensor of `shape` whose element at idx is f(idx). */
const build = (shape: number[], f: (idx: Idx) => number) => refIndices(shape).map(f);

function ints(shape: number[], seed: number, lo: number, hi: number): Tensor {
  const rand = testRandom(seed);
  const v = new Int32Array(sizeOf(shape));
  for (let i = 0; i < v.length; i++) v[i] = lo + Math.floor(rand() * (hi - lo));
  return new Tensor(shape, 'int32', v);
}
function bools(shape: number[], seed: number): Tensor {
  const rand = testRandom(seed);
  const v = new Uint8Array(sizeOf(shape));
  for (let i = 0; i < v.length; i++) v[i] = rand() < 0.5 ? 1 : 0;
  return new Tensor(shape, 'bool', v);
}
const i32 = (values: number | number[] | number[][], shape?: number[]) => tensor(values, shape, 'int32');
const f64 = (shape: number[], seed: number, lo = -1, hi = 1) => randomTensor(shape, seed, lo, hi, 'float64');
const f32 = (shape: number[], seed: number, lo = -1, hi = 1) => randomTensor(shape, seed, lo, hi, 'float32');

function expectTensor(actual: Tensor, shape: number[], values: ArrayLike<number>, dtype?: DType, label = ''): void {
  assert.deepEqual(actual.shape, shape, `${label}: shape`);
  if (dtype) assert.equal(actual.dtype, dtype, `${label}: dtype`);
  assert.deepEqual(Array.from(actual.dataSync()), Array.from(values), `${label}: values`);
}

const wrap = (k: number, n: number) => (k < 0 ? k + n : k);

function refConcat(xs: Tensor[], axis: number): { shape: number[]; values: number[] } {
  const shape = [...(xs[0].shape as number[])];
  shape[axis] = xs.reduce((p, t) => p + (t.shape[axis] as number), 0);
  const values = build(shape, (idx) => {
    let k = idx[axis];
    for (const t of xs) {
      const n = t.shape[axis] as number;
      if (k < n) return at(t, idx.map((v, i) => (i === axis ? k : v)));
      k -= n;
    }
    throw new Error('unreachable');
  });
  return { shape, values };
}

function refTake(x: Tensor, indices: Tensor, axis: number): { shape: number[]; values: number[] } {
  const xs = x.shape as number[], is = indices.shape as number[];
  const shape = [...xs.slice(0, axis), ...is, ...xs.slice(axis + 1)];
  const values = build(shape, (idx) => {
    const k = at(indices, idx.slice(axis, axis + is.length));
    const src = [...idx.slice(0, axis), wrap(k, xs[axis]), ...idx.slice(axis + is.length)];
    return at(x, src);
  });
  return { shape, values };
}

function refTakeAlong(x: Tensor, indices: Tensor, axis: number): number[] {
  return build(indices.shape as number[], (idx) => {
    const src = [...idx];
    src[axis] = wrap(at(indices, idx), x.shape[axis] as number);
    // Broadcast size-1 axes of x.
    return at(x, src.map((v, i) => (i !== axis && x.shape[i] === 1 ? 0 : v)));
  });
}

function refScatterAdd(data: Tensor, indices: Tensor, updates: Tensor, axis: number): number[] {
  const out = Array.from(data.dataSync());
  const ds = data.shape as number[], is = indices.shape as number[];
  for (const idx of refIndices(updates.shape as number[])) {
    const k = wrap(at(indices, idx.slice(axis, axis + is.length)), ds[axis]);
    out[offsetOf(ds, [...idx.slice(0, axis), k, ...idx.slice(axis + is.length)])] += at(updates, idx);
  }
  return out;
}

function refScatterAddAlong(data: Tensor, indices: Tensor, updates: Tensor, axis: number): number[] {
  const out = Array.from(data.dataSync());
  const ds = data.shape as number[];
  for (const idx of refIndices(indices.shape as number[])) {
    const dst = [...idx];
    dst[axis] = wrap(at(indices, idx), ds[axis]);
    out[offsetOf(ds, dst)] += at(updates, idx);
  }
  return out;
}

type PadRefMode = 'constant' | 'reflect' | 'symmetric';
function refPad(x: Tensor, widths: number[][], mode: PadRefMode, value = 0): { shape: number[]; values: number[] } {
  const xs = x.shape as number[];
  const shape = xs.map((n, i) => n + widths[i][0] + widths[i][1]);
  const values = build(shape, (idx) => {
    const src: number[] = [];
    for (let i = 0; i < xs.length; i++) {
      const n = xs[i];
      let j = idx[i] - widths[i][0];
      if (j < 0 || j >= n) {
        if (mode === 'constant') return value;
        if (mode === 'reflect') j = j < 0 ? -j : 2 * (n - 1) - j;
        else j = j < 0 ? -j - 1 : 2 * n - 1 - j;
      }
      src.push(j);
    }
    return at(x, src);
  });
  return { shape, values };
}

/** Rows of the last axis sorted by (value, index): descending or ascending; ties by lower index. */
function refSortRows(x: Tensor, descending: boolean): { values: number[]; indices: number[] } {
  const shape = x.shape as number[];
  const n = shape[shape.length - 1];
  const flat = Array.from(x.dataSync());
  const values: number[] = [], indices: number[] = [];
  for (let r = 0; r * n < flat.length; r++) {
    const row = flat.slice(r * n, r * n + n).map((v, i) => ({ v, i }));
    row.sort((p, q) => (p.v === q.v ? p.i - q.i : descending ? q.v - p.v : p.v - q.v));
    for (const e of row) {
      values.push(e.v);
      indices.push(e.i);
    }
  }
  return { values, indices };
}

// ---------------------------------------------------------------------------
// Forward values

describe('indexing ops: forward values against naive references', () => {
  it('concatenate: axis 1 (a zero-size piece included), negative axis, promotion, bool', () => {
    const a = f32([2, 3], 1), b = f32([2, 1], 2), e = f32([2, 0], 3);
    const ref = refConcat([a, b, e, a], 1);
    expectTensor(ops.concatenate([a, b, e, a], 1), ref.shape, ref.values, 'float32', 'axis 1');
    expectTensor(ops.concatenate([a, b], -1), refConcat([a, b], 1).shape, refConcat([a, b], 1).values, 'float32', 'axis -1');
    const c = f32([3, 3], 4);
    const ref0 = refConcat([a, c], 0);
    expectTensor(ops.concatenate([a, c]), ref0.shape, ref0.values, 'float32', 'axis 0 default');
    const mixed = ops.concatenate([i32([1, 2]), tensor([0.5])]);
    expectTensor(mixed, [3], [1, 2, 0.5], 'float32', 'int32 + float32 promotes');
    const bb = bools([2, 2], 5);
    const refB = refConcat([bb, bb], 0);
    expectTensor(ops.concatenate([bb, bb]), refB.shape, refB.values, 'bool', 'bool');
    expectTensor(ops.concatenate([f32([0, 3], 6), a]), [2, 3], a.dataSync(), 'float32', 'empty first');
  });

  it('stack and unstack (new axis first, last, negative)', () => {
    const a = f32([2, 3], 7), b = f32([2, 3], 8);
    const s = ops.stack([a, b], -1);
    assert.deepEqual(s.shape, [2, 3, 2]);
    assert.deepEqual(Array.from(s.dataSync()), build([2, 3, 2], ([i, j, k]) => at(k === 0 ? a : b, [i, j])));
    const s0 = ops.stack([a, b]);
    assert.deepEqual(Array.from(s0.dataSync()), [...a.dataSync(), ...b.dataSync()]);
    const pieces = ops.unstack(s0, { axis: 2 });
    assert.equal(pieces.length, 3);
    pieces.forEach((p, k) => expectTensor(p, [2, 2], build([2, 2], ([i, j]) => at(s0, [i, j, k])), 'float32', `piece ${k}`));
    const back = ops.unstack(s0);
    expectTensor(back[1], [2, 3], b.dataSync(), 'float32', 'unstack axis 0');
    assert.equal(ops.unstack(f32([0, 2], 1)).length, 0);
  });

  it('split: equal sections, split points (with an empty piece), negative axis', () => {
    const x = f32([6, 2], 9);
    const parts = ops.split(x, 3);
    assert.equal(parts.length, 3);
    parts.forEach((p, k) => expectTensor(p, [2, 2], build([2, 2], ([i, j]) => at(x, [2 * k + i, j])), 'float32', `section ${k}`));
    const pts = ops.split(x, [1, 1, 4]);
    assert.deepEqual(pts.map((p) => p.shape), [[1, 2], [0, 2], [3, 2], [2, 2]]);
    expectTensor(pts[2], [3, 2], build([3, 2], ([i, j]) => at(x, [1 + i, j])), 'float32', 'points');
    const cols = ops.split(x, 2, -1);
    expectTensor(cols[1], [6, 1], build([6, 1], ([i]) => at(x, [i, 1])), 'float32', 'axis -1');
  });

  it('slice: start indices and sizes, -1 to the end, the whole tensor', () => {
    const x = f32([3, 4, 5], 10);
    const y = ops.slice(x, [1, 0, 2], [2, -1, 3]);
    expectTensor(y, [2, 4, 3], build([2, 4, 3], ([i, j, k]) => at(x, [1 + i, j, 2 + k])), 'float32', 'box');
    const z = ops.slice(x, [0, 3, 4], [3, 1, 1]);
    expectTensor(z, [3, 1, 1], build([3, 1, 1], ([i]) => at(x, [i, 3, 4])), 'float32', 'corner');
    expectTensor(ops.slice(x, [2, 0, 0], [0, -1, -1]), [0, 4, 5], [], 'float32', 'empty');
    assert.equal(ops.slice(x, [0, 0, 0], [-1, 4, -1]), x, 'a full slice is the tensor itself');
    const xi = ints([4, 6], 11, -9, 9);
    expectTensor(ops.slice(xi, [1, 2], [2, 3]), [2, 3], build([2, 3], ([i, j]) => at(xi, [1 + i, 2 + j])), 'int32', 'int32');
  });

  it('take: flattened, 2-D indices with negatives and duplicates, scalar index, empty, int32 and bool', () => {
    const x = f32([3, 4], 12);
    expectTensor(ops.take(x, [11, -12, 0, 5]), [4], [11, 0, 0, 5].map((k) => x.dataSync()[k]), 'float32', 'flattened');
    const idx = i32([[3, -1], [0, 0], [-4, 2]]);
    const ref = refTake(x, idx, 1);
    expectTensor(ops.take(x, idx, 1), ref.shape, ref.values, 'float32', 'axis 1');
    expectTensor(ops.take(x, idx, -1), ref.shape, ref.values, 'float32', 'axis -1');
    const ref0 = refTake(x, i32([2, 0, 2]), 0);
    expectTensor(ops.take(x, [2, 0, 2], 0), ref0.shape, ref0.values, 'float32', 'axis 0');
    expectTensor(ops.take(x, i32(1, []), 0), [4], build([4], ([j]) => at(x, [1, j])), 'float32', 'scalar index drops the axis');
    expectTensor(ops.take(x, i32([], [0]), 1), [3, 0], [], 'float32', 'empty indices');
    expectTensor(ops.take(f32([0, 2], 1), i32([], [0]), 0), [0, 2], [], 'float32', 'empty x');
    const xi = ints([2, 5], 13, -50, 50);
    const refI = refTake(xi, i32([4, 4, 1]), 1);
    expectTensor(ops.take(xi, [4, 4, 1], 1), refI.shape, refI.values, 'int32', 'int32');
    const xb = bools([5], 14);
    expectTensor(ops.take(xb, [4, 0]), [2], [xb.dataSync()[4], xb.dataSync()[0]], 'bool', 'bool');
    expectTensor(ops.take(tensor(7), [0, 0]), [2], [7, 7], 'float32', 'scalar x with axis null');
  });

  it('takeAlongAxis: matching shapes, negative indices, broadcasting, axis null', () => {
    const x = f32([3, 4], 15);
    const idx = i32([[0, 3], [-1, 1], [2, 2]]);
    expectTensor(ops.takeAlongAxis(x, idx, 1), [3, 2], refTakeAlong(x, idx, 1), 'float32', 'axis 1');
    const idx0 = i32([[2, 0, 1, -3]]);
    expectTensor(ops.takeAlongAxis(x, idx0, 0), [1, 4], refTakeAlong(x, idx0, 0), 'float32', 'axis 0');
    // x broadcast along axis 0 (size 1 -> 3), indices broadcast along axis 0 (size 1 -> 3).
    const xRow = f32([1, 4], 16);
    expectTensor(ops.takeAlongAxis(xRow, idx, 1), [3, 2], refTakeAlong(xRow, idx, 1), 'float32', 'x broadcast');
    const idxRow = i32([[1, 3]]);
    const bIdx = i32([[1, 3], [1, 3], [1, 3]]);
    expectTensor(ops.takeAlongAxis(x, idxRow, -1), [3, 2], refTakeAlong(x, bIdx, 1), 'float32', 'indices broadcast');
    expectTensor(ops.takeAlongAxis(x, [11, 0]), [2], [x.dataSync()[11], x.dataSync()[0]], 'float32', 'axis null flattens');
    const xi = ints([2, 3], 17, -5, 5);
    const idxI = i32([[2, 2, 0], [1, 0, 0]]);
    expectTensor(ops.takeAlongAxis(xi, idxI, 1), [2, 3], refTakeAlong(xi, idxI, 1), 'int32', 'int32');
  });

  it('scatterAdd and scatterAddAlongAxis accumulate duplicates', () => {
    const data = f32([3, 4], 18);
    const idx = i32([[1, 1], [-1, 0]]);
    const upd = f32([3, 2, 2], 19);
    assertClose(ops.scatterAdd(data, idx, upd, 1), refScatterAdd(data, idx, upd, 1), { rtol: 1e-6 }, 'scatterAdd axis 1');
    const upd0 = f32([3, 4], 20);
    assertClose(ops.scatterAdd(data, [0, 0, 2], upd0, 0), refScatterAdd(data, i32([0, 0, 2]), upd0, 0), { rtol: 1e-6 }, 'scatterAdd axis 0');
    const idxE = i32([[0, 0, 3], [1, 1, 1], [-1, 2, 2]]);
    const updE = f32([3, 3], 21);
    assertClose(ops.scatterAddAlongAxis(data, idxE, updE, 1), refScatterAddAlong(data, idxE, updE, 1), { rtol: 1e-6 }, 'along axis');
    expectTensor(ops.scatterAdd(i32([0, 0, 0]), [2, 2, 0], i32([1, 2, 3])), [3], [3, 0, 3], 'int32', 'int32');
  });

  it('pad: constant (with a value), reflect and symmetric, int32 and bool, scalar widths', () => {
    const x = f32([3, 4], 22);
    const w = [[1, 2], [0, 3]];
    for (const mode of ['constant', 'reflect', 'symmetric'] as const) {
      const ref = refPad(x, w, mode, mode === 'constant' ? 2.5 : 0);
      expectTensor(ops.pad(x, w, mode, mode === 'constant' ? 2.5 : null), ref.shape, ref.values, 'float32', mode);
    }
    const w3 = [[2, 2], [3, 3]];
    const refS = refPad(x, w3, 'symmetric');
    expectTensor(ops.pad(x, w3, 'symmetric'), refS.shape, refS.values, 'float32', 'symmetric, pad = size');
    const refR = refPad(x, [[2, 1], [3, 3]], 'reflect');
    expectTensor(ops.pad(x, [[2, 1], [3, 3]], 'reflect'), refR.shape, refR.values, 'float32', 'reflect, pad = size - 1');
    const x3 = f32([2, 3, 2], 23);
    const ref3 = refPad(x3, [[1, 1], [1, 1], [1, 1]], 'constant');
    expectTensor(ops.pad(x3, 1), ref3.shape, ref3.values, 'float32', 'scalar width');
    const xi = ints([2, 2], 24, 1, 9);
    const refI = refPad(xi, [[0, 1], [2, 0]], 'constant', 7);
    expectTensor(ops.pad(xi, [[0, 1], [2, 0]], 'constant', 7), refI.shape, refI.values, 'int32', 'int32');
    const xb = bools([3], 25);
    expectTensor(ops.pad(xb, [1, 2], 'constant', true), [6], [1, ...xb.dataSync(), 1, 1], 'bool', 'bool');
    expectTensor(ops.pad(f32([0, 2], 1), [[1, 0], [0, 0]]), [1, 2], [0, 0], 'float32', 'empty input');
  });

  it('tile: per-axis repeats, fewer and more repeats than axes, zero', () => {
    const x = f32([2, 3], 26);
    expectTensor(ops.tile(x, [2, 3]), [4, 9], build([4, 9], ([i, j]) => at(x, [i % 2, j % 3])), 'float32', '[2, 3]');
    expectTensor(ops.tile(x, 2), [2, 6], build([2, 6], ([i, j]) => at(x, [i, j % 3])), 'float32', 'one repeat for the last axis');
    expectTensor(ops.tile(x, [2, 1, 2]), [2, 2, 6], build([2, 2, 6], ([, i, j]) => at(x, [i, j % 3])), 'float32', 'more repeats than axes');
    expectTensor(ops.tile(x, [0, 1]), [0, 3], [], 'float32', 'zero repeats');
    expectTensor(ops.tile(i32([1, 2]), [3]), [6], [1, 2, 1, 2, 1, 2], 'int32', 'int32');
  });

  it('repeat: integer along an axis, flattened, per-element counts, zero', () => {
    const x = f32([2, 3], 27);
    expectTensor(ops.repeat(x, 2, 1), [2, 6], build([2, 6], ([i, j]) => at(x, [i, Math.floor(j / 2)])), 'float32', 'axis 1');
    expectTensor(ops.repeat(x, 3, -2), [6, 3], build([6, 3], ([i, j]) => at(x, [Math.floor(i / 3), j])), 'float32', 'axis -2');
    const flat = Array.from(x.dataSync());
    expectTensor(ops.repeat(x, 2), [12], flat.flatMap((v) => [v, v]), 'float32', 'flattened');
    expectTensor(ops.repeat(x, [2, 0, 1], 1), [2, 3], build([2, 3], ([i, j]) => at(x, [i, [0, 0, 2][j]])), 'float32', 'counts');
    expectTensor(ops.repeat(x, 0, 0), [0, 3], [], 'float32', 'zero');
    expectTensor(ops.repeat(i32([4, 5]), [3]), [6], [4, 4, 4, 5, 5, 5], 'int32', 'one count for all');
  });

  it('flip: all axes, chosen axes, negative axis, bool', () => {
    const x = f32([2, 3, 4], 28);
    expectTensor(ops.flip(x), [2, 3, 4], build([2, 3, 4], ([i, j, k]) => at(x, [1 - i, 2 - j, 3 - k])), 'float32', 'all');
    expectTensor(ops.flip(x, [0, 2]), [2, 3, 4], build([2, 3, 4], ([i, j, k]) => at(x, [1 - i, j, 3 - k])), 'float32', '[0, 2]');
    expectTensor(ops.flip(x, -2), [2, 3, 4], build([2, 3, 4], ([i, j, k]) => at(x, [i, 2 - j, k])), 'float32', '-2');
    expectTensor(ops.flip(x, [1, 2]), [2, 3, 4], build([2, 3, 4], ([i, j, k]) => at(x, [i, 2 - j, 3 - k])), 'float32', '[1, 2] merged');
    const big = f32([3, 40], 29);
    expectTensor(ops.flip(big, 0), [3, 40], build([3, 40], ([i, j]) => at(big, [2 - i, j])), 'float32', 'long rows');
    expectTensor(ops.flip(tensor([true, false, false])), [3], [0, 0, 1], 'bool', 'bool');
    expectTensor(ops.flip(tensor(3)), [], [3], 'float32', 'scalar');
  });

  it('oneHot: last axis, axis 0, dtype, out-of-range and negative classes give zeros', () => {
    const x = i32([[0, 2], [3, -1]]);
    expectTensor(ops.oneHot(x, 3), [2, 2, 3], build([2, 2, 3], ([i, j, c]) => +(at(x, [i, j]) === c)), 'float32', 'last');
    expectTensor(ops.oneHot(x, 3, { axis: 0, dtype: 'int32' }), [3, 2, 2], build([3, 2, 2], ([c, i, j]) => +(at(x, [i, j]) === c)), 'int32', 'axis 0');
    expectTensor(ops.oneHot([1, 0], 2, { axis: -2, dtype: 'bool' }), [2, 2], [0, 1, 1, 0], 'bool', 'axis -2 from a plain array');
    expectTensor(ops.oneHot(tensor([1.5, 2]), 3), [2, 3], [0, 0, 0, 0, 0, 1], 'float32', 'fractional floats match no class');
    expectTensor(ops.oneHot(i32([], [0]), 4), [0, 4], [], 'float32', 'empty');
  });

  it('topK: values and indices, ties keep the lower index, k = 0 and k = n, int32', () => {
    expectTensor(ops.topK(tensor([3, 1, 3, 2]), 3)[0], [3], [3, 3, 2], 'float32', 'hand values');
    expectTensor(ops.topK(tensor([3, 1, 3, 2]), 3)[1], [3], [0, 2, 3], 'int32', 'hand indices');
    const x = ints([3, 7], 30, 0, 4).dataSync();
    const xf = new Tensor([3, 7], 'float32', Float32Array.from(x));
    const ref = refSortRows(xf, true);
    for (const k of [0, 2, 7]) {
      const [v, i] = ops.topK(xf, k);
      const pick = (a: number[]) => a.filter((_, p) => p % 7 < k);
      expectTensor(v, [3, k], pick(ref.values), 'float32', `values k=${k}`);
      expectTensor(i, [3, k], pick(ref.indices), 'int32', `indices k=${k}`);
    }
    const xi = ints([2, 5], 31, -3, 3);
    const refI = refSortRows(xi, true);
    expectTensor(ops.topK(xi, 5)[0], [2, 5], refI.values, 'int32', 'int32');
    const [nv, ni] = ops.topK(tensor([1, NaN, 3]), 2);
    expectTensor(ni, [2], [1, 2], 'int32', 'NaN counts as the largest');
    assert.ok(Number.isNaN(nv.dataSync()[0]));
  });

  it('topK and argsort on long rows with many ties (selection and merge paths)', () => {
    const n = 53;
    const x = new Tensor([3, n], 'float64', Float64Array.from(ints([3, n], 35, -4, 4).dataSync()));
    const desc = refSortRows(x, true);
    for (const k of [1, 5, 16, 17, 40, n]) {
      const [v, i] = ops.topK(x, k);
      const pick = (a: number[]) => a.filter((_, p) => p % n < k);
      expectTensor(v, [3, k], pick(desc.values), 'float64', `values k=${k}`);
      expectTensor(i, [3, k], pick(desc.indices), 'int32', `indices k=${k}`);
    }
    const asc = refSortRows(x, false);
    expectTensor(ops.argsort(x), [3, n], asc.indices, 'int32', 'argsort');
    expectTensor(ops.sort(x), [3, n], asc.values, 'float64', 'sort');
    const withNaN = ops.sort(tensor([NaN, ...Array.from({ length: 20 }, (_, i) => 20 - i)]));
    const got = Array.from(withNaN.dataSync());
    assert.deepEqual(got.slice(0, 20), Array.from({ length: 20 }, (_, i) => i + 1));
    assert.ok(Number.isNaN(got[20]), 'NaN sorts last in long rows too');
  });

  it('sort and argsort: ascending and stable, any axis, flattened, bool', () => {
    const x = new Tensor([4, 6], 'float32', Float32Array.from(ints([4, 6], 32, 0, 3).dataSync()));
    const ref = refSortRows(x, false);
    expectTensor(ops.sort(x), [4, 6], ref.values, 'float32', 'sort last');
    expectTensor(ops.argsort(x), [4, 6], ref.indices, 'int32', 'argsort last');
    const xt = ops.transpose(x);
    expectTensor(ops.transpose(ops.sort(xt, 0)), [4, 6], ref.values, 'float32', 'sort axis 0');
    expectTensor(ops.transpose(ops.argsort(xt, -2)), [4, 6], ref.indices, 'int32', 'argsort axis -2');
    const flatRef = refSortRows(ops.reshape(x, [-1]), false);
    expectTensor(ops.argsort(x, null), [24], flatRef.indices, 'int32', 'argsort flattened');
    expectTensor(ops.sort(tensor([true, false, true, false])), [4], [0, 0, 1, 1], 'bool', 'bool');
    expectTensor(ops.argsort(tensor([2, 1, 2, 1, 0])), [5], [4, 1, 3, 0, 2], 'int32', 'stability by hand');
    expectTensor(ops.sort(tensor([2, NaN, -1])), [3], [-1, 2, NaN], 'float32', 'NaN sorts last (NumPy)');
  });

  it('cumsum and cumprod: axes, flattened, int32, bool, dtype', () => {
    const x = f64([3, 4], 33);
    const sumAlong = (axis: number) => build([3, 4], (idx) => {
      let s = 0;
      for (let k = 0; k <= idx[axis]; k++) s += at(x, idx.map((v, i) => (i === axis ? k : v)));
      return s;
    });
    assertClose(ops.cumsum(x, 1), sumAlong(1), { rtol: 1e-12 }, 'cumsum axis 1');
    assertClose(ops.cumsum(x, -2), sumAlong(0), { rtol: 1e-12 }, 'cumsum axis -2');
    const flat = Array.from(x.dataSync());
    assertClose(ops.cumsum(x), flat.map((_, i) => flat.slice(0, i + 1).reduce((p, v) => p + v, 0)), { rtol: 1e-12 }, 'flattened');
    expectTensor(ops.cumsum(tensor([true, true, false, true])), [4], [1, 2, 2, 3], 'int32', 'bool counts');
    expectTensor(ops.cumsum(i32([1, 2, 3]), 0, 'float64'), [3], [1, 3, 6], 'float64', 'dtype');
    expectTensor(ops.cumsum(f32([2, 0], 1), 1), [2, 0], [], 'float32', 'empty');
    const p = f64([2, 7], 34, 0.5, 2);
    const prodAlong = build([2, 7], ([i, j]) => {
      let s = 1;
      for (let k = 0; k <= j; k++) s *= at(p, [i, k]);
      return s;
    });
    assertClose(ops.cumprod(p, 1), prodAlong, { rtol: 1e-12 }, 'cumprod');
    expectTensor(ops.cumprod(i32([[2, 3], [0, 5], [4, 1]]), 0), [3, 2], [2, 3, 0, 15, 0, 15], 'int32', 'cumprod int32 axis 0');
    expectTensor(ops.cumprod(tensor([1, 2, 0, 3])), [4], [1, 2, 0, 0], 'float32', 'cumprod with a zero');
    expectTensor(ops.cumprod(tensor(5)), [1], [5], 'float32', 'scalar flattened');
  });
});

// ---------------------------------------------------------------------------
// Gradients

interface GradCase {
  name: string;
  /** Primitives whose gradient rule the case exercises. */
  covers: (keyof typeof indexingOps)[];
  fn: (...xs: Tensor[]) => Tensor | Tensor[];
  inputs: () => Tensor[];
}

function randomShape(seed: number, rank: number, lo = 1, hi = 4): number[] {
  const rand = testRandom(seed);
  return Array.from({ length: rank }, () => lo + Math.floor(rand() * (hi - lo + 1)));
}

const gradCases: GradCase[] = [
  { name: 'concatenate (three inputs, axis 1, a zero-size one)', covers: ['concatenate', 'slice'], fn: (a, b, c) => ops.concatenate([a, b, c, a], 1), inputs: () => [f64([2, 3], 1), f64([2, 1], 2), f64([2, 0], 3)] },
  { name: 'concatenate (random shapes, axis -1)', covers: ['concatenate'], fn: (a, b) => ops.concatenate([a, b], -1), inputs: () => {
    const s = randomShape(40, 3);
    return [f64(s, 4), f64([...s.slice(0, 2), randomShape(41, 1)[0]], 5)];
  } },
  { name: 'stack (axis -1)', covers: ['concatenate'], fn: (a, b) => ops.stack([a, b], -1), inputs: () => [f64([2, 3], 6), f64([2, 3], 7)] },
  { name: 'unstack (axis 1)', covers: ['slice'], fn: (a) => ops.unstack(a, { axis: 1 }), inputs: () => [f64([2, 3, 2], 8)] },
  { name: 'split (points with an empty piece)', covers: ['slice'], fn: (a) => ops.split(a, [1, 1, 3], 1), inputs: () => [f64([2, 4], 9)] },
  { name: 'slice', covers: ['slice', 'pad'], fn: (a) => ops.slice(a, [1, 0, 1], [2, -1, 2]), inputs: () => [f64([3, 2, 4], 10)] },
  { name: 'take (axis 1, duplicates and negatives)', covers: ['take', 'scatterAdd'], fn: (a) => ops.take(a, i32([[0, 2], [-1, 0], [0, 0]]), 1), inputs: () => [f64([2, 3, 2], 11)] },
  { name: 'take (flattened, random shape, duplicates)', covers: ['take'], fn: (a) => ops.take(a, i32([0, 3, 0, -1, 3])), inputs: () => [f64(randomShape(42, 2, 2, 4), 12)] },
  { name: 'take (scalar index)', covers: ['take'], fn: (a) => ops.take(a, i32(1, []), 0), inputs: () => [f64([3, 2], 13)] },
  { name: 'takeAlongAxis (duplicates, negatives)', covers: ['takeAlongAxis', 'scatterAddAlongAxis'], fn: (a) => ops.takeAlongAxis(a, i32([[0, 0, -1, 1], [2, 2, 2, 0]]), 1), inputs: () => [f64([2, 3], 14)] },
  { name: 'takeAlongAxis (broadcast x)', covers: ['takeAlongAxis'], fn: (a) => ops.takeAlongAxis(a, i32([[1, 1], [0, 2]]), -1), inputs: () => [f64([1, 3], 15)] },
  { name: 'scatterAdd (data and updates)', covers: ['scatterAdd', 'take'], fn: (d, u) => ops.scatterAdd(d, i32([1, 1, -3]), u, 1), inputs: () => [f64([2, 3], 16), f64([2, 3], 17)] },
  { name: 'scatterAddAlongAxis (data and updates)', covers: ['scatterAddAlongAxis', 'takeAlongAxis'], fn: (d, u) => ops.scatterAddAlongAxis(d, i32([[0, 0], [2, 1], [1, 1]]), u, 1), inputs: () => [f64([3, 3], 18), f64([3, 2], 19)] },
  { name: 'pad constant', covers: ['pad', 'slice'], fn: (a) => ops.pad(a, [[1, 0], [2, 1]], 'constant', 3), inputs: () => [f64([2, 3], 20)] },
  { name: 'pad reflect', covers: ['flip', 'slice', 'concatenate'], fn: (a) => ops.pad(a, [[2, 1], [1, 2]], 'reflect'), inputs: () => [f64([3, 3], 21)] },
  { name: 'pad symmetric', covers: ['flip', 'slice', 'concatenate'], fn: (a) => ops.pad(a, [[2, 0], [1, 3]], 'symmetric'), inputs: () => [f64([2, 3], 22)] },
  { name: 'tile', covers: ['concatenate'], fn: (a) => ops.tile(a, [2, 1, 3]), inputs: () => [f64([2, 2], 23)] },
  { name: 'repeat (integer)', covers: ['take'], fn: (a) => ops.repeat(a, 3, 1), inputs: () => [f64([2, 2], 24)] },
  { name: 'repeat (per-element counts)', covers: ['take'], fn: (a) => ops.repeat(a, [2, 0, 3], 0), inputs: () => [f64([3, 2], 25)] },
  { name: 'flip', covers: ['flip'], fn: (a) => ops.flip(a, [0, 2]), inputs: () => [f64([2, 3, 2], 26)] },
  { name: 'topK', covers: ['topK', 'scatterAddAlongAxis'], fn: (a) => ops.topK(a, 2), inputs: () => [f64([3, 4], 27)] },
  { name: 'sort (axis 0)', covers: ['topK'], fn: (a) => ops.sort(a, 0), inputs: () => [f64([4, 3], 28)] },
  { name: 'cumsum (axis 0, inner > 1)', covers: ['cumsum'], fn: (a) => ops.cumsum(a, 0), inputs: () => [f64([3, 4], 29)] },
  { name: 'cumsum (flattened)', covers: ['cumsum'], fn: (a) => ops.cumsum(a), inputs: () => [f64([2, 3], 30)] },
  { name: 'cumprod (one zero)', covers: ['pad', 'slice'], fn: (a) => ops.cumprod(a, -1), inputs: () => [tensor(new Float64Array([0.5, 1.5, 0, -2, 1.2, 0.7]), [1, 6])] },
  { name: 'cumprod (two zeros, axis 0)', covers: [], fn: (a) => ops.cumprod(a, 0), inputs: () => [tensor(new Float64Array([0.5, 0, 1.5, 2, 0, -1, 1.2, 3, 0.9]), [3, 3])] },
];

describe('indexing ops: gradients against finite differences (float64)', () => {
  for (const c of gradCases) {
    it(c.name, () => checkGradients(c.fn, c.inputs(), {}, c.name));
  }

  it('every primitive has a gradient case', () => {
    const covered = new Set(gradCases.flatMap((c) => c.covers));
    for (const name of Object.keys(indexingOps)) assert.ok(covered.has(name as keyof typeof indexingOps), `no gradient case covers '${name}'`);
  });

  it('take: duplicate indices accumulate exactly', () => {
    const x = tensor(new Float64Array([1, 2, 3]));
    const tape = new GradientTape();
    const y = tape.record(() => ops.sum(ops.take(x, [0, 2, 0, 0, -3])));
    const [g] = tape.gradient(y, [x]);
    assert.deepEqual(Array.from(g!.dataSync()), [4, 0, 1]);
  });

  it('indices get no gradient and topK indices are cut with a reason', () => {
    const x = tensor(new Float64Array([1, 5, 3]));
    const tape = new GradientTape();
    const y = tape.record(() => ops.sum(ops.cast(ops.topK(x, 2)[1], 'float64')));
    const [g] = tape.gradient(y, [x]);
    assert.equal(g, null);
  });
});

// ---------------------------------------------------------------------------
// ONNX lowering against the eager kernel

interface LowerCase {
  name: keyof typeof indexingOps;
  label: string;
  inputs: () => Tensor[];
  attrs: object;
}

const lowerCases: LowerCase[] = [
  { name: 'concatenate', label: 'float32 axis 1', inputs: () => [f32([2, 3], 1), f32([2, 2], 2), f32([2, 0], 3)], attrs: { axis: 1 } },
  { name: 'concatenate', label: 'int32 axis 0', inputs: () => [ints([1, 3], 4, -9, 9), ints([2, 3], 5, -9, 9)], attrs: { axis: 0 } },
  { name: 'concatenate', label: 'bool', inputs: () => [bools([3], 6), bools([2], 7)], attrs: { axis: 0 } },
  { name: 'slice', label: 'float32 negative bounds and to-the-end', inputs: () => [f32([3, 4, 5], 8)], attrs: { begin: [1, -3, 0], end: [null, -1, 4] } },
  { name: 'slice', label: 'int32', inputs: () => [ints([4, 6], 9, -9, 9)], attrs: { begin: [0, 2], end: [3, null] } },
  { name: 'pad', label: 'float32 value 1.5', inputs: () => [f32([2, 3], 10)], attrs: { padWidth: [[1, 2], [0, 3]], value: 1.5 } },
  { name: 'pad', label: 'int32 value 7', inputs: () => [ints([2, 2], 11, -9, 9)], attrs: { padWidth: [[0, 1], [2, 0]], value: 7 } },
  { name: 'pad', label: 'bool value true', inputs: () => [bools([3], 12)], attrs: { padWidth: [[1, 1]], value: 1 } },
  { name: 'take', label: 'float32 axis 1 negative and duplicate indices', inputs: () => [f32([2, 4, 3], 13), i32([[3, -1], [0, 0]])], attrs: { axis: 1 } },
  { name: 'take', label: 'int32 scalar index', inputs: () => [ints([3, 2], 14, -9, 9), i32(-1, [])], attrs: { axis: 0 } },
  { name: 'take', label: 'bool', inputs: () => [bools([5], 15), i32([4, 0, 4])], attrs: { axis: 0 } },
  { name: 'scatterAdd', label: 'float32 axis 1 duplicates and negatives', inputs: () => [f32([2, 4, 3], 16), i32([[1, -3], [0, 3]]), f32([2, 2, 2, 3], 17)], attrs: { axis: 1 } },
  { name: 'scatterAdd', label: 'float32 axis 2 (last)', inputs: () => [f32([2, 2, 3], 18), i32([2, 2]), f32([2, 2, 2], 19)], attrs: { axis: 2 } },
  { name: 'scatterAdd', label: 'int32 axis 0 scalar index', inputs: () => [ints([3, 2], 20, -9, 9), i32(2, []), ints([2], 21, -9, 9)], attrs: { axis: 0 } },
  { name: 'takeAlongAxis', label: 'float32 axis 0 negative', inputs: () => [f32([3, 4], 22), i32([[2, -1, 0, 1], [0, 0, -3, 2]])], attrs: { axis: 0 } },
  { name: 'takeAlongAxis', label: 'bool axis 1', inputs: () => [bools([2, 3], 23), i32([[2], [0]])], attrs: { axis: 1 } },
  { name: 'takeAlongAxis', label: 'int32 axis 1', inputs: () => [ints([2, 3], 24, -9, 9), i32([[2, 2, 0, 1], [1, 0, 0, 0]])], attrs: { axis: 1 } },
  { name: 'scatterAddAlongAxis', label: 'float32 duplicates', inputs: () => [f32([3, 3], 25), i32([[0, 0], [2, -1], [1, 1]]), f32([3, 2], 26)], attrs: { axis: 1 } },
  { name: 'scatterAddAlongAxis', label: 'int32 axis 0', inputs: () => [ints([2, 3], 27, -9, 9), i32([[1, 1, 0], [1, 0, 0], [0, 0, 1]]), ints([3, 3], 28, -9, 9)], attrs: { axis: 0 } },
  { name: 'flip', label: 'float32 axes 0 and 2', inputs: () => [f32([2, 3, 4], 29)], attrs: { axes: [0, 2] } },
  { name: 'flip', label: 'int32 axis 1', inputs: () => [ints([2, 5], 30, -9, 9)], attrs: { axes: [1] } },
  { name: 'flip', label: 'bool', inputs: () => [bools([4], 31)], attrs: { axes: [0] } },
  { name: 'topK', label: 'float32 largest k=2 with ties', inputs: () => [new Tensor([3, 5], 'float32', Float32Array.from(ints([3, 5], 32, 0, 3).dataSync()))], attrs: { k: 2, largest: true } },
  { name: 'topK', label: 'float32 ascending whole axis with ties', inputs: () => [new Tensor([3, 5], 'float32', Float32Array.from(ints([3, 5], 33, 0, 3).dataSync()))], attrs: { k: -1, largest: false } },
  { name: 'topK', label: 'int32 k=3', inputs: () => [ints([2, 4], 34, -5, 5)], attrs: { k: 3, largest: true } },
  { name: 'topK', label: 'float32 k=20 of 40 with ties (merge path)', inputs: () => [new Tensor([2, 40], 'float32', Float32Array.from(ints([2, 40], 38, 0, 6).dataSync()))], attrs: { k: 20, largest: true } },
  { name: 'topK', label: 'float32 ascending k=5 of 40 with ties (selection path)', inputs: () => [new Tensor([2, 40], 'float32', Float32Array.from(ints([2, 40], 39, 0, 6).dataSync()))], attrs: { k: 5, largest: false } },
  { name: 'cumsum', label: 'float32 axis 1', inputs: () => [f32([3, 4], 35)], attrs: { axis: 1, reverse: false } },
  { name: 'cumsum', label: 'float32 axis 0 reverse', inputs: () => [f32([3, 4], 36)], attrs: { axis: 0, reverse: true } },
  { name: 'cumsum', label: 'int32 axis 0', inputs: () => [ints([5], 37, -9, 9)], attrs: { axis: 0, reverse: false } },
];

describe('indexing ops: ONNX lowering matches the eager kernel', () => {
  for (const c of lowerCases) {
    it(`${c.name}: ${c.label}`, async () => {
      const def = indexingOps[c.name] as OpDef<any>;
      const xs = c.inputs();
      const eager = dispatch(def, xs, c.attrs);
      const graph = await runLowered(def, xs, c.attrs);
      assert.equal(graph.length, eager.length);
      graph.forEach((g, i) => {
        assert.equal(g.dtype, eager[i].dtype, `output ${i} dtype`);
        assertClose(g, eager[i], { rtol: 1e-6, atol: 1e-6 }, `${c.name} output ${i}`);
      });
    });
  }

  it('every primitive has a lowering case', () => {
    const covered = new Set(lowerCases.map((c) => c.name));
    for (const name of Object.keys(indexingOps)) assert.ok(covered.has(name as keyof typeof indexingOps), `no lowering case for '${name}'`);
  });

  it('ONNX take wraps negative indices like the eager kernel (checked by hand)', async () => {
    const [g] = await runLowered(indexingOps.take, [tensor([10, 20, 30]), i32([-1, 0, -3])], { axis: 0 });
    assert.deepEqual(Array.from(g.dataSync()), [30, 10, 10]);
  });
});

// ---------------------------------------------------------------------------
// Unknown dimensions (graph mode) and gradient rules under tracing

/** A tracer that records nothing and hands back symbolic tensors of the inferred types. */
const fakeTracer: Tracer = {
  name: 'test',
  recordOp: (def, _inputs, _attrs, types) => types.map((t) => new Tensor(t.shape, t.dtype, null, { traceName: 'test', producerName: def.name })),
  readVariable: () => { throw new Error('unused'); },
  assignVariable: () => { throw new Error('unused'); },
  variableCreated: () => {},
};
const sym = (shape: Shape, dtype: DType = 'float32') => new Tensor(shape, dtype, null, { traceName: 'test', producerName: 'input' });
const T = (shape: Shape, dtype: DType = 'float32'): TensorType => ({ shape, dtype });

describe('indexing ops: unknown dimensions', () => {
  it('infer propagates null dims', () => {
    const I = indexingOps;
    assert.deepEqual(I.concatenate.infer([T([null, 3]), T([null, 2])], { axis: 1 })[0].shape, [null, 5]);
    assert.deepEqual(I.concatenate.infer([T([null, 3]), T([2, 3])], { axis: 0 })[0].shape, [null, 3]);
    assert.deepEqual(I.concatenate.infer([T([null, 3]), T([4, null])], { axis: 0 })[0].shape, [null, 3]);
    assert.deepEqual(I.slice.infer([T([null, 5])], { begin: [0, 1], end: [null, -1] })[0].shape, [null, 3]);
    assert.deepEqual(I.slice.infer([T([null, null])], { begin: [-3, 1], end: [-1, 4] })[0].shape, [2, 3]);
    assert.deepEqual(I.pad.infer([T([null, 2])], { padWidth: [[1, 1], [0, 2]], value: 0 })[0].shape, [null, 4]);
    assert.deepEqual(I.take.infer([T([null, 4]), T([2, null], 'int32')], { axis: 1 })[0].shape, [null, 2, null]);
    assert.deepEqual(I.takeAlongAxis.infer([T([null, 5]), T([3, 2], 'int32')], { axis: 1 })[0].shape, [3, 2]);
    assert.deepEqual(I.topK.infer([T([null, null])], { k: -1, largest: false }).map((t) => t.shape), [[null, null], [null, null]]);
    assert.deepEqual(I.topK.infer([T([null, 6])], { k: 2, largest: true })[1], { shape: [null, 2], dtype: 'int32' });
    assert.deepEqual(I.cumsum.infer([T([null, 6])], { axis: 0, reverse: false })[0].shape, [null, 6]);
  });

  it('public composites trace with an unknown batch dim', () => {
    withTracer(fakeTracer, () => {
      const x = sym([null, 4]);
      assert.deepEqual(ops.concatenate([x, sym([null, 2])], -1).shape, [null, 6]);
      assert.deepEqual(ops.stack([x, x], 1).shape, [null, 2, 4]);
      assert.deepEqual(ops.split(x, 2, 1).map((p) => p.shape), [[null, 2], [null, 2]]);
      assert.deepEqual(ops.split(x, [1], 0).map((p) => p.shape), [[1, 4], [null, 4]]);
      assert.deepEqual(ops.unstack(x, { axis: 1 }).map((p) => p.shape), [[null], [null], [null], [null]]);
      assert.deepEqual(ops.unstack(x, { num: 2 }).map((p) => p.shape), [[4], [4]]);
      assert.deepEqual(ops.slice(x, [0, 1], [-1, 2]).shape, [null, 2]);
      assert.deepEqual(ops.pad(x, [[1, 1], [2, 2]], 'reflect').shape, [null, 8]);
      assert.deepEqual(ops.pad(x, [[1, 1], [2, 2]], 'symmetric').shape, [null, 8]);
      assert.deepEqual(ops.tile(x, [2, 3]).shape, [null, 12]);
      assert.deepEqual(ops.repeat(x, 2, 1).shape, [null, 8]);
      assert.deepEqual(ops.take(x, [0, 1, 1], 1).shape, [null, 3]);
      assert.deepEqual(ops.takeAlongAxis(x, sym([null, 2], 'int32'), 1).shape, [null, 2]);
      assert.deepEqual(ops.oneHot(sym([null], 'int32'), 5).shape, [null, 5]);
      assert.deepEqual(ops.sort(x, 0).shape, [null, 4]);
      assert.deepEqual(ops.topK(x, 3)[1].shape, [null, 3]);
      assert.deepEqual(ops.cumsum(x).shape, [null]);
      assert.deepEqual(ops.cumprod(x, 1).shape, [null, 4]);
      assert.deepEqual(ops.flip(x).shape, [null, 4]);
    });
  });

  it('gradient rules work with unknown dims', () => {
    withTracer(fakeTracer, () => {
      const I = indexingOps;
      const grads = (def: OpDef<any>, inputs: Tensor[], attrs: object) => {
        const outputs = dispatch(def, inputs, attrs);
        const rule = def.grad as Exclude<typeof def.grad, { nonDifferentiable: string }>;
        return rule({ inputs, outputs, attrs, dys: outputs.map((o) => sym(o.shape, o.dtype)), needsInputGrad: inputs.map(() => true) });
      };
      // Concatenation along an axis with one unknown size: offsets come from both ends.
      const parts = [sym([2, 3]), sym([null, 3]), sym([4, 3])];
      assert.deepEqual(grads(I.concatenate, parts, { axis: 0 }).map((g) => g!.shape), [[2, 3], [null, 3], [4, 3]]);
      assert.deepEqual(grads(I.concatenate, [sym([null, 3]), sym([null, 2])], { axis: 1 }).map((g) => g!.shape), [[null, 3], [null, 2]]);
      assert.deepEqual(grads(I.slice, [sym([null, 5])], { begin: [0, 1], end: [null, -1] })[0]!.shape, [null, 5]);
      assert.deepEqual(grads(I.pad, [sym([null, 5])], { padWidth: [[1, 2], [0, 1]], value: 0 })[0]!.shape, [null, 5]);
      assert.deepEqual(grads(I.take, [sym([null, 5]), sym([3], 'int32')], { axis: 1 })[0]!.shape, [null, 5]);
      assert.deepEqual(grads(I.topK, [sym([null, 5])], { k: 2, largest: true })[0]!.shape, [null, 5]);
      assert.throws(() => grads(I.concatenate, [sym([null, 3]), sym([null, 3])], { axis: 0 }), /ops\.concatenate: the gradient needs the sizes of the inputs along the concatenation axis, but more than one is unknown/);
      assert.throws(() => grads(I.slice, [sym([null, 5])], { begin: [1, 0], end: [3, null] }), /ops\.slice: the gradient needs the size of axis 0/);
    });
  });
});

// ---------------------------------------------------------------------------
// Bad input

describe('indexing ops: bad input gives clear errors', () => {
  const x = tensor([[1, 2, 3], [4, 5, 6]]);
  const cases: [string, () => unknown, RegExp][] = [
    ['concatenate mismatched dims', () => ops.concatenate([x, tensor([[1, 2]])], 0), /ops\.concatenate: Received: tensor 0 of shape \(2, 3\) and tensor 1 of shape \(1, 2\); all dimensions except axis 0 must match \(dimension 1 differs\)/],
    ['concatenate empty list', () => ops.concatenate([]), /ops\.concatenate: Received: an empty list of tensors/],
    ['concatenate scalars', () => ops.concatenate([tensor(1), tensor(2)]), /ops\.concatenate: Received: scalar tensors/],
    ['concatenate bad axis', () => ops.concatenate([x, x], 2), /ops\.concatenate: Received: axis=2 for a tensor of rank 2/],
    ['stack shape mismatch', () => ops.stack([x, tensor([1, 2, 3])]), /ops\.stack: Received: tensor 0 of shape \(2, 3\) and tensor 1 of shape \(3,\); all tensors must have the same shape/],
    ['unstack num mismatch', () => ops.unstack(x, { num: 3 }), /ops\.unstack: Received: num=3 for axis 0 of size 2/],
    ['split not divisible', () => ops.split(x, 2, 1), /ops\.split: Received: indices_or_sections=2 for axis 1 of size 3; .* 2 must divide 3/],
    ['split decreasing points', () => ops.split(x, [2, 1], 1), /ops\.split: .*split points must be non-decreasing integers in \[0, 3\]/],
    ['slice out of bounds', () => ops.slice(x, [1, 1], [2, 1]), /ops\.slice: .*along axis 0 the slice \[1, 3\) exceeds the size 2/],
    ['slice wrong length', () => ops.slice(x, [0], [1]), /ops\.slice: Received: start_indices=\[0\] and shape=\[1\] for a tensor of rank 2/],
    ['slice primitive bounds', () => dispatch(indexingOps.slice, [x], { begin: [0, 2], end: [null, 1] }), /ops\.slice: Received: begin=2, end=1 for axis 1 of size 3/],
    ['take out of range', () => ops.take(x, [0, 3], 1), /ops\.take: Received: indices containing 3 \(at flat position 1\), out of range for axis 1 of size 3; expected indices in \[-3, 3\)/],
    ['take too negative', () => ops.take(x, [-7]), /ops\.take: Received: indices containing -7 .*axis 0 of size 6/],
    ['take from an empty axis', () => ops.take(tensor(new Float32Array(0), [0]), [0]), /the axis is empty, so no index is valid/],
    ['take float indices', () => ops.take(x, tensor([0.5])), /ops\.take: Received: indices with dtype float32; expected integer indices/],
    ['take bad axis', () => ops.take(x, [0], 2), /ops\.take: Received: axis=2 for a tensor of rank 2/],
    ['takeAlongAxis rank', () => ops.takeAlongAxis(x, i32([0, 1]), 1), /ops\.takeAlongAxis: Received: indices of shape \(2,\) for x of shape \(2, 3\); indices must have the same rank as x/],
    ['takeAlongAxis broadcast', () => ops.takeAlongAxis(x, i32([[0], [1], [2]]), 1), /ops\.takeAlongAxis: .*dimension 0 \(2 and 3\) cannot be broadcast/],
    ['takeAlongAxis out of range', () => ops.takeAlongAxis(x, i32([[0], [3]]), 1), /ops\.takeAlongAxis: Received: indices containing 3 \(at flat position 1\), out of range for axis 1 of size 3/],
    ['scatterAdd updates shape', () => ops.scatterAdd(x, [0, 1], tensor([1, 2]), 1), /ops\.scatterAdd: Received: updates of shape \(2,\); .* they must have shape \(2, 2\)/],
    ['scatterAdd out of range', () => ops.scatterAdd(x, [5], tensor([[1], [2]]), 1), /ops\.scatterAdd: Received: indices containing 5/],
    ['scatterAddAlongAxis shape', () => ops.scatterAddAlongAxis(x, i32([[0], [1]]), tensor([[1, 2], [3, 4]]), 1), /ops\.scatterAddAlongAxis: Received: updates of shape \(2, 2\) and indices of shape \(2, 1\); they must have the same shape/],
    ['pad negative width', () => ops.pad(x, [[1, -1], [0, 0]]), /ops\.pad: Received: pad_width=\[\[1, -1\], \[0, 0\]\] for a tensor of rank 2/],
    ['pad wrong number of pairs', () => ops.pad(x, [[1, 1], [0, 0], [1, 1]]), /ops\.pad: Received: pad_width=.* for a tensor of rank 2/],
    ['pad reflect too wide', () => ops.pad(x, [[2, 0], [0, 0]], 'reflect'), /ops\.pad: Received: pad_width=\[2, 0\] for axis 0 of size 2 with mode='reflect'; the padding must be smaller than the size/],
    ['pad symmetric too wide', () => ops.pad(x, [[0, 0], [0, 4]], 'symmetric'), /ops\.pad: .*mode='symmetric'; the padding must be at most the size/],
    ['pad bad mode', () => ops.pad(x, 1, 'wrap' as never), /ops\.pad: Received: mode="wrap"; expected 'constant', 'reflect' or 'symmetric'/],
    ['pad constant with reflect', () => ops.pad(x, 1, 'reflect', 3), /ops\.pad: Received: constant_values=3 with mode='reflect'/],
    ['tile negative', () => ops.tile(x, [-1, 1]), /ops\.tile: Received: repeats=\[-1, 1\]; expected a non-negative integer/],
    ['repeat counts length', () => ops.repeat(x, [1, 2], 1), /ops\.repeat: Received: repeats with 2 entries for axis 1 of size 3/],
    ['repeat negative', () => ops.repeat(x, -1), /ops\.repeat: Received: repeats=-1; expected an integer >= 0/],
    ['flip repeated axis', () => ops.flip(x, [0, -2]), /ops\.flip: Received: axis=\[0,-2\] with a repeated axis/],
    ['oneHot bad numClasses', () => ops.oneHot([0], -2), /ops\.oneHot: Received: num_classes=-2; expected an integer >= 0/],
    ['topK k too large', () => ops.topK(x, 4), /ops\.topK: Received: k=4 for a last axis of size 3 \(shape \(2, 3\)\); k must be at most 3/],
    ['topK scalar', () => ops.topK(tensor(1), 1), /ops\.topK: Received: a scalar \(rank 0\)/],
    ['sort scalar', () => ops.sort(tensor(1)), /ops\.sort: Received: axis=-1 for a tensor of rank 0; no valid axis for a scalar/],
    ['cumsum bad axis', () => ops.cumsum(x, 3), /ops\.cumsum: Received: axis=3 for a tensor of rank 2/],
  ];
  for (const [name, fn, re] of cases) it(name, () => assert.throws(fn, re));

  it('cumprod needs a known axis size while tracing', () => {
    withTracer(fakeTracer, () => assert.throws(() => ops.cumprod(sym([null, 3]), 0), /ops\.cumprod: needs the size of axis 0 \(shape \(None, 3\)\), which is unknown while tracing/));
  });
  it('split into equal sections needs a known size while tracing', () => {
    withTracer(fakeTracer, () => assert.throws(() => ops.split(sym([null, 3]), 2), /ops\.split: cannot split axis 0 of shape \(None, 3\) into 2 equal sections: its size is unknown/));
  });
});
